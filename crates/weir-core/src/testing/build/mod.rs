//! Batches in one line: [`logs`], [`spans`], [`metrics`], and builders for
//! items with attributes, severity and resource ([`log`], [`span`],
//! [`gauge`], [`sum`]).
//!
//! Items that share a resource (the same `resource(..)` calls, one after
//! another) go under one resource group with one scope group, as an SDK sends
//! them; items without `resource(..)` have no resource.

use crate::otlp::common::v1::KeyValue;
use crate::otlp::resource::v1::Resource;

mod logs;
mod metrics;
mod spans;

pub use logs::{LogBuilder, log, logs};
pub use metrics::{MetricBuilder, gauge, metrics, sum};
pub use spans::{SpanBuilder, span, spans};

/// Runs of items with equal resource attributes, in order.
pub(super) fn group<T>(
    items: impl IntoIterator<Item = (Vec<KeyValue>, T)>,
) -> Vec<(Option<Resource>, Vec<T>)> {
    let mut groups: Vec<(Vec<KeyValue>, Vec<T>)> = Vec::new();
    for (resource, item) in items {
        match groups.last_mut() {
            Some((r, items)) if *r == resource => items.push(item),
            _ => groups.push((resource, vec![item])),
        }
    }
    groups
        .into_iter()
        .map(|(attributes, items)| {
            let resource = (!attributes.is_empty()).then(|| Resource {
                attributes,
                ..Default::default()
            });
            (resource, items)
        })
        .collect()
}
