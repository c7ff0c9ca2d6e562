//! Table definitions: the key schema, validating keys against it with
//! DynamoDB's messages, and the order-preserving storage key of an item.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wsflow_aws_wire::{Account, ServiceError};

use crate::value::{AttrValue, Item, decode_b};

/// The role of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyType {
    /// The partition key (`HASH`).
    Hash,
    /// The sort key (`RANGE`).
    Range,
}

/// A table to create at startup (from the template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    /// Table name.
    pub name: String,
    /// Key schema: partition key first, then the optional sort key.
    pub key_schema: Vec<(String, KeyType)>,
    /// Attribute definitions: name and scalar type (`S`, `N` or `B`).
    pub attribute_definitions: Vec<(String, String)>,
    /// The TTL attribute, when TTL is enabled.
    pub ttl_attribute: Option<String>,
}

/// A table as stored: its spec plus creation metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableMeta {
    /// Table name.
    pub name: String,
    /// Partition key name and type.
    pub hash: (String, String),
    /// Sort key name and type.
    pub range: Option<(String, String)>,
    /// Every attribute definition (key attributes only: no indexes).
    pub attribute_definitions: Vec<(String, String)>,
    /// TTL attribute when enabled.
    pub ttl_attribute: Option<String>,
    /// Creation time, epoch seconds.
    pub created: f64,
    /// Table id (a UUID-shaped string).
    pub table_id: String,
}

impl TableMeta {
    /// Builds and validates a table from a spec.
    pub fn from_spec(
        spec: &TableSpec,
        created: f64,
        table_id: String,
    ) -> Result<TableMeta, ServiceError> {
        if !(3..=255).contains(&spec.name.len()) {
            return Err(ServiceError::validation(format!(
                "1 validation error detected: Value '{}' at 'tableName' failed to satisfy constraint: Member must have length {} {}",
                spec.name,
                if spec.name.len() < 3 {
                    "greater than or equal to"
                } else {
                    "less than or equal to"
                },
                if spec.name.len() < 3 { 3 } else { 255 }
            )));
        }
        if !valid_table_name(&spec.name) {
            return Err(ServiceError::validation(format!(
                "1 validation error detected: Value '{}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
                spec.name
            )));
        }
        let ty = |name: &str| -> Result<String, ServiceError> {
            let t = spec
                .attribute_definitions
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.clone())
                .ok_or_else(|| {
                    ServiceError::validation(
                        "One or more parameter values were invalid: Some index key attribute have no definition",
                    )
                })?;
            if !matches!(t.as_str(), "S" | "N" | "B") {
                return Err(ServiceError::validation(format!(
                    "1 validation error detected: Value '{t}' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]"
                )));
            }
            Ok(t)
        };
        let mut hash = None;
        let mut range = None;
        for (name, kt) in &spec.key_schema {
            let slot = match kt {
                KeyType::Hash => &mut hash,
                KeyType::Range => &mut range,
            };
            if slot.is_some() {
                return Err(ServiceError::validation(
                    "1 validation error detected: Invalid KeySchema: Too many hash or range keys",
                ));
            }
            *slot = Some((name.clone(), ty(name)?));
        }
        let hash = hash.ok_or_else(|| {
            ServiceError::validation(
                "1 validation error detected: Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            )
        })?;
        if spec.attribute_definitions.len() != 1 + usize::from(range.is_some()) {
            return Err(ServiceError::validation(
                "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
            ));
        }
        Ok(TableMeta {
            name: spec.name.clone(),
            hash,
            range,
            attribute_definitions: spec.attribute_definitions.clone(),
            ttl_attribute: spec.ttl_attribute.clone(),
            created,
            table_id,
        })
    }

    /// The key attribute names (hash, then range).
    pub fn key_names(&self) -> Vec<&str> {
        let mut v = vec![self.hash.0.as_str()];
        if let Some((r, _)) = &self.range {
            v.push(r.as_str());
        }
        v
    }

    fn key_attrs(&self) -> impl Iterator<Item = &(String, String)> {
        std::iter::once(&self.hash).chain(self.range.iter())
    }

    /// Checks a full item (PutItem) carries well-typed key attributes.
    pub fn validate_item(&self, item: &Item) -> Result<(), ServiceError> {
        for (name, ty) in self.key_attrs() {
            let v = item.get(name).ok_or_else(|| {
                ServiceError::validation(format!(
                    "One or more parameter values were invalid: Missing the key {name} in the item"
                ))
            })?;
            if v.type_name() != ty {
                return Err(ServiceError::validation(format!(
                    "One or more parameter values were invalid: Type mismatch for key {name} expected: {ty} actual: {}",
                    v.type_name()
                )));
            }
            check_not_empty(name, v)?;
        }
        Ok(())
    }

    /// Checks a `Key` parameter names exactly the key attributes, well typed.
    pub fn validate_key(&self, key: &Item) -> Result<(), ServiceError> {
        let mismatch =
            || ServiceError::validation("The provided key element does not match the schema");
        if key.len() != 1 + usize::from(self.range.is_some()) {
            return Err(mismatch());
        }
        for (name, ty) in self.key_attrs() {
            let v = key.get(name).ok_or_else(mismatch)?;
            if v.type_name() != ty {
                return Err(mismatch());
            }
            check_not_empty(name, v)?;
        }
        Ok(())
    }

    /// The key attributes of an item.
    pub fn key_of(&self, item: &Item) -> Item {
        self.key_attrs()
            .filter_map(|(n, _)| item.get(n).map(|v| (n.clone(), v.clone())))
            .collect()
    }

    /// Storage key: encoded partition key, then encoded sort key. Items of
    /// one partition share the partition prefix ([`Self::partition_prefix`]).
    pub fn storage_key(&self, item: &Item) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        for (n, _) in self.key_attrs() {
            if let Some(v) = item.get(n) {
                encode_component(v, &mut out);
            }
        }
        out
    }

    /// The storage-key prefix shared by every item of a partition.
    pub fn partition_prefix(&self, hash_value: &AttrValue) -> Vec<u8> {
        let mut out = Vec::new();
        encode_component(hash_value, &mut out);
        out
    }

    /// The `TableDescription` shape of DescribeTable / CreateTable / DeleteTable.
    pub fn describe(&self, account: &Account, status: &str, item_count: u64, size: u64) -> Value {
        let mut key_schema = vec![json!({"AttributeName": self.hash.0, "KeyType": "HASH"})];
        if let Some((r, _)) = &self.range {
            key_schema.push(json!({"AttributeName": r, "KeyType": "RANGE"}));
        }
        json!({
            "AttributeDefinitions": self.attribute_definitions.iter()
                .map(|(n, t)| json!({"AttributeName": n, "AttributeType": t}))
                .collect::<Vec<_>>(),
            "TableName": self.name,
            "KeySchema": key_schema,
            "TableStatus": status,
            "CreationDateTime": self.created,
            "ProvisionedThroughput": {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": 0,
                "WriteCapacityUnits": 0
            },
            "TableSizeBytes": size,
            "ItemCount": item_count,
            "TableArn": account.dynamodb_table(&self.name),
            "TableId": self.table_id,
            "BillingModeSummary": {
                "BillingMode": "PAY_PER_REQUEST",
                "LastUpdateToPayPerRequestDateTime": self.created
            },
            "TableClassSummary": {"TableClass": "STANDARD"},
            "DeletionProtectionEnabled": false
        })
    }
}

fn check_not_empty(name: &str, v: &AttrValue) -> Result<(), ServiceError> {
    let what = match v {
        AttrValue::S(s) if s.is_empty() => "string",
        AttrValue::B(b) if decode_b(b).is_empty() => "binary",
        _ => return Ok(()),
    };
    Err(ServiceError::validation(format!(
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {what} value. Key: {name}"
    )))
}

/// DynamoDB table names: 3–255 characters of `[a-zA-Z0-9_.-]`.
pub fn valid_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Tag byte, then the value's bytes with `0x00` escaped as `0x00 0xFF`,
/// then the terminator `0x00 0x00`: prefix-free, so a partition's items are
/// one contiguous key range.
fn encode_component(v: &AttrValue, out: &mut Vec<u8>) {
    let (tag, bytes): (u8, Vec<u8>) = match v {
        AttrValue::S(s) => (1, s.as_bytes().to_vec()),
        AttrValue::N(n) => (2, n.as_bytes().to_vec()),
        AttrValue::B(b) => (3, decode_b(b)),
        // Keys are validated as S/N/B before encoding.
        _ => (0, Vec::new()),
    };
    out.push(tag);
    for b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}
