//! Query and Scan: key conditions, filters, projections, `Select`, `Limit`
//! and `ExclusiveStartKey` / `LastEvaluatedKey` pagination (including the
//! 1 MB page limit).

use std::{cmp::Ordering, ops::Bound};

use serde_json::{Value, json};
use wsflow_aws_wire::ServiceError;

use crate::{
    expr::{self, CmpOp, Cond, ExprKind, Operand, Path, PathElem, Placeholders},
    store::{Store, db_err, decode_item},
    table::TableMeta,
    value::{AttrValue, Item, MAX_ITEM_SIZE, item_size, item_to_json, parse_item},
};

use super::{consumed, opt_condition, opt_projection, opt_str, read_units, table_name};

/// DynamoDB stops a page after 1 MB of evaluated data.
const PAGE_BYTES: usize = 1024 * 1024;

/// What a Query/Scan returns per item.
struct Shape {
    filter: Option<Cond>,
    projection: Option<Vec<Path>>,
    count_only: bool,
    limit: Option<usize>,
}

fn shape(body: &Value, ph: &mut Placeholders) -> Result<Shape, ServiceError> {
    if let Some(index) = opt_str(body, "IndexName") {
        return Err(ServiceError::validation(format!(
            "The table does not have the specified index: {index}"
        )));
    }
    let filter = opt_condition(body, "FilterExpression", ExprKind::Filter, ph)?;
    let projection = opt_projection(body, ph)?;
    let select = opt_str(body, "Select");
    let count_only = match select {
        None | Some("ALL_ATTRIBUTES") => {
            if select.is_some() && projection.is_some() {
                return Err(ServiceError::validation(
                    "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES",
                ));
            }
            false
        }
        Some("COUNT") => {
            if projection.is_some() {
                return Err(ServiceError::validation(
                    "Cannot specify the AttributesToGet when choosing to get only the COUNT",
                ));
            }
            true
        }
        Some("SPECIFIC_ATTRIBUTES") => false,
        Some("ALL_PROJECTED_ATTRIBUTES") => {
            return Err(ServiceError::validation(
                "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
            ));
        }
        Some(other) => {
            return Err(ServiceError::validation(format!(
                "1 validation error detected: Value '{other}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
            )));
        }
    };
    let limit = match body.get("Limit") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) if n >= 1 => Some(n as usize),
            _ => {
                return Err(ServiceError::validation(format!(
                    "1 validation error detected: Value '{v}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
                )));
            }
        },
    };
    Ok(Shape {
        filter,
        projection,
        count_only,
        limit,
    })
}

fn start_key(body: &Value, meta: &TableMeta) -> Result<Option<Item>, ServiceError> {
    match body.get("ExclusiveStartKey") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let k = parse_item(v)?;
            meta.validate_key(&k).map_err(|_| {
                ServiceError::validation(
                    "The provided starting key is invalid: The provided key element does not match the schema",
                )
            })?;
            Ok(Some(k))
        }
    }
}

/// Runs the evaluation loop over candidate items in order and builds the response.
fn page(
    body: &Value,
    meta: &TableMeta,
    shape: &Shape,
    candidates: impl Iterator<Item = Result<Item, ServiceError>>,
) -> Result<Value, ServiceError> {
    let mut out_items = Vec::new();
    let (mut count, mut scanned, mut bytes) = (0usize, 0usize, 0usize);
    let mut last: Option<Item> = None;
    let mut stopped = false;
    for item in candidates {
        let item = item?;
        if shape.limit.is_some_and(|l| scanned >= l) || bytes >= PAGE_BYTES {
            stopped = true;
            break;
        }
        scanned += 1;
        bytes += item_size(&item);
        if shape
            .filter
            .as_ref()
            .is_none_or(|f| expr::eval_condition(&item, f))
        {
            count += 1;
            if !shape.count_only {
                let shown = match &shape.projection {
                    Some(p) => expr::project(&item, p),
                    None => item.clone(),
                };
                out_items.push(item_to_json(&shown));
            }
        }
        last = Some(item);
    }
    // DynamoDB returns LastEvaluatedKey whenever it stopped at the limit,
    // even if nothing is left (the next page is then empty).
    if shape.limit.is_some_and(|l| scanned >= l) {
        stopped = true;
    }
    let mut out = json!({"Count": count, "ScannedCount": scanned});
    if !shape.count_only {
        out["Items"] = Value::Array(out_items);
    }
    if stopped && let Some(last) = last {
        out["LastEvaluatedKey"] = item_to_json(&meta.key_of(&last));
    }
    consumed(body, &meta.name, read_units(body, bytes), &mut out);
    Ok(out)
}

/// The partition value and the optional sort-key condition of a KeyConditionExpression.
struct KeyCond {
    hash: AttrValue,
    range: Option<Cond>,
}

fn flatten_and(c: Cond, out: &mut Vec<Cond>) -> Result<(), ServiceError> {
    match c {
        Cond::And(a, b) => {
            flatten_and(*a, out)?;
            flatten_and(*b, out)
        }
        Cond::Or(..) => Err(ServiceError::validation(
            "Invalid operator used in KeyConditionExpression: OR",
        )),
        Cond::Not(..) => Err(ServiceError::validation(
            "Invalid operator used in KeyConditionExpression: NOT",
        )),
        other => {
            out.push(other);
            Ok(())
        }
    }
}

fn key_attr(op: &Operand) -> Option<&str> {
    match op {
        Operand::Path(p) if p.len() == 1 => match &p[0] {
            PathElem::Attr(a) => Some(a),
            PathElem::Index(_) => None,
        },
        _ => None,
    }
}

fn analyze_key_condition(cond: Cond, meta: &TableMeta) -> Result<KeyCond, ServiceError> {
    let unsupported = || ServiceError::validation("Query key condition not supported");
    let mut parts = Vec::new();
    flatten_and(cond, &mut parts)?;
    if parts.len() > 2 {
        return Err(ServiceError::validation(
            "Conditions can be of length 1 or 2 only",
        ));
    }
    let mut hash = None;
    let mut range = None;
    for part in parts {
        let attr = match &part {
            Cond::Cmp(_, a, _) | Cond::Between(a, _, _) | Cond::BeginsWith(a, _) => key_attr(a),
            _ => None,
        }
        .ok_or_else(unsupported)?
        .to_owned();
        if attr == meta.hash.0 {
            let Cond::Cmp(CmpOp::Eq, _, Operand::Value(v)) = &part else {
                return Err(ServiceError::validation(
                    "Query key condition not supported",
                ));
            };
            if v.type_name() != meta.hash.1 {
                return Err(ServiceError::validation(
                    "One or more parameter values were invalid: Condition parameter type does not match schema type",
                ));
            }
            if hash.replace(v.clone()).is_some() {
                return Err(unsupported());
            }
        } else if meta.range.as_ref().is_some_and(|(r, _)| *r == attr) {
            let ok = match &part {
                Cond::Cmp(CmpOp::Ne, ..) => false,
                Cond::Cmp(_, _, Operand::Value(_)) => true,
                Cond::Between(_, Operand::Value(_), Operand::Value(_)) => true,
                Cond::BeginsWith(_, Operand::Value(_)) => true,
                _ => false,
            };
            if !ok || range.is_some() {
                return Err(unsupported());
            }
            range = Some(part);
        } else {
            return Err(ServiceError::validation(format!(
                "Query condition missed key schema element: {}",
                meta.hash.0
            )));
        }
    }
    let hash = hash.ok_or_else(|| {
        ServiceError::validation(format!(
            "Query condition missed key schema element: {}",
            meta.hash.0
        ))
    })?;
    Ok(KeyCond { hash, range })
}

pub fn query(store: &Store, body: &Value) -> Result<Value, ServiceError> {
    let name = table_name(body)?;
    let mut ph = Placeholders::from_request(body)?;
    let kc = opt_condition(body, "KeyConditionExpression", ExprKind::KeyCondition, &mut ph)?
        .ok_or_else(|| {
            ServiceError::validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            )
        })?;
    let shape = shape(body, &mut ph)?;
    ph.check_all_used()?;
    let meta = store.table(name)?;
    let kc = analyze_key_condition(kc, &meta)?;
    let start = start_key(body, &meta)?;
    let forward = body
        .get("ScanIndexForward")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let prefix = meta.partition_prefix(&kc.hash);
    let mut items = store.read(|txn| {
        let t = Store::items(txn, name)?;
        let mut out = Vec::new();
        for entry in t.range(prefix.as_slice()..).map_err(db_err)? {
            let (k, v) = entry.map_err(db_err)?;
            if !k.value().starts_with(&prefix) {
                break;
            }
            let item = decode_item(v.value())?;
            if kc
                .range
                .as_ref()
                .is_none_or(|c| expr::eval_condition(&item, c))
            {
                out.push(item);
            }
        }
        Ok(out)
    })?;
    let range_name = meta.range.as_ref().map(|(r, _)| r.as_str());
    let sort_value = |i: &Item| range_name.and_then(|r| i.get(r)).cloned();
    let order = |a: &Item, b: &Item| match (sort_value(a), sort_value(b)) {
        (Some(x), Some(y)) => x.compare(&y).unwrap_or(Ordering::Equal),
        _ => Ordering::Equal,
    };
    items.sort_by(order);
    if !forward {
        items.reverse();
    }
    if let Some(start) = &start {
        let pos = items.iter().position(|i| {
            let o = order(i, start);
            if forward {
                o == Ordering::Greater
            } else {
                o == Ordering::Less
            }
        });
        items.drain(..pos.unwrap_or(items.len()));
    }
    page(body, &meta, &shape, items.into_iter().map(Ok))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

pub fn scan(store: &Store, body: &Value) -> Result<Value, ServiceError> {
    let name = table_name(body)?;
    let mut ph = Placeholders::from_request(body)?;
    let shape = shape(body, &mut ph)?;
    ph.check_all_used()?;
    let segment = body.get("Segment").and_then(Value::as_u64);
    let total = body.get("TotalSegments").and_then(Value::as_u64);
    let segment = match (segment, total) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(ServiceError::validation(
                "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
            ));
        }
        (None, Some(_)) => {
            return Err(ServiceError::validation(
                "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
            ));
        }
        (Some(s), Some(t)) if (1..=1_000_000).contains(&t) && s < t => Some((s, t)),
        (Some(s), Some(t)) => {
            return Err(ServiceError::validation(format!(
                "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
            )));
        }
    };
    let meta = store.table(name)?;
    let start = start_key(body, &meta)?.map(|k| meta.storage_key(&k));
    let items = store.read(|txn| {
        let t = Store::items(txn, name)?;
        let range = match &start {
            Some(s) => t.range::<&[u8]>((Bound::Excluded(s.as_slice()), Bound::Unbounded)),
            None => t.range::<&[u8]>(..),
        }
        .map_err(db_err)?;
        let mut out = Vec::new();
        let mut bytes = 0;
        for entry in range {
            let (_, v) = entry.map_err(db_err)?;
            if let Some((s, t)) = segment {
                let item = decode_item(v.value())?;
                let hash =
                    meta.partition_prefix(item.get(&meta.hash.0).unwrap_or(&AttrValue::Null));
                if fnv(&hash) % t != s {
                    continue;
                }
                out.push(item);
            } else {
                out.push(decode_item(v.value())?);
            }
            bytes += out.last().map_or(0, item_size);
            // Enough candidates for one page; keep one extra so the
            // limit/size logic can tell whether it stopped early.
            if shape.limit.is_some_and(|l| out.len() > l) || bytes > PAGE_BYTES + MAX_ITEM_SIZE {
                break;
            }
        }
        Ok(out)
    })?;
    page(body, &meta, &shape, items.into_iter().map(Ok))
}
