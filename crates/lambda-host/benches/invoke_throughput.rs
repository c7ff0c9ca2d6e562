//! Invocations per second through real Lambda processes (the
//! `wsflow-fixture-fn` echo), over the real Runtime API.
//!
//! `cargo bench -p wsflow-lambda-host --bench invoke_throughput`
//!
//! Prints the median of several rounds for: one caller on one warm process;
//! 50 concurrent callers with the default process cap (one process each);
//! 50 callers sharing 2 processes.

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

/// Invocations per second of `callers` concurrent loops, one round.
async fn round(host: &LambdaHost, callers: usize) -> f64 {
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
    count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn scenario(label: &str, callers: usize, max_concurrency: usize) {
    let host = host(max_concurrency).await;
    // Warm up: start the processes.
    round(&host, callers).await;
    let mut rates = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        rates.push(round(&host, callers).await);
    }
    let processes = host.process_ids("Echo").len();
    println!(
        "{label}: median {:.0} invokes/s over {ROUNDS} rounds of {ROUND:?} ({processes} processes; min {:.0}, max {:.0})",
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
