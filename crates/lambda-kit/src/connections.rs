//! The `@connections` API: sending a message to one WebSocket connection.
//!
//! Wraps aws-sdk-apigatewaymanagement's `PostToConnection` and turns its outcomes into what the
//! functions act on:
//! * `200` → [`Delivery::Delivered`];
//! * `410 GoneException` (the client went away) → [`Delivery::Gone`], an expected outcome;
//! * throttling (`429 LimitExceededException`), `5xx`, timeouts and connection failures →
//!   [`PostError::Unavailable`], worth retrying;
//! * anything else (`403 ForbiddenException`, `413 PayloadTooLargeException`...) →
//!   [`PostError::Rejected`], not worth retrying.
//!
//! The endpoint comes from `CONNECTIONS_ENDPOINT` or, for route functions, from the event's
//! `requestContext` (`https://{domainName}/{stage}`), never from code.

use std::sync::Mutex;

use aws_config::SdkConfig;
use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequestContext;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::config::http::HttpResponse;
use aws_sdk_apigatewaymanagement::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;

/// What happened to a message posted to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// API Gateway accepted the message for the connection.
    Delivered,
    /// The connection no longer exists (`410 GoneException`).
    Gone,
}

/// Posting to a connection failed.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// A transient failure: throttling, a server error, a timeout or a network failure.
    #[error("@connections is unavailable for {connection_id}: {detail}")]
    Unavailable {
        /// The connection the message was for.
        connection_id: String,
        /// What the SDK reported.
        detail: String,
    },
    /// API Gateway refused the request (e.g. `ForbiddenException`, `PayloadTooLargeException`).
    #[error("@connections rejected the message for {connection_id} ({code}): {detail}")]
    Rejected {
        /// The connection the message was for.
        connection_id: String,
        /// The AWS error code, or the HTTP status when the response named none.
        code: String,
        /// What the SDK reported.
        detail: String,
    },
}

impl PostError {
    /// Whether retrying the same request later can succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, PostError::Unavailable { .. })
    }
}

/// A `@connections` client bound to one endpoint. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Connections {
    client: Client,
    endpoint: String,
}

impl Connections {
    /// A client for `endpoint` (`https://{api}.execute-api.{region}.amazonaws.com/{stage}` or a
    /// local `http://127.0.0.1:{port}/{stage}`), using `sdk`'s region, credentials and retry policy.
    pub fn new(sdk: &SdkConfig, endpoint: &str) -> Self {
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
            .endpoint_url(endpoint)
            .build();
        Self {
            client: Client::from_conf(config),
            endpoint: endpoint.to_owned(),
        }
    }

    /// The endpoint this client posts to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Sends `data` to `connection_id`.
    pub async fn post(
        &self,
        connection_id: &str,
        data: impl Into<Vec<u8>>,
    ) -> Result<Delivery, PostError> {
        let result = self
            .client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(data))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Delivery::Delivered),
            Err(err) => classify(connection_id, err),
        }
    }
}

fn classify(
    connection_id: &str,
    err: SdkError<PostToConnectionError, HttpResponse>,
) -> Result<Delivery, PostError> {
    let (status, code) = match &err {
        SdkError::ServiceError(service) => (
            Some(service.raw().status().as_u16()),
            service.err().code().map(str::to_owned),
        ),
        _ => (None, None),
    };
    if code.as_deref() == Some("GoneException") || status == Some(410) {
        return Ok(Delivery::Gone);
    }
    let transient = match status {
        Some(status) => {
            status == 429 || status >= 500 || code.as_deref() == Some("LimitExceededException")
        }
        // No response: a timeout, a network failure or an unreadable response is transient; a
        // request the SDK could not even build (e.g. an empty connection id) is not.
        None => !matches!(err, SdkError::ConstructionFailure(_)),
    };
    let connection_id = connection_id.to_owned();
    let detail = DisplayErrorContext(&err).to_string();
    if transient {
        Err(PostError::Unavailable {
            connection_id,
            detail,
        })
    } else {
        let code = code.unwrap_or_else(|| match status {
            Some(status) => format!("HTTP {status}"),
            None => "ConstructionFailure".into(),
        });
        Err(PostError::Rejected {
            connection_id,
            code,
            detail,
        })
    }
}

/// `https://{domainName}/{stage}`: the `@connections` endpoint of the API a WebSocket event came from.
pub fn endpoint_from_request(context: &ApiGatewayWebsocketProxyRequestContext) -> Option<String> {
    let domain = context.domain_name.as_deref().filter(|d| !d.is_empty())?;
    let stage = context.stage.as_deref().filter(|s| !s.is_empty())?;
    Some(format!("https://{domain}/{stage}"))
}

/// No endpoint is configured and the event does not name one.
#[derive(Debug, thiserror::Error)]
#[error(
    "no @connections endpoint: CONNECTIONS_ENDPOINT is not set and the event has no domainName/stage"
)]
pub struct NoEndpoint;

/// `@connections` clients for route functions: the configured endpoint when there is one,
/// otherwise the one the event came from (the last such client is kept for the next event).
#[derive(Debug)]
pub struct RouteConnections {
    sdk: SdkConfig,
    configured: Option<Connections>,
    from_event: Mutex<Option<Connections>>,
}

impl RouteConnections {
    /// Clients built from `sdk`, preferring `configured_endpoint` (from `CONNECTIONS_ENDPOINT`).
    pub fn new(sdk: SdkConfig, configured_endpoint: Option<&str>) -> Self {
        let configured = configured_endpoint.map(|endpoint| Connections::new(&sdk, endpoint));
        Self {
            sdk,
            configured,
            from_event: Mutex::new(None),
        }
    }

    /// The client to answer an event with `context`.
    pub fn for_request(
        &self,
        context: &ApiGatewayWebsocketProxyRequestContext,
    ) -> Result<Connections, NoEndpoint> {
        if let Some(configured) = &self.configured {
            return Ok(configured.clone());
        }
        let endpoint = endpoint_from_request(context).ok_or(NoEndpoint)?;
        // A poisoned lock only means another invocation panicked mid-update; the cached value is
        // still a whole `Option<Connections>`, so keep using it.
        let mut cached = self.from_event.lock().unwrap_or_else(|p| p.into_inner());
        match cached.as_ref() {
            Some(client) if client.endpoint() == endpoint => Ok(client.clone()),
            _ => {
                let client = Connections::new(&self.sdk, &endpoint);
                *cached = Some(client.clone());
                Ok(client)
            }
        }
    }
}
