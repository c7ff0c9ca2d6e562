//! The redb file: a `tables` table (name → table metadata JSON) and one
//! `items/<table>` table per DynamoDB table (storage key → item JSON).
//!
//! Every operation runs in one redb transaction, so a conditional write's
//! check and write are atomic (redb serialises write transactions).
//!
//! The file is opened with a page cache of [`CACHE_BYTES`], not redb's default 1 GiB, so a
//! long-running stack's memory stays bounded (the OS page cache holds the rest).

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, RwLock},
    time::{Duration, SystemTime},
};

use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};
use wsflow_aws_wire::{Account, ServiceError};

use crate::{
    Clock, DynamoError, epoch_secs,
    table::{TableMeta, TableSpec},
    value::{AttrValue, Item, item_to_json, parse_item},
};

const TABLES: TableDefinition<&str, &[u8]> = TableDefinition::new("tables");

/// Items of one table, opened in a write transaction.
pub type ItemsMut<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;
/// Items of one table, opened in a read transaction.
pub type Items = redb::ReadOnlyTable<&'static [u8], &'static [u8]>;

fn items_name(table: &str) -> String {
    format!("items/{table}")
}

/// Maps any redb failure to DynamoDB's `InternalServerError`.
pub fn db_err(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal(format!("storage failure: {e}"))
}

/// DynamoDB's `ResourceNotFoundException` for item operations.
pub fn not_found() -> ServiceError {
    ServiceError::client("ResourceNotFoundException", "Requested resource not found")
}

/// The database and the cached table metadata.
pub struct Store {
    db: Database,
    tables: RwLock<HashMap<String, Arc<TableMeta>>>,
    /// Region/account for ARNs.
    pub account: Account,
    clock: Clock,
}

/// The redb page cache of the file: 32 MiB.
pub(crate) const CACHE_BYTES: usize = 32 * 1024 * 1024;

impl Store {
    /// Opens or creates the file and loads the table metadata.
    pub fn open(path: &Path, account: Account, clock: Clock) -> Result<Store, DynamoError> {
        let err =
            |e: &dyn std::fmt::Display| DynamoError::Database(format!("{}: {e}", path.display()));
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| err(&e))?;
        let txn = db.begin_write().map_err(|e| err(&e))?;
        let mut tables = HashMap::new();
        {
            let t = txn.open_table(TABLES).map_err(|e| err(&e))?;
            for entry in t.iter().map_err(|e| err(&e))? {
                let (k, v) = entry.map_err(|e| err(&e))?;
                let meta: TableMeta = serde_json::from_slice(v.value()).map_err(|e| err(&e))?;
                tables.insert(k.value().to_owned(), Arc::new(meta));
            }
        }
        txn.commit().map_err(|e| err(&e))?;
        Ok(Store {
            db,
            tables: RwLock::new(tables),
            account,
            clock,
        })
    }

    /// The current time.
    pub fn now(&self) -> SystemTime {
        (self.clock)()
    }

    /// Creates the table of a template spec if absent (see `DynamoDb::open`).
    pub fn ensure_table(&self, spec: &TableSpec) -> Result<(), DynamoError> {
        let invalid = |e: ServiceError| DynamoError::InvalidTable {
            table: spec.name.clone(),
            message: e.message,
        };
        let fresh =
            TableMeta::from_spec(spec, epoch_secs(self.now()), new_table_id()).map_err(invalid)?;
        let meta = match self.table(&spec.name) {
            Ok(old) if old.hash == fresh.hash && old.range == fresh.range => TableMeta {
                ttl_attribute: spec.ttl_attribute.clone(),
                ..(*old).clone()
            },
            Ok(_) => {
                tracing::warn!(table = %spec.name, "key schema changed: recreating the table empty");
                self.delete_table(&spec.name).map_err(invalid)?;
                fresh
            }
            Err(_) => fresh,
        };
        self.put_table(meta).map_err(invalid)
    }

    /// Table metadata, or `ResourceNotFoundException`.
    pub fn table(&self, name: &str) -> Result<Arc<TableMeta>, ServiceError> {
        self.tables
            .read()
            .map_err(|_| ServiceError::internal("table cache poisoned"))?
            .get(name)
            .cloned()
            .ok_or_else(not_found)
    }

    /// Every table name, sorted.
    pub fn table_names(&self) -> Result<Vec<String>, ServiceError> {
        let mut names: Vec<String> = self
            .tables
            .read()
            .map_err(|_| ServiceError::internal("table cache poisoned"))?
            .keys()
            .cloned()
            .collect();
        names.sort();
        Ok(names)
    }

    /// Stores (creates or replaces) a table's metadata and creates its items table.
    pub fn put_table(&self, meta: TableMeta) -> Result<(), ServiceError> {
        let bytes = serde_json::to_vec(&meta).map_err(db_err)?;
        self.write(|txn| {
            txn.open_table(TABLES)
                .map_err(db_err)?
                .insert(meta.name.as_str(), bytes.as_slice())
                .map_err(db_err)?;
            let n = items_name(&meta.name);
            txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&n))
                .map_err(db_err)?;
            Ok(())
        })?;
        self.tables
            .write()
            .map_err(|_| ServiceError::internal("table cache poisoned"))?
            .insert(meta.name.clone(), Arc::new(meta));
        Ok(())
    }

    /// Drops a table and its items.
    pub fn delete_table(&self, name: &str) -> Result<(), ServiceError> {
        self.write(|txn| {
            txn.open_table(TABLES)
                .map_err(db_err)?
                .remove(name)
                .map_err(db_err)?;
            let n = items_name(name);
            txn.delete_table(TableDefinition::<&[u8], &[u8]>::new(&n))
                .map_err(db_err)?;
            Ok(())
        })?;
        self.tables
            .write()
            .map_err(|_| ServiceError::internal("table cache poisoned"))?
            .remove(name);
        Ok(())
    }

    /// Runs `f` in a write transaction, committing only when it succeeds.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&WriteTransaction) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        let out = f(&txn)?;
        txn.commit().map_err(db_err)?;
        Ok(out)
    }

    /// Runs `f` in a read transaction.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        f(&txn)
    }

    /// Opens a table's items for writing.
    pub fn items_mut<'t>(
        txn: &'t WriteTransaction,
        table: &str,
    ) -> Result<ItemsMut<'t>, ServiceError> {
        let n = items_name(table);
        txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&n))
            .map_err(db_err)
    }

    /// Opens a table's items for reading.
    pub fn items(txn: &ReadTransaction, table: &str) -> Result<Items, ServiceError> {
        let n = items_name(table);
        txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&n))
            .map_err(db_err)
    }

    /// Deletes expired items of every TTL-enabled table.
    pub fn sweep_expired(&self) -> Result<usize, ServiceError> {
        let now = epoch_secs(self.now());
        let five_years = Duration::from_secs(5 * 365 * 86_400).as_secs_f64();
        let tables: Vec<Arc<TableMeta>> = self
            .tables
            .read()
            .map_err(|_| ServiceError::internal("table cache poisoned"))?
            .values()
            .filter(|t| t.ttl_attribute.is_some())
            .cloned()
            .collect();
        let mut deleted = 0;
        for meta in tables {
            let Some(attr) = meta.ttl_attribute.as_deref() else {
                continue;
            };
            deleted += self.write(|txn| {
                let mut items = Store::items_mut(txn, &meta.name)?;
                let mut expired = Vec::new();
                for entry in items.iter().map_err(db_err)? {
                    let (k, v) = entry.map_err(db_err)?;
                    let item = decode_item(v.value())?;
                    if let Some(AttrValue::N(n)) = item.get(attr)
                        && let Ok(t) = n.parse::<f64>()
                        && t < now
                        && t > now - five_years
                    {
                        expired.push(k.value().to_vec());
                    }
                }
                for k in &expired {
                    items.remove(k.as_slice()).map_err(db_err)?;
                }
                Ok(expired.len())
            })?;
        }
        if deleted > 0 {
            tracing::debug!(deleted, "TTL sweep deleted expired items");
        }
        Ok(deleted)
    }
}

/// Decodes a stored item.
pub fn decode_item(bytes: &[u8]) -> Result<Item, ServiceError> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(db_err)?;
    parse_item(&v)
}

/// Encodes an item for storage.
pub fn encode_item(item: &Item) -> Vec<u8> {
    serde_json::to_vec(&item_to_json(item)).unwrap_or_default()
}

/// A random UUID-shaped table id (uniqueness within one machine suffices).
pub fn new_table_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut parts = [0u64; 2];
    for (i, p) in parts.iter_mut().enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        h.write_u128(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        *p = h.finish();
    }
    let hex = format!("{:016x}{:016x}", parts[0], parts[1]);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
