//! The service's [`Clock`]: wall time for timestamps, tokio timers for
//! waits, with a time scale so tests and demos need not wait in real time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wsflow_asl::{BoxFuture, Clock};

/// Milliseconds since the Unix epoch, from the system clock.
pub fn epoch_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Epoch milliseconds as the JSON protocol's timestamp: epoch seconds (float).
pub fn epoch_seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

/// One execution's clock: a tokio timer whose sleeps are scaled by
/// `time_scale`, and a virtual "now" that jumps over the skipped time.
///
/// At scale 1 it is the wall clock. At scale 0.01 a `Wait` of 10 s sleeps
/// 100 ms and then moves this clock's offset forward, so the engine sees
/// `now_millis() >= deadline` (its contract) and the history shows the wait
/// lasting 10 s. At scale 0 (or any non-positive / non-finite scale) waits
/// return at once. Each execution gets its own clock so one execution's waits
/// never move another's time; a fast-forwarded execution's timestamps can
/// therefore lie ahead of the wall clock.
#[derive(Debug)]
pub struct ScaledClock {
    time_scale: f64,
    offset: AtomicI64,
}

impl ScaledClock {
    /// A clock with the given scale, starting at wall time.
    pub fn new(time_scale: f64) -> Self {
        Self {
            time_scale,
            offset: AtomicI64::new(0),
        }
    }

    /// The real duration a wait of `ms` milliseconds takes at this scale.
    pub fn scaled(&self, ms: i64) -> Duration {
        if ms <= 0 || !self.time_scale.is_finite() || self.time_scale <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(ms as f64 / 1000.0 * self.time_scale)
    }
}

impl ScaledClock {
    /// Moves this clock forward (never back) so that `now_millis() >= millis`.
    pub fn advance_to(&self, millis: i64) {
        let behind = millis - self.now_millis();
        if behind > 0 {
            self.offset.fetch_add(behind, Ordering::Relaxed);
        }
    }
}

impl Clock for ScaledClock {
    fn now_millis(&self) -> i64 {
        epoch_millis() + self.offset.load(Ordering::Relaxed)
    }

    fn sleep_until<'a>(&'a self, deadline_millis: i64) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let wait = self.scaled(deadline_millis - self.now_millis());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let behind = deadline_millis - self.now_millis();
            if behind > 0 {
                self.offset.fetch_add(behind, Ordering::Relaxed);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_waits() {
        assert_eq!(ScaledClock::new(0.0).scaled(10_000), Duration::ZERO);
        assert_eq!(
            ScaledClock::new(0.01).scaled(10_000),
            Duration::from_millis(100)
        );
        assert_eq!(ScaledClock::new(1.0).scaled(-5), Duration::ZERO);
        assert_eq!(ScaledClock::new(f64::NAN).scaled(5), Duration::ZERO);
    }

    #[tokio::test]
    async fn zero_scale_returns_at_once_and_reaches_the_deadline() {
        let c = ScaledClock::new(0.0);
        let t = std::time::Instant::now();
        let deadline = c.now_millis() + 60_000;
        c.sleep_until(deadline).await;
        assert!(t.elapsed() < Duration::from_secs(1));
        assert!(c.now_millis() >= deadline);
    }

    #[tokio::test]
    async fn scaled_wait_sleeps_a_fraction() {
        let c = ScaledClock::new(0.01);
        let t = std::time::Instant::now();
        let deadline = c.now_millis() + 5_000;
        c.sleep_until(deadline).await;
        let e = t.elapsed();
        assert!(
            e >= Duration::from_millis(45) && e < Duration::from_secs(2),
            "{e:?}"
        );
        assert!(c.now_millis() >= deadline);
    }
}
