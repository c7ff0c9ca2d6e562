//! The overview: routes, functions, state machines, tables, queues.

use axum::{extract::State, response::Html};
use maud::html;
use serde_json::{Value, json};
use wsflow_gateway::IntegrationConfig;

use crate::{Console, ConsoleError, view};

/// `GET /@console/`.
pub async fn page(State(c): State<Console>) -> Result<Html<String>, ConsoleError> {
    let src = c.src();
    let api = src.gateway.config();
    let functions = src.lambda.stats();
    let machines = c.sfn("ListStateMachines", json!({})).await?;
    let tables = c.dynamodb("ListTables", json!({})).await?;
    let queues = src.sqs.queue_names()?;
    let machines: Vec<&Value> = machines["stateMachines"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let tables: Vec<&str> = tables["TableNames"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let body = html! {
        h1 { "Overview" }
        section {
            h2 { "WebSocket API" }
            p {
                "Stage " code { (api.stage) } ", route selection "
                code { (api.route_selection_expression) } ", "
                a href=(view::url("/connections")) { (src.gateway.connection_count()) " open connection(s)" }
            }
            table class="grid" id="routes" {
                thead { tr { th { "Route" } th { "Integration" } th { "Target" } th { "Reply" } } }
                tbody {
                    @for r in &api.routes {
                        @let (kind, target) = integration(&r.integration);
                        tr { td { code { (r.route_key) } } td { (kind) } td { (target) } td { @if r.two_way { "two-way" } @else { "one-way" } } }
                    }
                }
            }
        }
        section {
            h2 { "Functions" }
            table class="grid" id="functions" {
                thead { tr { th { "Function" } th class="num" { "Processes" } th class="num" { "Warm" } th class="num" { "Invocations" } th class="num" { "Errors" } th class="num" { "p50" } } }
                tbody {
                    @for f in &functions {
                        tr {
                            td { code { (f.name) } }
                            td class="num" { (f.processes) }
                            td class="num" { (f.warm) }
                            td class="num" { (f.invocations) }
                            td class="num" { (f.errors) }
                            td class="num" { @match f.p50 { Some(d) => (format!("{:.1} ms", d.as_secs_f64() * 1000.0)), None => "–" } }
                        }
                    }
                }
            }
        }
        section {
            h2 { "State machines" }
            table class="grid" id="machines" {
                thead { tr { th { "Name" } th { "Type" } th { "ARN" } } }
                tbody {
                    @for m in &machines {
                        @let name = m["name"].as_str().unwrap_or("?");
                        tr {
                            td { a href=(view::url(&format!("/state-machines/{}", view::seg(name)))) { (name) } }
                            td { (m["type"].as_str().unwrap_or("?")) }
                            td { code { (m["stateMachineArn"].as_str().unwrap_or("")) } }
                        }
                    }
                }
            }
        }
        section class="columns" {
            div {
                h2 { "Tables" }
                ul { @for t in &tables { li { a href=(view::url(&format!("/tables/{}", view::seg(t)))) { (t) } } } }
            }
            div {
                h2 { "Queues" }
                ul { @for q in &queues { li { a href=(view::url(&format!("/queues/{}", view::seg(q)))) { (q) } } } }
            }
        }
    };
    Ok(Html(view::page("Overview", "overview", body).into_string()))
}

/// An integration as (kind, target) for people.
fn integration(i: &IntegrationConfig) -> (String, String) {
    match i {
        IntegrationConfig::LambdaProxy { function } => ("Lambda proxy".into(), function.clone()),
        IntegrationConfig::AwsService {
            service,
            action,
            path,
            ..
        } => (
            format!("AWS service ({service})"),
            action.clone().or_else(|| path.clone()).unwrap_or_default(),
        ),
        IntegrationConfig::Mock { .. } => ("Mock".into(), String::new()),
    }
}
