//! Record identity: every log record the fault scenarios send carries a unique
//! id, the string attribute `loadgen.seq` (20 ASCII digits), so that what a
//! client was told (acknowledged, refused, failed) can be set against what
//! reached the destination, record by record.
//!
//! - [`IdPayload`]: a request encoded once with a digit slot per record; each
//!   send copies it and writes fresh ids into the slots;
//! - [`scan`]: finds the ids in a body as it arrives (OTLP protobuf or JSON, or
//!   anything that keeps the key next to its value), without decoding;
//! - [`Arrivals`]: per-id arrival counts at a sink;
//! - [`Sends`]: per-request fates on the client side;
//! - [`Verdict`]: the two set against each other.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use weir_core::otlp::common::v1::any_value::Value;
use weir_core::otlp::common::v1::{AnyValue, KeyValue};
use weir_core::{Signal, SignalData};

use crate::loadgen::payload::{BodyFormat, data};

/// The attribute that carries a record's id.
pub const SEQ_KEY: &str = "loadgen.seq";
/// Digits of an id (zero-padded decimal u64).
pub const SEQ_DIGITS: usize = 20;

/// A logs request of `items` records with an id slot in each, encoded once.
#[derive(Debug, Clone)]
pub struct IdPayload {
    template: Vec<u8>,
    slots: Vec<usize>,
    /// Records per request.
    pub items: u64,
    /// How it is encoded.
    pub format: BodyFormat,
}

impl IdPayload {
    /// The loadgen's log records (~10 attributes, 300-byte bodies) plus the id
    /// attribute, `items` to a request.
    pub fn logs(items: usize, format: BodyFormat) -> IdPayload {
        let mut d = data(Signal::Logs, items.max(1));
        if let SignalData::Logs(rls) = &mut d {
            for r in rls
                .iter_mut()
                .flat_map(|rl| rl.scope_logs.iter_mut())
                .flat_map(|sl| sl.log_records.iter_mut())
            {
                r.attributes.push(KeyValue {
                    key: SEQ_KEY.into(),
                    value: Some(AnyValue {
                        value: Some(Value::StringValue("0".repeat(SEQ_DIGITS))),
                    }),
                    ..Default::default()
                });
            }
        }
        let items = d.item_count() as u64;
        let mut template = Vec::new();
        match format {
            BodyFormat::Protobuf => d.encode_to(&mut template),
            BodyFormat::Json => weir_otlp::json::encode(&d, &mut template),
        }
        let mut slots = Vec::with_capacity(items as usize);
        scan_slots(&template, |at| slots.push(at));
        assert_eq!(slots.len() as u64, items, "one id slot per record");
        IdPayload {
            template,
            slots,
            items,
            format,
        }
    }

    /// The request with ids `first..first + items`.
    pub fn body(&self, first: u64) -> Bytes {
        let mut body = self.template.clone();
        for (k, &at) in self.slots.iter().enumerate() {
            write_digits(&mut body[at..at + SEQ_DIGITS], first + k as u64);
        }
        body.into()
    }

    /// Encoded size of one request.
    pub fn len(&self) -> usize {
        self.template.len()
    }

    /// Whether the request is empty (never: it has at least one record).
    pub fn is_empty(&self) -> bool {
        self.template.is_empty()
    }
}

fn write_digits(out: &mut [u8], mut v: u64) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Calls `f` with the offset of each id's digits in `body`: after each
/// occurrence of the key, the first run of exactly [`SEQ_DIGITS`] digits
/// within a few bytes (protobuf: tag and length bytes, never ASCII digits;
/// JSON: `","value":{"stringValue":"`).
fn scan_slots(body: &[u8], mut f: impl FnMut(usize)) {
    let finder = memchr::memmem::Finder::new(SEQ_KEY.as_bytes());
    let mut from = 0;
    while let Some(k) = finder.find(&body[from..]) {
        let after = from + k + SEQ_KEY.len();
        let window = &body[after..body.len().min(after + 40)];
        if let Some(start) = window.iter().position(u8::is_ascii_digit) {
            let at = after + start;
            let run = body[at..].iter().take_while(|b| b.is_ascii_digit()).count();
            if run == SEQ_DIGITS {
                f(at);
            }
        }
        from = after;
    }
}

/// Calls `f` with every record id in an uncompressed `body`.
pub fn scan(body: &[u8], mut f: impl FnMut(u64)) {
    scan_slots(body, |at| {
        let mut v = 0u64;
        for d in &body[at..at + SEQ_DIGITS] {
            v = v.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        }
        f(v);
    });
}

/// Parses an id as the Ledger stand-in records it (the attribute's string).
pub fn parse(s: &str) -> Option<u64> {
    (s.len() == SEQ_DIGITS).then(|| s.parse().ok()).flatten()
}

/// Hands out ids, so that every request of a scenario, across loads and
/// restarts, gets its own.
#[derive(Debug, Default)]
pub struct IdSource(AtomicU64);

impl IdSource {
    /// The first of `n` fresh ids.
    pub fn take(&self, n: u64) -> u64 {
        self.0.fetch_add(n, Ordering::Relaxed)
    }

    /// Ids handed out so far (all below this).
    pub fn issued(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// How many times each id arrived at a destination.
#[derive(Debug, Default)]
pub struct Arrivals {
    /// Arrivals per id (saturating at 255).
    counts: Mutex<Vec<u8>>,
    /// Records that carried no id (must stay 0).
    anonymous: AtomicU64,
}

impl Arrivals {
    /// Counts the ids in one delivered body of `items` records; records
    /// without an id are counted as anonymous.
    pub fn record_body(&self, body: &[u8], items: usize) {
        let mut ids = Vec::with_capacity(items);
        scan(body, |id| ids.push(id));
        self.record(&ids);
        let missing = items.saturating_sub(ids.len());
        if missing > 0 {
            self.anonymous.fetch_add(missing as u64, Ordering::Relaxed);
        }
    }

    /// Counts one arrival of each of `ids`.
    pub fn record(&self, ids: &[u64]) {
        let mut counts = self.counts.lock().expect("arrivals");
        for &id in ids {
            let i = id as usize;
            if i >= counts.len() {
                let len = (i + 1).max(counts.len() * 2);
                counts.resize(len, 0);
            }
            counts[i] = counts[i].saturating_add(1);
        }
    }

    /// Counts one record that arrived without an id.
    pub fn record_anonymous(&self, n: u64) {
        self.anonymous.fetch_add(n, Ordering::Relaxed);
    }

    /// Records that arrived in all, duplicates included.
    pub fn total(&self) -> u64 {
        self.counts
            .lock()
            .expect("arrivals")
            .iter()
            .map(|&c| u64::from(c))
            .sum()
    }

    /// A copy of the per-id counts.
    pub fn snapshot(&self) -> Vec<u8> {
        self.counts.lock().expect("arrivals").clone()
    }

    /// Whether every id of `ranges` (`(first, n)` pairs) has arrived.
    pub fn has_all(&self, ranges: &[(u64, u64)]) -> bool {
        let counts = self.counts.lock().expect("arrivals");
        ranges.iter().all(|&(first, n)| {
            (first..first + n).all(|id| counts.get(id as usize).is_some_and(|&c| c > 0))
        })
    }

    /// Records that arrived without an id.
    pub fn anonymous(&self) -> u64 {
        self.anonymous.load(Ordering::Relaxed)
    }
}

/// What became of one request, as its client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Success: the server took responsibility for the records.
    Acked,
    /// A retryable refusal (HTTP 429/503, gRPC UNAVAILABLE or
    /// RESOURCE_EXHAUSTED): backpressure, by design.
    Refused(String),
    /// Connection refused or reset, timeout: the records may or may not have
    /// been taken (a server that died, or is restarting).
    Failed(String),
    /// Any other answer (400, INVALID_ARGUMENT, ...): never right here.
    Rejected(String),
}

/// One request sent.
#[derive(Debug, Clone)]
pub struct SentRequest {
    /// Its first id.
    pub first: u64,
    /// Records (ids `first..first + items`).
    pub items: u64,
    /// Its fate.
    pub fate: Fate,
}

/// Every request a scenario sent, with its fate.
#[derive(Debug, Default)]
pub struct Sends(Mutex<Vec<SentRequest>>);

impl Sends {
    /// Notes a request's fate.
    pub fn push(&self, first: u64, items: u64, fate: Fate) {
        self.0
            .lock()
            .expect("sends")
            .push(SentRequest { first, items, fate });
    }

    /// A copy of the record.
    pub fn all(&self) -> Vec<SentRequest> {
        self.0.lock().expect("sends").clone()
    }

    /// `(first, items)` of each acknowledged request.
    pub fn acked_ranges(&self) -> Vec<(u64, u64)> {
        self.0
            .lock()
            .expect("sends")
            .iter()
            .filter(|s| s.fate == Fate::Acked)
            .map(|s| (s.first, s.items))
            .collect()
    }

    /// Records acknowledged so far.
    pub fn acked_items(&self) -> u64 {
        self.acked_ranges().iter().map(|r| r.1).sum()
    }
}

/// The client's record set against the destination's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Requests sent.
    pub requests: u64,
    /// Records acknowledged to the client.
    pub acked: u64,
    /// Records refused retryably.
    pub refused: u64,
    /// Records whose request failed in transport (fate unknown to the client).
    pub failed: u64,
    /// Records in requests answered with a non-retryable error.
    pub rejected: u64,
    /// Record arrivals at the destination, duplicates included.
    pub arrivals: u64,
    /// Distinct ids that arrived.
    pub distinct: u64,
    /// Arrivals beyond the first of an id.
    pub duplicates: u64,
    /// Acknowledged ids that never arrived: data loss.
    pub lost: u64,
    /// The first few lost ids.
    pub lost_sample: Vec<u64>,
    /// Ids that arrived though their request was not acknowledged (refused
    /// or failed at the client, yet delivered): allowed, reported.
    pub unacked_arrived: u64,
    /// Ids that arrived but were never sent, or records with no id: corruption.
    pub strays: u64,
    /// Non-retryable answers by kind, e.g. `http_400 3`.
    pub rejections: Vec<(String, u64)>,
}

impl Verdict {
    /// Sets `sends` against `arrivals`.
    pub fn new(sends: &Sends, arrivals: &Arrivals, issued: u64) -> Verdict {
        let counts = arrivals.snapshot();
        let count = |id: u64| counts.get(id as usize).copied().unwrap_or(0);
        let mut v = Verdict::default();
        let mut sent = vec![false; issued as usize];
        let mut rejections = std::collections::BTreeMap::<String, u64>::new();
        for s in sends.all() {
            v.requests += 1;
            let ids = s.first..s.first + s.items;
            for id in ids.clone() {
                if let Some(slot) = sent.get_mut(id as usize) {
                    *slot = true;
                }
            }
            match &s.fate {
                Fate::Acked => {
                    v.acked += s.items;
                    for id in ids {
                        if count(id) == 0 {
                            v.lost += 1;
                            if v.lost_sample.len() < 10 {
                                v.lost_sample.push(id);
                            }
                        }
                    }
                }
                other => {
                    match other {
                        Fate::Refused(_) => v.refused += s.items,
                        Fate::Failed(_) => v.failed += s.items,
                        Fate::Rejected(kind) => {
                            v.rejected += s.items;
                            *rejections.entry(kind.clone()).or_default() += 1;
                        }
                        Fate::Acked => unreachable!(),
                    }
                    v.unacked_arrived += ids.filter(|&id| count(id) > 0).count() as u64;
                }
            }
        }
        for (id, &c) in counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            v.arrivals += u64::from(c);
            v.distinct += 1;
            v.duplicates += u64::from(c - 1);
            if !sent.get(id).copied().unwrap_or(false) {
                v.strays += u64::from(c);
            }
        }
        v.strays += arrivals.anonymous();
        v.rejections = rejections.into_iter().collect();
        v
    }

    /// One line: `acked 1000, refused 200, failed 0; arrived 1000 (1000 distinct, 0 dup); lost 0`.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "acked {}, refused {}, failed {}, rejected {}; arrived {} ({} distinct, {} dup, {} unacked); lost {}",
            self.acked,
            self.refused,
            self.failed,
            self.rejected,
            self.arrivals,
            self.distinct,
            self.duplicates,
            self.unacked_arrived,
            self.lost
        );
        if !self.lost_sample.is_empty() {
            s.push_str(&format!(" (e.g. {:?})", self.lost_sample));
        }
        if self.strays > 0 {
            s.push_str(&format!("; {} strays", self.strays));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_protobuf_and_json() {
        for format in [BodyFormat::Protobuf, BodyFormat::Json] {
            let p = IdPayload::logs(50, format);
            let body = p.body(1_000_000_000_007);
            let mut got = Vec::new();
            scan(&body, |id| got.push(id));
            let want: Vec<u64> = (1_000_000_000_007..1_000_000_000_057).collect();
            assert_eq!(got, want, "{format:?}");
            if format == BodyFormat::Protobuf {
                let s = weir_otlp::wire::inspect(Signal::Logs, &body).unwrap();
                assert_eq!(s.items, 50);
            } else {
                let d = weir_otlp::json::decode(Signal::Logs, &body).unwrap();
                assert_eq!(d.item_count(), 50);
            }
        }
    }

    #[test]
    fn verdict_finds_loss_duplicates_and_strays() {
        let sends = Sends::default();
        sends.push(0, 10, Fate::Acked);
        sends.push(10, 10, Fate::Refused("http_503".into()));
        sends.push(20, 10, Fate::Acked);
        sends.push(30, 5, Fate::Rejected("http_400".into()));
        let arrivals = Arrivals::default();
        arrivals.record(&(0..10).collect::<Vec<_>>());
        arrivals.record(&[3, 3, 12]);
        arrivals.record(&(20..29).collect::<Vec<_>>());
        arrivals.record(&[99]);
        arrivals.record_anonymous(2);
        let v = Verdict::new(&sends, &arrivals, 35);
        assert_eq!((v.acked, v.refused, v.rejected), (20, 10, 5));
        assert_eq!((v.lost, v.lost_sample.clone()), (1, vec![29]));
        assert_eq!(v.duplicates, 2);
        assert_eq!(v.distinct, 10 + 1 + 9 + 1);
        assert_eq!(v.unacked_arrived, 1);
        assert_eq!(v.strays, 1 + 2);
        assert_eq!(v.rejections, vec![("http_400".to_string(), 1)]);
        assert!(!arrivals.has_all(&sends.acked_ranges()));
        arrivals.record(&[29]);
        assert!(arrivals.has_all(&sends.acked_ranges()));
    }
}
