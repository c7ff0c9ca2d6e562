//! The web console end to end: a real `wsflow up`, a real WebSocket client
//! running the Standard workflow, and a real headless Chromium loading the
//! console pages; assertions are on the DOM after the pages' scripts ran.
//!
//! `WSFLOW_SCREENSHOTS=<dir>` also saves the README's screenshots there
//! (`console-execution.png`, `console-connections.png`,
//! `console-connection.png`).

#[path = "support/browser.rs"]
mod browser;
mod support;

use std::time::Duration;

use browser::Browser;
use serde_json::{Value, json};
use support::{Client, Stack, StackOptions, connect, http, recv, recv_json, send};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

const ASYNC: &str = "wsflow-AsyncStateMachine";
const STATES: [&str; 5] = [
    "Validate and enrich",
    "Wait 5 seconds",
    "Notify",
    "Notify failure",
    "Failed",
];
/// A header value the console must show as text, never as markup.
const HOSTILE: &str = "<img src=x onerror=\"window.pwned=1\">";

/// The console URL from the stack's start-up lines.
fn console_url(stack: &Stack) -> String {
    let from = |line: &str| {
        (line.contains("console"))
            .then(|| {
                line.split_whitespace()
                    .find(|w| w.starts_with("http://127.0.0.1:"))
            })
            .flatten()
            .map(str::to_owned)
    };
    if let Some(url) = stack.startup.iter().find_map(|l| from(l)) {
        return url;
    }
    // stdout and stderr are read apart: the line may come just after "ready".
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while let Ok(line) = stack
        .log
        .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
    {
        if let Some(url) = from(&line) {
            return url;
        }
    }
    panic!(
        "no start-up line names the console URL: {:?}",
        stack.startup
    );
}

/// A client on `?my_query=foo&n=1` with a hostile header; returns it and its connection id.
async fn client(stack: &Stack) -> (Client, String) {
    let mut req = format!("{}?my_query=foo&n=1", stack.ws_url())
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("x-console-test", HeaderValue::from_static(HOSTILE));
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    send(&mut ws, "who am I").await;
    let reply = recv_json(&mut ws, 10).await;
    let id = reply["requestContext"]["connectionId"]
        .as_str()
        .expect("connectionId")
        .to_owned();
    (ws, id)
}

/// Starts the Standard workflow over the socket; returns the execution ARN.
async fn start_async(ws: &mut Client, data: &str) -> String {
    send(
        ws,
        &json!({ "action": "async_sfn", "data": data }).to_string(),
    )
    .await;
    let started = recv_json(ws, 10).await;
    started["executionArn"]
        .as_str()
        .unwrap_or_else(|| panic!("no executionArn: {started}"))
        .to_owned()
}

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

async fn save_screenshot(b: &mut Browser, name: &str) {
    if let Ok(dir) = std::env::var("WSFLOW_SCREENSHOTS") {
        let png = b.screenshot().await;
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(std::path::Path::new(&dir).join(name), png).expect("write screenshot");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_shows_the_workflow_its_execution_and_the_open_connection() {
    let stack = Stack::start();
    let console = console_url(&stack);
    assert_eq!(console, format!("{}/@console/", stack.http_url()));
    let Some(mut b) = Browser::launch().await else {
        return;
    };

    // The Standard workflow, run to the end over a WebSocket.
    let (mut ws, id) = client(&stack).await;
    let arn = start_async(&mut ws, "123456").await;
    let done = recv_json(&mut ws, 30).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let exec_name = arn.rsplit(':').next().unwrap().to_owned();

    // Overview → the state machine, by its link.
    b.goto(&console).await;
    let routes = b.eval("document.querySelector('#routes').innerText").await;
    assert!(routes.as_str().unwrap().contains("async_sfn"), "{routes}");
    let fns = b
        .eval("document.querySelector('#functions').innerText")
        .await;
    assert!(
        fns.as_str().unwrap().contains("wsflow-ProcessFunction"),
        "{fns}"
    );
    let href = b
        .wait_for(
            &format!("[...document.querySelectorAll('#machines a')].find(a => a.textContent === {}).href", js(ASYNC)),
            10,
        )
        .await;
    b.goto(href.as_str().unwrap()).await;

    // The graph holds every state by name and type, and the Catch edge.
    let drawn = b
        .eval("[...document.querySelectorAll('svg.graph g.state')].map(g => g.dataset.state + '|' + g.dataset.type)")
        .await;
    let drawn: Vec<&str> = drawn
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for s in STATES {
        assert!(
            drawn.iter().any(|d| d.starts_with(&format!("{s}|"))),
            "{s} not drawn: {drawn:?}"
        );
    }
    assert!(drawn.contains(&"Wait 5 seconds|Wait"), "{drawn:?}");
    let labels = b
        .eval("[...document.querySelectorAll('svg.graph text.label')].map(t => t.textContent)")
        .await;
    assert!(labels.to_string().contains("Catch States.ALL"), "{labels}");

    // The executions list links to our execution.
    let href = b
        .wait_for(
            &format!("[...document.querySelectorAll('#executions a')].find(a => a.textContent === {}).href", js(&exec_name)),
            10,
        )
        .await;
    b.goto(href.as_str().unwrap()).await;
    b.wait_for(
        "document.querySelector('#exec-status').textContent === 'SUCCEEDED'",
        10,
    )
    .await;
    let types = b
        .eval("[...document.querySelectorAll('#history tbody tr')].map(r => r.dataset.type)")
        .await;
    let types: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for t in [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskSucceeded",
        "WaitStateEntered",
        "WaitStateExited",
        "ExecutionSucceeded",
    ] {
        assert!(
            types.contains(&t),
            "{t} missing from the history table: {types:?}"
        );
    }
    let ids = b
        .eval(
            "[...document.querySelectorAll('#history tbody tr')].map(r => +r.cells[0].textContent)",
        )
        .await;
    let ids: Vec<u64> = ids
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert_eq!(
        ids,
        (1..=ids.len() as u64).collect::<Vec<_>>(),
        "ids in order, none missing"
    );
    let class_of = |s: &str| {
        format!(
            "[...document.querySelectorAll('g.state')].find(g => g.dataset.state === {}).getAttribute('class')",
            js(s)
        )
    };
    for (s, want) in [
        ("Validate and enrich", "st-succeeded"),
        ("Wait 5 seconds", "st-succeeded"),
        ("Notify", "st-succeeded"),
        ("Notify failure", "st-none"),
        ("Failed", "st-none"),
    ] {
        let c = b.eval(&class_of(s)).await;
        assert!(c.as_str().unwrap().contains(want), "{s}: {c}");
    }
    // Selecting a state shows its input, output and duration.
    b.eval(&format!("[...document.querySelectorAll('g.state')].find(g => g.dataset.state === {}).dispatchEvent(new MouseEvent('click', {{bubbles: true}}))", js("Validate and enrich"))).await;
    let panel = b
        .wait_for(&format!("(() => {{ const s = [...document.querySelectorAll('.state-detail')].find(s => s.dataset.detail === {} && !s.hidden); return s && s.innerText; }})()", js("Validate and enrich")), 5)
        .await;
    let panel = panel.as_str().unwrap();
    assert!(
        panel.contains("Input") && panel.contains("123456") && panel.contains("sha256"),
        "{panel}"
    );
    assert!(
        panel.contains("Duration") && panel.contains(" ms"),
        "{panel}"
    );
    assert_eq!(
        b.eval("document.querySelector('#stop')").await,
        Value::Null,
        "no Stop button once finished"
    );
    save_screenshot(&mut b, "console-execution.png").await;

    // The still-open connection, with its query string; the hostile header as text.
    b.goto(&format!("{console}connections")).await;
    let row = b
        .wait_for(&format!("(() => {{ const r = [...document.querySelectorAll('#connections tbody tr')].find(r => r.dataset.connection === {}); return r && r.innerText; }})()", js(&id)), 10)
        .await;
    assert!(row.as_str().unwrap().contains("?my_query=foo&n=1"), "{row}");
    let header_text = b
        .eval("document.querySelector('#connections').textContent")
        .await;
    assert!(
        header_text.as_str().unwrap().contains(HOSTILE),
        "the header is shown as text"
    );
    assert_eq!(
        b.eval("document.querySelectorAll('#connections img').length")
            .await,
        json!(0)
    );
    assert_eq!(b.eval("window.pwned === undefined").await, json!(true));

    // A second connection appears live, without a reload; closing it removes it.
    b.eval("window.sameDocument = 1").await;
    let (mut other, other_id) = client(&stack).await;
    b.wait_for(&format!("[...document.querySelectorAll('#connections tbody tr')].some(r => r.dataset.connection === {})", js(&other_id)), 10).await;
    b.eval("document.querySelector('#connections tbody details').open = true")
        .await;
    save_screenshot(&mut b, "console-connections.png").await;
    other.close(None).await.expect("close");
    b.wait_for(&format!("![...document.querySelectorAll('#connections tbody tr')].some(r => r.dataset.connection === {})", js(&other_id)), 10).await;
    assert_eq!(
        b.eval("window.sameDocument").await,
        json!(1),
        "updated in place"
    );

    // One connection: frames in and out live, posting to it, disconnecting it.
    b.goto(&format!("{console}connections/{id}")).await;
    send(&mut ws, r#"{"action":"echo","data":"hello console"}"#).await;
    assert_eq!(recv(&mut ws, 10).await, "hello console");
    b.wait_for("[...document.querySelectorAll('#frames tr.frame-in')].some(r => r.innerText.includes('hello console'))", 10).await;
    b.wait_for("[...document.querySelectorAll('#frames tr.frame-out')].some(r => r.innerText.includes('hello console'))", 10).await;
    b.eval("document.querySelector('#post-data').value = 'from the console <b>'; document.querySelector('#post-send').click()").await;
    assert_eq!(recv(&mut ws, 10).await, "from the console <b>");
    b.wait_for(
        "document.querySelector('#action-result').textContent.startsWith('Posted')",
        10,
    )
    .await;
    save_screenshot(&mut b, "console-connection.png").await;
    b.eval("document.querySelector('#disconnect').click()")
        .await;
    let close = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match futures_util::StreamExt::next(&mut ws).await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .expect("closed within 10 s");
    assert_eq!(close.map(|f| u16::from(f.code)), Some(1000));
    b.wait_for(
        "document.querySelector('#action-result').textContent.startsWith('Closed (code 1000')",
        10,
    )
    .await;

    // An open console page (a live stream) does not hold up a clean stop.
    b.goto(&format!("{console}connections")).await;
    let mut stack = stack;
    let status = stack.terminate();
    assert!(
        status.success(),
        "the stack stopped cleanly with a console page open: {status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_execution_page_follows_a_running_execution_and_can_stop_one() {
    // Waits of 5 s last 2.5 s: long enough to load the page mid-Wait.
    let stack = Stack::start_with(StackOptions {
        time_scale: 0.5,
        ..StackOptions::default()
    });
    let console = console_url(&stack);
    let Some(mut b) = Browser::launch().await else {
        return;
    };
    let mut ws = connect(&stack.ws_url()).await;
    let arn = start_async(&mut ws, "mid-wait").await;

    b.goto(&format!("{console}executions/{arn}")).await;
    let wait_class = format!(
        "[...document.querySelectorAll('g.state')].find(g => g.dataset.state === {}).getAttribute('class')",
        js("Wait 5 seconds")
    );
    b.wait_for(&format!("{wait_class}.includes('st-running')"), 10)
        .await;
    assert_eq!(
        b.eval("document.querySelector('#exec-status').textContent")
            .await,
        "RUNNING"
    );
    assert_eq!(
        b.eval(&format!("{wait_class}.includes('st-running')"))
            .await,
        json!(true),
        "loaded while the Wait runs"
    );
    let rows_mid = b
        .eval("document.querySelectorAll('#history tbody tr').length")
        .await
        .as_u64()
        .unwrap();
    assert!(
        b.eval("!!document.querySelector('#stop')")
            .await
            .as_bool()
            .unwrap()
    );
    b.eval("window.sameDocument = 1").await;

    // Without a reload, the page follows the execution to its end.
    b.wait_for(
        "document.querySelector('#exec-status').textContent === 'SUCCEEDED'",
        20,
    )
    .await;
    assert_eq!(
        b.eval("window.sameDocument").await,
        json!(1),
        "updated in place, not reloaded"
    );
    b.wait_for(&format!("{wait_class}.includes('st-succeeded')"), 5)
        .await;
    let notify = b.eval(&format!("[...document.querySelectorAll('g.state')].find(g => g.dataset.state === {}).getAttribute('class')", js("Notify"))).await;
    assert!(
        notify.as_str().unwrap().contains("st-succeeded"),
        "{notify}"
    );
    let types = b
        .eval("[...document.querySelectorAll('#history tbody tr')].map(r => r.dataset.type)")
        .await;
    let types: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(types.len() as u64 > rows_mid, "rows were appended");
    assert_eq!(types.last(), Some(&"ExecutionSucceeded"), "{types:?}");
    let ids = b
        .eval(
            "[...document.querySelectorAll('#history tbody tr')].map(r => +r.cells[0].textContent)",
        )
        .await;
    let ids: Vec<u64> = ids
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert_eq!(
        ids,
        (1..=ids.len() as u64).collect::<Vec<_>>(),
        "no event twice, none missing"
    );
    assert_eq!(b.eval("document.querySelector('#stop')").await, Value::Null);
    let _ = recv_json(&mut ws, 10).await; // the workflow's notification

    // Another execution, stopped from the console mid-Wait.
    let arn = start_async(&mut ws, "to stop").await;
    b.goto(&format!("{console}executions/{arn}")).await;
    b.wait_for(&format!("{wait_class}.includes('st-running')"), 10)
        .await;
    b.eval("document.querySelector('#stop').click()").await;
    b.wait_for(
        "document.querySelector('#exec-status').textContent === 'ABORTED'",
        10,
    )
    .await;
    let (status, described) = stack
        .aws_json(
            "AWSStepFunctions.DescribeExecution",
            json!({ "executionArn": arn }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(described["status"], "ABORTED", "{described}");
    assert_eq!(described["error"], "Console");
    let types = b
        .eval("[...document.querySelectorAll('#history tbody tr')].map(r => r.dataset.type)")
        .await;
    assert!(types.to_string().contains("ExecutionAborted"), "{types}");
    let wait = b.eval(&wait_class).await;
    assert!(
        wait.as_str().unwrap().contains("st-failed"),
        "the interrupted Wait: {wait}"
    );
}

/// A GET with this `Host` header only; returns the raw response.
async fn raw_get(addr: &str, path: &str, host: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    String::from_utf8_lossy(&buf).into_owned()
}

/// One console request; returns (status, body).
async fn get(stack: &Stack, path: &str) -> (u16, String) {
    http(&stack.addr, "GET", path, &[], b"").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_console_input_gets_clear_4xx_pages_and_the_aws_apis_still_answer() {
    let stack = Stack::start();
    let machine = "arn:aws:states:us-east-1:123456789012:execution:wsflow-AsyncStateMachine";
    let long = "x".repeat(5000);
    let cases: Vec<(String, u16, &str)> = vec![
        (
            format!("/@console/executions/{machine}:no-such-execution"),
            404,
            "Execution Does Not Exist",
        ),
        ("/@console/executions/not-an-arn".into(), 400, "Invalid Arn"),
        (format!("/@console/executions/{long}"), 400, "too long"),
        (
            format!("/@console/executions/{machine}:x/live?after=-1"),
            400,
            "is not an event id",
        ),
        (
            format!("/@console/executions/{machine}:x/live"),
            404,
            "Execution Does Not Exist",
        ),
        (
            format!("/@console/state-machines/{ASYNC}?page=garbage"),
            400,
            "InvalidToken",
        ),
        (
            "/@console/state-machines/NoSuchMachine".into(),
            404,
            "Does Not Exist",
        ),
        (
            "/@console/state-machines/bad%20name%3C%3E".into(),
            400,
            "is not a state machine name",
        ),
        (
            "/@console/tables/wsflow-ConnectionsTable?start=%7Bnot%20json".into(),
            400,
            "start is not a key",
        ),
        (
            "/@console/tables/wsflow-ConnectionsTable?start=%5B1%5D".into(),
            400,
            "start is not a key",
        ),
        ("/@console/tables/NoSuchTable".into(), 404, "not found"),
        (
            "/@console/queues/wsflow-MessageQueue.fifo?from=abc".into(),
            400,
            "is not a message sequence number",
        ),
        ("/@console/queues/nope".into(), 404, "No queue named nope"),
        (
            "/@console/connections/AAAAAAAAAAAAAAA=".into(),
            404,
            "is not open",
        ),
        (
            format!("/@console/connections/live?connection={long}"),
            400,
            "is not a connection id",
        ),
        ("/@console/no/such/page".into(), 404, "No console page"),
        ("/@console/assets/secret.txt".into(), 404, "No asset"),
    ];
    for (path, want, text) in &cases {
        let (status, body) = get(&stack, path).await;
        assert_eq!(status, *want, "{path}: {body}");
        assert!(
            body.contains("class=\"error-message\"") && body.contains(text),
            "{path}: {body}"
        );
    }

    // Actions: JSON only, bounded, to something that exists.
    const JSON_CT: &[(&str, &str)] = &[("content-type", "application/json")];
    let post =
        |path: &'static str, headers: &'static [(&'static str, &'static str)], body: Vec<u8>| {
            let addr = stack.addr.clone();
            async move { http(&addr, "POST", path, headers, &body).await }
        };
    let (s, b) = post(
        "/@console/connections/AAAAAAAAAAAAAAA=/post",
        JSON_CT,
        br#"{"data":"x"}"#.to_vec(),
    )
    .await;
    assert_eq!(s, 404, "{b}");
    let (s, b) = post(
        "/@console/connections/AAAAAAAAAAAAAAA=/post",
        &[("content-type", "text/plain")],
        br#"{"data":"x"}"#.to_vec(),
    )
    .await;
    assert_eq!(s, 415, "{b}");
    let (s, b) = post(
        "/@console/connections/AAAAAAAAAAAAAAA=/post",
        &[("content-type", "application/x-www-form-urlencoded")],
        b"data=x".to_vec(),
    )
    .await;
    assert_eq!(s, 415, "a cross-site form is refused: {b}");
    let big = format!(r#"{{"data":"{}"}}"#, "x".repeat(300 * 1024)).into_bytes();
    let (s, b) = post("/@console/connections/AAAAAAAAAAAAAAA=/post", JSON_CT, big).await;
    assert_eq!(s, 413, "{}", &b[..b.len().min(300)]);
    assert!(b.contains("larger than"), "{b}");
    let (s, b) = post(
        "/@console/connections/AAAAAAAAAAAAAAA=/post",
        JSON_CT,
        b"{not json".to_vec(),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = post(
        "/@console/connections/AAAAAAAAAAAAAAA=/post",
        JSON_CT,
        br#"{"data":1}"#.to_vec(),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = post("/@console/executions/arn:aws:states:us-east-1:123456789012:execution:wsflow-AsyncStateMachine:none/stop", JSON_CT, b"{}".to_vec()).await;
    assert_eq!(s, 404, "{b}");

    // A foreign Host (DNS rebinding) is refused.
    let raw = raw_get(&stack.addr, "/@console/", "evil.example:3001").await;
    assert!(raw.starts_with("HTTP/1.1 403"), "{raw}");
    assert!(raw.contains("answers only to 127.0.0.1"), "{raw}");

    // The stack is unharmed: the console answers, and so do the AWS APIs
    // and @connections on the same port.
    let (s, b) = get(&stack, "/@console/").await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = get(&stack, "/@console").await;
    assert_eq!(s, 308, "{b}");
    let (s, v) = stack
        .aws_json("AWSStepFunctions.ListStateMachines", json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["stateMachines"].as_array().map(Vec::len), Some(2), "{v}");
    let (s, v) = stack
        .aws_json("DynamoDB_20120810.ListTables", json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = http(
        &stack.addr,
        "POST",
        &format!("/{}/@connections/AAAAAAAAAAAAAAA=", stack.stage),
        &[],
        b"x",
    )
    .await;
    assert_eq!(s, 410, "@connections still answers GoneException");
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"echo","data":"still here"}"#).await;
    assert_eq!(recv(&mut ws, 10).await, "still here");

    // The data views: the connection record $connect stored, the queues.
    let (_ws, id) = client(&stack).await;
    let (s, b) = get(&stack, "/@console/data").await;
    assert_eq!(s, 200, "{b}");
    assert!(
        b.contains("wsflow-ConnectionsTable") && b.contains("wsflow-MessageQueue.fifo"),
        "{b}"
    );
    let (s, b) = get(&stack, "/@console/tables/wsflow-ConnectionsTable").await;
    assert_eq!(s, 200, "{b}");
    assert!(b.contains(&id), "the connection's record is listed: {b}");
    assert!(b.contains("my_query"), "with its query string: {b}");
    assert!(
        !b.contains("<img") && b.contains("&lt;img"),
        "the hostile header stays text: {b}"
    );
    let (s, b) = get(&stack, "/@console/queues/wsflow-MessageQueue.fifo").await;
    assert_eq!(s, 200, "{b}");
    assert!(b.contains("id=\"messages\""), "{b}");
}
