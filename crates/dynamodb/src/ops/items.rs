//! PutItem, GetItem, DeleteItem, UpdateItem.

use redb::ReadableTable;
use serde_json::{Value, json};
use wsflow_aws_wire::ServiceError;

use crate::{
    expr::{self, ExprKind, Placeholders},
    store::{Store, db_err, decode_item, encode_item},
    value::{Item, MAX_ITEM_SIZE, item_size, item_to_json},
};

use super::{
    condition_failed, consumed, item_param, opt_condition, opt_projection, opt_str, read_units,
    table_name, write_units,
};

fn too_big() -> ServiceError {
    ServiceError::validation("Item size has exceeded the maximum allowed size")
}

fn return_values<'a>(body: &'a Value, allowed: &[&str]) -> Result<&'a str, ServiceError> {
    let rv = opt_str(body, "ReturnValues").unwrap_or("NONE");
    if allowed.contains(&rv) {
        Ok(rv)
    } else if ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"].contains(&rv) {
        Err(ServiceError::validation(
            "ReturnValues can only be ALL_OLD or NONE",
        ))
    } else {
        Err(ServiceError::validation(format!(
            "1 validation error detected: Value '{rv}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
        )))
    }
}

pub fn put_item(store: &Store, body: &Value) -> Result<Value, ServiceError> {
    let name = table_name(body)?;
    let item = item_param(body, "Item", "item")?;
    let mut ph = Placeholders::from_request(body)?;
    let cond = opt_condition(body, "ConditionExpression", ExprKind::Condition, &mut ph)?;
    ph.check_all_used()?;
    let rv = return_values(body, &["NONE", "ALL_OLD"])?;
    let meta = store.table(name)?;
    meta.validate_item(&item)?;
    let size = item_size(&item);
    if size > MAX_ITEM_SIZE {
        return Err(too_big());
    }
    let key = meta.storage_key(&item);
    let old = store.write(|txn| {
        let mut items = Store::items_mut(txn, name)?;
        let old = match items.get(key.as_slice()).map_err(db_err)? {
            Some(v) => Some(decode_item(v.value())?),
            None => None,
        };
        if let Some(c) = &cond
            && !expr::eval_condition(old.as_ref().unwrap_or(&Item::new()), c)
        {
            return Err(condition_failed());
        }
        items
            .insert(key.as_slice(), encode_item(&item).as_slice())
            .map_err(db_err)?;
        Ok(old)
    })?;
    let mut out = json!({});
    if rv == "ALL_OLD"
        && let Some(old) = old
    {
        out["Attributes"] = item_to_json(&old);
    }
    consumed(body, name, write_units(size), &mut out);
    Ok(out)
}

pub fn get_item(store: &Store, body: &Value) -> Result<Value, ServiceError> {
    let name = table_name(body)?;
    let key = item_param(body, "Key", "key")?;
    let mut ph = Placeholders::from_request(body)?;
    let projection = opt_projection(body, &mut ph)?;
    ph.check_all_used()?;
    let meta = store.table(name)?;
    meta.validate_key(&key)?;
    let skey = meta.storage_key(&key);
    let found = store.read(|txn| {
        let items = Store::items(txn, name)?;
        match items.get(skey.as_slice()).map_err(db_err)? {
            Some(v) => Ok(Some(decode_item(v.value())?)),
            None => Ok(None),
        }
    })?;
    let mut out = json!({});
    let size = found.as_ref().map_or(0, item_size);
    if let Some(item) = found {
        let item = match &projection {
            Some(p) => expr::project(&item, p),
            None => item,
        };
        out["Item"] = item_to_json(&item);
    }
    consumed(body, name, read_units(body, size), &mut out);
    Ok(out)
}

pub fn delete_item(store: &Store, body: &Value) -> Result<Value, ServiceError> {
    let name = table_name(body)?;
    let key = item_param(body, "Key", "key")?;
    let mut ph = Placeholders::from_request(body)?;
    let cond = opt_condition(body, "ConditionExpression", ExprKind::Condition, &mut ph)?;
    ph.check_all_used()?;
    let rv = return_values(body, &["NONE", "ALL_OLD"])?;
    let meta = store.table(name)?;
    meta.validate_key(&key)?;
    let skey = meta.storage_key(&key);
    let old = store.write(|txn| {
        let mut items = Store::items_mut(txn, name)?;
        let old = match items.get(skey.as_slice()).map_err(db_err)? {
            Some(v) => Some(decode_item(v.value())?),
            None => None,
        };
        if let Some(c) = &cond
            && !expr::eval_condition(old.as_ref().unwrap_or(&Item::new()), c)
        {
            return Err(condition_failed());
        }
        if old.is_some() {
            items.remove(skey.as_slice()).map_err(db_err)?;
        }
        Ok(old)
    })?;
    let mut out = json!({});
    let size = old.as_ref().map_or(0, item_size);
    if rv == "ALL_OLD"
        && let Some(old) = old
    {
        out["Attributes"] = item_to_json(&old);
    }
    consumed(body, name, write_units(size), &mut out);
    Ok(out)
}

pub fn update_item(store: &Store, body: &Value) -> Result<Value, ServiceError> {
    let name = table_name(body)?;
    let key = item_param(body, "Key", "key")?;
    let mut ph = Placeholders::from_request(body)?;
    let update = opt_str(body, "UpdateExpression")
        .map(|s| expr::parse_update(s, &mut ph))
        .transpose()?
        .unwrap_or_default();
    let cond = opt_condition(body, "ConditionExpression", ExprKind::Condition, &mut ph)?;
    ph.check_all_used()?;
    let rv = return_values(
        body,
        &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"],
    )?;
    let meta = store.table(name)?;
    meta.validate_key(&key)?;
    let skey = meta.storage_key(&key);
    let key_names = meta.key_names();
    let (old, new) = store.write(|txn| {
        let mut items = Store::items_mut(txn, name)?;
        let old = match items.get(skey.as_slice()).map_err(db_err)? {
            Some(v) => Some(decode_item(v.value())?),
            None => None,
        };
        if let Some(c) = &cond
            && !expr::eval_condition(old.as_ref().unwrap_or(&Item::new()), c)
        {
            return Err(condition_failed());
        }
        let base = old.clone().unwrap_or_else(|| key.clone());
        let new = expr::apply_update(&base, &update, &key_names)?;
        if item_size(&new) > MAX_ITEM_SIZE {
            return Err(too_big());
        }
        items
            .insert(skey.as_slice(), encode_item(&new).as_slice())
            .map_err(db_err)?;
        Ok((old, new))
    })?;
    let paths: Vec<_> = update.paths().into_iter().cloned().collect();
    let attrs = match rv {
        "ALL_OLD" => old.clone(),
        "ALL_NEW" => Some(new.clone()),
        "UPDATED_OLD" => old.as_ref().map(|o| expr::project(o, &paths)),
        "UPDATED_NEW" => Some(expr::project(&new, &paths)),
        _ => None,
    };
    let mut out = json!({});
    if let Some(a) = attrs.filter(|a| !a.is_empty()) {
        out["Attributes"] = item_to_json(&a);
    }
    consumed(body, name, write_units(item_size(&new)), &mut out);
    Ok(out)
}
