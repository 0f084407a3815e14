//! The metrics part of the OTLP schema walk: `Metric`, its five data types,
//! their points, exemplars and buckets.

use super::cursor::{At, Cur, R};
use super::schema::key_value;

/// `Metric`: name/description/unit = 1..3, data oneof = 5, 7, 9, 10, 11,
/// metadata = 12. Returns its data points as prost would hold them: a repeated
/// oneof case merges into the held value, a different case replaces it.
pub(super) fn metric(c: &mut Cur<'_>, end: usize) -> R<usize> {
    const M: &str = "Metric";
    let (mut case, mut points) = (0, 0);
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        let kind = match f {
            1..=3 => {
                c.string(wt, end, at)?;
                continue;
            }
            5 => Data::Gauge,
            7 => Data::Sum,
            9 => Data::Histogram,
            10 => Data::ExponentialHistogram,
            11 => Data::Summary,
            12 => {
                c.message(wt, end, at, key_value)?;
                continue;
            }
            _ => {
                c.skip(wt, end, at)?;
                continue;
            }
        };
        let n = c.message(wt, end, at, |c, end| data(c, end, kind))?;
        points = if case == f { points + n } else { n };
        case = f;
    }
    Ok(points)
}

/// The cases of `Metric.data`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Data {
    Gauge,
    Sum,
    Histogram,
    ExponentialHistogram,
    Summary,
}

impl Data {
    fn name(self) -> &'static str {
        match self {
            Data::Gauge => "Gauge",
            Data::Sum => "Sum",
            Data::Histogram => "Histogram",
            Data::ExponentialHistogram => "ExponentialHistogram",
            Data::Summary => "Summary",
        }
    }
}

/// `Gauge`, `Sum`, `Histogram`, `ExponentialHistogram`, `Summary`: data_points = 1,
/// aggregation_temporality = 2 (not in Gauge and Summary), is_monotonic = 3 (Sum
/// only); a field a type lacks is unknown to it, so skipped.
fn data(c: &mut Cur<'_>, end: usize, kind: Data) -> R<usize> {
    let m = kind.name();
    let mut n = 0;
    while c.pos < end {
        let (f, wt) = c.key(end, m)?;
        let at = At(m, f);
        match f {
            1 => {
                match kind {
                    Data::Gauge | Data::Sum => c.message(wt, end, at, number_point)?,
                    Data::Histogram => c.message(wt, end, at, histogram_point)?,
                    Data::ExponentialHistogram => c.message(wt, end, at, exp_point)?,
                    Data::Summary => c.message(wt, end, at, summary_point)?,
                }
                n += 1;
            }
            2 if !matches!(kind, Data::Gauge | Data::Summary) => c.varint(wt, end, at)?,
            3 if kind == Data::Sum => c.varint(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(n)
}

fn number_point(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "NumberDataPoint";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            7 => c.message(wt, end, at, key_value)?,
            2 | 3 | 4 | 6 => c.fixed64(wt, end, at)?,
            5 => c.message(wt, end, at, exemplar)?,
            8 => c.varint(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

fn histogram_point(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "HistogramDataPoint";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            9 => c.message(wt, end, at, key_value)?,
            2..=5 | 11 | 12 => c.fixed64(wt, end, at)?,
            6 | 7 => c.repeated_fixed64(wt, end, at)?,
            8 => c.message(wt, end, at, exemplar)?,
            10 => c.varint(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

fn exp_point(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "ExponentialHistogramDataPoint";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1 => c.message(wt, end, at, key_value)?,
            2..=5 | 7 | 12..=14 => c.fixed64(wt, end, at)?,
            6 | 10 => c.varint(wt, end, at)?,
            8 | 9 => c.message(wt, end, at, buckets)?,
            11 => c.message(wt, end, at, exemplar)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

fn buckets(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "Buckets";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1 => c.varint(wt, end, at)?,
            2 => c.repeated_varint(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

fn summary_point(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "SummaryDataPoint";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            7 => c.message(wt, end, at, key_value)?,
            2..=5 => c.fixed64(wt, end, at)?,
            6 => c.message(wt, end, at, quantile)?,
            8 => c.varint(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

fn quantile(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "ValueAtQuantile";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            1 | 2 => c.fixed64(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}

fn exemplar(c: &mut Cur<'_>, end: usize) -> R<()> {
    const M: &str = "Exemplar";
    while c.pos < end {
        let (f, wt) = c.key(end, M)?;
        let at = At(M, f);
        match f {
            7 => c.message(wt, end, at, key_value)?,
            2 | 3 | 6 => c.fixed64(wt, end, at)?,
            4 | 5 => c.bytes(wt, end, at)?,
            _ => c.skip(wt, end, at)?,
        }
    }
    Ok(())
}
