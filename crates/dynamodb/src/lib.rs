//! A local Amazon DynamoDB speaking the JSON 1.0 protocol
//! (`X-Amz-Target: DynamoDB_20120810.<Operation>`), stored durably in an
//! embedded [redb](https://docs.rs/redb) database at `<data_dir>/dynamodb.redb`.
//!
//! Supported operations: PutItem, GetItem, DeleteItem, UpdateItem, Query,
//! Scan, BatchWriteItem, BatchGetItem, CreateTable, DeleteTable,
//! DescribeTable, ListTables, DescribeTimeToLive, UpdateTimeToLive — with
//! condition / filter / key-condition / projection / update expressions,
//! `ReturnValues`, pagination, and DynamoDB's own error types and messages.
//!
//! Not supported: secondary indexes, streams, transactions, PartiQL and the
//! legacy parameters (`Expected`, `AttributesToGet`, `KeyConditions`,
//! `ScanFilter`, `AttributeUpdates`), which are rejected with a
//! `ValidationException` rather than silently ignored.
//!
//! **Stack updates.** [`DynamoDb::apply_table`] and [`DynamoDb::delete_table`]
//! change the template's tables while the stack serves (`wsflow up --watch`),
//! through the same operations a client would call (module `template`).
//!
//! **TTL.** As on AWS, expired items are not hidden from reads: they stay
//! readable until deleted. AWS deletes them "within a few days"; locally the
//! owner of the stack calls [`DynamoDb::sweep_expired`] every few seconds.
//! Items whose TTL value is not a number, or lies more than five years in the
//! past, are never deleted (AWS's rule).
#![warn(missing_docs)]

mod expr;
mod number;
mod ops;
mod store;
mod table;
mod template;
mod value;

use std::{
    path::Path,
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use serde_json::Value;
use wsflow_aws_wire::{
    Account, AwsService, BoxFuture, ServiceError, ServiceRequest, ServiceResponse,
};

pub use table::{KeyType, TableSpec};
pub use template::TableChange;

/// The clock the service reads "now" from (tests substitute a fixed one).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DynamoError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}")]
    DataDir {
        /// The directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The redb file could not be opened or written.
    #[error("dynamodb database: {0}")]
    Database(String),
    /// A table from the template is invalid.
    #[error("table {table}: {message}")]
    InvalidTable {
        /// Table name.
        table: String,
        /// DynamoDB's validation message.
        message: String,
    },
}

/// The local DynamoDB service. Cheap to clone (shared state).
#[derive(Clone)]
pub struct DynamoDb {
    inner: Arc<store::Store>,
}

impl std::fmt::Debug for DynamoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoDb").finish_non_exhaustive()
    }
}

impl DynamoDb {
    /// Opens (or creates) `<data_dir>/dynamodb.redb` and makes sure every
    /// table in `tables` exists. A table that exists with the same key schema
    /// keeps its items (its TTL setting follows the spec); one whose key
    /// schema changed is recreated empty. `clock` defaults to the system clock.
    pub fn open(
        data_dir: &Path,
        tables: Vec<TableSpec>,
        account: Account,
        clock: Option<Clock>,
    ) -> Result<DynamoDb, DynamoError> {
        std::fs::create_dir_all(data_dir).map_err(|source| DynamoError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let clock = clock.unwrap_or_else(|| Arc::new(SystemTime::now));
        let store = store::Store::open(&data_dir.join("dynamodb.redb"), account, clock)?;
        for spec in &tables {
            store.ensure_table(spec)?;
        }
        Ok(DynamoDb {
            inner: Arc::new(store),
        })
    }

    /// Deletes every item whose TTL attribute (epoch seconds) is before now;
    /// returns how many were deleted.
    pub async fn sweep_expired(&self) -> usize {
        let inner = self.inner.clone();
        match tokio::task::spawn_blocking(move || inner.sweep_expired()).await {
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "TTL sweep failed");
                0
            }
            Err(e) => {
                tracing::warn!(error = %e, "TTL sweep task failed");
                0
            }
        }
    }

    /// Runs one operation synchronously (what [`AwsService::call`] runs on
    /// the blocking pool).
    pub fn call_blocking(&self, operation: &str, body: &[u8]) -> Result<Value, ServiceError> {
        let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(body).map_err(|_| {
                ServiceError::client(
                    "SerializationException",
                    "Start of structure or map found where not expected.",
                )
            })?
        };
        if !body.is_object() {
            return Err(ServiceError::client(
                "SerializationException",
                "Start of structure or map found where not expected.",
            ));
        }
        ops::dispatch(&self.inner, operation, &body)
    }
}

impl AwsService for DynamoDb {
    fn target_prefix(&self) -> &'static str {
        "DynamoDB_20120810"
    }

    fn integration_name(&self) -> &'static str {
        "dynamodb"
    }

    fn error_namespace(&self) -> Option<&'static str> {
        Some("com.amazonaws.dynamodb.v20120810")
    }

    fn call(
        &self,
        request: ServiceRequest,
    ) -> BoxFuture<'_, Result<ServiceResponse, ServiceError>> {
        let this = self.clone();
        Box::pin(async move {
            let out = tokio::task::spawn_blocking(move || {
                this.call_blocking(&request.operation, &request.body)
            })
            .await
            .map_err(|e| ServiceError::internal(format!("DynamoDB worker failed: {e}")))??;
            Ok(ServiceResponse::json(&out))
        })
    }
}

/// Seconds since the epoch of a `SystemTime`, as a float.
pub(crate) fn epoch_secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
