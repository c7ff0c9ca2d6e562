//! CreateTable, DeleteTable, DescribeTable, ListTables, DescribeTimeToLive,
//! UpdateTimeToLive.

use redb::{ReadableTable, ReadableTableMetadata};
use serde_json::{Value, json};
use wsflow_aws_wire::ServiceError;

use crate::{
    epoch_secs,
    store::{Store, db_err, new_table_id},
    table::{KeyType, TableMeta, TableSpec},
};

use super::{missing, opt_str, table_name};

fn table_not_found(name: &str) -> ServiceError {
    ServiceError::client(
        "ResourceNotFoundException",
        format!("Requested resource not found: Table: {name} not found"),
    )
}

fn describe(store: &Store, meta: &TableMeta, status: &str) -> Result<Value, ServiceError> {
    let (count, size) = store.read(|txn| {
        let t = Store::items(txn, &meta.name)?;
        let count = t.len().map_err(db_err)?;
        let mut size = 0u64;
        for entry in t.iter().map_err(db_err)? {
            let (_, v) = entry.map_err(db_err)?;
            size += v.value().len() as u64;
        }
        Ok((count, size))
    })?;
    Ok(meta.describe(&store.account, status, count, size))
}

pub fn create_table(store: &Store, body: &Value) -> Result<Value, ServiceError> {
    let spec = parse_create_table(body)?;
    let name = spec.name.as_str();
    if store.table(name).is_ok() {
        return Err(ServiceError::client(
            "ResourceInUseException",
            format!("Table already exists: {name}"),
        ));
    }
    let meta = TableMeta::from_spec(&spec, epoch_secs(store.now()), new_table_id())?;
    store.put_table(meta.clone())?;
    Ok(json!({"TableDescription": describe(store, &meta, "CREATING")?}))
}

/// A CreateTable request's table, checked as CreateTable checks it (name, key schema,
/// attribute definitions, what the local DynamoDB does not support); nothing is created.
pub fn parse_create_table(body: &Value) -> Result<TableSpec, ServiceError> {
    let name = table_name(body)?;
    for unsupported in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
        if body.get(unsupported).is_some_and(|v| !v.is_null()) {
            return Err(ServiceError::validation(format!(
                "{unsupported} are not supported by the local DynamoDB"
            )));
        }
    }
    let key_schema = body
        .get("KeySchema")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("keySchema"))?
        .iter()
        .map(|k| {
            let n = k.get("AttributeName").and_then(Value::as_str);
            let t = match k.get("KeyType").and_then(Value::as_str) {
                Some("HASH") => Some(KeyType::Hash),
                Some("RANGE") => Some(KeyType::Range),
                _ => None,
            };
            n.zip(t)
                .map(|(n, t)| (n.to_owned(), t))
                .ok_or_else(|| missing("keySchema.member"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if key_schema.first().map(|k| k.1) != Some(KeyType::Hash) {
        return Err(ServiceError::validation(
            "1 validation error detected: Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    let attribute_definitions = body
        .get("AttributeDefinitions")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("attributeDefinitions"))?
        .iter()
        .map(|a| {
            a.get("AttributeName")
                .and_then(Value::as_str)
                .zip(a.get("AttributeType").and_then(Value::as_str))
                .map(|(n, t)| (n.to_owned(), t.to_owned()))
                .ok_or_else(|| missing("attributeDefinitions.member"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TableSpec {
        name: name.to_owned(),
        key_schema,
        attribute_definitions,
        ttl_attribute: None,
    })
}

pub fn delete_table(store: &Store, body: &Value) -> Result<Value, ServiceError> {
    let name = table_name(body)?;
    let meta = store.table(name).map_err(|_| table_not_found(name))?;
    let desc = describe(store, &meta, "DELETING")?;
    store.delete_table(name)?;
    Ok(json!({"TableDescription": desc}))
}

pub fn describe_table(store: &Store, body: &Value) -> Result<Value, ServiceError> {
    let name = table_name(body)?;
    let meta = store.table(name).map_err(|_| table_not_found(name))?;
    Ok(json!({"Table": describe(store, &meta, "ACTIVE")?}))
}

pub fn list_tables(store: &Store, body: &Value) -> Result<Value, ServiceError> {
    let limit = match body.get("Limit") {
        None | Some(Value::Null) => 100,
        Some(v) => match v.as_u64() {
            Some(n @ 1..=100) => n as usize,
            _ => {
                return Err(ServiceError::validation(format!(
                    "1 validation error detected: Value '{v}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"
                )));
            }
        },
    };
    let start = opt_str(body, "ExclusiveStartTableName");
    let names: Vec<String> = store
        .table_names()?
        .into_iter()
        .filter(|n| start.is_none_or(|s| n.as_str() > s))
        .collect();
    let mut out = json!({"TableNames": names.iter().take(limit).collect::<Vec<_>>()});
    if names.len() > limit {
        out["LastEvaluatedTableName"] = json!(names[limit - 1]);
    }
    Ok(out)
}

pub fn describe_ttl(store: &Store, body: &Value) -> Result<Value, ServiceError> {
    let name = table_name(body)?;
    let meta = store.table(name).map_err(|_| table_not_found(name))?;
    Ok(json!({"TimeToLiveDescription": match &meta.ttl_attribute {
        Some(a) => json!({"TimeToLiveStatus": "ENABLED", "AttributeName": a}),
        None => json!({"TimeToLiveStatus": "DISABLED"}),
    }}))
}

pub fn update_ttl(store: &Store, body: &Value) -> Result<Value, ServiceError> {
    let name = table_name(body)?;
    let spec = body
        .get("TimeToLiveSpecification")
        .ok_or_else(|| missing("timeToLiveSpecification"))?;
    let enabled = spec
        .get("Enabled")
        .and_then(Value::as_bool)
        .ok_or_else(|| missing("timeToLiveSpecification.enabled"))?;
    let attr = spec
        .get("AttributeName")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| missing("timeToLiveSpecification.attributeName"))?;
    let meta = store.table(name).map_err(|_| table_not_found(name))?;
    match (&meta.ttl_attribute, enabled) {
        (Some(_), true) => {
            return Err(ServiceError::validation("TimeToLive is already enabled"));
        }
        (None, false) => {
            return Err(ServiceError::validation("TimeToLive is already disabled"));
        }
        _ => {}
    }
    store.put_table(TableMeta {
        ttl_attribute: enabled.then(|| attr.to_owned()),
        ..(*meta).clone()
    })?;
    Ok(json!({"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attr}}))
}
