//! OTLP/JSON decoding of `ExportMetricsServiceRequest`.

use serde_json::Value;
use weir_core::otlp::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    Summary, SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric,
    number_data_point, summary_data_point::ValueAtQuantile,
};

use super::decode::{
    Items, Obj, Path, R, boolean, enumeration, f64_, hex_id, i32_, i64_, list, message, messages,
    pruned, string, u32_, u64_,
};
use super::decode_common::{attributes, optional, resource, scope};

/// A `ResourceMetrics`; `None` when all its data points were refused.
pub(super) fn resource_metrics(
    v: Value,
    p: &Path<'_>,
    items: &mut Items,
) -> R<Option<ResourceMetrics>> {
    message(v, p, |o, p| {
        let mut rm = ResourceMetrics::default();
        for (k, v) in o {
            let p = p.key(&k);
            match k.as_str() {
                "resource" => rm.resource = optional(v, &p, resource)?,
                "scopeMetrics" | "scope_metrics" => {
                    match pruned(v, &p, |v, p| {
                        message(v, p, |o, p| scope_metrics(o, p, items))
                    })? {
                        Some(s) => rm.scope_metrics = s,
                        None => return Ok(None),
                    }
                }
                "schemaUrl" | "schema_url" => rm.schema_url = string(v, &p)?,
                _ => {}
            }
        }
        Ok(Some(rm))
    })
}

fn scope_metrics(o: Obj, p: &Path<'_>, items: &mut Items) -> R<Option<ScopeMetrics>> {
    let mut sm = ScopeMetrics::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "scope" => sm.scope = optional(v, &p, scope)?,
            "metrics" => match pruned(v, &p, |v, p| message(v, p, |o, p| metric(o, p, items)))? {
                Some(m) => sm.metrics = m,
                None => return Ok(None),
            },
            "schemaUrl" | "schema_url" => sm.schema_url = string(v, &p)?,
            _ => {}
        }
    }
    Ok(Some(sm))
}

/// A `Metric`; `None` when all its data points were refused.
fn metric(o: Obj, p: &Path<'_>, items: &mut Items) -> R<Option<Metric>> {
    use metric::Data;
    let mut m = Metric::default();
    // Whether the data case read last lost all its points.
    let mut emptied = false;
    for (k, v) in o {
        let p = p.key(&k);
        let data = match k.as_str() {
            "name" => {
                m.name = string(v, &p)?;
                continue;
            }
            "description" => {
                m.description = string(v, &p)?;
                continue;
            }
            "unit" => {
                m.unit = string(v, &p)?;
                continue;
            }
            "metadata" => {
                m.metadata = attributes(v, &p)?;
                continue;
            }
            _ if v.is_null() => continue,
            "gauge" => message(v, &p, |o, p| gauge(o, p, items))?.map(Data::Gauge),
            "sum" => message(v, &p, |o, p| sum(o, p, items))?.map(Data::Sum),
            "histogram" => message(v, &p, |o, p| histogram(o, p, items))?.map(Data::Histogram),
            "exponentialHistogram" | "exponential_histogram" => {
                message(v, &p, |o, p| exp_histogram(o, p, items))?.map(Data::ExponentialHistogram)
            }
            "summary" => message(v, &p, |o, p| summary(o, p, items))?.map(Data::Summary),
            _ => continue,
        };
        emptied = data.is_none();
        m.data = data;
    }
    Ok((!emptied).then_some(m))
}

fn temporality(v: &Value, p: &Path<'_>) -> R<i32> {
    enumeration(v, p, |n| {
        AggregationTemporality::from_str_name(n).map(|e| e as i32)
    })
}

/// Data points have no item-level validity check beyond decoding.
fn no_problem<T>(_: &T) -> Option<&'static str> {
    None
}

fn gauge(o: Obj, p: &Path<'_>, items: &mut Items) -> R<Option<Gauge>> {
    let mut g = Gauge::default();
    for (k, v) in o {
        if let "dataPoints" | "data_points" = k.as_str() {
            match items.list(v, &p.key(&k), number_point, no_problem)? {
                Some(points) => g.data_points = points,
                None => return Ok(None),
            }
        }
    }
    Ok(Some(g))
}

fn sum(o: Obj, p: &Path<'_>, items: &mut Items) -> R<Option<Sum>> {
    let mut s = Sum::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "dataPoints" | "data_points" => match items.list(v, &p, number_point, no_problem)? {
                Some(points) => s.data_points = points,
                None => return Ok(None),
            },
            "aggregationTemporality" | "aggregation_temporality" => {
                s.aggregation_temporality = temporality(&v, &p)?
            }
            "isMonotonic" | "is_monotonic" => s.is_monotonic = boolean(v, &p)?,
            _ => {}
        }
    }
    Ok(Some(s))
}

fn histogram(o: Obj, p: &Path<'_>, items: &mut Items) -> R<Option<Histogram>> {
    let mut h = Histogram::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "dataPoints" | "data_points" => {
                match items.list(v, &p, histogram_point, no_problem)? {
                    Some(points) => h.data_points = points,
                    None => return Ok(None),
                }
            }
            "aggregationTemporality" | "aggregation_temporality" => {
                h.aggregation_temporality = temporality(&v, &p)?
            }
            _ => {}
        }
    }
    Ok(Some(h))
}

fn exp_histogram(o: Obj, p: &Path<'_>, items: &mut Items) -> R<Option<ExponentialHistogram>> {
    let mut h = ExponentialHistogram::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "dataPoints" | "data_points" => match items.list(v, &p, exp_point, no_problem)? {
                Some(points) => h.data_points = points,
                None => return Ok(None),
            },
            "aggregationTemporality" | "aggregation_temporality" => {
                h.aggregation_temporality = temporality(&v, &p)?
            }
            _ => {}
        }
    }
    Ok(Some(h))
}

fn summary(o: Obj, p: &Path<'_>, items: &mut Items) -> R<Option<Summary>> {
    let mut s = Summary::default();
    for (k, v) in o {
        if let "dataPoints" | "data_points" = k.as_str() {
            match items.list(v, &p.key(&k), summary_point, no_problem)? {
                Some(points) => s.data_points = points,
                None => return Ok(None),
            }
        }
    }
    Ok(Some(s))
}

/// Fields every data point has: attributes, start and time stamps, flags.
/// Returns false for any other key so the caller reads it.
macro_rules! common_point_field {
    ($pt:ident, $k:expr, $v:ident, $p:ident) => {
        match $k {
            "attributes" => {
                $pt.attributes = attributes($v, &$p)?;
                continue;
            }
            "startTimeUnixNano" | "start_time_unix_nano" => {
                $pt.start_time_unix_nano = u64_(&$v, &$p)?;
                continue;
            }
            "timeUnixNano" | "time_unix_nano" => {
                $pt.time_unix_nano = u64_(&$v, &$p)?;
                continue;
            }
            "flags" => {
                $pt.flags = u32_(&$v, &$p)?;
                continue;
            }
            _ => {}
        }
    };
}

fn number_point(o: Obj, p: &Path<'_>) -> R<NumberDataPoint> {
    use number_data_point::Value as V;
    let mut pt = NumberDataPoint::default();
    for (k, v) in o {
        let p = p.key(&k);
        common_point_field!(pt, k.as_str(), v, p);
        match k.as_str() {
            "exemplars" => pt.exemplars = messages(v, &p, exemplar)?,
            "asDouble" | "as_double" if !v.is_null() => pt.value = Some(V::AsDouble(f64_(&v, &p)?)),
            "asInt" | "as_int" if !v.is_null() => pt.value = Some(V::AsInt(i64_(&v, &p)?)),
            _ => {}
        }
    }
    Ok(pt)
}

/// An optional double (`sum`, `min`, `max`): present means `Some`, even at 0.
fn opt_f64(v: &Value, p: &Path<'_>) -> R<Option<f64>> {
    if v.is_null() {
        Ok(None)
    } else {
        f64_(v, p).map(Some)
    }
}

fn histogram_point(o: Obj, p: &Path<'_>) -> R<HistogramDataPoint> {
    let mut pt = HistogramDataPoint::default();
    for (k, v) in o {
        let p = p.key(&k);
        common_point_field!(pt, k.as_str(), v, p);
        match k.as_str() {
            "count" => pt.count = u64_(&v, &p)?,
            "sum" => pt.sum = opt_f64(&v, &p)?,
            "bucketCounts" | "bucket_counts" => pt.bucket_counts = list(v, &p, |v, p| u64_(&v, p))?,
            "explicitBounds" | "explicit_bounds" => {
                pt.explicit_bounds = list(v, &p, |v, p| f64_(&v, p))?
            }
            "exemplars" => pt.exemplars = messages(v, &p, exemplar)?,
            "min" => pt.min = opt_f64(&v, &p)?,
            "max" => pt.max = opt_f64(&v, &p)?,
            _ => {}
        }
    }
    Ok(pt)
}

fn exp_point(o: Obj, p: &Path<'_>) -> R<ExponentialHistogramDataPoint> {
    let mut pt = ExponentialHistogramDataPoint::default();
    for (k, v) in o {
        let p = p.key(&k);
        common_point_field!(pt, k.as_str(), v, p);
        match k.as_str() {
            "count" => pt.count = u64_(&v, &p)?,
            "sum" => pt.sum = opt_f64(&v, &p)?,
            "scale" => pt.scale = i32_(&v, &p)?,
            "zeroCount" | "zero_count" => pt.zero_count = u64_(&v, &p)?,
            "positive" => pt.positive = optional(v, &p, buckets)?,
            "negative" => pt.negative = optional(v, &p, buckets)?,
            "exemplars" => pt.exemplars = messages(v, &p, exemplar)?,
            "min" => pt.min = opt_f64(&v, &p)?,
            "max" => pt.max = opt_f64(&v, &p)?,
            "zeroThreshold" | "zero_threshold" => pt.zero_threshold = f64_(&v, &p)?,
            _ => {}
        }
    }
    Ok(pt)
}

fn buckets(o: Obj, p: &Path<'_>) -> R<Buckets> {
    let mut b = Buckets::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "offset" => b.offset = i32_(&v, &p)?,
            "bucketCounts" | "bucket_counts" => b.bucket_counts = list(v, &p, |v, p| u64_(&v, p))?,
            _ => {}
        }
    }
    Ok(b)
}

fn summary_point(o: Obj, p: &Path<'_>) -> R<SummaryDataPoint> {
    let mut pt = SummaryDataPoint::default();
    for (k, v) in o {
        let p = p.key(&k);
        common_point_field!(pt, k.as_str(), v, p);
        match k.as_str() {
            "count" => pt.count = u64_(&v, &p)?,
            "sum" => pt.sum = f64_(&v, &p)?,
            "quantileValues" | "quantile_values" => pt.quantile_values = messages(v, &p, quantile)?,
            _ => {}
        }
    }
    Ok(pt)
}

fn quantile(o: Obj, p: &Path<'_>) -> R<ValueAtQuantile> {
    let mut q = ValueAtQuantile::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "quantile" => q.quantile = f64_(&v, &p)?,
            "value" => q.value = f64_(&v, &p)?,
            _ => {}
        }
    }
    Ok(q)
}

fn exemplar(o: Obj, p: &Path<'_>) -> R<Exemplar> {
    use exemplar::Value as V;
    let mut e = Exemplar::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "filteredAttributes" | "filtered_attributes" => {
                e.filtered_attributes = attributes(v, &p)?
            }
            "timeUnixNano" | "time_unix_nano" => e.time_unix_nano = u64_(&v, &p)?,
            "spanId" | "span_id" => e.span_id = hex_id(&v, &p, 8)?,
            "traceId" | "trace_id" => e.trace_id = hex_id(&v, &p, 16)?,
            "asDouble" | "as_double" if !v.is_null() => e.value = Some(V::AsDouble(f64_(&v, &p)?)),
            "asInt" | "as_int" if !v.is_null() => e.value = Some(V::AsInt(i64_(&v, &p)?)),
            _ => {}
        }
    }
    Ok(e)
}
