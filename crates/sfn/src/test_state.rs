//! The `TestState` operation: request validation with AWS's error names, then
//! one state run by [`wsflow_asl::test_state`] against the service's real
//! task integrations (this service's [`wsflow_asl::TaskInvoker`]) or the
//! request's mock. Wait states are evaluated, not waited for; the whole call
//! is bounded by AWS's five minutes (`States.Timeout`).
//!
//! Accepted but without effect here: `revealSecrets` (no HTTP Task with
//! connection secrets is emulated), `mock.fieldValidationMode` (mocks are not
//! checked against AWS service API models), and `stateConfiguration` fields
//! other than `retrierRetryCount`.

use std::time::Duration;

use serde_json::{Map, Value};
use wsflow_asl::test_state::{
    InspectionLevel, TestMock, TestStateDefinition, TestStateOptions, TestStateParseError,
    TestStateResult, TestStatus,
};
use wsflow_asl::{ExecutionContext, TaskFailure};
use wsflow_aws_wire::ServiceError;

use crate::api::{check_role, max_len, opt_bool, opt_str, req_str};
use crate::clock::{ScaledClock, epoch_millis};
use crate::executions::parse_input;
use crate::service::Inner;

/// AWS's limit on a TestState call.
const TEST_STATE_LIMIT: Duration = Duration::from_secs(300);

/// `definition`'s maximum length (as for state machines).
const MAX_DEFINITION: usize = 1_048_576;

fn enum_error(field: &str, value: &str, allowed: &str) -> ServiceError {
    ServiceError::validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{allowed}]"
    ))
}

fn inspection_level(body: &Value) -> Result<InspectionLevel, ServiceError> {
    match opt_str(body, "inspectionLevel")? {
        None => Ok(InspectionLevel::Info),
        Some(s) => InspectionLevel::parse(s)
            .ok_or_else(|| enum_error("inspectionLevel", s, "INFO, DEBUG, TRACE")),
    }
}

/// A field holding a JSON object as text (`variables`, `context`).
fn json_object_field(
    body: &Value,
    field: &str,
) -> Result<Option<Map<String, Value>>, ServiceError> {
    let Some(text) = opt_str(body, field)? else {
        return Ok(None);
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(_) => Err(ServiceError::validation(format!(
            "The {field} field must be a JSON object"
        ))),
        Err(e) => Err(ServiceError::validation(format!(
            "The {field} field is not valid JSON: {e}"
        ))),
    }
}

fn mock(body: &Value) -> Result<Option<TestMock>, ServiceError> {
    let m = match body.get("mock") {
        None | Some(Value::Null) => return Ok(None),
        Some(m @ Value::Object(_)) => m,
        Some(_) => {
            return Err(ServiceError::client(
                "SerializationException",
                "Field 'mock' must be an object",
            ));
        }
    };
    if let Some(mode) = opt_str(m, "fieldValidationMode")?
        && !matches!(mode, "STRICT" | "PRESENT" | "NONE")
    {
        return Err(enum_error(
            "mock.fieldValidationMode",
            mode,
            "STRICT, PRESENT, NONE",
        ));
    }
    let result = opt_str(m, "result")?;
    let error = match m.get("errorOutput") {
        None | Some(Value::Null) => None,
        Some(e @ Value::Object(_)) => Some(TaskFailure {
            error: opt_str(e, "error")?.unwrap_or_default().to_owned(),
            cause: opt_str(e, "cause")?.map(str::to_owned),
        }),
        Some(_) => {
            return Err(ServiceError::client(
                "SerializationException",
                "Field 'mock.errorOutput' must be an object",
            ));
        }
    };
    match (result, error) {
        (Some(r), None) => serde_json::from_str(r)
            .map(|v| Some(TestMock::Result(v)))
            .map_err(|e| {
                ServiceError::validation(format!("The mocked result is not valid JSON: {e}"))
            }),
        (None, Some(f)) => Ok(Some(TestMock::Error(f))),
        _ => Err(ServiceError::validation(
            "A mock must specify exactly one of result or errorOutput.",
        )),
    }
}

fn retrier_retry_count(body: &Value) -> Result<u32, ServiceError> {
    let Some(c) = body.get("stateConfiguration").filter(|c| !c.is_null()) else {
        return Ok(0);
    };
    match c.get("retrierRetryCount") {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
            ServiceError::validation(format!(
                "1 validation error detected: Value '{v}' at 'stateConfiguration.retrierRetryCount' failed to satisfy constraint: Member must have value greater than or equal to 0"
            ))
        }),
    }
}

/// Runs the operation.
pub(crate) async fn test_state(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    let definition = req_str(body, "definition")?;
    max_len("definition", Some(definition), MAX_DEFINITION)?;
    let role = opt_str(body, "roleArn")?;
    if let Some(r) = role {
        check_role(r)?;
    }
    let level = inspection_level(body)?;
    opt_bool(body, "revealSecrets", false)?;
    let state_name = opt_str(body, "stateName")?;
    let variables = json_object_field(body, "variables")?;
    let context = json_object_field(body, "context")?.map(Value::Object);
    let mock = mock(body)?;
    let retries = retrier_retry_count(body)?;
    let (_, input) = parse_input(opt_str(body, "input")?)?;
    let def = TestStateDefinition::parse(definition, state_name).map_err(|e| match e {
        TestStateParseError::Definition(d) => {
            ServiceError::client("InvalidDefinition", d.to_string())
        }
        TestStateParseError::Request(r) => ServiceError::validation(r.to_string()),
    })?;
    let mut execution = ExecutionContext::local(
        "TestStateMachine",
        &uuid::Uuid::new_v4().to_string(),
        epoch_millis(),
    );
    let account = &inner.account;
    execution.execution_arn = account.execution("TestStateMachine", &execution.execution_name);
    execution.state_machine_arn = account.state_machine("TestStateMachine");
    if let Some(r) = role {
        execution.role_arn = r.to_owned();
    }
    let opts = TestStateOptions {
        inspection_level: level,
        variables: variables
            .map(|m| m.into_iter().collect())
            .unwrap_or_default(),
        context,
        mock,
        retrier_retry_count: retries,
        execution,
    };
    // Task timeouts run in real time, whatever the service's time scale.
    let clock = ScaledClock::new(1.0);
    let run = wsflow_asl::test_state::test_state(&def, input, &opts, inner, &clock);
    let result = match tokio::time::timeout(TEST_STATE_LIMIT, run).await {
        Ok(r) => r.map_err(|e| ServiceError::validation(e.to_string()))?,
        Err(_) => TestStateResult {
            status: TestStatus::Failed,
            output: None,
            error: Some(wsflow_asl::error::TIMEOUT.to_owned()),
            cause: Some("The TestState call exceeded its limit of five minutes".to_owned()),
            next_state: None,
            inspection_data: None,
        },
    };
    Ok(result.to_json())
}
