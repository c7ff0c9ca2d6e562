//! Every Step Functions operation the service offers, driven through
//! aws-sdk-sfn over real HTTP: state machine CRUD, validation, executions
//! (start, describe, list, history with paging, stop) and task callbacks.

mod common;
mod sdk_http;

use aws_sdk_sfn::types::{
    ExecutionStatus, HistoryEventType, StateMachineType, ValidateStateMachineDefinitionResultCode,
};
use common::*;
use serde_json::{Value, json};

const ROLE: &str = "arn:aws:iam::123456789012:role/sdk-role";

fn waits(seconds: u64) -> String {
    json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": seconds, "Next": "P"},
        "P": {"Type": "Pass", "Result": {"done": true}, "End": true}
    }})
    .to_string()
}

#[tokio::test]
async fn state_machine_crud_and_validation_through_the_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let f = open(dir.path(), vec![], 1.0);
    let client = sdk_http::client(&sdk_http::serve_service(&f.svc).await);

    let created = client
        .create_state_machine()
        .name("Made")
        .definition(waits(1))
        .role_arn(ROLE)
        .r#type(StateMachineType::Standard)
        .send()
        .await
        .expect("CreateStateMachine");
    assert_eq!(created.state_machine_arn(), machine_arn("Made"));

    let described = client
        .describe_state_machine()
        .state_machine_arn(created.state_machine_arn())
        .send()
        .await
        .expect("DescribeStateMachine");
    assert_eq!(described.name(), "Made");
    assert_eq!(described.role_arn(), ROLE);
    assert_eq!(described.r#type(), &StateMachineType::Standard);
    assert_eq!(described.definition(), waits(1));

    let listed = client
        .list_state_machines()
        .send()
        .await
        .expect("ListStateMachines");
    let names: Vec<&str> = listed.state_machines().iter().map(|m| m.name()).collect();
    assert_eq!(names, ["Made"]);

    client
        .update_state_machine()
        .state_machine_arn(created.state_machine_arn())
        .definition(waits(2))
        .send()
        .await
        .expect("UpdateStateMachine");
    let described = client
        .describe_state_machine()
        .state_machine_arn(created.state_machine_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(described.definition(), waits(2));

    let err = client
        .create_state_machine()
        .name("Broken")
        .definition(r#"{"StartAt":"Nowhere","States":{}}"#)
        .role_arn(ROLE)
        .send()
        .await
        .expect_err("invalid definition");
    assert!(err.into_service_error().is_invalid_definition());

    let validated = client
        .validate_state_machine_definition()
        .definition(r#"{"StartAt":"Nowhere","States":{"A":{"Type":"Pass","End":true}}}"#)
        .send()
        .await
        .expect("ValidateStateMachineDefinition");
    assert_eq!(
        validated.result(),
        &ValidateStateMachineDefinitionResultCode::Fail
    );
    assert!(
        validated
            .diagnostics()
            .iter()
            .any(|d| d.code() == "MISSING_TRANSITION_TARGET"),
        "{:?}",
        validated.diagnostics()
    );
    let ok = client
        .validate_state_machine_definition()
        .definition(waits(1))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.result(), &ValidateStateMachineDefinitionResultCode::Ok);

    client
        .delete_state_machine()
        .state_machine_arn(created.state_machine_arn())
        .send()
        .await
        .expect("DeleteStateMachine");
    let err = client
        .describe_state_machine()
        .state_machine_arn(created.state_machine_arn())
        .send()
        .await
        .expect_err("deleted");
    assert!(err.into_service_error().is_state_machine_does_not_exist());
}

#[tokio::test]
async fn executions_stop_list_and_page_history_through_the_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let f = open(
        dir.path(),
        vec![spec(
            "Slow",
            wsflow_sfn::MachineType::Standard,
            serde_json::from_str(&waits(3600)).unwrap(),
        )],
        1.0,
    );
    let client = sdk_http::client(&sdk_http::serve_service(&f.svc).await);
    let started = client
        .start_execution()
        .state_machine_arn(machine_arn("Slow"))
        .name("to-stop")
        .input(r#"{"n":1}"#)
        .send()
        .await
        .expect("StartExecution");
    let again = client
        .start_execution()
        .state_machine_arn(machine_arn("Slow"))
        .name("to-stop")
        .input(r#"{"n":1}"#)
        .send()
        .await
        .expect("same name and input while running: the same execution");
    assert_eq!(again.execution_arn(), started.execution_arn());
    let err = client
        .start_execution()
        .state_machine_arn(machine_arn("Slow"))
        .name("to-stop")
        .input(r#"{"n":2}"#)
        .send()
        .await
        .expect_err("same name, other input");
    assert!(err.into_service_error().is_execution_already_exists());

    let running = client
        .list_executions()
        .state_machine_arn(machine_arn("Slow"))
        .status_filter(ExecutionStatus::Running)
        .send()
        .await
        .expect("ListExecutions");
    assert_eq!(running.executions().len(), 1);
    assert_eq!(running.executions()[0].name(), "to-stop");

    let stopped = client
        .stop_execution()
        .execution_arn(started.execution_arn())
        .error("Operator.Stop")
        .cause("maintenance")
        .send()
        .await
        .expect("StopExecution");
    let described = client
        .describe_execution()
        .execution_arn(started.execution_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(described.status(), &ExecutionStatus::Aborted);
    assert_eq!(described.error(), Some("Operator.Stop"));
    assert_eq!(described.cause(), Some("maintenance"));
    assert_eq!(described.stop_date(), Some(stopped.stop_date()));
    let none_running = client
        .list_executions()
        .state_machine_arn(machine_arn("Slow"))
        .status_filter(ExecutionStatus::Running)
        .send()
        .await
        .unwrap();
    assert!(none_running.executions().is_empty());

    // History, newest first, two events per page.
    let mut types = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_execution_history()
            .execution_arn(started.execution_arn())
            .reverse_order(true)
            .max_results(2)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("GetExecutionHistory");
        assert!(page.events().len() <= 2);
        types.extend(page.events().iter().map(|e| e.r#type().clone()));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(
        types,
        [
            HistoryEventType::ExecutionAborted,
            HistoryEventType::WaitStateEntered,
            HistoryEventType::ExecutionStarted
        ]
    );
}

#[tokio::test]
async fn task_callbacks_through_the_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let ask = |next: Value| {
        let mut s = json!({
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "Capture", "Payload": {"token.$": "$$.Task.Token"}},
            "HeartbeatSeconds": 3600
        });
        s.as_object_mut()
            .unwrap()
            .extend(next.as_object().unwrap().clone());
        s
    };
    let def = json!({"StartAt": "Ask", "States": {
        "Ask": ask(json!({"ResultPath": "$.answer", "Next": "Ask2"})),
        "Ask2": ask(json!({"Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejected", "Next": "Done"}], "End": true})),
        "Done": {"Type": "Pass", "End": true}
    }});
    let f = open(
        dir.path(),
        vec![spec("Cb", wsflow_sfn::MachineType::Standard, def)],
        1.0,
    );
    let client = sdk_http::client(&sdk_http::serve_service(&f.svc).await);
    let started = client
        .start_execution()
        .state_machine_arn(machine_arn("Cb"))
        .send()
        .await
        .unwrap();
    let lambda = f.lambda.clone();
    let token = eventually(|| lambda.tokens.lock().unwrap().first().cloned()).await;
    client
        .send_task_heartbeat()
        .task_token(&token)
        .send()
        .await
        .expect("SendTaskHeartbeat");
    client
        .send_task_success()
        .task_token(&token)
        .output(r#"{"approved":true}"#)
        .send()
        .await
        .expect("SendTaskSuccess");
    let err = client
        .send_task_success()
        .task_token(&token)
        .output("{}")
        .send()
        .await
        .expect_err("a token completes once");
    assert!(err.into_service_error().is_invalid_token());

    let token2 = eventually(|| lambda.tokens.lock().unwrap().get(1).cloned()).await;
    client
        .send_task_failure()
        .task_token(&token2)
        .error("Rejected")
        .cause("no")
        .send()
        .await
        .expect("SendTaskFailure");
    let d = wait_done(&f.svc, started.execution_arn()).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let out: Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
    assert_eq!(out["answer"], json!({"approved": true}));
    assert_eq!(out["rejected"], json!({"Error": "Rejected", "Cause": "no"}));
}
