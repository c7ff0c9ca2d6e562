//! Shared test fixtures: an in-test Lambda host, a fake DynamoDB, and helpers
//! to open the service on a real redb file in a temp dir.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wsflow_aws_wire::{
    AwsService, BoxFuture, LambdaInvokeError, LambdaInvoker, ServiceError, ServiceRequest,
    ServiceResponse,
};
use wsflow_sfn::{MachineSpec, MachineType, SfnBackends, SfnOptions, StepFunctions};

/// Functions: `Echo` (returns its payload), `Fail` (function error
/// `CustomError`), `Capture` (stores its payload's `token`, returns `{}`).
#[derive(Default)]
pub struct TestLambda {
    pub tokens: Mutex<Vec<String>>,
    pub calls: Mutex<Vec<(String, Value)>>,
}

impl LambdaInvoker for TestLambda {
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        payload: Value,
    ) -> BoxFuture<'a, Result<Value, LambdaInvokeError>> {
        Box::pin(async move {
            let name = wsflow_aws_wire::arn::lambda_function_name(function).to_owned();
            self.calls
                .lock()
                .unwrap()
                .push((name.clone(), payload.clone()));
            match name.as_str() {
                "Echo" => Ok(payload),
                "Fail" => Err(LambdaInvokeError::Function {
                    payload: json!({"errorMessage": "boom", "errorType": "CustomError", "requestId": "r-1", "stackTrace": []}),
                }),
                "Capture" => {
                    if let Some(t) = payload.get("token").and_then(Value::as_str) {
                        self.tokens.lock().unwrap().push(t.to_owned());
                    }
                    Ok(json!({}))
                }
                _ => Err(LambdaInvokeError::Service(ServiceError::with_status(
                    404,
                    "ResourceNotFoundException",
                    format!("Function not found: {function}"),
                ))),
            }
        })
    }
}

/// A one-table DynamoDB stand-in (`PutItem`/`GetItem` on table `T`).
#[derive(Default)]
pub struct TestDynamo {
    pub items: Mutex<HashMap<String, Value>>,
}

impl AwsService for TestDynamo {
    fn target_prefix(&self) -> &'static str {
        "DynamoDB_20120810"
    }
    fn integration_name(&self) -> &'static str {
        "dynamodb"
    }
    fn call(
        &self,
        request: ServiceRequest,
    ) -> BoxFuture<'_, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            let body: Value = serde_json::from_slice(&request.body)
                .map_err(|e| ServiceError::validation(e.to_string()))?;
            if body["TableName"] != "T" {
                return Err(ServiceError::client(
                    "ResourceNotFoundException",
                    "Requested resource not found",
                ));
            }
            match request.operation.as_str() {
                "PutItem" => {
                    let id = body["Item"]["id"]["S"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    self.items.lock().unwrap().insert(id, body["Item"].clone());
                    Ok(ServiceResponse::json(&json!({})))
                }
                "GetItem" => {
                    let id = body["Key"]["id"]["S"].as_str().unwrap_or_default();
                    let item = self.items.lock().unwrap().get(id).cloned();
                    Ok(ServiceResponse::json(&match item {
                        Some(i) => json!({"Item": i}),
                        None => json!({}),
                    }))
                }
                _ => Err(ServiceError::client("UnknownOperationException", "unknown")),
            }
        })
    }
}

/// An SQS stand-in that records `SendMessage` bodies.
#[derive(Default)]
pub struct TestSqs {
    pub sent: Mutex<Vec<Value>>,
}

impl AwsService for TestSqs {
    fn target_prefix(&self) -> &'static str {
        "AmazonSQS"
    }
    fn integration_name(&self) -> &'static str {
        "sqs"
    }
    fn call(
        &self,
        request: ServiceRequest,
    ) -> BoxFuture<'_, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            let body: Value = serde_json::from_slice(&request.body)
                .map_err(|e| ServiceError::validation(e.to_string()))?;
            if request.operation != "SendMessage" || !body["MessageBody"].is_string() {
                return Err(ServiceError::client(
                    "InvalidParameterValue",
                    "bad SendMessage",
                ));
            }
            self.sent.lock().unwrap().push(body);
            Ok(ServiceResponse::json(
                &json!({"MessageId": "m-1", "MD5OfMessageBody": "x"}),
            ))
        })
    }
}

pub fn spec(name: &str, kind: MachineType, definition: Value) -> MachineSpec {
    MachineSpec {
        name: name.into(),
        kind,
        definition: definition.to_string(),
        role_arn: None,
    }
}

pub struct Fixture {
    pub svc: StepFunctions,
    pub lambda: Arc<TestLambda>,
    pub dynamo: Arc<TestDynamo>,
    pub sqs: Arc<TestSqs>,
}

pub fn open(dir: &Path, machines: Vec<MachineSpec>, time_scale: f64) -> Fixture {
    open_with(dir, machines, time_scale, "http://127.0.0.1:9")
}

pub fn open_with(
    dir: &Path,
    machines: Vec<MachineSpec>,
    time_scale: f64,
    endpoint: &str,
) -> Fixture {
    let mut options = SfnOptions::new(dir);
    options.time_scale = time_scale;
    options.endpoint = endpoint.into();
    open_options(options, machines)
}

/// Opens the service with the given options and the test backends.
pub fn open_options(options: SfnOptions, machines: Vec<MachineSpec>) -> Fixture {
    let lambda = Arc::new(TestLambda::default());
    let dynamo = Arc::new(TestDynamo::default());
    let sqs = Arc::new(TestSqs::default());
    // A just-shut-down service on the same file may still hold it for a
    // moment (its writer thread ends when the last handle drops).
    let started = Instant::now();
    let svc = loop {
        match StepFunctions::open(
            options.clone(),
            machines.clone(),
            SfnBackends {
                lambda: lambda.clone(),
                services: vec![dynamo.clone(), sqs.clone()],
            },
        ) {
            Ok(svc) => break svc,
            Err(_) if started.elapsed() < Duration::from_secs(5) => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("open: {e}"),
        }
    };
    Fixture {
        svc,
        lambda,
        dynamo,
        sqs,
    }
}

pub fn machine_arn(name: &str) -> String {
    wsflow_aws_wire::Account::default().state_machine(name)
}

pub fn lambda_arn(name: &str) -> String {
    wsflow_aws_wire::Account::default().lambda_function(name)
}

pub async fn call(svc: &StepFunctions, op: &str, body: Value) -> Value {
    match svc.operation(op, &body).await {
        Ok(v) => v,
        Err(e) => panic!("{op} failed: {e}"),
    }
}

pub async fn call_err(svc: &StepFunctions, op: &str, body: Value) -> ServiceError {
    match svc.operation(op, &body).await {
        Ok(v) => panic!("{op} unexpectedly succeeded: {v}"),
        Err(e) => e,
    }
}

/// Polls DescribeExecution until the status is not RUNNING (10 s at most).
pub async fn wait_done(svc: &StepFunctions, arn: &str) -> Value {
    let t = Instant::now();
    loop {
        let d = call(svc, "DescribeExecution", json!({"executionArn": arn})).await;
        if d["status"] != "RUNNING" {
            return d;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "execution still running: {d}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Polls until `f` returns Some (5 s at most).
pub async fn eventually<T>(mut f: impl FnMut() -> Option<T>) -> T {
    let t = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "condition not reached"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
