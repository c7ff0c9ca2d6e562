//! The authorizer against tokens minted with `jsonwebtoken`: valid, forged, expired, absent.

use jsonwebtoken::{EncodingKey, Header, encode};
use jwt_authorizer::{AuthorizerError, Verifier, handle};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::{Value, json};

const SECRET: &str = "local-test-secret";
const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:wsflowlocl/api/$connect";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn mint(secret: &str, claims: Value) -> String {
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn event(query: Value, headers: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(
        json!({
            "type": "REQUEST",
            "methodArn": ARN,
            "headers": headers,
            "multiValueHeaders": {},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {},
            "stageVariables": {},
            "requestContext": {"routeKey": "$connect", "eventType": "CONNECT"}
        }),
        Context::default(),
    )
}

fn effect(v: &Value) -> &str {
    v["policyDocument"]["Statement"][0]["Effect"]
        .as_str()
        .unwrap()
}

#[tokio::test]
async fn a_valid_query_token_is_allowed_as_its_subject() {
    let v = Verifier::new(Some(SECRET));
    let token = mint(SECRET, json!({"sub": "alice", "exp": now() + 300}));
    let out = handle(&v, event(json!({"token": token}), json!({})))
        .await
        .unwrap();
    assert_eq!(effect(&out), "Allow");
    assert_eq!(out["principalId"], "alice");
    assert_eq!(out["policyDocument"]["Statement"][0]["Resource"], ARN);
    assert_eq!(
        out["policyDocument"]["Statement"][0]["Action"],
        "execute-api:Invoke"
    );
    assert_eq!(out["context"]["sub"], "alice");
}

#[tokio::test]
async fn a_bearer_header_works_too() {
    let v = Verifier::new(Some(SECRET));
    let token = mint(SECRET, json!({"sub": "bob", "exp": now() + 300}));
    let out = handle(
        &v,
        event(
            json!({}),
            json!({"authorization": format!("Bearer {token}")}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(effect(&out), "Allow");
    assert_eq!(out["principalId"], "bob");
}

#[tokio::test]
async fn forged_expired_and_subjectless_tokens_are_denied() {
    let v = Verifier::new(Some(SECRET));
    for token in [
        mint(
            "another-secret",
            json!({"sub": "alice", "exp": now() + 300}),
        ),
        mint(SECRET, json!({"sub": "alice", "exp": now() - 60})),
        mint(SECRET, json!({"sub": "alice"})),
        mint(SECRET, json!({"exp": now() + 300})),
        "not.a.jwt".to_owned(),
    ] {
        let out = handle(&v, event(json!({"token": token}), json!({})))
            .await
            .unwrap();
        assert_eq!(effect(&out), "Deny", "{token}");
        assert!(out.get("context").is_none());
    }
    // Another algorithm than HS256 is refused even with the right secret.
    let hs512 = encode(
        &Header::new(jsonwebtoken::Algorithm::HS512),
        &json!({"sub": "alice", "exp": now() + 300}),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let out = handle(&v, event(json!({"token": hs512}), json!({})))
        .await
        .unwrap();
    assert_eq!(effect(&out), "Deny");
}

#[tokio::test]
async fn no_token_is_unauthorized_and_no_secret_is_a_configuration_error() {
    let v = Verifier::new(Some(SECRET));
    let err = handle(&v, event(json!({}), json!({"Authorization": "Basic x"})))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthorizerError::Unauthorized));
    let d = Diagnostic::from(err);
    // API Gateway answers 401 to exactly this message.
    assert_eq!(d.error_message, "Unauthorized");

    let unconfigured = Verifier::new(Some(""));
    let token = mint(SECRET, json!({"sub": "alice", "exp": now() + 300}));
    let err = handle(&unconfigured, event(json!({"token": token}), json!({})))
        .await
        .unwrap_err();
    assert_eq!(Diagnostic::from(err).error_type, "ConfigurationError");

    let mut not_an_authorizer_event = event(json!({}), json!({}));
    not_an_authorizer_event.payload = json!({"body": "x"});
    assert!(matches!(
        handle(&v, not_an_authorizer_event).await,
        Err(AuthorizerError::InvalidEvent)
    ));
}
