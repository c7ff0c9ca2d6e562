//! `cargo bench -p wsflow --bench stack`: the figures of issue 4, measured on
//! the real release `wsflow up` process (`--time-scale 0`, a temp data dir),
//! the real function binaries and real WebSocket clients on 127.0.0.1.
//!
//! Not a criterion bench: what is measured lives in another process (start-up
//! time, round trips through Lambda processes, resident memory per idle
//! connection), so this binary prints a table of figures instead of timing a
//! closure. Environment knobs: `STACK_BENCH_IDLE` (idle connections,
//! default 10,000), `STACK_BENCH_WINDOW_SECS` (throughput window, default 5),
//! `STACK_BENCH_BINARIES` (a directory of prebuilt `wsflow` + function
//! binaries to measure instead of building the workspace's),
//! `STACK_BENCH_UP_ARGS` (extra `wsflow up` flags, e.g.
//! `--function-concurrency 8`).

// The crate root is `benches/stack.rs`: its modules live in `benches/stack/`.
#[path = "stack/clients.rs"]
mod clients;
#[path = "stack/process.rs"]
mod process;

use std::time::Duration;

use clients::{Idle, Throughput, open_idle, sequential, throughput};
use process::{Binaries, StackProcess};

/// Starts measured for the time to the ready line.
const STARTS: usize = 5;
/// Sequential `echo` round trips (after the warm-up).
const ECHO_SEQUENTIAL: usize = 2_000;
/// Sequential `sync_sfn` round trips (after the warm-up).
const SYNC_SEQUENTIAL: usize = 500;
/// Round trips before the samples are kept (cold function processes).
const WARMUP: usize = 20;
/// Messages each throughput client keeps in flight.
const DEPTH: usize = 32;
/// Runs of each throughput configuration (the median is reported).
const THROUGHPUT_RUNS: usize = 3;
/// Handshakes in flight while opening the idle connections.
const IDLE_CONCURRENCY: usize = 200;

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to filter.
    if let Err(e) = run() {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let idle_count = env_number("STACK_BENCH_IDLE", 10_000);
    let window = Duration::from_secs(env_number("STACK_BENCH_WINDOW_SECS", 5) as u64);
    // 10,000 client sockets here and as many server sockets in the stack,
    // which inherits this limit.
    let nofile = rlimit::increase_nofile_limit(u64::MAX)
        .map_err(|e| format!("cannot raise RLIMIT_NOFILE: {e}"))?;
    if nofile < idle_count as u64 + 1_000 {
        return Err(format!(
            "RLIMIT_NOFILE is {nofile}: too low for {idle_count} connections (raise the hard limit)"
        ));
    }
    let bins = Binaries::build()?;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let mut report = Report::default();

    // 1. Spawn to ready line.
    eprintln!("bench: {STARTS} starts");
    let mut spawn_to_ready = Vec::new();
    let mut printed = Vec::new();
    for _ in 0..STARTS {
        let mut stack = StackProcess::start(&bins)?;
        spawn_to_ready.push(stack.ready_after);
        printed.extend(stack.reported_ready_ms);
        stack.stop();
    }

    // 2 and 3. Round trips and throughput on one stack.
    let stack = StackProcess::start(&bins)?;
    let url = stack.ws_url();
    eprintln!("bench: echo, {ECHO_SEQUENTIAL} sequential round trips");
    let echo = rt.block_on(sequential(
        &url,
        WARMUP,
        ECHO_SEQUENTIAL,
        |i| format!(r#"{{"action":"echo","data":"m{i}"}}"#),
        |i, reply| reply == format!("m{i}"),
    ))?;
    let mut runs_1 = Vec::new();
    let mut runs_50 = Vec::new();
    for run in 0..THROUGHPUT_RUNS {
        for (clients, runs) in [(1, &mut runs_1), (50, &mut runs_50)] {
            eprintln!(
                "bench: echo throughput, {clients} client(s), run {}",
                run + 1
            );
            let log_before = stack.log_lines();
            let cpu_before = stack.cpu();
            let t = rt.block_on(throughput(
                &url,
                clients,
                DEPTH,
                Duration::from_secs(1),
                window,
            ))?;
            let cpu = cpu_before.until(&stack.cpu());
            let per_reply = 1e6 / t.all_replies.max(1) as f64;
            report.cpu_per_reply[usize::from(clients > 1)] = [
                cpu.stack * per_reply,
                cpu.functions * per_reply,
                cpu.bench * per_reply,
            ];
            report.log_lines_per_reply =
                stack.log_lines().saturating_sub(log_before) as f64 / t.all_replies.max(1) as f64;
            runs.push(t);
        }
    }
    eprintln!("bench: sync_sfn, {SYNC_SEQUENTIAL} sequential round trips");
    let sync = rt.block_on(sequential(
        &url,
        WARMUP,
        SYNC_SEQUENTIAL,
        |i| format!(r#"{{"action":"sync_sfn","data":"{i}"}}"#),
        |_, reply| {
            serde_json::from_str::<serde_json::Value>(reply)
                .is_ok_and(|v| v["status"] == "SUCCEEDED")
        },
    ))?;
    drop(stack);

    // 4. Idle connections on a fresh stack.
    eprintln!("bench: {idle_count} idle connections");
    let mut stack = StackProcess::start(&bins)?;
    let url = stack.ws_url();
    let idle = rt.block_on(async {
        // Warm the connection path once so the baseline includes it.
        let warm = sequential(
            &url,
            0,
            3,
            |_| "warm".to_owned(),
            |_, r| r.contains("\"connectionId\""),
        )
        .await?;
        drop(warm);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = stack.rss_kb()?;
        // In two halves: the second half's growth is the marginal cost, free
        // of one-time growth (thread pools, allocator arenas, table pages).
        let half = Duration::from_secs(300);
        let first = open_idle(&url, idle_count / 2, IDLE_CONCURRENCY, half).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mid = stack.rss_kb()?;
        let second = open_idle(&url, idle_count - idle_count / 2, IDLE_CONCURRENCY, half).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = stack.rss_kb()?;
        let second_half = second.sockets.len();
        let opened = Idle {
            failures: first.failures + second.failures,
            first_error: first.first_error.or(second.first_error),
            took: first.took + second.took,
            sockets: first.sockets.into_iter().chain(second.sockets).collect(),
        };
        // The connections are live: one of them still gets its $default reply.
        let mut sockets = opened.sockets;
        let alive = match sockets.last_mut() {
            Some(ws) => clients::round_trip(ws, "still there?")
                .await
                .is_ok_and(|(r, _)| r.contains("still there?")),
            None => false,
        };
        let open = sockets.len();
        drop(sockets);
        Ok::<_, String>(IdleFigures {
            before_kb: before,
            mid_kb: mid,
            second_half,
            after_kb: after,
            open,
            failures: opened.failures,
            first_error: opened.first_error,
            took: opened.took,
            alive,
        })
    })?;
    let stop_took = stack.stop();

    report.print(&Figures {
        cpus,
        load: load
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        spawn_to_ready,
        printed,
        echo_first: echo.first,
        echo: echo.samples,
        runs_1,
        runs_50,
        window,
        sync_first: sync.first,
        sync: sync.samples,
        idle,
        idle_count,
        stop_took,
    });
    Ok(())
}

/// A positive number from the environment, or `default`.
fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// What the idle-connection run measured.
struct IdleFigures {
    before_kb: u64,
    mid_kb: u64,
    second_half: usize,
    after_kb: u64,
    open: usize,
    failures: usize,
    first_error: Option<String>,
    took: Duration,
    alive: bool,
}

/// Everything measured, for the table.
struct Figures {
    cpus: usize,
    load: String,
    spawn_to_ready: Vec<Duration>,
    printed: Vec<u64>,
    echo_first: Duration,
    echo: Vec<Duration>,
    runs_1: Vec<Throughput>,
    runs_50: Vec<Throughput>,
    window: Duration,
    sync_first: Duration,
    sync: Vec<Duration>,
    idle: IdleFigures,
    idle_count: usize,
    stop_took: Duration,
}

#[derive(Default)]
struct Report {
    /// Console lines the stack wrote per echo reply in the last 50-client run.
    log_lines_per_reply: f64,
    /// CPU µs per echo reply (stack, function processes, bench clients) in
    /// the last 1-client and 50-client runs.
    cpu_per_reply: [[f64; 3]; 2],
}

impl Report {
    fn print(&self, f: &Figures) {
        let row = |what: &str, figure: String, target: &str| {
            println!("{what:<56} {figure:<28} {target}");
        };
        println!();
        println!(
            "wsflow local stack (release, --time-scale 0, 127.0.0.1); {} CPU(s), load average at start {}",
            f.cpus, f.load
        );
        let up_args = std::env::var("STACK_BENCH_UP_ARGS").unwrap_or_default();
        if !up_args.trim().is_empty() {
            println!("wsflow up flags (STACK_BENCH_UP_ARGS): {}", up_args.trim());
        }
        println!("{}", "-".repeat(120));
        row("measure", "figure".into(), "issue 4 target");
        println!("{}", "-".repeat(120));

        let ready = median(&f.spawn_to_ready);
        row(
            &format!("spawn -> ready line (median of {STARTS})"),
            ms(ready),
            &verdict(ready < Duration::from_millis(500), "< 500 ms"),
        );
        let mut printed = f.printed.clone();
        printed.sort_unstable();
        row(
            "  `ready in N ms` printed by the stack (median)",
            printed
                .get(printed.len().saturating_sub(1) / 2)
                .map_or("-".into(), |n| format!("{n} ms")),
            "",
        );
        row(
            "  all starts, spawn -> ready line",
            f.spawn_to_ready
                .iter()
                .map(|d| format!("{:.0}", d.as_secs_f64() * 1e3))
                .collect::<Vec<_>>()
                .join(", ")
                + " ms",
            "",
        );

        row(
            "echo, first round trip (cold Lambda process)",
            ms(f.echo_first),
            "",
        );
        let (p50, p99) = (percentile(&f.echo, 50.0), percentile(&f.echo, 99.0));
        row(
            &format!("echo round trip, 1 client, sequential (n={})", f.echo.len()),
            format!("p50 {}  p99 {}", ms(p50), ms(p99)),
            "",
        );
        for (clients, runs) in [(1, &f.runs_1), (50, &f.runs_50)] {
            let rates: Vec<f64> = runs.iter().map(Throughput::per_second).collect();
            let target = if clients == 50 {
                verdict(median_f64(&rates) >= 20_000.0, ">= 20,000 msg/s")
            } else {
                String::new()
            };
            row(
                &format!("echo throughput, {clients:>2} client(s) x {DEPTH} in flight (median)"),
                format!("{:.0} msg/s", median_f64(&rates)),
                &target,
            );
            let errors: u64 = runs.iter().map(|t| t.errors + t.unanswered).sum();
            row(
                &format!(
                    "  {} runs of {} s (+1 s warm-up)",
                    runs.len(),
                    f.window.as_secs()
                ),
                rates
                    .iter()
                    .map(|r| format!("{r:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
                    + " msg/s",
                &if errors == 0 {
                    "no error replies, none unanswered".to_owned()
                } else {
                    format!(
                        "{errors} errors/unanswered, e.g. {}",
                        runs.iter()
                            .find_map(|t| t.first_error.clone())
                            .unwrap_or_default()
                    )
                },
            );
        }
        for (k, clients) in [(0, 1), (1, 50)] {
            let [stack, functions, bench] = self.cpu_per_reply[k];
            row(
                &format!("  CPU per echo reply, {clients:>2} client(s) (last run)"),
                format!("{:.0} us", stack + functions + bench),
                &format!(
                    "stack {stack:.0} us, echo Lambda processes {functions:.0} us, bench clients {bench:.0} us"
                ),
            );
        }
        row(
            "  stack console lines per echo reply (last run)",
            format!("{:.1}", self.log_lines_per_reply),
            "",
        );

        row("sync_sfn, first round trip (cold)", ms(f.sync_first), "");
        let (p50, p99) = (percentile(&f.sync, 50.0), percentile(&f.sync, 99.0));
        row(
            &format!("sync_sfn round trip, sequential (n={})", f.sync.len()),
            format!("p50 {}  p99 {}", ms(p50), ms(p99)),
            &verdict(p50 < Duration::from_millis(2), "p50 < 2 ms"),
        );

        let i = &f.idle;
        // VmRSS is in KiB.
        let per_conn = i.after_kb.saturating_sub(i.before_kb) as f64 / i.open.max(1) as f64;
        row(
            &format!("RSS of the stack, {} idle connections", i.open),
            format!(
                "{:.1} MB -> {:.1} MB",
                i.before_kb as f64 / 1024.0,
                i.after_kb as f64 / 1024.0
            ),
            "",
        );
        let marginal = i.after_kb.saturating_sub(i.mid_kb) as f64 / i.second_half.max(1) as f64;
        row(
            "  per idle connection (all of them)",
            format!("{per_conn:.1} KiB"),
            &verdict(per_conn < 20.0, "< 20 KB"),
        );
        row(
            &format!("  per idle connection (second {})", i.second_half),
            format!("{marginal:.1} KiB"),
            &format!(
                "RSS at the half-way point {:.1} MB",
                i.mid_kb as f64 / 1024.0
            ),
        );
        row(
            &format!("  opening them ({IDLE_CONCURRENCY} handshakes at a time)"),
            format!(
                "{:.1} s ({:.0} conn/s)",
                i.took.as_secs_f64(),
                i.open as f64 / i.took.as_secs_f64().max(1e-9)
            ),
            &format!(
                "{} of {} failed{}; last one alive: {}",
                i.failures,
                f.idle_count,
                i.first_error
                    .as_deref()
                    .map_or(String::new(), |e| format!(" ({e})")),
                i.alive
            ),
        );
        row(
            "  clean shutdown with them closing",
            format!("{:.1} s", f.stop_took.as_secs_f64()),
            "",
        );
        println!("{}", "-".repeat(120));
        println!(
            "for scale: serverless-offline 552 echo msg/s with 50 clients, ~25 KB per idle connection; LocalStack StartSyncExecution p50 80 ms"
        );
    }
}

fn verdict(met: bool, target: &str) -> String {
    format!("{target}: {}", if met { "met" } else { "NOT met" })
}

fn ms(d: Duration) -> String {
    let m = d.as_secs_f64() * 1e3;
    if m < 10.0 {
        format!("{m:.2} ms")
    } else {
        format!("{m:.0} ms")
    }
}

/// Nearest-rank percentile.
fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut s = samples.to_vec();
    s.sort_unstable();
    if s.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

fn median(samples: &[Duration]) -> Duration {
    percentile(samples, 50.0)
}

fn median_f64(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    v.get(v.len().saturating_sub(1) / 2).copied().unwrap_or(0.0)
}
