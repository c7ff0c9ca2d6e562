//! The template's machines changed while serving (`wsflow up --watch`): a
//! created machine runs executions, a deleted one refuses new executions
//! while a running one finishes on its definition (DeleteStateMachine's
//! behaviour), and a changed type replaces the machine.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use wsflow_sfn::{
    MachineType::{Express, Standard},
    StepFunctions,
};

#[tokio::test]
async fn template_machines_are_created_and_deleted_while_serving() {
    let dir = tempfile::tempdir().unwrap();
    let f = open(dir.path(), Vec::new(), 1.0);
    let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "created", "End": true}}});
    let added = spec("Added", Standard, pass.clone());
    StepFunctions::validate_machine(&added).unwrap();
    f.svc.create_template_machine(added).unwrap();
    let listed = call(&f.svc, "ListStateMachines", json!({})).await;
    assert_eq!(listed["stateMachines"][0]["name"], "Added", "{listed}");

    // An execution parked in a 1 s Wait while the machine is deleted.
    let waits =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}});
    f.svc
        .create_template_machine(spec("Waits", Standard, waits))
        .unwrap();
    let started = call(
        &f.svc,
        "StartExecution",
        json!({"stateMachineArn": machine_arn("Waits")}),
    )
    .await;
    f.svc.delete_template_machine("Waits").unwrap();
    let refused = call_err(
        &f.svc,
        "StartExecution",
        json!({"stateMachineArn": machine_arn("Waits")}),
    )
    .await;
    assert_eq!(refused.code, "StateMachineDoesNotExist");
    let done = wait_done(&f.svc, started["executionArn"].as_str().unwrap()).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert!(f.svc.delete_template_machine("Waits").is_err());

    // A new type: the machine is replaced under the same ARN.
    f.svc
        .create_template_machine(spec("Added", Express, pass))
        .unwrap();
    let r = call(
        &f.svc,
        "StartSyncExecution",
        json!({"stateMachineArn": machine_arn("Added")}),
    )
    .await;
    assert_eq!(r["output"], "\"created\"", "{r}");

    // Checked before anything is registered.
    let broken = spec(
        "Broken",
        Standard,
        json!({"StartAt": "Nowhere", "States": {}}),
    );
    assert!(StepFunctions::validate_machine(&broken).is_err());
    assert!(f.svc.create_template_machine(broken).is_err());
    let bad_name = spec("bad name?", Standard, json!({}));
    assert!(StepFunctions::validate_machine(&bad_name).is_err());
    tokio::time::sleep(Duration::from_millis(10)).await;
    f.svc.shutdown().await;
}
