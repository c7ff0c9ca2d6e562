//! The local stack's web console: `wsflow up` serves it on its own port
//! under [`PREFIX`] (`/@console/`).
//!
//! Views, each its own bookmarkable URL, plain links between them:
//! * `/@console/`: the API's routes, the functions (processes, invocations,
//!   errors, median duration), the state machines, tables and queues;
//! * `/@console/state-machines/{name}`: the definition as an SVG graph and
//!   its executions, newest first, paged with ListExecutions' tokens;
//! * `/@console/executions/{arn}`: the graph coloured by what each state
//!   did, live while the execution runs, the history as a table, each
//!   state's input/output/error/retries/duration, a Stop button;
//! * `/@console/connections` and `/@console/connections/{id}`: the open
//!   WebSocket connections, live; per connection its handshake and frames,
//!   a box to post to it (`@connections`) and a Disconnect button;
//! * `/@console/data`, `/@console/tables/{name}`, `/@console/queues/{name}`:
//!   table items (Scan, paged) and queue messages (read without receiving).
//!
//! It knows the services only through their public APIs (the Step Functions
//! and DynamoDB JSON operations) and their read-only accessors and
//! observers (`wsflow_sfn::observe`, `wsflow_gateway::observe`): live
//! updates are Server-Sent Events fed by those observers, which cost the
//! services one atomic load per event while no console page is open.
//!
//! Pages are rendered on the server with maud (compile-time templates that
//! escape every value: headers, query strings and execution data are the
//! clients'); the CSS and the little JavaScript for live updates are
//! compiled into the binary (`include_str!`), so the console works offline
//! and needs no front-end build.
//!
//! # Safety
//! The console can post to connections and stop executions without
//! authentication, like the stack's AWS APIs: it is served on loopback only.
//! Against other web pages in the same browser it accepts only requests
//! whose `Host` is a loopback name (DNS rebinding) and actions only with a
//! JSON body (which a cross-site form cannot send without a CORS preflight,
//! which the console never grants).
#![warn(missing_docs)]

mod assets;
mod connections;
mod data;
mod error;
mod execution;
mod frames;
pub mod graph;
mod machine;
mod overview;
pub mod progress;
mod view;

use std::sync::{Arc, OnceLock};

use axum::{
    Router,
    extract::{Request, State},
    http::header,
    middleware::{self, Next},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde_json::Value;
use wsflow_aws_wire::{Account, AwsService, Protocol, ServiceRequest};
use wsflow_dynamodb::DynamoDb;
use wsflow_gateway::Gateway;
use wsflow_lambda_host::LambdaHost;
use wsflow_sfn::StepFunctions;
use wsflow_sqs::Sqs;

pub use error::ConsoleError;

/// Where the console lives on the stack's port. `@` cannot start an API
/// Gateway stage name, so no stage path or `@connections` URL collides.
pub const PREFIX: &str = "/@console";

/// Largest body a console action takes (a message to post: the gateway's
/// 128 KB message quota plus its JSON envelope).
pub const MAX_ACTION_BODY: usize = 192 * 1024;

/// The services the console shows.
#[derive(Clone)]
pub struct Sources {
    /// The WebSocket API.
    pub gateway: Gateway,
    /// Step Functions.
    pub sfn: Arc<StepFunctions>,
    /// The functions.
    pub lambda: LambdaHost,
    /// DynamoDB.
    pub dynamodb: Arc<DynamoDb>,
    /// SQS.
    pub sqs: Arc<Sqs>,
    /// Region and account of the ARNs.
    pub account: Account,
}

/// The console: cheap to clone.
#[derive(Clone)]
pub struct Console {
    inner: Arc<Inner>,
}

struct Inner {
    src: Sources,
    /// The frame log, started on the first console request.
    frames: OnceLock<frames::FrameLog>,
    /// Set by [`Console::shutdown`]: live streams end.
    stopping: tokio::sync::watch::Sender<bool>,
}

impl Console {
    /// A console over `sources`.
    pub fn new(sources: Sources) -> Console {
        Console {
            inner: Arc::new(Inner {
                src: sources,
                frames: OnceLock::new(),
                stopping: tokio::sync::watch::channel(false).0,
            }),
        }
    }

    /// The console's routes, every one under [`PREFIX`] and no fallback:
    /// merge it into the stack's router, whose fallback stays the edge (AWS
    /// APIs, `@connections`, WebSocket handshakes).
    pub fn router(&self) -> Router {
        let p = |path: &str| format!("{PREFIX}{path}");
        Router::new()
            .route(
                PREFIX,
                get(|| async { Redirect::permanent(&view::url("/")) }),
            )
            .route(&p("/"), get(overview::page))
            .route(&p("/assets/{file}"), get(assets::serve))
            .route(&p("/state-machines/{name}"), get(machine::page))
            .route(&p("/executions/{arn}"), get(execution::page))
            .route(&p("/executions/{arn}/live"), get(execution::live))
            .route(&p("/executions/{arn}/stop"), post(execution::stop))
            .route(&p("/connections"), get(connections::list))
            .route(&p("/connections/live"), get(connections::live))
            .route(&p("/connections/{id}"), get(connections::detail))
            .route(
                &p("/connections/{id}/post"),
                post(connections::post_message),
            )
            .route(
                &p("/connections/{id}/disconnect"),
                post(connections::disconnect),
            )
            .route(&p("/data"), get(data::index))
            .route(&p("/tables/{name}"), get(data::table))
            .route(&p("/queues/{name}"), get(data::queue))
            .route(&p("/{*rest}"), axum::routing::any(not_found))
            .route_layer(middleware::from_fn_with_state(self.clone(), guard))
            .with_state(self.clone())
    }

    /// Ends every live stream (Server-Sent Events), so a graceful shutdown
    /// of the server is not held up by open console pages.
    pub fn shutdown(&self) {
        self.inner.stopping.send_replace(true);
    }

    /// `stream`, ending when the console shuts down.
    fn until_shutdown<S: futures_util::Stream>(
        &self,
        stream: S,
    ) -> impl futures_util::Stream<Item = S::Item> + use<S> {
        let mut stopping = self.inner.stopping.subscribe();
        futures_util::StreamExt::take_until(stream, async move {
            let _ = stopping.wait_for(|v| *v).await;
        })
    }

    fn src(&self) -> &Sources {
        &self.inner.src
    }

    /// The frame log (started now if this is the first console request).
    fn frames(&self) -> &frames::FrameLog {
        self.inner
            .frames
            .get_or_init(|| frames::FrameLog::start(&self.inner.src.gateway))
    }

    /// One Step Functions API operation.
    async fn sfn(&self, operation: &str, body: Value) -> Result<Value, ConsoleError> {
        Ok(self.src().sfn.operation(operation, &body).await?)
    }

    /// One DynamoDB API operation.
    async fn dynamodb(&self, operation: &str, body: Value) -> Result<Value, ConsoleError> {
        let req = ServiceRequest {
            operation: operation.to_owned(),
            protocol: Protocol::Json,
            body: body.to_string().into_bytes(),
        };
        let resp = self.src().dynamodb.call(req).await?;
        serde_json::from_slice(&resp.body).map_err(|e| {
            ConsoleError::Service(wsflow_aws_wire::ServiceError::internal(format!(
                "DynamoDB answered with something that is not JSON: {e}"
            )))
        })
    }
}

async fn not_found() -> ConsoleError {
    ConsoleError::NotFound("No console page at this address".into())
}

/// Loopback `Host` names only; starts the frame log on first use.
async fn guard(State(console): State<Console>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !loopback_host(host) {
        return ConsoleError::ForbiddenHost.into_response();
    }
    console.frames();
    next.run(req).await
}

/// Whether a `Host` header names this machine's loopback interface.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    matches!(name, "127.0.0.1" | "localhost" | "::1")
}

/// A console action's body: JSON only (see the crate doc), at most
/// [`MAX_ACTION_BODY`] bytes.
async fn action_body(req: Request) -> Result<Value, ConsoleError> {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !json {
        return Err(ConsoleError::UnsupportedMediaType);
    }
    let bytes = axum::body::to_bytes(req.into_body(), MAX_ACTION_BODY)
        .await
        .map_err(|_| ConsoleError::TooLarge(MAX_ACTION_BODY))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ConsoleError::BadRequest(format!("the body is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts() {
        for ok in ["127.0.0.1:3001", "localhost:1", "[::1]:80", "localhost"] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example:3001",
            "127.0.0.1.evil:1",
            "[::2]:1",
            "10.0.0.1",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }
}
