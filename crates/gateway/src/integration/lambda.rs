//! `AWS_PROXY` integrations: the proxy event goes to the function, and its
//! result is read as API Gateway reads a WebSocket proxy result.
//!
//! * `{"statusCode": …, "body": …, "headers": …}` (any of the keys): the
//!   status decides `$connect`; a two-way route sends `body` (a string as
//!   is, anything else as JSON text; no `body`, nothing is sent);
//! * any other JSON value: status 200 and the value's JSON text is the body
//!   (as API Gateway does for proxy results without `statusCode`);
//! * `null` (a handler returning nothing): status 200, nothing sent;
//! * a function error or an invoke failure: `Internal server error`.

use std::sync::Arc;

use serde_json::Value;
use wsflow_aws_wire::{LambdaInvokeError, LambdaInvoker};

use super::Outcome;

pub(crate) struct LambdaIntegration {
    pub(crate) function: String,
    pub(crate) invoker: Arc<dyn LambdaInvoker>,
}

impl LambdaIntegration {
    pub(crate) async fn call(&self, event: Value) -> Outcome {
        match self.invoker.invoke(&self.function, event).await {
            Ok(result) => read_proxy_result(result),
            Err(LambdaInvokeError::Function { payload }) => {
                Outcome::Failed(format!("function {} failed: {payload}", self.function))
            }
            Err(LambdaInvokeError::Service(e)) => {
                Outcome::Failed(format!("invoking {}: {e}", self.function))
            }
        }
    }
}

/// Reads a WebSocket Lambda proxy result.
pub(crate) fn read_proxy_result(result: Value) -> Outcome {
    match result {
        Value::Null => Outcome::Response {
            status: 200,
            body: None,
            headers: Vec::new(),
        },
        Value::Object(mut map) if map.contains_key("statusCode") || map.contains_key("body") => {
            let status = match map.get("statusCode") {
                Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                Some(Value::String(s)) => s.parse().ok(),
                None => Some(200),
                Some(_) => None,
            };
            let Some(status) = status else {
                return Outcome::Failed("malformed Lambda proxy response: bad statusCode".into());
            };
            let body = match map.remove("body") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s),
                Some(other) => Some(other.to_string()),
            };
            let headers = match map.get("headers") {
                Some(Value::Object(h)) => h
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect(),
                _ => Vec::new(),
            };
            Outcome::Response {
                status,
                body,
                headers,
            }
        }
        other => Outcome::Response {
            status: 200,
            body: Some(other.to_string()),
            headers: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_proxy_results() {
        let r = read_proxy_result(json!({"statusCode": 200, "body": "hi"}));
        assert!(matches!(r, Outcome::Response { status: 200, body: Some(ref b), .. } if b == "hi"));
        let r = read_proxy_result(json!({"statusCode": 401}));
        assert!(matches!(
            r,
            Outcome::Response {
                status: 401,
                body: None,
                ..
            }
        ));
        let r = read_proxy_result(json!({"statusCode": "403", "body": {"a": 1}}));
        assert!(
            matches!(r, Outcome::Response { status: 403, body: Some(ref b), .. } if b == r#"{"a":1}"#)
        );
        let r = read_proxy_result(json!({"hello": "x"}));
        assert!(
            matches!(r, Outcome::Response { status: 200, body: Some(ref b), .. } if b == r#"{"hello":"x"}"#)
        );
        assert!(matches!(
            read_proxy_result(Value::Null),
            Outcome::Response { body: None, .. }
        ));
        assert!(matches!(
            read_proxy_result(json!({"statusCode": [1]})),
            Outcome::Failed(_)
        ));
    }
}
