//! OTLP/JSON decoding of `ExportMetricsServiceRequest`.

use serde_json::Value;
use weir_core::otlp::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    Summary, SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric,
    number_data_point, summary_data_point::ValueAtQuantile,
};

use super::decode::{
    Obj, Path, R, boolean, enumeration, f64_, hex_id, i32_, i64_, list, message, messages, string,
    u32_, u64_,
};
use super::decode_common::{attributes, optional, resource, scope};

pub(super) fn resource_metrics(v: Value, p: &Path<'_>) -> R<ResourceMetrics> {
    message(v, p, |o, p| {
        let mut rm = ResourceMetrics::default();
        for (k, v) in o {
            let p = p.key(&k);
            match k.as_str() {
                "resource" => rm.resource = optional(v, &p, resource)?,
                "scopeMetrics" | "scope_metrics" => {
                    rm.scope_metrics = messages(v, &p, scope_metrics)?
                }
                "schemaUrl" | "schema_url" => rm.schema_url = string(v, &p)?,
                _ => {}
            }
        }
        Ok(rm)
    })
}

fn scope_metrics(o: Obj, p: &Path<'_>) -> R<ScopeMetrics> {
    let mut sm = ScopeMetrics::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "scope" => sm.scope = optional(v, &p, scope)?,
            "metrics" => sm.metrics = messages(v, &p, metric)?,
            "schemaUrl" | "schema_url" => sm.schema_url = string(v, &p)?,
            _ => {}
        }
    }
    Ok(sm)
}

fn metric(o: Obj, p: &Path<'_>) -> R<Metric> {
    use metric::Data;
    let mut m = Metric::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "name" => m.name = string(v, &p)?,
            "description" => m.description = string(v, &p)?,
            "unit" => m.unit = string(v, &p)?,
            "metadata" => m.metadata = attributes(v, &p)?,
            _ if v.is_null() => {}
            "gauge" => m.data = Some(Data::Gauge(message(v, &p, gauge)?)),
            "sum" => m.data = Some(Data::Sum(message(v, &p, sum)?)),
            "histogram" => m.data = Some(Data::Histogram(message(v, &p, histogram)?)),
            "exponentialHistogram" | "exponential_histogram" => {
                m.data = Some(Data::ExponentialHistogram(message(v, &p, exp_histogram)?))
            }
            "summary" => m.data = Some(Data::Summary(message(v, &p, summary)?)),
            _ => {}
        }
    }
    Ok(m)
}

fn temporality(v: &Value, p: &Path<'_>) -> R<i32> {
    enumeration(v, p, |n| {
        AggregationTemporality::from_str_name(n).map(|e| e as i32)
    })
}

fn gauge(o: Obj, p: &Path<'_>) -> R<Gauge> {
    let mut g = Gauge::default();
    for (k, v) in o {
        if let "dataPoints" | "data_points" = k.as_str() {
            g.data_points = messages(v, &p.key(&k), number_point)?;
        }
    }
    Ok(g)
}

fn sum(o: Obj, p: &Path<'_>) -> R<Sum> {
    let mut s = Sum::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "dataPoints" | "data_points" => s.data_points = messages(v, &p, number_point)?,
            "aggregationTemporality" | "aggregation_temporality" => {
                s.aggregation_temporality = temporality(&v, &p)?
            }
            "isMonotonic" | "is_monotonic" => s.is_monotonic = boolean(v, &p)?,
            _ => {}
        }
    }
    Ok(s)
}

fn histogram(o: Obj, p: &Path<'_>) -> R<Histogram> {
    let mut h = Histogram::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "dataPoints" | "data_points" => h.data_points = messages(v, &p, histogram_point)?,
            "aggregationTemporality" | "aggregation_temporality" => {
                h.aggregation_temporality = temporality(&v, &p)?
            }
            _ => {}
        }
    }
    Ok(h)
}

fn exp_histogram(o: Obj, p: &Path<'_>) -> R<ExponentialHistogram> {
    let mut h = ExponentialHistogram::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "dataPoints" | "data_points" => h.data_points = messages(v, &p, exp_point)?,
            "aggregationTemporality" | "aggregation_temporality" => {
                h.aggregation_temporality = temporality(&v, &p)?
            }
            _ => {}
        }
    }
    Ok(h)
}

fn summary(o: Obj, p: &Path<'_>) -> R<Summary> {
    let mut s = Summary::default();
    for (k, v) in o {
        if let "dataPoints" | "data_points" = k.as_str() {
            s.data_points = messages(v, &p.key(&k), summary_point)?;
        }
    }
    Ok(s)
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
