//! The template's tables on a stack update (`wsflow up --watch`): each
//! change is made with the API operation CloudFormation would call, through
//! the same code (`ops::dispatch`) the wire requests take. A new table is
//! created (CreateTable, then UpdateTimeToLive when TTL is on), a removed
//! one deleted (DeleteTable), a changed key schema replaces the table
//! (DeleteTable + CreateTable: its items are gone, as on AWS), and a changed
//! TTL specification is applied with UpdateTimeToLive.

use serde_json::{Value, json};
use wsflow_aws_wire::ServiceError;

use crate::{
    DynamoDb, DynamoError, epoch_secs, ops,
    store::new_table_id,
    table::{KeyType, TableMeta, TableSpec},
};

/// What [`DynamoDb::apply_table`] did to a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableChange {
    /// Nothing: the table matches the spec.
    Unchanged,
    /// The table did not exist and was created.
    Created,
    /// Its TTL setting changed; its items are kept.
    TtlUpdated,
    /// Its key schema changed: deleted and created again, empty.
    Replaced,
}

impl DynamoDb {
    /// Checks `spec` as CreateTable would, creating nothing (so a template
    /// can be checked in full before any of it is applied).
    pub fn validate_table(spec: &TableSpec) -> Result<(), DynamoError> {
        crate::ops::tables::parse_create_table(&create_body(spec))
            .map_err(|e| invalid(&spec.name, e))?;
        TableMeta::from_spec(spec, 0.0, new_table_id())
            .map(drop)
            .map_err(|e| invalid(&spec.name, e))
    }

    /// Makes the table `spec.name` match `spec`, as a CloudFormation stack
    /// update does (see the module documentation).
    pub fn apply_table(&self, spec: &TableSpec) -> Result<TableChange, DynamoError> {
        let fresh = TableMeta::from_spec(spec, epoch_secs(self.inner.now()), new_table_id())
            .map_err(|e| invalid(&spec.name, e))?;
        let change = match self.inner.table(&spec.name) {
            Err(_) => {
                self.op("CreateTable", &create_body(spec), &spec.name)?;
                TableChange::Created
            }
            Ok(old) if old.hash != fresh.hash || old.range != fresh.range => {
                self.delete_table(&spec.name)?;
                self.op("CreateTable", &create_body(spec), &spec.name)?;
                TableChange::Replaced
            }
            Ok(old) if old.ttl_attribute == spec.ttl_attribute => {
                return Ok(TableChange::Unchanged);
            }
            Ok(old) => {
                if let Some(attr) = &old.ttl_attribute {
                    self.op(
                        "UpdateTimeToLive",
                        &ttl_body(&spec.name, attr, false),
                        &spec.name,
                    )?;
                }
                TableChange::TtlUpdated
            }
        };
        if let Some(attr) = &spec.ttl_attribute {
            self.op(
                "UpdateTimeToLive",
                &ttl_body(&spec.name, attr, true),
                &spec.name,
            )?;
        }
        Ok(change)
    }

    /// Deletes the table `name` and its items (DeleteTable).
    pub fn delete_table(&self, name: &str) -> Result<(), DynamoError> {
        self.op("DeleteTable", &json!({"TableName": name}), name)
            .map(drop)
    }

    fn op(&self, operation: &str, body: &Value, table: &str) -> Result<Value, DynamoError> {
        ops::dispatch(&self.inner, operation, body).map_err(|e| invalid(table, e))
    }
}

fn invalid(table: &str, e: ServiceError) -> DynamoError {
    DynamoError::InvalidTable {
        table: table.to_owned(),
        message: e.message,
    }
}

/// CreateTable's request for `spec`.
fn create_body(spec: &TableSpec) -> Value {
    json!({
        "TableName": spec.name,
        "KeySchema": spec.key_schema.iter().map(|(name, kind)| json!({
            "AttributeName": name,
            "KeyType": match kind { KeyType::Hash => "HASH", KeyType::Range => "RANGE" },
        })).collect::<Vec<_>>(),
        "AttributeDefinitions": spec.attribute_definitions.iter().map(|(name, ty)| json!({
            "AttributeName": name,
            "AttributeType": ty,
        })).collect::<Vec<_>>(),
        "BillingMode": "PAY_PER_REQUEST",
    })
}

/// UpdateTimeToLive's request.
fn ttl_body(table: &str, attribute: &str, enabled: bool) -> Value {
    json!({
        "TableName": table,
        "TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wsflow_aws_wire::Account;

    fn spec(name: &str, keys: &[(&str, KeyType, &str)], ttl: Option<&str>) -> TableSpec {
        TableSpec {
            name: name.into(),
            key_schema: keys.iter().map(|(n, k, _)| ((*n).into(), *k)).collect(),
            attribute_definitions: keys
                .iter()
                .map(|(n, _, t)| ((*n).into(), (*t).into()))
                .collect(),
            ttl_attribute: ttl.map(str::to_owned),
        }
    }

    fn call(db: &DynamoDb, op: &str, body: Value) -> Result<Value, ServiceError> {
        db.call_blocking(op, body.to_string().as_bytes())
    }

    #[test]
    fn template_tables_are_created_updated_replaced_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let db = DynamoDb::open(dir.path(), Vec::new(), Account::default(), None).unwrap();
        let v1 = spec("Items", &[("pk", KeyType::Hash, "S")], None);
        assert_eq!(db.apply_table(&v1).unwrap(), TableChange::Created);
        assert_eq!(db.apply_table(&v1).unwrap(), TableChange::Unchanged);
        call(
            &db,
            "PutItem",
            json!({"TableName": "Items", "Item": {"pk": {"S": "a"}}}),
        )
        .unwrap();

        // TTL turned on: the item stays.
        let v2 = spec("Items", &[("pk", KeyType::Hash, "S")], Some("ttl"));
        assert_eq!(db.apply_table(&v2).unwrap(), TableChange::TtlUpdated);
        let ttl = call(&db, "DescribeTimeToLive", json!({"TableName": "Items"})).unwrap();
        assert_eq!(ttl["TimeToLiveDescription"]["AttributeName"], "ttl");
        // Another TTL attribute: disabled, then enabled on it.
        let v3 = spec("Items", &[("pk", KeyType::Hash, "S")], Some("expires"));
        assert_eq!(db.apply_table(&v3).unwrap(), TableChange::TtlUpdated);
        let ttl = call(&db, "DescribeTimeToLive", json!({"TableName": "Items"})).unwrap();
        assert_eq!(ttl["TimeToLiveDescription"]["AttributeName"], "expires");
        let scan = call(&db, "Scan", json!({"TableName": "Items"})).unwrap();
        assert_eq!(scan["Count"], 1);

        // A new key schema replaces the table: empty afterwards.
        let v4 = spec(
            "Items",
            &[("pk", KeyType::Hash, "S"), ("sk", KeyType::Range, "N")],
            Some("expires"),
        );
        assert_eq!(db.apply_table(&v4).unwrap(), TableChange::Replaced);
        let scan = call(&db, "Scan", json!({"TableName": "Items"})).unwrap();
        assert_eq!(scan["Count"], 0);
        let desc = call(&db, "DescribeTable", json!({"TableName": "Items"})).unwrap();
        assert_eq!(desc["Table"]["KeySchema"][1]["AttributeName"], "sk");
        let ttl = call(&db, "DescribeTimeToLive", json!({"TableName": "Items"})).unwrap();
        assert_eq!(ttl["TimeToLiveDescription"]["TimeToLiveStatus"], "ENABLED");

        db.delete_table("Items").unwrap();
        let err = call(&db, "DescribeTable", json!({"TableName": "Items"})).unwrap_err();
        assert_eq!(err.code, "ResourceNotFoundException");
        assert!(db.delete_table("Items").is_err());

        // Checked without being created.
        let bad = spec("x", &[("pk", KeyType::Hash, "S")], None);
        assert!(DynamoDb::validate_table(&bad).is_err());
        assert!(DynamoDb::validate_table(&v4).is_ok());
        // What only CreateTable checked before: the key schema's order, the table name.
        let range_first = spec(
            "Items",
            &[("sk", KeyType::Range, "S"), ("pk", KeyType::Hash, "S")],
            None,
        );
        let e = DynamoDb::validate_table(&range_first)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a HASH key type"), "{e}");
        let bad_name = spec("a b", &[("pk", KeyType::Hash, "S")], None);
        assert!(DynamoDb::validate_table(&bad_name).is_err());
        let listed = call(&db, "ListTables", json!({})).unwrap();
        assert_eq!(listed["TableNames"], json!([]));
    }
}
