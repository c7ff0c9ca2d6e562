//! `arn:aws:states:::states:startExecution` (+ `.sync`, `.sync:2`,
//! `.waitForTaskToken`): child executions in this same service.
//!
//! Request-response returns `{ExecutionArn, StartDate}`; `.sync` waits for the
//! child and returns its description with `Input`/`Output` as JSON text
//! (`.sync:2`: as JSON); a child that does not succeed fails the task with
//! `States.TaskFailed` and that description (with `Error`/`Cause`) as cause,
//! as AWS does.

use serde_json::{Map, Value, json};
use wsflow_asl::TaskFailure;

use super::{Pattern, required_str, sdk_metadata, service_cause};
use crate::executions;
use crate::records::{ExecutionRecord, Status};
use crate::service::Inner;

fn describe(rec: &ExecutionRecord, json_io: bool) -> Value {
    let io = |text: &str| {
        if json_io {
            serde_json::from_str(text).unwrap_or(Value::String(text.to_owned()))
        } else {
            Value::String(text.to_owned())
        }
    };
    let mut m = Map::new();
    if let Some(c) = &rec.cause {
        m.insert("Cause".into(), json!(c));
    }
    if let Some(e) = &rec.error {
        m.insert("Error".into(), json!(e));
    }
    m.insert("ExecutionArn".into(), json!(rec.execution_arn));
    m.insert("Input".into(), io(&rec.input));
    m.insert("InputDetails".into(), json!({"Included": true}));
    m.insert("Name".into(), json!(rec.name));
    if let Some(o) = &rec.output {
        m.insert("Output".into(), io(o));
        m.insert("OutputDetails".into(), json!({"Included": true}));
    }
    m.insert("StartDate".into(), json!(rec.start_millis));
    m.insert("StateMachineArn".into(), json!(rec.state_machine_arn));
    m.insert("Status".into(), json!(rec.status.as_str()));
    if let Some(s) = rec.stop_millis {
        m.insert("StopDate".into(), json!(s));
    }
    Value::Object(m)
}

fn start_failure(e: &wsflow_aws_wire::ServiceError) -> TaskFailure {
    TaskFailure {
        error: format!(
            "StepFunctions.{}Exception",
            e.code.trim_end_matches("Exception")
        ),
        cause: Some(service_cause("AWSStepFunctions", e)),
    }
}

/// Runs one `states:startExecution` task.
pub(crate) async fn start_execution(
    inner: &Inner,
    params: Value,
    pattern: Pattern,
) -> Result<Value, TaskFailure> {
    let machine_arn = required_str(&params, "StateMachineArn")?;
    let input = match params.get("Input") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => Some(v.to_string()),
    };
    let name = params.get("Name").and_then(Value::as_str);
    let Some(me) = inner.arc() else {
        return Err(TaskFailure::new(
            "States.Runtime",
            "the Step Functions service is shutting down",
        ));
    };
    let started = match executions::start(&me, machine_arn, name, input.as_deref()).await {
        Ok(s) => s,
        // Re-run after a crash: the child this task started the first time
        // already finished; AWS would never have started it twice.
        Err(e) if e.code == "ExecutionAlreadyExists" && crate::replay::reinvoked() => name
            .and_then(|n| executions::finished_twin(inner, machine_arn, n, input.as_deref()))
            .ok_or_else(|| start_failure(&e))?,
        Err(e) => return Err(start_failure(&e)),
    };
    match pattern {
        Pattern::Sync | Pattern::Sync2 => {
            let rec = executions::finished(started.done)
                .await
                .ok_or_else(|| TaskFailure::new("States.Runtime", "child execution vanished"))?;
            let out = describe(&rec, pattern == Pattern::Sync2);
            if rec.status == Status::Succeeded {
                Ok(out)
            } else {
                Err(TaskFailure::new("States.TaskFailed", out.to_string()))
            }
        }
        Pattern::Call | Pattern::Token => {
            let (http, response) = sdk_metadata("application/x-amz-json-1.0", 0);
            Ok(json!({
                "ExecutionArn": started.record.execution_arn,
                "StartDate": started.record.start_millis,
                "SdkHttpMetadata": http,
                "SdkResponseMetadata": response,
            }))
        }
    }
}
