//! Over real HTTP: the AWS SDK for Rust against the service behind a tiny
//! `X-Amz-Target` router (the stack's real edge router lives in the root
//! package), and `apigateway:invoke` against a real HTTP server.

mod common;

use std::sync::{Arc, Mutex};

use aws_sdk_sfn::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_sfn::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_sfn::error::BoxError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::*;
use serde_json::{Value, json};
use wsflow_aws_wire::{AwsService, Protocol, ServiceRequest};
use wsflow_sfn::MachineType::{Express, Standard};
use wsflow_sfn::StepFunctions;

async fn route(State(svc): State<StepFunctions>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(("AWSStepFunctions", op)) = target.split_once('.') else {
        return (StatusCode::BAD_REQUEST, "unknown target").into_response();
    };
    let req = ServiceRequest {
        operation: op.to_owned(),
        protocol: Protocol::Json,
        body: body.to_vec(),
    };
    match svc.call(req).await {
        Ok(r) => (
            StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK),
            [(header::CONTENT_TYPE, r.content_type)],
            r.body,
        )
            .into_response(),
        Err(e) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
            e.json_body(svc.error_namespace()),
        )
            .into_response(),
    }
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// The Rust SDK prepends `sync-` to the host for StartSyncExecution (AWS's
/// `sync-states` endpoint) and, unlike boto3/JS, has no switch to turn host
/// prefixes off; against a local endpoint this interceptor removes it.
#[derive(Debug)]
struct StripSyncPrefix;

impl Intercept for StripSyncPrefix {
    fn name(&self) -> &'static str {
        "StripSyncPrefix"
    }
    fn modify_before_transmit(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = ctx.request().uri().replacen("://sync-", "://", 1);
        ctx.request_mut().set_uri(uri)?;
        Ok(())
    }
}

#[tokio::test]
async fn aws_sdk_for_rust_drives_the_service_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let def = json!({
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 5, "Next": "Echo"},
            "Echo": {"Type": "Task", "Resource": lambda_arn("Echo"), "End": true}
        }
    });
    let f = open(
        dir.path(),
        vec![
            spec("Sync", Express, def.clone()),
            spec("Std", Standard, def),
        ],
        0.0,
    );
    let endpoint = serve(
        axum::Router::new()
            .route("/", post(route))
            .with_state(f.svc.clone()),
    )
    .await;
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .interceptor(StripSyncPrefix)
        .build();
    let client = aws_sdk_sfn::Client::from_conf(config);

    let sync = client
        .start_sync_execution()
        .state_machine_arn(machine_arn("Sync"))
        .input(r#"{"data":"123456"}"#)
        .send()
        .await
        .expect("StartSyncExecution");
    assert_eq!(
        sync.status(),
        &aws_sdk_sfn::types::SyncExecutionStatus::Succeeded
    );
    assert_eq!(sync.output(), Some(r#"{"data":"123456"}"#));
    assert!(sync.stop_date().secs() >= sync.start_date().secs());
    assert!(sync.billing_details().is_some());

    let started = client
        .start_execution()
        .state_machine_arn(machine_arn("Std"))
        .name("sdk-1")
        .input("{}")
        .send()
        .await
        .expect("StartExecution");
    assert_eq!(
        started.execution_arn(),
        "arn:aws:states:us-east-1:123456789012:execution:Std:sdk-1"
    );
    let d = wait_done(&f.svc, started.execution_arn()).await;
    assert_eq!(d["status"], "SUCCEEDED");
    let described = client
        .describe_execution()
        .execution_arn(started.execution_arn())
        .send()
        .await
        .expect("DescribeExecution");
    assert_eq!(
        described.status(),
        &aws_sdk_sfn::types::ExecutionStatus::Succeeded
    );
    assert_eq!(described.name(), Some("sdk-1"));
    let history = client
        .get_execution_history()
        .execution_arn(started.execution_arn())
        .send()
        .await
        .expect("GetExecutionHistory");
    assert_eq!(
        history.events().first().map(|e| e.r#type()),
        Some(&aws_sdk_sfn::types::HistoryEventType::ExecutionStarted)
    );
    let listed = client
        .list_executions()
        .state_machine_arn(machine_arn("Std"))
        .send()
        .await
        .expect("ListExecutions");
    assert_eq!(listed.executions().len(), 1);

    let err = client
        .describe_execution()
        .execution_arn("arn:aws:states:us-east-1:123456789012:execution:Std:missing")
        .send()
        .await
        .expect_err("missing execution");
    assert!(err.into_service_error().is_execution_does_not_exist());
    let err = client
        .start_execution()
        .state_machine_arn(machine_arn("Std"))
        .name("bad name")
        .send()
        .await
        .expect_err("bad name");
    assert!(err.into_service_error().is_invalid_name());
}

type Posts = Arc<Mutex<Vec<(String, HeaderMap, String)>>>;

async fn connections(
    State(posts): State<Posts>,
    Path((stage, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if id == "gone" {
        return (StatusCode::GONE, r#"{"message":"GoneException"}"#).into_response();
    }
    posts
        .lock()
        .unwrap()
        .push((format!("{stage}/{id}"), headers, body));
    StatusCode::OK.into_response()
}

#[tokio::test]
async fn apigateway_invoke_posts_to_connections() {
    let posts: Posts = Arc::default();
    let endpoint = serve(
        axum::Router::new()
            .route("/{stage}/@connections/{id}", post(connections))
            .with_state(posts.clone()),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let def = json!({
        "StartAt": "Notify",
        "States": {
            "Notify": {
                "Type": "Task",
                "Resource": "arn:aws:states:::apigateway:invoke",
                "Parameters": {
                    "ApiEndpoint": "abc123.execute-api.us-east-1.amazonaws.com",
                    "Method": "POST",
                    "Stage": "prod",
                    "Path.$": "States.Format('/@connections/{}', $.connectionId)",
                    "RequestBody": {"message.$": "$.message"},
                    "AuthType": "IAM_ROLE"
                },
                "ResultSelector": {"status.$": "$.StatusCode", "text.$": "$.StatusText"},
                "ResultPath": "$.notified",
                "Next": "Gone"
            },
            "Gone": {
                "Type": "Task",
                "Resource": "arn:aws:states:::apigateway:invoke",
                "Parameters": {"ApiEndpoint": "abc123.execute-api.us-east-1.amazonaws.com", "Method": "POST", "Stage": "prod", "Path": "/@connections/gone", "RequestBody": "x"},
                "Catch": [{"ErrorEquals": ["ApiGateway.410"], "ResultPath": "$.gone", "Next": "Done"}],
                "End": true
            },
            "Done": {"Type": "Pass", "End": true}
        }
    });
    let f = open_with(
        dir.path(),
        vec![spec("Notify", Standard, def)],
        0.0,
        &endpoint,
    );
    let r = call(
        &f.svc,
        "StartExecution",
        json!({"stateMachineArn": machine_arn("Notify"), "input": "{\"connectionId\":\"Abc=\",\"message\":\"done\"}"}),
    )
    .await;
    let d = wait_done(&f.svc, r["executionArn"].as_str().unwrap()).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let out: Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
    assert_eq!(out["notified"], json!({"status": 200, "text": "OK"}));
    assert_eq!(out["gone"]["Error"], "ApiGateway.410");
    let posts = posts.lock().unwrap();
    assert_eq!(posts.len(), 1);
    let (path, headers, body) = &posts[0];
    assert_eq!(path, "prod/Abc=");
    assert_eq!(
        headers["host"],
        "abc123.execute-api.us-east-1.amazonaws.com"
    );
    assert_eq!(
        serde_json::from_str::<Value>(body).unwrap(),
        json!({"message": "done"})
    );
}
