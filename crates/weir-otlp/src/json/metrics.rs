//! `ExportMetricsServiceRequest` in OTLP/JSON: all five metric types.

use weir_core::otlp::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point, metric, number_data_point,
    summary_data_point,
};

use super::common::{attributes_field, write_request, write_resource, write_scope};
use super::writer::{ObjectWriter, write_f64, write_i64_string};

/// Writes `{"resourceMetrics":[...]}`.
pub fn encode_metrics(resource_metrics: &[ResourceMetrics], out: &mut Vec<u8>) {
    write_request(
        out,
        "resourceMetrics",
        resource_metrics,
        write_resource_metrics,
    );
}

fn write_resource_metrics(out: &mut Vec<u8>, rm: &ResourceMetrics) {
    let mut o = ObjectWriter::new(out);
    o.message_field("resource", rm.resource.as_ref(), write_resource);
    o.list_field("scopeMetrics", &rm.scope_metrics, write_scope_metrics);
    o.str_field("schemaUrl", &rm.schema_url);
    o.end();
}

fn write_scope_metrics(out: &mut Vec<u8>, sm: &ScopeMetrics) {
    let mut o = ObjectWriter::new(out);
    o.message_field("scope", sm.scope.as_ref(), write_scope);
    o.list_field("metrics", &sm.metrics, write_metric);
    o.str_field("schemaUrl", &sm.schema_url);
    o.end();
}

fn write_metric(out: &mut Vec<u8>, m: &Metric) {
    let mut o = ObjectWriter::new(out);
    o.str_field("name", &m.name);
    o.str_field("description", &m.description);
    o.str_field("unit", &m.unit);
    match &m.data {
        None => {}
        Some(metric::Data::Gauge(g)) => write_gauge(o.key("gauge"), g),
        Some(metric::Data::Sum(s)) => write_sum(o.key("sum"), s),
        Some(metric::Data::Histogram(h)) => write_histogram(o.key("histogram"), h),
        Some(metric::Data::ExponentialHistogram(h)) => {
            write_exponential_histogram(o.key("exponentialHistogram"), h)
        }
        Some(metric::Data::Summary(s)) => write_summary(o.key("summary"), s),
    }
    attributes_field(&mut o, "metadata", &m.metadata);
    o.end();
}

fn write_gauge(out: &mut Vec<u8>, g: &Gauge) {
    let mut o = ObjectWriter::new(out);
    o.list_field("dataPoints", &g.data_points, write_number_point);
    o.end();
}

fn write_sum(out: &mut Vec<u8>, s: &Sum) {
    let mut o = ObjectWriter::new(out);
    o.list_field("dataPoints", &s.data_points, write_number_point);
    o.int_field("aggregationTemporality", s.aggregation_temporality);
    o.bool_field("isMonotonic", s.is_monotonic);
    o.end();
}

fn write_histogram(out: &mut Vec<u8>, h: &Histogram) {
    let mut o = ObjectWriter::new(out);
    o.list_field("dataPoints", &h.data_points, write_histogram_point);
    o.int_field("aggregationTemporality", h.aggregation_temporality);
    o.end();
}

fn write_exponential_histogram(out: &mut Vec<u8>, h: &ExponentialHistogram) {
    let mut o = ObjectWriter::new(out);
    o.list_field("dataPoints", &h.data_points, write_exponential_point);
    o.int_field("aggregationTemporality", h.aggregation_temporality);
    o.end();
}

fn write_summary(out: &mut Vec<u8>, s: &Summary) {
    let mut o = ObjectWriter::new(out);
    o.list_field("dataPoints", &s.data_points, write_summary_point);
    o.end();
}

fn write_number_point(out: &mut Vec<u8>, p: &NumberDataPoint) {
    let mut o = ObjectWriter::new(out);
    attributes_field(&mut o, "attributes", &p.attributes);
    o.u64_field("startTimeUnixNano", p.start_time_unix_nano);
    o.u64_field("timeUnixNano", p.time_unix_nano);
    // A oneof: written whenever set, zero included.
    match p.value {
        None => {}
        Some(number_data_point::Value::AsDouble(d)) => write_f64(o.key("asDouble"), d),
        Some(number_data_point::Value::AsInt(i)) => write_i64_string(o.key("asInt"), i),
    }
    o.list_field("exemplars", &p.exemplars, write_exemplar);
    o.int_field("flags", p.flags);
    o.end();
}

fn write_histogram_point(out: &mut Vec<u8>, p: &HistogramDataPoint) {
    let mut o = ObjectWriter::new(out);
    attributes_field(&mut o, "attributes", &p.attributes);
    o.u64_field("startTimeUnixNano", p.start_time_unix_nano);
    o.u64_field("timeUnixNano", p.time_unix_nano);
    o.u64_field("count", p.count);
    o.opt_f64_field("sum", p.sum);
    o.u64_list_field("bucketCounts", &p.bucket_counts);
    o.f64_list_field("explicitBounds", &p.explicit_bounds);
    o.list_field("exemplars", &p.exemplars, write_exemplar);
    o.int_field("flags", p.flags);
    o.opt_f64_field("min", p.min);
    o.opt_f64_field("max", p.max);
    o.end();
}

fn write_exponential_point(out: &mut Vec<u8>, p: &ExponentialHistogramDataPoint) {
    let mut o = ObjectWriter::new(out);
    attributes_field(&mut o, "attributes", &p.attributes);
    o.u64_field("startTimeUnixNano", p.start_time_unix_nano);
    o.u64_field("timeUnixNano", p.time_unix_nano);
    o.u64_field("count", p.count);
    o.opt_f64_field("sum", p.sum);
    o.int_field("scale", p.scale);
    o.u64_field("zeroCount", p.zero_count);
    o.message_field("positive", p.positive.as_ref(), write_buckets);
    o.message_field("negative", p.negative.as_ref(), write_buckets);
    o.int_field("flags", p.flags);
    o.list_field("exemplars", &p.exemplars, write_exemplar);
    o.opt_f64_field("min", p.min);
    o.opt_f64_field("max", p.max);
    o.f64_field("zeroThreshold", p.zero_threshold);
    o.end();
}

fn write_buckets(out: &mut Vec<u8>, b: &exponential_histogram_data_point::Buckets) {
    let mut o = ObjectWriter::new(out);
    o.int_field("offset", b.offset);
    o.u64_list_field("bucketCounts", &b.bucket_counts);
    o.end();
}

fn write_summary_point(out: &mut Vec<u8>, p: &SummaryDataPoint) {
    let mut o = ObjectWriter::new(out);
    attributes_field(&mut o, "attributes", &p.attributes);
    o.u64_field("startTimeUnixNano", p.start_time_unix_nano);
    o.u64_field("timeUnixNano", p.time_unix_nano);
    o.u64_field("count", p.count);
    o.f64_field("sum", p.sum);
    o.list_field("quantileValues", &p.quantile_values, write_quantile);
    o.int_field("flags", p.flags);
    o.end();
}

fn write_quantile(out: &mut Vec<u8>, q: &summary_data_point::ValueAtQuantile) {
    let mut o = ObjectWriter::new(out);
    o.f64_field("quantile", q.quantile);
    o.f64_field("value", q.value);
    o.end();
}

fn write_exemplar(out: &mut Vec<u8>, e: &Exemplar) {
    let mut o = ObjectWriter::new(out);
    attributes_field(&mut o, "filteredAttributes", &e.filtered_attributes);
    o.u64_field("timeUnixNano", e.time_unix_nano);
    match e.value {
        None => {}
        Some(exemplar::Value::AsDouble(d)) => write_f64(o.key("asDouble"), d),
        Some(exemplar::Value::AsInt(i)) => write_i64_string(o.key("asInt"), i),
    }
    o.hex_field("spanId", &e.span_id);
    o.hex_field("traceId", &e.trace_id);
    o.end();
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
