//! Lambda proxy events (and the `$context` of mapping templates) in the exact
//! shape API Gateway WebSocket APIs send them: one builder per event kind.
//!
//! The `requestContext` object doubles as the `$context` map of request
//! templates: the variable names are the same (`$context.connectionId`,
//! `$context.requestTimeEpoch`, `$context.identity.sourceIp`, …).

use serde_json::{Map, Value, json};

use crate::{clock, ids};

/// What every event of one connection shares.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// The connection id.
    pub connection_id: String,
    /// Milliseconds since the epoch at which `$connect` started.
    pub connected_at: u64,
    /// The client's IP address.
    pub source_ip: String,
    /// The client's `User-Agent`, if it sent one.
    pub user_agent: Option<String>,
    /// `requestContext.authorizer`: what the `$connect` authorizer returned
    /// (`principalId` and its `context`), for every event of the connection.
    pub authorizer: Option<Map<String, Value>>,
}

/// The API-level fields of every request context.
#[derive(Debug, Clone)]
pub struct ApiInfo {
    /// `apiId`.
    pub api_id: String,
    /// `stage`.
    pub stage: String,
    /// `domainName`.
    pub domain_name: String,
}

/// The kind of event, with what is specific to it.
#[derive(Debug, Clone)]
pub enum EventKind<'a> {
    /// `$connect`.
    Connect,
    /// A message routed to `route_key`.
    Message {
        /// The selected route.
        route_key: &'a str,
    },
    /// `$disconnect`.
    Disconnect {
        /// The close code (`1000`, `1001`, `1005`, …).
        status_code: u16,
        /// The close reason.
        reason: &'a str,
    },
}

/// One request: its ids, time and context.
#[derive(Debug, Clone)]
pub struct Request {
    /// `requestId` (also `extendedRequestId`, as AWS shows them equal).
    pub request_id: String,
    /// The `requestContext` / `$context` object.
    pub context: Map<String, Value>,
}

/// Builds the request context of a new request of `kind`.
pub fn request(api: &ApiInfo, conn: &ConnectionInfo, kind: &EventKind<'_>) -> Request {
    let request_id = ids::new_id();
    let time = clock::now_millis();
    let mut ctx = Map::new();
    let (route_key, event_type) = match kind {
        EventKind::Connect => ("$connect", "CONNECT"),
        EventKind::Message { route_key } => (*route_key, "MESSAGE"),
        EventKind::Disconnect { .. } => ("$disconnect", "DISCONNECT"),
    };
    ctx.insert("routeKey".into(), route_key.into());
    if let EventKind::Message { .. } = kind {
        ctx.insert("messageId".into(), ids::new_id().into());
    }
    if let EventKind::Disconnect {
        status_code,
        reason,
    } = kind
    {
        ctx.insert("disconnectStatusCode".into(), (*status_code).into());
        ctx.insert("disconnectReason".into(), (*reason).into());
    }
    ctx.insert("eventType".into(), event_type.into());
    ctx.insert("extendedRequestId".into(), request_id.clone().into());
    ctx.insert("requestTime".into(), clock::request_time(time).into());
    ctx.insert("messageDirection".into(), "IN".into());
    ctx.insert("stage".into(), api.stage.clone().into());
    ctx.insert("connectedAt".into(), conn.connected_at.into());
    ctx.insert("requestTimeEpoch".into(), time.into());
    let mut identity = Map::new();
    if !matches!(kind, EventKind::Message { .. })
        && let Some(ua) = &conn.user_agent
    {
        identity.insert("userAgent".into(), ua.clone().into());
    }
    identity.insert("sourceIp".into(), conn.source_ip.clone().into());
    ctx.insert("identity".into(), Value::Object(identity));
    ctx.insert("requestId".into(), request_id.clone().into());
    ctx.insert("domainName".into(), api.domain_name.clone().into());
    ctx.insert("connectionId".into(), conn.connection_id.clone().into());
    ctx.insert("apiId".into(), api.api_id.clone().into());
    if let Some(authorizer) = &conn.authorizer {
        ctx.insert("authorizer".into(), Value::Object(authorizer.clone()));
    }
    Request {
        request_id,
        context: ctx,
    }
}

pub(crate) fn single_and_multi(pairs: &[(String, String)]) -> (Value, Value) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (k, v) in pairs {
        single.insert(k.clone(), v.clone().into());
        match multi.get_mut(k) {
            Some(Value::Array(list)) => list.push(v.clone().into()),
            _ => {
                multi.insert(k.clone(), json!([v]));
            }
        }
    }
    (Value::Object(single), Value::Object(multi))
}

/// The `$connect` event: headers and query string, no body.
pub fn connect_event(
    req: &Request,
    headers: &[(String, String)],
    query: &[(String, String)],
) -> Value {
    let (h, mh) = single_and_multi(headers);
    let mut ev = Map::new();
    ev.insert("headers".into(), h);
    ev.insert("multiValueHeaders".into(), mh);
    if !query.is_empty() {
        let (q, mq) = single_and_multi(query);
        ev.insert("queryStringParameters".into(), q);
        ev.insert("multiValueQueryStringParameters".into(), mq);
    }
    ev.insert("requestContext".into(), Value::Object(req.context.clone()));
    ev.insert("isBase64Encoded".into(), false.into());
    Value::Object(ev)
}

/// A `MESSAGE` event; takes the request context by value (it is moved,
/// not cloned, on the per-message path).
pub fn message_event(context: Map<String, Value>, body: &str) -> Value {
    let mut ev = Map::new();
    ev.insert("requestContext".into(), Value::Object(context));
    ev.insert("body".into(), body.into());
    ev.insert("isBase64Encoded".into(), false.into());
    Value::Object(ev)
}

/// The `$disconnect` event (headers as AWS sends them on disconnect).
pub fn disconnect_event(req: &Request, api: &ApiInfo, conn: &ConnectionInfo) -> Value {
    let mut headers = vec![
        ("Host".to_owned(), api.domain_name.clone()),
        ("x-api-key".to_owned(), String::new()),
        ("X-Forwarded-For".to_owned(), String::new()),
        ("x-restapi".to_owned(), String::new()),
    ];
    if let Some(ua) = &conn.user_agent {
        headers.push(("User-Agent".to_owned(), ua.clone()));
    }
    let (h, mh) = single_and_multi(&headers);
    json!({
        "headers": h,
        "multiValueHeaders": mh,
        "requestContext": req.context,
        "isBase64Encoded": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_event_has_aws_shape() {
        let api = ApiInfo {
            api_id: "u9jlm1pv1h".into(),
            stage: "api".into(),
            domain_name: "127.0.0.1:3001".into(),
        };
        let conn = ConnectionInfo {
            connection_id: "SOqGjdZioAMCEeg=".into(),
            connected_at: 1_652_722_217_711,
            source_ip: "127.0.0.1".into(),
            user_agent: Some("wscat".into()),
            authorizer: None,
        };
        let req = request(
            &api,
            &conn,
            &EventKind::Message {
                route_key: "$default",
            },
        );
        let ev = message_event(req.context, "hi");
        let rc = &ev["requestContext"];
        for key in [
            "routeKey",
            "messageId",
            "eventType",
            "extendedRequestId",
            "requestTime",
            "messageDirection",
            "stage",
            "connectedAt",
            "requestTimeEpoch",
            "identity",
            "requestId",
            "domainName",
            "connectionId",
            "apiId",
        ] {
            assert!(rc.get(key).is_some(), "missing {key}");
        }
        assert_eq!(rc.as_object().unwrap().len(), 14);
        assert_eq!(rc["eventType"], "MESSAGE");
        assert_eq!(rc["identity"], json!({"sourceIp": "127.0.0.1"}));
        assert_eq!(ev["body"], "hi");
        assert_eq!(ev["isBase64Encoded"], false);

        let req = request(
            &api,
            &conn,
            &EventKind::Disconnect {
                status_code: 1001,
                reason: "Going away",
            },
        );
        let ev = disconnect_event(&req, &api, &conn);
        assert_eq!(ev["requestContext"]["disconnectStatusCode"], 1001);
        assert_eq!(ev["requestContext"]["identity"]["userAgent"], "wscat");
        assert!(ev["requestContext"].get("messageId").is_none());
    }
}
