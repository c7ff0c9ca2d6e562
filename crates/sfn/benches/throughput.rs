//! Throughput of the local Step Functions service, in process:
//!
//! 1. Express executions/s: a 5-state machine through StartSyncExecution at
//!    time scale 0 (sequential, then 4 concurrent callers).
//! 2. Durable Standard transitions/s: 64 concurrent executions of a 20-state
//!    machine with group commit vs one commit per history event, both
//!    measured in the same run on real redb files.
//!
//! Run: `cargo bench -p wsflow-sfn --bench throughput`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wsflow_aws_wire::{BoxFuture, LambdaInvokeError, LambdaInvoker};
use wsflow_sfn::{CommitMode, MachineSpec, MachineType, SfnBackends, SfnOptions, StepFunctions};

struct Echo;

impl LambdaInvoker for Echo {
    fn invoke<'a>(
        &'a self,
        _f: &'a str,
        payload: Value,
    ) -> BoxFuture<'a, Result<Value, LambdaInvokeError>> {
        Box::pin(async move { Ok(payload) })
    }
}

fn open(dir: &std::path::Path, mode: CommitMode, machines: Vec<MachineSpec>) -> StepFunctions {
    let mut options = SfnOptions::new(dir);
    options.time_scale = 0.0;
    options.commit_mode = mode;
    StepFunctions::open(
        options,
        machines,
        SfnBackends {
            lambda: Arc::new(Echo),
            services: vec![],
        },
    )
    .expect("open")
}

fn five_states() -> String {
    json!({
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Parameters": {"v.$": "$.v", "n": 1}, "Next": "B"},
            "B": {"Type": "Wait", "Seconds": 1, "Next": "C"},
            "C": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Echo", "Next": "D"},
            "D": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "E"}], "Default": "E"},
            "E": {"Type": "Succeed"}
        }
    })
    .to_string()
}

fn chain(n: usize) -> String {
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let mut s = json!({"Type": "Pass", "Result": i, "ResultPath": "$.last"});
        if i + 1 == n {
            s["End"] = json!(true);
        } else {
            s["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), s);
    }
    json!({"StartAt": "S0", "States": states}).to_string()
}

async fn express(svc: &StepFunctions, n: usize) -> f64 {
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:Five";
    let body = json!({"stateMachineArn": arn, "input": "{\"v\":1}"});
    let t = Instant::now();
    for _ in 0..n {
        let r = svc
            .operation("StartSyncExecution", &body)
            .await
            .expect("sync");
        assert_eq!(r["status"], "SUCCEEDED");
    }
    n as f64 / t.elapsed().as_secs_f64()
}

async fn standard(mode: CommitMode, executions: usize, states: usize) -> (f64, f64, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = MachineSpec {
        name: "Chain".into(),
        kind: MachineType::Standard,
        definition: chain(states),
        role_arn: None,
    };
    let svc = open(dir.path(), mode, vec![spec]);
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:Chain";
    let t = Instant::now();
    let mut started = Vec::new();
    for i in 0..executions {
        let r = svc
            .operation(
                "StartExecution",
                &json!({"stateMachineArn": arn, "name": format!("e{i}")}),
            )
            .await
            .expect("start");
        started.push(r["executionArn"].as_str().unwrap_or_default().to_owned());
    }
    for a in &started {
        loop {
            let d = svc
                .operation("DescribeExecution", &json!({"executionArn": a}))
                .await
                .expect("describe");
            if d["status"] != "RUNNING" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let elapsed = t.elapsed();
    let h = svc
        .operation(
            "GetExecutionHistory",
            &json!({"executionArn": started[0], "maxResults": 1000}),
        )
        .await
        .expect("history");
    let events = h["events"].as_array().map(Vec::len).unwrap_or(0) * executions;
    svc.shutdown().await;
    let secs = elapsed.as_secs_f64();
    (
        (executions * states) as f64 / secs,
        events as f64 / secs,
        elapsed,
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = MachineSpec { name: "Five".into(), kind: MachineType::Express, definition: five_states(), role_arn: None };
        let svc = open(dir.path(), CommitMode::Group, vec![spec]);
        express(&svc, 500).await; // warm-up
        let seq = express(&svc, 20_000).await;
        println!("express StartSyncExecution, 5 states, sequential: {seq:.0} executions/s");
        let t = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let s = svc.clone();
            tasks.push(tokio::spawn(async move { express(&s, 5_000).await }));
        }
        for task in tasks {
            task.await.expect("join");
        }
        println!(
            "express StartSyncExecution, 5 states, 4 concurrent callers: {:.0} executions/s",
            20_000.0 / t.elapsed().as_secs_f64()
        );

        for mode in [CommitMode::Group, CommitMode::PerEvent] {
            let (transitions, events, elapsed) = standard(mode, 64, 20).await;
            println!(
                "standard, 64 executions x 20 states, {mode:?} commit: {transitions:.0} transitions/s, {events:.0} history events/s ({elapsed:?})"
            );
        }
    });
}
