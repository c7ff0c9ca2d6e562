//! The open WebSocket connections, live; one connection's handshake and
//! frames, a box to post to it and a button to disconnect it.

use std::{convert::Infallible, time::Duration};

use axum::{
    extract::{Path, RawQuery, Request, State},
    http::StatusCode,
    response::{
        Html, IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use bytes::Bytes;
use futures_util::Stream;
use maud::{Markup, html};
use serde_json::{Value, json};
use wsflow_gateway::observe::{
    ConnectionSummary, Direction, GatewayEvent, Observed, OpenConnection,
};

use crate::{
    Console, ConsoleError, action_body,
    frames::{Frame, now_millis},
    machine::params,
    view,
};

/// Frames shown on a connection's page.
const FRAMES_SHOWN: usize = 200;
/// Longest connection id accepted (AWS's are 16 characters).
const MAX_ID: usize = 128;

fn check_id(id: &str) -> Result<(), ConsoleError> {
    if id.is_empty() || id.len() > MAX_ID {
        Err(ConsoleError::BadRequest(format!(
            "{:?} is not a connection id",
            view::clip(id, 40)
        )))
    } else {
        Ok(())
    }
}

fn connection_url(id: &str) -> String {
    view::url(&format!("/connections/{}", view::seg(id)))
}

fn query_text(s: &ConnectionSummary) -> String {
    if s.query_string.is_empty() {
        String::new()
    } else {
        format!("?{}", s.query_string)
    }
}

fn headers_table(s: &ConnectionSummary) -> Markup {
    html! {
        table class="grid headers" {
            @for (k, v) in &s.headers { tr { th { (k) } td { code { (v) } } } }
        }
    }
}

/// One row of the list.
fn row(c: &OpenConnection) -> Markup {
    let s = &c.summary;
    html! {
        tr data-connection=(&*s.connection_id) {
            td { a href=(connection_url(&s.connection_id)) { code { (&*s.connection_id) } } }
            td { code { (s.path) } }
            td class="query" { code { (query_text(s)) } }
            td { (view::time_ms(s.connected_at_millis as i64)) }
            td { (s.source_ip) }
            td { details { summary { (s.headers.len()) " headers" } (headers_table(s)) } }
        }
    }
}

/// `GET /@console/connections`.
pub async fn list(State(c): State<Console>) -> Html<String> {
    let open = c.src().gateway.connections();
    let body = html! {
        h1 { "Connections" }
        p { span id="connection-count" { (open.len()) } " open; the list updates live." }
        table class="grid" id="connections" data-live=(view::url("/connections/live")) {
            thead { tr { th { "Connection id" } th { "Path" } th { "Query string" } th { "Connected at" } th { "Source IP" } th { "Headers" } } }
            tbody { @for o in &open { (row(o)) } }
        }
    };
    Html(view::page("Connections", "connections", body).into_string())
}

fn frame_row(f: &Frame) -> Markup {
    let (dir, class) = match f.direction {
        Direction::In => ("in", "frame-in"),
        Direction::Out => ("out", "frame-out"),
    };
    html! {
        tr class=(class) {
            td { (dir) }
            td { (view::time_ms(f.at_millis as i64)) }
            td class="num" { (f.len) }
            td { code { (f.preview) @if f.len > f.preview.len() { "…" } } }
        }
    }
}

/// `GET /@console/connections/{id}`.
pub async fn detail(
    State(c): State<Console>,
    Path(id): Path<String>,
) -> Result<Html<String>, ConsoleError> {
    check_id(&id)?;
    let open = c.src().gateway.connection(&id);
    let frames = c.frames().of(&id, FRAMES_SHOWN);
    if open.is_none() && frames.is_empty() {
        return Err(ConsoleError::NotFound(format!(
            "Connection {id} is not open (GoneException)"
        )));
    }
    let since = c.frames().since_millis;
    let body = html! {
        p class="crumbs" { a href=(view::url("/connections")) { "Connections" } " / connection" }
        h1 { code { (id) } }
        @match &open {
            Some(o) => {
                dl class="facts" {
                    dt { "Path" } dd { code { (o.summary.path) } }
                    dt { "Query string" } dd { code { (query_text(&o.summary)) } }
                    dt { "Connected at" } dd { (view::time_ms(o.summary.connected_at_millis as i64)) }
                    dt { "Last active" } dd { (view::time_ms(o.last_active_millis as i64)) }
                    dt { "Source IP" } dd { (o.summary.source_ip) }
                }
                details { summary { "Headers" } (headers_table(&o.summary)) }
                section class="actions" id="actions" {
                    h2 { "Post to the connection" }
                    textarea id="post-data" rows="3" placeholder="Message (sent as @connections PostToConnection)" {}
                    button id="post-send" data-action=(format!("{}/post", connection_url(&id))) { "Post" }
                    button id="disconnect" class="danger" data-action=(format!("{}/disconnect", connection_url(&id))) { "Disconnect" }
                    p id="action-result" class="notice" hidden {}
                }
            }
            None => p class="notice" id="closed" { "This connection is closed." }
        }
        section {
            h2 { "Frames" }
            p class="hint" { "The last " (FRAMES_SHOWN) " frames since " (view::time_ms(since as i64)) " (when the console was first opened), each cut to 1 KiB." }
            table class="grid" id="frames" data-live=(format!("{}?connection={}", view::url("/connections/live"), view::q(&id))) {
                thead { tr { th { "Dir" } th { "Time" } th class="num" { "Bytes" } th { "Data" } } }
                tbody { @for f in &frames { (frame_row(f)) } }
            }
        }
    };
    Ok(Html(view::page(&id, "connections", body).into_string()))
}

/// `GET /@console/connections/live[?connection=<id>]`: Server-Sent Events:
/// `opened`/`closed` for the list, or one connection's `frame`s and `closed`.
pub async fn live(
    State(c): State<Console>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsoleError> {
    let params = params(raw.as_deref());
    let only = params.get("connection").cloned();
    if let Some(id) = &only {
        check_id(id)?;
    }
    let sub = c.src().gateway.subscribe();
    let gateway = c.src().gateway.clone();
    let stream =
        futures_util::stream::unfold((sub, gateway, only), |(mut sub, gw, only)| async move {
            loop {
                let e = match sub.recv().await? {
                    Observed::Event(e) => e,
                    Observed::Skipped(n) => {
                        let data = json!({ "kind": "skipped", "count": n }).to_string();
                        return Some((
                            Ok::<_, Infallible>(Event::default().event("skipped").data(data)),
                            (sub, gw, only),
                        ));
                    }
                };
                if let Some(data) = message(&gw, &e, only.as_deref()) {
                    return Some((
                        Ok(Event::default().event("change").data(data.to_string())),
                        (sub, gw, only),
                    ));
                }
            }
        });
    Ok(sse(c.until_shutdown(stream)))
}

fn sse(s: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Response {
    Sse::new(s)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// The message for one announcement, if the page wants it.
fn message(gw: &wsflow_gateway::Gateway, e: &GatewayEvent, only: Option<&str>) -> Option<Value> {
    match (e, only) {
        (GatewayEvent::Opened(s), None) => {
            let open = OpenConnection {
                summary: s.clone(),
                last_active_millis: s.connected_at_millis,
            };
            Some(
                json!({ "kind": "opened", "id": &*s.connection_id, "row": row(&open).into_string(), "count": gw.connection_count() }),
            )
        }
        (
            GatewayEvent::Closed {
                connection_id,
                code,
                reason,
            },
            o,
        ) if o.is_none_or(|id| id == &**connection_id) => Some(
            json!({ "kind": "closed", "id": &**connection_id, "code": code, "reason": reason, "count": gw.connection_count() }),
        ),
        (GatewayEvent::Frame { connection_id, .. }, Some(id)) if id == &**connection_id => {
            let f = Frame::from_event(e)?;
            Some(json!({ "kind": "frame", "id": id, "row": frame_row(&f).into_string() }))
        }
        _ => None,
    }
}

/// `POST /@console/connections/{id}/post` with `{"data": "<text>"}`.
pub async fn post_message(
    State(c): State<Console>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ConsoleError> {
    check_id(&id)?;
    let body = action_body(req).await?;
    let Some(data) = body.get("data").and_then(Value::as_str) else {
        return Err(ConsoleError::BadRequest(
            "the body must be {\"data\": \"<message text>\"}".into(),
        ));
    };
    c.src()
        .gateway
        .post_to_connection(&id, Bytes::from(data.to_owned()))
        .await?;
    Ok(axum::Json(json!({ "posted": data.len(), "at": now_millis() })).into_response())
}

/// `POST /@console/connections/{id}/disconnect`.
pub async fn disconnect(
    State(c): State<Console>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ConsoleError> {
    check_id(&id)?;
    action_body(req).await?;
    c.src().gateway.delete_connection(&id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
