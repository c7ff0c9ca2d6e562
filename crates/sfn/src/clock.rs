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

/// AWS's limit on an Express execution's duration: five minutes of the
/// execution's own time.
pub const EXPRESS_LIMIT_MILLIS: i64 = 300_000;

/// The `States.Timeout` cause of an Express execution that ran past
/// [`EXPRESS_LIMIT_MILLIS`].
pub const EXPRESS_TIMEOUT_CAUSE: &str =
    "The execution ran longer than the Express limit of 5 minutes";

impl ScaledClock {
    /// The wall time in which `ms` of this clock's time pass, or `None` at
    /// scale 0 (or a non-positive or non-finite one), where waits take no
    /// wall time at all and a time limit can only be checked once the
    /// execution ends (see [`ScaledClock::exceeded`]).
    pub fn wall_time_for(&self, ms: i64) -> Option<Duration> {
        if !self.time_scale.is_finite() || self.time_scale <= 0.0 {
            return None;
        }
        Some(self.scaled(ms))
    }

    /// Returns once `limit_ms` of this clock's time have passed since
    /// `start_millis`; never at scale 0. Time passes at the wall's rate
    /// outside waits and jumps at the end of each scaled wait, so this sleeps
    /// the scaled remainder and looks again until the limit is reached.
    /// Raced against an execution with `tokio::select!`, a time limit (AWS's
    /// 5 minutes for Express executions) thereby means the same at every
    /// `--time-scale` as at scale 1; [`ScaledClock::exceeded`] covers an
    /// execution that finished on a wait's jump past the limit.
    pub async fn limit(&self, start_millis: i64, limit_ms: i64) {
        let deadline = start_millis.saturating_add(limit_ms);
        loop {
            let remaining = deadline - self.now_millis();
            if remaining <= 0 {
                return;
            }
            // Outside waits this clock's time passes at the wall's rate, so
            // the remainder is never more wall time than its own length;
            // waits shorten it by the scale (below 1) or lengthen it (above).
            let own = Duration::from_millis(u64::try_from(remaining).unwrap_or(u64::MAX));
            match self.wall_time_for(remaining) {
                Some(d) => tokio::time::sleep(d.min(own).max(Duration::from_millis(1))).await,
                None => std::future::pending().await,
            }
        }
    }

    /// Whether more than `limit_ms` of this clock's time passed since
    /// `start_millis`: how an execution that finished at scale 0, whose
    /// waits were skipped, is still held to a time limit.
    pub fn exceeded(&self, start_millis: i64, limit_ms: i64) -> bool {
        self.now_millis() - start_millis > limit_ms
    }

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

    #[test]
    fn wall_time_for_a_limit() {
        assert_eq!(ScaledClock::new(0.0).wall_time_for(300_000), None);
        assert_eq!(ScaledClock::new(f64::INFINITY).wall_time_for(1), None);
        assert_eq!(
            ScaledClock::new(0.001).wall_time_for(300_000),
            Some(Duration::from_millis(300))
        );
    }

    #[tokio::test]
    async fn a_limit_elapses_in_scaled_wall_time_and_never_at_scale_zero() {
        // Outside waits, the clock's time passes at the wall's rate.
        let real = ScaledClock::new(1.0);
        let t = std::time::Instant::now();
        real.limit(real.now_millis(), 50).await;
        assert!(t.elapsed() >= Duration::from_millis(50));

        // A 400 s wait at a thousandth of real time jumps the clock past a
        // 300 s limit after about 0.4 s of wall time.
        let c = ScaledClock::new(0.001);
        let start = c.now_millis();
        let t = std::time::Instant::now();
        tokio::join!(
            c.sleep_until(start + 400_000),
            c.limit(start, EXPRESS_LIMIT_MILLIS)
        );
        let e = t.elapsed();
        assert!(
            e >= Duration::from_millis(390) && e < Duration::from_secs(5),
            "{e:?}"
        );
        assert!(c.exceeded(start, EXPRESS_LIMIT_MILLIS));
        let zero = ScaledClock::new(0.0);
        let start = zero.now_millis();
        let raced = tokio::time::timeout(
            Duration::from_millis(50),
            zero.limit(start, EXPRESS_LIMIT_MILLIS),
        )
        .await;
        assert!(raced.is_err(), "a limit must not elapse at scale 0");
        zero.sleep_until(start + EXPRESS_LIMIT_MILLIS + 1).await;
        assert!(zero.exceeded(start, EXPRESS_LIMIT_MILLIS));
        assert!(!ScaledClock::new(1.0).exceeded(start, EXPRESS_LIMIT_MILLIS));
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
