//! The local DynamoDB driven through `AwsService` with JSON request bodies,
//! on a real redb file in a temporary directory.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, UNIX_EPOCH},
};

use serde_json::{Value, json};
use wsflow_aws_wire::{Account, AwsService, Protocol, ServiceError, ServiceRequest};
use wsflow_dynamodb::{Clock, DynamoDb, KeyType, TableSpec};

fn connections_table() -> TableSpec {
    TableSpec {
        name: "WsConnections".into(),
        key_schema: vec![("connectionid".into(), KeyType::Hash)],
        attribute_definitions: vec![("connectionid".into(), "S".into())],
        ttl_attribute: Some("ttl".into()),
    }
}

fn events_table() -> TableSpec {
    TableSpec {
        name: "Events".into(),
        key_schema: vec![("pk".into(), KeyType::Hash), ("sk".into(), KeyType::Range)],
        attribute_definitions: vec![("pk".into(), "S".into()), ("sk".into(), "N".into())],
        ttl_attribute: None,
    }
}

fn open(dir: &Path, clock: Option<Clock>) -> DynamoDb {
    DynamoDb::open(
        dir,
        vec![connections_table(), events_table()],
        Account::default(),
        clock,
    )
    .expect("open")
}

async fn call(db: &DynamoDb, op: &str, body: Value) -> Result<Value, ServiceError> {
    let resp = db
        .call(ServiceRequest {
            operation: op.into(),
            protocol: Protocol::Json,
            body: serde_json::to_vec(&body).unwrap(),
        })
        .await?;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.content_type, "application/x-amz-json-1.0");
    Ok(serde_json::from_slice(&resp.body).expect("json response"))
}

async fn ok(db: &DynamoDb, op: &str, body: Value) -> Value {
    call(db, op, body)
        .await
        .unwrap_or_else(|e| panic!("{op} failed: {e}"))
}

async fn err(db: &DynamoDb, op: &str, body: Value) -> ServiceError {
    call(db, op, body).await.expect_err("expected an error")
}

/// The body API Gateway's `$connect` mapping template renders.
fn connect_body(id: &str, ttl: u64) -> Value {
    json!({
        "TableName": "WsConnections",
        "Item": {
            "connectionid": {"S": id},
            "headers": {"S": "{Host=example.com, Sec-WebSocket-Version=13}"},
            "querystring": {"S": "{}"},
            "ws-uri": {"S": "ws://127.0.0.1:3001/"},
            "ttl": {"N": ttl.to_string()}
        }
    })
}

#[tokio::test]
async fn connect_and_disconnect_bodies_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), None);
    assert_eq!(
        db.error_namespace(),
        Some("com.amazonaws.dynamodb.v20120810")
    );
    assert_eq!(
        ok(&db, "PutItem", connect_body("abc=", 1_900_000_000)).await,
        json!({})
    );
    let got = ok(
        &db,
        "GetItem",
        json!({"TableName": "WsConnections", "Key": {"connectionid": {"S": "abc="}}, "ConsistentRead": true}),
    )
    .await;
    assert_eq!(got["Item"]["ws-uri"], json!({"S": "ws://127.0.0.1:3001/"}));
    assert_eq!(got["Item"]["ttl"], json!({"N": "1900000000"}));
    let deleted = ok(
        &db,
        "DeleteItem",
        json!({"TableName": "WsConnections", "Key": {"connectionid": {"S": "abc="}}, "ReturnValues": "ALL_OLD"}),
    )
    .await;
    assert_eq!(deleted["Attributes"]["connectionid"], json!({"S": "abc="}));
    let got = ok(
        &db,
        "GetItem",
        json!({"TableName": "WsConnections", "Key": {"connectionid": {"S": "abc="}}}),
    )
    .await;
    assert_eq!(got, json!({}));
}

#[tokio::test]
async fn validation_errors_use_aws_types_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), None);
    let e = err(
        &db,
        "PutItem",
        json!({"TableName": "WsConnections", "Item": {"headers": {"S": "x"}}}),
    )
    .await;
    assert_eq!((e.status, e.code.as_str()), (400, "ValidationException"));
    assert_eq!(
        e.message,
        "One or more parameter values were invalid: Missing the key connectionid in the item"
    );
    let e = err(
        &db,
        "GetItem",
        json!({"TableName": "WsConnections", "Key": {"connectionid": {"N": "1"}}}),
    )
    .await;
    assert_eq!(
        e.message,
        "The provided key element does not match the schema"
    );
    let e = err(
        &db,
        "GetItem",
        json!({"TableName": "WsConnections", "Key": {"connectionid": {"S": "a"}, "x": {"S": "b"}}}),
    )
    .await;
    assert_eq!(
        e.message,
        "The provided key element does not match the schema"
    );
    let e = err(
        &db,
        "PutItem",
        json!({"TableName": "Nope", "Item": {"a": {"S": "b"}}}),
    )
    .await;
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("ResourceNotFoundException", "Requested resource not found")
    );
    let e = err(&db, "DescribeTable", json!({"TableName": "Nope"})).await;
    assert_eq!(
        e.message,
        "Requested resource not found: Table: Nope not found"
    );
    let big = "x".repeat(400 * 1024);
    let e = err(
        &db,
        "PutItem",
        json!({"TableName": "WsConnections", "Item": {"connectionid": {"S": "a"}, "blob": {"S": big}}}),
    )
    .await;
    assert_eq!(e.message, "Item size has exceeded the maximum allowed size");
    let e = err(
        &db,
        "PutItem",
        json!({"TableName": "WsConnections", "Item": {"connectionid": {"S": "a"}},
               "ConditionExpression": "attribute_not_exists(ttl)"}),
    )
    .await;
    assert_eq!(
        e.message,
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: ttl"
    );
    let e = err(&db, "Frobnicate", json!({})).await;
    assert_eq!(e.code, "UnknownOperationException");
    let e = db
        .call(ServiceRequest {
            operation: "PutItem".into(),
            protocol: Protocol::Json,
            body: b"{not json".to_vec(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, "SerializationException");
}

#[tokio::test]
async fn conditional_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), None);
    let put_new = |id: &str| {
        let mut b = connect_body(id, 1);
        b["ConditionExpression"] = json!("attribute_not_exists(connectionid)");
        b
    };
    ok(&db, "PutItem", put_new("c1")).await;
    let e = err(&db, "PutItem", put_new("c1")).await;
    assert_eq!(
        (e.status, e.code.as_str(), e.message.as_str()),
        (
            400,
            "ConditionalCheckFailedException",
            "The conditional request failed"
        )
    );
    // Condition on a value, with names and values placeholders.
    let e = err(
        &db,
        "DeleteItem",
        json!({"TableName": "WsConnections", "Key": {"connectionid": {"S": "c1"}},
               "ConditionExpression": "#t > :t",
               "ExpressionAttributeNames": {"#t": "ttl"},
               "ExpressionAttributeValues": {":t": {"N": "5"}}}),
    )
    .await;
    assert_eq!(e.code, "ConditionalCheckFailedException");
    ok(
        &db,
        "DeleteItem",
        json!({"TableName": "WsConnections", "Key": {"connectionid": {"S": "c1"}},
               "ConditionExpression": "#t < :t AND begins_with(headers, :h)",
               "ExpressionAttributeNames": {"#t": "ttl"},
               "ExpressionAttributeValues": {":t": {"N": "5"}, ":h": {"S": "{Host"}}}),
    )
    .await;
    let e = err(
        &db,
        "UpdateItem",
        json!({"TableName": "WsConnections", "Key": {"connectionid": {"S": "c1"}},
               "UpdateExpression": "SET headers = :h",
               "ConditionExpression": "attribute_exists(connectionid)",
               "ExpressionAttributeValues": {":h": {"S": "x"}}}),
    )
    .await;
    assert_eq!(e.code, "ConditionalCheckFailedException");
    let e = err(
        &db,
        "PutItem",
        json!({"TableName": "WsConnections", "Item": {"connectionid": {"S": "c2"}},
               "ExpressionAttributeValues": {":unused": {"S": "x"}}}),
    )
    .await;
    assert_eq!(
        e.message,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
    );
}

#[tokio::test]
async fn update_expressions_and_return_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), None);
    let key = json!({"pk": {"S": "user#1"}, "sk": {"N": "1"}});
    let r = ok(
        &db,
        "UpdateItem",
        json!({"TableName": "Events", "Key": key,
               "UpdateExpression": "SET hits = if_not_exists(hits, :zero) + :one, history = list_append(if_not_exists(history, :empty), :entry) ADD tags :t",
               "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"},
                   ":empty": {"L": []}, ":entry": {"L": [{"S": "first"}]}, ":t": {"SS": ["a"]}},
               "ReturnValues": "ALL_NEW"}),
    )
    .await;
    assert_eq!(
        r["Attributes"],
        json!({"pk": {"S": "user#1"}, "sk": {"N": "1"}, "hits": {"N": "1"},
               "history": {"L": [{"S": "first"}]}, "tags": {"SS": ["a"]}})
    );
    let r = ok(
        &db,
        "UpdateItem",
        json!({"TableName": "Events", "Key": key,
               "UpdateExpression": "SET hits = hits + :n REMOVE history DELETE tags :t",
               "ExpressionAttributeValues": {":n": {"N": "2.5"}, ":t": {"SS": ["a"]}},
               "ReturnValues": "UPDATED_OLD"}),
    )
    .await;
    assert_eq!(
        r["Attributes"],
        json!({"hits": {"N": "1"}, "history": {"L": [{"S": "first"}]}, "tags": {"SS": ["a"]}})
    );
    let r = ok(
        &db,
        "UpdateItem",
        json!({"TableName": "Events", "Key": key,
               "UpdateExpression": "SET hits = hits - :n",
               "ExpressionAttributeValues": {":n": {"N": "0.5"}},
               "ReturnValues": "UPDATED_NEW"}),
    )
    .await;
    assert_eq!(r["Attributes"], json!({"hits": {"N": "3"}}));
    let e = err(
        &db,
        "UpdateItem",
        json!({"TableName": "Events", "Key": key,
               "UpdateExpression": "SET sk = :n",
               "ExpressionAttributeValues": {":n": {"N": "2"}}}),
    )
    .await;
    assert_eq!(
        e.message,
        "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key"
    );
    let e = err(
        &db,
        "UpdateItem",
        json!({"TableName": "Events", "Key": key, "UpdateExpression": "SET hits = :n +",
               "ExpressionAttributeValues": {":n": {"N": "2"}}}),
    )
    .await;
    assert!(
        e.message
            .starts_with("Invalid UpdateExpression: Syntax error; token: <EOF>"),
        "{}",
        e.message
    );
}

async fn seed_events(db: &DynamoDb) {
    let mut requests = Vec::new();
    for i in [10, 2, 1, 30, 3, 20] {
        requests.push(json!({"PutRequest": {"Item": {
            "pk": {"S": "p"}, "sk": {"N": i.to_string()}, "kind": {"S": if i % 2 == 0 { "even" } else { "odd" }}
        }}}));
    }
    requests.push(json!({"PutRequest": {"Item": {"pk": {"S": "other"}, "sk": {"N": "1"}}}}));
    let r = ok(
        db,
        "BatchWriteItem",
        json!({"RequestItems": {"Events": requests}}),
    )
    .await;
    assert_eq!(r, json!({"UnprocessedItems": {}}));
}

fn sks(r: &Value) -> Vec<String> {
    r["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sk"]["N"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn query_orders_numerically_filters_and_paginates() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), None);
    seed_events(&db).await;
    let base = json!({"TableName": "Events", "KeyConditionExpression": "pk = :p",
                      "ExpressionAttributeValues": {":p": {"S": "p"}}});
    let r = ok(&db, "Query", base.clone()).await;
    assert_eq!(sks(&r), ["1", "2", "3", "10", "20", "30"]);
    assert_eq!(
        (r["Count"].as_u64(), r["ScannedCount"].as_u64()),
        (Some(6), Some(6))
    );
    assert!(r.get("LastEvaluatedKey").is_none());

    // Pagination, backwards.
    let mut req = base.clone();
    req["Limit"] = json!(4);
    req["ScanIndexForward"] = json!(false);
    let p1 = ok(&db, "Query", req.clone()).await;
    assert_eq!(sks(&p1), ["30", "20", "10", "3"]);
    assert_eq!(
        p1["LastEvaluatedKey"],
        json!({"pk": {"S": "p"}, "sk": {"N": "3"}})
    );
    req["ExclusiveStartKey"] = p1["LastEvaluatedKey"].clone();
    let p2 = ok(&db, "Query", req).await;
    assert_eq!(sks(&p2), ["2", "1"]);
    assert!(p2.get("LastEvaluatedKey").is_none());

    // Sort-key conditions, filter, projection, COUNT.
    let r = ok(
        &db,
        "Query",
        json!({"TableName": "Events", "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
               "FilterExpression": "kind = :k", "ProjectionExpression": "sk",
               "ExpressionAttributeValues": {":p": {"S": "p"}, ":a": {"N": "2"}, ":b": {"N": "20"}, ":k": {"S": "even"}}}),
    )
    .await;
    assert_eq!(sks(&r), ["2", "10", "20"]);
    assert_eq!(r["Items"][0], json!({"sk": {"N": "2"}}));
    assert_eq!(
        (r["Count"].as_u64(), r["ScannedCount"].as_u64()),
        (Some(3), Some(4))
    );
    let r = ok(
        &db,
        "Query",
        json!({"TableName": "Events", "KeyConditionExpression": "pk = :p AND sk >= :a", "Select": "COUNT",
               "ExpressionAttributeValues": {":p": {"S": "p"}, ":a": {"N": "10"}}}),
    )
    .await;
    assert_eq!(r, json!({"Count": 3, "ScannedCount": 3}));
    let e = err(
        &db,
        "Query",
        json!({"TableName": "Events", "KeyConditionExpression": "sk = :a",
               "ExpressionAttributeValues": {":a": {"N": "10"}}}),
    )
    .await;
    assert_eq!(e.message, "Query condition missed key schema element: pk");
    let e = err(&db, "Query", json!({"TableName": "Events"})).await;
    assert_eq!(
        e.message,
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
    );
}

#[tokio::test]
async fn scan_paginates_over_everything_and_batch_get() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), None);
    seed_events(&db).await;
    let mut seen = Vec::new();
    let mut req = json!({"TableName": "Events", "Limit": 3});
    let mut pages = 0;
    loop {
        let r = ok(&db, "Scan", req.clone()).await;
        pages += 1;
        for i in r["Items"].as_array().unwrap() {
            seen.push(format!(
                "{}/{}",
                i["pk"]["S"].as_str().unwrap(),
                i["sk"]["N"].as_str().unwrap()
            ));
        }
        match r.get("LastEvaluatedKey") {
            Some(k) => req["ExclusiveStartKey"] = k.clone(),
            None => break,
        }
        assert!(pages < 10, "pagination does not terminate");
    }
    seen.sort();
    assert_eq!(
        seen,
        ["other/1", "p/1", "p/10", "p/2", "p/20", "p/3", "p/30"]
    );
    // 7 items, pages of 3: 3 + 3 + 1.
    assert_eq!(pages, 3);
    let r = ok(
        &db,
        "Scan",
        json!({"TableName": "Events", "FilterExpression": "kind = :k",
               "ExpressionAttributeValues": {":k": {"S": "odd"}}, "Select": "COUNT"}),
    )
    .await;
    assert_eq!(r["Count"], json!(2));
    let r = ok(
        &db,
        "BatchGetItem",
        json!({"RequestItems": {"Events": {"Keys": [
            {"pk": {"S": "p"}, "sk": {"N": "10"}}, {"pk": {"S": "p"}, "sk": {"N": "999"}}
        ], "ProjectionExpression": "kind"}}}),
    )
    .await;
    assert_eq!(
        r,
        json!({"Responses": {"Events": [{"kind": {"S": "even"}}]}, "UnprocessedKeys": {}})
    );
}

#[tokio::test]
async fn tables_and_ttl_admin() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), None);
    let r = ok(
        &db,
        "CreateTable",
        json!({"TableName": "Extra", "BillingMode": "PAY_PER_REQUEST",
               "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
               "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]}),
    )
    .await;
    assert_eq!(
        r["TableDescription"]["TableArn"],
        json!("arn:aws:dynamodb:us-east-1:123456789012:table/Extra")
    );
    let e = err(
        &db,
        "CreateTable",
        json!({"TableName": "Extra",
               "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
               "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]}),
    )
    .await;
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("ResourceInUseException", "Table already exists: Extra")
    );
    let r = ok(&db, "ListTables", json!({"Limit": 2})).await;
    assert_eq!(
        r,
        json!({"TableNames": ["Events", "Extra"], "LastEvaluatedTableName": "Extra"})
    );
    let r = ok(&db, "DescribeTable", json!({"TableName": "WsConnections"})).await;
    assert_eq!(r["Table"]["TableStatus"], json!("ACTIVE"));
    assert_eq!(
        r["Table"]["KeySchema"],
        json!([{"AttributeName": "connectionid", "KeyType": "HASH"}])
    );
    let r = ok(
        &db,
        "DescribeTimeToLive",
        json!({"TableName": "WsConnections"}),
    )
    .await;
    assert_eq!(
        r,
        json!({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}})
    );
    ok(
        &db,
        "UpdateTimeToLive",
        json!({"TableName": "Extra", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}}),
    )
    .await;
    let r = ok(&db, "DescribeTimeToLive", json!({"TableName": "Extra"})).await;
    assert_eq!(r["TimeToLiveDescription"]["AttributeName"], json!("exp"));
    ok(&db, "DeleteTable", json!({"TableName": "Extra"})).await;
    let e = err(&db, "DescribeTable", json!({"TableName": "Extra"})).await;
    assert_eq!(e.code, "ResourceNotFoundException");
}

#[tokio::test]
async fn items_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path(), None);
        ok(&db, "PutItem", connect_body("persist", 1_900_000_000)).await;
        ok(
            &db,
            "CreateTable",
            json!({"TableName": "Dynamic", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                   "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "N"}]}),
        )
        .await;
        ok(
            &db,
            "PutItem",
            json!({"TableName": "Dynamic", "Item": {"id": {"N": "7"}}}),
        )
        .await;
    }
    assert!(dir.path().join("dynamodb.redb").is_file());
    let db = open(dir.path(), None);
    let got = ok(
        &db,
        "GetItem",
        json!({"TableName": "WsConnections", "Key": {"connectionid": {"S": "persist"}}}),
    )
    .await;
    assert_eq!(got["Item"]["ttl"], json!({"N": "1900000000"}));
    let got = ok(
        &db,
        "GetItem",
        json!({"TableName": "Dynamic", "Key": {"id": {"N": "7.0"}}}),
    )
    .await;
    assert_eq!(got["Item"], json!({"id": {"N": "7"}}));
}

#[tokio::test]
async fn ttl_sweep_deletes_only_expired_items() {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicU64::new(1_800_000_000));
    let clock_now = now.clone();
    let clock: Clock =
        Arc::new(move || UNIX_EPOCH + Duration::from_secs(clock_now.load(Ordering::SeqCst)));
    let db = open(dir.path(), Some(clock));
    // ttl = now + 86400 seconds, as the $connect template writes it.
    ok(
        &db,
        "PutItem",
        connect_body("fresh", 1_800_000_000 + 86_400),
    )
    .await;
    ok(&db, "PutItem", connect_body("stale", 1_800_000_000 - 1)).await;
    // Ten years old: AWS never deletes those.
    ok(
        &db,
        "PutItem",
        connect_body("ancient", 1_800_000_000 - 10 * 365 * 86_400),
    )
    .await;
    // Expired but not yet swept: still readable, as on AWS.
    let got = ok(
        &db,
        "GetItem",
        json!({"TableName": "WsConnections", "Key": {"connectionid": {"S": "stale"}}}),
    )
    .await;
    assert!(got.get("Item").is_some());
    assert_eq!(db.sweep_expired().await, 1);
    let got = ok(
        &db,
        "GetItem",
        json!({"TableName": "WsConnections", "Key": {"connectionid": {"S": "stale"}}}),
    )
    .await;
    assert_eq!(got, json!({}));
    now.store(1_800_000_000 + 86_401, Ordering::SeqCst);
    assert_eq!(db.sweep_expired().await, 1);
    let r = ok(&db, "Scan", json!({"TableName": "WsConnections"})).await;
    assert_eq!(r["Items"][0]["connectionid"], json!({"S": "ancient"}));
    assert_eq!(r["Count"], json!(1));
}
