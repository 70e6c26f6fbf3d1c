//! Reading when to come back from a provider's rate-limit headers.

use http::HeaderMap;
use std::time::{Duration, SystemTime};

/// The delay a provider asks for, from the most precise header present:
/// `retry-after-ms`, `retry-after` (seconds or HTTP-date), OpenAI's `x-ratelimit-reset-*`
/// durations (`"6m0s"`, `"20ms"`), Anthropic's `anthropic-ratelimit-*-reset` RFC 3339 times.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    if let Some(v) = get("retry-after") {
        if let Ok(secs) = v.parse::<f64>() {
            if secs.is_finite() && secs >= 0.0 {
                return Some(Duration::from_secs_f64(secs));
            }
        }
        if let Ok(at) = httpdate::parse_http_date(v) {
            return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
        }
    }
    // The longest of the per-resource resets: the request cannot pass before all have reset.
    let openai = ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]
        .iter()
        .filter_map(|h| get(h))
        .filter_map(parse_go_duration)
        .max();
    if openai.is_some() {
        return openai;
    }
    [
        "anthropic-ratelimit-requests-reset",
        "anthropic-ratelimit-tokens-reset",
        "anthropic-ratelimit-input-tokens-reset",
        "anthropic-ratelimit-output-tokens-reset",
    ]
    .iter()
    .filter_map(|h| get(h))
    .filter_map(|v| humantime::parse_rfc3339_weak(v).ok())
    .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO))
    .max()
}

/// Parses OpenAI's Go-style durations: `"1s"`, `"6m0s"`, `"20ms"`, `"1h2m3.5s"`.
fn parse_go_duration(s: &str) -> Option<Duration> {
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let value: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += value * factor;
        rest = &rest[unit_end..];
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("valid header"));
        }
        h
    }

    #[test]
    fn prefers_milliseconds_then_seconds() {
        let now = SystemTime::now();
        assert_eq!(
            retry_after(
                &headers(&[("retry-after-ms", "1500"), ("retry-after", "9")]),
                now
            ),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2")]), now),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn reads_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &later)]), now),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn reads_openai_reset_durations() {
        let now = SystemTime::now();
        let h = headers(&[
            ("x-ratelimit-reset-requests", "6m0s"),
            ("x-ratelimit-reset-tokens", "20ms"),
        ]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(360)));
        assert_eq!(
            parse_go_duration("1h2m3.5s"),
            Some(Duration::from_secs_f64(3723.5))
        );
        assert_eq!(parse_go_duration("abc"), None);
    }

    #[test]
    fn reads_anthropic_reset_times() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let at = humantime::format_rfc3339_seconds(now + Duration::from_secs(12)).to_string();
        assert_eq!(
            retry_after(
                &headers(&[("anthropic-ratelimit-requests-reset", &at)]),
                now
            ),
            Some(Duration::from_secs(12))
        );
    }

    #[test]
    fn nothing_when_absent_or_garbage() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "soon")]), SystemTime::now()),
            None
        );
        assert_eq!(retry_after(&HeaderMap::new(), SystemTime::now()), None);
    }
}
