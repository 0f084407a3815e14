//! Retryability per the OTLP specification, Retry-After and gRPC RetryInfo.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

/// Whether an HTTP status is retryable under OTLP/HTTP (429, 502, 503, 504).
pub fn http_retryable(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Whether a gRPC code is retryable under OTLP/gRPC (CANCELLED, DEADLINE_EXCEEDED,
/// ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS; RESOURCE_EXHAUSTED only when the
/// status carries RetryInfo).
pub fn grpc_retryable(status: &tonic::Status) -> bool {
    match status.code() {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => true,
        // The spec: the server signals that recovery is possible by sending RetryInfo.
        Code::ResourceExhausted => status.get_details_retry_info().is_some(),
        _ => false,
    }
}

/// Parses a Retry-After value: delay-seconds or an HTTP date (IMF-fixdate, and
/// the obsolete RFC 850 and asctime forms RFC 9110 asks recipients to accept).
/// A date in the past gives zero.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // An absurdly long number still means "much later"; saturate, don't fail.
        return Some(Duration::from_secs(v.parse().unwrap_or(u64::MAX)));
    }
    let at = parse_http_date(v)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since the Unix epoch of an HTTP date, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`,
/// `Sunday, 06-Nov-94 08:49:37 GMT` or `Sun Nov  6 08:49:37 1994`.
fn parse_http_date(s: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let (mut day, mut year, mut month, mut hms) = (None, None, None, None);
    // The three forms differ only in separators and order of the same tokens; the
    // day always comes before the year.
    for tok in s.split([' ', ',', '-']).filter(|t| !t.is_empty()) {
        if tok.contains(':') {
            let mut it = tok
                .split(':')
                .map(|p| p.parse::<u64>().ok().filter(|_| p.len() == 2));
            let (h, m, sec) = (it.next()??, it.next()??, it.next()??);
            if it.next().is_some() || h > 23 || m > 59 || sec > 60 {
                return None;
            }
            hms = Some(h * 3600 + m * 60 + sec);
        } else if tok.bytes().all(|b| b.is_ascii_digit()) {
            let n: u64 = tok.parse().ok()?;
            if day.is_none() {
                day = Some(n);
            } else if year.is_none() {
                year = Some(match (tok.len(), n) {
                    (2, n) if n >= 70 => 1900 + n,
                    (2, n) => 2000 + n,
                    (4, n) => n,
                    _ => return None,
                });
            } else {
                return None;
            }
        } else if let Some(i) = MONTHS.iter().position(|m| tok.eq_ignore_ascii_case(m)) {
            month = Some(i as u64 + 1);
        } else if !(tok.eq_ignore_ascii_case("GMT")
            || tok.len() >= 3 && tok.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            // Anything but a weekday name or GMT is not a date.
            return None;
        }
    }
    let (day, year, month, hms) = (day?, year?, month?, hms?);
    if !(1..=31).contains(&day) || year < 1970 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm),
/// for years ≥ 1970.
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The RetryInfo delay a gRPC status carries in its details, if any.
pub fn retry_info(status: &tonic::Status) -> Option<Duration> {
    status.get_details_retry_info()?.retry_delay
}

/// A status with `code` and `message` that carries RetryInfo with `delay`.
pub fn status_with_retry_info(code: Code, message: &str, delay: Duration) -> tonic::Status {
    tonic::Status::with_error_details(code, message, ErrorDetails::with_retry_info(Some(delay)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses() {
        for s in [429, 502, 503, 504] {
            assert!(http_retryable(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 405, 413, 415, 500, 501] {
            assert!(!http_retryable(s), "{s}");
        }
    }

    #[test]
    fn grpc_codes() {
        use Code::*;
        for c in [
            Cancelled,
            DeadlineExceeded,
            Aborted,
            OutOfRange,
            Unavailable,
            DataLoss,
        ] {
            assert!(grpc_retryable(&tonic::Status::new(c, "x")), "{c:?}");
        }
        for c in [
            Ok,
            Unknown,
            InvalidArgument,
            NotFound,
            AlreadyExists,
            PermissionDenied,
            FailedPrecondition,
            Unimplemented,
            Internal,
            Unauthenticated,
            ResourceExhausted,
        ] {
            assert!(!grpc_retryable(&tonic::Status::new(c, "x")), "{c:?}");
        }
        let s = status_with_retry_info(ResourceExhausted, "slow down", Duration::from_millis(1500));
        assert!(grpc_retryable(&s));
        assert_eq!(s.message(), "slow down");
        assert_eq!(retry_info(&s), Some(Duration::from_millis(1500)));
        assert_eq!(retry_info(&tonic::Status::unavailable("x")), None);
    }

    #[test]
    fn retry_info_survives_the_wire_form() {
        // What a client sees: the status rebuilt from code, message and details bytes.
        let s = status_with_retry_info(Code::Unavailable, "full", Duration::from_secs(2));
        let back = tonic::Status::with_details(s.code(), s.message(), s.details().to_vec().into());
        assert_eq!(retry_info(&back), Some(Duration::from_secs(2)));
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        for bad in ["", "-1", "1.5", "soon", "12s"] {
            assert_eq!(parse_retry_after(bad), None, "{bad}");
        }
    }

    #[test]
    fn http_dates() {
        let t = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(t));
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"),
            Some(1_835_481_599)
        );
        for bad in [
            "Sun, 06 Nov 1994 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "06 Nov 1994 8:49:37",
            "1994",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
        // Past dates mean "now".
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn future_http_date_is_a_delay_from_now() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 90;
        let (days, secs) = (now / 86_400, now % 86_400);
        // Format the date with the inverse of days_from_civil, found by search (test only).
        let mut y = 1970;
        while days_from_civil(y + 1, 1, 1) <= days {
            y += 1;
        }
        let mut m = 1;
        while m < 12 && days_from_civil(y, m + 1, 1) <= days {
            m += 1;
        }
        let d = days - days_from_civil(y, m, 1) + 1;
        const M: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let s = format!(
            "Mon, {d:02} {} {y} {:02}:{:02}:{:02} GMT",
            M[m as usize - 1],
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        let delay = parse_retry_after(&s).unwrap();
        assert!((85..=90).contains(&delay.as_secs()), "{s}: {delay:?}");
    }
}
