//! Wall-clock times in the formats API Gateway prints: `requestTime`
//! (`16/May/2022:17:30:27 +0000`, the CLF format) and ISO 8601 for
//! `@connections` `GetConnection`. Hand-written civil-date arithmetic (one
//! function) instead of a date crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Nanoseconds since the Unix epoch (for seeding ids).
pub fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u64,
    minute: u64,
    second: u64,
    millis: u64,
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil(epoch_ms: u64) -> Civil {
    let secs = epoch_ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: rem / 3600,
        minute: rem % 3600 / 60,
        second: rem % 60,
        millis: epoch_ms % 1000,
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `16/May/2022:17:30:27 +0000`.
pub fn request_time(epoch_ms: u64) -> String {
    let c = civil(epoch_ms);
    let month = MONTHS[(c.month as usize).saturating_sub(1).min(11)];
    format!(
        "{:02}/{month}/{}:{:02}:{:02}:{:02} +0000",
        c.day, c.year, c.hour, c.minute, c.second
    )
}

/// `2022-05-16T17:30:27.357Z`.
pub fn iso8601(epoch_ms: u64) -> String {
    let c = civil(epoch_ms);
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.millis
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_aws_examples() {
        // The seed's example: requestTimeEpoch 1652722227357.
        assert_eq!(
            request_time(1_652_722_227_357),
            "16/May/2022:17:30:27 +0000"
        );
        assert_eq!(iso8601(1_652_722_227_357), "2022-05-16T17:30:27.357Z");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(request_time(951_782_400_000), "29/Feb/2000:00:00:00 +0000");
    }
}
