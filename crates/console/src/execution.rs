//! One execution: the graph coloured by what each state did, the history
//! as a table, each state's details, a Stop button; and its live stream.
//!
//! The live stream (`…/live?after=<event id>`, Server-Sent Events)
//! subscribes to the service's announcements *before* it reads the
//! history, so nothing committed in between is missed (events are
//! deduplicated by id; a gap or a lagging subscription re-reads the
//! history). Each message carries the execution's summary, every state's
//! colour and details, and the history rows after the last one sent, all
//! rendered here, so the page's script only swaps HTML in.

use std::{collections::HashMap, convert::Infallible, time::Duration};

use axum::{
    extract::{Path, RawQuery, Request, State},
    response::{
        Html, IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use futures_util::Stream;
use maud::{Markup, html};
use serde_json::{Value, json};
use wsflow_sfn::observe::{Changes, Observed, SfnChange, Subscription};

use crate::{
    Console, ConsoleError, action_body, graph,
    machine::params,
    progress::{Progress, StateRun, details},
    view,
};

/// History events read per GetExecutionHistory call.
const HISTORY_PAGE: u64 = 1000;
/// Detail text shown per history row before it is cut.
const DETAIL_CUT: usize = 400;

/// An execution as the page shows it.
struct Snapshot {
    describe: Value,
    events: Vec<Value>,
    progress: Progress,
}

impl Snapshot {
    async fn load(c: &Console, arn: &str) -> Result<Snapshot, ConsoleError> {
        if arn.len() > 2048 {
            return Err(ConsoleError::BadRequest(
                "the execution ARN is too long".into(),
            ));
        }
        let describe = c
            .sfn("DescribeExecution", json!({ "executionArn": arn }))
            .await?;
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut req = json!({ "executionArn": arn, "maxResults": HISTORY_PAGE });
            if let Some(t) = &token {
                req["nextToken"] = json!(t);
            }
            let page = c.sfn("GetExecutionHistory", req).await?;
            if let Some(list) = page["events"].as_array() {
                events.extend(list.iter().cloned());
            }
            match page["nextToken"].as_str() {
                Some(t) => token = Some(t.to_owned()),
                None => break,
            }
        }
        let mut progress = Progress::default();
        for e in &events {
            progress.add(e);
        }
        Ok(Snapshot {
            describe,
            events,
            progress,
        })
    }

    fn status(&self) -> &str {
        self.describe["status"].as_str().unwrap_or("?")
    }

    fn running(&self) -> bool {
        self.status() == "RUNNING"
    }

    fn last_id(&self) -> u64 {
        self.events
            .last()
            .and_then(|e| e["id"].as_u64())
            .unwrap_or(0)
    }

    fn runs(&self) -> std::collections::BTreeMap<String, StateRun> {
        self.progress.runs(self.running())
    }
}

/// `GET /@console/executions/{arn}`.
pub async fn page(
    State(c): State<Console>,
    Path(arn): Path<String>,
) -> Result<Html<String>, ConsoleError> {
    let snap = Snapshot::load(&c, &arn).await?;
    let machine_arn = snap.describe["stateMachineArn"].as_str().unwrap_or("");
    let machine = c
        .sfn(
            "DescribeStateMachine",
            json!({ "stateMachineArn": machine_arn }),
        )
        .await?;
    let machine_name = machine["name"].as_str().unwrap_or("?");
    let runs = snap.runs();
    let classes: HashMap<String, String> = runs
        .iter()
        .map(|(k, r)| (k.clone(), r.outcome.class().to_owned()))
        .collect();
    let graph = graph::draw(machine["definition"].as_str().unwrap_or("{}"), &classes);
    let name = snap.describe["name"].as_str().unwrap_or("?");
    let live_url = view::url(&format!("/executions/{}/live", view::seg(&arn)));
    let body = html! {
        p class="crumbs" {
            a href=(view::url("/")) { "Overview" } " / "
            a href=(view::url(&format!("/state-machines/{}", view::seg(machine_name)))) { (machine_name) }
            " / execution"
        }
        div id="execution" data-live=(live_url) data-last=(snap.last_id()) data-running=(snap.running()) {
            h1 { (name) }
            div id="summary" { (summary(&snap.describe)) }
            @if snap.running() {
                button id="stop" class="danger" data-action=(view::url(&format!("/executions/{}/stop", view::seg(&arn)))) { "Stop execution" }
            }
            p id="action-result" class="notice" hidden {}
            section class="graph-box" {
                (legend())
                @match &graph {
                    Ok(svg) => (svg),
                    Err(e) => p class="error-message" { (e.to_string()) },
                }
            }
            section id="state-panel" {
                p class="hint" id="state-hint" { "Select a state in the graph to see its input, output, error, retries and duration." }
                @for (state, run) in &runs { (state_detail(state, run)) }
            }
            section {
                h2 { "Event history" }
                table class="grid" id="history" {
                    thead { tr { th class="num" { "ID" } th { "Type" } th { "Step" } th { "Timestamp" } th { "Details" } } }
                    tbody { (rows(&snap.events, &snap.progress, 0)) }
                }
            }
        }
    };
    Ok(Html(view::page(name, "overview", body).into_string()))
}

fn legend() -> Markup {
    html! {
        p class="legend" {
            @for (class, label) in [("st-none", "not reached"), ("st-running", "running"), ("st-succeeded", "succeeded"), ("st-retried", "retried"), ("st-caught", "caught"), ("st-failed", "failed")] {
                span class=(format!("swatch {class}")) { (label) }
            }
        }
    }
}

/// Status, times, input, output, error and cause.
fn summary(d: &Value) -> Markup {
    let status = d["status"].as_str().unwrap_or("?");
    let text = |k: &str| d[k].as_str().map(str::to_owned);
    html! {
        dl class="facts" {
            dt { "Status" } dd { span id="exec-status" class=(format!("status s-{status}")) { (status) } }
            dt { "Execution ARN" } dd { code { (d["executionArn"].as_str().unwrap_or("")) } }
            dt { "Started" } dd { (d["startDate"].as_f64().map(view::time_s).unwrap_or_default()) }
            @if let Some(stop) = d["stopDate"].as_f64() { dt { "Stopped" } dd { (view::time_s(stop)) } }
            @if let Some(e) = text("error") { dt { "Error" } dd { code { (e) } } }
            @if let Some(e) = text("cause") { dt { "Cause" } dd { pre { (view::clip(&e, 4000)) } } }
        }
        div class="io" {
            details open { summary { "Input" } pre { (view::clip(&view::pretty(&text("input").unwrap_or_default()), 20_000)) } }
            @if let Some(o) = text("output") { details open { summary { "Output" } pre { (view::clip(&view::pretty(&o), 20_000)) } } }
        }
    }
}

/// The hidden detail block of one state (shown when the state is selected).
fn state_detail(name: &str, r: &StateRun) -> Markup {
    html! {
        section class="state-detail" data-detail=(name) hidden {
            h3 { (name) " " span class=(format!("swatch {}", r.outcome.class())) { (r.outcome.label()) } }
            dl class="facts" {
                dt { "Entered" } dd { (r.entered) " time(s)" }
                dt { "Retries" } dd { (r.retries) }
                dt { "Duration" } dd { @match r.duration_ms { Some(ms) => (format!("{ms} ms")), None => "–" } }
                @if let Some(e) = &r.error { dt { "Error" } dd { code { (e) } } }
                @if let Some(c) = &r.cause { dt { "Cause" } dd { pre { (view::clip(c, 4000)) } } }
            }
            div class="io" {
                details open { summary { "Input" } pre { (view::clip(&view::pretty(r.input.as_deref().unwrap_or("")), 20_000)) } }
                details open { summary { "Output" } pre { (view::clip(&view::pretty(r.output.as_deref().unwrap_or("")), 20_000)) } }
            }
        }
    }
}

/// History rows with an id above `after`.
fn rows(events: &[Value], progress: &Progress, after: u64) -> Markup {
    html! {
        @for e in events.iter().filter(|e| e["id"].as_u64().unwrap_or(0) > after) {
            @let id = e["id"].as_u64().unwrap_or(0);
            @let ty = e["type"].as_str().unwrap_or("?");
            tr data-id=(id) data-type=(ty) {
                td class="num" { (id) }
                td { (ty) }
                td { (progress.state_of(id).unwrap_or_default()) }
                td { (e["timestamp"].as_f64().map(view::time_s).unwrap_or_default()) }
                td class="details" {
                    @if let Some(d) = details(e) { code { (view::clip(&d.to_string(), DETAIL_CUT)) } }
                }
            }
        }
    }
}

/// `GET /@console/executions/{arn}/live?after=<id>`: Server-Sent Events.
pub async fn live(
    State(c): State<Console>,
    Path(arn): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsoleError> {
    let params = params(raw.as_deref());
    let after = match params.get("after") {
        None => 0,
        Some(s) => s.parse::<u64>().map_err(|_| {
            ConsoleError::BadRequest(format!("after={:?} is not an event id", view::clip(s, 40)))
        })?,
    };
    let sub = c.src().sfn.subscribe();
    let snap = Snapshot::load(&c, &arn).await?;
    let stop = c.clone();
    let live = Live {
        c,
        arn,
        sub,
        snap,
        sent: after,
        first: true,
        done: false,
    };
    Ok(Sse::new(stop.until_shutdown(stream(live)))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

struct Live {
    c: Console,
    arn: String,
    sub: Subscription<Changes>,
    snap: Snapshot,
    sent: u64,
    first: bool,
    done: bool,
}

impl Live {
    /// Applies one commit's announcement; whether it concerned this execution.
    async fn apply(&mut self, o: Observed<Changes>) -> bool {
        let changes = match o {
            Observed::Skipped(_) => {
                self.reload().await;
                return true;
            }
            Observed::Event(c) => c,
        };
        let (mut touched, mut reload, mut ended) = (false, false, None);
        for change in changes.iter() {
            match change {
                SfnChange::Event {
                    execution_arn,
                    id,
                    json,
                } if *execution_arn == self.arn => {
                    touched = true;
                    let last = self.snap.last_id();
                    if *id == last + 1 && !reload {
                        if let Ok(v) = serde_json::from_slice::<Value>(json) {
                            self.snap.progress.add(&v);
                            self.snap.events.push(v);
                        }
                    } else if *id > last {
                        reload = true;
                    }
                }
                SfnChange::Execution {
                    execution_arn,
                    status,
                    ..
                } if *execution_arn == self.arn => {
                    touched = true;
                    reload = true;
                    if status.as_str() != "RUNNING" {
                        ended = Some(*status);
                    }
                }
                _ => {}
            }
        }
        if reload {
            self.reload().await;
        }
        if let Some(status) = ended {
            // The announcement comes at the commit; DescribeExecution shows
            // the final record a moment later (once the run lets go of it).
            for _ in 0..40 {
                if self.snap.status() == status.as_str() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
                self.reload().await;
            }
            if self.snap.status() != status.as_str() {
                self.snap.describe["status"] = json!(status.as_str());
            }
        }
        touched
    }

    async fn reload(&mut self) {
        match Snapshot::load(&self.c, &self.arn).await {
            Ok(s) => self.snap = s,
            Err(e) => tracing::debug!(arn = %self.arn, "console: cannot reload an execution: {e}"),
        }
    }

    fn update(&mut self) -> Event {
        let states: serde_json::Map<String, Value> = self
            .snap
            .runs()
            .iter()
            .map(|(k, r)| {
                (
                    k.clone(),
                    json!({ "class": r.outcome.class(), "detail": state_detail(k, r).into_string() }),
                )
            })
            .collect();
        let update = json!({
            "status": self.snap.status(),
            "summary": summary(&self.snap.describe).into_string(),
            "states": states,
            "rows": rows(&self.snap.events, &self.snap.progress, self.sent).into_string(),
            "last": self.snap.last_id(),
        });
        self.sent = self.sent.max(self.snap.last_id());
        Event::default().event("update").data(update.to_string())
    }
}

fn stream(live: Live) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(live, |mut live| async move {
        if live.done {
            return None;
        }
        if !live.first {
            loop {
                let o = live.sub.recv().await?;
                if live.apply(o).await {
                    break;
                }
            }
            while let Some(o) = live.sub.try_recv() {
                live.apply(o).await;
            }
        }
        live.first = false;
        let event = live.update();
        if !live.snap.running() {
            live.done = true;
        }
        Some((Ok(event), live))
    })
}

/// `POST /@console/executions/{arn}/stop` (JSON body: optional `error`, `cause`).
pub async fn stop(
    State(c): State<Console>,
    Path(arn): Path<String>,
    req: Request,
) -> Result<Response, ConsoleError> {
    let body = action_body(req).await?;
    let mut call = json!({ "executionArn": arn });
    for k in ["error", "cause"] {
        match body.get(k) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => call[k] = json!(s),
            Some(_) => return Err(ConsoleError::BadRequest(format!("{k} must be a string"))),
        }
    }
    let out = c.sfn("StopExecution", call).await?;
    Ok(axum::Json(out).into_response())
}
