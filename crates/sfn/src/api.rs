//! The Step Functions API: one function per operation, JSON in, JSON out,
//! AWS's validation and error names. Timestamps are epoch seconds (floats),
//! as the JSON 1.0 protocol encodes them.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use wsflow_asl::{Severity, StateMachine, TaskFailure};
use wsflow_aws_wire::ServiceError;

use crate::MachineType;
use crate::clock::{epoch_millis, epoch_seconds};
use crate::executions::{self, check_execution_arn};
use crate::names::{check_name, split_states_arn};
use crate::records::{ExecutionRecord, MachineRecord, Status};
use crate::service::{Inner, Machine};

/// Runs one operation.
pub(crate) async fn dispatch(inner: &Inner, op: &str, body: &Value) -> Result<Value, ServiceError> {
    if !body.is_object() {
        return Err(ServiceError::client(
            "SerializationException",
            "Request body must be a JSON object",
        ));
    }
    match op {
        "StartExecution" => start_execution(inner, body).await,
        "StartSyncExecution" => start_sync_execution(inner, body).await,
        "DescribeExecution" => describe_execution(inner, body),
        "StopExecution" => stop_execution(inner, body).await,
        "ListExecutions" => list_executions(inner, body),
        "GetExecutionHistory" => get_execution_history(inner, body).await,
        "DescribeStateMachine" => describe_state_machine(inner, body),
        "DescribeStateMachineForExecution" => describe_state_machine_for_execution(inner, body),
        "ListStateMachines" => list_state_machines(inner, body),
        "CreateStateMachine" => create_state_machine(inner, body).await,
        "UpdateStateMachine" => update_state_machine(inner, body).await,
        "DeleteStateMachine" => delete_state_machine(inner, body).await,
        "ValidateStateMachineDefinition" => validate_definition(body),
        "SendTaskSuccess" => send_task_success(inner, body),
        "SendTaskFailure" => send_task_failure(inner, body),
        "SendTaskHeartbeat" => send_task_heartbeat(inner, body),
        "TestState" => crate::test_state::test_state(inner, body).await,
        other => Err(ServiceError::client(
            "UnknownOperationException",
            format!("Unknown operation {other}"),
        )),
    }
}

// ---- request field helpers -------------------------------------------------

/// The `input` of StartExecution / StartSyncExecution, with AWS's 256 KiB
/// limit enforced at the API (ValidationException), before anything runs.
fn execution_input(body: &Value) -> Result<Option<&str>, ServiceError> {
    let input = opt_str(body, "input")?;
    if let Some(message) = input.and_then(wsflow_asl::limits::execution_input_error) {
        return Err(ServiceError::validation(message));
    }
    Ok(input)
}

pub(crate) fn opt_str<'a>(body: &'a Value, field: &str) -> Result<Option<&'a str>, ServiceError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ServiceError::client(
            "SerializationException",
            format!("Field '{field}' must be a string"),
        )),
    }
}

pub(crate) fn req_str<'a>(body: &'a Value, field: &str) -> Result<&'a str, ServiceError> {
    opt_str(body, field)?.ok_or_else(|| {
        ServiceError::validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

pub(crate) fn max_len(field: &str, value: Option<&str>, max: usize) -> Result<(), ServiceError> {
    match value {
        Some(v) if v.chars().count() > max => Err(ServiceError::validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"
        ))),
        _ => Ok(()),
    }
}

pub(crate) fn opt_bool(body: &Value, field: &str, default: bool) -> Result<bool, ServiceError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ServiceError::client(
            "SerializationException",
            format!("Field '{field}' must be a boolean"),
        )),
    }
}

/// `maxResults` (0–1000; 0 or absent means the default of 100).
fn max_results(body: &Value) -> Result<usize, ServiceError> {
    match body.get("maxResults") {
        None | Some(Value::Null) => Ok(100),
        Some(v) => match v.as_i64() {
            Some(0) => Ok(100),
            Some(n @ 1..=1000) => Ok(n as usize),
            _ => Err(ServiceError::validation(format!(
                "1 validation error detected: Value '{v}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
            ))),
        },
    }
}

/// One page of `items` (already in result order, each with a unique key):
/// the `nextToken` is the key of the last item returned.
fn page(
    items: Vec<(String, Value)>,
    body: &Value,
) -> Result<(Vec<Value>, Option<String>), ServiceError> {
    let max = max_results(body)?;
    let start = match opt_str(body, "nextToken")? {
        None => 0,
        Some(t) => items
            .iter()
            .position(|(k, _)| k == t)
            .map(|p| p + 1)
            .ok_or_else(|| ServiceError::client("InvalidToken", format!("Invalid Token: '{t}'")))?,
    };
    let total = items.len();
    let taken: Vec<(String, Value)> = items.into_iter().skip(start).take(max).collect();
    let next = if start + taken.len() < total {
        taken.last().map(|(k, _)| k.clone())
    } else {
        None
    };
    Ok((taken.into_iter().map(|(_, v)| v).collect(), next))
}

fn with_token(mut v: Value, next: Option<String>) -> Value {
    if let (Some(t), Some(o)) = (next, v.as_object_mut()) {
        o.insert("nextToken".into(), json!(t));
    }
    v
}

fn me(inner: &Inner) -> Result<Arc<Inner>, ServiceError> {
    inner
        .arc()
        .ok_or_else(|| ServiceError::internal("the Step Functions service is shutting down"))
}

// ---- executions ------------------------------------------------------------

async fn start_execution(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    let arn = req_str(body, "stateMachineArn")?;
    let started = executions::start(
        &me(inner)?,
        arn,
        opt_str(body, "name")?,
        execution_input(body)?,
    )
    .await?;
    Ok(json!({
        "executionArn": started.record.execution_arn,
        "startDate": epoch_seconds(started.record.start_millis),
    }))
}

fn execution_json(rec: &ExecutionRecord, sync: bool) -> Value {
    let mut m = Map::new();
    m.insert("executionArn".into(), json!(rec.execution_arn));
    m.insert("stateMachineArn".into(), json!(rec.state_machine_arn));
    m.insert("name".into(), json!(rec.name));
    m.insert("status".into(), json!(rec.status.as_str()));
    m.insert("startDate".into(), json!(epoch_seconds(rec.start_millis)));
    if let Some(s) = rec.stop_millis {
        m.insert("stopDate".into(), json!(epoch_seconds(s)));
    }
    m.insert("input".into(), json!(rec.input));
    m.insert("inputDetails".into(), json!({"included": true}));
    if let Some(o) = &rec.output {
        m.insert("output".into(), json!(o));
        m.insert("outputDetails".into(), json!({"included": true}));
    }
    if let Some(e) = &rec.error {
        m.insert("error".into(), json!(e));
    }
    if let Some(c) = &rec.cause {
        m.insert("cause".into(), json!(c));
    }
    if sync {
        let billed = rec.stop_millis.unwrap_or(rec.start_millis) - rec.start_millis;
        let billed = (billed.max(1) + 99) / 100 * 100;
        m.insert(
            "billingDetails".into(),
            json!({"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": billed}),
        );
    } else {
        m.insert("redriveCount".into(), json!(0));
        m.insert(
            "redriveStatus".into(),
            json!(if rec.status == Status::Running {
                "NOT_REDRIVABLE"
            } else {
                "REDRIVABLE"
            }),
        );
    }
    Value::Object(m)
}

async fn start_sync_execution(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    let arn = req_str(body, "stateMachineArn")?;
    let rec = executions::run_sync(
        &me(inner)?,
        arn,
        opt_str(body, "name")?,
        execution_input(body)?,
    )
    .await?;
    Ok(execution_json(&rec, true))
}

fn describe_execution(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    let rec = executions::describe(inner, req_str(body, "executionArn")?)?;
    Ok(execution_json(&rec, false))
}

async fn stop_execution(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    let arn = req_str(body, "executionArn")?;
    let error = opt_str(body, "error")?;
    let cause = opt_str(body, "cause")?;
    max_len("error", error, 256)?;
    max_len("cause", cause, 32768)?;
    let stopped = executions::stop(
        inner,
        arn,
        error.map(str::to_owned),
        cause.map(str::to_owned),
    )
    .await?;
    Ok(json!({ "stopDate": epoch_seconds(stopped) }))
}

fn list_executions(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    let arn = req_str(body, "stateMachineArn")?;
    let m = executions::machine(inner, arn)?;
    if m.kind == MachineType::Express {
        return Err(ServiceError::client(
            "StateMachineTypeNotSupported",
            "This operation is not supported by this type of state machine",
        ));
    }
    let filter = match opt_str(body, "statusFilter")? {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            ServiceError::validation(format!(
                "1 validation error detected: Value '{s}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]"
            ))
        })?),
    };
    let prefix = format!(
        "{}:",
        inner.account.execution(&m.name, "").trim_end_matches(':')
    );
    let mut recs = inner
        .store
        .executions_with_prefix(&prefix)
        .map_err(|e| ServiceError::internal(e.to_string()))?;
    {
        // Records in the live map are newer than the stored ones.
        let live = inner.live.lock().unwrap_or_else(|p| p.into_inner());
        for r in recs.iter_mut() {
            if let Some(l) = live.get(&r.execution_arn) {
                *r = l.record.lock().unwrap_or_else(|p| p.into_inner()).clone();
            }
        }
    }
    recs.retain(|r| filter.is_none_or(|f| r.status == f));
    recs.sort_by(|a, b| {
        b.start_millis
            .cmp(&a.start_millis)
            .then_with(|| b.execution_arn.cmp(&a.execution_arn))
    });
    let items = recs
        .iter()
        .map(|r| {
            let mut v = json!({
                "executionArn": r.execution_arn,
                "stateMachineArn": r.state_machine_arn,
                "name": r.name,
                "status": r.status.as_str(),
                "startDate": epoch_seconds(r.start_millis),
            });
            if let (Some(s), Some(o)) = (r.stop_millis, v.as_object_mut()) {
                o.insert("stopDate".into(), json!(epoch_seconds(s)));
            }
            (r.execution_arn.clone(), v)
        })
        .collect();
    let (executions, next) = page(items, body)?;
    Ok(with_token(json!({ "executions": executions }), next))
}

/// Removes execution data (`input`, `output`) from an event's details.
fn strip_data(event: &mut Value) {
    if let Some(o) = event.as_object_mut() {
        for (k, v) in o.iter_mut() {
            if k.ends_with("EventDetails")
                && let Some(d) = v.as_object_mut()
            {
                for key in ["input", "output", "inputDetails", "outputDetails"] {
                    d.remove(key);
                }
            }
        }
    }
}

async fn get_execution_history(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    let arn = req_str(body, "executionArn")?;
    check_execution_arn(arn)?;
    if split_states_arn(arn, "express").is_ok() {
        return Err(ServiceError::client(
            "StateMachineTypeNotSupported",
            "This operation is not supported by this type of state machine",
        ));
    }
    let reverse = opt_bool(body, "reverseOrder", false)?;
    let include_data = opt_bool(body, "includeExecutionData", true)?;
    // The record decides existence; pending event writes are flushed first so
    // the history is complete up to this call.
    executions::describe(inner, arn)?;
    inner
        .store
        .sync()
        .await
        .map_err(|e| ServiceError::internal(e.to_string()))?;
    let mut events = inner
        .store
        .history(arn)
        .map_err(|e| ServiceError::internal(e.to_string()))?;
    if reverse {
        events.reverse();
    }
    let items = events
        .into_iter()
        .map(|mut e| {
            if !include_data {
                strip_data(&mut e);
            }
            (e.get("id").map(Value::to_string).unwrap_or_default(), e)
        })
        .collect();
    let (events, next) = page(items, body)?;
    Ok(with_token(json!({ "events": events }), next))
}

// ---- state machines ----------------------------------------------------------

fn machine_json(m: &Machine) -> Value {
    json!({
        "stateMachineArn": m.arn,
        "name": m.name,
        "status": "ACTIVE",
        "definition": m.definition,
        "roleArn": m.role_arn,
        "type": m.kind.as_str(),
        "creationDate": epoch_seconds(m.created_millis),
        "loggingConfiguration": {"level": "OFF", "includeExecutionData": false},
        "tracingConfiguration": {"enabled": false},
    })
}

fn describe_state_machine(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    let m = executions::machine(inner, req_str(body, "stateMachineArn")?)?;
    Ok(machine_json(&m))
}

fn describe_state_machine_for_execution(
    inner: &Inner,
    body: &Value,
) -> Result<Value, ServiceError> {
    let rec = executions::describe(inner, req_str(body, "executionArn")?)?;
    let m = executions::machine(inner, &rec.state_machine_arn)?;
    let mut v = machine_json(&m);
    if let Some(o) = v.as_object_mut() {
        o.insert("updateDate".into(), json!(epoch_seconds(m.created_millis)));
    }
    Ok(v)
}

fn list_state_machines(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    let items = inner
        .machines
        .read()
        .map_err(|_| ServiceError::internal("machine registry poisoned"))?
        .values()
        .map(|m| {
            (
                m.arn.clone(),
                json!({
                    "stateMachineArn": m.arn,
                    "name": m.name,
                    "type": m.kind.as_str(),
                    "creationDate": epoch_seconds(m.created_millis),
                }),
            )
        })
        .collect();
    let (machines, next) = page(items, body)?;
    Ok(with_token(json!({ "stateMachines": machines }), next))
}

fn parse_definition(definition: &str) -> Result<StateMachine, ServiceError> {
    StateMachine::parse(definition)
        .map_err(|e| ServiceError::client("InvalidDefinition", e.to_string()))
}

fn machine_type(body: &Value) -> Result<MachineType, ServiceError> {
    match opt_str(body, "type")? {
        None | Some("STANDARD") => Ok(MachineType::Standard),
        Some("EXPRESS") => Ok(MachineType::Express),
        Some(other) => Err(ServiceError::validation(format!(
            "1 validation error detected: Value '{other}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
        ))),
    }
}

pub(crate) fn check_role(role: &str) -> Result<(), ServiceError> {
    match wsflow_aws_wire::arn::parse(role) {
        Some(a) if a.service == "iam" => Ok(()),
        _ => Err(ServiceError::client(
            "InvalidArn",
            format!("Invalid Arn: 'Invalid ARN prefix: {role}'"),
        )),
    }
}

async fn create_state_machine(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    let name = req_str(body, "name")?;
    let definition = req_str(body, "definition")?;
    let role = req_str(body, "roleArn")?;
    let kind = machine_type(body)?;
    check_name(name)?;
    check_role(role)?;
    let parsed = parse_definition(definition)?;
    let arn = inner.account.state_machine(name);
    let rec = MachineRecord {
        name: name.to_owned(),
        kind,
        definition: definition.to_owned(),
        role_arn: role.to_owned(),
        created_millis: epoch_millis(),
    };
    {
        let mut machines = inner
            .machines
            .write()
            .map_err(|_| ServiceError::internal("machine registry poisoned"))?;
        if let Some(existing) = machines.get(&arn) {
            return if existing.definition == definition
                && existing.role_arn == role
                && existing.kind == kind
            {
                Ok(
                    json!({"stateMachineArn": arn, "creationDate": epoch_seconds(existing.created_millis)}),
                )
            } else {
                Err(ServiceError::client(
                    "StateMachineAlreadyExists",
                    format!("State Machine Already Exists: '{arn}'"),
                ))
            };
        }
        machines.insert(
            arn.clone(),
            Arc::new(crate::service::machine_from_record(
                arn.clone(),
                rec.clone(),
                parsed,
            )),
        );
    }
    inner.store.put_machine(&arn, &rec);
    inner
        .store
        .sync()
        .await
        .map_err(|e| ServiceError::internal(e.to_string()))?;
    Ok(json!({"stateMachineArn": arn, "creationDate": epoch_seconds(rec.created_millis)}))
}

async fn update_state_machine(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    let arn = req_str(body, "stateMachineArn")?;
    let definition = opt_str(body, "definition")?;
    let role = opt_str(body, "roleArn")?;
    if definition.is_none() && role.is_none() {
        return Err(ServiceError::client(
            "MissingRequiredParameter",
            "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified",
        ));
    }
    if let Some(r) = role {
        check_role(r)?;
    }
    let old = executions::machine(inner, arn)?;
    let (definition, parsed) = match definition {
        Some(d) => (d.to_owned(), parse_definition(d)?),
        None => (old.definition.clone(), old.parsed.clone()),
    };
    let updated = Machine {
        arn: old.arn.clone(),
        name: old.name.clone(),
        kind: old.kind,
        version: crate::service::definition_version(&definition),
        definition,
        parsed,
        role_arn: role
            .map(str::to_owned)
            .unwrap_or_else(|| old.role_arn.clone()),
        created_millis: old.created_millis,
        from_template: old.from_template,
    };
    let now = epoch_millis();
    if !updated.from_template {
        inner.store.put_machine(
            arn,
            &MachineRecord {
                name: updated.name.clone(),
                kind: updated.kind,
                definition: updated.definition.clone(),
                role_arn: updated.role_arn.clone(),
                created_millis: updated.created_millis,
            },
        );
        inner
            .store
            .sync()
            .await
            .map_err(|e| ServiceError::internal(e.to_string()))?;
    }
    inner
        .machines
        .write()
        .map_err(|_| ServiceError::internal("machine registry poisoned"))?
        .insert(arn.to_owned(), Arc::new(updated));
    Ok(json!({ "updateDate": epoch_seconds(now) }))
}

async fn delete_state_machine(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    let arn = req_str(body, "stateMachineArn")?;
    split_states_arn(arn, "stateMachine")?;
    let removed = inner
        .machines
        .write()
        .map_err(|_| ServiceError::internal("machine registry poisoned"))?
        .remove(arn);
    if let Some(m) = removed
        && !m.from_template
    {
        inner.store.delete_machine(arn);
        inner
            .store
            .sync()
            .await
            .map_err(|e| ServiceError::internal(e.to_string()))?;
    }
    Ok(json!({}))
}

fn validate_definition(body: &Value) -> Result<Value, ServiceError> {
    let definition = req_str(body, "definition")?;
    machine_type(body)?;
    let diagnostics = wsflow_asl::validate(definition);
    let failed = diagnostics.iter().any(|d| d.severity == Severity::Error);
    let list: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let mut v = json!({
                "severity": if d.severity == Severity::Error { "ERROR" } else { "WARNING" },
                "code": d.code,
                "message": d.message,
            });
            if let (Some(l), Some(o)) = (&d.location, v.as_object_mut()) {
                o.insert("location".into(), json!(l));
            }
            v
        })
        .collect();
    Ok(json!({
        "result": if failed { "FAIL" } else { "OK" },
        "diagnostics": list,
        "truncated": false,
    }))
}

// ---- task tokens -------------------------------------------------------------

fn token(body: &Value) -> Result<&str, ServiceError> {
    let t = req_str(body, "taskToken")?;
    max_len("taskToken", Some(t), 2048)?;
    Ok(t)
}

fn send_task_success(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    let t = token(body)?;
    let output = req_str(body, "output")?;
    let value: Value = serde_json::from_str(output)
        .map_err(|e| ServiceError::client("InvalidOutput", format!("Invalid Output: '{e}'")))?;
    inner.tokens.complete(t, Ok(value))?;
    Ok(json!({}))
}

fn send_task_failure(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    let t = token(body)?;
    let error = opt_str(body, "error")?;
    let cause = opt_str(body, "cause")?;
    max_len("error", error, 256)?;
    max_len("cause", cause, 32768)?;
    inner.tokens.complete(
        t,
        Err(TaskFailure {
            error: error.unwrap_or("").to_owned(),
            cause: cause.map(str::to_owned),
        }),
    )?;
    Ok(json!({}))
}

fn send_task_heartbeat(inner: &Inner, body: &Value) -> Result<Value, ServiceError> {
    inner
        .tokens
        .heartbeat(token(body)?, crate::clock::epoch_millis())?;
    Ok(json!({}))
}
