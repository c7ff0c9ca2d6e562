//! The routes against an in-memory invoker (the end-to-end tests against a
//! real stack, the aws CLI and boto3 are in the workspace's `tests/`).

use std::sync::{Arc, Mutex};

use axum::{
    body::{Body, to_bytes},
    http::{Request, StatusCode},
};
use serde_json::{Value, json};
use tower::ServiceExt;
use wsflow_aws_wire::{Account, BoxFuture, LambdaInvokeError, LambdaInvoker};

use super::*;

/// Echoes the payload, fails when it has `"fail"`, records every call.
#[derive(Default)]
struct Fake {
    calls: Mutex<Vec<(String, Value)>>,
}

impl LambdaInvoker for Fake {
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        payload: Value,
    ) -> BoxFuture<'a, Result<Value, LambdaInvokeError>> {
        Box::pin(async move {
            self.calls
                .lock()
                .unwrap()
                .push((function.to_owned(), payload.clone()));
            if payload.get("fail").is_some() {
                return Err(LambdaInvokeError::Function {
                    payload: json!({"errorType": "Boom", "errorMessage": "failed"}),
                });
            }
            Ok(json!({ "echo": payload }))
        })
    }
}

fn api(fake: Arc<Fake>) -> Router {
    let functions = ["b-fn", "a-fn", "c-fn"]
        .into_iter()
        .map(|n| FunctionConfig {
            name: n.into(),
            runtime: "provided.al2023".into(),
            handler: "bootstrap".into(),
            timeout_seconds: 3,
            memory_mb: 128,
            ..FunctionConfig::default()
        })
        .collect();
    LambdaApi::new(Account::default(), functions, fake).router()
}

async fn call(
    router: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = router
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn request_response_returns_the_payload_or_the_function_error() {
    let fake = Arc::new(Fake::default());
    let r = api(fake.clone());
    let (status, headers, body) = call(
        &r,
        "POST",
        "/2015-03-31/functions/a-fn/invocations",
        &[],
        r#"{"x":1}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"echo": {"x": 1}})
    );
    assert!(headers.get("x-amz-function-error").is_none());
    assert_eq!(headers["x-amz-executed-version"], "$LATEST");

    let arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ab-fn";
    let (status, headers, body) = call(
        &r,
        "POST",
        &format!("/2015-03-31/functions/{arn}/invocations"),
        &[("x-amz-invocation-type", "RequestResponse")],
        r#"{"fail":true}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-amz-function-error"], "Unhandled");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["errorType"],
        "Boom"
    );
    let calls = fake.calls.lock().unwrap().clone();
    assert_eq!(calls[0].0, "a-fn");
    assert_eq!(calls[1].0, "b-fn");
}

#[tokio::test]
async fn empty_payload_is_an_empty_object_and_bad_json_is_refused() {
    let fake = Arc::new(Fake::default());
    let r = api(fake.clone());
    let (status, _, _) = call(
        &r,
        "POST",
        "/2015-03-31/functions/a-fn/invocations",
        &[],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fake.calls.lock().unwrap()[0].1, json!({}));
    let (status, headers, body) = call(
        &r,
        "POST",
        "/2015-03-31/functions/a-fn/invocations",
        &[],
        "{nope",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        headers["x-amzn-errortype"],
        "InvalidRequestContentException"
    );
    assert!(
        body.contains("Could not parse request body into json"),
        "{body}"
    );
    assert_eq!(fake.calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_functions_and_versions_are_not_found() {
    let r = api(Arc::new(Fake::default()));
    for (uri, arn) in [
        ("/2015-03-31/functions/nope/invocations", "function:nope"),
        (
            "/2015-03-31/functions/a-fn:3/invocations",
            "function:a-fn:3",
        ),
        (
            "/2015-03-31/functions/a-fn/invocations?Qualifier=live",
            "function:a-fn:live",
        ),
    ] {
        let (status, headers, body) = call(&r, "POST", uri, &[], "{}").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(headers["x-amzn-errortype"], "ResourceNotFoundException");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            body["message"],
            format!("Function not found: arn:aws:lambda:us-east-1:123456789012:{arn}")
        );
    }
    let (status, _, _) = call(&r, "GET", "/2015-03-31/functions/nope", &[], "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn event_is_accepted_and_runs_dry_run_does_not() {
    let fake = Arc::new(Fake::default());
    let r = api(fake.clone());
    let (status, _, _) = call(
        &r,
        "POST",
        "/2015-03-31/functions/a-fn/invocations",
        &[("x-amz-invocation-type", "DryRun")],
        "{}",
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, body) = call(
        &r,
        "POST",
        "/2015-03-31/functions/a-fn/invocations",
        &[("x-amz-invocation-type", "Event")],
        r#"{"n":2}"#,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body, "");
    for _ in 0..100 {
        if !fake.calls.lock().unwrap().is_empty() {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(
        fake.calls.lock().unwrap().clone(),
        vec![("a-fn".to_owned(), json!({"n": 2}))]
    );
    let (status, headers, _) = call(
        &r,
        "POST",
        "/2015-03-31/functions/a-fn/invocations",
        &[("x-amz-invocation-type", "Later")],
        "{}",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(headers["x-amzn-errortype"], "ValidationException");
}

#[tokio::test]
async fn list_pages_and_get_describes() {
    let r = api(Arc::new(Fake::default()));
    let (status, _, body) = call(&r, "GET", "/2015-03-31/functions/?MaxItems=2", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    let page: Value = serde_json::from_str(&body).unwrap();
    let names: Vec<_> = page["Functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["FunctionName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["a-fn", "b-fn"]);
    assert_eq!(page["NextMarker"], "b-fn");
    let (_, _, body) = call(&r, "GET", "/2015-03-31/functions/?Marker=b-fn", &[], "").await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["Functions"][0]["FunctionName"], "c-fn");
    assert!(page.get("NextMarker").is_none());

    let (status, _, body) = call(
        &r,
        "GET",
        "/2015-03-31/functions/123456789012%3Afunction%3Ac-fn",
        &[],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let got: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        got["Configuration"]["FunctionArn"],
        "arn:aws:lambda:us-east-1:123456789012:function:c-fn"
    );
    assert_eq!(got["Configuration"]["Runtime"], "provided.al2023");
    assert_eq!(got["Configuration"]["Timeout"], 3);
}

#[tokio::test]
async fn other_operations_get_a_clear_not_implemented() {
    let router = api(Arc::new(Fake::default()));
    for (method, uri) in [
        ("DELETE", "/2015-03-31/functions/a-fn"),
        ("POST", "/2015-03-31/functions"),
        ("PUT", "/2015-03-31/functions/a-fn/code"),
        ("PUT", "/2015-03-31/functions/a-fn/configuration"),
        ("GET", "/2015-03-31/functions/a-fn/invocations"),
    ] {
        let (status, headers, body) = call(&router, method, uri, &[], "").await;
        assert_eq!(status, 501, "{method} {uri}: {body}");
        assert_eq!(headers["x-amzn-errortype"], "NotImplemented");
        let body: Value = serde_json::from_str(&body).unwrap();
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(&format!("{method} {uri}")), "{message}");
        assert!(message.contains("Invoke, ListFunctions"), "{message}");
    }
}

#[tokio::test]
async fn get_function_gives_the_code_location() {
    let fake = Arc::new(Fake::default());
    let functions = vec![FunctionConfig {
        name: "with-code".into(),
        runtime: "python3.12".into(),
        handler: "app.handler".into(),
        code_location: Some("file:///srv/app/src".into()),
        ..FunctionConfig::default()
    }];
    let router = LambdaApi::new(Account::default(), functions, fake).router();
    let (status, _, body) = call(&router, "GET", "/2015-03-31/functions/with-code", &[], "").await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["Code"],
        json!({"RepositoryType": "S3", "Location": "file:///srv/app/src"})
    );
    assert!(body["Configuration"].get("CodeLocation").is_none());
}

/// An invoker that never answers: asynchronous invocations pile up.
struct Stuck;

impl LambdaInvoker for Stuck {
    fn invoke<'a>(
        &'a self,
        _function: &'a str,
        _payload: Value,
    ) -> BoxFuture<'a, Result<Value, LambdaInvokeError>> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn asynchronous_invocations_are_bounded() {
    let functions = vec![FunctionConfig {
        name: "slow".into(),
        ..FunctionConfig::default()
    }];
    let router = LambdaApi::new(Account::default(), functions, Arc::new(Stuck)).router();
    let uri = "/2015-03-31/functions/slow/invocations";
    let event = [("x-amz-invocation-type", "Event")];
    for i in 0..crate::invoke::MAX_PENDING_EVENTS {
        let (status, _, body) = call(&router, "POST", uri, &event, "{}").await;
        assert_eq!(status, 202, "event {i}: {body}");
    }
    let (status, headers, body) = call(&router, "POST", uri, &event, "{}").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(headers["x-amzn-errortype"], "TooManyRequestsException");
    // Synchronous invocations are not refused by the asynchronous bound.
    let (status, _, _) = call(
        &router,
        "POST",
        uri,
        &[("x-amz-invocation-type", "DryRun")],
        "{}",
    )
    .await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn set_functions_replaces_what_is_listed_and_described() {
    let fake = Arc::new(Fake::default());
    let api = LambdaApi::new(
        Account::default(),
        vec![FunctionConfig {
            name: "old-fn".into(),
            timeout_seconds: 3,
            ..FunctionConfig::default()
        }],
        fake,
    );
    let r = api.router();
    api.set_functions(vec![FunctionConfig {
        name: "new-fn".into(),
        timeout_seconds: 9,
        ..FunctionConfig::default()
    }]);
    let (_, _, body) = call(&r, "GET", "/2015-03-31/functions/", &[], "").await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["Functions"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["Functions"][0]["FunctionName"], "new-fn");
    assert_eq!(page["Functions"][0]["Timeout"], 9);
    let (status, _, _) = call(&r, "GET", "/2015-03-31/functions/old-fn", &[], "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
