//! The gateway's configuration error type (one per crate).
//!
//! Runtime failures never surface as Rust errors: they become what API
//! Gateway itself answers (an HTTP status on `$connect`, an
//! `Internal server error` message on the socket, an `@connections` error).

/// Why a [`crate::Gateway`] could not be built from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The route selection expression (or a template selection expression)
    /// is not one API Gateway accepts.
    #[error("invalid selection expression {expression:?}: {reason}")]
    SelectionExpression {
        /// The expression as configured.
        expression: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A request template failed to parse.
    #[error("route {route_key:?}: request template {template_key:?}: {message}")]
    Template {
        /// The route the template belongs to.
        route_key: String,
        /// The template's key (`$default`, `application/json`, …).
        template_key: String,
        /// The VTL parser's message.
        message: String,
    },
    /// An AWS service integration names a service no backend provides.
    #[error("route {route_key:?}: no local AWS service named {service:?}")]
    UnknownService {
        /// The route.
        route_key: String,
        /// The service name from the integration URI (`dynamodb`, `states`, `sqs`).
        service: String,
    },
    /// An AWS service integration has neither an action nor a usable path.
    #[error("route {route_key:?}: {reason}")]
    Integration {
        /// The route.
        route_key: String,
        /// What is wrong.
        reason: String,
    },
    /// A reload the running gateway cannot apply.
    #[error("{0}")]
    Reload(String),
    /// Two routes share a route key.
    #[error("duplicate route key {0:?}")]
    DuplicateRoute(String),
    /// An integration response the gateway cannot serve (a key that is not
    /// `$default` or a valid `/regex/`, a response template that does not
    /// parse).
    #[error("route {route_key:?}: integration response {key:?}: {reason}")]
    IntegrationResponse {
        /// The route.
        route_key: String,
        /// The `IntegrationResponseKey`.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A request model whose schema does not compile.
    #[error("route {route_key:?}: request model {model:?}: {reason}")]
    Model {
        /// The route.
        route_key: String,
        /// The model's name.
        model: String,
        /// What is wrong.
        reason: String,
    },
    /// A passthrough behavior other than `WHEN_NO_MATCH`, `WHEN_NO_TEMPLATES`, `NEVER`.
    #[error("route {route_key:?}: unknown passthrough behavior {value:?}")]
    PassthroughBehavior {
        /// The route.
        route_key: String,
        /// The configured value.
        value: String,
    },
}
