use weir_core::otlp::common::v1::{AnyValue, KeyValue, any_value};
use weir_core::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use weir_core::{Signal, SignalData};

use super::tests_gen::Gen;
use super::*;

fn encode(data: &SignalData) -> Vec<u8> {
    let mut out = Vec::new();
    data.encode_to(&mut out);
    out
}

/// The walk and prost agree: both refuse, or both accept with the same counts.
fn agrees_with_prost(signal: Signal, bytes: &[u8]) -> Result<WireSummary, WireError> {
    let walked = inspect(signal, bytes);
    match (&walked, SignalData::decode(signal, bytes)) {
        (Ok(sum), Ok(data)) => {
            assert_eq!(sum.items, data.item_count(), "items of {bytes:?}");
            let resources = match &data {
                SignalData::Logs(v) => v.len(),
                SignalData::Traces(v) => v.len(),
                SignalData::Metrics(v) => v.len(),
            };
            assert_eq!(sum.resources, resources);
            let mut filtered = data.clone();
            let rejected = crate::validate::remove_invalid(&mut filtered);
            assert_eq!(
                sum.invalid_items, rejected.items,
                "invalid items of {bytes:?}"
            );
            assert_eq!(sum.first_invalid.is_some(), rejected.items > 0);
            if let Some(first) = sum.first_invalid {
                assert!(rejected.reasons[0].ends_with(first), "{first}");
            }
        }
        (Err(_), Err(_)) => {}
        (w, p) => panic!(
            "walk {w:?} but prost {:?} for {signal} {bytes:?}",
            p.map(|_| ())
        ),
    }
    walked
}

#[test]
fn counts_match_prost_on_random_data() {
    let mut total = 0;
    for seed in 0..300 {
        let mut g = Gen::new(seed);
        for signal in Signal::ALL {
            let data = g.data(signal);
            let sum = agrees_with_prost(signal, &encode(&data)).expect("valid");
            total += sum.items;
        }
    }
    assert!(total > 1000, "the generator makes items: {total}");
}

#[test]
fn every_truncation_agrees_with_prost() {
    let mut checked = 0;
    for seed in 0..40 {
        let mut g = Gen::new(seed);
        for signal in Signal::ALL {
            let bytes = encode(&g.data(signal));
            if bytes.len() > 4000 {
                continue;
            }
            for cut in 0..bytes.len() {
                agrees_with_prost(signal, &bytes[..cut]).ok();
                checked += 1;
            }
        }
    }
    assert!(checked > 5000, "{checked}");
}

#[test]
fn random_corruption_agrees_with_prost() {
    let mut refused = 0;
    for seed in 0..200 {
        let mut g = Gen::new(seed);
        for signal in Signal::ALL {
            let bytes = encode(&g.data(signal));
            if bytes.is_empty() {
                continue;
            }
            for _ in 0..30 {
                let mut b = bytes.clone();
                for _ in 0..1 + g.u64() % 3 {
                    let i = (g.u64() % b.len() as u64) as usize;
                    b[i] = match g.u64() % 4 {
                        0 => b[i] ^ (1 << (g.u64() % 8)),
                        1 => 0xff,
                        2 => b[i].wrapping_add(1),
                        _ => g.u64() as u8,
                    };
                }
                refused += agrees_with_prost(signal, &b).is_err() as usize;
            }
        }
    }
    assert!(refused > 1000, "corruption is caught: {refused}");
}

// Hand-made protobuf for the cases random data cannot reach.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}
fn key(field: u32, wt: u8) -> Vec<u8> {
    let mut out = Vec::new();
    varint(u64::from(field) << 3 | u64::from(wt), &mut out);
    out
}
fn len_field(field: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = key(field, 2);
    varint(payload.len() as u64, &mut out);
    out.extend_from_slice(payload);
    out
}
/// A logs request holding one record with `record` as its bytes.
fn logs_with_record(record: &[u8]) -> Vec<u8> {
    len_field(1, &len_field(2, &len_field(2, record)))
}

#[test]
fn empty_and_minimal_requests() {
    for s in Signal::ALL {
        assert_eq!(inspect(s, b"").unwrap(), WireSummary::default());
    }
    let sum = agrees_with_prost(Signal::Logs, &logs_with_record(b"")).unwrap();
    assert_eq!(
        sum,
        WireSummary {
            items: 1,
            resources: 1,
            ..Default::default()
        }
    );
}

#[test]
fn ids_of_impossible_lengths_are_counted_as_invalid_items() {
    // trace_id (9) of 5 bytes, span_id (10) of 8: invalid.
    let bad = [len_field(9, &[1; 5]), len_field(10, &[2; 8])].concat();
    let good = [len_field(9, &[1; 16]), len_field(10, &[2; 8])].concat();
    let scope = [len_field(2, &bad), len_field(2, &good), len_field(2, b"")].concat();
    let bytes = len_field(1, &len_field(2, &scope));
    let sum = agrees_with_prost(Signal::Logs, &bytes).unwrap();
    assert_eq!((sum.items, sum.invalid_items), (3, 1));
    assert_eq!(
        sum.first_invalid,
        Some("log record trace_id is neither empty nor 16 bytes")
    );
    // The last of a repeated field counts, as in prost: 16 bytes after 5 is fine.
    let fixed = [len_field(9, &[1; 5]), len_field(9, &[1; 16])].concat();
    let sum = agrees_with_prost(Signal::Logs, &logs_with_record(&fixed)).unwrap();
    assert_eq!(sum.invalid_items, 0);

    // Spans need both ids; parent_span_id (4) may be empty or 8 bytes.
    let span = |trace: usize, span: usize, parent: usize| {
        let mut s = [len_field(1, &vec![1; trace]), len_field(2, &vec![2; span])].concat();
        if parent > 0 {
            s.extend(len_field(4, &vec![3; parent]));
        }
        len_field(2, &s)
    };
    let scope = [
        span(16, 8, 0),
        span(16, 8, 8),
        span(0, 8, 0),
        span(16, 7, 0),
        span(16, 8, 3),
    ]
    .concat();
    let bytes = len_field(1, &len_field(2, &scope));
    let sum = agrees_with_prost(Signal::Traces, &bytes).unwrap();
    assert_eq!((sum.items, sum.invalid_items), (5, 3));
    assert_eq!(sum.first_invalid, Some("span trace_id is not 16 bytes"));
}

#[test]
fn invalid_utf8_is_refused_where_it_is() {
    let kv = [len_field(1, b"ok\xffno"), len_field(2, &len_field(1, b"v"))].concat();
    let bytes = logs_with_record(&len_field(6, &kv));
    let err = agrees_with_prost(Signal::Logs, &bytes).unwrap_err();
    assert_eq!(err.message, "string field 1 of KeyValue is not valid UTF-8");
    assert_eq!(&bytes[err.offset..err.offset + 2], b"ok");
    // The same bytes in a `bytes` field (the trace id) are fine.
    agrees_with_prost(Signal::Logs, &logs_with_record(&len_field(9, b"ok\xffno"))).unwrap();
}

#[test]
fn wrong_wire_types_are_refused() {
    // severity_text (3) as a varint, body (5) as fixed64, time (1) as a varint.
    for record in [
        [key(3, 0), vec![1]].concat(),
        [key(5, 1), vec![0; 8]].concat(),
        [key(1, 0), vec![1]].concat(),
    ] {
        let err = agrees_with_prost(Signal::Logs, &logs_with_record(&record)).unwrap_err();
        assert!(err.message.contains("of LogRecord has wire type"), "{err}");
    }
    // Wire types 6 and 7 do not exist; 4 (end group) cannot start a field.
    for wt in [4, 6, 7] {
        agrees_with_prost(Signal::Logs, &logs_with_record(&key(20, wt))).unwrap_err();
    }
    // Field number 0 is invalid.
    agrees_with_prost(Signal::Logs, &logs_with_record(&[0, 1])).unwrap_err();
}

#[test]
fn unknown_fields_are_skipped_by_wire_type() {
    let unknown = [
        [key(4, 0), vec![0x96, 0x01]].concat(), // field 4 is reserved in LogRecord
        [key(99, 1), vec![7; 8]].concat(),
        [key(100, 5), vec![7; 4]].concat(),
        len_field(1000, b"\xff\xfe not utf-8 is fine when unknown"),
        // A group with a nested group and a varint inside.
        [
            key(30, 3),
            key(31, 3),
            key(1, 0),
            vec![5],
            key(31, 4),
            key(30, 4),
        ]
        .concat(),
    ]
    .concat();
    let record = [len_field(3, b"INFO"), unknown.clone(), key(2, 0), vec![9]].concat();
    let sum = agrees_with_prost(Signal::Logs, &logs_with_record(&record)).unwrap();
    assert_eq!(sum.items, 1);
    // Unknown fields at the top level and in ResourceLogs too.
    let bytes = [
        unknown.clone(),
        len_field(1, &[unknown, len_field(2, &len_field(2, b""))].concat()),
    ]
    .concat();
    assert_eq!(agrees_with_prost(Signal::Logs, &bytes).unwrap().items, 1);
    // Unbalanced groups are refused.
    agrees_with_prost(
        Signal::Logs,
        &logs_with_record(&[key(30, 3), key(31, 4)].concat()),
    )
    .unwrap_err();
    agrees_with_prost(Signal::Logs, &logs_with_record(&key(30, 3))).unwrap_err();
}

#[test]
fn varints_follow_prost() {
    // 10-byte varints: a last byte of 1 is fine, 2 overflows; 11 bytes never.
    let ok = [key(7, 0), vec![0xff; 9], vec![0x01]].concat();
    agrees_with_prost(Signal::Logs, &logs_with_record(&ok)).unwrap();
    let overflow = [key(7, 0), vec![0xff; 9], vec![0x02]].concat();
    agrees_with_prost(Signal::Logs, &logs_with_record(&overflow)).unwrap_err();
    let long = [key(7, 0), vec![0x80; 10], vec![0x00]].concat();
    agrees_with_prost(Signal::Logs, &logs_with_record(&long)).unwrap_err();
    // A key above u32::MAX.
    agrees_with_prost(
        Signal::Logs,
        &logs_with_record(&[0xff, 0xff, 0xff, 0xff, 0x7f]),
    )
    .unwrap_err();
}

#[test]
fn packed_and_unpacked_repeated_scalars() {
    // A histogram point: bucket_counts (6) packed and unpacked, explicit_bounds (7).
    let point = [
        len_field(6, &[1u8; 16]),
        key(6, 1),
        vec![2; 8],
        len_field(7, &[0u8; 8]),
        key(7, 1),
        vec![0; 8],
    ]
    .concat();
    let metric = |data: Vec<u8>| len_field(1, &len_field(2, &len_field(2, &data)));
    let hist = |p: &[u8]| metric(len_field(9, &len_field(1, p)));
    assert_eq!(
        agrees_with_prost(Signal::Metrics, &hist(&point))
            .unwrap()
            .items,
        1
    );
    // A packed fixed64 run that is not a multiple of 8 bytes.
    agrees_with_prost(Signal::Metrics, &hist(&len_field(6, &[1u8; 12]))).unwrap_err();
    // Exponential buckets (uint64, packed varints or not); a varint cut by the run's end.
    let exp = |b: &[u8]| metric(len_field(10, &len_field(1, &len_field(8, b))));
    let good = [len_field(2, &[1, 0x80, 0x01, 3]), key(2, 0), vec![5]].concat();
    assert_eq!(
        agrees_with_prost(Signal::Metrics, &exp(&good))
            .unwrap()
            .items,
        1
    );
    agrees_with_prost(Signal::Metrics, &exp(&len_field(2, &[1, 0x80]))).unwrap_err();
}

#[test]
fn metric_data_oneof_counts_like_prost() {
    let gauge = |points: usize| len_field(5, &len_field(1, b"").repeat(points));
    let sum = |points: usize| len_field(7, &len_field(1, b"").repeat(points));
    let metric = |m: Vec<u8>| len_field(1, &len_field(2, &len_field(2, &m)));
    // The same case twice merges; a different case replaces.
    assert_eq!(
        agrees_with_prost(Signal::Metrics, &metric([gauge(2), gauge(3)].concat()))
            .unwrap()
            .items,
        5
    );
    assert_eq!(
        agrees_with_prost(Signal::Metrics, &metric([gauge(2), sum(1)].concat()))
            .unwrap()
            .items,
        1
    );
    assert_eq!(
        agrees_with_prost(
            Signal::Metrics,
            &metric([gauge(2), sum(1), gauge(4)].concat())
        )
        .unwrap()
        .items,
        4
    );
    // is_monotonic (3) is a Sum field only: in a Gauge it is unknown and skipped.
    let odd_gauge = len_field(5, &[key(3, 2), vec![0]].concat());
    agrees_with_prost(Signal::Metrics, &metric(odd_gauge)).unwrap();
    let bad_sum = len_field(7, &[key(3, 2), vec![0]].concat());
    agrees_with_prost(Signal::Metrics, &metric(bad_sum)).unwrap_err();
}

#[test]
fn nesting_is_bounded_like_prost() {
    // Arrays in arrays: AnyValue -> ArrayValue -> AnyValue ...
    let nested = |levels: usize| {
        let mut v = len_field(1, b"leaf");
        for _ in 0..levels {
            v = len_field(5, &len_field(1, &v));
        }
        logs_with_record(&len_field(5, &v))
    };
    // Request + 3 levels to the record + body: around prost's limit of 100, the
    // walk accepts and refuses exactly where prost does.
    let mut last_ok = 0;
    for levels in 40..55 {
        if agrees_with_prost(Signal::Logs, &nested(levels)).is_ok() {
            last_ok = levels;
        }
    }
    assert!((40..54).contains(&last_ok), "{last_ok}");
    let err = inspect(Signal::Logs, &nested(1000)).unwrap_err();
    assert!(err.message.contains("nest deeper"), "{err}");
}

#[test]
fn lengths_past_the_end_are_refused() {
    let mut bytes = logs_with_record(&len_field(3, b"INFO"));
    let n = bytes.len();
    bytes[n - 5] = 50; // the string's length
    let err = agrees_with_prost(Signal::Logs, &bytes).unwrap_err();
    assert!(err.message.contains("runs past"), "{err}");
}

/// A log record like DESIGN.md §3 measures: ~10 attributes, a 300-byte body.
pub(crate) fn bench_logs(records: usize) -> SignalData {
    let record = |i: usize| LogRecord {
        time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
        observed_time_unix_nano: 1_700_000_000_000_000_500 + i as u64,
        severity_number: 9,
        severity_text: "INFO".into(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(
                format!("{i:08} {}", "lorem ipsum dolor ".repeat(20))[..300].into(),
            )),
        }),
        attributes: (0..10)
            .map(|k| KeyValue {
                key: format!("attribute.key.{k}"),
                value: Some(AnyValue {
                    value: Some(if k % 3 == 0 {
                        any_value::Value::IntValue(i as i64 * k)
                    } else {
                        any_value::Value::StringValue(format!("value-{k}-{i}"))
                    }),
                }),
                key_strindex: 0,
            })
            .collect(),
        trace_id: vec![7; 16],
        span_id: vec![3; 8],
        ..Default::default()
    };
    SignalData::Logs(vec![ResourceLogs {
        scope_logs: vec![ScopeLogs {
            log_records: (0..records).map(record).collect(),
            ..Default::default()
        }],
        ..Default::default()
    }])
}

/// `cargo test -p weir-otlp --release -- --ignored --nocapture inspect_speed`
#[test]
#[ignore = "a measurement, run in release mode"]
fn inspect_speed() {
    let bytes = encode(&bench_logs(1000));
    let rounds = 2000;
    let t = std::time::Instant::now();
    for _ in 0..rounds {
        assert_eq!(
            inspect(Signal::Logs, std::hint::black_box(&bytes))
                .unwrap()
                .items,
            1000
        );
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / (rounds * 1000) as f64;
    let t = std::time::Instant::now();
    for _ in 0..rounds / 10 {
        std::hint::black_box(SignalData::decode(Signal::Logs, &bytes).unwrap());
    }
    let prost = t.elapsed().as_secs_f64() * 1e6 / (rounds / 10 * 1000) as f64;
    println!(
        "inspect: {per:.3} µs/record, prost decode: {prost:.3} µs/record, {} bytes/record",
        bytes.len() / 1000
    );
}
