//! `AWS::Serverless::SimpleTable` expanded into the `AWS::DynamoDB::Table` SAM generates
//! (aws-sam-translator 1.115, `SamSimpleTable`): same logical id; a single `HASH` key from
//! `PrimaryKey` (`Name`, `Type` `String`/`Number`/`Binary`; `id`/`S` by default);
//! `PAY_PER_REQUEST` unless `ProvisionedThroughput` is given; `TableName`, `SSESpecification`,
//! `PointInTimeRecoverySpecification` passed through; `Tags` as a `Key`/`Value` list; the
//! resource attributes (`Condition`, `DependsOn`, `DeletionPolicy`, `UpdateReplacePolicy`,
//! `UpdatePolicy`, `Metadata`) kept.

use serde_json::{Map, Value, json};

use super::properties::{Kind, Prop, validate};
use super::{invalid, truthy};
use crate::TemplateError;

/// The SAM resource type.
pub(crate) const TYPE: &str = "AWS::Serverless::SimpleTable";

const PROPERTIES: &[Prop] = &[
    Prop {
        name: "PointInTimeRecoverySpecification",
        required: false,
        kind: Kind::Any,
    },
    Prop {
        name: "PrimaryKey",
        required: false,
        kind: Kind::MapOfStr,
    },
    Prop {
        name: "ProvisionedThroughput",
        required: false,
        kind: Kind::Map,
    },
    Prop {
        name: "TableName",
        required: false,
        kind: Kind::StrOrMap,
    },
    Prop {
        name: "Tags",
        required: false,
        kind: Kind::Map,
    },
    Prop {
        name: "SSESpecification",
        required: false,
        kind: Kind::Map,
    },
];

/// The resource attributes the translator keeps on the table.
const ATTRIBUTES: &[&str] = &[
    "DependsOn",
    "DeletionPolicy",
    "UpdatePolicy",
    "Condition",
    "UpdateReplacePolicy",
    "Metadata",
];

/// The `AWS::DynamoDB::Table` for the SimpleTable `id`.
pub(crate) fn expand(id: &str, sam: &Value) -> Result<Vec<(String, Value)>, TemplateError> {
    let empty = Map::new();
    let props = sam
        .get("Properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    validate(id, TYPE, props, PROPERTIES)?;
    let (name, attribute_type) = match props.get("PrimaryKey").filter(|v| truthy(Some(v))) {
        Some(key) => {
            let field = |k: &str| match key.get(k) {
                Some(v) if !v.is_null() => Ok(v.clone()),
                _ => Err(invalid(
                    id,
                    &format!("Property 'PrimaryKey.{k}' is required."),
                )),
            };
            let name = field("Name")?;
            let attribute_type = match field("Type")?.as_str() {
                Some("String") => "S",
                Some("Number") => "N",
                Some("Binary") => "B",
                other => {
                    let shown = other.map_or_else(|| key["Type"].to_string(), str::to_string);
                    return Err(invalid(id, &format!("Invalid 'Type' \"{shown}\".")));
                }
            };
            (name, attribute_type)
        }
        None => (json!("id"), "S"),
    };
    let mut table = Map::new();
    table.insert(
        "AttributeDefinitions".into(),
        json!([{"AttributeName": name, "AttributeType": attribute_type}]),
    );
    table.insert(
        "KeySchema".into(),
        json!([{"AttributeName": name, "KeyType": "HASH"}]),
    );
    if let Some(p) = props
        .get("PointInTimeRecoverySpecification")
        .filter(|v| truthy(Some(v)))
    {
        table.insert("PointInTimeRecoverySpecification".into(), p.clone());
    }
    match props
        .get("ProvisionedThroughput")
        .filter(|v| truthy(Some(v)))
    {
        Some(p) => {
            table.insert("ProvisionedThroughput".into(), p.clone());
        }
        None => {
            table.insert("BillingMode".into(), "PAY_PER_REQUEST".into());
        }
    }
    for k in ["SSESpecification", "TableName"] {
        if let Some(v) = props.get(k).filter(|v| truthy(Some(v))) {
            table.insert(k.into(), v.clone());
        }
    }
    if let Some(Value::Object(tags)) = props.get("Tags").filter(|v| truthy(Some(v))) {
        let list: Vec<Value> = tags
            .iter()
            .map(|(k, v)| {
                let v = if v.is_null() { json!("") } else { v.clone() };
                json!({"Key": k, "Value": v})
            })
            .collect();
        table.insert("Tags".into(), Value::Array(list));
    }
    let mut resource = Map::new();
    resource.insert("Type".into(), "AWS::DynamoDB::Table".into());
    resource.insert("Properties".into(), Value::Object(table));
    for a in ATTRIBUTES {
        if let Some(v) = sam.get(*a) {
            resource.insert((*a).into(), v.clone());
        }
    }
    Ok(vec![(id.to_string(), Value::Object(resource))])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_key_types() {
        let out = expand("T", &json!({"Type": TYPE})).unwrap();
        assert_eq!(
            out[0].1,
            json!({"Type": "AWS::DynamoDB::Table", "Properties": {
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"}})
        );
        let bad =
            json!({"Type": TYPE, "Properties": {"PrimaryKey": {"Name": "k", "Type": "binary"}}});
        let e = expand("T", &bad).unwrap_err().to_string();
        assert!(e.contains("Invalid 'Type' \"binary\"."), "{e}");
        let missing = json!({"Type": TYPE, "Properties": {"PrimaryKey": {"Type": "String"}}});
        let e = expand("T", &missing).unwrap_err().to_string();
        assert!(e.contains("Property 'PrimaryKey.Name' is required."), "{e}");
    }
}
