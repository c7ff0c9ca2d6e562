//! `$connect` authorization, before the WebSocket upgrade: a `REQUEST`
//! Lambda authorizer (`AuthorizationType: CUSTOM`) or SigV4 (`AWS_IAM`).
//!
//! * [`identity`]: identity sources; one missing → `401`, function not called;
//! * [`event`]: the authorizer event, in AWS's recorded shape;
//! * [`policy`]: the returned IAM policy, evaluated for
//!   `execute-api:Invoke` on the `methodArn`;
//! * [`sigv4`]: query-string SigV4 verification.
//!
//! Outcomes, as API Gateway answers the handshake: Allow → the handshake
//! goes on to `$connect`; Deny (explicit or implicit) → `403
//! {"message":"Forbidden"}`; the function failing with the message
//! `Unauthorized` → `401 {"message":"Unauthorized"}`; any other failure (a
//! function error, a timeout, a result without a policy or a `principalId`, a `context` value
//! that is an object or a list) → `500 {"message":"Internal server
//! error"}`.
//!
//! On Allow, `principalId` and the policy's `context` (values as strings, as
//! API Gateway passes them on) become `requestContext.authorizer` of every
//! later event of the connection (`$connect`, messages, `$disconnect`) and
//! `$context.authorizer.*` in mapping templates.
//!
//! Caching: none. `AuthorizerResultTtlInSeconds` applies to HTTP API
//! authorizers only; a WebSocket API calls its authorizer on every
//! `$connect`, and so does this gateway.

pub(crate) mod event;
pub(crate) mod identity;
pub(crate) mod policy;
pub(crate) mod sigv4;

use std::{sync::Arc, time::Duration};

use serde_json::{Map, Value};
use tracing::{debug, warn};
use wsflow_aws_wire::{LambdaInvokeError, LambdaInvoker};

use crate::{
    GatewayError,
    config::{ApiConfig, ConnectAuthorization, IamCredential},
};

/// Why a handshake is refused, as the status API Gateway answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `401 {"message":"Unauthorized"}`.
    Unauthorized,
    /// `403 {"message":"Forbidden"}`.
    Forbidden,
    /// `500 {"message":"Internal server error"}`.
    InternalError,
}

/// The compiled `$connect` authorization.
pub(crate) enum Authorization {
    None,
    Lambda(LambdaAuthorizer),
    Iam { credentials: Vec<IamCredential> },
}

pub(crate) struct LambdaAuthorizer {
    name: String,
    function: String,
    sources: Vec<identity::Source>,
    invoker: Arc<dyn LambdaInvoker>,
    method_arn: String,
}

/// What the handshake hands the authorizer.
pub(crate) struct HandshakeRequest<'a> {
    /// The path as received (percent-encoded).
    pub path: &'a str,
    /// The raw query string.
    pub raw_query: Option<&'a str>,
    /// The decoded query parameters.
    pub query: &'a [(String, String)],
    /// `$connect`'s event headers (title-cased, with API Gateway's own).
    pub connect_headers: &'a [(String, String)],
    /// The client's headers as sent (lower-case names).
    pub raw_headers: &'a [(String, String)],
    /// The `$connect` request context.
    pub context: &'a Map<String, Value>,
}

impl Authorization {
    pub(crate) fn compile(
        config: &ApiConfig,
        invoker: &Arc<dyn LambdaInvoker>,
    ) -> Result<Self, GatewayError> {
        Ok(match &config.connect_authorization {
            ConnectAuthorization::None => Self::None,
            ConnectAuthorization::Iam(iam) => Self::Iam {
                credentials: iam.credentials.clone(),
            },
            ConnectAuthorization::Lambda(a) => {
                let sources = a
                    .identity_sources
                    .iter()
                    .map(|s| identity::Source::parse(s))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| GatewayError::Integration {
                        route_key: "$connect".into(),
                        reason: format!("authorizer {}: {e}", a.name),
                    })?;
                Self::Lambda(LambdaAuthorizer {
                    name: a.name.clone(),
                    function: a.function.clone(),
                    sources,
                    invoker: Arc::clone(invoker),
                    method_arn: event::method_arn(&config.account, &config.api_id, &config.stage),
                })
            }
        })
    }

    /// Authorizes a handshake: `Ok(Some(authorizer))` is the
    /// `requestContext.authorizer` object of the connection.
    pub(crate) async fn authorize(
        &self,
        req: &HandshakeRequest<'_>,
        region: &str,
        timeout: Duration,
    ) -> Result<Option<Map<String, Value>>, Refusal> {
        match self {
            Self::None => Ok(None),
            Self::Iam { credentials } if credentials.is_empty() => Ok(None),
            Self::Iam { credentials } => {
                let request = sigv4::Request {
                    method: "GET",
                    path: req.path,
                    query: req.raw_query.unwrap_or(""),
                    headers: req.raw_headers,
                };
                match sigv4::verify(&request, credentials, region, std::time::SystemTime::now()) {
                    Ok(key) => {
                        debug!(access_key_id = %key, "AWS_IAM handshake signature valid");
                        Ok(None)
                    }
                    Err(e) => {
                        debug!(error = %e, "AWS_IAM handshake refused");
                        Err(Refusal::Forbidden)
                    }
                }
            }
            Self::Lambda(a) => a.authorize(req, timeout).await,
        }
    }
}

impl LambdaAuthorizer {
    async fn authorize(
        &self,
        req: &HandshakeRequest<'_>,
        timeout: Duration,
    ) -> Result<Option<Map<String, Value>>, Refusal> {
        let stage_variables = Map::new();
        if let Some(missing) = self.sources.iter().find(|s| {
            !s.present(
                req.connect_headers,
                req.query,
                &stage_variables,
                req.context,
            )
        }) {
            debug!(authorizer = %self.name, source = ?missing, "identity source missing: 401");
            return Err(Refusal::Unauthorized);
        }
        let raw = |name: &str| {
            req.raw_headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let headers = event::headers(req.connect_headers, raw("connection"), raw("upgrade"));
        let ev = event::build(
            &self.method_arn,
            &headers,
            req.query,
            &stage_variables,
            req.context,
        );
        let started = std::time::Instant::now();
        let result = tokio::time::timeout(timeout, self.invoker.invoke(&self.function, ev)).await;
        let latency = started.elapsed().as_millis() as u64;
        let output = match result {
            Err(_) => {
                warn!(authorizer = %self.name, "authorizer timed out");
                return Err(Refusal::InternalError);
            }
            Ok(Err(LambdaInvokeError::Function { payload }))
                if payload.get("errorMessage").and_then(Value::as_str) == Some("Unauthorized") =>
            {
                return Err(Refusal::Unauthorized);
            }
            Ok(Err(e)) => {
                warn!(authorizer = %self.name, error = %e, "authorizer failed");
                return Err(Refusal::InternalError);
            }
            Ok(Ok(output)) => output,
        };
        match read_result(&output, &self.method_arn) {
            Ok(Some(mut authorizer)) => {
                authorizer.insert("integrationLatency".into(), latency.into());
                Ok(Some(authorizer))
            }
            Ok(None) => Err(Refusal::Forbidden),
            Err(reason) => {
                warn!(authorizer = %self.name, %reason, "invalid authorizer result");
                Err(Refusal::InternalError)
            }
        }
    }
}

/// Reads an authorizer's result: `Ok(Some(requestContext.authorizer))` on
/// Allow, `Ok(None)` on Deny, `Err` when the result is not a valid
/// authorizer response.
pub(crate) fn read_result(
    output: &Value,
    method_arn: &str,
) -> Result<Option<Map<String, Value>>, String> {
    let Some(obj) = output.as_object() else {
        return Err("the result is not a JSON object".into());
    };
    let document = obj
        .get("policyDocument")
        .ok_or("the result has no policyDocument")?;
    let decision =
        policy::evaluate(document, policy::INVOKE, method_arn).map_err(|e| e.to_string())?;
    let mut authorizer = Map::new();
    // "A Lambda authorizer function's output must include the principal
    // identifier (principalId) [...] If the Lambda function does not return
    // that information, the call fails." (API Gateway developer guide)
    match obj.get("principalId") {
        None | Some(Value::Null) => return Err("the result has no principalId".into()),
        Some(Value::String(s)) => {
            authorizer.insert("principalId".into(), s.clone().into());
        }
        Some(Value::Number(n)) => {
            authorizer.insert("principalId".into(), n.to_string().into());
        }
        Some(_) => return Err("principalId must be a string".into()),
    }
    match obj.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(context)) => {
            for (k, v) in context {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(_) | Value::Bool(_) => v.to_string(),
                    Value::Null => continue,
                    _ => return Err(format!("context.{k} must be a string, number or boolean")),
                };
                authorizer.insert(k.clone(), text.into());
            }
        }
        Some(_) => return Err("context must be an object".into()),
    }
    Ok(match decision {
        policy::Decision::Allow => Some(authorizer),
        policy::Decision::ExplicitDeny | policy::Decision::ImplicitDeny => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:wsflowlocl/api/$connect";

    #[test]
    fn reads_allow_deny_and_context() {
        let allow = json!({
            "principalId": "me",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ARN}]},
            "context": {"stringKey": "stringval", "numberKey": 123, "booleanKey": true}
        });
        let a = read_result(&allow, ARN).unwrap().unwrap();
        assert_eq!(
            Value::Object(a),
            json!({"principalId": "me", "stringKey": "stringval", "numberKey": "123", "booleanKey": "true"})
        );
        let deny_path =
            "../../../shared/aws-fixtures/authorizer-response.aws-docs.deny-example.json";
        let deny: Value = serde_json::from_str(
            &std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(deny_path),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(read_result(&deny, ARN), Ok(None));
        for bad in [
            json!("Allow"),
            json!({"principalId": "me"}),
            json!({"principalId": ["me"], "policyDocument": {"Statement": []}}),
            json!({"policyDocument": {"Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ARN}]}}),
            json!({"principalId": "me", "policyDocument": {"Statement": []}, "context": {"a": {"b": 1}}}),
            json!({"principalId": "me", "policyDocument": {"Statement": []}, "context": "x"}),
        ] {
            assert!(read_result(&bad, ARN).is_err(), "{bad}");
        }
    }
}
