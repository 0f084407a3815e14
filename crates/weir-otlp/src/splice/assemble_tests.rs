//! Tests of [`Assembly`](super::Assembly).
use super::*;
use crate::splice::Layout;
use prost::Message;
use weir_core::otlp::collector::logs::v1::ExportLogsServiceRequest;
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::otlp::resource::v1::Resource as OtlpResource;

fn request(records: &[u64], schema: &str) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(OtlpResource {
                dropped_attributes_count: 3,
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: records
                    .iter()
                    .map(|t| LogRecord {
                        time_unix_nano: *t,
                        body: Some(Default::default()),
                        ..Default::default()
                    })
                    .collect(),
                schema_url: schema.into(),
                ..Default::default()
            }],
            schema_url: "r".into(),
        }],
    }
}

/// Copies every unit of `buf` into `a`, one group per input group.
fn copy_all(a: &mut Assembly, buf: Bytes) {
    let l = Layout::of(&buf).unwrap();
    let src = a.add_source(buf.clone());
    for r in &l.resources {
        let ri = a.add_resource(Header::from_layout(src, l.header(&r.header)));
        for s in &l.scopes[r.scopes.clone()] {
            let slot = a.add_scope(ri, Header::from_layout(src, l.header(&s.header)));
            for u in &l.units[s.units.clone()] {
                let before = a.size_with(slot, u.len());
                assert_eq!(a.push_unit(slot, [Piece::new(src, u.clone())]), before);
            }
        }
    }
}

#[test]
fn reassembling_a_request_gives_its_bytes_back() {
    let req = request(&[1, 2, 300_000], "s");
    let buf = Bytes::from(req.encode_to_vec());
    let mut a = Assembly::new();
    a.write_directly(0);
    copy_all(&mut a, buf.clone());
    assert_eq!(a.size(), buf.len());
    assert_eq!(a.finish(), buf.to_vec());
    assert_eq!(a.clone().finish_bytes(), buf);
    assert_eq!(a.unit_count(), 3);
}

#[test]
fn units_from_two_sources_and_the_arena_in_one_group() {
    let one = Bytes::from(request(&[1], "s").encode_to_vec());
    let two = Bytes::from(request(&[2, 3], "s").encode_to_vec());
    let mut a = Assembly::new();
    copy_all(&mut a, one);
    let l = Layout::of(&two).unwrap();
    let src = a.add_source(two.clone());
    let slot = Slot {
        resource: 0,
        scope: 0,
    };
    for u in &l.units {
        a.push_unit(slot, [Piece::new(src, u.clone())]);
    }
    // A unit written in the arena: a record with time 4.
    let at = a.arena().len();
    LogRecord {
        time_unix_nano: 4,
        ..Default::default()
    }
    .encode_raw(a.arena());
    let p = a.arena_piece(at);
    a.push_unit(slot, [p]);
    let out = a.finish();
    assert_eq!(a.clone().finish_bytes(), out);
    assert_eq!(out.len(), a.size());
    let got = ExportLogsServiceRequest::decode(&out[..]).unwrap();
    assert_eq!(got.resource_logs.len(), 1);
    let times: Vec<u64> = got.resource_logs[0].scope_logs[0]
        .log_records
        .iter()
        .map(|r| r.time_unix_nano)
        .collect();
    assert_eq!(times, [1, 2, 3, 4]);
    assert_eq!(got.resource_logs[0].scope_logs[0].schema_url, "s");
    assert_eq!(got.resource_logs[0].schema_url, "r");
}

#[test]
fn empty_groups_are_left_out_and_sizes_stay_exact_across_varint_widths() {
    let mut a = Assembly::new();
    a.write_directly(0);
    let empty = a.add_resource(Header::default());
    a.add_scope(empty, Header::default());
    let r = a.add_resource(Header::default());
    let slot = a.add_scope(r, Header::default());
    let big = LogRecord {
        severity_text: "x".repeat(197),
        ..Default::default()
    }
    .encode_to_vec();
    assert_eq!(big.len(), 200);
    let src = a.add_source(Bytes::from(big));
    // Bodies crossing 127 and 16383 bytes widen the length prefixes.
    for _ in 0..100 {
        a.push_unit(slot, [Piece::new(src, 0..200)]);
    }
    let out = a.finish();
    assert_eq!(a.clone().finish_bytes(), out);
    // The empty group costs nothing in the output, but was counted.
    assert_eq!(out.len() + field_len(field_len(0)), a.size());
    let got = ExportLogsServiceRequest::decode(&out[..]).unwrap();
    assert_eq!(got.resource_logs.len(), 1);
}

#[test]
fn one_group_is_written_in_place_and_more_groups_copy_the_first() {
    let one = Bytes::from(request(&[1, 2], "s").encode_to_vec());
    let other = Bytes::from(request(&[3], "t").encode_to_vec());
    let mut a = Assembly::new();
    copy_all(&mut a, one.clone());
    // Turned on after the first units: they are written first.
    a.write_directly(64);
    assert_eq!(a.clone().finish_bytes(), one);
    // A second scope group after the first's units: both copied out.
    let l = Layout::of(&other).unwrap();
    let src = a.add_source(other.clone());
    let slot = a.add_scope(0, Header::from_layout(src, l.header(&l.scopes[0].header)));
    a.push_unit(slot, [Piece::new(src, l.units[0].clone())]);
    // And one more unit in the first, after the second group opened.
    a.push_unit(
        Slot {
            resource: 0,
            scope: 0,
        },
        [Piece::new(src, l.units[0].clone())],
    );
    let out = a.finish();
    assert_eq!(a.clone().finish_bytes(), out);
    assert_eq!(out.len(), a.size());
    let got = ExportLogsServiceRequest::decode(&out[..]).unwrap();
    let scopes = &got.resource_logs[0].scope_logs;
    let times = |i: usize| -> Vec<u64> {
        scopes[i]
            .log_records
            .iter()
            .map(|r| r.time_unix_nano)
            .collect()
    };
    assert_eq!((times(0), times(1)), (vec![1, 2, 3], vec![3]));
    assert_eq!(scopes[1].schema_url, "t");
}
