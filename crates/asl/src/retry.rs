//! Retriers and catchers: error-name matching with AWS's rules and the
//! back-off schedule (IntervalSeconds, BackoffRate, MaxDelaySeconds, JitterStrategy).

use crate::error::{ALL, DATA_LIMIT_EXCEEDED, RUNTIME, TASK_FAILED, TIMEOUT};

/// One `Retry` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    /// Error names matched.
    pub error_equals: Vec<String>,
    /// First delay, seconds (default 1).
    pub interval_seconds: f64,
    /// Maximum retries (default 3).
    pub max_attempts: u32,
    /// Delay multiplier (default 2.0).
    pub backoff_rate: f64,
    /// Cap on the delay, seconds.
    pub max_delay_seconds: Option<f64>,
    /// `FULL` jitter.
    pub full_jitter: bool,
}

impl Retrier {
    /// Delay before retry number `n` (0-based), in milliseconds.
    pub fn delay_millis(&self, n: u32) -> i64 {
        let mut d = self.interval_seconds * self.backoff_rate.powi(n as i32);
        if let Some(m) = self.max_delay_seconds {
            d = d.min(m);
        }
        if self.full_jitter {
            let mut b = [0u8; 4];
            let _ = getrandom::fill(&mut b);
            d *= u32::from_le_bytes(b) as f64 / u32::MAX as f64;
        }
        (d * 1000.0) as i64
    }
}

/// Does `names` (a retrier's/catcher's ErrorEquals) match `error`?
///
/// `States.ALL` matches everything except `States.Runtime` (terminal); `States.TaskFailed` matches every error except `States.Timeout`.
pub fn matches(names: &[String], error: &str) -> bool {
    names.iter().any(|n| {
        if n == error {
            return true;
        }
        match n.as_str() {
            ALL => error != RUNTIME,
            TASK_FAILED => error != TIMEOUT && error != RUNTIME && error != DATA_LIMIT_EXCEEDED,
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let all = vec![ALL.to_string()];
        assert!(matches(&all, "Lambda.Unknown"));
        assert!(!matches(&all, RUNTIME));
        let tf = vec![TASK_FAILED.to_string()];
        assert!(matches(&tf, "Custom"));
        assert!(!matches(&tf, TIMEOUT));
        let r = Retrier {
            error_equals: all,
            interval_seconds: 1.0,
            max_attempts: 3,
            backoff_rate: 2.0,
            max_delay_seconds: Some(3.0),
            full_jitter: false,
        };
        assert_eq!(r.delay_millis(0), 1000);
        assert_eq!(r.delay_millis(2), 3000);
    }
}
