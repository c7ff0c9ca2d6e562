//! A template reload applied as CloudFormation applies a stack update, in
//! two phases so that it is all or nothing:
//!
//! 1. [`plan`] checks everything against the new template without touching
//!    the running stack: the WebSocket API is compiled (a dry-run
//!    [`Gateway::new`]), every new or changed state machine definition,
//!    table, queue and topic is validated, the functions' configurations are
//!    prepared, and Rust functions that are new or whose code moved are
//!    built with cargo. Any error refuses the whole reload: the last good
//!    version keeps serving.
//! 2. [`Plan::apply`] makes the changes with each service's own operations,
//!    creations and updates first (tables, queues, functions, state
//!    machines, topics, event sources), then the new routes (which may use
//!    them), then the deletions (which the new routes no longer use).
//!
//! What each service does is its API's behaviour: a table whose key schema
//! changed is replaced (its items are gone, as on AWS), a removed queue is
//! deleted with its messages, a removed function's in-flight invocations
//! finish, a deleted state machine's running executions finish.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use wsflow_aws_wire::Account;
use wsflow_dynamodb::{DynamoDb, TableChange, TableSpec};
use wsflow_gateway::{ApiConfig, Backends, Gateway};
use wsflow_lambda_api::LambdaApi;
use wsflow_lambda_host::{FunctionSpec, LambdaHost};
use wsflow_sfn::{MachineSpec, StepFunctions};
use wsflow_sns::Sns;
use wsflow_sqs::{EventSourceMapping, QueueSpec, Sqs};
use wsflow_template::{App, Function};

use super::event_sources::EventSources;
use super::functions::{self, Built};
use super::rebuild::Rebuilder;
use super::{UpArgs, services};

/// The running stack a reload changes.
pub struct Live {
    /// Step Functions: the template's machines.
    pub sfn: Arc<StepFunctions>,
    /// The WebSocket API.
    pub gateway: Gateway,
    /// What the gateway's integrations call.
    pub backends: Backends,
    /// The functions.
    pub host: LambdaHost,
    /// The Lambda API's descriptions of the functions.
    pub lambda_api: LambdaApi,
    /// The template's tables.
    pub dynamodb: Arc<DynamoDb>,
    /// The template's queues.
    pub sqs: Arc<Sqs>,
    /// The template's topics.
    pub sns: Arc<Sns>,
    /// The functions' SQS event sources.
    pub event_sources: Arc<EventSources>,
    /// Rebuilds functions when their sources change.
    pub rebuilder: Rebuilder,
    /// For the gateway's configuration, as at start-up.
    pub account: Account,
    /// The stack's URL.
    pub endpoint: String,
    /// The port served.
    pub port: u16,
    /// The template's directory.
    pub template_dir: std::path::PathBuf,
    /// The command line.
    pub args: UpArgs,
    /// The Python and Node.js runtimes prepared so far.
    pub runtimes: tokio::sync::Mutex<functions::RuntimeHosts>,
}

/// A function as the host runs it, for telling what changed.
fn host_props(f: &Function) -> impl PartialEq + '_ {
    (
        &f.code_uri,
        &f.handler,
        &f.runtime,
        &f.inline_code,
        f.timeout_seconds,
        f.memory_mb,
        &f.environment,
        &f.binary,
    )
}

/// What decides a function's executable.
fn code_props(f: &Function) -> impl PartialEq + '_ {
    (&f.code_uri, &f.runtime, &f.inline_code, &f.binary)
}

/// Everything a reload changes, checked and prepared.
pub struct Plan {
    /// The compiled WebSocket API (also when only the functions it names
    /// changed), and whether the template's API itself changed.
    routes: Option<(ApiConfig, bool)>,
    tables: Vec<TableSpec>,
    tables_gone: Vec<String>,
    queues: Vec<QueueSpec>,
    queues_gone: Vec<String>,
    functions_added: Vec<FunctionSpec>,
    functions_updated: Vec<FunctionSpec>,
    functions_gone: Vec<String>,
    machines_created: Vec<MachineSpec>,
    machines_updated: Vec<MachineSpec>,
    machines_gone: Vec<String>,
    topics: Option<(Vec<wsflow_sns::TopicSpec>, Vec<wsflow_sns::TopicSpec>)>,
    mappings: Vec<EventSourceMapping>,
    lambda_api: Option<Vec<wsflow_lambda_api::FunctionConfig>>,
    /// The cargo/prebuilt functions after the reload, when they changed.
    built: Option<Built>,
    /// How long cargo took for new or moved Rust functions.
    build_time: Option<Duration>,
    /// Changes the reload does not apply.
    not_applied: Vec<&'static str>,
}

/// Checks and prepares the move from `old` to `new` (see the module
/// documentation); the error says why the template cannot be served.
pub async fn plan(old: &App, new: &App, live: &Live, built: &Built) -> anyhow::Result<Plan> {
    // Routes: compiled now, swapped in by `apply`.
    let routes = if old.apis != new.apis || old.functions != new.functions {
        let config = super::api::config(new, &live.account, live.port, &live.args)?;
        Gateway::new(config.clone(), live.backends.clone())
            .map_err(|e| anyhow::Error::new(e).context("the WebSocket API"))?;
        Some((config, old.apis != new.apis))
    } else {
        None
    };

    // State machines.
    let (mut machines_created, mut machines_updated) = (Vec::new(), Vec::new());
    for m in &new.state_machines {
        let spec = services::machine_spec(m);
        let before = old.state_machines.iter().find(|o| o.name == m.name);
        if before.is_some_and(|o| o == m) {
            continue;
        }
        StepFunctions::validate_machine(&spec)?;
        match before {
            Some(o) if o.kind == m.kind => machines_updated.push(spec),
            _ => machines_created.push(spec),
        }
    }
    let machines_gone = gone(&old.state_machines, &new.state_machines, |m| &m.name);

    // Tables, queues, topics.
    let mut tables = Vec::new();
    for t in &new.tables {
        let spec = services::table_spec(t);
        if old.tables.iter().any(|o| services::table_spec(o) == spec) {
            continue;
        }
        DynamoDb::validate_table(&spec)?;
        tables.push(spec);
    }
    let tables_gone = gone(&old.tables, &new.tables, |t| &t.name);
    let mut queues = Vec::new();
    for q in &new.queues {
        let spec = services::queue_spec(q);
        if old.queues.iter().any(|o| services::queue_spec(o) == spec) {
            continue;
        }
        Sqs::validate_queue(&spec)?;
        queues.push(spec);
    }
    let queues_gone = gone(&old.queues, &new.queues, |q| &q.name);
    let topics = if old.topics != new.topics {
        let specs: Vec<_> = new.topics.iter().map(services::topic_spec).collect();
        for t in &specs {
            Sns::validate_topic(t)
                .map_err(|e| anyhow::anyhow!("topic {}: {}", t.name, e.message))?;
        }
        Some((old.topics.iter().map(services::topic_spec).collect(), specs))
    } else {
        None
    };
    let mappings = services::event_source_mappings(new)?;

    // Functions: configurations prepared, Rust code built when new or moved.
    let cache_dir = std::path::absolute(&live.args.data_dir)?.join("runtimes");
    // A first Python or Node.js function gets its runtime prepared (packages installed) here.
    let mut runtimes = live.runtimes.lock().await;
    runtimes.prepare_for(&new.functions).await?;
    let (mut functions_added, mut functions_updated) = (Vec::new(), Vec::new());
    let mut to_build: Vec<&Function> = Vec::new();
    // Functions that are no longer cargo builds (now Python, Node.js or a prebuilt bootstrap):
    // the rebuilder must stop building and swapping them.
    let mut no_longer_cargo: Vec<String> = Vec::new();
    for f in &new.functions {
        let before = old.functions.iter().find(|o| o.name == f.name);
        if before.is_some_and(|o| host_props(o) == host_props(f)) {
            continue;
        }
        let (mut spec, cargo) = functions::host_spec(
            f,
            &live.args,
            &live.endpoint,
            &live.account,
            &cache_dir,
            &runtimes,
        )?;
        let code_kept = before.is_some_and(|o| code_props(o) == code_props(f));
        if cargo && code_kept {
            // Same binary: the one serving now (maybe rebuilt since start-up).
            if let Some(current) = live.host.function_spec(&f.name) {
                spec.executable = current.executable;
                spec.args = current.args;
                spec.working_dir = current.working_dir;
            }
        } else if cargo {
            to_build.push(f);
        } else if built.functions.iter().any(|b| b.name == f.name) {
            no_longer_cargo.push(f.name.clone());
        }
        if before.is_none() {
            functions_added.push(spec);
        } else {
            functions_updated.push(spec);
        }
    }
    let functions_gone = gone(&old.functions, &new.functions, |f| &f.name);
    let mut next_built: Option<Built> = None;
    let mut build_time = None;
    if !to_build.is_empty() {
        let started = std::time::Instant::now();
        let (options, fresh) =
            functions::build_rust(&to_build, &live.args, &live.template_dir).await?;
        build_time = Some(started.elapsed());
        for b in &fresh {
            for spec in functions_added
                .iter_mut()
                .chain(functions_updated.iter_mut())
            {
                if spec.name == b.name {
                    spec.executable = b.executable.clone();
                }
            }
        }
        let mut next = built.clone();
        if next.functions.is_empty() {
            next.options = options;
        }
        next.functions
            .retain(|b| !fresh.iter().any(|f| f.name == b.name));
        next.functions.extend(fresh);
        next_built = Some(next);
    }
    for spec in functions_added.iter().chain(&functions_updated) {
        check_executable(spec)?;
        live.host
            .validate_spec(spec)
            .map_err(|e| anyhow::anyhow!("function {}: {e}", spec.name))?;
    }
    let built_names =
        |b: &Built| -> Vec<String> { b.functions.iter().map(|f| f.name.clone()).collect() };
    if !functions_gone.is_empty() || !no_longer_cargo.is_empty() {
        let mut next = next_built.take().unwrap_or_else(|| built.clone());
        next.functions
            .retain(|b| !functions_gone.contains(&b.name) && !no_longer_cargo.contains(&b.name));
        if built_names(&next) != built_names(built) {
            next_built = Some(next);
        }
    }
    let lambda_api = (old.functions != new.functions).then(|| super::lambda_api::configs(new));

    let mut not_applied = Vec::new();
    if old.outputs != new.outputs {
        not_applied.push("outputs (printed at the next start)");
    }
    Ok(Plan {
        routes,
        tables,
        tables_gone,
        queues,
        queues_gone,
        functions_added,
        functions_updated,
        functions_gone,
        machines_created,
        machines_updated,
        machines_gone,
        topics,
        mappings,
        lambda_api,
        built: next_built,
        build_time,
        not_applied,
    })
}

/// The host refuses a function whose executable is missing: refuse the
/// reload before anything is applied instead.
fn check_executable(spec: &FunctionSpec) -> anyhow::Result<()> {
    if spec.unavailable.is_none() && !spec.executable.is_file() {
        anyhow::bail!(
            "function {}: executable {} not found",
            spec.name,
            spec.executable.display()
        );
    }
    Ok(())
}

/// Names in `old` that `new` no longer has.
fn gone<T>(old: &[T], new: &[T], name: impl Fn(&T) -> &String) -> Vec<String> {
    old.iter()
        .map(&name)
        .filter(|n| !new.iter().any(|t| name(t) == *n))
        .cloned()
        .collect()
}

/// What one reload did, by kind of resource, for the reload line.
#[derive(Default)]
pub struct Applied {
    parts: Vec<String>,
    failures: Vec<String>,
    /// Changes the reload does not apply.
    pub not_applied: Vec<&'static str>,
    /// The functions cargo now builds or `--functions-dir` provides.
    pub built: Option<Built>,
}

impl Applied {
    fn push(&mut self, what: &str, changes: &BTreeMap<&'static str, Vec<String>>) {
        let list: Vec<String> = changes
            .iter()
            .filter(|(_, names)| !names.is_empty())
            .map(|(how, names)| format!("{} {how}", names.join(", ")))
            .collect();
        if !list.is_empty() {
            self.parts.push(format!("{what}(s) {}", list.join(", ")));
        }
    }

    fn failed(&mut self, e: impl std::fmt::Display) {
        self.failures.push(e.to_string());
    }

    /// The reload line's list of changes (empty when nothing was applied).
    pub fn summary(&self) -> String {
        let mut s = self.parts.join("; ");
        if !self.failures.is_empty() {
            if !s.is_empty() {
                s.push_str("; ");
            }
            s.push_str(&format!("FAILED: {}", self.failures.join("; ")));
        }
        s
    }
}

impl Plan {
    /// Makes the changes (see the module documentation). Errors here are
    /// the services' own (a storage failure): they are reported in the
    /// reload line and the rest is still applied.
    pub async fn apply(self, live: &Live) -> Applied {
        let mut out = Applied {
            not_applied: self.not_applied,
            built: self.built,
            ..Applied::default()
        };
        // Creations and updates.
        let mut tables: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for spec in &self.tables {
            let how = match live.dynamodb.apply_table(spec) {
                Ok(TableChange::Created) => "created",
                Ok(TableChange::Replaced) => "replaced (key schema changed: its items are gone)",
                Ok(TableChange::TtlUpdated) => "updated (TTL)",
                Ok(TableChange::Unchanged) => continue,
                Err(e) => {
                    out.failed(e);
                    continue;
                }
            };
            tables.entry(how).or_default().push(spec.name.clone());
        }
        let mut queues: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for spec in &self.queues {
            let existed = live.sqs.queue_names().is_ok_and(|n| n.contains(&spec.name));
            match live.sqs.apply_queue(spec) {
                Ok(true) => queues
                    .entry(if existed { "updated" } else { "created" })
                    .or_default()
                    .push(spec.name.clone()),
                Ok(false) => {}
                Err(e) => out.failed(e),
            }
        }
        let mut functions: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for spec in self.functions_added {
            let name = spec.name.clone();
            match live.host.add_function(spec) {
                Ok(()) => functions.entry("added").or_default().push(name),
                Err(e) => out.failed(e),
            }
        }
        for spec in self.functions_updated {
            let name = spec.name.clone();
            match live.host.update_function(spec) {
                Ok(()) => functions.entry("updated").or_default().push(name),
                Err(e) => out.failed(e),
            }
        }
        let mut machines: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for spec in self.machines_created {
            let name = spec.name.clone();
            match live.sfn.create_template_machine(spec) {
                Ok(()) => machines.entry("created").or_default().push(name),
                Err(e) => out.failed(format!("{:#}", anyhow::Error::new(e))),
            }
        }
        for spec in self.machines_updated {
            match live
                .sfn
                .update_template_definition(&spec.name, &spec.definition)
            {
                Ok(true) => machines.entry("updated").or_default().push(spec.name),
                Ok(false) => {}
                Err(e) => out.failed(format!("{:#}", anyhow::Error::new(e))),
            }
        }
        if let Some((old, new)) = &self.topics {
            match live.sns.update_template_topics(old, new) {
                Ok(()) => out.parts.push("topics and subscriptions updated".into()),
                Err(e) => out.failed(e.message),
            }
        }
        let (started, stopped) = live.event_sources.set(self.mappings);

        // The new routes, then what they no longer use.
        if let Some((config, changed)) = self.routes {
            match live.gateway.reload(config, &live.backends) {
                Ok(()) if changed => out
                    .parts
                    .insert(0, "routes and integrations reloaded".into()),
                Ok(()) => {}
                Err(e) => out.failed(format!("the WebSocket API: {e}")),
            }
        }
        if let Some(configs) = self.lambda_api {
            live.lambda_api.set_functions(configs);
        }
        for name in self.machines_gone {
            match live.sfn.delete_template_machine(&name) {
                Ok(()) => machines.entry("deleted").or_default().push(name),
                Err(e) => out.failed(e),
            }
        }
        for name in self.functions_gone {
            match live.host.remove_function(&name) {
                Ok(()) => functions.entry("removed").or_default().push(name),
                Err(e) => out.failed(e),
            }
        }
        for name in self.queues_gone {
            match live.sqs.delete_queue(&name).await {
                Ok(()) => queues.entry("deleted").or_default().push(name),
                Err(e) => out.failed(format!("queue {name}: {e}")),
            }
        }
        for name in self.tables_gone {
            match live.dynamodb.delete_table(&name) {
                Ok(()) => tables.entry("deleted").or_default().push(name),
                Err(e) => out.failed(e),
            }
        }
        out.push("function", &functions);
        if let Some(b) = self.build_time {
            out.parts.push(format!(
                "new function code ready in {:.1} s",
                b.as_secs_f64()
            ));
        }
        out.push("table", &tables);
        out.push("queue", &queues);
        out.push("state machine", &machines);
        if started + stopped > 0 {
            out.parts.push(format!(
                "event source mapping(s) {started} started, {stopped} stopped"
            ));
        }
        if let Some(built) = &out.built {
            live.rebuilder.set(built.clone());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_names_and_the_reload_line() {
        let old = ["a", "b", "c"].map(String::from);
        let new = ["c", "d"].map(String::from);
        assert_eq!(gone(&old, &new, |s| s), ["a", "b"]);
        assert!(gone(&new, &new, |s| s).is_empty());

        let mut applied = Applied::default();
        assert_eq!(applied.summary(), "");
        let mut functions: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        functions.entry("updated").or_default().push("F".into());
        functions
            .entry("added")
            .or_default()
            .extend(["G".into(), "H".into()]);
        functions.entry("removed").or_default();
        applied.push("function", &functions);
        applied.push("table", &BTreeMap::new());
        applied.failed("queue q: storage failure");
        assert_eq!(
            applied.summary(),
            "function(s) G, H added, F updated; FAILED: queue q: storage failure"
        );
    }
}
