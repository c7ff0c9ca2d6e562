//! [`LambdaHost`]: the functions of a stack, invoked by name or ARN.

use std::{collections::HashMap, path::PathBuf, sync::Arc, time::Duration};

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

struct Inner {
    pools: HashMap<String, Arc<Pool>>,
    account: Account,
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
            .field("functions", &self.inner.pools.keys().collect::<Vec<_>>())
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
            validate(&spec)?;
            if pools.contains_key(&spec.name) {
                return Err(HostError::DuplicateFunction(spec.name));
            }
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
            let name = spec.name.clone();
            let ctx = Arc::new(FunctionCtx {
                spec,
                options: options.clone(),
                arn,
                arn_header,
                log,
            });
            pools.insert(name, Pool::new(ctx));
        }
        let reaper = options.idle_process_ttl.map(|ttl| {
            let pools: Vec<Arc<Pool>> = pools.values().cloned().collect();
            let every = (ttl / 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    for p in &pools {
                        p.reap_idle(ttl);
                    }
                }
            })
        });
        Ok(LambdaHost {
            inner: Arc::new(Inner {
                pools,
                account,
                reaper,
            }),
        })
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
        let Some(pool) = self.inner.pools.get(name) else {
            return Err(aws_errors::function_not_found(
                &self.inner.account.lambda_function(name),
            ));
        };
        if payload.len() > MAX_REQUEST_BYTES {
            return Err(aws_errors::request_too_large());
        }
        if let Some(reason) = &pool.ctx.spec.unavailable {
            return Err(aws_errors::unavailable(reason));
        }
        pool.invoke(payload).await
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
        let Some(pool) = self.inner.pools.get(lambda_function_name(function)) else {
            return Err(HostError::UnknownFunction(function.to_owned()));
        };
        if !executable.is_file() {
            return Err(HostError::ExecutableNotFound {
                name: function.to_owned(),
                path: executable,
            });
        }
        pool.replace_executable(executable);
        Ok(())
    }

    /// The names of the hosted functions.
    pub fn function_names(&self) -> impl Iterator<Item = &str> {
        self.inner.pools.keys().map(String::as_str)
    }

    /// The ARN of a hosted function.
    pub fn function_arn(&self, function: &str) -> Option<&str> {
        self.inner
            .pools
            .get(lambda_function_name(function))
            .map(|p| p.ctx.arn.as_str())
    }

    /// Process ids of the running processes of `function` (diagnostics, tests).
    pub fn process_ids(&self, function: &str) -> Vec<u32> {
        self.inner
            .pools
            .get(lambda_function_name(function))
            .map(|p| p.process_ids())
            .unwrap_or_default()
    }

    /// Each function's counters (for the console), sorted by name.
    pub fn stats(&self) -> Vec<crate::FunctionStats> {
        let mut all: Vec<crate::FunctionStats> = self
            .inner
            .pools
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
        for pool in self.inner.pools.values() {
            pool.shutdown().await;
        }
    }
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
