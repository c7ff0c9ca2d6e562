//! `cargo bench -p wsflow --bench soak`: the soak of issue 13, on the real
//! release `wsflow up` (`--time-scale 0`, a temp data dir), the real function
//! binaries and real WebSocket clients on 127.0.0.1.
//!
//! Part 1 holds `SOAK_CLIENTS` (default 1,000) connections for `SOAK_SECS`
//! (default 60) seconds. Each client alternates `sync_sfn` (an Express
//! execution; the reply is its result) and `async_sfn` (a Standard
//! execution; the reply is its ARN, and the notifier Lambda pushes the result
//! later through `@connections`), one request in flight at a time. It reports
//! replies, notifications received and lost (an ARN whose notification never
//! came within `SOAK_DRAIN_SECS`, default 60, after the run), errors, reply
//! latency p50/p99 per kind, and the resident memory of the stack process
//! and of its function processes at the start and the end.
//!
//! Part 2 measures `echo` throughput with 50 clients (32 messages in flight
//! each) on stacks started with `--function-concurrency 64` (the default)
//! and with `--function-concurrency 8` (4 per core on 2 cores),
//! alternating, `SOAK_ECHO_RUNS` runs each (default 5), and prints the
//! medians, their ratio, and CPU per reply. `SOAK_SKIP=soak` or
//! `SOAK_SKIP=echo` leaves a part out.
//!
//! Not a criterion bench: what is measured lives in other processes, so this
//! binary prints figures.

// Shared with the stack bench, which uses the helpers this one leaves unused.
#[allow(dead_code)]
#[path = "stack/clients.rs"]
mod clients;
#[allow(dead_code)]
#[path = "stack/process.rs"]
mod process;

use std::{collections::HashSet, time::Duration};

use futures_util::{SinkExt, StreamExt};
use process::{Binaries, StackProcess};
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::Message;

/// Messages each echo-throughput client keeps in flight.
const ECHO_DEPTH: usize = 32;
/// Echo-throughput clients.
const ECHO_CLIENTS: usize = 50;
/// Longest wait for one reply before the request counts as an error.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);
/// Handshakes in flight while connecting the soak clients.
const CONNECT_CONCURRENCY: usize = 100;

fn main() {
    if let Err(e) = run() {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let clients = env_number("SOAK_CLIENTS", 1_000);
    let secs = env_number("SOAK_SECS", 60);
    let drain = env_number("SOAK_DRAIN_SECS", 60);
    let echo_runs = env_number("SOAK_ECHO_RUNS", 5).max(1);
    let skip = std::env::var("SOAK_SKIP").unwrap_or_default();
    let nofile = rlimit::increase_nofile_limit(u64::MAX)
        .map_err(|e| format!("cannot raise RLIMIT_NOFILE: {e}"))?;
    if nofile < clients as u64 * 3 + 1_000 {
        return Err(format!(
            "RLIMIT_NOFILE is {nofile}: too low for {clients} clients"
        ));
    }
    let bins = Binaries::build()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "machine: {cpus} CPUs, load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    if skip != "soak" {
        soak(&rt, &bins, clients, Duration::from_secs(secs as u64), drain)?;
    }
    if skip != "echo" {
        echo_side_by_side(&rt, &bins, echo_runs)?;
    }
    Ok(())
}

/// Part 1: the soak.
fn soak(
    rt: &tokio::runtime::Runtime,
    bins: &Binaries,
    clients: usize,
    window: Duration,
    drain_secs: usize,
) -> Result<(), String> {
    let stack = StackProcess::start(bins)?;
    let url = stack.ws_url();
    eprintln!("soak: connecting {clients} clients");
    let sockets = rt.block_on(connect_all(&url, clients))?;
    let rss_start = (stack.rss_kb()?, children_rss_kb(stack.pid()));
    eprintln!("soak: {clients} clients for {window:?}");
    let started = std::time::Instant::now();
    let drain = Duration::from_secs(drain_secs as u64);
    let results = rt.block_on(async move {
        let stop = Instant::now() + window;
        let tasks: Vec<_> = sockets
            .into_iter()
            .enumerate()
            .map(|(i, ws)| tokio::spawn(soak_client(i, ws, stop, drain)))
            .collect();
        let mut all = Vec::with_capacity(tasks.len());
        for t in tasks {
            all.push(t.await.map_err(|e| format!("client task: {e}"))?);
        }
        Ok::<_, String>(all)
    })?;
    let took = started.elapsed();
    let rss_end = (stack.rss_kb()?, children_rss_kb(stack.pid()));
    let mut total = ClientResult::default();
    for r in results {
        total.merge(r);
    }
    total.sync_ms.sort_unstable();
    total.async_ms.sort_unstable();
    let lost = total.async_started - total.notified;
    println!(
        "soak: {clients} clients, {} s of requests (+ drain, {:.1} s in all), time scale 0",
        window.as_secs(),
        took.as_secs_f64()
    );
    println!(
        "  sync_sfn replies: {} ({:.0}/s), p50 {} ms, p99 {} ms",
        total.sync_ms.len(),
        total.sync_ms.len() as f64 / window.as_secs_f64(),
        percentile(&total.sync_ms, 50),
        percentile(&total.sync_ms, 99)
    );
    println!(
        "  async_sfn replies (execution ARN): {} ({:.0}/s), p50 {} ms, p99 {} ms",
        total.async_started,
        total.async_started as f64 / window.as_secs_f64(),
        percentile(&total.async_ms, 50),
        percentile(&total.async_ms, 99)
    );
    println!(
        "  notifications: {} received, {lost} lost (no notification {drain_secs} s after the run)",
        total.notified
    );
    println!(
        "  errors: {}{}",
        total.errors,
        total
            .first_error
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
    println!(
        "  RSS of the stack process: {} MiB at the start, {} MiB at the end; of its function processes: {} MiB, {} MiB",
        rss_start.0 / 1024,
        rss_end.0 / 1024,
        rss_start.1 / 1024,
        rss_end.1 / 1024
    );
    Ok(())
}

/// Connects `count` clients, `CONNECT_CONCURRENCY` handshakes at a time.
async fn connect_all(url: &str, count: usize) -> Result<Vec<clients::Ws>, String> {
    let mut out = Vec::with_capacity(count);
    let mut pending = futures_util::stream::iter(0..count)
        .map(|_| clients::connect(url, None))
        .buffer_unordered(CONNECT_CONCURRENCY);
    while let Some(ws) = pending.next().await {
        out.push(ws?);
    }
    Ok(out)
}

/// What one soak client saw.
#[derive(Default)]
struct ClientResult {
    sync_ms: Vec<u64>,
    async_ms: Vec<u64>,
    async_started: u64,
    notified: u64,
    errors: u64,
    first_error: Option<String>,
}

impl ClientResult {
    fn merge(&mut self, other: ClientResult) {
        self.sync_ms.extend(other.sync_ms);
        self.async_ms.extend(other.async_ms);
        self.async_started += other.async_started;
        self.notified += other.notified;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn error(&mut self, what: String) {
        self.errors += 1;
        self.first_error.get_or_insert(what);
    }
}

/// What a frame from the stack is.
enum Frame {
    /// The `sync_sfn` reply: an Express execution's result.
    SyncResult,
    /// The `async_sfn` reply: the Standard execution's ARN.
    Started(String),
    /// The notifier's push for a Standard execution.
    Notification(String),
    /// Anything else (an error reply).
    Other,
}

fn classify(text: &str) -> Frame {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return Frame::Other;
    };
    let arn = v["executionArn"].as_str().unwrap_or_default().to_owned();
    match (v["status"].as_str(), arn.contains(":express:")) {
        (Some("SUCCEEDED"), true) => Frame::SyncResult,
        (Some(_), false) if !arn.is_empty() => Frame::Notification(arn),
        (None, false) if !arn.is_empty() && v["startDate"].is_number() => Frame::Started(arn),
        _ => Frame::Other,
    }
}

/// One client: alternates `sync_sfn` and `async_sfn` until `stop`, one
/// request in flight, counting notifications as they arrive; then waits up
/// to `drain` for the notifications still owed.
async fn soak_client(
    client: usize,
    ws: clients::Ws,
    stop: Instant,
    drain: Duration,
) -> ClientResult {
    let (mut sink, mut stream) = ws.split();
    let mut out = ClientResult::default();
    let mut owed: HashSet<String> = HashSet::new();
    // Notifications that overtook their ARN reply (possible: the execution
    // can finish before the gateway writes the route's reply).
    let mut early: HashSet<String> = HashSet::new();
    let mut seq = 0u64;
    'requests: while Instant::now() < stop {
        let sync = seq.is_multiple_of(2);
        let action = if sync { "sync_sfn" } else { "async_sfn" };
        let text = format!(r#"{{"action":"{action}","data":"c{client}-{seq}"}}"#);
        seq += 1;
        let sent = Instant::now();
        if let Err(e) = sink.send(Message::text(text)).await {
            out.error(format!("send: {e}"));
            break;
        }
        let deadline = sent + REPLY_TIMEOUT;
        loop {
            let frame = match timeout_at(deadline, stream.next()).await {
                Err(_) => {
                    out.error(format!("no {action} reply within {REPLY_TIMEOUT:?}"));
                    continue 'requests;
                }
                Ok(Some(Ok(Message::Text(t)))) => t,
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(e))) => {
                    out.error(format!("receive: {e}"));
                    break 'requests;
                }
                Ok(None) => {
                    out.error("the server closed the stream".into());
                    break 'requests;
                }
            };
            let ms = sent.elapsed().as_millis() as u64;
            match classify(&frame) {
                Frame::Notification(arn) => {
                    if owed.remove(&arn) {
                        out.notified += 1;
                    } else {
                        early.insert(arn);
                    }
                }
                Frame::SyncResult if sync => {
                    out.sync_ms.push(ms);
                    break;
                }
                Frame::Started(arn) if !sync => {
                    out.async_ms.push(ms);
                    out.async_started += 1;
                    if early.remove(&arn) {
                        out.notified += 1;
                    } else {
                        owed.insert(arn);
                    }
                    break;
                }
                _ => {
                    out.error(format!("{action}: unexpected reply {frame}"));
                    break;
                }
            }
        }
    }
    let hard_end = Instant::now() + drain;
    while !owed.is_empty() {
        match timeout_at(hard_end, stream.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                if let Frame::Notification(arn) = classify(&t)
                    && owed.remove(&arn)
                {
                    out.notified += 1;
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    if let Ok(mut ws) = sink.reunite(stream) {
        let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
    }
    out
}

/// Part 2: echo throughput, old default against the machine's default.
fn echo_side_by_side(
    rt: &tokio::runtime::Runtime,
    bins: &Binaries,
    runs: usize,
) -> Result<(), String> {
    let ways: [(&str, &[&str]); 2] = [
        (
            "--function-concurrency 64",
            &["--function-concurrency", "64"],
        ),
        ("--function-concurrency 8", &["--function-concurrency", "8"]),
    ];
    let mut figures: Vec<Vec<(f64, f64)>> = vec![Vec::new(), Vec::new()];
    for run in 0..runs {
        // Alternate which way goes first, so drift in the machine's load
        // does not favour one.
        let order: [usize; 2] = if run.is_multiple_of(2) {
            [0, 1]
        } else {
            [1, 0]
        };
        for &way in &order {
            let (name, args) = ways[way];
            eprintln!("echo: {name}, run {}", run + 1);
            let stack = StackProcess::start_with(bins, args)?;
            let before = stack.cpu();
            let t = rt.block_on(clients::throughput(
                &stack.ws_url(),
                ECHO_CLIENTS,
                ECHO_DEPTH,
                Duration::from_secs(1),
                Duration::from_secs(5),
            ))?;
            let cpu = before.until(&stack.cpu());
            if t.errors > 0 || t.unanswered > 0 {
                return Err(format!(
                    "echo with {name}: {} errors, {} unanswered (first: {:?})",
                    t.errors, t.unanswered, t.first_error
                ));
            }
            let cpu_us_per_reply = (cpu.stack + cpu.functions) * 1e6 / t.all_replies.max(1) as f64;
            figures[way].push((t.per_second(), cpu_us_per_reply));
        }
    }
    let median = |v: &[(f64, f64)], pick: fn(&(f64, f64)) -> f64| {
        let mut xs: Vec<f64> = v.iter().map(pick).collect();
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    let rates: Vec<f64> = figures.iter().map(|f| median(f, |x| x.0)).collect();
    let cpus: Vec<f64> = figures.iter().map(|f| median(f, |x| x.1)).collect();
    println!(
        "echo, {ECHO_CLIENTS} clients x {ECHO_DEPTH} in flight, medians of {runs} alternating runs:"
    );
    for (i, (name, _)) in ways.iter().enumerate() {
        println!(
            "  {name}: {:.0} messages/s, {:.0} us of stack + function CPU per reply",
            rates[i], cpus[i]
        );
    }
    println!(
        "  8 / 64: {:.2}x messages/s, {:.2}x CPU per reply",
        rates[1] / rates[0],
        cpus[1] / cpus[0]
    );
    Ok(())
}

/// The `p`-th percentile of sorted samples (0 when there are none).
fn percentile(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) * p) / 100]
}

/// Sum of `VmRSS` over the processes whose parent is `parent` (the function
/// processes), in KiB.
fn children_rss_kb(parent: u32) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut total = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(status) = std::fs::read_to_string(path.join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|n| n.parse::<u64>().ok())
        };
        if field("PPid:") == Some(u64::from(parent)) {
            total += field("VmRSS:").unwrap_or(0);
        }
    }
    total
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
