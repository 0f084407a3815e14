//! [`Batch`]: the unit that flows through a pipeline.
//!
//! A batch holds one signal. It may hold the protobuf bytes of an OTLP export
//! request exactly as a receiver got them, the decoded OTLP structs, or both. Bytes
//! are decoded only when someone asks for records, and forwarded untouched when
//! nobody changed them (DESIGN.md §3: decode + encode costs ~2.1 µs a record, a
//! validating walk ~0.34 µs).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::logs::v1::ResourceLogs;
use opentelemetry_proto::tonic::metrics::v1::{ResourceMetrics, metric};
use opentelemetry_proto::tonic::trace::v1::ResourceSpans;
use prost::Message;

use crate::Signal;
use crate::ack::{AckToken, Acks};

/// Decoded OTLP data of one signal.
#[derive(Debug, Clone, PartialEq)]
pub enum SignalData {
    /// Log records grouped by resource and scope.
    Logs(Vec<ResourceLogs>),
    /// Spans grouped by resource and scope.
    Traces(Vec<ResourceSpans>),
    /// Metrics grouped by resource and scope.
    Metrics(Vec<ResourceMetrics>),
}

impl SignalData {
    /// The signal this data belongs to.
    pub fn signal(&self) -> Signal {
        match self {
            SignalData::Logs(_) => Signal::Logs,
            SignalData::Traces(_) => Signal::Traces,
            SignalData::Metrics(_) => Signal::Metrics,
        }
    }

    /// Item count: log records, spans, or metric data points.
    pub fn item_count(&self) -> usize {
        match self {
            SignalData::Logs(rl) => rl
                .iter()
                .flat_map(|r| &r.scope_logs)
                .map(|s| s.log_records.len())
                .sum(),
            SignalData::Traces(rs) => rs
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len())
                .sum(),
            SignalData::Metrics(rm) => rm
                .iter()
                .flat_map(|r| &r.scope_metrics)
                .flat_map(|s| &s.metrics)
                .map(|m| data_points(m.data.as_ref()))
                .sum(),
        }
    }

    /// Length of this data encoded as an OTLP export request.
    pub fn encoded_len(&self) -> usize {
        use prost::encoding::message::encoded_len_repeated;
        match self {
            SignalData::Logs(v) => encoded_len_repeated(1, v),
            SignalData::Traces(v) => encoded_len_repeated(1, v),
            SignalData::Metrics(v) => encoded_len_repeated(1, v),
        }
    }

    /// Appends this data encoded as an OTLP export request
    /// (`Export{Logs,Trace,Metrics}ServiceRequest`) to `buf`.
    pub fn encode_to(&self, buf: &mut Vec<u8>) {
        use prost::encoding::message::encode_repeated;
        buf.reserve(self.encoded_len());
        match self {
            SignalData::Logs(v) => encode_repeated(1, v, buf),
            SignalData::Traces(v) => encode_repeated(1, v, buf),
            SignalData::Metrics(v) => encode_repeated(1, v, buf),
        }
    }

    /// Decodes an OTLP export request of `signal`.
    pub fn decode(signal: Signal, bytes: &[u8]) -> Result<SignalData, BatchError> {
        let data = match signal {
            Signal::Logs => {
                SignalData::Logs(ExportLogsServiceRequest::decode(bytes)?.resource_logs)
            }
            Signal::Traces => {
                SignalData::Traces(ExportTraceServiceRequest::decode(bytes)?.resource_spans)
            }
            Signal::Metrics => {
                SignalData::Metrics(ExportMetricsServiceRequest::decode(bytes)?.resource_metrics)
            }
        };
        Ok(data)
    }

    /// True when there is no item at all.
    pub fn is_empty(&self) -> bool {
        self.item_count() == 0
    }
}

/// Number of data points a metric carries (a metric without data counts 0).
pub fn data_points(data: Option<&metric::Data>) -> usize {
    match data {
        None => 0,
        Some(metric::Data::Gauge(g)) => g.data_points.len(),
        Some(metric::Data::Sum(s)) => s.data_points.len(),
        Some(metric::Data::Histogram(h)) => h.data_points.len(),
        Some(metric::Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(metric::Data::Summary(s)) => s.data_points.len(),
    }
}

/// Why a batch could not give what was asked of it.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The encoded bytes did not decode (a receiver validated them, so this is rare).
    #[error("cannot decode batch: {0}")]
    Decode(#[from] prost::DecodeError),
    /// Asked for one signal's records from a batch of another.
    #[error("batch holds {actual}, not {wanted}")]
    WrongSignal {
        /// The signal asked for.
        wanted: Signal,
        /// The signal the batch holds.
        actual: Signal,
    },
}

/// Who sent a batch, as far as the receiver knows. Shared by every batch of a
/// request, so it is behind an `Arc`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ClientInfo {
    /// Peer address of the connection, when there was one.
    pub addr: Option<SocketAddr>,
    /// Authenticated subject: an alias or hash of the credential, never the secret.
    pub subject: Option<Arc<str>>,
    /// Request headers a receiver chose to keep (lower-case names).
    pub headers: Vec<(Arc<str>, Arc<str>)>,
}

impl ClientInfo {
    /// A client known by its peer address only.
    pub fn from_addr(addr: SocketAddr) -> Self {
        ClientInfo {
            addr: Some(addr),
            ..Default::default()
        }
    }
}

/// Facts about a batch that are not telemetry data.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BatchMeta {
    /// When the first of its data arrived in weir.
    pub received_at: Instant,
    /// Id of the receiver it came from (`stdin`, `otlp/edge`, ...).
    pub receiver: Option<Arc<str>>,
    /// Client metadata a processor may key on.
    pub client: Option<Arc<ClientInfo>>,
    /// The delivery acknowledgements of the requests this data came from; see
    /// [`crate::ack`]. A component that builds a new batch from others carries
    /// these over ([`Acks::absorb`]).
    pub acks: Acks,
}

impl Default for BatchMeta {
    fn default() -> Self {
        BatchMeta {
            received_at: Instant::now(),
            receiver: None,
            client: None,
            acks: Acks::none(),
        }
    }
}

impl BatchMeta {
    /// Metadata stamped now for data from `receiver`.
    pub fn from_receiver(receiver: Arc<str>) -> Self {
        BatchMeta {
            receiver: Some(receiver),
            ..Default::default()
        }
    }

    /// The same metadata carrying `token`: the request waits for this data.
    pub fn with_ack(mut self, token: AckToken) -> Self {
        self.acks.push(token);
        self
    }

    /// The same metadata with client information attached.
    pub fn with_client(mut self, client: Arc<ClientInfo>) -> Self {
        self.client = Some(client);
        self
    }
}

/// A compression of a batch's received bytes, for exporters that can send
/// them compressed as they came (see [`Batch::with_compressed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentEncoding {
    /// gzip (RFC 1952), possibly multi-member.
    Gzip,
    /// zstd (RFC 8878).
    Zstd,
}

impl ContentEncoding {
    /// The name used in `Content-Encoding` and `grpc-encoding`: `gzip` or `zstd`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentEncoding::Gzip => "gzip",
            ContentEncoding::Zstd => "zstd",
        }
    }
}

/// A batch of telemetry of one signal, plus its [`BatchMeta`].
///
/// Cloning a batch that still holds its received bytes copies no records: the
/// clone shares the bytes and decodes on its own only if a consumer asks.
///
/// A batch may also carry the request **as it came compressed** over the wire
/// ([`Batch::with_compressed`]), so an exporter sending the same encoding can
/// forward those bytes instead of compressing again (DESIGN.md §3: gzip-1
/// compression costs ~1.8-2.9 µs a record). Like the received bytes, the
/// compressed ones are shared by clones and dropped as soon as the records
/// are changed.
#[derive(Debug)]
pub struct Batch {
    signal: Signal,
    /// The export request as received; `None` once the records were changed.
    encoded: Option<Bytes>,
    /// `encoded` compressed as it came over the wire; `None` with `encoded`.
    compressed: Option<(ContentEncoding, Bytes)>,
    /// Records, decoded on first access.
    decoded: OnceLock<SignalData>,
    /// Item count; recounted after mutable access (see `stale`).
    items: usize,
    /// Set by mutable access: `items` may no longer be right.
    stale: bool,
    /// Encoded size of the decoded records, computed once: every edge asks for
    /// it, and walking 1000 records costs ~70 µs (benches/channel_hop).
    decoded_size: OnceLock<usize>,
    meta: BatchMeta,
}

impl Clone for Batch {
    fn clone(&self) -> Self {
        // Sharing the bytes costs nothing; copying decoded structs costs ~0.8 µs a
        // record. Keep the decoded form only when there are no bytes to share.
        let decoded = OnceLock::new();
        if self.encoded.is_none()
            && let Some(d) = self.decoded.get()
        {
            let _ = decoded.set(d.clone());
        }
        Batch {
            signal: self.signal,
            encoded: self.encoded.clone(),
            compressed: self.compressed.clone(),
            decoded,
            items: self.items(),
            stale: false,
            decoded_size: self.decoded_size.clone(),
            meta: self.meta.clone(),
        }
    }
}

impl Batch {
    /// A batch over the protobuf bytes of an OTLP export request of `signal`.
    ///
    /// `items` must be the item count of those bytes; receivers get it from the
    /// validating walk they run before accepting a request.
    pub fn from_encoded(signal: Signal, bytes: Bytes, items: usize, meta: BatchMeta) -> Self {
        Batch {
            signal,
            encoded: Some(bytes),
            compressed: None,
            decoded: OnceLock::new(),
            items,
            stale: false,
            decoded_size: OnceLock::new(),
            meta,
        }
    }

    /// A batch over decoded data.
    pub fn from_data(data: SignalData, meta: BatchMeta) -> Self {
        let items = data.item_count();
        Batch {
            signal: data.signal(),
            encoded: None,
            compressed: None,
            decoded: OnceLock::from(data),
            items,
            stale: false,
            decoded_size: OnceLock::new(),
            meta,
        }
    }

    /// A batch of log records.
    pub fn logs(resource_logs: Vec<ResourceLogs>, meta: BatchMeta) -> Self {
        Self::from_data(SignalData::Logs(resource_logs), meta)
    }

    /// A batch of spans.
    pub fn traces(resource_spans: Vec<ResourceSpans>, meta: BatchMeta) -> Self {
        Self::from_data(SignalData::Traces(resource_spans), meta)
    }

    /// A batch of metrics.
    pub fn metrics(resource_metrics: Vec<ResourceMetrics>, meta: BatchMeta) -> Self {
        Self::from_data(SignalData::Metrics(resource_metrics), meta)
    }

    /// The signal of this batch.
    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// Item count: log records, spans or metric data points.
    pub fn items(&self) -> usize {
        if self.stale {
            self.decoded.get().map_or(0, SignalData::item_count)
        } else {
            self.items
        }
    }

    /// True when the batch has no items.
    pub fn is_empty(&self) -> bool {
        self.items() == 0
    }

    /// Approximate encoded size in bytes (exact while the received bytes are held).
    pub fn size_bytes(&self) -> usize {
        match (&self.encoded, self.decoded.get()) {
            (Some(b), _) => b.len(),
            (None, Some(d)) => *self.decoded_size.get_or_init(|| d.encoded_len()),
            (None, None) => 0,
        }
    }

    /// The metadata.
    pub fn meta(&self) -> &BatchMeta {
        &self.meta
    }

    /// The metadata, mutably.
    pub fn meta_mut(&mut self) -> &mut BatchMeta {
        &mut self.meta
    }

    /// The bytes as received, if nobody has changed the records since.
    /// Exporters forward these as they are.
    pub fn received_bytes(&self) -> Option<&Bytes> {
        self.encoded.as_ref()
    }

    /// The same batch carrying `bytes`, the received bytes compressed with
    /// `encoding` exactly as they came over the wire (receivers call this).
    ///
    /// `bytes` must decompress to [`Batch::received_bytes`]; exporters send
    /// them in place of the received bytes. Ignored on a batch without received
    /// bytes, since there is nothing they could stand for.
    pub fn with_compressed(mut self, encoding: ContentEncoding, bytes: Bytes) -> Self {
        if self.encoded.is_some() {
            self.compressed = Some((encoding, bytes));
        }
        self
    }

    /// The received bytes compressed with `encoding` as they came, when the
    /// batch has them and nobody has changed the records since.
    pub fn compressed_bytes(&self, encoding: ContentEncoding) -> Option<&Bytes> {
        match &self.compressed {
            Some((e, b)) if *e == encoding && self.encoded.is_some() => Some(b),
            _ => None,
        }
    }

    /// The compressed companion of the received bytes, whatever its encoding.
    pub fn compressed(&self) -> Option<(ContentEncoding, &Bytes)> {
        match (&self.compressed, &self.encoded) {
            (Some((e, b)), Some(_)) => Some((*e, b)),
            _ => None,
        }
    }

    /// Whether the records are decoded already (for tests and benchmarks).
    pub fn is_decoded(&self) -> bool {
        self.decoded.get().is_some()
    }

    /// The batch as an OTLP export request in protobuf: the received bytes when
    /// unchanged (no copy), else a fresh encoding.
    pub fn to_protobuf(&self) -> Bytes {
        if let Some(b) = &self.encoded {
            return b.clone();
        }
        let mut buf = Vec::new();
        if let Some(d) = self.decoded.get() {
            d.encode_to(&mut buf);
        }
        Bytes::from(buf)
    }

    /// The records, decoding them on first access.
    pub fn data(&self) -> Result<&SignalData, BatchError> {
        if let Some(d) = self.decoded.get() {
            return Ok(d);
        }
        let bytes = self.encoded.as_ref().map(|b| &b[..]).unwrap_or_default();
        let data = SignalData::decode(self.signal, bytes)?;
        // Another thread may have won the race; either result is the same data.
        let _ = self.decoded.set(data);
        Ok(self.decoded.get().expect("set above"))
    }

    /// The records for changing. The received bytes (and their compressed
    /// form) are dropped, since they no longer describe the batch; the item
    /// count is refreshed on next read.
    pub fn data_mut(&mut self) -> Result<&mut SignalData, BatchError> {
        self.data()?;
        self.encoded = None;
        self.compressed = None;
        self.stale = true;
        self.decoded_size = OnceLock::new();
        Ok(self.decoded.get_mut().expect("decoded above"))
    }

    /// Log records for changing; an error for a batch of another signal.
    pub fn logs_mut(&mut self) -> Result<&mut Vec<ResourceLogs>, BatchError> {
        let actual = self.signal;
        match self.data_mut()? {
            SignalData::Logs(v) => Ok(v),
            _ => Err(BatchError::WrongSignal {
                wanted: Signal::Logs,
                actual,
            }),
        }
    }

    /// Spans for changing; an error for a batch of another signal.
    pub fn traces_mut(&mut self) -> Result<&mut Vec<ResourceSpans>, BatchError> {
        let actual = self.signal;
        match self.data_mut()? {
            SignalData::Traces(v) => Ok(v),
            _ => Err(BatchError::WrongSignal {
                wanted: Signal::Traces,
                actual,
            }),
        }
    }

    /// Metrics for changing; an error for a batch of another signal.
    pub fn metrics_mut(&mut self) -> Result<&mut Vec<ResourceMetrics>, BatchError> {
        let actual = self.signal;
        match self.data_mut()? {
            SignalData::Metrics(v) => Ok(v),
            _ => Err(BatchError::WrongSignal {
                wanted: Signal::Metrics,
                actual,
            }),
        }
    }

    /// Takes the records out, decoding them if needed.
    pub fn into_data(mut self) -> Result<SignalData, BatchError> {
        self.data()?;
        Ok(self.decoded.take().expect("decoded above"))
    }

    /// Caches the item count after mutable access, so later reads are O(1).
    pub fn settle(&mut self) {
        if self.stale {
            self.items = self.items();
            self.stale = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ScopeLogs};

    fn logs(n: usize) -> Vec<ResourceLogs> {
        vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: (0..n)
                    .map(|i| LogRecord {
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(format!("line {i}"))),
                        }),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }]
    }

    #[test]
    fn encoded_batch_decodes_lazily_and_forwards_its_bytes() {
        let data = SignalData::Logs(logs(3));
        let mut buf = Vec::new();
        data.encode_to(&mut buf);
        let bytes = Bytes::from(buf);
        let batch = Batch::from_encoded(Signal::Logs, bytes.clone(), 3, BatchMeta::default());
        assert!(!batch.is_decoded());
        assert_eq!(batch.to_protobuf(), bytes);
        assert_eq!(batch.data().unwrap(), &data);
        assert_eq!(batch.size_bytes(), bytes.len());
    }

    #[test]
    fn mutation_drops_bytes_and_recounts() {
        let data = SignalData::Logs(logs(3));
        let mut buf = Vec::new();
        data.encode_to(&mut buf);
        let mut batch = Batch::from_encoded(Signal::Logs, buf.into(), 3, BatchMeta::default());
        let full = batch.size_bytes();
        batch.logs_mut().unwrap()[0].scope_logs[0].log_records.pop();
        assert!(batch.received_bytes().is_none());
        // The cached size follows the change.
        assert_eq!(batch.size_bytes(), batch.to_protobuf().len());
        assert!(batch.size_bytes() < full);
        assert_eq!(batch.items(), 2);
        batch.settle();
        assert_eq!(batch.items(), 2);
        let round = SignalData::decode(Signal::Logs, &batch.to_protobuf()).unwrap();
        assert_eq!(round.item_count(), 2);
        assert!(batch.traces_mut().is_err());
        batch.logs_mut().unwrap()[0].scope_logs[0]
            .log_records
            .clear();
        assert_eq!(batch.size_bytes(), batch.to_protobuf().len());
        assert_eq!(batch.items(), 0);
    }

    #[test]
    fn compressed_companion_is_shared_and_dropped_on_change() {
        let data = SignalData::Logs(logs(2));
        let mut buf = Vec::new();
        data.encode_to(&mut buf);
        let gz = Bytes::from_static(b"pretend gzip");
        let batch = Batch::from_encoded(Signal::Logs, buf.into(), 2, BatchMeta::default())
            .with_compressed(ContentEncoding::Gzip, gz.clone());
        assert_eq!(batch.compressed_bytes(ContentEncoding::Gzip), Some(&gz));
        assert_eq!(batch.compressed_bytes(ContentEncoding::Zstd), None);
        assert_eq!(batch.compressed(), Some((ContentEncoding::Gzip, &gz)));
        let mut copy = batch.clone();
        assert_eq!(copy.compressed_bytes(ContentEncoding::Gzip), Some(&gz));
        // Reading leaves it; changing drops it.
        copy.data().unwrap();
        assert!(copy.compressed().is_some());
        copy.logs_mut().unwrap();
        assert_eq!(copy.compressed(), None);
        assert!(batch.compressed().is_some(), "the original keeps its own");
        // Without received bytes there is nothing to stand for.
        let decoded =
            Batch::from_data(data, BatchMeta::default()).with_compressed(ContentEncoding::Zstd, gz);
        assert_eq!(decoded.compressed(), None);
        assert_eq!(ContentEncoding::Zstd.as_str(), "zstd");
    }

    #[test]
    fn clone_shares_bytes_without_decoding() {
        let data = SignalData::Logs(logs(2));
        let mut buf = Vec::new();
        data.encode_to(&mut buf);
        let batch = Batch::from_encoded(Signal::Logs, buf.into(), 2, BatchMeta::default());
        batch.data().unwrap();
        let copy = batch.clone();
        assert!(!copy.is_decoded());
        assert_eq!(copy.items(), 2);
        assert_eq!(copy.received_bytes(), batch.received_bytes());
    }
}
