//! `wsflow up --watch` with one WebSocket client kept open throughout: an
//! edited ASL file changes the next `sync_sfn` reply; a broken file keeps the
//! old behaviour and its error is printed; restoring it restores the
//! behaviour; a Standard execution started before an edit finishes on its
//! original definition, also across a SIGKILL and restart.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Stack, StackOptions, connect, recv_json, send};

const SYNC: &str = "statemachines/sync-express.asl.json";
const ASYNC: &str = "statemachines/async-standard.asl.json";

/// A copy of the app (template and workflows) the test may edit.
fn app_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ws = support::workspace();
    std::fs::copy(ws.join("template.yaml"), dir.path().join("template.yaml")).unwrap();
    std::fs::create_dir(dir.path().join("statemachines")).unwrap();
    for f in [SYNC, ASYNC] {
        std::fs::copy(ws.join(f), dir.path().join(f)).unwrap();
    }
    dir
}

/// Sets `edition` in the object at `pointer` of the definition `file`.
fn set_edition(dir: &Path, file: &str, pointer: &str, edition: &str) {
    let path = dir.join(file);
    let mut definition: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let at = definition
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} in {file}"));
    at["edition"] = json!(edition);
    std::fs::write(&path, serde_json::to_string_pretty(&definition).unwrap()).unwrap();
}

const SYNC_REPLY: &str = "/States/Reply/Parameters";
const ASYNC_MESSAGE: &str = "/States/Notify/Parameters/Payload/message";

/// Waits for a log line containing `what` (and returns it).
fn log_line(stack: &Stack, what: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match stack.log.recv_timeout(left) {
            Ok(line) if line.contains(what) => return line,
            Ok(_) => {}
            Err(_) => panic!("no log line with {what:?} within 10 s"),
        }
    }
}

async fn sync_output(ws: &mut support::Client) -> Value {
    send(ws, r#"{"action":"sync_sfn","data":"hello"}"#).await;
    let reply = recv_json(ws, 60).await;
    assert_eq!(reply["status"], "SUCCEEDED", "{reply}");
    serde_json::from_str(reply["output"].as_str().unwrap()).unwrap()
}

/// The `Notify` task's parameters as the history recorded them.
async fn notify_message(stack: &Stack, arn: &str) -> Value {
    let (_, history) = stack
        .aws_json(
            "AWSStepFunctions.GetExecutionHistory",
            json!({"executionArn": arn}),
        )
        .await;
    let scheduled: Vec<Value> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "TaskScheduled")
        .map(|e| {
            serde_json::from_str(
                e["taskScheduledEventDetails"]["parameters"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap()
        })
        .collect();
    scheduled.last().expect("Notify was scheduled")["Payload"]["message"].clone()
}

async fn wait_succeeded(stack: &Stack, arn: &str) {
    let d = support::eventually(60, || async {
        let (_, d) = stack
            .aws_json(
                "AWSStepFunctions.DescribeExecution",
                json!({"executionArn": arn}),
            )
            .await;
        (d["status"] != "RUNNING").then_some(d)
    })
    .await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_apply_without_a_restart_and_running_executions_keep_their_definition() {
    let app = app_copy();
    let template = app.path().join("template.yaml");
    let options = || StackOptions {
        template: template.to_str().unwrap(),
        // The workflows' 5 s Waits take 1.5 s: long enough to edit mid-run.
        time_scale: 0.3,
        extra: vec!["--watch".into()],
    };
    let mut stack = Stack::start_with(options());
    log_line(&stack, "watching 3 file(s)");
    let mut ws = connect(&stack.ws_url()).await;

    let before = sync_output(&mut ws).await;
    assert!(before.get("edition").is_none(), "{before}");

    // An edit changes the next reply.
    let good = std::fs::read_to_string(app.path().join(SYNC)).unwrap();
    set_edition(app.path(), SYNC, SYNC_REPLY, "2");
    let line = log_line(&stack, "wsflow: reloaded");
    assert!(
        line.contains("sync-express.asl.json") && line.contains("wsflow-SyncStateMachine updated"),
        "{line}"
    );
    assert_eq!(sync_output(&mut ws).await["edition"], "2");

    // A broken file: its error is printed, the last good version serves.
    std::fs::write(app.path().join(SYNC), "{ \"StartAt\": ").unwrap();
    let line = log_line(&stack, "failed");
    assert!(
        line.contains("sync-express.asl.json") && line.contains("last good version"),
        "{line}"
    );
    assert_eq!(sync_output(&mut ws).await["edition"], "2");
    std::fs::write(
        app.path().join(SYNC),
        r#"{"StartAt": "Nowhere", "States": {"Reply": {"Type": "Pass", "End": true}}}"#,
    )
    .unwrap();
    let line = log_line(&stack, "failed");
    assert!(line.contains("invalid definition"), "{line}");
    assert_eq!(sync_output(&mut ws).await["edition"], "2");

    // Restoring the file restores the behaviour.
    std::fs::write(app.path().join(SYNC), good).unwrap();
    log_line(&stack, "wsflow-SyncStateMachine updated");
    assert!(sync_output(&mut ws).await.get("edition").is_none());

    // A Standard execution started before an edit finishes on its definition;
    // one started after runs the new one.
    send(&mut ws, r#"{"action":"async_sfn","data":"old"}"#).await;
    let old_arn = recv_json(&mut ws, 30).await["executionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    set_edition(app.path(), ASYNC, ASYNC_MESSAGE, "2");
    log_line(&stack, "wsflow-AsyncStateMachine updated");
    send(&mut ws, r#"{"action":"async_sfn","data":"new"}"#).await;
    let new_arn = recv_json(&mut ws, 30).await["executionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut pushed = vec![recv_json(&mut ws, 60).await, recv_json(&mut ws, 60).await];
    pushed.sort_by_key(|p| p["data"].as_str().unwrap_or("").to_owned());
    assert_eq!(pushed[0]["data"], "new");
    assert_eq!(pushed[0]["edition"], "2", "{pushed:?}");
    assert_eq!(pushed[1]["data"], "old");
    assert!(pushed[1].get("edition").is_none(), "{pushed:?}");
    assert_eq!(pushed[1]["executionArn"], old_arn.as_str());
    assert_eq!(pushed[0]["executionArn"], new_arn.as_str());

    // Across a crash: started on edition 2, edited to 3, SIGKILL mid-Wait,
    // restarted on the edited files: it still finishes on edition 2.
    send(&mut ws, r#"{"action":"async_sfn","data":"crash"}"#).await;
    let crash_arn = recv_json(&mut ws, 30).await["executionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    set_edition(app.path(), ASYNC, ASYNC_MESSAGE, "3");
    log_line(&stack, "wsflow-AsyncStateMachine updated");
    stack.kill();
    let data = stack.take_data_dir();
    let stack = Stack::start_in(options(), data);
    wait_succeeded(&stack, &crash_arn).await;
    assert_eq!(notify_message(&stack, &crash_arn).await["edition"], "2");
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"async_sfn","data":"after"}"#).await;
    let after = recv_json(&mut ws, 30).await["executionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_succeeded(&stack, &after).await;
    assert_eq!(notify_message(&stack, &after).await["edition"], "3");
}
