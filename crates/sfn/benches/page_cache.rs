//! What the database's page cache costs and buys: the Step Functions service with redb's default
//! 1 GiB page cache vs the store's 64 MiB ([`wsflow_sfn::store::DEFAULT_CACHE_BYTES`]).
//!
//! Each run is a fresh process (this binary again, so each peak RSS is its own) on a fresh
//! database: `PAGE_CACHE_EXECUTIONS` (default 20,000) Standard executions of a 20-state Pass
//! chain, started by 64 concurrent clients at time scale 0, all committed; then 4,000
//! GetExecutionHistory + DescribeExecution reads of executions spread over the whole file.
//! Printed per cache size (median of 3 alternating runs): durable transitions/s, reads/s, the
//! process's peak RSS and the database file's size; then the ratios.
//!
//! Run: `cargo bench -p wsflow-sfn --bench page_cache`.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wsflow_aws_wire::{BoxFuture, LambdaInvokeError, LambdaInvoker};
use wsflow_sfn::{CommitMode, MachineSpec, MachineType, SfnBackends, SfnOptions, StepFunctions};

const CHILD: &str = "PAGE_CACHE_CHILD_BYTES";
const STATES: usize = 20;
const CLIENTS: usize = 64;
const READS: usize = 4_000;
const MIB: usize = 1024 * 1024;

struct Echo;

impl LambdaInvoker for Echo {
    fn invoke<'a>(
        &'a self,
        _f: &'a str,
        payload: Value,
    ) -> BoxFuture<'a, Result<Value, LambdaInvokeError>> {
        Box::pin(async move { Ok(payload) })
    }
}

fn chain(n: usize) -> String {
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let mut s = json!({"Type": "Pass", "Result": {"step": i, "pad": "x".repeat(64)}, "ResultPath": "$.last"});
        if i + 1 == n {
            s["End"] = json!(true);
        } else {
            s["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), s);
    }
    json!({"StartAt": "S0", "States": states}).to_string()
}

/// `VmHWM` (peak resident set) of this process, in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// One measured run in this process; prints one JSON line.
async fn child(cache_bytes: usize, executions: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut options = SfnOptions::new(dir.path());
    options.time_scale = 0.0;
    options.commit_mode = CommitMode::Group;
    options.cache_bytes = cache_bytes;
    let spec = MachineSpec {
        name: "Chain".into(),
        kind: MachineType::Standard,
        definition: chain(STATES),
        role_arn: None,
    };
    let backends = SfnBackends {
        lambda: Arc::new(Echo),
        services: vec![],
    };
    let svc = StepFunctions::open(options, vec![spec], backends).expect("open");
    let t = Instant::now();
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let svc = svc.clone();
        clients.push(tokio::spawn(async move {
            let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:Chain";
            let mut started = Vec::new();
            for i in (c..executions).step_by(CLIENTS) {
                let r = svc
                    .operation(
                        "StartExecution",
                        &json!({"stateMachineArn": arn, "name": format!("e{i}")}),
                    )
                    .await
                    .expect("start");
                started.push(r["executionArn"].as_str().expect("arn").to_owned());
            }
            started
        }));
    }
    let mut started = Vec::new();
    for c in clients {
        started.extend(c.await.expect("join"));
    }
    for a in &started {
        loop {
            let d = svc
                .operation("DescribeExecution", &json!({"executionArn": a}))
                .await
                .expect("describe");
            if d["status"] != "RUNNING" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let write_secs = t.elapsed().as_secs_f64();
    // Reads spread over the whole file (a fixed stride, so both sizes read the same rows).
    let t = Instant::now();
    let stride = 7919 % started.len().max(1);
    let mut events = 0usize;
    for i in 0..READS {
        let a = &started[(i * stride.max(1)) % started.len()];
        let h = svc
            .operation("GetExecutionHistory", &json!({"executionArn": a}))
            .await
            .expect("history");
        events += h["events"].as_array().map_or(0, Vec::len);
        let d = svc
            .operation("DescribeExecution", &json!({"executionArn": a}))
            .await
            .expect("describe");
        assert_eq!(d["status"], "SUCCEEDED");
    }
    let read_secs = t.elapsed().as_secs_f64();
    assert!(events >= READS * (2 * STATES + 2), "{events} events read");
    let db_mib = std::fs::metadata(dir.path().join("sfn.redb"))
        .map_or(f64::NAN, |m| m.len() as f64 / MIB as f64);
    svc.shutdown().await;
    println!(
        "{}",
        json!({
            "transitions_per_s": (executions * STATES) as f64 / write_secs,
            "reads_per_s": READS as f64 / read_secs,
            "peak_rss_mib": peak_rss_mib(),
            "db_mib": db_mib,
        })
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let executions: usize = std::env::var("PAGE_CACHE_EXECUTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    if let Some(bytes) = std::env::var(CHILD).ok().and_then(|v| v.parse().ok()) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(child(bytes, executions));
        return;
    }
    // `cargo bench` passes `--bench`; a run under `cargo test --benches` passes nothing and
    // gets a small smoke run.
    let executions = if std::env::args().any(|a| a == "--bench") {
        executions
    } else {
        500
    };
    let sizes = [
        (
            "64 MiB (the store's)",
            wsflow_sfn::store::DEFAULT_CACHE_BYTES,
        ),
        ("1 GiB (redb's default)", 1024 * MIB),
    ];
    let mut results: Vec<Vec<Value>> = vec![Vec::new(); sizes.len()];
    let exe = std::env::current_exe().expect("current_exe");
    for _round in 0..3 {
        for (i, (_, bytes)) in sizes.iter().enumerate() {
            let out = Command::new(&exe)
                .env(CHILD, bytes.to_string())
                .env("PAGE_CACHE_EXECUTIONS", executions.to_string())
                .output()
                .expect("spawn the measured run");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let line = String::from_utf8_lossy(&out.stdout);
            let v: Value = serde_json::from_str(line.trim()).expect("a JSON line");
            results[i].push(v);
        }
    }
    let field = |i: usize, k: &str| {
        median(
            results[i]
                .iter()
                .map(|v| v[k].as_f64().unwrap_or(f64::NAN))
                .collect(),
        )
    };
    println!(
        "{executions} Standard executions x {STATES} states, {CLIENTS} clients, then {READS} history + describe reads (median of 3 alternating runs, each a fresh process and database):"
    );
    for (i, (name, _)) in sizes.iter().enumerate() {
        println!(
            "  page cache {name}: {:.0} durable transitions/s, {:.0} reads/s, peak RSS {:.0} MiB, database file {:.0} MiB",
            field(i, "transitions_per_s"),
            field(i, "reads_per_s"),
            field(i, "peak_rss_mib"),
            field(i, "db_mib"),
        );
    }
    println!(
        "  64 MiB / 1 GiB: {:.3}x transitions/s, {:.3}x reads/s, {:.3}x peak RSS",
        field(0, "transitions_per_s") / field(1, "transitions_per_s"),
        field(0, "reads_per_s") / field(1, "reads_per_s"),
        field(0, "peak_rss_mib") / field(1, "peak_rss_mib"),
    );
}
