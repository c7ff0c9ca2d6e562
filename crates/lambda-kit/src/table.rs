//! The connections table: one item per open WebSocket connection, keyed by `connectionid`.
//!
//! The `$connect` route's mapping template writes the items (PutItem) and `$disconnect` deletes
//! them (DeleteItem); the functions here only list ids and remove records of connections that
//! `@connections` reported gone.

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;

/// The table's partition key attribute (a string: the API Gateway connection id).
pub const CONNECTION_ID_ATTRIBUTE: &str = "connectionid";

/// A DynamoDB call on the connections table failed.
#[derive(Debug, thiserror::Error)]
#[error("{operation} on table {table} failed: {detail}")]
pub struct TableError {
    /// The DynamoDB operation (`Scan`, `DeleteItem`).
    pub operation: &'static str,
    /// The table name.
    pub table: String,
    /// What the SDK reported.
    pub detail: String,
}

/// The connections table. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ConnectionTable {
    client: Client,
    name: String,
}

impl ConnectionTable {
    /// The table `name`, reached with `sdk`'s configuration (`AWS_ENDPOINT_URL_DYNAMODB` or
    /// `AWS_ENDPOINT_URL` point it at a local DynamoDB).
    pub fn new(sdk: &SdkConfig, name: &str) -> Self {
        Self {
            client: Client::new(sdk),
            name: name.to_owned(),
        }
    }

    /// The table name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every tracked connection id (a `Scan` of the key attribute, following `LastEvaluatedKey`).
    pub async fn connection_ids(&self) -> Result<Vec<String>, TableError> {
        let mut pages = self
            .client
            .scan()
            .table_name(&self.name)
            .projection_expression("#id")
            .expression_attribute_names("#id", CONNECTION_ID_ATTRIBUTE)
            .into_paginator()
            .items()
            .send();
        let mut ids = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| self.error("Scan", DisplayErrorContext(&e)))?;
            match item.get(CONNECTION_ID_ATTRIBUTE) {
                Some(AttributeValue::S(id)) => ids.push(id.clone()),
                other => {
                    tracing::warn!(table = %self.name, ?other, "item without a string connectionid skipped")
                }
            }
        }
        Ok(ids)
    }

    /// Deletes the record of `connection_id` (no error if there is none).
    pub async fn remove(&self, connection_id: &str) -> Result<(), TableError> {
        self.client
            .delete_item()
            .table_name(&self.name)
            .key(
                CONNECTION_ID_ATTRIBUTE,
                AttributeValue::S(connection_id.to_owned()),
            )
            .send()
            .await
            .map_err(|e| self.error("DeleteItem", DisplayErrorContext(&e)))?;
        Ok(())
    }

    fn error(&self, operation: &'static str, detail: impl std::fmt::Display) -> TableError {
        TableError {
            operation,
            table: self.name.clone(),
            detail: detail.to_string(),
        }
    }
}
