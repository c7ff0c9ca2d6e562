//! JSONata evaluations keep no memory: resident memory after many
//! evaluations of one expression stays where it was after a few.

use serde_json::json;
use wsflow_asl::jsonata::JExpr;
use wsflow_asl::value::{Val, Variables};

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

#[test]
fn memory_stays_flat_over_many_evaluations() {
    let e = JExpr::compile("$states.input.n * 2 + $k").unwrap();
    let mut vars = Variables::new();
    vars.insert("k".into(), Val::from(json!(1)));
    let eval = |n: u64| {
        let states = Val::from(json!({"input": {"n": n}}));
        assert_eq!(
            e.eval(&states, &vars).map(|v| v.to_json()),
            Ok(json!(n * 2 + 1))
        );
    };
    for n in 0..20_000 {
        eval(n);
    }
    let after_20k = rss_kib();
    assert!(
        after_20k > 0,
        "no RSS reading (this test needs Linux /proc)"
    );
    for n in 20_000..200_000 {
        eval(n);
    }
    let after_200k = rss_kib();
    // Before, every evaluation kept ~1.6 KiB: 180,000 more would be ~280 MiB.
    assert!(
        after_200k <= after_20k + 8 * 1024,
        "RSS grew from {after_20k} KiB to {after_200k} KiB"
    );
}
