//! The Lambda Runtime API (version 2018-06-01) one function process talks
//! to, served with hyper on that process's own loopback listener.
//!
//! Endpoints, status codes and error bodies follow AWS's reference
//! ("Using the Lambda runtime API for custom runtimes") and Lambda's own
//! implementation in the Runtime Interface Emulator:
//!
//! * `GET  /2018-06-01/runtime/invocation/next`: long-polls for the next
//!   event; 200 with the payload and the `Lambda-Runtime-*` headers; 403
//!   `InvalidStateTransition` while the previous event is unanswered;
//! * `POST /2018-06-01/runtime/invocation/{id}/response`: 202
//!   `{"status":"OK"}`; 400 `InvalidRequestID` for an unknown id; 413
//!   `RequestEntityTooLarge` over 6 MiB + 100 bytes;
//! * `POST /2018-06-01/runtime/invocation/{id}/error`: same codes;
//! * `POST /2018-06-01/runtime/init/error`: 202, and the environment is reset.
//!
//! Hand-written on hyper rather than axum: four routes, and the invoke path
//! is the hot path of the whole stack (no router, no extractor allocations).

use std::{
    convert::Infallible,
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::{
    Method, Request, Response, StatusCode,
    body::Incoming,
    header::{CONTENT_TYPE, HeaderValue},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::{net::TcpListener, task::JoinSet};

use crate::{
    aws_errors::{MAX_RESPONSE_BYTES, posted_error},
    request_id::new_trace_id,
    worker::{NextError, Outcome, WorkerShared},
};

const PREFIX: &str = "/2018-06-01/runtime/";
const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Accepts the process's connections until aborted (the worker's supervisor
/// aborts it when the process exits, which also ends every connection task).
pub(crate) async fn serve(listener: TcpListener, shared: Arc<WorkerShared>) {
    let mut connections = JoinSet::new();
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(function = %shared.function().spec.name, "runtime API accept failed: {e}");
                // Out of descriptors and the like: do not spin.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        // Responses are small and latency-bound: never wait for Nagle.
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        connections.spawn(async move {
            let service = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(route(&shared, req).await) }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        // Reap finished connection tasks so the set does not grow.
        while connections.try_join_next().is_some() {}
    }
}

type Reply = Response<Full<Bytes>>;

async fn route(shared: &WorkerShared, req: Request<Incoming>) -> Reply {
    let Some(path) = req.uri().path().strip_prefix(PREFIX) else {
        return not_found();
    };
    match (req.method(), path) {
        (&Method::GET, "invocation/next") => next(shared).await,
        (&Method::POST, "init/error") => {
            let error_type = header(&req, ERROR_TYPE_HEADER);
            let body = match read_body(req.into_body()).await {
                Ok(b) => b,
                Err(reply) => return reply,
            };
            let payload = posted_error(&body, error_type.as_deref());
            shared.function().log.platform(&format!(
                "INIT_REPORT Status: error\tError Type: {}",
                payload
                    .get("errorType")
                    .and_then(|v| v.as_str())
                    .unwrap_or("Runtime.Unknown")
            ));
            shared.init_failed(payload);
            accepted()
        }
        (&Method::POST, rest) => {
            let Some(rest) = rest.strip_prefix("invocation/") else {
                return not_found();
            };
            if let Some(id) = rest.strip_suffix("/response") {
                let id = id.to_owned();
                match read_body(req.into_body()).await {
                    Ok(body) => answer(shared, &id, Outcome::Response(body)),
                    Err(reply) => {
                        if reply.status() == StatusCode::PAYLOAD_TOO_LARGE {
                            shared.complete(&id, Outcome::ResponseTooLarge);
                        }
                        reply
                    }
                }
            } else if let Some(id) = rest.strip_suffix("/error") {
                let id = id.to_owned();
                let error_type = header(&req, ERROR_TYPE_HEADER);
                match read_body(req.into_body()).await {
                    Ok(body) => answer(
                        shared,
                        &id,
                        Outcome::Error(posted_error(&body, error_type.as_deref())),
                    ),
                    Err(reply) => {
                        if reply.status() == StatusCode::PAYLOAD_TOO_LARGE {
                            shared.complete(&id, Outcome::ResponseTooLarge);
                        }
                        reply
                    }
                }
            } else {
                not_found()
            }
        }
        _ => not_found(),
    }
}

async fn next(shared: &WorkerShared) -> Reply {
    let event = loop {
        match shared.take_next() {
            Ok(Some(event)) => break event,
            Ok(None) => shared.notified().await,
            Err(NextError::Busy) => {
                return error_reply(
                    StatusCode::FORBIDDEN,
                    "InvalidStateTransition",
                    "State transition from Invoking to Ready failed for runtime. Error: the current invocation has not been answered",
                );
            }
        }
    };
    let function = shared.function();
    let deadline_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d + function.spec.timeout)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut response = Response::new(Full::new(event.payload));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, APPLICATION_JSON);
    if let Ok(v) = HeaderValue::from_str(&event.request_id) {
        headers.insert("lambda-runtime-aws-request-id", v);
    }
    headers.insert("lambda-runtime-deadline-ms", HeaderValue::from(deadline_ms));
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        function.arn_header.clone(),
    );
    if let Ok(v) = HeaderValue::from_str(&new_trace_id()) {
        headers.insert("lambda-runtime-trace-id", v);
    }
    response
}

fn answer(shared: &WorkerShared, request_id: &str, outcome: Outcome) -> Reply {
    if shared.complete(request_id, outcome) {
        accepted()
    } else {
        error_reply(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "Invalid request ID",
        )
    }
}

/// Reads a posted body up to Lambda's payload limit; the error is the reply
/// to send (413 `RequestEntityTooLarge` when over it).
async fn read_body(body: Incoming) -> Result<Bytes, Reply> {
    match Limited::new(body, MAX_RESPONSE_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(error_reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
        )),
        Err(_) => Err(error_reply(
            StatusCode::BAD_REQUEST,
            "TruncatedHTTPRequest",
            "HTTP request detected as truncated",
        )),
    }
}

fn header(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn accepted() -> Reply {
    let mut r = Response::new(Full::new(Bytes::from_static(br#"{"status":"OK"}"#)));
    *r.status_mut() = StatusCode::ACCEPTED;
    r.headers_mut().insert(CONTENT_TYPE, APPLICATION_JSON);
    r
}

fn error_reply(status: StatusCode, error_type: &str, message: &str) -> Reply {
    let body = json!({ "errorMessage": message, "errorType": error_type }).to_string();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, APPLICATION_JSON);
    r
}

fn not_found() -> Reply {
    let mut r = Response::new(Full::new(Bytes::from_static(b"404 page not found\n")));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}
