//! AWS Step Functions Local's MockConfigFile: parsing, and a [`TaskInvoker`]
//! that replays `MockedResponses` per state (the k-th invocation of a state gets
//! the k-th response; keys `"0"`, `"1-2"`… cover invocation ranges).

use crate::BoxFuture;
use crate::task::{TaskCall, TaskFailure, TaskInvoker};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// A mocked outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum MockResponse {
    /// `{"Return": …}`.
    Return(Value),
    /// `{"Throw": {"Error", "Cause"}}`.
    Throw(TaskFailure),
}

/// Errors reading a MockConfigFile.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// Not JSON or not the expected shape.
    #[error("invalid MockConfigFile: {0}")]
    Invalid(String),
    /// Unknown state machine or test case.
    #[error("test case '{1}' not found for state machine '{0}'")]
    NoTestCase(String, String),
}

/// A parsed MockConfigFile.
#[derive(Debug, Clone, Default)]
pub struct MockConfigFile {
    /// StateMachines → TestCases → state → response name.
    pub state_machines: HashMap<String, HashMap<String, HashMap<String, String>>>,
    /// Response name → ordered list of (first invocation, last invocation, response).
    pub responses: HashMap<String, Vec<(u32, u32, MockResponse)>>,
}

fn parse_response(v: &Value) -> Result<MockResponse, MockError> {
    if let Some(r) = v.get("Return") {
        return Ok(MockResponse::Return(r.clone()));
    }
    if let Some(t) = v.get("Throw") {
        return Ok(MockResponse::Throw(TaskFailure {
            error: t
                .get("Error")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            cause: t.get("Cause").and_then(Value::as_str).map(str::to_string),
        }));
    }
    Err(MockError::Invalid(
        "a mocked response needs Return or Throw".into(),
    ))
}

impl MockConfigFile {
    /// Parses the file text.
    pub fn parse(text: &str) -> Result<Self, MockError> {
        let v: Value = serde_json::from_str(text).map_err(|e| MockError::Invalid(e.to_string()))?;
        let mut out = MockConfigFile::default();
        if let Some(Value::Object(sms)) = v.get("StateMachines") {
            for (sm, def) in sms {
                let mut cases = HashMap::new();
                if let Some(Value::Object(tcs)) = def.get("TestCases") {
                    for (tc, states) in tcs {
                        let Value::Object(states) = states else {
                            return Err(MockError::Invalid(format!(
                                "test case {tc} must be an object"
                            )));
                        };
                        let m = states
                            .iter()
                            .filter_map(|(s, r)| r.as_str().map(|r| (s.clone(), r.to_string())))
                            .collect();
                        cases.insert(tc.clone(), m);
                    }
                }
                out.state_machines.insert(sm.clone(), cases);
            }
        }
        if let Some(Value::Object(rs)) = v.get("MockedResponses") {
            for (name, steps) in rs {
                let Value::Object(steps) = steps else {
                    return Err(MockError::Invalid(format!(
                        "mocked response {name} must be an object"
                    )));
                };
                let mut list = Vec::new();
                for (k, r) in steps {
                    let (a, b) = match k.split_once('-') {
                        Some((a, b)) => (a.trim().parse(), b.trim().parse()),
                        None => (k.trim().parse(), k.trim().parse()),
                    };
                    let (Ok(a), Ok(b)) = (a, b) else {
                        return Err(MockError::Invalid(format!(
                            "bad invocation key '{k}' in {name}"
                        )));
                    };
                    list.push((a, b, parse_response(r)?));
                }
                list.sort_by_key(|x| x.0);
                out.responses.insert(name.clone(), list);
            }
        }
        Ok(out)
    }

    /// A replaying invoker for one state machine's test case.
    pub fn invoker(&self, state_machine: &str, test_case: &str) -> Result<MockInvoker, MockError> {
        let case = self
            .state_machines
            .get(state_machine)
            .and_then(|c| c.get(test_case))
            .ok_or_else(|| MockError::NoTestCase(state_machine.into(), test_case.into()))?;
        let mut per_state = HashMap::new();
        for (state, resp) in case {
            let list =
                self.responses.get(resp).cloned().ok_or_else(|| {
                    MockError::Invalid(format!("no MockedResponses entry '{resp}'"))
                })?;
            per_state.insert(state.clone(), list);
        }
        Ok(MockInvoker {
            per_state,
            counts: Mutex::new(HashMap::new()),
        })
    }
}

/// Replays mocked responses; unmocked states fail with `States.TaskFailed`.
#[derive(Debug)]
pub struct MockInvoker {
    per_state: HashMap<String, Vec<(u32, u32, MockResponse)>>,
    counts: Mutex<HashMap<String, u32>>,
}

impl MockInvoker {
    /// Builds an invoker from per-state ordered responses (the k-th call gets the k-th).
    pub fn from_lists(lists: HashMap<String, Vec<MockResponse>>) -> Self {
        let per_state = lists
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    v.into_iter()
                        .enumerate()
                        .map(|(i, r)| (i as u32, i as u32, r))
                        .collect(),
                )
            })
            .collect();
        MockInvoker {
            per_state,
            counts: Mutex::new(HashMap::new()),
        }
    }

    fn next(&self, state: &str) -> Option<MockResponse> {
        let k = {
            let mut c = self.counts.lock().ok()?;
            let e = c.entry(state.to_string()).or_insert(0);
            let k = *e;
            *e += 1;
            k
        };
        let list = self.per_state.get(state)?;
        list.iter()
            .find(|(a, b, _)| *a <= k && k <= *b)
            .or_else(|| list.last())
            .map(|x| x.2.clone())
    }
}

impl MockInvoker {
    /// The mocked outcome of `call`, or `None` when the test case mocks no
    /// response for its state (Step Functions Local then calls the real
    /// integration). Each answered call counts as one invocation of the state.
    pub fn answer(&self, call: &TaskCall) -> Option<Result<Value, TaskFailure>> {
        Some(match self.next(&call.state_name)? {
            MockResponse::Return(v) => {
                // A bare Lambda ARN's mocked response is the Invoke API response; the state's
                // result is its Payload.
                match v.get("Payload") {
                    Some(p) if call.resource.starts_with("arn:aws:lambda:") => Ok(p.clone()),
                    _ => Ok(v),
                }
            }
            MockResponse::Throw(f) => Err(f),
        })
    }

    /// Counts `calls` invocations of `state_name` as made elsewhere (a
    /// resumed execution's recorded calls), so the next call gets the
    /// response after them.
    pub fn skip(&self, state_name: &str, calls: u32) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(state_name.to_string()).or_insert(0) += calls;
        }
    }

    /// Whether the test case mocks the state `state_name`.
    pub fn mocks(&self, state_name: &str) -> bool {
        self.per_state.contains_key(state_name)
    }
}

impl TaskInvoker for MockInvoker {
    fn invoke<'a>(&'a self, call: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        let r = self.answer(&call);
        Box::pin(async move {
            r.unwrap_or_else(|| {
                Err(TaskFailure::new(
                    crate::error::TASK_FAILED,
                    format!("No mocked response for state '{}'", call.state_name),
                ))
            })
        })
    }
}
