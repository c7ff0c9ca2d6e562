//! Mocked service integrations, as AWS Step Functions Local runs them with
//! `SFN_MOCK_CONFIG`: the stack is started with a MockConfigFile
//! ([`crate::SfnOptions::mocks`]), and StartExecution or StartSyncExecution
//! on `<stateMachineArn>#<TestCaseName>` runs that execution with the test
//! case's mocked responses. A state the test case maps to a response gets
//! it (the k-th invocation of the state its k-th response), and its history
//! events are those of the real call; a state it does not map calls the real
//! integration, as Step Functions Local does for a "hybrid" test case.
//! Without a test case, executions run for real.
//!
//! An ARN naming a test case the file does not have (or any test case, when
//! the stack has no MockConfigFile) names no state machine:
//! `StateMachineDoesNotExist`, with the ARN as sent, as for any ARN that
//! names nothing; the stack's log says which test cases exist.

use std::sync::Arc;

use serde_json::Value;
use wsflow_asl::mock::{MockConfigFile, MockInvoker};
use wsflow_asl::{BoxFuture, TaskCall, TaskFailure, TaskInvoker};
use wsflow_aws_wire::ServiceError;

/// Splits `<stateMachineArn>#<TestCaseName>` into the machine's ARN and the
/// test case.
pub(crate) fn split_test_case(arn: &str) -> (&str, Option<&str>) {
    match arn.split_once('#') {
        Some((machine, case)) => (machine, Some(case)),
        None => (arn, None),
    }
}

/// The invoker for one execution of `machine` with `test_case`; `None`
/// without a test case.
pub(crate) fn for_test_case(
    config: Option<&Arc<MockConfigFile>>,
    requested_arn: &str,
    machine: &str,
    test_case: Option<&str>,
) -> Result<Option<MockInvoker>, ServiceError> {
    let Some(case) = test_case else {
        return Ok(None);
    };
    let missing = || {
        ServiceError::client(
            "StateMachineDoesNotExist",
            format!("State Machine Does Not Exist: '{requested_arn}'"),
        )
    };
    let Some(config) = config else {
        tracing::warn!(
            arn = requested_arn,
            "test case '{case}' requested, but the stack runs without a MockConfigFile (wsflow up --mocks FILE)"
        );
        return Err(missing());
    };
    config.invoker(machine, case).map(Some).map_err(|e| {
        let mut known: Vec<&str> = config
            .state_machines
            .get(machine)
            .map(|cases| cases.keys().map(String::as_str).collect())
            .unwrap_or_default();
        known.sort_unstable();
        tracing::warn!(
            arn = requested_arn,
            "{e}; test cases of '{machine}' in the MockConfigFile: {known:?}"
        );
        missing()
    })
}

/// A test case's mocks in front of the real integrations.
pub(crate) struct Mocked<'a> {
    /// The test case's responses.
    pub mocks: &'a MockInvoker,
    /// Everything the test case does not mock.
    pub real: &'a dyn TaskInvoker,
}

impl TaskInvoker for Mocked<'_> {
    fn invoke<'a>(&'a self, call: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        match self.mocks.answer(&call) {
            Some(outcome) => Box::pin(async move { outcome }),
            None => self.real.invoke(call),
        }
    }

    fn last_heartbeat_millis(&self, task_token: &str) -> Option<i64> {
        self.real.last_heartbeat_millis(task_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_test_case_off_the_arn() {
        let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:M";
        assert_eq!(split_test_case(arn), (arn, None));
        assert_eq!(
            split_test_case(&format!("{arn}#HappyPath")),
            (arn, Some("HappyPath"))
        );
    }

    #[test]
    fn unknown_test_cases_name_no_state_machine() {
        let config = Arc::new(
            MockConfigFile::parse(
                r#"{"StateMachines": {"M": {"TestCases": {"Happy": {"S": "R"}}}},
                    "MockedResponses": {"R": {"0": {"Return": 1}}}}"#,
            )
            .unwrap(),
        );
        let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:M#Nope";
        for config in [Some(&config), None] {
            let e = for_test_case(config, arn, "M", Some("Nope")).unwrap_err();
            assert_eq!(e.code, "StateMachineDoesNotExist");
            assert_eq!(e.message, format!("State Machine Does Not Exist: '{arn}'"));
        }
        assert!(
            for_test_case(Some(&config), arn, "M", Some("Happy"))
                .unwrap()
                .is_some()
        );
        assert!(for_test_case(None, arn, "M", None).unwrap().is_none());
    }
}
