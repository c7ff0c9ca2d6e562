//! The Lambda API on the local stack's edge port, so `aws lambda invoke`,
//! `boto3.client("lambda").invoke(...)` and every other SDK reach the
//! template's functions.
//!
//! Lambda speaks AWS's REST-JSON protocol (operations are told apart by method
//! and path, not by `X-Amz-Target`), so this crate is a set of axum routes,
//! all under [`PATH_PREFIX`], that the stack mounts on its edge:
//!
//! | Operation | Request |
//! |---|---|
//! | `Invoke` | `POST /2015-03-31/functions/{FunctionName}/invocations` |
//! | `ListFunctions` | `GET /2015-03-31/functions/` |
//! | `GetFunction` | `GET /2015-03-31/functions/{FunctionName}` |
//! | `GetFunctionConfiguration` | `GET /2015-03-31/functions/{FunctionName}/configuration` |
//!
//! Any other method or path under the prefix gets a `501 NotImplemented` naming it.
//!
//! `{FunctionName}` is a name, a function ARN or a partial ARN
//! (`123456789012:function:name`), optionally with the `$LATEST` qualifier;
//! the local stack has no published versions or aliases.
//!
//! The crate knows nothing of processes: it describes the functions the
//! caller gives it ([`FunctionConfig`]) and invokes them through a
//! [`LambdaInvoker`].
#![warn(missing_docs)]

mod config;
mod errors;
mod invoke;
mod list;
mod names;
mod unsupported;

use std::sync::{Arc, RwLock};

use axum::{
    Router,
    routing::{any, get, post},
};
use wsflow_aws_wire::{Account, LambdaInvoker};

pub use config::FunctionConfig;

/// Every path of the Lambda API starts with this.
pub const PATH_PREFIX: &str = "/2015-03-31/functions";

/// The Lambda API of one stack. Cheap to clone.
#[derive(Clone)]
pub struct LambdaApi {
    inner: Arc<Inner>,
}

struct Inner {
    account: Account,
    /// The functions' configurations as `GetFunction` returns them, sorted
    /// by name (replaced whole by [`LambdaApi::set_functions`]).
    functions: RwLock<Arc<Vec<config::Configuration>>>,
    invoker: Arc<dyn LambdaInvoker>,
    /// Permits for asynchronous invocations ([`invoke::MAX_PENDING_EVENTS`]).
    pending_events: Arc<tokio::sync::Semaphore>,
}

impl LambdaApi {
    /// The API over `functions`, invoked through `invoker`.
    pub fn new(
        account: Account,
        functions: Vec<FunctionConfig>,
        invoker: Arc<dyn LambdaInvoker>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                functions: RwLock::new(Arc::new(configurations(functions, &account))),
                account,
                invoker,
                pending_events: Arc::new(tokio::sync::Semaphore::new(invoke::MAX_PENDING_EVENTS)),
            }),
        }
    }

    /// Describes `functions` from now on (the template's functions after a
    /// `wsflow up --watch` reload), each last modified now.
    pub fn set_functions(&self, functions: Vec<FunctionConfig>) {
        let next = Arc::new(configurations(functions, &self.inner.account));
        *self
            .inner
            .functions
            .write()
            .unwrap_or_else(|e| e.into_inner()) = next;
    }

    /// The current configurations, sorted by name.
    fn functions(&self) -> Arc<Vec<config::Configuration>> {
        self.inner
            .functions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The API's routes, every one under [`PATH_PREFIX`], without a fallback.
    pub fn router(&self) -> Router {
        let p = |path: &str| format!("{PATH_PREFIX}{path}");
        let other = || any(unsupported::not_implemented);
        Router::new()
            .route(
                PATH_PREFIX,
                get(list::list_functions).fallback(unsupported::not_implemented),
            )
            .route(
                &p("/"),
                get(list::list_functions).fallback(unsupported::not_implemented),
            )
            .route(
                &p("/{name}"),
                get(list::get_function).fallback(unsupported::not_implemented),
            )
            .route(
                &p("/{name}/configuration"),
                get(list::get_configuration).fallback(unsupported::not_implemented),
            )
            .route(
                &p("/{name}/invocations"),
                post(invoke::invoke).fallback(unsupported::not_implemented),
            )
            .route(&p("/{name}/{*rest}"), other())
            .with_state(self.clone())
    }

    /// The configuration of the function `name` names (name, ARN or partial
    /// ARN, with `qualifier` from the query string), or AWS's
    /// `ResourceNotFoundException`.
    fn function(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<config::Configuration, errors::ApiError> {
        let id = names::FunctionId::parse(name).with_qualifier(qualifier);
        let not_found = || errors::ApiError::function_not_found(&id.arn(&self.inner.account));
        if !id.is_local(&self.inner.account) || !id.is_latest() {
            return Err(not_found());
        }
        self.functions()
            .iter()
            .find(|f| f.function_name == id.name)
            .cloned()
            .ok_or_else(not_found)
    }
}

/// `functions` as `GetFunction` describes them, sorted by name.
fn configurations(functions: Vec<FunctionConfig>, account: &Account) -> Vec<config::Configuration> {
    let last_modified = config::last_modified_now();
    let mut functions: Vec<_> = functions
        .into_iter()
        .map(|f| config::Configuration::new(f, account, &last_modified))
        .collect();
    functions.sort_by(|a, b| a.function_name.cmp(&b.function_name));
    functions
}

#[cfg(test)]
mod tests;
