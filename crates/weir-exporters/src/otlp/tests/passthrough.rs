//! Compressed pass-through: a body the `otlp` receiver got gzip-compressed
//! leaves through an exporter of the same encoding as the same compressed
//! bytes, never decompressed-and-recompressed; a changed batch is compressed
//! afresh.

use std::sync::Arc;
use std::time::Duration;

use weir_core::testing::CollectSink;
use weir_core::{ContentEncoding, Output, Receiver, ReceiverContext, Shutdown};
use weir_otlp::compression::{Encoding, compress, decompress};
use weir_receivers::otlp::{OtlpConfig, OtlpReceiver};

use super::servers::{Recorder, http_server, raw_grpc_server};
use super::*;

/// Starts an HTTP-only receiver into a collector; returns its address.
async fn receiver() -> (SocketAddr, CollectSink, weir_core::ShutdownTrigger) {
    let cx = BuildContext::for_test("otlp", Kind::Receiver, &Signal::ALL);
    let yaml = "protocols: { http: { endpoint: '127.0.0.1:0' } }";
    let config = OtlpConfig::from_component(&ComponentConfig::from_yaml(yaml).unwrap()).unwrap();
    let receiver = OtlpReceiver::new(config, &cx).unwrap();
    let sink = CollectSink::new();
    let shared: Arc<dyn weir_core::BatchSink> = Arc::new(sink.clone());
    let output = Output::new(&cx.telemetry, Signal::ALL.map(|s| (s, shared.clone())));
    let (trigger, shutdown) = Shutdown::new();
    let mut bound = receiver.bound();
    tokio::spawn(Box::new(receiver).run(ReceiverContext::new(output, shutdown, cx.telemetry)));
    let addrs = tokio::time::timeout(Duration::from_secs(10), bound.wait_for(Option::is_some))
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    (addrs.http.unwrap(), sink, trigger)
}

/// A gzip body no gzip-1 compression of ours would reproduce: two members,
/// the second at level 9.
fn foreign_gzip(body: &[u8]) -> Bytes {
    let cut = body.len() / 3;
    let mut out = compress(Encoding::Gzip, &body[..cut], Some(6));
    out.extend(compress(Encoding::Gzip, &body[cut..], Some(9)));
    out.into()
}

#[tokio::test]
async fn gzip_bodies_pass_through_receiver_and_exporter_as_they_came() {
    let (addr, sink, trigger) = receiver().await;
    let data = logs(2, 2, 50, 40);
    let mut buf = Vec::new();
    data.encode_to(&mut buf);
    let wire = foreign_gzip(&buf);
    let reply = reqwest::Client::new()
        .post(format!("http://{addr}/v1/logs"))
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "gzip")
        .body(wire.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let batch = sink.take().pop().expect("a batch");
    assert_eq!(batch.received_bytes().map(|b| &b[..]), Some(&buf[..]));
    assert_eq!(batch.compressed_bytes(ContentEncoding::Gzip), Some(&wire));

    // HTTP/protobuf with gzip: the very bytes the client sent.
    let rec = Recorder::default();
    let http = exporter_to(
        "http/protobuf",
        http_server(rec.clone()).await,
        "compression: gzip",
    );
    assert_eq!(
        http.export(&batch).await.unwrap(),
        ExportOutcome::delivered(200)
    );
    let got = rec.received().pop().unwrap();
    assert_eq!(got.headers["content-encoding"], "gzip");
    assert!(got.wire == wire, "sent as received, not recompressed");
    assert!(got.body[..] == buf[..]);

    // gRPC with gzip: the same bytes inside a frame flagged compressed.
    let rec = Recorder::default();
    let grpc = exporter_to(
        "grpc",
        raw_grpc_server(rec.clone()).await,
        "compression: gzip",
    );
    assert_eq!(
        grpc.export(&batch).await.unwrap(),
        ExportOutcome::delivered(200)
    );
    let got = rec.received().pop().unwrap();
    assert_eq!(got.headers["grpc-encoding"], "gzip");
    assert_eq!(got.wire[0], 1, "compressed flag");
    assert_eq!(
        u32::from_be_bytes(got.wire[1..5].try_into().unwrap()) as usize,
        wire.len()
    );
    assert!(got.wire[5..] == wire[..], "sent as received");

    // Another encoding: compressed afresh, from the uncompressed bytes.
    let rec = Recorder::default();
    let zstd = exporter_to(
        "http/protobuf",
        http_server(rec.clone()).await,
        "compression: zstd",
    );
    zstd.export(&batch).await.unwrap();
    let got = rec.received().pop().unwrap();
    assert_eq!(got.headers["content-encoding"], "zstd");
    assert!(got.body[..] == buf[..]);

    // A changed batch loses its compressed bytes and is compressed afresh.
    let mut changed = batch.clone();
    changed.logs_mut().unwrap()[0].scope_logs[0]
        .log_records
        .pop();
    assert_eq!(changed.compressed(), None);
    let rec = Recorder::default();
    let http = exporter_to(
        "http/protobuf",
        http_server(rec.clone()).await,
        "compression: gzip",
    );
    assert_eq!(
        http.export(&changed).await.unwrap(),
        ExportOutcome::delivered(199)
    );
    let got = rec.received().pop().unwrap();
    assert!(got.wire != wire);
    assert!(got.wire == compress(Encoding::Gzip, &changed.to_protobuf(), None));
    assert!(decompress(Encoding::Gzip, &got.wire, usize::MAX).unwrap() == changed.to_protobuf());

    // A batch over max_request_bytes is split: parts are compressed afresh.
    let rec = Recorder::default();
    let small = exporter_to(
        "http/protobuf",
        http_server(rec.clone()).await,
        &format!("compression: gzip\nmax_request_bytes: {}", buf.len() / 2),
    );
    assert_eq!(
        small.export(&batch).await.unwrap(),
        ExportOutcome::delivered(200)
    );
    let got = rec.received();
    assert!(got.len() > 1);
    assert!(got.iter().all(|r| r.wire != wire));
    trigger.trigger();
}

/// Release-mode measurement of the exporter's CPU per record with and without
/// the compressed companion: `cargo test --release -p weir-exporters
/// measure_gzip_pass_through -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn measure_gzip_pass_through() {
    let rec = Recorder::default();
    let addr = http_server(rec.clone()).await;
    let http = exporter_to("http/protobuf", addr, "compression: gzip");
    // Log-like bodies of ~300 bytes from a small vocabulary with numbers, which
    // compress about as real logs do (4-6x), unlike a run of one letter.
    let mut data = logs(1, 1, 1000, 0);
    let words = [
        "user",
        "GET",
        "/api/v1/orders",
        "status=200",
        "latency_ms",
        "id",
        "error",
        "cache",
        "miss",
        "db",
        "query",
        "took",
        "request",
        "session",
        "checkout",
    ];
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    if let SignalData::Logs(rl) = &mut data {
        for r in &mut rl[0].scope_logs[0].log_records {
            let mut text = String::new();
            while text.len() < 300 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                text.push_str(words[(x % words.len() as u64) as usize]);
                text.push_str(&format!("={} ", x % 100_000));
            }
            r.body = super::text(text);
        }
    }
    let (plain, bytes) = received(&data);
    let wire = Bytes::from(compress(Encoding::Gzip, &bytes, None));
    let with = plain.clone().with_compressed(ContentEncoding::Gzip, wire);
    for (name, batch) in [("recompress", &plain), ("pass-through", &with)] {
        let rounds = 200;
        let cpu = || {
            // Process CPU time (user + system), in µs.
            let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
            let f: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap()
                .split_whitespace()
                .collect();
            let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
            ticks * 10_000
        };
        http.export(batch).await.unwrap();
        let (t0, c0) = (std::time::Instant::now(), cpu());
        for _ in 0..rounds {
            http.export(batch).await.unwrap();
        }
        let records = (rounds * 1000) as f64;
        println!(
            "{name}: wall {:.2} µs/record, process CPU {:.2} µs/record (exporter + test server)",
            t0.elapsed().as_secs_f64() * 1e6 / records,
            (cpu() - c0) as f64 / records
        );
        rec.received();
    }
    let t0 = std::time::Instant::now();
    for _ in 0..200 {
        std::hint::black_box(compress(Encoding::Gzip, &bytes, None));
    }
    println!(
        "gzip-1 compression alone (what pass-through saves): {:.2} µs/record",
        t0.elapsed().as_secs_f64() * 1e6 / 200_000.0
    );
}
