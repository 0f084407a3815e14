//! Metrics: [`gauge`], [`sum`] and [`metrics`].

use super::group;
use crate::otlp::common::v1::KeyValue;
use crate::otlp::metrics::v1::{
    AggregationTemporality, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric::Data, number_data_point,
};
use crate::testing::value::{IntoAnyValue, kv};
use crate::{Batch, BatchMeta};

/// A metric being built; start one with [`gauge`] or [`sum`]. A
/// `(name, value)` pair converts into a one-point gauge.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricBuilder {
    metric: Metric,
    resource: Vec<KeyValue>,
}

fn point(value: f64) -> NumberDataPoint {
    NumberDataPoint {
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

/// A gauge named `name` with one data point.
///
/// ```
/// use weir_core::testing::{gauge, metrics};
///
/// // Two data points, one per core: two items.
/// let batch = metrics([gauge("cpu.utilization", 0.5).attr("core", 0).point(0.7).attr("core", 1)]);
/// assert_eq!(batch.items(), 2);
/// ```
pub fn gauge(name: &str, value: f64) -> MetricBuilder {
    MetricBuilder {
        metric: Metric {
            name: name.to_owned(),
            data: Some(Data::Gauge(Gauge {
                data_points: vec![point(value)],
            })),
            ..Default::default()
        },
        resource: Vec::new(),
    }
}

/// A monotonic cumulative sum (a counter) named `name` with one data point.
///
/// ```
/// use weir_core::testing::{metrics, sum};
///
/// let batch = metrics([sum("http.requests", 42.0).attr("route", "/users").unit("{request}")]);
/// assert_eq!(batch.items(), 1);
/// ```
pub fn sum(name: &str, value: f64) -> MetricBuilder {
    MetricBuilder {
        metric: Metric {
            name: name.to_owned(),
            data: Some(Data::Sum(Sum {
                data_points: vec![point(value)],
                aggregation_temporality: AggregationTemporality::Cumulative.into(),
                is_monotonic: true,
            })),
            ..Default::default()
        },
        resource: Vec::new(),
    }
}

impl MetricBuilder {
    fn points(&mut self) -> &mut Vec<NumberDataPoint> {
        match &mut self.metric.data {
            Some(Data::Gauge(g)) => &mut g.data_points,
            Some(Data::Sum(s)) => &mut s.data_points,
            _ => panic!("MetricBuilder holds a gauge or a sum"),
        }
    }

    /// Adds another data point.
    pub fn point(mut self, value: f64) -> Self {
        self.points().push(point(value));
        self
    }

    /// Adds an attribute to the last data point.
    pub fn attr(mut self, key: &str, value: impl IntoAnyValue) -> Self {
        let last = self.points().last_mut().expect("a metric has a point");
        last.attributes.push(kv(key, value));
        self
    }

    /// Sets the unit (`"s"`, `"By"`, `"{request}"`).
    pub fn unit(mut self, unit: &str) -> Self {
        self.metric.unit = unit.to_owned();
        self
    }

    /// Adds an attribute to the metric's resource.
    pub fn resource(mut self, key: &str, value: impl IntoAnyValue) -> Self {
        self.resource.push(kv(key, value));
        self
    }

    /// The metric itself (its resource is left behind).
    pub fn into_metric(self) -> Metric {
        self.metric
    }
}

impl From<(&str, f64)> for MetricBuilder {
    fn from((name, value): (&str, f64)) -> Self {
        gauge(name, value)
    }
}

impl From<Metric> for MetricBuilder {
    fn from(metric: Metric) -> Self {
        MetricBuilder {
            metric,
            resource: Vec::new(),
        }
    }
}

/// A metrics batch; its items are the data points.
///
/// ```
/// use weir_core::testing::{metrics, sum};
///
/// let batch = metrics([("cpu.utilization", 0.5), ("memory.usage", 1e9)]);
/// assert_eq!(batch.items(), 2);
///
/// let batch = metrics([sum("http.requests", 3.0).resource("service.name", "api")]);
/// assert_eq!(batch.items(), 1);
/// ```
pub fn metrics<I>(metrics: I) -> Batch
where
    I: IntoIterator,
    I::Item: Into<MetricBuilder>,
{
    let groups = group(metrics.into_iter().map(|m| {
        let b = m.into();
        (b.resource, b.metric)
    }));
    let resource_metrics = groups
        .into_iter()
        .map(|(resource, metrics)| ResourceMetrics {
            resource,
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    Batch::metrics(resource_metrics, BatchMeta::default())
}
