//! The DynamoDB operations, one module per family, and the request-parameter
//! helpers they share.

mod batch;
mod items;
mod read;
pub(crate) mod tables;

use serde_json::{Value, json};
use wsflow_aws_wire::ServiceError;

use crate::{
    expr::{self, Cond, ExprKind, Path, Placeholders},
    store::Store,
    value::{Item, parse_item},
};

/// Runs `operation` with its JSON request `body`.
pub fn dispatch(store: &Store, operation: &str, body: &Value) -> Result<Value, ServiceError> {
    reject_legacy(body)?;
    match operation {
        "PutItem" => items::put_item(store, body),
        "GetItem" => items::get_item(store, body),
        "DeleteItem" => items::delete_item(store, body),
        "UpdateItem" => items::update_item(store, body),
        "Query" => read::query(store, body),
        "Scan" => read::scan(store, body),
        "BatchWriteItem" => batch::batch_write_item(store, body),
        "BatchGetItem" => batch::batch_get_item(store, body),
        "CreateTable" => tables::create_table(store, body),
        "DeleteTable" => tables::delete_table(store, body),
        "DescribeTable" => tables::describe_table(store, body),
        "ListTables" => tables::list_tables(store, body),
        "DescribeTimeToLive" => tables::describe_ttl(store, body),
        "UpdateTimeToLive" => tables::update_ttl(store, body),
        other => Err(ServiceError::client(
            "UnknownOperationException",
            format!("The operation {other} is not supported by the local DynamoDB"),
        )),
    }
}

/// The legacy (pre-expression) parameters are not implemented: say so
/// instead of silently ignoring a condition.
fn reject_legacy(body: &Value) -> Result<(), ServiceError> {
    for p in [
        "Expected",
        "AttributesToGet",
        "KeyConditions",
        "QueryFilter",
        "ScanFilter",
        "AttributeUpdates",
        "ConditionalOperator",
    ] {
        if body.get(p).is_some_and(|v| !v.is_null()) {
            return Err(ServiceError::validation(format!(
                "The legacy parameter {p} is not supported by the local DynamoDB; use the expression parameters"
            )));
        }
    }
    Ok(())
}

/// A required parameter's null-value message, as DynamoDB words it
/// (`param` in camelCase).
fn missing(param: &str) -> ServiceError {
    ServiceError::validation(format!(
        "1 validation error detected: Value null at '{param}' failed to satisfy constraint: Member must not be null"
    ))
}

/// `TableName`.
fn table_name(body: &Value) -> Result<&str, ServiceError> {
    body.get("TableName")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("tableName"))
}

/// An optional string parameter.
fn opt_str<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

/// A required item-shaped parameter (`Item`, `Key`).
fn item_param(body: &Value, name: &str, camel: &str) -> Result<Item, ServiceError> {
    match body.get(name) {
        None | Some(Value::Null) => Err(missing(camel)),
        Some(v) => parse_item(v),
    }
}

/// Parses an optional condition-shaped expression parameter.
fn opt_condition(
    body: &Value,
    param: &str,
    kind: ExprKind,
    ph: &mut Placeholders,
) -> Result<Option<Cond>, ServiceError> {
    opt_str(body, param)
        .map(|s| expr::parse_condition(s, kind, ph))
        .transpose()
}

/// Parses an optional `ProjectionExpression`.
fn opt_projection(body: &Value, ph: &mut Placeholders) -> Result<Option<Vec<Path>>, ServiceError> {
    opt_str(body, "ProjectionExpression")
        .map(|s| expr::parse_projection(s, ph))
        .transpose()
}

/// `ConditionalCheckFailedException`.
fn condition_failed() -> ServiceError {
    ServiceError::client(
        "ConditionalCheckFailedException",
        "The conditional request failed",
    )
}

/// `ConsumedCapacity` when `ReturnConsumedCapacity` asks for it.
fn consumed(body: &Value, table: &str, units: f64, out: &mut Value) {
    if matches!(
        opt_str(body, "ReturnConsumedCapacity"),
        Some("TOTAL" | "INDEXES")
    ) {
        out["ConsumedCapacity"] = json!({"TableName": table, "CapacityUnits": units});
    }
}

/// Write units for an item of `size` bytes (1 per KB, at least 1).
fn write_units(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

/// Read units for `size` bytes (0.5 per 4 KB eventually consistent, 1 strongly).
fn read_units(body: &Value, size: usize) -> f64 {
    let n = size.div_ceil(4096).max(1) as f64;
    if body.get("ConsistentRead").and_then(Value::as_bool) == Some(true) {
        n
    } else {
        n / 2.0
    }
}
