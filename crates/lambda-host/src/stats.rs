//! Per-function counters for the web console: invocations, errors, the
//! median duration of recent invocations, warm processes.
//!
//! Recording is two relaxed atomic adds and one short, uncontended-in-
//! practice mutex section (a write into a fixed ring of recent durations);
//! the median is computed only when someone reads the stats.

use std::{
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

/// Recent durations kept for the median.
const RECENT: usize = 256;

/// What [`crate::LambdaHost::stats`] reports for one function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionStats {
    /// The function's name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// Live processes (execution environments).
    pub processes: usize,
    /// Of those, processes waiting for work (warm).
    pub warm: usize,
    /// Invocations that reached a process.
    pub invocations: u64,
    /// Of those, invocations that ended in an error (function error,
    /// timeout, crash).
    pub errors: u64,
    /// Median duration of the last 256 invocations.
    pub p50: Option<Duration>,
}

/// The counters of one function.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    invocations: AtomicU64,
    errors: AtomicU64,
    recent: Mutex<Recent>,
}

#[derive(Debug, Default)]
struct Recent {
    micros: Vec<u64>,
    next: usize,
}

impl Counters {
    /// Records one finished invocation.
    pub(crate) fn record(&self, took: Duration, failed: bool) {
        self.invocations.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let mut r = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if r.micros.len() < RECENT {
            r.micros.push(micros);
        } else {
            let i = r.next;
            r.micros[i] = micros;
        }
        r.next = (r.next + 1) % RECENT;
    }

    /// (invocations, errors, median of the recent durations).
    pub(crate) fn read(&self) -> (u64, u64, Option<Duration>) {
        let mut sorted = self
            .recent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .micros
            .clone();
        sorted.sort_unstable();
        let p50 = sorted
            .get(sorted.len().saturating_sub(1) / 2)
            .map(|m| Duration::from_micros(*m));
        (
            self.invocations.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
            p50,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_the_median_of_the_recent_window() {
        let c = Counters::default();
        assert_eq!(c.read(), (0, 0, None));
        for ms in [5, 1, 3] {
            c.record(Duration::from_millis(ms), ms == 5);
        }
        assert_eq!(c.read(), (3, 1, Some(Duration::from_millis(3))));
        for _ in 0..RECENT {
            c.record(Duration::from_millis(10), false);
        }
        let (n, errors, p50) = c.read();
        assert_eq!(
            (n, errors, p50),
            (3 + RECENT as u64, 1, Some(Duration::from_millis(10)))
        );
    }
}
