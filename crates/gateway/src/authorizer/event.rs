//! The `REQUEST` authorizer event of a WebSocket `$connect`, in the shape
//! AWS sends it (checked key by key against the recorded
//! `ws-authorizer-request.powertools-python.recorded.json`):
//!
//! `type`, `methodArn`, `headers`, `multiValueHeaders`,
//! `queryStringParameters`, `multiValueQueryStringParameters`,
//! `stageVariables` (all three `{}` when empty, unlike the `$connect` proxy
//! event, which leaves the query keys out), and the 13-key `$connect`
//! `requestContext`. Unlike `$connect`'s event the headers keep the
//! hop-by-hop `Connection` and `Upgrade`, and AWS adds `content-length: 0`;
//! `Sec-WebSocket-Key` is only in `multiValueHeaders`, as recorded.

use serde_json::{Map, Value};

use crate::events::single_and_multi;

/// The `methodArn` of `$connect`:
/// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/$connect`.
pub fn method_arn(account: &wsflow_aws_wire::Account, api_id: &str, stage: &str) -> String {
    format!("{}/{stage}/$connect", account.execute_api(api_id))
}

/// The authorizer's headers: `$connect`'s (already title-cased and with
/// API Gateway's `X-Forwarded-*`/`X-Amzn-Trace-Id`), plus the client's
/// `Connection` and `Upgrade` and `content-length: 0`, sorted by name.
pub fn headers(
    connect_headers: &[(String, String)],
    connection: Option<&str>,
    upgrade: Option<&str>,
) -> Vec<(String, String)> {
    let mut out = connect_headers.to_vec();
    let has = |out: &[(String, String)], name: &str| {
        out.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
    };
    for (name, value) in [("Connection", connection), ("Upgrade", upgrade)] {
        if let Some(v) = value
            && !has(&out, name)
        {
            out.push((name.to_owned(), v.to_owned()));
        }
    }
    if !has(&out, "content-length") {
        out.push(("content-length".to_owned(), "0".to_owned()));
    }
    out.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    out
}

/// The event.
pub fn build(
    method_arn: &str,
    headers: &[(String, String)],
    query: &[(String, String)],
    stage_variables: &Map<String, Value>,
    context: &Map<String, Value>,
) -> Value {
    let (mut single, multi) = single_and_multi(headers);
    if let Value::Object(h) = &mut single {
        h.retain(|k, _| !k.eq_ignore_ascii_case("sec-websocket-key"));
    }
    let (q, mq) = single_and_multi(query);
    let mut ev = Map::new();
    ev.insert("type".into(), "REQUEST".into());
    ev.insert("methodArn".into(), method_arn.into());
    ev.insert("headers".into(), single);
    ev.insert("multiValueHeaders".into(), multi);
    ev.insert("queryStringParameters".into(), q);
    ev.insert("multiValueQueryStringParameters".into(), mq);
    ev.insert(
        "stageVariables".into(),
        Value::Object(stage_variables.clone()),
    );
    ev.insert("requestContext".into(), Value::Object(context.clone()));
    Value::Object(ev)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::events::{self, ApiInfo, ConnectionInfo, EventKind};

    fn keys(v: &Value) -> BTreeSet<String> {
        v.as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Builds the event for the recorded request and compares it with the
    /// recording key by key (values that are ids or times excepted).
    #[test]
    fn matches_the_recorded_aws_event() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../../shared/aws-fixtures/ws-authorizer-request.powertools-python.recorded.json",
        );
        let Ok(text) = std::fs::read_to_string(&path) else {
            panic!("missing fixture {}", path.display());
        };
        let recorded: Value = serde_json::from_str(&text).unwrap();

        // The recorded request: what the client sent plus what API Gateway
        // added (its `$connect` header list), and the upgrade headers.
        let connect_headers: Vec<(String, String)> = recorded["multiValueHeaders"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| {
                !["connection", "upgrade", "content-length"]
                    .contains(&k.to_ascii_lowercase().as_str())
            })
            .map(|(k, v)| (k.clone(), v[0].as_str().unwrap().to_owned()))
            .collect();
        let all = headers(&connect_headers, Some("upgrade"), Some("websocket"));

        let rc = &recorded["requestContext"];
        let api = ApiInfo {
            api_id: rc["apiId"].as_str().unwrap().into(),
            stage: rc["stage"].as_str().unwrap().into(),
            domain_name: rc["domainName"].as_str().unwrap().into(),
        };
        let conn = ConnectionInfo {
            connection_id: rc["connectionId"].as_str().unwrap().into(),
            connected_at: rc["connectedAt"].as_u64().unwrap(),
            source_ip: rc["identity"]["sourceIp"].as_str().unwrap().into(),
            user_agent: None,
            authorizer: None,
        };
        let req = events::request(&api, &conn, &EventKind::Connect);
        let account = wsflow_aws_wire::Account {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account_id: "533568316194".into(),
        };
        let arn = method_arn(&account, &api.api_id, &api.stage);
        let ev = build(&arn, &all, &[], &Map::new(), &req.context);

        assert_eq!(keys(&ev), keys(&recorded));
        assert_eq!(ev["type"], recorded["type"]);
        assert_eq!(ev["methodArn"], recorded["methodArn"]);
        assert_eq!(ev["headers"], recorded["headers"]);
        assert_eq!(ev["multiValueHeaders"], recorded["multiValueHeaders"]);
        for k in [
            "queryStringParameters",
            "multiValueQueryStringParameters",
            "stageVariables",
        ] {
            assert_eq!(ev[k], recorded[k], "{k}");
        }
        let ours = &ev["requestContext"];
        assert_eq!(keys(ours), keys(rc));
        for k in [
            "routeKey",
            "eventType",
            "messageDirection",
            "stage",
            "connectedAt",
            "identity",
            "domainName",
            "connectionId",
            "apiId",
        ] {
            assert_eq!(ours[k], rc[k], "requestContext.{k}");
        }
        assert_eq!(ours["requestId"], ours["extendedRequestId"]);
    }

    #[test]
    fn query_strings_single_and_multi() {
        let q = vec![
            ("token".to_owned(), "a".to_owned()),
            ("x".to_owned(), "1".to_owned()),
            ("x".to_owned(), "2".to_owned()),
        ];
        let ev = build("arn", &[], &q, &Map::new(), &Map::new());
        assert_eq!(ev["queryStringParameters"]["token"], "a");
        assert_eq!(ev["queryStringParameters"]["x"], "2");
        assert_eq!(
            ev["multiValueQueryStringParameters"]["x"],
            serde_json::json!(["1", "2"])
        );
    }
}
