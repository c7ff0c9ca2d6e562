//! The page shell (head, navigation, assets) and small formatting helpers
//! shared by the pages. Every value goes through maud, which escapes it.

use maud::{DOCTYPE, Markup, html};

use crate::PREFIX;

/// A console URL: `path` (starting with `/`) under the console's prefix.
pub fn url(path: &str) -> String {
    format!("{PREFIX}{path}")
}

/// Percent-encodes one path segment (ARNs keep their `:`).
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a query value.
pub fn q(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The page around `body`; `active` names the navigation entry to mark.
pub fn page(title: &str, active: &str, body: Markup) -> Markup {
    let nav = [
        ("overview", "/", "Overview"),
        ("connections", "/connections", "Connections"),
        ("data", "/data", "Tables and queues"),
    ];
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · wsflow console" }
                link rel="stylesheet" href=(url("/assets/console.css"));
                script src=(url("/assets/console.js")) defer {}
            }
            body {
                header class="top" {
                    a class="brand" href=(url("/")) { "wsflow console" }
                    nav {
                        @for (key, path, label) in nav {
                            a href=(url(path)) class=[(key == active).then_some("active")] { (label) }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// Epoch milliseconds as `2026-12-05 07:33:22.123Z`.
pub fn time_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Epoch seconds (AWS JSON timestamps) as [`time_ms`] shows them.
pub fn time_s(s: f64) -> String {
    if s.is_finite() {
        time_ms((s * 1000.0).round() as i64)
    } else {
        "?".into()
    }
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// At most `max` characters of `s`, with `…` when cut.
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// JSON text pretty-printed when it parses, as is otherwise.
pub fn pretty(s: &str) -> String {
    serde_json::from_str::<serde_json::Value>(s)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_segments_and_clips() {
        assert_eq!(time_ms(0), "1970-01-01 00:00:00.000Z");
        assert_eq!(time_ms(1_764_920_002_123), "2025-12-05 07:33:22.123Z");
        assert_eq!(time_s(f64::NAN), "?");
        assert_eq!(seg("arn:aws:x/y z"), "arn:aws:x%2Fy%20z");
        assert_eq!(clip("héllo", 2), "hé…");
        assert_eq!(clip("hi", 2), "hi");
        assert_eq!(pretty("{\"a\":1}"), "{\n  \"a\": 1\n}");
        assert_eq!(pretty("x"), "x");
    }
}
