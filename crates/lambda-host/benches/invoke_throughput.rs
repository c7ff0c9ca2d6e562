//! Invocations per second through real Lambda processes (the
//! `wsflow-fixture-fn` echo), over the real Runtime API.
//!
//! `cargo bench -p wsflow-lambda-host --bench invoke_throughput`
//!
//! Prints the median of several rounds for: one caller on one warm process;
//! 50 concurrent callers with the default process cap (one process each);
//! 50 callers sharing 2 processes. Also the CPU time spent per invocation by
//! the host and by the function processes (from `/proc`, in USER_HZ = 100
//! ticks), which, unlike the rate, does not depend on what else the machine
//! is running.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::json;
use wsflow_lambda_host::{FunctionSpec, HostOptions, LambdaHost, LogSink};

const FIXTURE: &str = env!("CARGO_BIN_EXE_wsflow-fixture-fn");
const ROUNDS: usize = 5;
const ROUND: Duration = Duration::from_secs(2);

/// utime + stime of a process, in seconds (`/proc/<pid>/stat` fields 14, 15).
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name, which may contain spaces.
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // `rest` starts at field 3 (state): utime is field 14, stime field 15.
    (ticks(11) + ticks(12)) / 100.0
}

fn functions_cpu(host: &LambdaHost) -> f64 {
    host.process_ids("Echo")
        .iter()
        .map(|p| cpu_seconds(&p.to_string()))
        .sum()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn host(max_concurrency: usize) -> LambdaHost {
    let mut spec = FunctionSpec::new("Echo", FIXTURE);
    spec.max_concurrency = max_concurrency;
    let options = HostOptions {
        log_sink: LogSink::Discard,
        platform_logs: false,
        ..HostOptions::default()
    };
    LambdaHost::start(vec![spec], options)
        .await
        .expect("host starts")
}

/// Invocations and invocations per second of `callers` concurrent loops,
/// one round.
async fn round(host: &LambdaHost, callers: usize) -> (u64, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|i| {
            let (host, stop, count) = (host.clone(), stop.clone(), count.clone());
            tokio::spawn(async move {
                let event = json!({"action": "echo", "data": format!("hello from client {i}")});
                while !stop.load(Ordering::Relaxed) {
                    let out = host.invoke("Echo", event.clone()).await.expect("echo");
                    debug_assert_eq!(out, event);
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(ROUND).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("caller");
    }
    let n = count.load(Ordering::Relaxed);
    (n, n as f64 / started.elapsed().as_secs_f64())
}

async fn scenario(label: &str, callers: usize, max_concurrency: usize) {
    let host = host(max_concurrency).await;
    // Warm up: start the processes.
    round(&host, callers).await;
    let mut rates = Vec::with_capacity(ROUNDS);
    let (host_cpu, fn_cpu) = (cpu_seconds("self"), functions_cpu(&host));
    let started = Instant::now();
    let mut invokes = 0.0;
    for _ in 0..ROUNDS {
        let (n, rate) = round(&host, callers).await;
        invokes += n as f64;
        rates.push(rate);
    }
    let wall = started.elapsed().as_secs_f64();
    let per_invoke = |cpu: f64| cpu / invokes * 1e6;
    let (host_cpu, fn_cpu) = (
        per_invoke(cpu_seconds("self") - host_cpu),
        per_invoke(functions_cpu(&host) - fn_cpu),
    );
    let processes = host.process_ids("Echo").len();
    println!(
        "{label}: median {:.0} invokes/s over {ROUNDS} rounds of {ROUND:?} ({processes} processes; min {:.0}, max {:.0}); \
         CPU per invoke: host {host_cpu:.0} µs, functions {fn_cpu:.0} µs ({invokes:.0} invokes in {wall:.1} s)",
        median(rates.clone()),
        rates.iter().copied().fold(f64::INFINITY, f64::min),
        rates.iter().copied().fold(0.0, f64::max),
    );
    host.shutdown().await;
}

fn main() {
    // `cargo bench` passes `--bench`; filters are not supported.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        scenario("1 caller, 1 warm process", 1, 64).await;
        scenario("50 callers, up to 64 processes", 50, 64).await;
        scenario("50 callers, 2 processes", 50, 2).await;
    });
}
