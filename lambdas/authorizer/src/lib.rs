//! The `$connect` authorizer (a Lambda `REQUEST` authorizer, template parameter `AuthMode=jwt`).
//!
//! It reads an HS256 JSON Web Token from the `token` query string parameter (browsers cannot set
//! headers on a WebSocket) or, failing that, an `Authorization: Bearer <token>` header, and
//! checks it with the secret in `JWT_SECRET` (the template's `NoEcho` `AuthSecret` parameter):
//!
//! * a valid signature and an `exp` in the future → an IAM policy allowing
//!   `execute-api:Invoke` on the event's `methodArn`, `principalId` = the token's `sub`, and
//!   `context.sub`;
//! * a bad signature, an expired token, no `exp`, no `sub`, a malformed token → a `Deny`
//!   policy, which API Gateway answers with `403`;
//! * no token at all → the error `Unauthorized`, which API Gateway answers with `401`.
//!
//! Verification is the `jsonwebtoken` crate's (HS256 only: a token naming another algorithm is
//! refused). The token and the secret are never logged.
#![warn(missing_docs)]

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Deserialize;
use serde_json::{Value, json};

/// The environment variable holding the HS256 secret.
pub const SECRET_VARIABLE: &str = "JWT_SECRET";

/// Seconds of clock skew tolerated on `exp`.
const LEEWAY_SECONDS: u64 = 5;

/// Why the authorizer did not return a policy.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizerError {
    /// No token: API Gateway answers `401` to exactly this error message.
    #[error("Unauthorized")]
    Unauthorized,
    /// `JWT_SECRET` is missing or empty.
    #[error("configuration error: {SECRET_VARIABLE} is not set")]
    NoSecret,
    /// The event has no `methodArn`: not an authorizer event.
    #[error("invalid event: no methodArn")]
    InvalidEvent,
}

impl From<AuthorizerError> for Diagnostic {
    fn from(err: AuthorizerError) -> Self {
        let error_type = match err {
            AuthorizerError::Unauthorized => "Unauthorized",
            AuthorizerError::NoSecret => "ConfigurationError",
            AuthorizerError::InvalidEvent => "InvalidEvent",
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: err.to_string(),
        }
    }
}

/// The verifier, built once per execution environment.
pub struct Verifier {
    key: Option<DecodingKey>,
    validation: Validation,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("configured", &self.key.is_some())
            .finish()
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
}

impl Verifier {
    /// A verifier for `secret` (`None` or empty: every token fails with a configuration error).
    pub fn new(secret: Option<&str>) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            key: secret
                .filter(|s| !s.is_empty())
                .map(|s| DecodingKey::from_secret(s.as_bytes())),
            validation,
        }
    }

    /// The verifier configured from `JWT_SECRET`.
    pub fn from_env() -> Self {
        Self::new(std::env::var(SECRET_VARIABLE).ok().as_deref())
    }

    /// `Some(sub)` when `token` is valid.
    pub fn subject(&self, token: &str) -> Result<Option<String>, AuthorizerError> {
        let key = self.key.as_ref().ok_or(AuthorizerError::NoSecret)?;
        match decode::<Claims>(token, key, &self.validation) {
            Ok(data) if !data.claims.sub.is_empty() => Ok(Some(data.claims.sub)),
            Ok(_) => Ok(None),
            Err(e) => {
                tracing::info!(reason = %e, "token refused");
                Ok(None)
            }
        }
    }
}

/// The token of an authorizer event: `?token=…`, else `Authorization: Bearer …`.
pub fn token(event: &Value) -> Option<String> {
    let query = event
        .get("queryStringParameters")
        .and_then(|q| q.get("token"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty());
    if let Some(t) = query {
        return Some(t.to_owned());
    }
    let headers = event.get("headers").and_then(Value::as_object)?;
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.as_str())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// The authorizer response: an IAM policy for `method_arn`.
pub fn policy(principal_id: &str, allow: bool, method_arn: &str) -> Value {
    let mut response = json!({
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{
                "Action": "execute-api:Invoke",
                "Effect": if allow { "Allow" } else { "Deny" },
                "Resource": method_arn,
            }],
        },
    });
    if allow {
        response["context"] = json!({ "sub": principal_id });
    }
    response
}

/// Authorizes one `$connect`.
pub async fn handle(
    verifier: &Verifier,
    event: LambdaEvent<Value>,
) -> Result<Value, AuthorizerError> {
    let payload = event.payload;
    let method_arn = payload
        .get("methodArn")
        .and_then(Value::as_str)
        .ok_or(AuthorizerError::InvalidEvent)?;
    let Some(token) = token(&payload) else {
        tracing::info!("no token: Unauthorized");
        return Err(AuthorizerError::Unauthorized);
    };
    Ok(match verifier.subject(&token)? {
        Some(sub) => {
            tracing::info!(principal_id = %sub, "allowed");
            policy(&sub, true, method_arn)
        }
        None => policy("anonymous", false, method_arn),
    })
}
