//! The WebSocket side: the `$connect` handshake, then three tasks per
//! connection — a reader (frames, limits, idle and lifetime timeouts), a
//! dispatcher (route selection and integrations; messages run concurrently,
//! as at AWS, but start in arrival order, so e.g. FIFO queue sends keep the
//! client's order) and a
//! writer (everything sent to the client goes through its bounded channel:
//! replies, `@connections` posts, close frames).
//!
//! Closing: whoever closes (client, `DeleteConnection`, idle/lifetime
//! timeout, a quota breach, [`crate::Gateway::close_all`]), the connection
//! leaves the registry first (so posts get 410), the socket is closed, then
//! `$disconnect` runs with the close code and reason (best effort, as AWS).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    extract::{
        ConnectInfo, State,
        ws::{
            CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade,
            rejection::WebSocketUpgradeRejection,
        },
    },
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use futures_util::{
    SinkExt, StreamExt,
    stream::{FuturesUnordered, SplitSink, SplitStream},
};
use serde_json::{Map, Value, json};
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};
use tracing::{debug, warn};

use crate::{
    Gateway, Route,
    authorizer::{Authorization, HandshakeRequest, Refusal},
    clock,
    connections::{CloseRequest, Connection, Outbound},
    events::{self, ConnectionInfo, EventKind},
    ids,
    integration::{CallInput, Outcome},
    observe::{ConnectionSummary, Direction, GatewayEvent, Observer},
    route_selection::IntegrationResult,
    urlencoding,
};

/// Initial per-connection read buffer (tungstenite grows it as frames need).
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Messages waiting for the writer; a full channel makes posters wait.
const OUTBOUND_CAPACITY: usize = 1024;
/// Messages received but not yet dispatched; a full channel stops reading.
const INBOUND_CAPACITY: usize = 256;
/// Messages of one connection whose integrations run at the same time; at
/// the limit, reading pauses.
const MAX_IN_FLIGHT: usize = 128;
/// Frames the writer sends before one flush.
const WRITE_BATCH: usize = 64;
/// How long a closing socket may take to flush.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

fn json_response(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "message": message }).to_string(),
    )
        .into_response()
}

/// `Sec-WebSocket-Key` → `Sec-WebSocket-Key`, `x-amzn-trace-id` →
/// `X-Amzn-Trace-Id`: HTTP/1 header names arrive lower-cased, API Gateway
/// shows them as clients usually spell them.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            if part.eq_ignore_ascii_case("websocket") {
                return "WebSocket".to_owned();
            }
            let mut cs = part.chars();
            match cs.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (urlencoding::decode(k), urlencoding::decode(v))
        })
        .collect()
}

/// `GET` on any path: the WebSocket handshake with `$connect`.
pub(crate) async fn handshake(
    State(gw): State<Gateway>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    uri: Uri,
    headers: HeaderMap,
    connect_info: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let inner = &gw.inner;
    let routing = gw.routing();
    let config = &routing.config;
    if inner
        .shutting_down
        .load(std::sync::atomic::Ordering::SeqCst)
    {
        return json_response(StatusCode::GONE, "Gone");
    }
    // Without the URL-path emulation only the stage path exists.
    let path = uri.path();
    if config.url_path_header.is_none() {
        let stage = path.trim_start_matches('/').trim_end_matches('/');
        if stage != config.stage || path.matches('/').count() > 2 {
            return json_response(StatusCode::FORBIDDEN, "Forbidden");
        }
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };

    let header_str = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let source_ip = connect_info
        .map(|axum::Extension(ConnectInfo(addr))| addr.ip().to_string())
        .or_else(|| {
            header_str("x-forwarded-for")
                .and_then(|v| v.split(',').next().map(|s| s.trim().to_owned()))
        })
        .unwrap_or_else(|| "127.0.0.1".to_owned());
    let mut info = ConnectionInfo {
        connection_id: ids::new_id(),
        connected_at: clock::now_millis(),
        source_ip: source_ip.clone(),
        user_agent: header_str("user-agent"),
        authorizer: None,
    };

    // The headers $connect sees: the client's, then what API Gateway adds.
    // (Hop-by-hop `Connection`/`Upgrade` stay behind, as at AWS.)
    let mut event_headers: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| *k != header::CONNECTION && *k != header::UPGRADE)
        .filter_map(|(k, v)| Some((title_case(k.as_str()), v.to_str().ok()?.to_owned())))
        .collect();
    // The CloudFront Function sets the path header, whatever the client sent.
    if let Some(h) = &config.url_path_header {
        event_headers.retain(|(k, _)| !k.eq_ignore_ascii_case(h));
        event_headers.push((h.clone(), path.to_owned()));
    }
    let mut add = |name: &str, value: String| {
        if !event_headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            event_headers.push((name.to_owned(), value));
        }
    };
    add("X-Amzn-Trace-Id", ids::trace_id());
    add("X-Forwarded-For", source_ip);
    let port = header_str("host")
        .and_then(|h| h.rsplit_once(':').map(|(_, p)| p.to_owned()))
        .unwrap_or_else(|| "80".to_owned());
    add("X-Forwarded-Port", port);
    add("X-Forwarded-Proto", "http".to_owned());
    // API Gateway hands headers over sorted by name (its `{Host=…,
    // Sec-WebSocket-Key=…, X-Forwarded-For=…}` in templates).
    event_headers.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    let query = parse_query(uri.query());
    let summary = Arc::new(ConnectionSummary {
        connection_id: info.connection_id.as_str().into(),
        path: path.to_owned(),
        query_string: uri.query().unwrap_or_default().to_owned(),
        headers: event_headers.clone(),
        source_ip: info.source_ip.clone(),
        connected_at_millis: info.connected_at,
    });

    // The authorizer runs first; its result is in `$connect`'s context and
    // every later event's.
    let mut req = events::request(&inner.api, &info, &EventKind::Connect);
    match authorize(&gw, &uri, &headers, &event_headers, &query, &req.context).await {
        Ok(None) => {}
        Ok(Some(authorizer)) => {
            req.context
                .insert("authorizer".into(), Value::Object(authorizer.clone()));
            info.authorizer = Some(authorizer);
        }
        Err(refused) => return refused,
    }

    // tungstenite's default 128 KiB read buffer is zero-filled on the first
    // read, so every idle connection would keep 128 KiB resident; frames are
    // at most 32 KiB and the buffer grows on demand, so start small.
    let mut ws = ws
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_frame_size(config.limits.max_frame_bytes)
        .max_message_size(config.limits.max_message_bytes);
    if let Some(route) = &routing.connect {
        let input = CallInput {
            body: "",
            context: &req.context,
            headers: &event_headers,
            query: &query,
        };
        let event = route
            .integration
            .wants_event()
            .then(|| events::connect_event(&req, &event_headers, &query));
        let outcome = route
            .integration
            .call(&input, event, config.limits.integration_timeout)
            .await;
        match outcome {
            Outcome::Response {
                status, headers, ..
            } if (200..300).contains(&status) => {
                if let Some((_, p)) = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("sec-websocket-protocol"))
                {
                    ws = ws.protocols([p.clone()]);
                }
            }
            Outcome::Response { status, body, .. } => {
                debug!(status, connection_id = %info.connection_id, "$connect rejected");
                // 1xx (a 101 without an upgrade!) or nonsense: a failed integration.
                let status = StatusCode::from_u16(status)
                    .ok()
                    .filter(|s| (300..600).contains(&s.as_u16()))
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return (status, body.unwrap_or_default()).into_response();
            }
            Outcome::ServiceError { status, body } => {
                warn!(status, %body, "$connect integration returned an error");
                return json_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
            }
            Outcome::Failed(e) => {
                warn!(error = %e, "$connect integration failed");
                return json_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
            }
            Outcome::TimedOut => {
                warn!("$connect integration timed out");
                return json_response(StatusCode::GATEWAY_TIMEOUT, "Endpoint request timed out");
            }
        }
    }
    ws.on_upgrade(move |socket| run_connection(gw, socket, info, summary))
}

/// Runs the `$connect` authorization; `Err` is the refusal to send.
async fn authorize(
    gw: &Gateway,
    uri: &Uri,
    headers: &HeaderMap,
    event_headers: &[(String, String)],
    query: &[(String, String)],
    context: &Map<String, Value>,
) -> Result<Option<Map<String, Value>>, Response> {
    let routing = gw.routing();
    if matches!(routing.authorization, Authorization::None) {
        return Ok(None);
    }
    let raw_headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let request = HandshakeRequest {
        path: uri.path(),
        raw_query: uri.query(),
        query,
        connect_headers: event_headers,
        raw_headers: &raw_headers,
        context,
    };
    let config = &routing.config;
    routing
        .authorization
        .authorize(
            &request,
            &config.account.region,
            config.limits.integration_timeout,
        )
        .await
        .map_err(|refusal| match refusal {
            Refusal::Unauthorized => json_response(StatusCode::UNAUTHORIZED, "Unauthorized"),
            Refusal::Forbidden => json_response(StatusCode::FORBIDDEN, "Forbidden"),
            Refusal::InternalError => {
                json_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
            }
        })
}

/// Why the reader stopped.
enum Ending {
    /// The client sent a close frame (already answered by tungstenite).
    Client { code: u16, reason: String },
    /// The server closes: send this close frame.
    Server { code: u16, reason: String },
    /// The transport broke without a close handshake.
    Abnormal,
}

async fn run_connection(
    gw: Gateway,
    socket: WebSocket,
    info: ConnectionInfo,
    summary: Arc<ConnectionSummary>,
) {
    let _task = gw.enter_task();
    let inner = &gw.inner;
    let (sink, stream) = socket.split();
    let (out_tx, out_rx) = mpsc::channel(OUTBOUND_CAPACITY);
    let (close_tx, close_rx) = oneshot::channel();
    let id = Arc::clone(&summary.connection_id);
    let conn = Arc::new(Connection::new(
        info.clone(),
        Arc::clone(&summary),
        out_tx.clone(),
        close_tx,
    ));
    inner.registry.insert(Arc::clone(&conn));
    inner
        .observer
        .emit(|| GatewayEvent::Opened(Arc::clone(&summary)));
    if inner
        .shutting_down
        .load(std::sync::atomic::Ordering::SeqCst)
    {
        conn.request_close(1001, "Going away");
    }
    let observed = (inner.observer.clone(), Arc::clone(&id));
    let mut writer = tokio::spawn(write_loop(sink, out_rx, observed));
    let (in_tx, in_rx) = mpsc::channel(INBOUND_CAPACITY);
    tokio::spawn(dispatch_loop(gw.clone(), Arc::clone(&conn), in_rx));

    let ending = read_loop(&gw, &conn, stream, in_tx, close_rx).await;
    inner.registry.remove(&info.connection_id);

    let (last, code, reason) = match ending {
        Ending::Client { code, reason } => (Outbound::Shutdown, code, reason),
        Ending::Server { code, reason } => (
            Outbound::Close {
                code,
                reason: reason.clone(),
            },
            code,
            reason,
        ),
        Ending::Abnormal => (
            Outbound::Shutdown,
            1006,
            "Connection was closed abnormally".to_owned(),
        ),
    };
    // A writer stuck on a client that does not read (full channel) is not
    // waited for: the socket is dropped instead.
    if out_tx.try_send(last).is_err() {
        writer.abort();
    }
    drop(out_tx);
    if tokio::time::timeout(CLOSE_GRACE, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
    debug!(connection_id = %info.connection_id, code, %reason, "connection closed");
    inner.observer.emit(|| GatewayEvent::Closed {
        connection_id: id,
        code,
        reason: reason.clone(),
    });
    run_disconnect(&gw, &info, code, &reason).await;
}

async fn read_loop(
    gw: &Gateway,
    conn: &Connection,
    mut stream: SplitStream<WebSocket>,
    in_tx: mpsc::Sender<Utf8Bytes>,
    mut close_rx: oneshot::Receiver<CloseRequest>,
) -> Ending {
    let routing = gw.routing();
    let limits = &routing.config.limits;
    let lifetime = tokio::time::sleep(limits.max_connection_duration);
    tokio::pin!(lifetime);
    // One idle timer per connection, re-armed lazily: frames only record
    // when they arrived; when the timer fires early it moves to
    // last frame + idle timeout.
    let mut last_frame = Instant::now();
    let idle = tokio::time::sleep(limits.idle_timeout);
    tokio::pin!(idle);
    loop {
        tokio::select! {
            req = &mut close_rx => {
                return match req {
                    Ok(r) => Ending::Server { code: r.code, reason: r.reason },
                    Err(_) => Ending::Server { code: 1001, reason: "Going away".into() },
                };
            }
            () = &mut lifetime => {
                return Ending::Server { code: 1001, reason: "Going away".into() };
            }
            () = &mut idle => {
                let due = last_frame + limits.idle_timeout;
                if Instant::now() >= due {
                    return Ending::Server { code: 1001, reason: "Going away".into() };
                }
                idle.as_mut().reset(due);
            }
            next = stream.next() => {
                let msg = match next {
                    None => return Ending::Abnormal,
                    Some(Err(e)) => {
                        return match close_for_read_error(&e) {
                            Some((code, reason)) => Ending::Server { code, reason: reason.into() },
                            None => {
                                debug!(error = %e, "WebSocket read failed");
                                Ending::Abnormal
                            }
                        };
                    }
                    Some(Ok(msg)) => msg,
                };
                last_frame = Instant::now();
                conn.touch(clock::now_millis());
                match msg {
                    Message::Text(text) => {
                        let id = &conn.summary.connection_id;
                        gw.inner
                            .observer
                            .emit(|| frame(id, Direction::In, false, text.clone().into()));
                        // A full dispatch queue pauses reading (backpressure
                        // on the client), but a close request still wins.
                        tokio::select! {
                            sent = in_tx.send(text) => {
                                if sent.is_err() {
                                    return Ending::Abnormal;
                                }
                            }
                            req = &mut close_rx => {
                                return match req {
                                    Ok(r) => Ending::Server { code: r.code, reason: r.reason },
                                    Err(_) => Ending::Server { code: 1001, reason: "Going away".into() },
                                };
                            }
                        }
                    }
                    // API Gateway does not take binary frames from clients:
                    // it closes with 1003.
                    Message::Binary(_) => {
                        return Ending::Server { code: 1003, reason: "Unsupported data".into() };
                    }
                    Message::Ping(_) | Message::Pong(_) => {}
                    Message::Close(frame) => {
                        return match frame {
                            Some(CloseFrame { code, reason }) => Ending::Client { code, reason: reason.to_string() },
                            None => Ending::Client {
                                code: 1005,
                                reason: "Client-side close frame status not set".into(),
                            },
                        };
                    }
                }
            }
        }
    }
}

/// The close frame a read error calls for (RFC 6455 §7.4.1): 1009 for a
/// message or frame over the limits, 1002 for a protocol violation
/// (unmasked or malformed frames, reserved bits or opcodes…), 1007 for text
/// that is not UTF-8; `None` when the transport itself failed.
fn close_for_read_error(e: &axum::Error) -> Option<(u16, &'static str)> {
    use std::error::Error as _;
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(s) = source {
        if let Some(t) = s.downcast_ref::<tungstenite::Error>() {
            return match t {
                tungstenite::Error::Capacity(_) => Some((1009, "Message too big")),
                tungstenite::Error::Protocol(_) => Some((1002, "Protocol error")),
                tungstenite::Error::Utf8(_) => Some((1007, "Invalid frame payload data")),
                _ => None,
            };
        }
        source = s.source();
    }
    None
}

/// A frame announcement (see [`crate::observe`]).
fn frame(id: &Arc<str>, direction: Direction, binary: bool, data: bytes::Bytes) -> GatewayEvent {
    GatewayEvent::Frame {
        connection_id: Arc::clone(id),
        direction,
        at_millis: clock::now_millis(),
        binary,
        data,
    }
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Outbound>,
    (observer, id): (Observer<GatewayEvent>, Arc<str>),
) {
    'outer: while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut n = 0;
        while let Some(out) = next.take() {
            match out {
                Outbound::Message(m) => {
                    observer.emit(|| match &m {
                        Message::Binary(b) => frame(&id, Direction::Out, true, b.clone()),
                        Message::Text(t) => frame(&id, Direction::Out, false, t.clone().into()),
                        _ => frame(&id, Direction::Out, true, bytes::Bytes::new()),
                    });
                    if sink.feed(m).await.is_err() {
                        break 'outer;
                    }
                }
                Outbound::Close { code, reason } => {
                    let frame = CloseFrame {
                        code,
                        reason: reason.into(),
                    };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    break 'outer;
                }
                Outbound::Shutdown => {
                    let _ = sink.flush().await;
                    break 'outer;
                }
            }
            n += 1;
            if n < WRITE_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if sink.flush().await.is_err() {
            break;
        }
    }
    let _ = sink.close().await;
}

/// A message of API Gateway's own (`Forbidden`, `Internal server error`,
/// `Invalid request body`, …), byte for byte as AWS sends it: the recorded
/// frames and the documented one share this key order and spacing,
/// `{"message": "Forbidden", "connectionId":"…", "requestId":"…"}`.
fn gateway_message(message: &str, connection_id: &str, request_id: &str) -> String {
    let text = |s: &str| Value::String(s.to_owned()).to_string();
    format!(
        "{{\"message\": {}, \"connectionId\":{}, \"requestId\":{}}}",
        text(message),
        text(connection_id),
        text(request_id)
    )
}

/// Sends a message of API Gateway's own to the client.
async fn send_gateway_message(conn: &Connection, message: &str, request_id: &str) {
    let body = gateway_message(message, &conn.info.connection_id, request_id);
    let _ = conn
        .outbound
        .send(Outbound::Message(Message::Text(body.into())))
        .await;
}

/// Runs a connection's messages concurrently (as API Gateway does: each
/// message is its own request), but *starts* them in arrival order: a new
/// message's integration is polled once (route selection, template
/// rendering, the call's first step) before the next message is taken.
async fn dispatch_loop(gw: Gateway, conn: Arc<Connection>, mut rx: mpsc::Receiver<Utf8Bytes>) {
    let mut in_flight = FuturesUnordered::new();
    let mut open = true;
    loop {
        tokio::select! {
            biased;
            Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
            msg = rx.recv(), if open && in_flight.len() < MAX_IN_FLIGHT => match msg {
                Some(text) => in_flight.push(dispatch(&gw, &conn, text)),
                None => open = false,
            },
            else => break,
        }
    }
}

/// Routes one message and runs its integration.
async fn dispatch(gw: &Gateway, conn: &Connection, text: Utf8Bytes) {
    let body = text.as_str();
    let routing = gw.routing();
    let route: Option<&Route> = routing
        .selection
        .evaluate(body)
        .and_then(|key| routing.routes.get(&key))
        .or(routing.default.as_ref());
    let Some(route) = route else {
        send_gateway_message(conn, "Forbidden", &ids::new_id()).await;
        return;
    };
    let req = events::request(
        &gw.inner.api,
        &conn.info,
        &EventKind::Message {
            route_key: &route.key,
        },
    );
    let request_id = req.request_id;
    if let Some(validation) = &route.validation
        && !validation.accepts(body)
    {
        debug!(route = %route.key, %request_id, "request body failed validation");
        send_gateway_message(conn, "Invalid request body", &request_id).await;
        return;
    }
    // A Lambda gets the context inside its event; templates get it as $context.
    let (event, context) = if route.integration.wants_event() {
        (Some(events::message_event(req.context, body)), Map::new())
    } else {
        (None, req.context)
    };
    let input = CallInput {
        body,
        context: &context,
        headers: &[],
        query: &[],
    };
    let outcome = route
        .integration
        .call(&input, event, routing.config.limits.integration_timeout)
        .await;
    let reply = match outcome {
        Outcome::Response {
            status,
            body,
            headers,
        } => route_reply(route, status, &headers, body, &input),
        Outcome::ServiceError { status, body } => {
            route_reply(route, status, &[], Some(body), &input)
        }
        Outcome::Failed(e) => Err(e),
        Outcome::TimedOut => {
            warn!(route = %route.key, "integration timed out");
            send_gateway_message(conn, "Endpoint request timed out", &request_id).await;
            return;
        }
    };
    match reply {
        Ok(Some(reply)) => {
            let _ = conn
                .outbound
                .send(Outbound::Message(Message::Text(reply.into())))
                .await;
        }
        Ok(None) => {}
        Err(e) => {
            warn!(route = %route.key, error = %e, "integration failed");
            send_gateway_message(conn, "Internal server error", &request_id).await;
        }
    }
}

/// What a route sends for its integration's answer: nothing on one-way
/// routes; on two-way routes the body, or for non-proxy integrations with
/// integration responses what the selected response makes of it (`Err`:
/// the request fails, see `integration::response`).
fn route_reply(
    route: &Route,
    status: u16,
    headers: &[(String, String)],
    body: Option<String>,
    input: &CallInput<'_>,
) -> Result<Option<String>, String> {
    if !route.two_way {
        return Ok(None);
    }
    match &route.responses {
        None => Ok(body),
        Some(responses) => responses
            .reply(
                IntegrationResult { status, headers },
                body.as_deref(),
                input,
            )
            .map(|reply| reply.filter(|r| !r.is_empty())),
    }
}

async fn run_disconnect(gw: &Gateway, info: &ConnectionInfo, code: u16, reason: &str) {
    let inner = &gw.inner;
    let routing = gw.routing();
    let Some(route) = &routing.disconnect else {
        return;
    };
    let req = events::request(
        &inner.api,
        info,
        &EventKind::Disconnect {
            status_code: code,
            reason,
        },
    );
    let input = CallInput {
        body: "",
        context: &req.context,
        headers: &[],
        query: &[],
    };
    let event = route
        .integration
        .wants_event()
        .then(|| events::disconnect_event(&req, &inner.api, info));
    match route
        .integration
        .call(&input, event, routing.config.limits.integration_timeout)
        .await
    {
        Outcome::Response { .. } => {}
        Outcome::ServiceError { status, body } => {
            warn!(status, %body, "$disconnect integration returned an error");
        }
        Outcome::Failed(e) => warn!(error = %e, "$disconnect integration failed"),
        Outcome::TimedOut => warn!("$disconnect integration timed out"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_messages_are_aws_frames() {
        // As recorded (ws-error-frame.forbidden.no-matching-route…).
        assert_eq!(
            gateway_message("Forbidden", "XDmENcnwIE0CFEQ=", "XDmGEE2RoE0FRdQ="),
            r#"{"message": "Forbidden", "connectionId":"XDmENcnwIE0CFEQ=", "requestId":"XDmGEE2RoE0FRdQ="}"#
        );
        let odd = gateway_message("a \"quoted\"\n", "c", "r");
        let parsed: Value = serde_json::from_str(&odd).unwrap();
        assert_eq!(parsed["message"], "a \"quoted\"\n");
    }

    #[test]
    fn header_names_and_queries() {
        assert_eq!(title_case("sec-websocket-key"), "Sec-WebSocket-Key");
        assert_eq!(title_case("x-amzn-trace-id"), "X-Amzn-Trace-Id");
        assert_eq!(title_case("host"), "Host");
        assert_eq!(
            parse_query(Some("foo=bar&a=%20b+c&flag&a=2")),
            vec![
                ("foo".into(), "bar".into()),
                ("a".into(), " b c".into()),
                ("flag".into(), String::new()),
                ("a".into(), "2".into()),
            ]
        );
        assert!(parse_query(None).is_empty());
    }
}
