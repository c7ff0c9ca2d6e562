//! The edge router: picks the protocol and the service for each request.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use axum::{
    Router,
    body::Body,
    extract::Request,
    http::{Method, Response, StatusCode},
};
use tower::ServiceExt;
use wsflow_aws_wire::{Protocol, ServiceRequest};

use crate::{AwsService, ServiceError, protocol};

/// Largest request body the AWS APIs accept here (Step Functions and SQS
/// bodies stay far below it; DynamoDB batch writes can reach a few MiB).
const MAX_API_BODY: usize = 16 * 1024 * 1024;

/// Builds an [`Edge`].
#[derive(Default)]
pub struct EdgeBuilder {
    services: Vec<Arc<dyn AwsService>>,
    endpoint: String,
    fallback: Option<Router>,
    rest: Router,
}

impl EdgeBuilder {
    /// Adds a service reachable by its `X-Amz-Target` prefix.
    pub fn service(mut self, service: Arc<dyn AwsService>) -> Self {
        self.services.push(service);
        self
    }

    /// The public base URL of the edge (`http://127.0.0.1:3001`), used to turn
    /// a query-protocol request path into a `QueueUrl`.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// Adds the routes of a REST-protocol AWS API (Lambda's
    /// `/2015-03-31/functions/…`): they answer by method and path, before
    /// any `X-Amz-Target` or `Action=` routing. Their paths must not overlap
    /// those of an API added before.
    pub fn rest(mut self, routes: Router) -> Self {
        self.rest = std::mem::take(&mut self.rest).merge(routes);
        self
    }

    /// The router for everything that is not an AWS API call (the gateway).
    pub fn fallback(mut self, router: Router) -> Self {
        self.fallback = Some(router);
        self
    }

    /// Finishes the edge.
    pub fn build(self) -> Edge {
        Edge {
            inner: Arc::new(Inner {
                services: self.services,
                endpoint: self.endpoint.trim_end_matches('/').to_owned(),
                fallback: self.fallback.unwrap_or_default(),
                request_ids: AtomicU64::new(1),
            }),
            rest: self.rest,
        }
    }
}

/// The single-port router of the local stack.
#[derive(Clone)]
pub struct Edge {
    inner: Arc<Inner>,
    rest: Router,
}

struct Inner {
    services: Vec<Arc<dyn AwsService>>,
    endpoint: String,
    fallback: Router,
    request_ids: AtomicU64,
}

impl Edge {
    /// Starts building an edge.
    pub fn builder() -> EdgeBuilder {
        EdgeBuilder::default()
    }

    /// The axum router that serves every request of the stack.
    pub fn into_router(self) -> Router {
        let rest = self.rest.clone();
        rest.fallback(move |req: Request| {
            let edge = self.clone();
            async move { edge.dispatch(req).await }
        })
    }

    async fn dispatch(&self, req: Request) -> Response<Body> {
        if let Some(target) = req
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
        {
            let target = target.to_owned();
            return self.json_call(&target, req).await;
        }
        if req.method() == Method::POST && is_form(&req) {
            return self.query_call(req).await;
        }
        match self.inner.fallback.clone().oneshot(req).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        }
    }

    fn request_id(&self) -> String {
        let n = self.inner.request_ids.fetch_add(1, Ordering::Relaxed);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (n >> 32) as u32 ^ 0x5f3a_9c21,
            (n >> 16) as u16,
            n as u16 & 0xfff,
            (n >> 4) as u16 & 0xfff,
            n
        )
    }

    async fn json_call(&self, target: &str, req: Request) -> Response<Body> {
        let request_id = self.request_id();
        let Some((prefix, operation)) = target.split_once('.') else {
            let err = ServiceError::client(
                "UnknownOperationException",
                format!("Invalid X-Amz-Target: {target}"),
            );
            return protocol::json_error(&err, None, &request_id);
        };
        let Some(service) = self
            .inner
            .services
            .iter()
            .find(|s| s.target_prefix() == prefix)
        else {
            let err = ServiceError::client(
                "UnknownOperationException",
                format!("No local service answers to {prefix}"),
            );
            return protocol::json_error(&err, None, &request_id);
        };
        let body = match read_body(req).await {
            Ok(body) => body,
            Err(err) => return protocol::json_error(&err, None, &request_id),
        };
        let call = ServiceRequest {
            operation: operation.to_owned(),
            protocol: Protocol::Json,
            body,
        };
        match service.call(call).await {
            Ok(resp) => protocol::success(resp, &request_id),
            Err(err) => protocol::json_error(&err, service.error_namespace(), &request_id),
        }
    }

    async fn query_call(&self, req: Request) -> Response<Body> {
        let request_id = self.request_id();
        let path = req.uri().path().to_owned();
        let scope = signing_service(&req);
        let xmlns = self.query_namespace(scope.as_deref());
        let mut body = match read_body(req).await {
            Ok(body) => body,
            Err(err) => return protocol::query_error(&err, xmlns, &request_id),
        };
        let mut action = None;
        let mut has_queue_url = false;
        for (k, v) in form_urlencoded::parse(&body) {
            match &*k {
                "Action" => action = Some(v.into_owned()),
                "QueueUrl" => has_queue_url = true,
                _ => {}
            }
        }
        let Some(action) = action else {
            let err = ServiceError::client("MissingAction", "Missing Action parameter");
            return protocol::query_error(&err, xmlns, &request_id);
        };
        let Some(service) = self.query_service(scope.as_deref(), &action) else {
            let err = ServiceError::client(
                "InvalidAction",
                format!("No local service answers the query action {action}"),
            );
            return protocol::query_error(&err, xmlns, &request_id);
        };
        // A query-protocol client may name the queue by the request path
        // (`POST /123456789012/my-queue`) instead of a QueueUrl parameter.
        if !has_queue_url && path.len() > 1 {
            let url = format!("{}{path}", self.inner.endpoint);
            let mut extra = form_urlencoded::Serializer::new(String::new());
            extra.append_pair("QueueUrl", &url);
            if !body.is_empty() {
                body.push(b'&');
            }
            body.extend_from_slice(extra.finish().as_bytes());
        }
        let call = ServiceRequest {
            operation: action,
            protocol: Protocol::Query,
            body,
        };
        match service.call(call).await {
            Ok(resp) => protocol::success(resp, &request_id),
            Err(err) => protocol::query_error(&err, service.query_namespace(), &request_id),
        }
    }
}

impl Edge {
    /// The XML namespace of a query-protocol error raised before a service
    /// is picked: that of the service the SigV4 scope names, else SQS's.
    fn query_namespace(&self, scope: Option<&str>) -> &'static str {
        scope
            .and_then(|name| {
                self.inner
                    .services
                    .iter()
                    .find(|s| s.speaks_query_protocol() && s.integration_name() == name)
            })
            .map_or(wsflow_aws_wire::SQS_QUERY_NAMESPACE, |s| {
                s.query_namespace()
            })
    }

    /// The query-protocol service for a request: the one the SigV4
    /// credential scope names, else the one listing `action`, else one
    /// that takes any action (SQS).
    fn query_service(&self, scope: Option<&str>, action: &str) -> Option<&Arc<dyn AwsService>> {
        let query = || {
            self.inner
                .services
                .iter()
                .filter(|s| s.speaks_query_protocol())
        };
        scope
            .and_then(|name| query().find(|s| s.integration_name() == name))
            .or_else(|| query().find(|s| s.query_actions().contains(&action)))
            .or_else(|| query().find(|s| s.query_actions().is_empty()))
    }
}

/// The service name of the SigV4 credential scope
/// (`Credential=AKID/20261205/us-east-1/sns/aws4_request`), if signed.
fn signing_service(req: &Request) -> Option<String> {
    let auth = req.headers().get("authorization")?.to_str().ok()?;
    let credential = auth.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    let mut parts = scope.split('/');
    let service = parts.nth(3)?;
    (parts.next() == Some("aws4_request")).then(|| service.to_owned())
}

fn is_form(req: &Request) -> bool {
    req.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

async fn read_body(req: Request) -> Result<Vec<u8>, ServiceError> {
    match axum::body::to_bytes(req.into_body(), MAX_API_BODY).await {
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(_) => Err(ServiceError::with_status(
            StatusCode::PAYLOAD_TOO_LARGE.as_u16(),
            "RequestEntityTooLarge",
            "Request body too large or unreadable",
        )),
    }
}
