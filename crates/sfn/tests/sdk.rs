//! Over real HTTP: the AWS SDK for Rust against the service (see
//! `sdk_http`), TestState, and `apigateway:invoke` against a real HTTP server.

mod common;
mod sdk_http;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::*;
use serde_json::{Value, json};
use wsflow_sfn::MachineType::{Express, Standard};

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
    let client = sdk_http::client(&sdk_http::serve_service(&f.svc).await);

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
    let endpoint = sdk_http::serve(
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

fn json_text(s: Option<&str>) -> Value {
    serde_json::from_str(s.expect("a JSON text field")).expect("valid JSON text")
}

#[tokio::test]
async fn test_state_through_the_aws_sdk() {
    use aws_sdk_sfn::types::{InspectionLevel, MockErrorOutput, MockInput, TestExecutionStatus};
    let dir = tempfile::tempdir().unwrap();
    let f = open(dir.path(), vec![], 0.0);
    let client = sdk_http::client(&sdk_http::serve_service(&f.svc).await);
    let role = "arn:aws:iam::123456789012:role/test";

    // A mocked result: the integration is not called.
    let task = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": lambda_arn("Echo"), "Payload.$": "$"},
        "ResultSelector": {"body.$": "$.Payload"},
        "Next": "Store"
    });
    let r = client
        .test_state()
        .definition(task.to_string())
        .role_arn(role)
        .input(r#"{"a":1}"#)
        .mock(
            MockInput::builder()
                .result(r#"{"Payload":{"mocked":true},"StatusCode":200}"#)
                .build(),
        )
        .send()
        .await
        .expect("TestState with a mocked result");
    assert_eq!(r.status(), Some(&TestExecutionStatus::Succeeded));
    assert_eq!(r.next_state(), Some("Store"));
    assert_eq!(json_text(r.output()), json!({"body": {"mocked": true}}));
    assert!(r.inspection_data().is_none(), "INFO level");
    assert!(f.lambda.calls.lock().unwrap().is_empty());

    // No mock: the service's real Lambda integration runs.
    let r = client
        .test_state()
        .definition(task.to_string())
        .input(r#"{"a":2}"#)
        .send()
        .await
        .expect("TestState against the real integration");
    assert_eq!(r.status(), Some(&TestExecutionStatus::Succeeded));
    assert_eq!(json_text(r.output()), json!({"body": {"a": 2}}));
    assert_eq!(f.lambda.calls.lock().unwrap().len(), 1);

    // A mocked error that a catcher takes.
    let guarded = json!({
        "Type": "Task",
        "Resource": lambda_arn("Echo"),
        "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 3, "MaxAttempts": 2}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recover"}],
        "End": true
    });
    let failing = |error: &str| {
        MockInput::builder()
            .error_output(
                MockErrorOutput::builder()
                    .error(error)
                    .cause("mocked cause")
                    .build(),
            )
            .build()
    };
    let r = client
        .test_state()
        .definition(guarded.to_string())
        .input(r#"{"k":"v"}"#)
        .inspection_level(InspectionLevel::Debug)
        .mock(failing("Boom"))
        .send()
        .await
        .expect("TestState with a mocked error");
    assert_eq!(r.status(), Some(&TestExecutionStatus::CaughtError));
    assert_eq!(r.next_state(), Some("Recover"));
    assert_eq!(r.error(), Some("Boom"));
    assert_eq!(
        json_text(r.output()),
        json!({"k": "v", "error": {"Error": "Boom", "Cause": "mocked cause"}})
    );
    let details = r
        .inspection_data()
        .and_then(|d| d.error_details())
        .expect("errorDetails");
    assert_eq!(details.catch_index(), Some(0));

    // An error a retrier matches is RETRIABLE (nothing is retried).
    let r = client
        .test_state()
        .definition(guarded.to_string())
        .inspection_level(InspectionLevel::Debug)
        .mock(failing("Throttled"))
        .send()
        .await
        .expect("TestState retriable");
    assert_eq!(r.status(), Some(&TestExecutionStatus::Retriable));
    assert_eq!(r.next_state(), None);
    let details = r
        .inspection_data()
        .and_then(|d| d.error_details())
        .expect("errorDetails");
    assert_eq!(details.retry_index(), Some(0));
    assert_eq!(details.retry_backoff_interval_seconds(), Some(3));

    // Choice: the next state is the branch taken.
    let choice = json!({
        "Type": "Choice",
        "Choices": [{"Variable": "$.kind", "StringEquals": "echo", "Next": "Echo"}],
        "Default": "Other"
    });
    for (input, next) in [(r#"{"kind":"echo"}"#, "Echo"), (r#"{"kind":"x"}"#, "Other")] {
        let r = client
            .test_state()
            .definition(choice.to_string())
            .input(input)
            .send()
            .await
            .expect("TestState Choice");
        assert_eq!(r.status(), Some(&TestExecutionStatus::Succeeded));
        assert_eq!(r.next_state(), Some(next));
    }

    // Pass with Parameters at DEBUG: every processing step.
    let pass = json!({
        "Type": "Pass",
        "InputPath": "$.in",
        "Parameters": {"greeting.$": "States.Format('hi {}', $.name)"},
        "ResultPath": "$.out",
        "End": true
    });
    let r = client
        .test_state()
        .definition(pass.to_string())
        .input(r#"{"in":{"name":"ada"}}"#)
        .inspection_level(InspectionLevel::Debug)
        .send()
        .await
        .expect("TestState Pass DEBUG");
    assert_eq!(r.status(), Some(&TestExecutionStatus::Succeeded));
    assert_eq!(r.next_state(), None);
    let d = r.inspection_data().expect("inspectionData at DEBUG");
    assert_eq!(json_text(d.input()), json!({"in": {"name": "ada"}}));
    assert_eq!(json_text(d.after_input_path()), json!({"name": "ada"}));
    assert_eq!(
        json_text(d.after_parameters()),
        json!({"greeting": "hi ada"})
    );
    assert_eq!(json_text(d.result()), json!({"greeting": "hi ada"}));
    assert_eq!(
        json_text(d.after_result_path()),
        json!({"in": {"name": "ada"}, "out": {"greeting": "hi ada"}})
    );
    assert_eq!(json_text(r.output()), json_text(d.after_result_path()));

    // One state of a whole machine, with workflow variables.
    let machine = json!({
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Next": "Greet"},
            "Greet": {"Type": "Pass", "Parameters": {"who.$": "$who"}, "Assign": {"greeted.$": "$.who"}, "End": true}
        }
    });
    let r = client
        .test_state()
        .definition(machine.to_string())
        .state_name("Greet")
        .variables(r#"{"who":"grace"}"#)
        .inspection_level(InspectionLevel::Debug)
        .send()
        .await
        .expect("TestState with stateName and variables");
    assert_eq!(json_text(r.output()), json!({"who": "grace"}));
    assert_eq!(
        json_text(r.inspection_data().and_then(|d| d.variables())),
        json!({"who": "grace", "greeted": "grace"})
    );

    // Errors: invalid definition, mock on a Pass, invalid input.
    let err = client
        .test_state()
        .definition(r#"{"Type":"Pass","Next":42}"#)
        .send()
        .await
        .expect_err("invalid definition");
    let err = err.into_service_error();
    assert!(err.is_invalid_definition(), "{err:?}");
    let err = client
        .test_state()
        .definition(pass.to_string())
        .mock(MockInput::builder().result("{}").build())
        .send()
        .await
        .expect_err("mock on a Pass");
    assert!(err.into_service_error().is_validation_exception());
    let err = client
        .test_state()
        .definition(pass.to_string())
        .input("{not json")
        .send()
        .await
        .expect_err("bad input");
    assert!(err.into_service_error().is_invalid_execution_input());
}
