//! Test-only scaffolding shared by the property ("fuzz") tests of every crate
//! that parses user input (see the README's Testing section).
//!
//! * [`bounded`] runs one case on its own thread, with the stack size the
//!   stack's worker threads have, and fails the case when it panics or does
//!   not return within [`case_timeout`]: a hang counts as a failure.
//! * [`config`] takes the number of cases from `PROPTEST_CASES` (the variable
//!   proptest itself reads), so CI runs a bounded number and more run on
//!   demand.
//! * [`generate`] holds the generators the tests share: hostile text, random JSON
//!   values, deep nesting, token soups built from a parser's own vocabulary,
//!   and random mutations of a JSON document.
#![warn(missing_docs)]

pub mod generate;

use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use proptest;

/// Stack size of the thread a case runs on: 2 MiB, what tokio's worker and
/// blocking threads get (where the stack runs every parser).
pub const CASE_STACK_BYTES: usize = 2 * 1024 * 1024;

/// The number of cases: `PROPTEST_CASES` if set, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A proptest configuration with [`cases`]`(default)` cases, no regression
/// files (found failures become named regression tests instead), and
/// shrinking cut off after a minute (shrinking a hang runs the watchdog's
/// timeout once per step).
pub fn config(default: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases: cases(default),
        failure_persistence: None,
        max_shrink_time: 60_000,
        ..proptest::test_runner::Config::default()
    }
}

/// How long one case may take: `FUZZ_CASE_TIMEOUT_MS`, default 10 s (debug
/// builds on a loaded 2-core machine; every parser answers in milliseconds).
pub fn case_timeout() -> Duration {
    Duration::from_millis(
        std::env::var("FUZZ_CASE_TIMEOUT_MS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(10_000),
    )
}

/// Runs `f` on a fresh thread with a [`CASE_STACK_BYTES`] stack and returns
/// its result. Panics (failing the proptest case, which then shrinks) when
/// `f` panics or has not returned within [`case_timeout`]; `what` names the
/// input in the failure message. A stack overflow aborts the test binary,
/// which fails the test too.
pub fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    let handle = std::thread::Builder::new()
        .name("fuzz-case".into())
        .stack_size(CASE_STACK_BYTES)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn a case thread");
    let limit = case_timeout();
    match rx.recv_timeout(limit) {
        Ok(v) => {
            let _ = handle.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("HANG: no answer within {limit:?} for {what}")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let msg = match handle.join() {
                Err(p) => panic_message(p.as_ref()),
                Ok(()) => "the case thread ended without an answer".into(),
            };
            panic!("PANIC after {:?}: {msg} for {what}", started.elapsed())
        }
    }
}

/// The text of a panic payload.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-text panic payload)".into()
    }
}

/// `s` cut to at most `max` characters for failure messages.
pub fn preview(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(max).collect();
        format!("{head:?}… ({} bytes)", s.len())
    }
}
