//! A state machine: its graph and its executions, newest first, paged.

use std::collections::HashMap;

use axum::{
    extract::{Path, RawQuery, State},
    response::Html,
};
use maud::html;
use serde_json::{Value, json};

use crate::{Console, ConsoleError, graph, view};

/// Executions per page.
const PAGE: u64 = 50;

/// Query parameters, parsed leniently (never a panic, never axum's plain rejection).
pub fn params(raw: Option<&str>) -> HashMap<String, String> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Checks a state machine name as AWS does (1–80 of `A–Z a–z 0–9 - _`).
fn check_name(name: &str) -> Result<(), ConsoleError> {
    let ok = (1..=80).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ConsoleError::BadRequest(format!(
            "{:?} is not a state machine name (1 to 80 letters, digits, - and _)",
            view::clip(name, 100)
        )))
    }
}

/// `GET /@console/state-machines/{name}[?page=<token>]`.
pub async fn page(
    State(c): State<Console>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, ConsoleError> {
    check_name(&name)?;
    let params = params(raw.as_deref());
    let arn = c.src().account.state_machine(&name);
    let m = c
        .sfn("DescribeStateMachine", json!({ "stateMachineArn": arn }))
        .await?;
    let definition = m["definition"].as_str().unwrap_or("{}");
    let kind = m["type"].as_str().unwrap_or("?");
    let graph = graph::draw(definition, &HashMap::new());
    let executions = if kind == "STANDARD" {
        let mut req = json!({ "stateMachineArn": arn, "maxResults": PAGE });
        if let Some(token) = params.get("page") {
            if token.is_empty() || token.len() > 1024 {
                return Err(ConsoleError::BadRequest(
                    "the page parameter is not a page token".into(),
                ));
            }
            req["nextToken"] = json!(token);
        }
        Some(c.sfn("ListExecutions", req).await?)
    } else {
        None
    };
    let paged = params.contains_key("page");
    let body = html! {
        p class="crumbs" { a href=(view::url("/")) { "Overview" } " / state machine" }
        h1 { (name) " " span class="tag" { (kind) } }
        p { code { (arn) } }
        section class="graph-box" {
            @match &graph {
                Ok(svg) => (svg),
                Err(e) => p class="error-message" { (e.to_string()) },
            }
        }
        section {
            h2 { "Executions" }
            @match &executions {
                None => p { "Express executions are not recorded (as on AWS, they have no history to list)." },
                Some(list) => {
                    @let rows = list["executions"].as_array().map(Vec::as_slice).unwrap_or_default();
                    @if rows.is_empty() { p { "No executions" @if paged { " on this page" } "." } }
                    @else {
                        table class="grid" id="executions" {
                            thead { tr { th { "Name" } th { "Status" } th { "Started" } th { "Stopped" } } }
                            tbody {
                                @for e in rows { (execution_row(e)) }
                            }
                        }
                    }
                    p class="pager" {
                        @if paged { a href=(view::url(&format!("/state-machines/{}", view::seg(&name)))) { "« newest" } " " }
                        @if let Some(token) = list["nextToken"].as_str() {
                            a rel="next" href=(view::url(&format!("/state-machines/{}?page={}", view::seg(&name), view::q(token)))) { "older »" }
                        }
                    }
                }
            }
        }
    };
    Ok(Html(view::page(&name, "overview", body).into_string()))
}

fn execution_row(e: &Value) -> maud::Markup {
    let arn = e["executionArn"].as_str().unwrap_or("");
    let status = e["status"].as_str().unwrap_or("?");
    html! {
        tr {
            td { a href=(view::url(&format!("/executions/{}", view::seg(arn)))) { (e["name"].as_str().unwrap_or("?")) } }
            td { span class=(format!("status s-{status}")) { (status) } }
            td { (e["startDate"].as_f64().map(view::time_s).unwrap_or_default()) }
            td { (e["stopDate"].as_f64().map(view::time_s).unwrap_or_default()) }
        }
    }
}
