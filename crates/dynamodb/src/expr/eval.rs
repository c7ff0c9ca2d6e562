//! Evaluating conditions and operands against an item.

use std::cmp::Ordering;

use crate::value::{AttrValue, Item, decode_b};

use super::{CmpOp, Cond, Operand, Path, PathElem};

/// The value at `path` in `item`, if present.
pub fn resolve<'a>(item: &'a Item, path: &Path) -> Option<&'a AttrValue> {
    let mut it = path.iter();
    let mut cur = match it.next()? {
        PathElem::Attr(a) => item.get(a)?,
        PathElem::Index(_) => return None,
    };
    for e in it {
        cur = match (e, cur) {
            (PathElem::Attr(a), AttrValue::M(m)) => m.get(a)?,
            (PathElem::Index(i), AttrValue::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The value of a condition operand (`None` when the path is absent or the
/// function does not apply).
pub fn operand_value(item: &Item, op: &Operand) -> Option<AttrValue> {
    match op {
        Operand::Path(p) => resolve(item, p).cloned(),
        Operand::Value(v) => Some(v.clone()),
        Operand::Size(p) => {
            let n = match resolve(item, p)? {
                AttrValue::S(s) => s.chars().count(),
                AttrValue::B(b) => decode_b(b).len(),
                AttrValue::Ss(s) | AttrValue::Ns(s) | AttrValue::Bs(s) => s.len(),
                AttrValue::M(m) => m.len(),
                AttrValue::L(l) => l.len(),
                _ => return None,
            };
            Some(AttrValue::N(n.to_string()))
        }
        // Update-only operands never reach condition evaluation.
        _ => None,
    }
}

/// Whether `cond` holds for `item` (an absent item is an empty map).
pub fn eval_condition(item: &Item, cond: &Cond) -> bool {
    match cond {
        Cond::And(a, b) => eval_condition(item, a) && eval_condition(item, b),
        Cond::Or(a, b) => eval_condition(item, a) || eval_condition(item, b),
        Cond::Not(a) => !eval_condition(item, a),
        Cond::Exists(p) => resolve(item, p).is_some(),
        Cond::NotExists(p) => resolve(item, p).is_none(),
        Cond::Type(p, t) => match (resolve(item, p), operand_value(item, t)) {
            (Some(v), Some(AttrValue::S(t))) => v.type_name() == t,
            _ => false,
        },
        Cond::Cmp(op, a, b) => {
            let (a, b) = (operand_value(item, a), operand_value(item, b));
            match op {
                CmpOp::Eq => matches!((&a, &b), (Some(x), Some(y)) if x == y),
                CmpOp::Ne => !matches!((&a, &b), (Some(x), Some(y)) if x == y),
                _ => {
                    let Some(ord) = a.zip(b).and_then(|(x, y)| x.compare(&y)) else {
                        return false;
                    };
                    match op {
                        CmpOp::Lt => ord == Ordering::Less,
                        CmpOp::Le => ord != Ordering::Greater,
                        CmpOp::Gt => ord == Ordering::Greater,
                        _ => ord != Ordering::Less,
                    }
                }
            }
        }
        Cond::Between(a, lo, hi) => {
            let (Some(a), Some(lo), Some(hi)) = (
                operand_value(item, a),
                operand_value(item, lo),
                operand_value(item, hi),
            ) else {
                return false;
            };
            matches!(a.compare(&lo), Some(Ordering::Greater | Ordering::Equal))
                && matches!(a.compare(&hi), Some(Ordering::Less | Ordering::Equal))
        }
        Cond::In(a, list) => {
            let Some(a) = operand_value(item, a) else {
                return false;
            };
            list.iter()
                .any(|o| operand_value(item, o).is_some_and(|v| v == a))
        }
        Cond::BeginsWith(a, b) => match (operand_value(item, a), operand_value(item, b)) {
            (Some(AttrValue::S(a)), Some(AttrValue::S(b))) => a.starts_with(&b),
            (Some(AttrValue::B(a)), Some(AttrValue::B(b))) => {
                decode_b(&a).starts_with(&decode_b(&b))
            }
            _ => false,
        },
        Cond::Contains(a, b) => match (operand_value(item, a), operand_value(item, b)) {
            (Some(AttrValue::S(a)), Some(AttrValue::S(b))) => a.contains(&b),
            (Some(AttrValue::B(a)), Some(AttrValue::B(b))) => {
                let (a, b) = (decode_b(&a), decode_b(&b));
                b.is_empty() || a.windows(b.len()).any(|w| w == b.as_slice())
            }
            (Some(AttrValue::Ss(s)), Some(AttrValue::S(x)))
            | (Some(AttrValue::Ns(s)), Some(AttrValue::N(x))) => s.contains(&x),
            (Some(AttrValue::Bs(s)), Some(AttrValue::B(x))) => {
                let x = decode_b(&x);
                s.iter().any(|e| decode_b(e) == x)
            }
            (Some(AttrValue::L(l)), Some(x)) => l.contains(&x),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{ExprKind, Placeholders, parse_condition};
    use super::*;
    use crate::value::parse_item;

    fn check(expr: &str, item: serde_json::Value) -> bool {
        let mut ph = Placeholders::from_request(&json!({
            "ExpressionAttributeValues": {
                ":s": {"S": "ab"}, ":n": {"N": "10"}, ":l": {"N": "2"}, ":t": {"S": "SS"}
            }
        }))
        .unwrap();
        let c = parse_condition(expr, ExprKind::Filter, &mut ph).unwrap();
        eval_condition(&parse_item(&item).unwrap(), &c)
    }

    #[test]
    fn evaluates_functions_and_comparisons() {
        let item = json!({
            "a": {"S": "abc"}, "n": {"N": "9.5"},
            "m": {"M": {"l": {"L": [{"S": "x"}, {"N": "10"}]}}},
            "tags": {"SS": ["ab", "cd"]}
        });
        assert!(check("begins_with(a, :s)", item.clone()));
        assert!(check("n < :n AND n > :l", item.clone()));
        assert!(check("n BETWEEN :l AND :n", item.clone()));
        assert!(check("m.l[1] = :n", item.clone()));
        assert!(check(
            "contains(tags, :s) AND attribute_type(tags, :t)",
            item.clone()
        ));
        assert!(check("size(m.l) = :l", item.clone()));
        assert!(check(
            "attribute_not_exists(zz) AND attribute_exists(m.l[0])",
            item.clone()
        ));
        assert!(check("zz <> :s", item.clone()));
        assert!(!check("zz = :s OR zz < :s", item.clone()));
        assert!(check("n IN (:l, :n, n)", item.clone()));
        assert!(!check("NOT (a = a)", item));
    }
}
