//! Cutting a unit that is over a limit on its own.
//!
//! Log records and spans cannot be cut: one larger than `max_bytes` leaves
//! alone, over the limit (dropping it would lose data; the exporter decides).
//! A metric counts one item per data point, so a metric over `max_items`, or
//! over `max_bytes` alone, is cut into copies of itself (same name,
//! description, unit, metadata, temporality) that share out its points in
//! order. Points never move to another metric.

use prost::Message;
use weir_core::otlp::metrics::v1::{
    ExponentialHistogram, Gauge, Histogram, Metric, Sum, Summary, metric::Data,
};

use super::merge::Shape;

/// Cuts `unit` into pieces of at most `max_items` items each that satisfy
/// `fits(encoded_len)` where cutting can make them. Pieces come in order,
/// each with its encoded length.
pub(crate) fn cut<K: Shape>(
    mut unit: K::Unit,
    max_items: usize,
    fits: &dyn Fn(usize) -> bool,
    out: &mut Vec<(K::Unit, usize)>,
) {
    while K::items(&unit) > max_items {
        let Some(tail) = K::split_off(&mut unit, max_items) else {
            break;
        };
        halve::<K>(unit, fits, out);
        unit = tail;
    }
    halve::<K>(unit, fits, out);
}

/// Splits in halves until each piece fits or holds one item.
fn halve<K: Shape>(
    mut unit: K::Unit,
    fits: &dyn Fn(usize) -> bool,
    out: &mut Vec<(K::Unit, usize)>,
) {
    let len = unit.encoded_len();
    let items = K::items(&unit);
    if items > 1
        && !fits(len)
        && let Some(tail) = K::split_off(&mut unit, items / 2)
    {
        halve::<K>(unit, fits, out);
        halve::<K>(tail, fits, out);
    } else {
        out.push((unit, len));
    }
}

/// Cuts `metric` after its first `at` data points: `metric` keeps those, the
/// returned copy holds the rest. `None` when there is nothing to cut.
pub(crate) fn split_metric(metric: &mut Metric, at: usize) -> Option<Metric> {
    let data = metric.data.as_mut()?;
    let tail = match data {
        Data::Gauge(g) => Data::Gauge(Gauge {
            data_points: split_points(&mut g.data_points, at)?,
        }),
        Data::Sum(s) => Data::Sum(Sum {
            data_points: split_points(&mut s.data_points, at)?,
            aggregation_temporality: s.aggregation_temporality,
            is_monotonic: s.is_monotonic,
        }),
        Data::Histogram(h) => Data::Histogram(Histogram {
            data_points: split_points(&mut h.data_points, at)?,
            aggregation_temporality: h.aggregation_temporality,
        }),
        Data::ExponentialHistogram(h) => Data::ExponentialHistogram(ExponentialHistogram {
            data_points: split_points(&mut h.data_points, at)?,
            aggregation_temporality: h.aggregation_temporality,
        }),
        Data::Summary(s) => Data::Summary(Summary {
            data_points: split_points(&mut s.data_points, at)?,
        }),
    };
    Some(Metric {
        name: metric.name.clone(),
        description: metric.description.clone(),
        unit: metric.unit.clone(),
        metadata: metric.metadata.clone(),
        data: Some(tail),
    })
}

fn split_points<T>(points: &mut Vec<T>, at: usize) -> Option<Vec<T>> {
    (at > 0 && at < points.len()).then(|| points.split_off(at))
}

#[cfg(test)]
mod tests {
    use weir_core::otlp::metrics::v1::NumberDataPoint;
    use weir_core::otlp::metrics::v1::number_data_point::Value;

    use super::super::merge::Metrics;
    use super::*;

    fn sum(points: u64) -> Metric {
        Metric {
            name: "requests".into(),
            unit: "1".into(),
            data: Some(Data::Sum(Sum {
                data_points: (0..points)
                    .map(|i| NumberDataPoint {
                        time_unix_nano: i,
                        value: Some(Value::AsInt(i as i64)),
                        ..Default::default()
                    })
                    .collect(),
                aggregation_temporality: 2,
                is_monotonic: true,
            })),
            ..Default::default()
        }
    }

    fn times(m: &Metric) -> Vec<u64> {
        match &m.data {
            Some(Data::Sum(s)) => s.data_points.iter().map(|p| p.time_unix_nano).collect(),
            _ => panic!("not a sum"),
        }
    }

    #[test]
    fn metrics_are_cut_by_points_in_order_keeping_their_identity() {
        let mut out = Vec::new();
        cut::<Metrics>(sum(10), 4, &|_| true, &mut out);
        let pieces: Vec<Vec<u64>> = out.iter().map(|(m, _)| times(m)).collect();
        assert_eq!(pieces, vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]);
        for (m, len) in &out {
            assert_eq!(m.name, "requests");
            assert_eq!(*len, m.encoded_len());
            let Some(Data::Sum(s)) = &m.data else {
                panic!()
            };
            assert!(s.is_monotonic);
            assert_eq!(s.aggregation_temporality, 2);
        }
    }

    #[test]
    fn metrics_too_large_are_halved_until_they_fit() {
        let mut out = Vec::new();
        let limit = sum(3).encoded_len();
        cut::<Metrics>(sum(16), 100, &|len| len <= limit, &mut out);
        assert!(out.iter().all(|(_, len)| *len <= limit));
        let all: Vec<u64> = out.iter().flat_map(|(m, _)| times(m)).collect();
        assert_eq!(all, (0..16).collect::<Vec<_>>());
        // One point that cannot fit still goes, alone.
        let mut out = Vec::new();
        cut::<Metrics>(sum(2), 100, &|_| false, &mut out);
        assert_eq!(out.len(), 2);
    }
}
