//! A batch as a spool record and back: the payload as received (or encoded
//! once), the signal and item count, and the meta worth keeping across a restart.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use weir_core::{Batch, BatchMeta, ClientInfo, Signal};

use crate::spool::{MetadataEntry, SpoolRecord};

/// Metadata keys under which a batch's meta is kept in its spool record.
const META_RECEIVER: &str = "weir.receiver";
const META_SUBJECT: &str = "weir.subject";

/// The spool record of `batch`.
pub(super) fn record_of(batch: &Batch) -> SpoolRecord {
    let meta = batch.meta();
    let age = meta.received_at.elapsed();
    let received_at_unix_nanos = SystemTime::now()
        .checked_sub(age)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    let mut metadata = Vec::new();
    if let Some(r) = &meta.receiver {
        metadata.push(entry(META_RECEIVER, r));
    }
    if let Some(c) = &meta.client {
        if let Some(s) = &c.subject {
            metadata.push(entry(META_SUBJECT, s));
        }
        metadata.extend(c.headers.iter().map(|(k, v)| entry(k, v)));
    }
    let signal = match batch.signal() {
        Signal::Logs => crate::spool::Signal::Logs,
        Signal::Traces => crate::spool::Signal::Traces,
        Signal::Metrics => crate::spool::Signal::Metrics,
    };
    SpoolRecord {
        signal: signal as i32,
        payload: batch.to_protobuf(),
        items: batch.items() as u64,
        sequence: 0,
        received_at_unix_nanos,
        metadata,
    }
}

fn entry(key: &str, value: &str) -> MetadataEntry {
    MetadataEntry {
        key: key.to_string(),
        value: bytes::Bytes::copy_from_slice(value.as_bytes()),
    }
}

/// The batch a spool record holds, its meta restored as far as it was kept.
/// The payload was validated when it was first received; it is forwarded as
/// bytes and decoded only if the exporter needs records.
pub(super) fn batch_of(record: SpoolRecord) -> Batch {
    let signal = match crate::spool::Signal::try_from(record.signal) {
        Ok(crate::spool::Signal::Traces) => Signal::Traces,
        Ok(crate::spool::Signal::Metrics) => Signal::Metrics,
        _ => Signal::Logs,
    };
    let mut meta = BatchMeta::default();
    let age = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(Duration::ZERO, |now| {
            now.saturating_sub(Duration::from_nanos(record.received_at_unix_nanos))
        });
    if let Some(at) = meta.received_at.checked_sub(age) {
        meta.received_at = at;
    }
    let mut client = ClientInfo::default();
    for m in record.metadata {
        let value: Arc<str> = String::from_utf8_lossy(&m.value).into();
        match m.key.as_str() {
            META_RECEIVER => meta.receiver = Some(value),
            META_SUBJECT => client.subject = Some(value),
            _ => client.headers.push((m.key.into(), value)),
        }
    }
    if client.subject.is_some() || !client.headers.is_empty() {
        meta.client = Some(Arc::new(client));
    }
    Batch::from_encoded(signal, record.payload, record.items as usize, meta)
}
