//! [`LambdaHost`]: the functions of a stack, invoked by name or ARN.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use bytes::Bytes;
use hyper::header::HeaderValue;
use serde_json::Value;
use tokio::task::JoinHandle;
use wsflow_aws_wire::{
    Account, BoxFuture, LambdaInvokeError, LambdaInvoker, arn::lambda_function_name,
};

use crate::{
    FunctionSpec, HostOptions,
    aws_errors::{self, MAX_REQUEST_BYTES},
    logs::FunctionLog,
    pool::Pool,
    worker::FunctionCtx,
};

/// Why a host could not start.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// Two specs share a name.
    #[error("function {0} is declared twice")]
    DuplicateFunction(String),
    /// A function's executable does not exist.
    #[error("function {name}: executable {} not found", path.display())]
    ExecutableNotFound {
        /// The function.
        name: String,
        /// The missing path.
        path: PathBuf,
    },
    /// No hosted function has this name.
    #[error("function {0} is not hosted")]
    UnknownFunction(String),
    /// A spec is unusable.
    #[error("function {name}: {reason}")]
    InvalidSpec {
        /// The function.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

/// The local Lambda service. Cheap to clone (shared inside).
#[derive(Clone)]
pub struct LambdaHost {
    inner: Arc<Inner>,
}

/// The functions by name. Shared with the idle reaper; changed by
/// [`LambdaHost::add_function`] and [`LambdaHost::remove_function`].
type Pools = Arc<RwLock<HashMap<String, Arc<Pool>>>>;

struct Inner {
    pools: Pools,
    /// Pools of removed functions whose processes may still be finishing an
    /// invocation (stopped by [`LambdaHost::shutdown`] too).
    retired: Mutex<Vec<Arc<Pool>>>,
    account: Account,
    options: Arc<HostOptions>,
    reaper: Option<JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(r) = &self.reaper {
            r.abort();
        }
    }
}

impl std::fmt::Debug for LambdaHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaHost")
            .field("functions", &self.function_names())
            .finish()
    }
}

impl LambdaHost {
    /// Validates the functions and prepares their pools. Processes start on
    /// demand (the first invocation of a function is a cold start, as on
    /// Lambda). Must be called inside a tokio runtime.
    pub async fn start(
        functions: Vec<FunctionSpec>,
        options: HostOptions,
    ) -> Result<LambdaHost, HostError> {
        let options = Arc::new(options);
        let account = Account {
            region: options.region.clone(),
            account_id: options.account_id.clone(),
            ..Account::default()
        };
        let mut pools = HashMap::with_capacity(functions.len());
        for spec in functions {
            if pools.contains_key(&spec.name) {
                return Err(HostError::DuplicateFunction(spec.name));
            }
            let name = spec.name.clone();
            pools.insert(name, new_pool(spec, &options, &account)?);
        }
        let pools: Pools = Arc::new(RwLock::new(pools));
        let reaper = options.idle_process_ttl.map(|ttl| {
            let pools = pools.clone();
            let every = (ttl / 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    let all: Vec<Arc<Pool>> = read(&pools).values().cloned().collect();
                    for p in &all {
                        p.reap_idle(ttl);
                    }
                }
            })
        });
        Ok(LambdaHost {
            inner: Arc::new(Inner {
                pools,
                retired: Mutex::new(Vec::new()),
                account,
                options,
                reaper,
            }),
        })
    }

    /// The pool of a function (by name or ARN).
    fn pool(&self, function: &str) -> Option<Arc<Pool>> {
        read(&self.inner.pools)
            .get(lambda_function_name(function))
            .cloned()
    }

    /// Hosts one more function (CreateFunction; `wsflow up --watch` when the
    /// template gains one). Its first invocation is a cold start.
    pub fn add_function(&self, spec: FunctionSpec) -> Result<(), HostError> {
        let pool = new_pool(spec, &self.inner.options, &self.inner.account)?;
        let mut pools = write(&self.inner.pools);
        let name = pool.ctx.spec.name.clone();
        if pools.contains_key(&name) {
            return Err(HostError::DuplicateFunction(name));
        }
        pools.insert(name, pool);
        Ok(())
    }

    /// Stops hosting `function` (DeleteFunction): further invocations fail
    /// with `ResourceNotFoundException`, idle processes stop now, and an
    /// invocation in flight finishes on its process, which then stops.
    pub fn remove_function(&self, function: &str) -> Result<(), HostError> {
        let Some(pool) = write(&self.inner.pools).remove(lambda_function_name(function)) else {
            return Err(HostError::UnknownFunction(function.to_owned()));
        };
        pool.retire();
        let mut retired = lock(&self.inner.retired);
        retired.retain(|p| p.process_counts().0 > 0);
        retired.push(pool);
        Ok(())
    }

    /// Gives `spec.name` a new configuration (UpdateFunctionConfiguration,
    /// UpdateFunctionCode): new invocations get processes started with
    /// `spec` (environment, handler, executable and arguments, timeout,
    /// memory), idle processes of the old configuration stop at once, and
    /// busy ones once their invocation is answered, as
    /// [`Self::replace_executable`] does. `max_concurrency` keeps the value
    /// the function was added with.
    pub fn update_function(&self, spec: FunctionSpec) -> Result<(), HostError> {
        validate(&spec)?;
        let Some(pool) = self.pool(&spec.name) else {
            return Err(HostError::UnknownFunction(spec.name));
        };
        pool.replace_spec(spec);
        Ok(())
    }

    /// The configuration new processes of `function` start with.
    pub fn function_spec(&self, function: &str) -> Option<FunctionSpec> {
        self.pool(function).map(|p| p.current().spec.clone())
    }

    /// Invokes `function` (a name or a function ARN, qualifiers ignored)
    /// synchronously with `payload`, as `Invoke` with
    /// `InvocationType=RequestResponse` does. A response body that is not
    /// JSON comes back as a JSON string.
    pub async fn invoke(&self, function: &str, payload: Value) -> Result<Value, LambdaInvokeError> {
        let body = serde_json::to_vec(&payload).map_err(|e| {
            LambdaInvokeError::Service(wsflow_aws_wire::ServiceError::with_status(
                400,
                "InvalidRequestContentException",
                format!("Could not serialize the payload: {e}"),
            ))
        })?;
        let response = self.invoke_raw(function, Bytes::from(body)).await?;
        if response.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_slice(&response)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&response).into_owned())))
    }

    /// [`Self::invoke`] on raw bytes: the event as sent to the runtime, the
    /// response exactly as the runtime posted it.
    pub async fn invoke_raw(
        &self,
        function: &str,
        payload: Bytes,
    ) -> Result<Bytes, LambdaInvokeError> {
        let name = lambda_function_name(function);
        let Some(pool) = self.pool(name) else {
            return Err(aws_errors::function_not_found(
                &self.inner.account.lambda_function(name),
            ));
        };
        if payload.len() > MAX_REQUEST_BYTES {
            return Err(aws_errors::request_too_large());
        }
        if let Some(reason) = &pool.current().spec.unavailable {
            return Err(aws_errors::unavailable(reason));
        }
        pool.invoke(payload).await
    }

    /// Checks `spec` as [`Self::add_function`] would (its limits, a name
    /// valid in an ARN), starting nothing: a template reload checks every
    /// function before it changes any.
    pub fn validate_spec(&self, spec: &FunctionSpec) -> Result<(), HostError> {
        new_pool(spec.clone(), &self.inner.options, &self.inner.account).map(drop)
    }

    /// Replaces `function`'s executable (after a rebuild): new invocations
    /// get new processes running `executable`; idle processes of the old one
    /// are stopped now, busy ones once their invocation is answered.
    /// `executable` may be the same path with new contents.
    pub fn replace_executable(
        &self,
        function: &str,
        executable: impl Into<PathBuf>,
    ) -> Result<(), HostError> {
        let executable = executable.into();
        let Some(pool) = self.pool(function) else {
            return Err(HostError::UnknownFunction(function.to_owned()));
        };
        if !executable.is_file() {
            return Err(HostError::ExecutableNotFound {
                name: function.to_owned(),
                path: executable,
            });
        }
        pool.update_spec(|spec| spec.executable = executable);
        Ok(())
    }

    /// The names of the hosted functions, sorted.
    pub fn function_names(&self) -> Vec<String> {
        let mut names: Vec<String> = read(&self.inner.pools).keys().cloned().collect();
        names.sort();
        names
    }

    /// The ARN of a hosted function.
    pub fn function_arn(&self, function: &str) -> Option<String> {
        self.pool(function).map(|p| p.ctx.arn.clone())
    }

    /// Process ids of the running processes of `function` (diagnostics, tests).
    pub fn process_ids(&self, function: &str) -> Vec<u32> {
        self.pool(function)
            .map(|p| p.process_ids())
            .unwrap_or_default()
    }

    /// Each function's counters (for the console), sorted by name.
    pub fn stats(&self) -> Vec<crate::FunctionStats> {
        let pools: Vec<(String, Arc<Pool>)> = read(&self.inner.pools)
            .iter()
            .map(|(n, p)| (n.clone(), p.clone()))
            .collect();
        let mut all: Vec<crate::FunctionStats> = pools
            .iter()
            .map(|(name, pool)| {
                let (invocations, errors, p50) = pool.stats.read();
                let (processes, warm) = pool.process_counts();
                crate::FunctionStats {
                    name: name.clone(),
                    arn: pool.ctx.arn.clone(),
                    processes,
                    warm,
                    invocations,
                    errors,
                    p50,
                }
            })
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// Refuses further invocations, kills every function process and waits
    /// until all are reaped.
    pub async fn shutdown(&self) {
        if let Some(r) = &self.inner.reaper {
            r.abort();
        }
        let mut pools: Vec<Arc<Pool>> = read(&self.inner.pools).values().cloned().collect();
        pools.append(&mut lock(&self.inner.retired));
        for pool in pools {
            pool.shutdown().await;
        }
    }
}

/// A validated function's pool.
fn new_pool(
    spec: FunctionSpec,
    options: &Arc<HostOptions>,
    account: &Account,
) -> Result<Arc<Pool>, HostError> {
    validate(&spec)?;
    let arn = account.lambda_function(&spec.name);
    let arn_header = HeaderValue::from_str(&arn).map_err(|_| HostError::InvalidSpec {
        name: spec.name.clone(),
        reason: "the name is not valid in an ARN".into(),
    })?;
    let log = FunctionLog {
        function: spec.name.as_str().into(),
        sink: options.log_sink.clone(),
        prefix: options.log_prefix,
        platform: options.platform_logs,
    };
    Ok(Pool::new(Arc::new(FunctionCtx {
        spec,
        options: options.clone(),
        arn,
        arn_header,
        log,
    })))
}

// Every critical section leaves the maps consistent, so a poisoned lock (a
// panic elsewhere) is safe to keep using.
fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn validate(spec: &FunctionSpec) -> Result<(), HostError> {
    let invalid = |reason: &str| HostError::InvalidSpec {
        name: spec.name.clone(),
        reason: reason.into(),
    };
    if spec.name.is_empty() {
        return Err(invalid("the name is empty"));
    }
    if spec.timeout.is_zero() {
        return Err(invalid("the timeout is zero"));
    }
    if spec.max_concurrency == 0 {
        return Err(invalid("max_concurrency is zero"));
    }
    if spec.unavailable.is_none() && !spec.executable.is_file() {
        return Err(HostError::ExecutableNotFound {
            name: spec.name.clone(),
            path: spec.executable.clone(),
        });
    }
    Ok(())
}

impl LambdaInvoker for LambdaHost {
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        payload: Value,
    ) -> BoxFuture<'a, Result<Value, LambdaInvokeError>> {
        Box::pin(LambdaHost::invoke(self, function, payload))
    }

    fn invoke_raw<'a>(
        &'a self,
        function: &'a str,
        payload: Vec<u8>,
    ) -> BoxFuture<'a, Result<Vec<u8>, LambdaInvokeError>> {
        Box::pin(async move {
            LambdaHost::invoke_raw(self, function, Bytes::from(payload))
                .await
                .map(|b| b.to_vec())
        })
    }
}
