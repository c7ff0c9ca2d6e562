//! Tables (Scan, paged) and queues (messages read without receiving them).

use std::collections::BTreeSet;

use axum::{
    extract::{Path, RawQuery, State},
    response::Html,
};
use maud::{Markup, html};
use serde_json::{Value, json};

use crate::{Console, ConsoleError, machine::params, view};

/// Items or messages per page.
const PAGE: usize = 25;
/// Characters of a cell or message body shown.
const CELL_CUT: usize = 300;

/// `GET /@console/data`.
pub async fn index(State(c): State<Console>) -> Result<Html<String>, ConsoleError> {
    let tables = c.dynamodb("ListTables", json!({})).await?;
    let mut table_rows = Vec::new();
    for t in tables["TableNames"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let d = c
            .dynamodb("DescribeTable", json!({ "TableName": t }))
            .await?;
        table_rows.push((t.to_owned(), d["Table"]["ItemCount"].as_u64().unwrap_or(0)));
    }
    let sqs = &c.src().sqs;
    let mut queue_rows = Vec::new();
    for q in sqs.queue_names()? {
        let counts = sqs.message_counts(&q)?;
        queue_rows.push((q, counts));
    }
    let body = html! {
        h1 { "Tables and queues" }
        h2 { "Tables" }
        table class="grid" id="tables" {
            thead { tr { th { "Table" } th class="num" { "Items" } } }
            tbody { @for (t, n) in &table_rows { tr { td { a href=(view::url(&format!("/tables/{}", view::seg(t)))) { (t) } } td class="num" { (n) } } } }
        }
        h2 { "Queues" }
        table class="grid" id="queues" {
            thead { tr { th { "Queue" } th class="num" { "Visible" } th class="num" { "In flight" } th class="num" { "Delayed" } } }
            tbody { @for (q, (v, i, d)) in &queue_rows { tr { td { a href=(view::url(&format!("/queues/{}", view::seg(q)))) { (q) } } td class="num" { (v) } td class="num" { (i) } td class="num" { (d) } } } }
        }
    };
    Ok(Html(
        view::page("Tables and queues", "data", body).into_string(),
    ))
}

/// A DynamoDB attribute value, compactly: `{"S":"x"}` → `x`.
fn cell(v: &Value) -> String {
    let Some((ty, inner)) = v.as_object().and_then(|o| o.iter().next()) else {
        return v.to_string();
    };
    match (ty.as_str(), inner) {
        ("S" | "N" | "B", Value::String(s)) => s.clone(),
        ("BOOL", Value::Bool(b)) => b.to_string(),
        ("NULL", _) => "null".into(),
        _ => inner.to_string(),
    }
}

/// `GET /@console/tables/{name}[?start=<LastEvaluatedKey JSON>]`.
pub async fn table(
    State(c): State<Console>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, ConsoleError> {
    let params = params(raw.as_deref());
    let mut scan = json!({ "TableName": name, "Limit": PAGE });
    if let Some(start) = params.get("start") {
        let key: Value = serde_json::from_str(start).map_err(|e| {
            ConsoleError::BadRequest(format!("start is not a key (LastEvaluatedKey JSON): {e}"))
        })?;
        if !key.is_object() {
            return Err(ConsoleError::BadRequest(
                "start is not a key (LastEvaluatedKey JSON object)".into(),
            ));
        }
        scan["ExclusiveStartKey"] = key;
    }
    let d = c
        .dynamodb("DescribeTable", json!({ "TableName": name }))
        .await?;
    let out = c.dynamodb("Scan", scan).await?;
    let items: Vec<&serde_json::Map<String, Value>> = out["Items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .collect();
    let keys: Vec<String> = d["Table"]["KeySchema"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k["AttributeName"].as_str().map(str::to_owned))
        .collect();
    let mut columns = keys.clone();
    let others: BTreeSet<&String> = items
        .iter()
        .flat_map(|i| i.keys())
        .filter(|k| !keys.contains(k))
        .collect();
    columns.extend(others.into_iter().cloned());
    let body = html! {
        p class="crumbs" { a href=(view::url("/data")) { "Tables and queues" } " / table" }
        h1 { (name) }
        p { (d["Table"]["ItemCount"].as_u64().unwrap_or(0)) " item(s); " (PAGE) " per page, in Scan order." }
        table class="grid" id="items" {
            thead { tr { @for col in &columns { th { (col) } } } }
            tbody {
                @for i in &items {
                    tr { @for col in &columns { td { @if let Some(v) = i.get(col) { code { (view::clip(&cell(v), CELL_CUT)) } } } } }
                }
            }
        }
        (pager(&name, params.contains_key("start"), out.get("LastEvaluatedKey")))
    };
    Ok(Html(view::page(&name, "data", body).into_string()))
}

fn pager(name: &str, paged: bool, next: Option<&Value>) -> Markup {
    let base = view::url(&format!("/tables/{}", view::seg(name)));
    html! {
        p class="pager" {
            @if paged { a href=(base) { "« first" } " " }
            @if let Some(k) = next { a rel="next" href=(format!("{base}?start={}", view::q(&k.to_string()))) { "next »" } }
        }
    }
}

/// `GET /@console/queues/{name}[?from=<sequence>]`.
pub async fn queue(
    State(c): State<Console>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, ConsoleError> {
    let params = params(raw.as_deref());
    let from = match params.get("from") {
        None => 0,
        Some(s) => s.parse::<u64>().map_err(|_| {
            ConsoleError::BadRequest(format!(
                "from={:?} is not a message sequence number",
                view::clip(s, 40)
            ))
        })?,
    };
    let sqs = &c.src().sqs;
    if !sqs.queue_names()?.contains(&name) {
        return Err(ConsoleError::NotFound(format!(
            "No queue named {name} (AWS.SimpleQueueService.NonExistentQueue)"
        )));
    }
    let (visible, inflight, delayed) = sqs.message_counts(&name)?;
    let (messages, next) = sqs.peek_messages(&name, from, PAGE)?;
    let now = crate::frames::now_millis();
    let base = view::url(&format!("/queues/{}", view::seg(&name)));
    let body = html! {
        p class="crumbs" { a href=(view::url("/data")) { "Tables and queues" } " / queue" }
        h1 { (name) }
        p { code { (sqs.queue_url(&name)) } }
        p { (visible) " visible, " (inflight) " in flight, " (delayed) " delayed. Messages are shown without being received." }
        table class="grid" id="messages" {
            thead { tr { th { "Message id" } th { "Sent" } th { "Group" } th class="num" { "Receives" } th { "State" } th { "Body" } } }
            tbody {
                @for m in &messages {
                    tr {
                        td { code { (m.message_id) } }
                        td { (view::time_ms(m.sent_ms as i64)) }
                        td { (m.group_id.as_deref().unwrap_or("")) }
                        td class="num" { (m.receive_count) }
                        td { @if m.visible_at_ms <= now { "visible" } @else if m.receive_count > 0 { "in flight" } @else { "delayed" } }
                        td { code { (view::clip(&m.body, CELL_CUT)) } }
                    }
                }
            }
        }
        p class="pager" {
            @if from > 0 { a href=(base) { "« first" } " " }
            @if let Some(n) = next { a rel="next" href=(format!("{base}?from={n}")) { "next »" } }
        }
    };
    Ok(Html(view::page(&name, "data", body).into_string()))
}
