//! Memory over time with JSONata: evaluates one JSONata expression many times
//! (a million by default, `WSFLOW_JSONATA_EVALS` to change) through the
//! engine's public API and prints the process's resident memory at intervals
//! (run with `cargo bench -p wsflow-asl --bench jsonata_memory`). Flat figures
//! after the first interval mean no memory is kept per evaluation.
//!
//! Each execution is a Map over 10,000 items whose iteration is one JSONata
//! Pass state (`{% $states.input.n * 2 + $k %}`), so every evaluation runs
//! the same expression with a different input.

use serde_json::{Value, json};
use std::time::Instant;
use wsflow_asl::{
    BoxFuture, Clock, ExecutionContext, StateMachine, TaskCall, TaskFailure, TaskInvoker,
};

struct NoClock;
impl Clock for NoClock {
    fn now_millis(&self) -> i64 {
        0
    }
    fn sleep_until<'a>(&'a self, _d: i64) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

struct NoTasks;
impl TaskInvoker for NoTasks {
    fn invoke<'a>(&'a self, _c: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(async { Err(TaskFailure::new("States.TaskFailed", "none")) })
    }
}

/// Resident set size of this process, KiB (Linux `/proc/self/status`).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    const ITEMS: usize = 10_000;
    let evals: usize = std::env::var("WSFLOW_JSONATA_EVALS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {
        "Type": "Map", "Items": "{% $states.input.items %}", "End": true,
        "Output": "{% $count($states.result) %}",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true,
            "Assign": {"k": 1},
            "Output": "{% $states.input * 2 %}"}}}}}});
    let m = StateMachine::parse(&def.to_string()).expect("bench definition is valid");
    let input = json!({"items": (0..ITEMS).collect::<Vec<_>>()});
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let start = Instant::now();
    let rss0 = rss_kib();
    println!("JSONata evaluations        RSS (KiB)   evals/s");
    println!("{:>20} {:>12}", 0, rss0);
    let runs = evals.div_ceil(ITEMS);
    let every = (runs / 10).max(1);
    let mut last = Instant::now();
    for r in 1..=runs {
        let out = rt.block_on(wsflow_asl::run_execution(
            &m,
            input.clone(),
            ExecutionContext::local("b", "b", 0),
            &NoTasks,
            &NoClock,
            None,
        ));
        assert_eq!(out.output, Some(json!(ITEMS)), "{out:?}");
        if r % every == 0 || r == runs {
            let n = r * ITEMS;
            let rate = (every * ITEMS) as f64 / last.elapsed().as_secs_f64();
            last = Instant::now();
            println!("{n:>20} {:>12} {rate:>9.0}", rss_kib());
        }
    }
    println!(
        "{} evaluations in {:.1} s; RSS grew {} KiB",
        runs * ITEMS,
        start.elapsed().as_secs_f64(),
        rss_kib() as i64 - rss0 as i64
    );
}
