//! Amazon API Gateway **WebSocket API** semantics on a local port.
//!
//! The gateway owns what API Gateway does between a WebSocket client and the
//! integrations: the `$connect` handshake (run before the upgrade completes,
//! so a rejection is an HTTP status), route selection on every message,
//! `$default`, `$disconnect`, Lambda proxy events of AWS's exact shape, AWS
//! service integrations driven by VTL request templates, two-way routes,
//! AWS's quotas (128 KB messages, 32 KB frames, 10 minutes idle, 2 hours
//! per connection), and the `@connections` management API.
//!
//! It knows nothing of SAM templates or ASL: the caller maps its model into
//! [`ApiConfig`] and hands it the [`Backends`] integrations call.
//!
//! Modules, split by event kind and by API (like serverless-offline's
//! WebSocket emulator):
//! * [`config`]: the configuration types;
//! * `authorizer`: `$connect` authorization (Lambda `REQUEST` authorizers,
//!   `AWS_IAM`), before the upgrade;
//! * `route_selection`: selection expressions, over
//!   `wsflow_vtl::json_text`, which reads one path of a message of any
//!   nesting depth;
//! * `events`: Lambda proxy events and `$context`;
//! * `integration`: Lambda proxy, AWS service and mock integrations, and
//!   the integration responses of the non-proxy ones;
//! * `validation`: route request validation (request models, JSON Schema
//!   draft 4);
//! * `connections`: the registry of open connections;
//! * `connections_api`: the HTTP `@connections` API;
//! * `socket`: the handshake and the per-connection reader, dispatcher and
//!   writer tasks with their limits;
//! * [`observe`]: announcements of connections and frames, for the console;
//! * `ids`, `clock`: AWS-shaped ids and timestamps;
//! * `urlencoding`: form/query percent-encoding.
//!
//! # Behaviour, and the choices where AWS documents none
//! * Route selection: exact match on the evaluated key; a non-JSON or
//!   unevaluable message, or no match, goes to `$default`; without
//!   `$default` the client gets `{"message": "Forbidden", "connectionId",
//!   "requestId"}`.
//! * Messages of one connection run concurrently (a 5 s `sync_sfn` does not
//!   hold up an `echo`), up to 128 in flight, and start in arrival order:
//!   each message's integration is polled once (selection, template, the
//!   call's first step) before the next message is taken, so FIFO queue
//!   sends keep the client's order when the service accepts them in call
//!   order.
//! * `$connect` authorization ([`ConnectAuthorization`]) runs first, before
//!   the upgrade: a Lambda `REQUEST` authorizer (401 / 403 / 500 with AWS's
//!   bodies; its `principalId` and `context` become
//!   `requestContext.authorizer` of every later event and
//!   `$context.authorizer`) or `AWS_IAM` (query-string SigV4, 403).
//! * `$connect` runs before the `101` is sent. A Lambda proxy `statusCode`
//!   outside 2xx rejects the handshake with that status (and the result's
//!   body); a failed integration (function error, invoke error, template
//!   error, service error) rejects it with 500 `Internal server error`; a
//!   timeout (29 s) with 504 `Endpoint request timed out`. A proxy result's
//!   `Sec-WebSocket-Protocol` header selects the subprotocol.
//! * Request validation, when the route has a model selection expression,
//!   runs before the integration: a message that fails gets
//!   `{"message": "Invalid request body", "connectionId", "requestId"}` and
//!   goes no further.
//! * Two-way routes send the Lambda proxy result's `body` (a result not in
//!   proxy shape is sent as its JSON text). For `AWS` and `MOCK`
//!   integrations the status code selects an integration response
//!   (`/regex/` keys, else `$default`) whose selected template renders the
//!   reply over the response body; without a template the body (a service
//!   error's too) is passed through, and without any integration response
//!   the body is passed through as well (a mock sends nothing then, having
//!   no body). No matching response (and no `$default`), a mock request
//!   template without an integer `statusCode`, or a response template that
//!   fails are integration failures; an empty rendered reply is not sent.
//!   One-way routes send nothing. Integration failures send
//!   `{"message": "Internal server error", "connectionId", "requestId"}` on
//!   every route (timeouts: `Endpoint request timed out`).
//! * Close codes: frames above 32 KB or messages above 128 KB → 1009
//!   (`Message too big`); binary frames → 1003 (AWS does not accept them);
//!   idle timeout and connection lifetime → 1001 (`Going away`);
//!   `DeleteConnection` → 1000; [`Gateway::close_all`] → 1001. `$disconnect`
//!   gets the code and reason (`1005`, `Client-side close frame status not
//!   set`, when the client's close frame had none; `1006` when the TCP
//!   connection dropped without a close handshake).
//! * `@connections` posts are not split into 32 KB frames (tungstenite
//!   sends one frame per message); clients accept either.
//! * `$context.requestTimeEpoch` is in milliseconds, as on AWS.
#![warn(missing_docs)]

mod authorizer;
mod clock;
pub mod config;
mod connections;
mod connections_api;
mod error;
mod events;
mod ids;
mod integration;
pub mod observe;
mod route_selection;
mod routing;
mod socket;
mod urlencoding;
mod validation;

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use axum::{Router, routing::any};
use bytes::Bytes;
use tokio::sync::Notify;
use wsflow_aws_wire::ServiceError;

pub use config::{
    ApiConfig, Backends, ConnectAuthorization, IamAuthorization, IamCredential, IntegrationConfig,
    IntegrationResponseConfig, LambdaAuthorizer, Limits, RequestModel, RequestValidationConfig,
    RouteConfig,
};
pub use error::GatewayError;

use connections::Registry;
use events::ApiInfo;
use integration::Integration;

use routing::Routing;

/// A compiled route.
pub(crate) struct Route {
    pub(crate) key: String,
    pub(crate) integration: Integration,
    pub(crate) two_way: bool,
    /// Integration responses (non-proxy integrations that have any).
    pub(crate) responses: Option<integration::response::IntegrationResponses>,
    /// Request validation (routes with a model selection expression).
    pub(crate) validation: Option<validation::RequestValidator>,
}

/// Counts running connection tasks so [`Gateway::close_all`] can wait for them.
struct Tasks {
    count: AtomicUsize,
    zero: Notify,
}

/// Held by a running connection task.
pub(crate) struct TaskGuard(Arc<Inner>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if self.0.tasks.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.tasks.zero.notify_waiters();
        }
    }
}

pub(crate) struct Inner {
    /// Routes and integrations; replaced whole by [`Gateway::reload`].
    pub(crate) routing: arc_swap::ArcSwap<Routing>,
    pub(crate) api: ApiInfo,
    pub(crate) registry: Registry,
    pub(crate) observer: observe::Observer<observe::GatewayEvent>,
    tasks: Tasks,
    pub(crate) shutting_down: AtomicBool,
}

/// An API Gateway WebSocket API: cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Gateway {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("api_id", &self.inner.api.api_id)
            .field("stage", &self.inner.api.stage)
            .field("connections", &self.connection_count())
            .finish()
    }
}

impl Gateway {
    /// Compiles the route selection expression, every request and response
    /// template and every request model once, and resolves each AWS service
    /// integration's backend.
    pub fn new(config: ApiConfig, backends: Backends) -> Result<Gateway, GatewayError> {
        let api = ApiInfo {
            api_id: config.api_id.clone(),
            stage: config.stage.clone(),
            domain_name: config.domain_name.clone(),
        };
        let routing = Routing::compile(config, &backends)?;
        Ok(Gateway {
            inner: Arc::new(Inner {
                routing: arc_swap::ArcSwap::from_pointee(routing),
                api,
                registry: Registry::new(),
                observer: observe::Observer::new(),
                tasks: Tasks {
                    count: AtomicUsize::new(0),
                    zero: Notify::new(),
                },
                shutting_down: AtomicBool::new(false),
            }),
        })
    }

    /// The gateway's HTTP surface, to be merged with the stack's other routes:
    ///
    /// * `GET` on any other path (the router's fallback, so merge it into a
    ///   router without one, or use it as the fallback service): the
    ///   WebSocket handshake (`/<stage>` only, unless
    ///   [`ApiConfig::url_path_header`] is set);
    /// * `POST`/`GET`/`DELETE` `/@connections/{id}` and
    ///   `/{stage}/@connections/{id}`: the management API
    ///   (`PostToConnection`, `GetConnection`, `DeleteConnection`); SigV4
    ///   `Authorization` headers are accepted unverified.
    ///
    /// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` to
    /// get real client addresses in `identity.sourceIp` (otherwise
    /// `X-Forwarded-For`, else `127.0.0.1`).
    pub fn router(&self) -> Router {
        let conn = any(connections_api::handle);
        Router::new()
            .route("/@connections/{id}", conn.clone())
            .route("/{stage}/@connections/{id}", conn)
            // Handshakes on any other path: a fallback, because a catch-all
            // route would conflict with `/{stage}/@connections/{id}`.
            .fallback(socket::handshake)
            .with_state(self.clone())
    }

    /// Sends `data` to a connection, as `PostToConnection` does: a text frame
    /// when `data` is UTF-8, else a binary frame. `GoneException` (410) when
    /// the connection does not exist (or not yet / no longer),
    /// `PayloadTooLargeException` (413) above the message size quota.
    pub async fn post_to_connection(&self, id: &str, data: Bytes) -> Result<(), ServiceError> {
        connections_api::post(self, id, data).await
    }

    /// Closes every connection (close code 1001, `Going away`), runs
    /// `$disconnect` for each, and waits until all connection tasks ended.
    /// New handshakes are refused from then on.
    pub async fn close_all(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        for conn in self.inner.registry.all() {
            conn.request_close(1001, "Going away");
        }
        loop {
            let notified = self.inner.tasks.zero.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.inner.tasks.count.load(Ordering::Acquire) == 0 {
                break;
            }
            notified.await;
        }
    }

    /// The configuration the gateway serves (routes, stage, limits): the
    /// one it was built from, or the last one [`Gateway::reload`] applied.
    pub fn config(&self) -> Arc<ApiConfig> {
        Arc::clone(&self.inner.routing.load().config)
    }

    /// Watches connections and frames (see [`observe`]).
    pub fn subscribe(&self) -> observe::Subscription<observe::GatewayEvent> {
        self.inner.observer.subscribe()
    }

    /// The open connections, oldest first.
    pub fn connections(&self) -> Vec<observe::OpenConnection> {
        let mut all: Vec<observe::OpenConnection> = self
            .inner
            .registry
            .all()
            .into_iter()
            .map(|c| observe::OpenConnection {
                summary: Arc::clone(&c.summary),
                last_active_millis: c.last_active(),
            })
            .collect();
        all.sort_by(|a, b| {
            (a.summary.connected_at_millis, &a.summary.connection_id)
                .cmp(&(b.summary.connected_at_millis, &b.summary.connection_id))
        });
        all
    }

    /// One open connection.
    pub fn connection(&self, id: &str) -> Option<observe::OpenConnection> {
        self.inner
            .registry
            .get(id)
            .map(|c| observe::OpenConnection {
                summary: Arc::clone(&c.summary),
                last_active_millis: c.last_active(),
            })
    }

    /// Closes a connection as `DeleteConnection` does (close code 1000, then
    /// `$disconnect`); `GoneException` (410) when it is not open.
    pub fn delete_connection(&self, id: &str) -> Result<(), ServiceError> {
        match self.inner.registry.get(id) {
            Some(conn) => {
                conn.request_close(1000, "");
                Ok(())
            }
            None => Err(ServiceError::with_status(410, "GoneException", "")),
        }
    }

    /// How many connections are open.
    pub fn connection_count(&self) -> usize {
        self.inner.registry.len()
    }

    pub(crate) fn enter_task(&self) -> TaskGuard {
        self.inner.tasks.count.fetch_add(1, Ordering::AcqRel);
        TaskGuard(Arc::clone(&self.inner))
    }
}
