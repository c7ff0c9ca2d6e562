//! Route integrations, compiled once: Lambda proxy, AWS service (request
//! templates + a local [`wsflow_aws_wire::AwsService`]) and mock. Each call
//! yields an [`Outcome`] the socket layer turns into what API Gateway does;
//! for non-proxy integrations on two-way routes, through the integration
//! responses (`response`).

pub(crate) mod aws_service;
pub(crate) mod lambda;
pub(crate) mod mock;
pub(crate) mod response;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use serde_json::{Map, Value};

use crate::{Backends, GatewayError, IntegrationConfig, config::ApiConfig};

/// The result of calling an integration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The backend answered. `status` is the proxy result's `statusCode`
    /// (Lambda) or the service's HTTP status; `body` is what a two-way route
    /// sends back; `headers` are the proxy result's headers (`$connect`
    /// uses `Sec-WebSocket-Protocol`).
    Response {
        status: u16,
        body: Option<String>,
        headers: Vec<(String, String)>,
    },
    /// The AWS service refused the call: `status` and its error body, which a
    /// two-way route passes through (the `$default` integration response
    /// matches every status).
    ServiceError { status: u16, body: String },
    /// The integration failed (function error, bad template, unknown
    /// operation): the client gets `Internal server error`.
    Failed(String),
    /// The integration did not answer within the integration timeout: the
    /// client gets `Endpoint request timed out`.
    TimedOut,
}

/// What a call needs besides the proxy event.
pub(crate) struct CallInput<'a> {
    /// The message body (`""` for `$connect`/`$disconnect`).
    pub body: &'a str,
    /// `$context`.
    pub context: &'a Map<String, Value>,
    /// Request headers (only `$connect` has any).
    pub headers: &'a [(String, String)],
    /// Query string parameters (only `$connect` has any).
    pub query: &'a [(String, String)],
}

/// A route's `RequestTemplates`, each parsed once; one that does not parse is
/// an error naming the route and the template's key.
pub(crate) fn parse_request_templates(
    route_key: &str,
    sources: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, wsflow_vtl::Template>, GatewayError> {
    sources
        .iter()
        .map(|(key, source)| {
            wsflow_vtl::Template::parse(source)
                .map(|t| (key.clone(), t))
                .map_err(|e| GatewayError::Template {
                    route_key: route_key.to_owned(),
                    template_key: key.clone(),
                    message: e.to_string(),
                })
        })
        .collect()
}

/// A compiled integration.
pub(crate) enum Integration {
    Lambda(lambda::LambdaIntegration),
    Service(Box<aws_service::ServiceIntegration>),
    Mock(mock::MockIntegration),
}

impl Integration {
    pub(crate) fn compile(
        route_key: &str,
        config: &IntegrationConfig,
        api: &ApiConfig,
        backends: &Backends,
    ) -> Result<Self, GatewayError> {
        Ok(match config {
            IntegrationConfig::LambdaProxy { function } => {
                Self::Lambda(lambda::LambdaIntegration {
                    function: function.clone(),
                    invoker: Arc::clone(&backends.lambda),
                })
            }
            IntegrationConfig::AwsService { .. } => Self::Service(Box::new(
                aws_service::ServiceIntegration::compile(route_key, config, api, backends)?,
            )),
            IntegrationConfig::Mock {
                request_templates,
                template_selection_expression,
            } => Self::Mock(mock::MockIntegration::compile(
                route_key,
                request_templates,
                template_selection_expression.as_deref(),
            )?),
        })
    }

    /// Whether the integration has integration responses (non-proxy).
    pub(crate) fn has_responses(&self) -> bool {
        matches!(self, Self::Service(_) | Self::Mock(_))
    }

    /// Whether calling needs the Lambda proxy event.
    pub(crate) fn wants_event(&self) -> bool {
        matches!(self, Self::Lambda(_))
    }

    /// Calls the integration, bounded by `timeout`.
    pub(crate) async fn call(
        &self,
        input: &CallInput<'_>,
        event: Option<Value>,
        timeout: Duration,
    ) -> Outcome {
        let fut = async {
            match self {
                Self::Lambda(l) => l.call(event.unwrap_or(Value::Null)).await,
                Self::Service(s) => s.call(input).await,
                Self::Mock(m) => m.call(input),
            }
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::TimedOut,
        }
    }
}
