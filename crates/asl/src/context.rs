//! The execution context: what feeds the context object (`$$` in JSONPath,
//! `$states.context` in JSONata).

/// Identity and timing of one execution.
///
/// An `execution_arn` of the EXPRESS form (`arn:…:express:<machine>:<name>:<id>`)
/// marks an EXPRESS execution: its context object has no `Execution.RedriveCount`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecutionContext {
    /// `arn:aws:states:…:execution:<machine>:<name>`.
    pub execution_arn: String,
    /// Execution name.
    pub execution_name: String,
    /// State machine ARN.
    pub state_machine_arn: String,
    /// State machine name.
    pub state_machine_name: String,
    /// The execution role ARN.
    pub role_arn: String,
    /// Start time, milliseconds since the Unix epoch.
    pub start_time_millis: i64,
    /// How many times the execution was redriven.
    pub redrive_count: u32,
}

impl ExecutionContext {
    /// A context for a local run of the machine `name` (execution name `name`-run),
    /// with ARNs in account 123456789012, us-east-1.
    pub fn local(machine_name: &str, execution_name: &str, start_time_millis: i64) -> Self {
        let sm = format!("arn:aws:states:us-east-1:123456789012:stateMachine:{machine_name}");
        ExecutionContext {
            execution_arn: format!(
                "arn:aws:states:us-east-1:123456789012:execution:{machine_name}:{execution_name}"
            ),
            execution_name: execution_name.to_string(),
            state_machine_arn: sm,
            state_machine_name: machine_name.to_string(),
            role_arn: "arn:aws:iam::123456789012:role/StepFunctionsRole".to_string(),
            start_time_millis,
            redrive_count: 0,
        }
    }
}
