//! Applying an UpdateExpression (SET / REMOVE / ADD / DELETE) to an item.
//!
//! All SET right-hand sides are evaluated against the item as it was before
//! the update, then the actions are applied in clause order.

use std::cmp::Ordering;

use wsflow_aws_wire::ServiceError;

use crate::{
    number,
    value::{AttrValue, Item, decode_b},
};

use super::{Operand, Path, PathElem, Update, resolve};

fn wrong_type() -> ServiceError {
    ServiceError::validation("An operand in the update expression has an incorrect data type")
}

fn invalid_path() -> ServiceError {
    ServiceError::validation(
        "The document path provided in the update expression is invalid for update",
    )
}

fn long_type_name(v: &AttrValue) -> &'static str {
    match v {
        AttrValue::S(_) => "STRING",
        AttrValue::N(_) => "NUMBER",
        AttrValue::B(_) => "BINARY",
        AttrValue::Bool(_) => "BOOLEAN",
        AttrValue::Null => "NULL",
        AttrValue::M(_) => "MAP",
        AttrValue::L(_) => "LIST",
        AttrValue::Ss(_) => "SET",
        AttrValue::Ns(_) => "SET",
        AttrValue::Bs(_) => "SET",
    }
}

/// Applies `update` to `item` (an empty map when the item does not exist
/// yet) and returns the new item. `key_names` are the table's key
/// attributes, which may not be updated.
pub fn apply_update(
    item: &Item,
    update: &Update,
    key_names: &[&str],
) -> Result<Item, ServiceError> {
    for p in update.paths() {
        if let Some(PathElem::Attr(a)) = p.first()
            && key_names.contains(&a.as_str())
        {
            return Err(ServiceError::validation(format!(
                "One or more parameter values were invalid: Cannot update attribute {a}. This attribute is part of the key"
            )));
        }
    }
    for (clause, actions) in [("ADD", &update.add), ("DELETE", &update.delete)] {
        for (_, op) in actions {
            let Operand::Value(v) = op else { continue };
            let ok = match v {
                AttrValue::N(_) => clause == "ADD",
                AttrValue::Ss(_) | AttrValue::Ns(_) | AttrValue::Bs(_) => true,
                _ => false,
            };
            if !ok {
                return Err(ServiceError::validation(format!(
                    "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: {clause}, operand type: {}",
                    long_type_name(v)
                )));
            }
        }
    }
    let values: Vec<AttrValue> = update
        .set
        .iter()
        .map(|(_, op)| eval(item, op))
        .collect::<Result<_, _>>()?;
    let mut new = item.clone();
    for ((path, _), v) in update.set.iter().zip(values) {
        set_path(&mut new, path, v)?;
    }
    let mut removes: Vec<&Path> = update.remove.iter().collect();
    // Remove higher list indexes first so earlier removals do not shift later ones.
    removes.sort_by(|a, b| cmp_paths(b, a));
    for p in removes {
        remove_path(&mut new, p)?;
    }
    for (path, op) in &update.add {
        let v = eval(item, op)?;
        let merged = match (resolve(&new, path), v) {
            (None, v) => v,
            (Some(AttrValue::N(a)), AttrValue::N(b)) => AttrValue::N(number::add(a, &b, false)?),
            (Some(AttrValue::Ss(a)), AttrValue::Ss(b)) => AttrValue::Ss(union(a, b)),
            (Some(AttrValue::Ns(a)), AttrValue::Ns(b)) => AttrValue::Ns(union(a, b)),
            (Some(AttrValue::Bs(a)), AttrValue::Bs(b)) => {
                let mut out = a.clone();
                for x in b {
                    if !out.iter().any(|e| decode_b(e) == decode_b(&x)) {
                        out.push(x);
                    }
                }
                AttrValue::Bs(out)
            }
            _ => return Err(wrong_type()),
        };
        set_path(&mut new, path, merged)?;
    }
    for (path, op) in &update.delete {
        let v = eval(item, op)?;
        let remaining = match (resolve(&new, path), v) {
            (None, _) => continue,
            (Some(AttrValue::Ss(a)), AttrValue::Ss(b)) => {
                AttrValue::Ss(a.iter().filter(|x| !b.contains(x)).cloned().collect())
            }
            (Some(AttrValue::Ns(a)), AttrValue::Ns(b)) => {
                AttrValue::Ns(a.iter().filter(|x| !b.contains(x)).cloned().collect())
            }
            (Some(AttrValue::Bs(a)), AttrValue::Bs(b)) => {
                let b: Vec<Vec<u8>> = b.iter().map(|x| decode_b(x)).collect();
                AttrValue::Bs(
                    a.iter()
                        .filter(|x| !b.contains(&decode_b(x)))
                        .cloned()
                        .collect(),
                )
            }
            _ => return Err(wrong_type()),
        };
        let empty = matches!(&remaining, AttrValue::Ss(s) | AttrValue::Ns(s) | AttrValue::Bs(s) if s.is_empty());
        if empty {
            remove_path(&mut new, path)?;
        } else {
            set_path(&mut new, path, remaining)?;
        }
    }
    Ok(new)
}

fn union(a: &[String], b: Vec<String>) -> Vec<String> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

fn cmp_paths(a: &Path, b: &Path) -> Ordering {
    for (x, y) in a.iter().zip(b.iter()) {
        let o = match (x, y) {
            (PathElem::Attr(x), PathElem::Attr(y)) => x.cmp(y),
            (PathElem::Index(x), PathElem::Index(y)) => x.cmp(y),
            (PathElem::Attr(_), PathElem::Index(_)) => Ordering::Less,
            (PathElem::Index(_), PathElem::Attr(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

fn eval(item: &Item, op: &Operand) -> Result<AttrValue, ServiceError> {
    match op {
        Operand::Value(v) => Ok(v.clone()),
        Operand::Path(p) => resolve(item, p).cloned().ok_or_else(|| {
            ServiceError::validation(
                "The provided expression refers to an attribute that does not exist in the item",
            )
        }),
        Operand::IfNotExists(p, default) => match resolve(item, p) {
            Some(v) => Ok(v.clone()),
            None => eval(item, default),
        },
        Operand::ListAppend(a, b) => match (eval(item, a)?, eval(item, b)?) {
            (AttrValue::L(mut a), AttrValue::L(b)) => {
                a.extend(b);
                Ok(AttrValue::L(a))
            }
            _ => Err(wrong_type()),
        },
        Operand::Plus(a, b) | Operand::Minus(a, b) => match (eval(item, a)?, eval(item, b)?) {
            (AttrValue::N(a), AttrValue::N(b)) => Ok(AttrValue::N(number::add(
                &a,
                &b,
                matches!(op, Operand::Minus(..)),
            )?)),
            _ => Err(wrong_type()),
        },
        Operand::Size(_) => Err(wrong_type()),
    }
}

/// The container holding the last element of `path`, created only at the top level.
fn parent_mut<'a>(
    item: &'a mut Item,
    path: &Path,
) -> Result<Option<&'a mut AttrValue>, ServiceError> {
    let Some((PathElem::Attr(first), rest)) = path.split_first() else {
        return Err(invalid_path());
    };
    if rest.is_empty() {
        return Ok(None);
    }
    let mut cur = item.get_mut(first).ok_or_else(invalid_path)?;
    for e in &rest[..rest.len() - 1] {
        cur = match (e, cur) {
            (PathElem::Attr(a), AttrValue::M(m)) => m.get_mut(a).ok_or_else(invalid_path)?,
            (PathElem::Index(i), AttrValue::L(l)) => l.get_mut(*i).ok_or_else(invalid_path)?,
            _ => return Err(invalid_path()),
        };
    }
    Ok(Some(cur))
}

fn set_path(item: &mut Item, path: &Path, v: AttrValue) -> Result<(), ServiceError> {
    let last = path.last().ok_or_else(invalid_path)?;
    match (parent_mut(item, path)?, last) {
        (None, PathElem::Attr(a)) => {
            item.insert(a.clone(), v);
        }
        (Some(AttrValue::M(m)), PathElem::Attr(a)) => {
            m.insert(a.clone(), v);
        }
        (Some(AttrValue::L(l)), PathElem::Index(i)) => {
            if *i < l.len() {
                l[*i] = v;
            } else {
                l.push(v);
            }
        }
        _ => return Err(invalid_path()),
    }
    Ok(())
}

fn remove_path(item: &mut Item, path: &Path) -> Result<(), ServiceError> {
    let Some(last) = path.last() else {
        return Ok(());
    };
    // A missing parent means nothing to remove.
    let parent = match parent_mut(item, path) {
        Ok(p) => p,
        Err(_) => return Ok(()),
    };
    match (parent, last) {
        (None, PathElem::Attr(a)) => {
            item.remove(a);
        }
        (Some(AttrValue::M(m)), PathElem::Attr(a)) => {
            m.remove(a);
        }
        (Some(AttrValue::L(l)), PathElem::Index(i)) => {
            if *i < l.len() {
                l.remove(*i);
            }
        }
        _ => return Err(invalid_path()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{Placeholders, parse_update};
    use super::*;
    use crate::value::{item_to_json, parse_item};

    fn run(expr: &str, item: serde_json::Value) -> Result<serde_json::Value, ServiceError> {
        let mut ph = Placeholders::from_request(&json!({
            "ExpressionAttributeValues": {
                ":one": {"N": "1"}, ":l": {"L": [{"S": "z"}]}, ":ss": {"SS": ["b", "c"]},
                ":s": {"S": "v"}
            }
        }))
        .unwrap();
        let u = parse_update(expr, &mut ph)?;
        let item = parse_item(&item).unwrap();
        apply_update(&item, &u, &["pk"]).map(|i| item_to_json(&i))
    }

    #[test]
    fn applies_all_clauses() {
        let out = run(
            "SET c = if_not_exists(c, :one) + :one, l = list_append(l, :l), m.x = :s REMOVE r, l[0] ADD n :one, s :ss DELETE d :ss",
            json!({
                "pk": {"S": "k"}, "l": {"L": [{"S": "a"}, {"S": "b"}]}, "m": {"M": {}},
                "r": {"S": "gone"}, "n": {"N": "41"}, "s": {"SS": ["a"]}, "d": {"SS": ["b"]}
            }),
        );
        // l[0] is REMOVEd after SET l = list_append(...) — overlapping paths are rejected.
        assert!(out.unwrap_err().message.contains("overlap"));
        let out = run(
            "SET c = if_not_exists(c, :one) + :one, l = list_append(l, :l), m.x = :s REMOVE r ADD n :one, s :ss DELETE d :ss",
            json!({
                "pk": {"S": "k"}, "l": {"L": [{"S": "a"}]}, "m": {"M": {}},
                "r": {"S": "gone"}, "n": {"N": "41"}, "s": {"SS": ["a"]}, "d": {"SS": ["b"]}
            }),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({
                "pk": {"S": "k"}, "c": {"N": "2"}, "l": {"L": [{"S": "a"}, {"S": "z"}]},
                "m": {"M": {"x": {"S": "v"}}}, "n": {"N": "42"}, "s": {"SS": ["a", "b", "c"]}
            })
        );
    }

    #[test]
    fn rejects_bad_updates() {
        let e = run("SET pk = :s", json!({})).unwrap_err();
        assert_eq!(
            e.message,
            "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"
        );
        let e = run("SET a = b + :one", json!({"b": {"S": "x"}})).unwrap_err();
        assert_eq!(
            e.message,
            "An operand in the update expression has an incorrect data type"
        );
        let e = run("SET a.b = :one", json!({})).unwrap_err();
        assert_eq!(
            e.message,
            "The document path provided in the update expression is invalid for update"
        );
        let e = run("ADD a :s", json!({})).unwrap_err();
        assert!(
            e.message.contains("operator: ADD, operand type: STRING"),
            "{}",
            e.message
        );
        let e = run("SET a = b", json!({})).unwrap_err();
        assert!(e.message.contains("does not exist in the item"));
    }
}
