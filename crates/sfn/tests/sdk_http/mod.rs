//! The service over real HTTP for SDK tests: a tiny `X-Amz-Target` router
//! (the stack's real edge router lives in the root package) and an
//! aws-sdk-sfn client pointed at it.
#![allow(dead_code)]

use aws_sdk_sfn::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_sfn::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_sfn::error::BoxError;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use wsflow_aws_wire::{AwsService, Protocol, ServiceRequest};
use wsflow_sfn::StepFunctions;

async fn route(State(svc): State<StepFunctions>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(("AWSStepFunctions", op)) = target.split_once('.') else {
        return (StatusCode::BAD_REQUEST, "unknown target").into_response();
    };
    let req = ServiceRequest {
        operation: op.to_owned(),
        protocol: Protocol::Json,
        body: body.to_vec(),
    };
    match svc.call(req).await {
        Ok(r) => (
            StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK),
            [(header::CONTENT_TYPE, r.content_type)],
            r.body,
        )
            .into_response(),
        Err(e) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
            e.json_body(svc.error_namespace()),
        )
            .into_response(),
    }
}

/// Serves `router` on a free loopback port; returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// Serves the service's JSON API; returns its base URL.
pub async fn serve_service(svc: &StepFunctions) -> String {
    serve(
        axum::Router::new()
            .route("/", post(route))
            .with_state(svc.clone()),
    )
    .await
}

/// The Rust SDK prepends `sync-` to the host for StartSyncExecution (AWS's
/// `sync-states` endpoint) and, unlike boto3/JS, has no switch to turn host
/// prefixes off; against a local endpoint this interceptor removes it.
#[derive(Debug)]
pub struct StripSyncPrefix;

impl Intercept for StripSyncPrefix {
    fn name(&self) -> &'static str {
        "StripSyncPrefix"
    }
    fn modify_before_transmit(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = ctx.request().uri().replacen("://sync-", "://", 1);
        ctx.request_mut().set_uri(uri)?;
        Ok(())
    }
}

/// An aws-sdk-sfn client for `endpoint` (test credentials, us-east-1).
pub fn client(endpoint: &str) -> aws_sdk_sfn::Client {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .interceptor(StripSyncPrefix)
        .build();
    aws_sdk_sfn::Client::from_conf(config)
}
