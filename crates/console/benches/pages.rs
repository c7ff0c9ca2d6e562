//! How long the console's pages take with many stored executions: the
//! state machine page (its graph and the newest 50 of 10,000 Standard
//! executions, via ListExecutions) and one execution's page, rendered by
//! the real router on real services in process (no network).
//!
//! Run: `cargo bench -p wsflow-console --bench pages`.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{body::Body, http::Request};
use serde_json::{Value, json};
use tower::ServiceExt;
use wsflow_aws_wire::{Account, BoxFuture, LambdaInvokeError, LambdaInvoker};
use wsflow_console::{Console, Sources};
use wsflow_gateway::{ApiConfig, Backends, Gateway, Limits};
use wsflow_lambda_host::{HostOptions, LambdaHost};
use wsflow_sfn::{MachineSpec, MachineType, SfnBackends, SfnOptions, StepFunctions};

/// Stored executions.
const EXECUTIONS: usize = 10_000;
/// Concurrent StartExecution callers while filling the store.
const CALLERS: usize = 64;
/// Page loads measured per figure.
const LOADS: usize = 21;

struct NoLambda;

impl LambdaInvoker for NoLambda {
    fn invoke<'a>(
        &'a self,
        _f: &'a str,
        payload: Value,
    ) -> BoxFuture<'a, Result<Value, LambdaInvokeError>> {
        Box::pin(async move { Ok(payload) })
    }
}

fn definition() -> String {
    json!({
        "StartAt": "Check",
        "States": {
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Big"}], "Default": "Small"},
            "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.kind", "Next": "Done"},
            "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.kind", "Next": "Done"},
            "Done": {"Type": "Succeed"}
        }
    })
    .to_string()
}

async fn load(router: &axum::Router, path: &str) -> (Duration, usize) {
    let req = Request::get(path)
        .header("host", "127.0.0.1:3001")
        .body(Body::empty())
        .expect("request");
    let t = Instant::now();
    let resp = router.clone().oneshot(req).await.expect("response");
    assert_eq!(resp.status(), 200, "{path}");
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    (t.elapsed(), body.len())
}

async fn median_ms(router: &axum::Router, path: &str) -> (f64, usize) {
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..LOADS {
        let (t, n) = load(router, path).await;
        times.push(t);
        size = n;
    }
    times.sort();
    (times[LOADS / 2].as_secs_f64() * 1000.0, size)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let account = Account::default();
        let lambda: Arc<dyn LambdaInvoker> = Arc::new(NoLambda);
        let mut options = SfnOptions::new(dir.path());
        options.time_scale = 0.0;
        let sfn = Arc::new(
            StepFunctions::open(
                options,
                vec![MachineSpec {
                    name: "Many".into(),
                    kind: MachineType::Standard,
                    definition: definition(),
                    role_arn: None,
                }],
                SfnBackends {
                    lambda: lambda.clone(),
                    services: vec![],
                },
            )
            .expect("sfn"),
        );
        let dynamodb = Arc::new(
            wsflow_dynamodb::DynamoDb::open(dir.path(), vec![], account.clone(), None)
                .expect("dynamodb"),
        );
        let sqs = Arc::new(
            wsflow_sqs::Sqs::open(dir.path(), vec![], account.clone(), "http://127.0.0.1:3001".into())
                .expect("sqs"),
        );
        let gateway = Gateway::new(
            ApiConfig {
                api_id: "wsflowlocl".into(),
                stage: "api".into(),
                route_selection_expression: "$request.body.action".into(),
                routes: vec![],
                url_path_header: None,
                limits: Limits::default(),
                domain_name: "127.0.0.1:3001".into(),
                account: account.clone(),
                connect_authorization: Default::default(),
            },
            Backends {
                lambda: lambda.clone(),
                services: vec![],
            },
        )
        .expect("gateway");
        let host = LambdaHost::start(vec![], HostOptions::default())
            .await
            .expect("lambda host");
        let router = Console::new(Sources {
            gateway,
            sfn: sfn.clone(),
            lambda: host,
            dynamodb,
            sqs,
            account: account.clone(),
        })
        .router();

        let machine = account.state_machine("Many");
        let t = Instant::now();
        let mut callers = Vec::new();
        for c in 0..CALLERS {
            let sfn = sfn.clone();
            let machine = machine.clone();
            callers.push(tokio::spawn(async move {
                let mut last = String::new();
                for i in (c..EXECUTIONS).step_by(CALLERS) {
                    let input = json!({ "n": i % 10, "payload": "x".repeat(200) }).to_string();
                    let r = sfn
                        .operation(
                            "StartExecution",
                            &json!({ "stateMachineArn": machine, "name": format!("e{i:05}"), "input": input }),
                        )
                        .await
                        .expect("start");
                    last = r["executionArn"].as_str().expect("arn").to_owned();
                }
                last
            }));
        }
        let mut arns = Vec::new();
        for c in callers {
            arns.push(c.await.expect("join"));
        }
        sfn.shutdown().await; // every execution finished and committed
        println!("stored {EXECUTIONS} Standard executions in {:?}", t.elapsed());

        let (ms, size) = median_ms(&router, "/@console/state-machines/Many").await;
        println!("state machine page (graph + newest 50 of {EXECUTIONS} executions): median {ms:.1} ms of {LOADS} loads, {size} bytes");
        let listed = sfn
            .operation("ListExecutions", &json!({ "stateMachineArn": machine, "maxResults": 50 }))
            .await
            .expect("list");
        let token = listed["nextToken"].as_str().expect("more pages").to_owned();
        let page2 = format!("/@console/state-machines/Many?page={}", form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>());
        let (ms, _) = median_ms(&router, &page2).await;
        println!("state machine page, second page of executions: median {ms:.1} ms");
        let (ms, size) = median_ms(&router, &format!("/@console/executions/{}", arns[0])).await;
        println!("execution page (graph, history, state details): median {ms:.1} ms, {size} bytes");
    });
}
