//! Parsing and printing times as pydantic and Python do.

use super::*;

fn ok(s: &str) -> String {
    Timestamp::parse(s).unwrap().to_string()
}

fn err(s: &str) -> (&'static str, &'static str) {
    let e = Timestamp::parse(s).unwrap_err();
    (e.kind, e.error)
}

#[test]
fn accepts_what_pydantic_accepts() {
    assert_eq!(ok("2025-01-15T10:30:45.123Z"), "2025-01-15T10:30:45.123Z");
    assert_eq!(
        ok("2025-01-15T10:30:45.123456+02:00"),
        "2025-01-15T08:30:45.123456Z"
    );
    assert_eq!(ok("2025-01-15 10:30:45,5-0130"), "2025-01-15T12:00:45.500Z");
    assert_eq!(ok("2025-01-15T10:30"), "2025-01-15T10:30:00Z");
    assert_eq!(
        ok("2025-01-15t10:30:45.1234567891z"),
        "2025-01-15T10:30:45.123456Z"
    );
    assert_eq!(ok("2025-01-15"), "2025-01-15T00:00:00Z");
    assert_eq!(ok("1736937045"), "2025-01-15T10:30:45Z");
    assert_eq!(ok("1736937045123"), "2025-01-15T10:30:45.123Z");
    assert_eq!(ok("1736937045.5"), "2025-01-15T10:30:45.500Z");
    assert_eq!(ok("1960-02-29T23:59:59Z"), "1960-02-29T23:59:59Z");
    assert_eq!(ok("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00Z");
}

#[test]
fn errors_as_pydantic_reports_them() {
    assert_eq!(err("foo"), ("datetime_from_date_parsing", TOO_SHORT));
    assert_eq!(
        err("2023-13-01"),
        ("datetime_from_date_parsing", RANGE_MONTH)
    );
    assert_eq!(
        err("2023-02-29T00:00:00"),
        ("datetime_from_date_parsing", RANGE_DAY)
    );
    assert_eq!(err("2023-01-01T25:00:00"), ("datetime_parsing", RANGE_HOUR));
    assert_eq!(
        err("2023-01-01T10:00:00+0000x"),
        ("datetime_parsing", EXTRA)
    );
    assert_eq!(
        err("2023-01-01T10:00:00."),
        ("datetime_parsing", FRACTION_MISSING)
    );
    assert_eq!(
        err("2023-01-01T10:00:00+25:00"),
        ("datetime_parsing", RANGE_TZ)
    );
    assert_eq!(err("2023/01/01"), ("datetime_from_date_parsing", DATE_SEP));
    assert_eq!(
        Timestamp::from_number_int(-20_000_000_000_000)
            .unwrap_err()
            .error,
        TOO_SMALL
    );
    assert_eq!(
        Timestamp::parse("2023-13-01").unwrap_err().to_string(),
        "Input should be a valid datetime or date, month value is outside expected range of 1-12"
    );
}

#[test]
fn civil_round_trip() {
    for days in (-800_000..800_000).step_by(97) {
        let (y, m, d) = civil_from_days(days);
        assert_eq!(days_from_civil(y, m, d), days);
    }
}

#[test]
fn nanos() {
    let t = Timestamp::from_unix_nano(1_736_937_045_123_456_789);
    assert_eq!(t.unix_nano(), 1_736_937_045_123_456_000);
    assert_eq!(Timestamp::from_unix_micros(-1).unix_nano(), 0);
}
