//! ProjectionExpression: copying only the selected document paths of an item.

use crate::value::{AttrValue, Item};

use super::{Path, PathElem, resolve};

/// The sub-item of `item` holding only `paths` (list elements selected by
/// index are collected, in selection order, into a list).
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut out = Item::new();
    for p in paths {
        let Some(v) = resolve(item, p) else { continue };
        let Some(PathElem::Attr(first)) = p.first() else {
            continue;
        };
        let slot = out
            .entry(first.clone())
            .or_insert_with(|| empty_like(&p[1..], v));
        insert(slot, &p[1..], v);
    }
    out
}

fn empty_like(rest: &[PathElem], leaf: &AttrValue) -> AttrValue {
    match rest.first() {
        None => leaf.clone(),
        Some(PathElem::Attr(_)) => AttrValue::M(Item::new()),
        Some(PathElem::Index(_)) => AttrValue::L(Vec::new()),
    }
}

fn insert(slot: &mut AttrValue, rest: &[PathElem], leaf: &AttrValue) {
    let Some(head) = rest.first() else {
        *slot = leaf.clone();
        return;
    };
    match (head, slot) {
        (PathElem::Attr(a), AttrValue::M(m)) => {
            let child = m
                .entry(a.clone())
                .or_insert_with(|| empty_like(&rest[1..], leaf));
            insert(child, &rest[1..], leaf);
        }
        (PathElem::Index(_), AttrValue::L(l)) => {
            let mut child = empty_like(&rest[1..], leaf);
            insert(&mut child, &rest[1..], leaf);
            l.push(child);
        }
        // Conflicting shapes (e.g. `a` and `a.b` both projected): the
        // wider projection already holds the value.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{Placeholders, parse_projection};
    use super::*;
    use crate::value::{item_to_json, parse_item};

    #[test]
    fn projects_nested_paths() {
        let item = parse_item(&json!({
            "a": {"S": "x"}, "b": {"N": "1"},
            "m": {"M": {"x": {"S": "1"}, "y": {"S": "2"}}},
            "l": {"L": [{"S": "0"}, {"S": "1"}, {"S": "2"}]}
        }))
        .unwrap();
        let paths = parse_projection("a, m.y, l[2], zz", &mut Placeholders::default()).unwrap();
        assert_eq!(
            item_to_json(&project(&item, &paths)),
            json!({"a": {"S": "x"}, "m": {"M": {"y": {"S": "2"}}}, "l": {"L": [{"S": "2"}]}})
        );
    }
}
