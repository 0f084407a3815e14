//! UTC calendar dates from Unix time, for backup file names and debug output.
//! Small enough to write here rather than pull in a date crate.

use std::io::{self, Write};

/// A point in time split into UTC calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UtcTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
}

impl UtcTime {
    /// The UTC time `nanos` nanoseconds after the Unix epoch.
    pub fn from_unix_nanos(nanos: u64) -> Self {
        let secs = nanos / 1_000_000_000;
        let days = (secs / 86_400) as i64;
        let of_day = (secs % 86_400) as u32;
        let (year, month, day) = weir_otlp::civil::civil_from_days(days);
        UtcTime {
            year,
            month: month as u32,
            day: day as u32,
            hour: of_day / 3600,
            minute: of_day / 60 % 60,
            second: of_day % 60,
            nanos: (nanos % 1_000_000_000) as u32,
        }
    }

    /// The current time.
    pub fn now() -> Self {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Self::from_unix_nanos(u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX))
    }

    /// `yyyymmddThhmmss.mmm`: sorts as text in time order, and is safe in file names.
    pub fn compact_millis(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.nanos / 1_000_000
        )
    }

    /// RFC 3339 with nanoseconds: `2026-11-26T10:15:00.123456789Z`.
    pub fn write_rfc3339(&self, out: &mut impl Write) -> io::Result<()> {
        write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.nanos
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let t = UtcTime::from_unix_nanos(0);
        assert_eq!((t.year, t.month, t.day, t.hour), (1970, 1, 1, 0));
        // 2024-02-29T23:59:59.123456789Z, a leap day.
        let t = UtcTime::from_unix_nanos(1_709_251_199_123_456_789);
        assert_eq!(t.compact_millis(), "20240229T235959.123");
        let mut out = Vec::new();
        t.write_rfc3339(&mut out).unwrap();
        assert_eq!(out, b"2024-02-29T23:59:59.123456789Z");
        // 2026-11-26T10:15:00Z
        let t = UtcTime::from_unix_nanos(1_795_688_100 * 1_000_000_000);
        assert_eq!(t.compact_millis(), "20261126T101500.000");
        let t = UtcTime::from_unix_nanos(u64::MAX);
        assert_eq!(t.compact_millis(), "25540721T233433.709");
    }
}
