//! OTLP/HTTP: good requests in each encoding, each kind of bad one, auth,
//! backpressure, CORS and keep-alive.

use std::sync::Arc;

use bytes::Bytes;
use prost::Message;
use weir_core::telemetry::reasons;
use weir_core::{Signal, SignalData};
use weir_otlp::compression::{Encoding, compress};

use super::*;

const PATHS: [(Signal, &str); 3] = [
    (Signal::Logs, "/v1/logs"),
    (Signal::Traces, "/v1/traces"),
    (Signal::Metrics, "/v1/metrics"),
];

#[tokio::test]
async fn protobuf_requests_arrive_as_the_bytes_sent() {
    let server = start("").await;
    for (signal, path) in PATHS {
        let body = request(signal, 3);
        let reply = post(server.http, path, &[PROTOBUF], body.clone()).await;
        assert_eq!(reply.status, 200, "{signal}: {reply:?}");
        assert_eq!(reply.header("content-type"), Some("application/x-protobuf"));
        let batches = server.batches();
        assert_eq!(batches.len(), 1, "{signal}");
        let b = &batches[0];
        assert_eq!((b.signal(), b.items()), (signal, 3));
        assert_eq!(b.received_bytes(), Some(&body), "forwarded as received");
        assert!(!b.is_decoded(), "not decoded on the way in");
        let client = b.meta().client.as_ref().expect("client info");
        assert_eq!(client.addr.map(|a| a.ip()), Some([127, 0, 0, 1].into()));
        assert_eq!(b.meta().receiver.as_deref(), Some("otlp"));
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn compressed_requests_are_decompressed_and_charset_is_ignored() {
    let server = start("").await;
    for enc in [Encoding::Gzip, Encoding::Zstd] {
        let body = request(Signal::Logs, 5);
        let headers = [
            ("content-type", "application/x-protobuf; charset=utf-8"),
            ("content-encoding", enc.as_str()),
        ];
        let reply = post(
            server.http,
            "/v1/logs",
            &headers,
            compress(enc, &body, None).into(),
        )
        .await;
        assert_eq!(reply.status, 200, "{enc:?}: {reply:?}");
        let batches = server.batches();
        assert_eq!(batches[0].received_bytes(), Some(&body), "{enc:?}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn json_requests_are_decoded_and_answered_in_json() {
    let server = start("").await;
    let fixture = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
        "scopeLogs":[{"scope":{"name":"s"},"logRecords":[{"timeUnixNano":"1700000000000000000","severityNumber":9,
        "body":{"stringValue":"hello"},"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}]}"#;
    let reply = post(server.http, "/v1/logs", &[JSON], Bytes::from(fixture)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert!(answer.is_object(), "{answer}");
    let batches = server.batches();
    assert_eq!(batches.len(), 1);
    let SignalData::Logs(logs) = batches[0].data().unwrap() else {
        panic!("not logs")
    };
    let record = &logs[0].scope_logs[0].log_records[0];
    assert_eq!(record.trace_id[0], 0x5b);
    assert_eq!(record.time_unix_nano, 1_700_000_000_000_000_000);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_empty_request_succeeds_without_sending() {
    let server = start("").await;
    let reply = post(server.http, "/v1/traces", &[PROTOBUF], Bytes::new()).await;
    assert_eq!(reply.status, 200);
    let reply = post(server.http, "/v1/traces", &[JSON], Bytes::from("{}")).await;
    assert_eq!(reply.status, 200);
    assert!(server.batches().is_empty());
    server.stop().await.unwrap();
}

type Case = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    Bytes,
    u16,
    &'static str,
);

/// Each bad request gets its status and a reason, then a good one succeeds.
#[tokio::test]
async fn bad_requests_get_their_status_and_the_next_good_one_succeeds() {
    let server = start("").await;
    let good = request(Signal::Logs, 2);
    let gz = compress(Encoding::Gzip, &good, None);
    let truncated = Bytes::copy_from_slice(&gz[..gz.len() / 2]);
    // 64 MiB of zeros against a 1 MiB limit: the same ratio as 1 GiB against 20 MiB.
    let bomb = Bytes::from(compress(Encoding::Gzip, &vec![0u8; 64 << 20], None));
    assert!(bomb.len() < 1 << 20, "the bomb itself is under the limit");
    let oversize = Bytes::from(vec![0u8; (1 << 20) + 1]);
    let gzip = ("content-encoding", "gzip");
    // (what, method, headers, body, status, a word of the reason)
    let cases: Vec<Case> = vec![
        (
            "garbage protobuf",
            "POST",
            vec![PROTOBUF],
            Bytes::from_static(b"\xff\xff\xff\xff"),
            400,
            "protobuf",
        ),
        (
            "truncated gzip",
            "POST",
            vec![PROTOBUF, gzip],
            truncated,
            400,
            "gzip",
        ),
        (
            "gzip bomb",
            "POST",
            vec![PROTOBUF, gzip],
            bomb,
            413,
            "exceeds",
        ),
        (
            "wrong content type",
            "POST",
            vec![("content-type", "text/plain")],
            good.clone(),
            415,
            "content type",
        ),
        (
            "no content type",
            "POST",
            vec![],
            good.clone(),
            415,
            "content type",
        ),
        (
            "unknown encoding",
            "POST",
            vec![PROTOBUF, ("content-encoding", "br")],
            good.clone(),
            415,
            "encoding",
        ),
        (
            "oversize body",
            "POST",
            vec![PROTOBUF],
            oversize,
            413,
            "exceeds",
        ),
        (
            "invalid JSON",
            "POST",
            vec![JSON],
            Bytes::from_static(b"{\"resourceLogs\": [{"),
            400,
            "JSON",
        ),
        (
            "unknown path",
            "POST",
            vec![PROTOBUF],
            good.clone(),
            404,
            "unknown path",
        ),
        ("GET", "GET", vec![], Bytes::new(), 405, "POST"),
    ];
    for (what, method, headers, body, status, reason) in cases {
        let path = if what == "unknown path" {
            "/v1/profiles"
        } else {
            "/v1/logs"
        };
        let json = !headers.contains(&PROTOBUF);
        let mut c = connect(server.http).await;
        let reply = send(&mut c, req(method, server.http, path, &headers, body)).await;
        assert_eq!(reply.status, status, "{what}: {reply:?}");
        let message = if json {
            reply.json_message()
        } else {
            assert_eq!(
                reply.header("content-type"),
                Some("application/x-protobuf"),
                "{what}"
            );
            tonic_status_message(&reply.body)
        };
        assert!(message.contains(reason), "{what}: {message}");
        if status == 405 {
            assert_eq!(reply.header("allow"), Some("POST"));
        }
        let next = post(server.http, "/v1/logs", &[PROTOBUF], good.clone()).await;
        assert_eq!(next.status, 200, "good request after {what}");
    }
    assert_eq!(server.batches().len(), 10);
    // garbage, truncated gzip, bomb, oversize, invalid JSON: one each.
    assert_eq!(server.refused(Signal::Logs, reasons::INVALID), 5);
    server.stop().await.unwrap();
}

/// Decodes the `message` of a protobuf `google.rpc.Status`.
fn tonic_status_message(body: &[u8]) -> String {
    #[derive(Clone, PartialEq, Message)]
    struct Status {
        #[prost(int32, tag = "1")]
        code: i32,
        #[prost(string, tag = "2")]
        message: String,
    }
    let s = Status::decode(body).expect("a google.rpc.Status");
    assert_ne!(s.code, 0);
    s.message
}

#[tokio::test]
async fn bearer_auth_refuses_strangers_and_names_clients_by_alias() {
    let server = start("auth: { bearer_tokens: ['sesame'] }\n").await;
    let body = request(Signal::Logs, 1);
    for auth in [None, Some("Bearer nope"), Some("Basic sesame")] {
        let mut headers = vec![PROTOBUF];
        headers.extend(auth.map(|a| ("authorization", a)));
        let reply = post(server.http, "/v1/logs", &headers, body.clone()).await;
        assert_eq!(reply.status, 401, "{auth:?}");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
        assert!(!String::from_utf8_lossy(&reply.body).contains("sesame"));
    }
    let reply = post(
        server.http,
        "/v1/logs",
        &[PROTOBUF, ("authorization", "Bearer sesame")],
        body,
    )
    .await;
    assert_eq!(reply.status, 200);
    let batches = server.batches();
    let subject = batches[0]
        .meta()
        .client
        .as_ref()
        .unwrap()
        .subject
        .clone()
        .unwrap();
    assert!(
        subject.starts_with("tok-") && !subject.contains("sesame"),
        "{subject}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_full_pipeline_gets_503_with_retry_after() {
    let server = start_with(BASE, Some(Arc::new(Stalled)), &Signal::ALL).await;
    for (format, body) in [
        (PROTOBUF, request(Signal::Logs, 4)),
        (
            JSON,
            Bytes::from(r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{}]}]}]}"#),
        ),
    ] {
        let reply = post(server.http, "/v1/logs", &[format], body).await;
        assert_eq!(reply.status, 503, "{reply:?}");
        assert_eq!(reply.header("retry-after"), Some("1"));
    }
    assert_eq!(server.refused(Signal::Logs, reasons::BACKPRESSURE), 5);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_signal_no_pipeline_takes_is_404_with_a_reason() {
    let server = start_with(BASE, None, &[Signal::Logs]).await;
    let reply = post(
        server.http,
        "/v1/metrics",
        &[PROTOBUF],
        request(Signal::Metrics, 1),
    )
    .await;
    assert_eq!(reply.status, 404);
    assert!(tonic_status_message(&reply.body).contains("no pipeline takes metrics"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn two_requests_share_one_keep_alive_connection() {
    let server = start("").await;
    let mut c = connect(server.http).await;
    for _ in 0..2 {
        let r = send(
            &mut c,
            req(
                "POST",
                server.http,
                "/v1/logs",
                &[PROTOBUF],
                request(Signal::Logs, 1),
            ),
        )
        .await;
        assert_eq!(r.status, 200);
    }
    assert_eq!(server.batches().len(), 2);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn http2_cleartext_works_too() {
    let server = start("").await;
    let stream = tokio::net::TcpStream::connect(server.http).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let r = sender
        .send_request(req(
            "POST",
            server.http,
            "/v1/traces",
            &[PROTOBUF],
            request(Signal::Traces, 2),
        ))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(server.batches()[0].items(), 2);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn cors_answers_preflight_and_marks_allowed_origins() {
    let yaml = "protocols: { http: { endpoint: '127.0.0.1:0', cors: { allowed_origins: ['https://app.example'] } } }\n";
    let server = start_with(yaml, None, &Signal::ALL).await;
    let preflight = [
        ("origin", "https://app.example"),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type"),
    ];
    let mut c = connect(server.http).await;
    let r = send(
        &mut c,
        req("OPTIONS", server.http, "/v1/logs", &preflight, Bytes::new()),
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(r.header("access-control-allow-methods"), Some("POST"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("content-type")
    );
    let body = request(Signal::Logs, 1);
    let r = post(
        server.http,
        "/v1/logs",
        &[PROTOBUF, ("origin", "https://app.example")],
        body.clone(),
    )
    .await;
    assert_eq!(
        (r.status, r.header("access-control-allow-origin")),
        (200, Some("https://app.example"))
    );
    let r = post(
        server.http,
        "/v1/logs",
        &[PROTOBUF, ("origin", "https://evil.example")],
        body,
    )
    .await;
    assert_eq!(
        (r.status, r.header("access-control-allow-origin")),
        (200, None)
    );
    server.stop().await.unwrap();
}
