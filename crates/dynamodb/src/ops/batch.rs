//! BatchWriteItem and BatchGetItem. Locally every request is processed, so
//! `UnprocessedItems` / `UnprocessedKeys` are always empty; a batch is
//! applied in one transaction.

use std::collections::HashSet;

use serde_json::{Map, Value, json};
use wsflow_aws_wire::ServiceError;

use crate::{
    expr::{self, Placeholders},
    store::{Store, db_err, decode_item, encode_item},
    value::{Item, MAX_ITEM_SIZE, item_size, item_to_json, parse_item},
};

use super::{missing, opt_projection};

fn request_items(body: &Value) -> Result<&Map<String, Value>, ServiceError> {
    let m = body
        .get("RequestItems")
        .and_then(Value::as_object)
        .ok_or_else(|| missing("requestItems"))?;
    if m.is_empty() {
        return Err(ServiceError::validation(
            "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    Ok(m)
}

fn duplicates() -> ServiceError {
    ServiceError::validation("Provided list of item keys contains duplicates")
}

enum Write {
    Put(Vec<u8>, Item),
    Delete(Vec<u8>),
}

pub fn batch_write_item(store: &Store, body: &Value) -> Result<Value, ServiceError> {
    let requests = request_items(body)?;
    let total: usize = requests
        .values()
        .map(|v| v.as_array().map_or(0, Vec::len))
        .sum();
    if total > 25 {
        return Err(ServiceError::validation(
            "Too many items requested for the BatchWriteItem call",
        ));
    }
    let mut plan: Vec<(String, Vec<Write>)> = Vec::new();
    for (table, reqs) in requests {
        let meta = store.table(table)?;
        let reqs = reqs.as_array().ok_or_else(|| missing("requestItems"))?;
        if reqs.is_empty() {
            return Err(ServiceError::validation(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]",
            ));
        }
        let mut seen = HashSet::new();
        let mut writes = Vec::new();
        for r in reqs {
            let w = match (r.get("PutRequest"), r.get("DeleteRequest")) {
                (Some(p), None) => {
                    let item = parse_item(p.get("Item").ok_or_else(|| missing("item"))?)?;
                    meta.validate_item(&item)?;
                    if item_size(&item) > MAX_ITEM_SIZE {
                        return Err(ServiceError::validation(
                            "Item size has exceeded the maximum allowed size",
                        ));
                    }
                    Write::Put(meta.storage_key(&item), item)
                }
                (None, Some(d)) => {
                    let key = parse_item(d.get("Key").ok_or_else(|| missing("key"))?)?;
                    meta.validate_key(&key)?;
                    Write::Delete(meta.storage_key(&key))
                }
                _ => {
                    return Err(ServiceError::validation(
                        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                    ));
                }
            };
            let k = match &w {
                Write::Put(k, _) | Write::Delete(k) => k.clone(),
            };
            if !seen.insert(k) {
                return Err(duplicates());
            }
            writes.push(w);
        }
        plan.push((table.clone(), writes));
    }
    store.write(|txn| {
        for (table, writes) in &plan {
            let mut items = Store::items_mut(txn, table)?;
            for w in writes {
                match w {
                    Write::Put(k, item) => {
                        items
                            .insert(k.as_slice(), encode_item(item).as_slice())
                            .map_err(db_err)?;
                    }
                    Write::Delete(k) => {
                        items.remove(k.as_slice()).map_err(db_err)?;
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(json!({"UnprocessedItems": {}}))
}

pub fn batch_get_item(store: &Store, body: &Value) -> Result<Value, ServiceError> {
    let requests = request_items(body)?;
    let total: usize = requests
        .values()
        .map(|v| v.get("Keys").and_then(Value::as_array).map_or(0, Vec::len))
        .sum();
    if total > 100 {
        return Err(ServiceError::validation(
            "Too many items requested for the BatchGetItem call",
        ));
    }
    let mut responses = Map::new();
    for (table, req) in requests {
        let meta = store.table(table)?;
        let keys = req
            .get("Keys")
            .and_then(Value::as_array)
            .ok_or_else(|| missing("keys"))?;
        let mut ph = Placeholders::from_request(req)?;
        let projection = opt_projection(req, &mut ph)?;
        ph.check_all_used()?;
        let mut seen = HashSet::new();
        let mut skeys = Vec::new();
        for k in keys {
            let key = parse_item(k)?;
            meta.validate_key(&key)?;
            let sk = meta.storage_key(&key);
            if !seen.insert(sk.clone()) {
                return Err(duplicates());
            }
            skeys.push(sk);
        }
        let found = store.read(|txn| {
            let items = Store::items(txn, table)?;
            let mut out = Vec::new();
            for sk in &skeys {
                if let Some(v) = items.get(sk.as_slice()).map_err(db_err)? {
                    let item = decode_item(v.value())?;
                    let item = match &projection {
                        Some(p) => expr::project(&item, p),
                        None => item,
                    };
                    out.push(item_to_json(&item));
                }
            }
            Ok(out)
        })?;
        responses.insert(table.clone(), Value::Array(found));
    }
    Ok(json!({"Responses": responses, "UnprocessedKeys": {}}))
}
