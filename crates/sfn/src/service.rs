//! The [`StepFunctions`] handle: machine registry, live executions, backends,
//! and the [`AwsService`] entry point that dispatches API operations.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock, Weak};

use serde_json::Value;
use wsflow_asl::StateMachine;
use wsflow_aws_wire::{
    Account, AwsService, BoxFuture, LambdaInvoker, ServiceError, ServiceRequest, ServiceResponse,
};

use crate::executions::Live;
use crate::records::MachineRecord;
use crate::store::Store;
use crate::tasks::http::HttpClient;
use crate::tokens::Tokens;
use crate::{MachineSpec, MachineType, SfnBackends, SfnError, SfnOptions, api};

/// The version of a definition: the SHA-256 of its text, in hex. Executions
/// record it, and the store keeps each version's text (see
/// [`crate::store::Store::put_definition`]).
pub(crate) fn definition_version(definition: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(definition.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Role given to machines that declare none.
pub(crate) const DEFAULT_ROLE: &str = "arn:aws:iam::123456789012:role/wsflow-local-sfn-role";

/// A registered state machine, definition parsed once.
pub(crate) struct Machine {
    pub arn: String,
    pub name: String,
    pub kind: MachineType,
    pub definition: String,
    /// [`definition_version`] of `definition`: what an execution records
    /// so a resumed run replays the definition it started with.
    pub version: String,
    pub parsed: StateMachine,
    pub role_arn: String,
    pub created_millis: i64,
    /// Declared by the template (not stored in the database).
    pub from_template: bool,
}

/// Shared state behind every [`StepFunctions`] clone.
pub(crate) struct Inner {
    pub this: Weak<Inner>,
    pub account: Account,
    pub time_scale: f64,
    pub endpoint: String,
    pub mocks: Option<Arc<wsflow_asl::mock::MockConfigFile>>,
    pub store: Store,
    pub machines: RwLock<BTreeMap<String, Arc<Machine>>>,
    /// Executions running in this process, by ARN.
    pub live: Mutex<HashMap<String, Arc<Live>>>,
    /// Definition versions already queued to the store.
    pub stored_versions: Mutex<std::collections::HashSet<String>>,
    pub tokens: Tokens,
    pub lambda: Arc<dyn LambdaInvoker>,
    pub services: HashMap<&'static str, Arc<dyn AwsService>>,
    pub http: HttpClient,
    /// Flipped to true by [`StepFunctions::shutdown`].
    pub shutdown: tokio::sync::watch::Sender<bool>,
    /// Number of spawned execution tasks still running.
    pub running: tokio::sync::watch::Sender<usize>,
}

impl Inner {
    /// A strong handle to this service (for spawning executions).
    pub fn arc(&self) -> Option<Arc<Inner>> {
        self.this.upgrade()
    }

    pub fn machine(&self, arn: &str) -> Option<Arc<Machine>> {
        self.machines.read().ok()?.get(arn).cloned()
    }
}

/// The local Step Functions service. Cheap to clone; all clones share state.
#[derive(Clone)]
pub struct StepFunctions {
    pub(crate) inner: Arc<Inner>,
}

impl StepFunctions {
    /// Opens the service: opens (or creates) `<data_dir>/sfn.redb`, registers
    /// the template's machines under `account.state_machine(name)` (each
    /// definition parsed once, here) and the user-created machines stored by
    /// earlier runs.
    ///
    /// Standard executions the database still shows as RUNNING (the stack
    /// stopped or crashed while they ran) are not started here: call
    /// [`StepFunctions::resume_running`] once the integrations they call are
    /// reachable.
    pub fn open(
        options: SfnOptions,
        machines: Vec<MachineSpec>,
        backends: SfnBackends,
    ) -> Result<StepFunctions, SfnError> {
        let store = Store::open_with_cache(
            &options.data_dir.join("sfn.redb"),
            options.commit_mode,
            options.cache_bytes,
        )?;
        let now = crate::clock::epoch_millis();
        let mut registry = BTreeMap::new();
        for spec in machines {
            let name = spec.name.clone();
            let m = crate::stack_update::template_machine(spec, &options.account, now)?;
            if registry.insert(m.arn.clone(), Arc::new(m)).is_some() {
                return Err(SfnError::Duplicate(name));
            }
        }
        for (arn, rec) in store.machines()? {
            if registry.contains_key(&arn) {
                tracing::warn!(%arn, "a stored state machine has a template machine's name; the template's wins");
                continue;
            }
            match StateMachine::parse(&rec.definition) {
                Ok(parsed) => {
                    registry.insert(arn.clone(), Arc::new(machine_from_record(arn, rec, parsed)));
                }
                Err(e) => tracing::warn!(%arn, "stored state machine no longer parses: {e}"),
            }
        }
        let services = backends
            .services
            .into_iter()
            .map(|s| (s.integration_name(), s))
            .collect();
        let (shutdown, _) = tokio::sync::watch::channel(false);
        let (running, _) = tokio::sync::watch::channel(0usize);
        let inner = Arc::new_cyclic(|this| Inner {
            this: this.clone(),
            account: options.account,
            time_scale: options.time_scale,
            endpoint: options.endpoint,
            mocks: options.mocks,
            store,
            machines: RwLock::new(registry),
            live: Mutex::new(HashMap::new()),
            stored_versions: Mutex::default(),
            tokens: Tokens::default(),
            lambda: backends.lambda,
            services,
            http: HttpClient::new(),
            shutdown,
            running,
        });
        Ok(StepFunctions { inner })
    }

    /// Replaces the definition of the template's machine `name`, as
    /// UpdateStateMachine does (`wsflow up --watch` after an edit): new
    /// executions run the new definition; running ones finish on the one
    /// they started with (they hold it, and a resumed run reads the version
    /// it recorded). Returns whether the definition changed; an invalid one
    /// is refused with the start-up error and the current one keeps serving.
    pub fn update_template_definition(
        &self,
        name: &str,
        definition: &str,
    ) -> Result<bool, SfnError> {
        let arn = self.inner.account.state_machine(name);
        let Some(old) = self.inner.machine(&arn) else {
            return Err(SfnError::UnknownMachine(name.to_owned()));
        };
        if old.definition == definition {
            return Ok(false);
        }
        let parsed =
            StateMachine::parse(definition).map_err(|source| SfnError::InvalidDefinition {
                machine: name.to_owned(),
                source,
            })?;
        let updated = Machine {
            arn: old.arn.clone(),
            name: old.name.clone(),
            kind: old.kind,
            definition: definition.to_owned(),
            version: definition_version(definition),
            parsed,
            role_arn: old.role_arn.clone(),
            created_millis: old.created_millis,
            from_template: old.from_template,
        };
        crate::lock_write(&self.inner.machines).insert(arn, Arc::new(updated));
        Ok(true)
    }

    /// Resumes every Standard execution the database shows as RUNNING by
    /// replaying its stored history: recorded task results are reused, Waits
    /// keep their original deadlines, and the history continues without a
    /// duplicated event. Returns how many executions were resumed.
    pub fn resume_running(&self) -> Result<usize, SfnError> {
        Ok(crate::executions::resume_all(&self.inner)?)
    }

    /// Stops running executions (Standard ones stay RUNNING in the database),
    /// waits for their tasks to end and for every queued write to be
    /// committed. The database file is released when the last clone of this
    /// handle is dropped.
    pub async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        let _ = self.inner.running.subscribe().wait_for(|n| *n == 0).await;
        if let Err(e) = self.inner.store.sync().await {
            tracing::error!("sfn shutdown: {e}");
        }
    }

    /// Watches committed execution records and history events (the web
    /// console's live view); see [`crate::observe`].
    pub fn subscribe(&self) -> crate::observe::Subscription<crate::observe::Changes> {
        self.inner.store.observer().subscribe()
    }

    /// Runs one API operation on a JSON request body (what the edge router and
    /// gateway integrations do through [`AwsService::call`]).
    pub async fn operation(&self, operation: &str, body: &Value) -> Result<Value, ServiceError> {
        api::dispatch(&self.inner, operation, body).await
    }
}

pub(crate) fn machine_from_record(
    arn: String,
    rec: MachineRecord,
    parsed: StateMachine,
) -> Machine {
    Machine {
        arn,
        name: rec.name,
        kind: rec.kind,
        version: definition_version(&rec.definition),
        definition: rec.definition,
        parsed,
        role_arn: rec.role_arn,
        created_millis: rec.created_millis,
        from_template: false,
    }
}

impl AwsService for StepFunctions {
    fn target_prefix(&self) -> &'static str {
        "AWSStepFunctions"
    }

    fn integration_name(&self) -> &'static str {
        "states"
    }

    fn error_namespace(&self) -> Option<&'static str> {
        Some("com.amazonaws.sfn")
    }

    fn call(
        &self,
        request: ServiceRequest,
    ) -> BoxFuture<'_, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            let body: Value = if request.body.iter().all(u8::is_ascii_whitespace) {
                Value::Object(Default::default())
            } else {
                serde_json::from_slice(&request.body).map_err(|e| {
                    ServiceError::client("SerializationException", format!("Malformed JSON: {e}"))
                })?
            };
            let out = api::dispatch(&self.inner, &request.operation, &body).await?;
            Ok(ServiceResponse::json(&out))
        })
    }
}
