//! The compiled state machine: the definition JSON turned once into states
//! with pre-parsed paths, templates, choice rules and JSONata expressions.
//! Compilation collects [`Diagnostic`]s instead of stopping at the first error.

mod compile;

use crate::choice::Rule;
use crate::error::{DefinitionError, Diagnostic};
use crate::jsonata::{JExpr, JTemplate};
use crate::path::JsonPath;
use crate::payload::Template;
use crate::retry::Retrier;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The query language of a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    /// `JSONPath` (default).
    JsonPath,
    /// `JSONata`.
    JsonAta,
}

/// `InputPath`/`OutputPath`: absent (`$`), `null`, or a path.
#[derive(Debug, Clone, PartialEq)]
pub enum IoPath {
    /// Field absent: `$`.
    Identity,
    /// `null`: `{}`.
    Null,
    /// A path.
    Path(JsonPath),
}

/// `ResultPath`.
#[derive(Debug, Clone, PartialEq)]
pub enum ResultPath {
    /// Absent or `$`: the result replaces the input.
    Replace,
    /// `null`: the result is discarded.
    Discard,
    /// A reference path into the input.
    Path(JsonPath),
}

/// A number given literally, via a `…Path` field, or as a JSONata expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Dyn<T> {
    /// A literal.
    Lit(T),
    /// A reference path.
    Path(JsonPath),
    /// A JSONata expression.
    Expr(JExpr),
    /// A JSONPath-mode intrinsic call (as a one-key template `{"x.$": …}`).
    Intrinsic(Template),
}

/// `Assign`: a JSONPath template or a JSONata template.
#[derive(Debug, Clone, PartialEq)]
pub enum Assign {
    /// JSONPath-flavour template.
    Path(Template),
    /// JSONata template.
    Ata(JTemplate),
}

/// A `Catch` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    /// Error names.
    pub error_equals: Vec<String>,
    /// Where the error output goes (JSONPath).
    pub result_path: ResultPath,
    /// Target state.
    pub next: usize,
    /// Variables to assign.
    pub assign: Option<Assign>,
    /// JSONata Output.
    pub output: Option<JTemplate>,
}

/// One Choice branch.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceBranch {
    /// The JSONPath rule…
    pub rule: Option<Rule>,
    /// …or the JSONata condition.
    pub condition: Option<JTemplate>,
    /// Target.
    pub next: usize,
    /// Variables to assign when taken.
    pub assign: Option<Assign>,
    /// JSONata Output when taken.
    pub output: Option<JTemplate>,
}

/// Wait duration source.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitFor {
    /// `Seconds` (literal, `SecondsPath` or JSONata).
    Seconds(Dyn<i64>),
    /// `Timestamp` (literal, `TimestampPath` or JSONata).
    Timestamp(Dyn<String>),
}

/// Map ItemBatcher.
#[derive(Debug, Clone, PartialEq)]
pub struct Batcher {
    /// MaxItemsPerBatch.
    pub max_items: Option<Dyn<u64>>,
    /// MaxInputBytesPerBatch.
    pub max_bytes: Option<Dyn<u64>>,
    /// BatchInput.
    pub batch_input: Option<Value>,
}

/// Map state settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MapSpec {
    /// The iteration workflow.
    pub processor: Graph,
    /// ItemsPath (JSONPath).
    pub items_path: Option<JsonPath>,
    /// Items (JSONata expression/array, or JSONPath literal array).
    pub items: Option<JTemplate>,
    /// ItemSelector / legacy Parameters.
    pub item_selector: Option<Template>,
    /// JSONata ItemSelector.
    pub item_selector_ata: Option<JTemplate>,
    /// MaxConcurrency.
    pub max_concurrency: Option<Dyn<u64>>,
    /// ToleratedFailureCount.
    pub tolerated_count: Option<Dyn<f64>>,
    /// ToleratedFailurePercentage.
    pub tolerated_percentage: Option<Dyn<f64>>,
    /// ItemBatcher.
    pub batcher: Option<Batcher>,
    /// DISTRIBUTED mode (run inline here).
    pub distributed: bool,
}

/// State-kind-specific parts.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Pass with optional Result.
    Pass {
        /// `Result`.
        result: Option<crate::value::Val>,
        /// The static Result exceeds the payload limit (checked once at load).
        result_too_large: bool,
    },
    /// Task.
    Task {
        /// `Resource`.
        resource: String,
        /// TimeoutSeconds.
        timeout: Option<Dyn<u64>>,
        /// HeartbeatSeconds.
        heartbeat: Option<Dyn<u64>>,
    },
    /// Choice.
    Choice {
        /// Branches in order.
        branches: Vec<ChoiceBranch>,
        /// Default target.
        default: Option<usize>,
    },
    /// Wait.
    Wait(WaitFor),
    /// Succeed.
    Succeed,
    /// Fail.
    Fail {
        /// Error (literal, path or expression).
        error: Option<Dyn<String>>,
        /// Cause.
        cause: Option<Dyn<String>>,
    },
    /// Parallel.
    Parallel {
        /// Branch workflows.
        branches: Vec<Graph>,
    },
    /// Map.
    Map(Box<MapSpec>),
}

/// One compiled state.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Name.
    pub name: String,
    /// Type name as in the definition (`Pass`, `Task`…).
    pub type_name: &'static str,
    /// Query language in force.
    pub ql: QueryLanguage,
    /// Kind-specific data.
    pub kind: Kind,
    /// InputPath.
    pub input_path: IoPath,
    /// OutputPath.
    pub output_path: IoPath,
    /// ResultPath.
    pub result_path: ResultPath,
    /// Parameters (JSONPath).
    pub parameters: Option<Template>,
    /// ResultSelector (JSONPath).
    pub result_selector: Option<Template>,
    /// Arguments (JSONata).
    pub arguments: Option<JTemplate>,
    /// Output (JSONata).
    pub output: Option<JTemplate>,
    /// Assign.
    pub assign: Option<Assign>,
    /// Next state index; `None` = End (or terminal type).
    pub next: Option<usize>,
    /// Retriers.
    pub retry: Vec<Retrier>,
    /// Catchers.
    pub catch: Vec<Catcher>,
    /// Whether the state reads the context object (`$$` / `$states.context`).
    pub uses_context: bool,
}

/// A set of states with a start (the machine, a Parallel branch, a Map processor).
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// Index of StartAt.
    pub start: usize,
    /// The states.
    pub states: Vec<State>,
    /// Name → index.
    pub names: HashMap<String, usize>,
}

/// A compiled machine.
#[derive(Debug, PartialEq)]
pub struct Machine {
    /// Top-level states.
    pub graph: Graph,
    /// Machine-level TimeoutSeconds.
    pub timeout_seconds: Option<u64>,
    /// Top-level QueryLanguage.
    pub query_language: QueryLanguage,
    /// The source definition.
    pub definition: Value,
}

/// A parsed and validated state machine (cheap to clone).
#[derive(Debug, Clone)]
pub struct StateMachine {
    inner: Arc<Machine>,
}

impl StateMachine {
    /// Parses and compiles a definition; fails with every diagnostic of severity Error.
    pub fn parse(definition: &str) -> Result<StateMachine, DefinitionError> {
        let v: Value = serde_json::from_str(definition).map_err(|e| DefinitionError {
            diagnostics: vec![Diagnostic::error(
                "INVALID_JSON_DESCRIPTION",
                format!("Invalid JSON: {e}"),
                "",
            )],
        })?;
        Self::from_value(v)
    }

    /// Like [`StateMachine::parse`] from an already-decoded definition.
    pub fn from_value(v: Value) -> Result<StateMachine, DefinitionError> {
        let (m, diags) = compile::compile(v);
        let errors: Vec<Diagnostic> = diags
            .into_iter()
            .filter(|d| d.severity == crate::Severity::Error)
            .collect();
        match m {
            Some(m) if errors.is_empty() => Ok(StateMachine { inner: Arc::new(m) }),
            _ => Err(DefinitionError {
                diagnostics: errors,
            }),
        }
    }

    /// The compiled machine.
    pub fn machine(&self) -> &Machine {
        &self.inner
    }

    /// The definition as given.
    pub fn definition(&self) -> &Value {
        &self.inner.definition
    }
}

pub(crate) use compile::compile as compile_definition;
