//! The `@connections` management API (`apigatewaymanagementapi`, REST-JSON):
//!
//! * `POST /@connections/{id}`: `PostToConnection`, the body is the data; 200;
//! * `GET /@connections/{id}`: `GetConnection`, 200
//!   `{"connectedAt","identity":{"sourceIp","userAgent"},"lastActiveAt"}`;
//! * `DELETE /@connections/{id}`: `DeleteConnection`, 204; the socket closes
//!   (code 1000) and `$disconnect` runs.
//!
//! Also under `/{stage}/@connections/{id}`, where SDKs configured with the
//! `https://…/<stage>` endpoint send them. Errors carry `x-amzn-ErrorType`
//! as AWS's do: `GoneException` (410, empty body, as AWS sends it) for an
//! unknown or closed connection, `PayloadTooLargeException` (413) for data
//! above the message quota, `ForbiddenException` (403) for another stage,
//! `LimitExceededException` (429) when a client has not read its queued
//! messages for 10 s.
//! SigV4 `Authorization` headers are accepted without verification.

use std::collections::HashMap;

use axum::{
    extract::{Path, State, ws::Message},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use serde_json::json;
use wsflow_aws_wire::ServiceError;

use crate::{Gateway, clock, connections::Outbound};

fn gone() -> ServiceError {
    ServiceError::with_status(410, "GoneException", "")
}

/// `PostToConnection`, shared by HTTP and in-process callers.
pub(crate) async fn post(gw: &Gateway, id: &str, data: Bytes) -> Result<(), ServiceError> {
    if data.len() > gw.routing().config.limits.max_message_bytes {
        return Err(ServiceError::with_status(
            413,
            "PayloadTooLargeException",
            "Request Too Long",
        ));
    }
    let conn = gw.inner.registry.get(id).ok_or_else(gone)?;
    let message = match std::str::from_utf8(&data) {
        Ok(_) => match axum::extract::ws::Utf8Bytes::try_from(data) {
            Ok(text) => Message::Text(text),
            Err(_) => return Err(ServiceError::internal("UTF-8 check disagreed")),
        },
        Err(_) => Message::Binary(data),
    };
    // A client that stops reading fills its channel: after a while posts
    // are throttled (`LimitExceededException`, 429) rather than queued forever.
    match tokio::time::timeout(POST_WAIT, conn.outbound.send(Outbound::Message(message))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(gone()),
        Err(_) => Err(ServiceError::with_status(
            429,
            "LimitExceededException",
            "Rate exceeded",
        )),
    }
}

/// How long a post waits for room in a connection's send queue.
const POST_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

fn error_response(e: &ServiceError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = if e.message.is_empty() {
        String::new()
    } else {
        json!({ "message": e.message }).to_string()
    };
    let mut resp = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&e.code) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    resp
}

/// Any method on `/@connections/{id}` or `/{stage}/@connections/{id}`.
pub(crate) async fn handle(
    State(gw): State<Gateway>,
    method: Method,
    Path(params): Path<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Some(stage) = params.get("stage")
        && *stage != gw.inner.api.stage
    {
        return error_response(&ServiceError::with_status(
            403,
            "ForbiddenException",
            "Forbidden",
        ));
    }
    let Some(id) = params.get("id") else {
        return error_response(&gone());
    };
    match method {
        Method::POST => match post(&gw, id, body).await {
            Ok(()) => StatusCode::OK.into_response(),
            Err(e) => error_response(&e),
        },
        Method::GET => match gw.inner.registry.get(id) {
            Some(conn) => {
                let mut identity = serde_json::Map::new();
                identity.insert("sourceIp".into(), conn.info.source_ip.clone().into());
                if let Some(ua) = &conn.info.user_agent {
                    identity.insert("userAgent".into(), ua.clone().into());
                }
                let body = json!({
                    "connectedAt": clock::iso8601(conn.info.connected_at),
                    "identity": identity,
                    "lastActiveAt": clock::iso8601(conn.last_active()),
                });
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    body.to_string(),
                )
                    .into_response()
            }
            None => error_response(&gone()),
        },
        Method::DELETE => match gw.delete_connection(id) {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(e) => error_response(&e),
        },
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}
