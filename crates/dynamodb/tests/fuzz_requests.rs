//! No panic, no hang, on any input: property tests of the local DynamoDB's
//! request handling, on a real redb file: condition, filter, key-condition,
//! projection and update expressions built from DynamoDB's grammar with
//! random tokens and `#name`/`:value` placeholders (defined or not), AWS
//! JSON bodies of every operation with random shapes, and raw bytes. Each
//! call runs under a watchdog (`wsflow_fuzz_kit::bounded`) and must answer
//! with a result or a client error (4xx with a code), never a 500.
//!
//! Case counts: `PROPTEST_CASES` (default per test below), e.g.
//! `PROPTEST_CASES=20000 cargo test -p wsflow-dynamodb --test fuzz_requests --release`.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;
use wsflow_aws_wire::Account;
use wsflow_dynamodb::{DynamoDb, KeyType, TableSpec};
use wsflow_fuzz_kit::{bounded, config, generate, preview};

/// One database for the whole test binary (a temporary directory).
fn db() -> &'static DynamoDb {
    static DB: OnceLock<(tempfile::TempDir, DynamoDb)> = OnceLock::new();
    &DB.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = DynamoDb::open(
            dir.path(),
            vec![
                TableSpec {
                    name: "Fuzz".into(),
                    key_schema: vec![("pk".into(), KeyType::Hash), ("sk".into(), KeyType::Range)],
                    attribute_definitions: vec![
                        ("pk".into(), "S".into()),
                        ("sk".into(), "N".into()),
                    ],
                    ttl_attribute: Some("ttl".into()),
                },
                TableSpec {
                    name: "Conn".into(),
                    key_schema: vec![("connectionid".into(), KeyType::Hash)],
                    attribute_definitions: vec![("connectionid".into(), "S".into())],
                    ttl_attribute: None,
                },
            ],
            Account::default(),
            None,
        )
        .expect("open");
        (dir, db)
    })
    .1
}

/// Calls `op` with `body` under the watchdog; a result, or a 4xx error with
/// a code.
fn call(op: &str, body: Vec<u8>) -> Result<Value, (String, String)> {
    let what = format!("{op} {}", preview(&String::from_utf8_lossy(&body), 1500));
    let op = op.to_owned();
    bounded(&what, move || {
        db().call_blocking(&op, &body).map_err(|e| {
            assert!(
                (400..500).contains(&e.status),
                "status {} ({}: {}) for client input",
                e.status,
                e.code,
                e.message
            );
            assert!(!e.code.is_empty(), "error without a code");
            (e.code, e.message)
        })
    })
}

fn call_json(op: &str, body: &Value) -> Result<Value, (String, String)> {
    call(op, serde_json::to_vec(body).unwrap())
}

// ---------------------------------------------------------------- values

/// A well-formed attribute value.
fn attr_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        generate::text(12).prop_map(|s| json!({"S": s})),
        any::<i64>().prop_map(|n| json!({"N": n.to_string()})),
        Just(json!({"N": "-1.5E-10"})),
        Just(json!({"N": "99999999999999999999999999999999999999"})),
        any::<bool>().prop_map(|b| json!({"BOOL": b})),
        Just(json!({"NULL": true})),
        Just(json!({"B": "AAEC"})),
        Just(json!({"SS": ["a", "b"]})),
        Just(json!({"NS": ["1", "2.5"]})),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|v| json!({"L": v})),
            proptest::collection::vec(("[a-z]{1,3}", inner), 0..4)
                .prop_map(|kv| json!({"M": kv.into_iter().collect::<Map<_, _>>()})),
        ]
    })
    .boxed()
}

/// An attribute value, or something shaped like one that is not.
fn maybe_attr_value() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => attr_value(),
        1 => generate::json(2),
        1 => Just(json!({"N": "not a number"})),
        1 => Just(json!({"N": "1e999999"})),
        1 => Just(json!({"S": "a", "N": "1"})),
        1 => Just(json!({"B": "!!not base64"})),
        1 => Just(json!({"SS": []})),
        1 => Just(json!({"SS": ["a", "a"]})),
        1 => Just(json!({"NULL": false})),
        1 => Just(json!({"X": 1})),
    ]
    .boxed()
}

// ---------------------------------------------------------------- expressions

const NAMES: &[&str] = &["#a", "#b", "#pk", "#sk"];
const VALUES: &[&str] = &[":v", ":w", ":n", ":p"];

fn path() -> BoxedStrategy<String> {
    let elem = prop_oneof![
        3 => "[a-z][a-z0-9_]{0,4}",
        2 => proptest::sample::select(NAMES).prop_map(str::to_owned),
        1 => proptest::sample::select(&["pk", "sk", "ttl", "n", "l"][..]).prop_map(str::to_owned),
    ];
    let step = prop_oneof![
        12 => elem.clone().prop_map(|e| format!(".{e}")),
        6 => (0u32..5).prop_map(|i| format!("[{i}]")),
        1 => Just("[99999999999999999999]".to_owned()),
        1 => Just("[-1]".to_owned()),
    ];
    (elem, proptest::collection::vec(step, 0..4))
        .prop_map(|(e, steps)| format!("{e}{}", steps.concat()))
        .boxed()
}

/// A condition's operand: a path, a value or `size(path)`.
fn operand() -> BoxedStrategy<String> {
    prop_oneof![
        3 => path(),
        3 => proptest::sample::select(VALUES).prop_map(str::to_owned),
        1 => path().prop_map(|p| format!("size({p})")),
    ]
    .boxed()
}

/// An update's operand: also `if_not_exists`, `list_append`, `+` and `-`.
fn update_operand() -> BoxedStrategy<String> {
    operand()
        .prop_recursive(2, 8, 2, |o| {
            prop_oneof![
                (path(), o.clone()).prop_map(|(p, x)| format!("if_not_exists({p}, {x})")),
                (o.clone(), o.clone()).prop_map(|(a, b)| format!("list_append({a}, {b})")),
                (o.clone(), o.clone()).prop_map(|(a, b)| format!("{a} + {b}")),
                (o.clone(), o).prop_map(|(a, b)| format!("{a} - {b}")),
            ]
        })
        .boxed()
}

fn condition() -> BoxedStrategy<String> {
    let cmp = proptest::sample::select(&["=", "<>", "<", "<=", ">", ">=", "==", "!="][..]);
    let leaf = prop_oneof![
        3 => (operand(), cmp, operand()).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        1 => (operand(), operand(), operand()).prop_map(|(a, b, c)| format!("{a} BETWEEN {b} AND {c}")),
        1 => (operand(), proptest::collection::vec(operand(), 0..4))
            .prop_map(|(a, l)| format!("{a} IN ({})", l.join(", "))),
        1 => path().prop_map(|p| format!("attribute_exists({p})")),
        1 => path().prop_map(|p| format!("attribute_not_exists({p})")),
        1 => (path(), operand()).prop_map(|(p, v)| format!("attribute_type({p}, {v})")),
        1 => (operand(), operand()).prop_map(|(a, b)| format!("begins_with({a}, {b})")),
        1 => (operand(), operand()).prop_map(|(a, b)| format!("contains({a}, {b})")),
    ];
    let leaf = prop_oneof![12 => leaf, 1 => Just("nosuchfn(a)".to_owned())];
    leaf.prop_recursive(4, 24, 2, |c| {
        prop_oneof![
            (c.clone(), c.clone()).prop_map(|(a, b)| format!("{a} AND {b}")),
            (c.clone(), c.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            c.clone().prop_map(|a| format!("NOT {a}")),
            c.prop_map(|a| format!("({a})")),
        ]
    })
    .boxed()
}

fn update() -> BoxedStrategy<String> {
    let set = proptest::collection::vec((path(), update_operand()), 1..4).prop_map(|v| {
        format!(
            "SET {}",
            v.iter()
                .map(|(p, o)| format!("{p} = {o}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    let remove =
        proptest::collection::vec(path(), 1..3).prop_map(|v| format!("REMOVE {}", v.join(", ")));
    let add = (path(), operand()).prop_map(|(p, o)| format!("ADD {p} {o}"));
    let delete = (path(), operand()).prop_map(|(p, o)| format!("DELETE {p} {o}"));
    proptest::collection::vec(
        prop_oneof![3 => set, 1 => remove, 1 => add, 1 => delete],
        1..4,
    )
    .prop_map(|v| v.join(" "))
    .boxed()
}

fn soup() -> BoxedStrategy<String> {
    generate::soup(
        &[
            "SET ",
            "REMOVE ",
            "ADD ",
            "DELETE ",
            " AND ",
            " OR ",
            "NOT ",
            " BETWEEN ",
            " IN ",
            "(",
            ")",
            "[",
            "]",
            ",",
            ".",
            "=",
            "<>",
            "<",
            ">=",
            "+",
            "-",
            "#a",
            ":v",
            "#",
            ":",
            "size(",
            "if_not_exists(",
            "list_append(",
            "attribute_exists(",
            "begins_with(",
            "a",
            "pk",
            "0",
            " ",
        ],
        30,
    )
}

/// An expression with, sometimes, a stray token spliced in (an undefined
/// placeholder, a reserved word, a lone `#` or `:`, a bracket).
fn expression(kind: u8) -> BoxedStrategy<String> {
    let clean = match kind {
        0 => update(),
        5 => proptest::collection::vec(path(), 1..4)
            .prop_map(|v| v.join(", "))
            .boxed(),
        _ => condition(),
    };
    let stray = proptest::sample::select(
        &[
            "#undefined",
            ":undefined",
            "#",
            ":",
            "size",
            "AND",
            "status",
            "(",
            "]",
            "[1",
            ",",
            "\0",
        ][..],
    );
    prop_oneof![
        4 => clean.clone(),
        1 => (clean, stray, any::<prop::sample::Index>()).prop_map(|(e, t, at)| {
            let cut = e.char_indices().map(|(i, _)| i).nth(at.index(e.chars().count().max(1))).unwrap_or(0);
            format!("{} {t} {}", &e[..cut], &e[cut..])
        }),
        1 => soup(),
    ]
    .boxed()
}

/// The placeholder maps for `expr`: exactly the placeholders it uses
/// (DynamoDB rejects unused ones), with well-formed values; sometimes an
/// extra one, a missing one, an empty map, a value of the wrong shape.
fn placeholders(expr: &str) -> impl Strategy<Value = (Option<Value>, Option<Value>)> + use<> {
    let mut names: Vec<String> = Vec::new();
    let mut values: Vec<String> = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'#' || bytes[i] == b':' {
            let start = i;
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let tok = expr[start..i].to_owned();
            if tok.len() > 1 && !tok.ends_with("undefined") {
                let list = if tok.starts_with('#') {
                    &mut names
                } else {
                    &mut values
                };
                if !list.contains(&tok) {
                    list.push(tok);
                }
            }
        } else {
            i += 1;
        }
    }
    let n = values.len();
    let name_map = proptest::collection::vec(
        proptest::sample::select(&["a", "b", "pk", "sk", "n", "l", "x.y", "", "😀"][..]),
        names.len(),
    )
    .prop_map(move |targets| {
        let m: Map<String, Value> = names
            .iter()
            .cloned()
            .zip(targets.into_iter().map(|t| json!(t)))
            .collect();
        (!m.is_empty()).then_some(Value::Object(m))
    });
    let value_map = proptest::collection::vec(attr_value(), n).prop_map(move |vals| {
        let m: Map<String, Value> = values.iter().cloned().zip(vals).collect();
        (!m.is_empty()).then_some(Value::Object(m))
    });
    let spoil = prop_oneof![
        12 => Just(0u8),
        1 => Just(1),
        1 => Just(2),
        1 => Just(3),
        1 => Just(4),
    ];
    (
        name_map,
        value_map,
        spoil,
        maybe_attr_value(),
        generate::json(2),
    )
        .prop_map(|(mut names, mut values, spoil, bad_value, junk)| {
            match spoil {
                1 => {
                    let m = names.get_or_insert_with(|| json!({}));
                    m["#extra"] = json!("extra");
                }
                2 => {
                    let m = values.get_or_insert_with(|| json!({}));
                    m[":v"] = bad_value;
                }
                3 => names = Some(json!({})),
                4 => values = Some(junk),
                _ => {}
            }
            (names, values)
        })
}

fn with_placeholders(mut body: Value, (names, values): (Option<Value>, Option<Value>)) -> Value {
    if let Some(n) = names {
        body["ExpressionAttributeNames"] = n;
    }
    if let Some(v) = values {
        body["ExpressionAttributeValues"] = v;
    }
    body
}

/// The requests the expression tests send, around one expression.
fn expression_request(kind: u8, expr: String, key: i64) -> (&'static str, Value) {
    let key_json = json!({"pk": {"S": "p"}, "sk": {"N": key.to_string()}});
    match kind {
        0 => (
            "UpdateItem",
            json!({"TableName": "Fuzz", "Key": key_json, "UpdateExpression": expr}),
        ),
        1 => (
            "UpdateItem",
            json!({"TableName": "Fuzz", "Key": key_json,
            "UpdateExpression": "REMOVE zz", "ConditionExpression": expr}),
        ),
        2 => (
            "PutItem",
            json!({"TableName": "Fuzz", "Item": key_json, "ConditionExpression": expr}),
        ),
        3 => (
            "Query",
            json!({"TableName": "Fuzz", "KeyConditionExpression": expr}),
        ),
        4 => (
            "Scan",
            json!({"TableName": "Fuzz", "FilterExpression": expr, "Limit": 5}),
        ),
        _ => (
            "GetItem",
            json!({"TableName": "Fuzz", "Key": key_json, "ProjectionExpression": expr}),
        ),
    }
}

// ---------------------------------------------------------------- request shapes

/// Valid requests of every operation, to be mutated.
fn valid_requests() -> Vec<(&'static str, Value)> {
    let key = json!({"pk": {"S": "p"}, "sk": {"N": "1"}});
    vec![
        (
            "PutItem",
            json!({"TableName": "Fuzz", "Item": {"pk": {"S": "p"}, "sk": {"N": "1"}, "a": {"L": [{"S": "x"}]}},
            "ReturnValues": "ALL_OLD", "ConditionExpression": "attribute_not_exists(#a) OR a = :v",
            "ExpressionAttributeNames": {"#a": "a"}, "ExpressionAttributeValues": {":v": {"N": "1"}}}),
        ),
        (
            "GetItem",
            json!({"TableName": "Fuzz", "Key": key, "ConsistentRead": true, "ProjectionExpression": "a[0], pk"}),
        ),
        (
            "UpdateItem",
            json!({"TableName": "Fuzz", "Key": key, "UpdateExpression": "SET a = list_append(if_not_exists(a, :e), :l) ADD n :one",
            "ExpressionAttributeValues": {":e": {"L": []}, ":l": {"L": [{"N": "1"}]}, ":one": {"N": "1"}}, "ReturnValues": "UPDATED_NEW"}),
        ),
        (
            "DeleteItem",
            json!({"TableName": "Fuzz", "Key": key, "ReturnValues": "ALL_OLD"}),
        ),
        (
            "Query",
            json!({"TableName": "Fuzz", "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": {":p": {"S": "p"}, ":a": {"N": "0"}, ":b": {"N": "9"}},
            "ScanIndexForward": false, "Limit": 3, "ExclusiveStartKey": key, "Select": "COUNT"}),
        ),
        (
            "Scan",
            json!({"TableName": "Fuzz", "Limit": 2, "Segment": 0, "TotalSegments": 2, "ExclusiveStartKey": key}),
        ),
        (
            "BatchWriteItem",
            json!({"RequestItems": {"Fuzz": [{"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": "2"}}}},
            {"DeleteRequest": {"Key": key}}]}}),
        ),
        (
            "BatchGetItem",
            json!({"RequestItems": {"Fuzz": {"Keys": [key, {"pk": {"S": "b"}, "sk": {"N": "2"}}],
            "ProjectionExpression": "pk"}}}),
        ),
        (
            "CreateTable",
            json!({"TableName": "New", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}),
        ),
        ("DescribeTable", json!({"TableName": "Fuzz"})),
        (
            "ListTables",
            json!({"Limit": 1, "ExclusiveStartTableName": "A"}),
        ),
        ("DescribeTimeToLive", json!({"TableName": "Fuzz"})),
        (
            "UpdateTimeToLive",
            json!({"TableName": "Conn", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "ttl"}}),
        ),
        ("DeleteTable", json!({"TableName": "Nope"})),
    ]
}

proptest! {
    #![proptest_config(config(1200))]

    /// Grammar-built expressions in every place an expression goes.
    #[test]
    fn expressions(
        (kind, expr, ph) in (0u8..6)
            .prop_flat_map(|k| (Just(k), expression(k)))
            .prop_flat_map(|(k, e)| (Just(k), Just(e.clone()), placeholders(&e))),
        key in -3i64..3,
    ) {
        let (op, body) = expression_request(kind, expr, key);
        let _ = call_json(op, &with_placeholders(body, ph));
    }

    /// Valid requests of every operation with fields deleted, renamed,
    /// retyped or replaced.
    #[test]
    fn request_shapes(pick in any::<prop::sample::Index>(), muts in generate::mutations(4)) {
        let (op, mut body) = pick.get(&valid_requests()).clone();
        generate::mutate(&mut body, &muts);
        let _ = call_json(op, &body);
    }

    /// Bodies that are not JSON objects, and unknown operations.
    #[test]
    fn raw_bodies(
        op in prop_oneof![
            proptest::sample::select(&["PutItem", "Query", "UpdateItem", "BatchWriteItem"][..]).prop_map(str::to_owned),
            generate::name(),
        ],
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            generate::deep_json_text().prop_map(String::into_bytes),
            generate::json(3).prop_map(|v| v.to_string().into_bytes()),
        ],
    ) {
        let _ = call(&op, body);
    }

    /// An item put with any well-formed attribute values reads back equal.
    #[test]
    fn put_then_get_round_trips(
        attrs in proptest::collection::vec(("[a-z]{1,6}", attr_value()), 0..5),
        sk in any::<i32>(),
    ) {
        let mut item: Map<String, Value> = attrs.into_iter().collect();
        item.insert("pk".into(), json!({"S": "roundtrip"}));
        item.insert("sk".into(), json!({"N": sk.to_string()}));
        item.remove("ttl");
        call_json("PutItem", &json!({"TableName": "Fuzz", "Item": item}))
            .map_err(|e| TestCaseError::fail(format!("put refused: {e:?}")))?;
        let got = call_json("GetItem", &json!({"TableName": "Fuzz", "ConsistentRead": true,
            "Key": {"pk": {"S": "roundtrip"}, "sk": {"N": sk.to_string()}}}))
            .map_err(|e| TestCaseError::fail(format!("get refused: {e:?}")))?;
        prop_assert_eq!(normalize(&got["Item"]), normalize(&Value::Object(item)));
    }
}

/// DynamoDB numbers compare by value (`"1.0"` is `"1"`) and set members are
/// unordered.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let x = match (k.as_str(), x) {
                        ("N", Value::String(n)) => json!(n.parse::<f64>().ok()),
                        ("NS", Value::Array(a)) => {
                            let mut ns: Vec<String> = a
                                .iter()
                                .map(|n| {
                                    format!("{:?}", n.as_str().and_then(|s| s.parse::<f64>().ok()))
                                })
                                .collect();
                            ns.sort();
                            json!(ns)
                        }
                        ("SS" | "BS", Value::Array(a)) => {
                            let mut s: Vec<String> = a.iter().map(|x| x.to_string()).collect();
                            s.sort();
                            json!(s)
                        }
                        _ => normalize(x),
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        other => other.clone(),
    }
}
