//! Random-ish OTLP data that sets every field of every message, for the
//! property tests of the wire walk and the JSON decoder. Deterministic: a seed
//! gives the same data every run.

use weir_core::SignalData;
use weir_core::otlp::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::metrics::v1::Exemplar;
use weir_core::otlp::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
    exemplar, exponential_histogram_data_point::Buckets, metric, number_data_point,
    summary_data_point::ValueAtQuantile,
};
use weir_core::otlp::resource::v1::Resource;
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

/// A small xorshift generator (no `rand` dependency for tests).
pub(crate) struct Gen(u64);

impl Gen {
    pub(crate) fn new(seed: u64) -> Self {
        Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub(crate) fn u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.u64() % n
    }
    fn n(&mut self, max: u64) -> usize {
        self.below(max + 1) as usize
    }
    fn bool(&mut self) -> bool {
        self.u64() & 1 == 1
    }
    fn i64(&mut self) -> i64 {
        match self.below(4) {
            0 => 0,
            1 => self.u64() as i64,
            2 => -(self.below(1000) as i64),
            _ => self.below(1 << 20) as i64,
        }
    }
    fn u32(&mut self) -> u32 {
        if self.bool() { 0 } else { self.u64() as u32 }
    }
    /// Finite doubles only: NaN is never equal to itself, so round trips test it apart.
    fn f64(&mut self) -> f64 {
        match self.below(6) {
            0 => 0.0,
            1 => -1.5,
            2 => f64::INFINITY,
            3 => f64::from_bits(self.u64() & !(0x7ff << 52)) * 1e3,
            4 => 1e300 * (self.below(100) as f64),
            _ => self.below(1_000_000) as f64 / 7.0,
        }
    }
    fn string(&mut self) -> String {
        const PARTS: [&str; 8] = [
            "",
            "a",
            "service.name",
            "héllo",
            "日本",
            "\"q\\\n",
            "\u{1F600}",
            "x y",
        ];
        (0..self.n(3)).map(|_| PARTS[self.n(7)]).collect()
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.u64() as u8).collect()
    }
    fn id(&mut self, len: usize) -> Vec<u8> {
        if self.below(4) == 0 {
            Vec::new()
        } else {
            self.bytes(len)
        }
    }

    pub(crate) fn any_value(&mut self, depth: u32) -> AnyValue {
        use any_value::Value as V;
        let kinds = if depth == 0 { 6 } else { 9 };
        let value = match self.below(kinds) {
            0 => None,
            1 => Some(V::StringValue(self.string())),
            2 => Some(V::BoolValue(self.bool())),
            3 => Some(V::IntValue(self.i64())),
            4 => Some(V::DoubleValue(self.f64())),
            5 => {
                let n = self.n(5);
                Some(V::BytesValue(self.bytes(n)))
            }
            6 => Some(V::ArrayValue(ArrayValue {
                values: (0..self.n(3)).map(|_| self.any_value(depth - 1)).collect(),
            })),
            7 => Some(V::KvlistValue(KeyValueList {
                values: self.attributes(depth - 1),
            })),
            _ => Some(V::StringValueStrindex(self.u32() as i32)),
        };
        AnyValue { value }
    }

    pub(crate) fn attributes(&mut self, depth: u32) -> Vec<KeyValue> {
        (0..self.n(3))
            .map(|_| KeyValue {
                key: self.string(),
                value: if self.below(5) == 0 {
                    None
                } else {
                    Some(self.any_value(depth))
                },
                key_strindex: if self.below(4) == 0 {
                    self.u32() as i32
                } else {
                    0
                },
            })
            .collect()
    }

    fn resource(&mut self) -> Option<Resource> {
        self.bool().then(|| Resource {
            attributes: self.attributes(2),
            dropped_attributes_count: self.u32(),
            entity_refs: (0..self.n(2))
                .map(|_| EntityRef {
                    schema_url: self.string(),
                    r#type: self.string(),
                    id_keys: (0..self.n(2)).map(|_| self.string()).collect(),
                    description_keys: (0..self.n(2)).map(|_| self.string()).collect(),
                })
                .collect(),
        })
    }

    fn scope(&mut self) -> Option<InstrumentationScope> {
        self.bool().then(|| InstrumentationScope {
            name: self.string(),
            version: self.string(),
            attributes: self.attributes(1),
            dropped_attributes_count: self.u32(),
        })
    }

    pub(crate) fn logs(&mut self) -> SignalData {
        SignalData::Logs(
            (0..self.n(3))
                .map(|_| ResourceLogs {
                    resource: self.resource(),
                    schema_url: self.string(),
                    scope_logs: (0..self.n(3))
                        .map(|_| ScopeLogs {
                            scope: self.scope(),
                            schema_url: self.string(),
                            log_records: (0..self.n(4)).map(|_| self.log_record()).collect(),
                        })
                        .collect(),
                })
                .collect(),
        )
    }

    fn log_record(&mut self) -> LogRecord {
        LogRecord {
            time_unix_nano: self.u64(),
            observed_time_unix_nano: self.i64() as u64,
            severity_number: self.n(24) as i32,
            severity_text: self.string(),
            body: self.bool().then(|| self.any_value(3)),
            attributes: self.attributes(2),
            dropped_attributes_count: self.u32(),
            flags: self.u32(),
            trace_id: self.id(16),
            span_id: self.id(8),
            event_name: self.string(),
        }
    }

    pub(crate) fn traces(&mut self) -> SignalData {
        SignalData::Traces(
            (0..self.n(3))
                .map(|_| ResourceSpans {
                    resource: self.resource(),
                    schema_url: self.string(),
                    scope_spans: (0..self.n(3))
                        .map(|_| ScopeSpans {
                            scope: self.scope(),
                            schema_url: self.string(),
                            spans: (0..self.n(4)).map(|_| self.span()).collect(),
                        })
                        .collect(),
                })
                .collect(),
        )
    }

    fn span(&mut self) -> Span {
        Span {
            trace_id: self.id(16),
            span_id: self.id(8),
            trace_state: self.string(),
            parent_span_id: self.id(8),
            flags: self.u32(),
            name: self.string(),
            kind: self.n(5) as i32,
            start_time_unix_nano: self.u64(),
            end_time_unix_nano: self.u64(),
            attributes: self.attributes(2),
            dropped_attributes_count: self.u32(),
            events: (0..self.n(2))
                .map(|_| span::Event {
                    time_unix_nano: self.u64(),
                    name: self.string(),
                    attributes: self.attributes(1),
                    dropped_attributes_count: self.u32(),
                })
                .collect(),
            dropped_events_count: self.u32(),
            links: (0..self.n(2))
                .map(|_| span::Link {
                    trace_id: self.id(16),
                    span_id: self.id(8),
                    trace_state: self.string(),
                    attributes: self.attributes(1),
                    dropped_attributes_count: self.u32(),
                    flags: self.u32(),
                })
                .collect(),
            dropped_links_count: self.u32(),
            status: self.bool().then(|| Status {
                message: self.string(),
                code: self.n(2) as i32,
            }),
        }
    }

    pub(crate) fn metrics(&mut self) -> SignalData {
        SignalData::Metrics(
            (0..self.n(3))
                .map(|_| ResourceMetrics {
                    resource: self.resource(),
                    schema_url: self.string(),
                    scope_metrics: (0..self.n(3))
                        .map(|_| ScopeMetrics {
                            scope: self.scope(),
                            schema_url: self.string(),
                            metrics: (0..self.n(4)).map(|_| self.metric()).collect(),
                        })
                        .collect(),
                })
                .collect(),
        )
    }

    fn metric(&mut self) -> Metric {
        let data = match self.below(6) {
            0 => None,
            1 => Some(metric::Data::Gauge(Gauge {
                data_points: points_of(self, Gen::number_point),
            })),
            2 => Some(metric::Data::Sum(Sum {
                data_points: points_of(self, Gen::number_point),
                aggregation_temporality: self.n(2) as i32,
                is_monotonic: self.bool(),
            })),
            3 => Some(metric::Data::Histogram(Histogram {
                data_points: points_of(self, Gen::histogram_point),
                aggregation_temporality: self.n(2) as i32,
            })),
            4 => Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: points_of(self, Gen::exp_point),
                aggregation_temporality: self.n(2) as i32,
            })),
            _ => Some(metric::Data::Summary(Summary {
                data_points: points_of(self, Gen::summary_point),
            })),
        };
        Metric {
            name: self.string(),
            description: self.string(),
            unit: self.string(),
            metadata: self.attributes(1),
            data,
        }
    }

    fn opt_f64(&mut self) -> Option<f64> {
        self.bool().then(|| self.f64())
    }

    fn exemplars(&mut self) -> Vec<Exemplar> {
        (0..self.n(2))
            .map(|_| Exemplar {
                filtered_attributes: self.attributes(1),
                time_unix_nano: self.u64(),
                span_id: self.id(8),
                trace_id: self.id(16),
                value: match self.below(3) {
                    0 => None,
                    1 => Some(exemplar::Value::AsDouble(self.f64())),
                    _ => Some(exemplar::Value::AsInt(self.i64())),
                },
            })
            .collect()
    }

    fn number_point(&mut self) -> NumberDataPoint {
        NumberDataPoint {
            attributes: self.attributes(1),
            start_time_unix_nano: self.u64(),
            time_unix_nano: self.u64(),
            exemplars: self.exemplars(),
            flags: self.u32(),
            value: match self.below(3) {
                0 => None,
                1 => Some(number_data_point::Value::AsDouble(self.f64())),
                _ => Some(number_data_point::Value::AsInt(self.i64())),
            },
        }
    }

    fn histogram_point(&mut self) -> HistogramDataPoint {
        HistogramDataPoint {
            attributes: self.attributes(1),
            start_time_unix_nano: self.u64(),
            time_unix_nano: self.u64(),
            count: self.u64(),
            sum: self.opt_f64(),
            bucket_counts: (0..self.n(4)).map(|_| self.u64()).collect(),
            explicit_bounds: (0..self.n(3)).map(|_| self.f64()).collect(),
            exemplars: self.exemplars(),
            flags: self.u32(),
            min: self.opt_f64(),
            max: self.opt_f64(),
        }
    }

    fn buckets(&mut self) -> Option<Buckets> {
        self.bool().then(|| Buckets {
            offset: self.i64() as i32,
            bucket_counts: (0..self.n(4)).map(|_| self.i64() as u64).collect(),
        })
    }

    fn exp_point(&mut self) -> ExponentialHistogramDataPoint {
        ExponentialHistogramDataPoint {
            attributes: self.attributes(1),
            start_time_unix_nano: self.u64(),
            time_unix_nano: self.u64(),
            count: self.u64(),
            sum: self.opt_f64(),
            scale: self.i64() as i32,
            zero_count: self.u64(),
            positive: self.buckets(),
            negative: self.buckets(),
            flags: self.u32(),
            exemplars: self.exemplars(),
            min: self.opt_f64(),
            max: self.opt_f64(),
            zero_threshold: self.f64(),
        }
    }

    fn summary_point(&mut self) -> SummaryDataPoint {
        SummaryDataPoint {
            attributes: self.attributes(1),
            start_time_unix_nano: self.u64(),
            time_unix_nano: self.u64(),
            count: self.u64(),
            sum: self.f64(),
            quantile_values: (0..self.n(3))
                .map(|_| ValueAtQuantile {
                    quantile: self.f64(),
                    value: self.f64(),
                })
                .collect(),
            flags: self.u32(),
        }
    }

    /// Data of `signal`.
    pub(crate) fn data(&mut self, signal: weir_core::Signal) -> SignalData {
        match signal {
            weir_core::Signal::Logs => self.logs(),
            weir_core::Signal::Traces => self.traces(),
            weir_core::Signal::Metrics => self.metrics(),
        }
    }
}

/// Up to 3 points made by `f`.
fn points_of<T>(g: &mut Gen, f: fn(&mut Gen) -> T) -> Vec<T> {
    (0..g.n(3)).map(|_| f(g)).collect()
}
