//! A batch of OTLP log records as Ledger request bodies: each record mapped
//! to a LogEntry (`weir_ledger::otlp`), fitted to the server's limits
//! (`weir_ledger::fit`), and written straight into `{"logs": [...]}` bodies
//! of at most `max` entries, gzipped when asked.

use bytes::Bytes;
use weir_core::{Batch, ExportError, SignalData};
use weir_ledger::settings::Constraints;
use weir_otlp::compression::{self, Encoding};

/// gzip level: fast. Ledger's bodies are JSON, which even level 1 shrinks
/// 5-10x; higher levels cost far more CPU than they save in bytes.
const GZIP_LEVEL: i32 = 1;

/// One request body.
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    /// The body, compressed when asked.
    pub(crate) body: Bytes,
    /// Entries in it.
    pub(crate) entries: usize,
}

/// What encoding a batch gave.
#[derive(Debug, Default)]
pub(crate) struct Encoded {
    pub(crate) chunks: Vec<Chunk>,
    /// Entries that had something cut to fit.
    pub(crate) truncated: usize,
}

/// Encodes the log records of `batch` into bodies of at most `max` entries.
pub(crate) fn encode(
    batch: &Batch,
    max: usize,
    limits: &Constraints,
    now_unix_nano: u64,
    gzip: bool,
) -> Result<Encoded, ExportError> {
    let data = batch.data().map_err(|e| {
        ExportError::permanent("undecodable", format!("cannot decode the batch: {e}"))
    })?;
    let SignalData::Logs(resource_logs) = data else {
        return Err(ExportError::permanent(
            "not_logs",
            "the ledger exporter takes logs only",
        ));
    };
    let mut out = Encoded::default();
    let mut body = Vec::new();
    let mut in_body = 0;
    let finish = |body: &mut Vec<u8>, n: &mut usize, out: &mut Encoded| {
        body.extend_from_slice(b"]}");
        let raw = std::mem::take(body);
        let bytes = if gzip {
            compression::compress(Encoding::Gzip, &raw, Some(GZIP_LEVEL))
        } else {
            raw
        };
        out.chunks.push(Chunk {
            body: Bytes::from(bytes),
            entries: *n,
        });
        *n = 0;
    };
    for rl in resource_logs {
        let resource = rl.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
        for sl in &rl.scope_logs {
            for record in &sl.log_records {
                if in_body == 0 {
                    body.extend_from_slice(b"{\"logs\":[");
                } else {
                    body.push(b',');
                }
                let cut = weir_ledger::otlp::write_fitted_entry(
                    &mut body,
                    resource,
                    record,
                    limits,
                    now_unix_nano,
                )
                .map_err(|e| {
                    ExportError::permanent("encode", format!("cannot write an entry: {e}"))
                })?;
                out.truncated += usize::from(cut);
                in_body += 1;
                if in_body == max {
                    finish(&mut body, &mut in_body, &mut out);
                }
            }
        }
    }
    if in_body > 0 {
        finish(&mut body, &mut in_body, &mut out);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use weir_core::BatchMeta;
    use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value};
    use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use weir_core::otlp::resource::v1::Resource;

    const NOW: u64 = 1_765_000_000_000_000_000;

    fn batch(n: usize) -> Batch {
        let s = |v: &str| {
            Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            })
        };
        Batch::logs(
            vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![KeyValue {
                        key: "service.name".into(),
                        value: s("billing"),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                scope_logs: vec![ScopeLogs {
                    log_records: (0..n)
                        .map(|i| LogRecord {
                            time_unix_nano: NOW - 1_000,
                            severity_number: 9,
                            body: s(&format!("line {i}")),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            BatchMeta::default(),
        )
    }

    #[test]
    fn bodies_hold_at_most_max_valid_entries() {
        let e = encode(&batch(2500), 1000, &Constraints::default(), NOW, false).unwrap();
        let sizes: Vec<usize> = e.chunks.iter().map(|c| c.entries).collect();
        assert_eq!(sizes, [1000, 1000, 500]);
        for c in &e.chunks {
            let entries = weir_ledger::gateway::parse_batch(&c.body).expect("a valid Ledger batch");
            assert_eq!(entries.len(), c.entries);
            for entry in &entries {
                assert_eq!(weir_ledger::ingest::check(entry, NOW), Ok(()));
            }
        }
        let first = weir_ledger::gateway::parse_batch(&e.chunks[0].body).unwrap();
        assert_eq!(first[0].message.as_deref(), Some("line 0"));
        assert_eq!(
            first[0].attributes.as_ref().unwrap()["service.name"],
            "billing"
        );
    }

    #[test]
    fn gzip_bodies_inflate_to_the_same_json() {
        let plain = encode(&batch(10), 1000, &Constraints::default(), NOW, false).unwrap();
        let zipped = encode(&batch(10), 1000, &Constraints::default(), NOW, true).unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&zipped.chunks[0].body[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, plain.chunks[0].body.to_vec());
        assert!(zipped.chunks[0].body.len() < out.len());
    }
}
