//! `arn:aws:states:::apigateway:invoke`: a real HTTP request.
//!
//! Parameters `ApiEndpoint`, `Method`, `Stage`, `Path`, `QueryParameters`,
//! `Headers` (name → list of values), `RequestBody` (JSON is sent as JSON
//! text), `AuthType` (accepted, not enforced: the local stack signs nothing).
//! The request goes to the stack's own edge (`SfnOptions::endpoint`) at
//! `/<Stage><Path>` with `Host: <ApiEndpoint>`, which is where the local
//! `@connections` API lives, so a workflow that POSTs to
//! `@connections/{id}` reaches the WebSocket client.
//!
//! The result is `{Headers, ResponseBody, StatusCode, StatusText}`;
//! `ResponseBody` is JSON when the body parses as JSON, else text. Status
//! 4xx/5xx fails the task with `ApiGateway.<status>` (as AWS does) and the
//! response body as cause; a connection failure is `ApiGateway.ConnectException`.

use bytes::Bytes;
use http_body_util::Full;
use serde_json::{Map, Value, json};
use wsflow_asl::TaskFailure;

use super::required_str;
use crate::service::Inner;

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

fn runtime(msg: impl Into<String>) -> TaskFailure {
    TaskFailure::new("States.Runtime", msg)
}

/// Percent-encodes what may not appear in a URI path or query as is.
fn encode(s: &str, query: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~!$'()*,;:@".contains(&b)
            || (!query && b"/=+&%".contains(&b));
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Values of a `{name: [values]}` map (a bare string counts as one value).
fn multi_values(v: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(obj) = v.as_object() {
        for (k, vals) in obj {
            match vals {
                Value::Array(a) => out.extend(a.iter().map(|x| (k.clone(), text(x)))),
                other => out.push((k.clone(), text(other))),
            }
        }
    }
    out
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Builds the request URL path and query.
pub(crate) fn request_target(params: &Value) -> String {
    let mut target = String::new();
    if let Some(stage) = params
        .get("Stage")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        target.push('/');
        target.push_str(&encode(stage.trim_matches('/'), false));
    }
    if let Some(path) = params
        .get("Path")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        if !path.starts_with('/') {
            target.push('/');
        }
        target.push_str(&encode(path, false));
    }
    if target.is_empty() {
        target.push('/');
    }
    let query: Vec<String> = params
        .get("QueryParameters")
        .map(multi_values)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| format!("{}={}", encode(&k, true), encode(&v, true)))
        .collect();
    if !query.is_empty() {
        target.push('?');
        target.push_str(&query.join("&"));
    }
    target
}

/// Runs one `apigateway:invoke` task.
pub(crate) async fn invoke(inner: &Inner, params: Value) -> Result<Value, TaskFailure> {
    let api_endpoint = required_str(&params, "ApiEndpoint")?;
    let method = required_str(&params, "Method")?.to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(runtime(format!(
            "Method '{method}' is not one of {METHODS:?}"
        )));
    }
    let url = format!(
        "{}{}",
        inner.endpoint.trim_end_matches('/'),
        request_target(&params)
    );
    let body = match params.get("RequestBody") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) => Bytes::from(s.clone()),
        Some(v) => Bytes::from(v.to_string()),
    };
    let mut req = hyper::Request::builder().method(method.as_str()).uri(&url);
    let mut has_content_type = false;
    for (k, v) in params.get("Headers").map(multi_values).unwrap_or_default() {
        has_content_type |= k.eq_ignore_ascii_case("content-type");
        req = req.header(k, v);
    }
    if !has_content_type && !body.is_empty() {
        req = req.header("content-type", "application/json");
    }
    req = req.header("host", api_endpoint);
    let req = req
        .body(Full::new(body))
        .map_err(|e| runtime(format!("invalid apigateway:invoke request: {e}")))?;
    let resp = inner.http.send(req).await.map_err(|e| TaskFailure {
        error: "ApiGateway.ConnectException".into(),
        cause: Some(format!("{url}: {e}")),
    })?;
    let body_text = String::from_utf8_lossy(&resp.body).into_owned();
    if resp.status >= 400 {
        return Err(TaskFailure {
            error: format!("ApiGateway.{}", resp.status),
            cause: Some(body_text),
        });
    }
    let mut headers = Map::new();
    for (k, v) in resp.headers {
        let entry = headers.entry(k).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(a) = entry {
            a.push(Value::String(v));
        }
    }
    let response_body =
        serde_json::from_str::<Value>(&body_text).unwrap_or(Value::String(body_text));
    let status_text = hyper::StatusCode::from_u16(resp.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    Ok(json!({
        "Headers": headers,
        "ResponseBody": response_body,
        "StatusCode": resp.status,
        "StatusText": status_text,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_targets() {
        let p = json!({"Stage": "prod", "Path": "@connections/abc=="});
        assert_eq!(request_target(&p), "/prod/@connections/abc==");
        let p = json!({"Path": "a b", "QueryParameters": {"k": ["v 1", "x&y"]}});
        assert_eq!(request_target(&p), "/a%20b?k=v%201&k=x%26y");
        assert_eq!(request_target(&json!({})), "/");
    }
}
