//! Splitting a batch too large for one request into parts under a byte limit.
//!
//! Parts keep the batch's order: whole resources where they fit, else a
//! resource's scopes, else a scope's records (log records, spans or metrics),
//! each part repeating the resource and scope it needs. A single record larger
//! than the limit cannot be split further and is sent alone in its part; the
//! destination may refuse it, which then counts as that part's failure.
//!
//! This path clones the records of each part (~0.8 µs a record). It runs only
//! for oversize batches; batches under the limit are sent without any copy.

use prost::Message;
use weir_core::SignalData;
use weir_core::otlp::logs::v1::{ResourceLogs, ScopeLogs};
use weir_core::otlp::metrics::v1::{ResourceMetrics, ScopeMetrics};
use weir_core::otlp::trace::v1::{ResourceSpans, ScopeSpans};

/// Splits `data` into parts whose protobuf encoding is at most `limit` bytes,
/// except parts holding one record that alone exceeds it.
pub(crate) fn split(data: &SignalData, limit: usize) -> Vec<SignalData> {
    match data {
        SignalData::Logs(v) => split_tree(v, limit)
            .into_iter()
            .map(SignalData::Logs)
            .collect(),
        SignalData::Traces(v) => split_tree(v, limit)
            .into_iter()
            .map(SignalData::Traces)
            .collect(),
        SignalData::Metrics(v) => split_tree(v, limit)
            .into_iter()
            .map(SignalData::Metrics)
            .collect(),
    }
}

/// A level of the OTLP tree with a list of children: `Resource*` holds
/// `Scope*`, which holds records.
trait Node: Message + Clone {
    type Child: Message + Clone;
    fn children(&self) -> &[Self::Child];
    fn children_mut(&mut self) -> &mut Vec<Self::Child>;
    /// This node without its children (the header each part repeats).
    fn shell(&self) -> Self;
}

macro_rules! node {
    ($parent:ty, $child:ty, $field:ident, { $($keep:ident),* }) => {
        impl Node for $parent {
            type Child = $child;
            fn children(&self) -> &[$child] {
                &self.$field
            }
            fn children_mut(&mut self) -> &mut Vec<$child> {
                &mut self.$field
            }
            fn shell(&self) -> Self {
                Self { $($keep: self.$keep.clone(),)* $field: Vec::new() }
            }
        }
    };
}

node!(ResourceLogs, ScopeLogs, scope_logs, { resource, schema_url });
node!(ScopeLogs, weir_core::otlp::logs::v1::LogRecord, log_records, { scope, schema_url });
node!(ResourceSpans, ScopeSpans, scope_spans, { resource, schema_url });
node!(ScopeSpans, weir_core::otlp::trace::v1::Span, spans, { scope, schema_url });
node!(ResourceMetrics, ScopeMetrics, scope_metrics, { resource, schema_url });
node!(ScopeMetrics, weir_core::otlp::metrics::v1::Metric, metrics, { scope, schema_url });

/// Bytes a message of `len` bytes takes as a length-delimited field (tags of
/// these fields are 1 byte).
fn field_len(len: usize) -> usize {
    1 + prost::encoding::encoded_len_varint(len as u64) + len
}

/// What the last entry of the part being filled still accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Nothing,
    /// The last resource is a shell of resource `r` taking scopes.
    Resource(usize),
    /// ... and its last scope a shell of scope `s` of `r` taking records.
    Scope(usize, usize),
}

/// Fills parts in order. Sizes are upper bounds: a shell is charged the most its
/// length prefix can grow to, so a part's real encoding never passes the limit.
struct Packer<R> {
    limit: usize,
    parts: Vec<Vec<R>>,
    cur: Vec<R>,
    size: usize,
    open: Open,
}

/// Largest length prefix of a nested message under 4 GiB, plus its tag.
const SHELL_SLACK: usize = 1 + 5;

impl<R, S> Packer<R>
where
    R: Node<Child = S>,
    S: Node,
{
    fn flush(&mut self) {
        if !self.cur.is_empty() {
            self.parts.push(std::mem::take(&mut self.cur));
        }
        self.size = 0;
        self.open = Open::Nothing;
    }

    /// Makes room for `need` more bytes, starting a new part if this one is full.
    fn room(&mut self, need: usize) {
        if self.size + need > self.limit && !self.cur.is_empty() {
            self.flush();
        }
    }

    fn resource_cost(&self, r: &R, ri: usize) -> usize {
        match self.open {
            Open::Resource(o) | Open::Scope(o, _) if o == ri => 0,
            _ => SHELL_SLACK + r.shell().encoded_len(),
        }
    }

    fn open_resource(&mut self, r: &R, ri: usize) {
        if !matches!(self.open, Open::Resource(o) | Open::Scope(o, _) if o == ri) {
            self.size += SHELL_SLACK + r.shell().encoded_len();
            self.cur.push(r.shell());
            self.open = Open::Resource(ri);
        }
    }

    fn add_resource(&mut self, r: &R, ri: usize) {
        let whole = field_len(r.encoded_len());
        if whole <= self.limit || r.children().is_empty() {
            self.room(whole);
            self.cur.push(r.clone());
            self.size += whole;
            self.open = Open::Nothing;
            return;
        }
        for (si, s) in r.children().iter().enumerate() {
            self.add_scope(r, ri, s, si);
        }
    }

    fn add_scope(&mut self, r: &R, ri: usize, s: &S, si: usize) {
        let whole = field_len(s.encoded_len());
        let header = SHELL_SLACK + r.shell().encoded_len();
        if whole + header <= self.limit || s.children().is_empty() {
            self.room(whole + self.resource_cost(r, ri));
            self.open_resource(r, ri);
            self.cur
                .last_mut()
                .expect("opened")
                .children_mut()
                .push(s.clone());
            self.size += whole;
            return;
        }
        for item in s.children() {
            let cost = field_len(item.encoded_len());
            let scope_cost = if self.open == Open::Scope(ri, si) {
                0
            } else {
                SHELL_SLACK + s.shell().encoded_len()
            };
            self.room(cost + scope_cost + self.resource_cost(r, ri));
            self.open_resource(r, ri);
            let last = self.cur.last_mut().expect("opened");
            if self.open != Open::Scope(ri, si) {
                self.size += SHELL_SLACK + s.shell().encoded_len();
                last.children_mut().push(s.shell());
                self.open = Open::Scope(ri, si);
            }
            last.children_mut()
                .last_mut()
                .expect("opened")
                .children_mut()
                .push(item.clone());
            self.size += cost;
        }
    }
}

fn split_tree<R, S>(resources: &[R], limit: usize) -> Vec<Vec<R>>
where
    R: Node<Child = S>,
    S: Node,
{
    let mut p = Packer {
        limit,
        parts: Vec::new(),
        cur: Vec::new(),
        size: 0,
        open: Open::Nothing,
    };
    for (ri, r) in resources.iter().enumerate() {
        p.add_resource(r, ri);
    }
    p.flush();
    p.parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::otlp::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
    use weir_core::otlp::logs::v1::LogRecord;
    use weir_core::otlp::resource::v1::Resource;

    fn text(s: String) -> Option<AnyValue> {
        Some(AnyValue {
            value: Some(any_value::Value::StringValue(s)),
        })
    }

    /// `resources` × `scopes` × `records` log records with `body` bytes each,
    /// named so order can be checked.
    fn logs(resources: usize, scopes: usize, records: usize, body: usize) -> Vec<ResourceLogs> {
        (0..resources)
            .map(|r| ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![KeyValue {
                        key: "service.name".into(),
                        key_strindex: 0,
                        value: text(format!("svc-{r}")),
                    }],
                    ..Default::default()
                }),
                scope_logs: (0..scopes)
                    .map(|s| ScopeLogs {
                        scope: Some(InstrumentationScope {
                            name: format!("scope-{r}-{s}"),
                            ..Default::default()
                        }),
                        log_records: (0..records)
                            .map(|i| LogRecord {
                                body: text(format!("{r}/{s}/{i} {}", "x".repeat(body))),
                                ..Default::default()
                            })
                            .collect(),
                        schema_url: "https://schema".into(),
                    })
                    .collect(),
                schema_url: String::new(),
            })
            .collect()
    }

    /// (resource name, scope name, body) of every record, in order.
    fn flat(parts: &[Vec<ResourceLogs>]) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for rl in parts.iter().flatten() {
            let res = format!("{:?}", rl.resource);
            for sl in &rl.scope_logs {
                let scope = format!("{:?}", sl.scope);
                for lr in &sl.log_records {
                    out.push((res.clone(), scope.clone(), format!("{:?}", lr.body)));
                }
            }
        }
        out
    }

    fn check(data: Vec<ResourceLogs>, limit: usize) -> Vec<Vec<ResourceLogs>> {
        let parts = split_tree(&data, limit);
        for p in &parts {
            let len = SignalData::Logs(p.clone()).encoded_len();
            let records: usize = p
                .iter()
                .flat_map(|r| &r.scope_logs)
                .map(|s| s.log_records.len())
                .sum();
            assert!(
                len <= limit || records == 1,
                "part of {len} bytes over {limit}"
            );
        }
        assert_eq!(flat(&parts), flat(std::slice::from_ref(&data)));
        parts
    }

    #[test]
    fn whole_resources_are_kept_together_when_they_fit() {
        let data = logs(4, 2, 10, 100);
        let one = SignalData::Logs(data[..1].to_vec()).encoded_len();
        let parts = check(data, 2 * one + 10);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.len() == 2));
    }

    #[test]
    fn a_big_resource_splits_by_scope_then_by_record() {
        // One resource of 3 scopes of ~20 KiB each, limit 8 KiB.
        let parts = check(logs(1, 3, 20, 1000), 8 * 1024);
        assert!(parts.len() >= 8, "{}", parts.len());
        for p in &parts {
            assert_eq!(p.len(), 1);
            assert!(p[0].resource.is_some(), "every part repeats the resource");
            assert!(
                p[0].scope_logs
                    .iter()
                    .all(|s| s.schema_url == "https://schema")
            );
        }
    }

    #[test]
    fn a_record_over_the_limit_goes_alone() {
        let mut data = logs(1, 1, 5, 100);
        data[0].scope_logs[0].log_records[2].body = text("y".repeat(10_000));
        let parts = check(data, 2_000);
        let big = parts
            .iter()
            .find(|p| SignalData::Logs(p.to_vec()).encoded_len() > 2_000)
            .unwrap();
        assert_eq!(big[0].scope_logs[0].log_records.len(), 1);
    }

    #[test]
    fn mixed_sizes_keep_order_and_limit() {
        let mut data = logs(3, 2, 50, 300);
        data.extend(logs(2, 1, 3, 10));
        data.extend(logs(1, 4, 200, 200));
        check(data, 16 * 1024);
    }

    #[test]
    fn empty_scopes_and_resources_survive() {
        let mut data = logs(2, 1, 40, 500);
        data[1].scope_logs.push(ScopeLogs::default());
        data.push(ResourceLogs::default());
        let parts = check(data.clone(), 4096);
        let scopes: usize = parts.iter().flatten().map(|r| r.scope_logs.len()).sum();
        assert!(scopes >= 3);
        assert_eq!(parts.last().unwrap().last(), data.last());
    }

    #[test]
    fn spans_and_metrics_split_too() {
        use weir_core::otlp::metrics::v1::Metric;
        use weir_core::otlp::trace::v1::Span;
        let spans = vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: (0..100)
                    .map(|i| Span {
                        name: format!("span-{i:0>200}"),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }];
        let parts = split(&SignalData::Traces(spans), 2048);
        assert!(parts.len() > 5);
        assert_eq!(parts.iter().map(SignalData::item_count).sum::<usize>(), 100);
        assert!(parts.iter().all(|p| p.encoded_len() <= 2048));
        let metrics = vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: (0..100)
                    .map(|i| Metric {
                        name: format!("m-{i:0>200}"),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }];
        let parts = split(&SignalData::Metrics(metrics), 2048);
        assert!(parts.len() > 5);
        assert!(parts.iter().all(|p| p.encoded_len() <= 2048));
    }
}
