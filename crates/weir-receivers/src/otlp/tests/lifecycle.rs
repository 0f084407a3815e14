//! Building, binding, TLS and graceful shutdown.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto::ring};
use weir_core::{ReceiverFactory, Signal};

use super::*;
use crate::otlp::OtlpReceiverFactory;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/otlp/tests/tls")
        .join(name)
        .display()
        .to_string()
}

/// A sink that takes each batch after a pause: requests stay in flight a while.
struct Slow(CollectSink);

#[async_trait]
impl BatchSink for Slow {
    async fn send(&self, batch: Batch, deadline: Option<Instant>) -> Result<(), SendError> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.0.send(batch, deadline).await
    }
}

#[tokio::test]
async fn the_factory_builds_without_io_and_reports_its_endpoints() {
    let cx = BuildContext::for_test("otlp", Kind::Receiver, &[Signal::Logs]);
    // Missing TLS files are not read at build time (`weir validate` builds too).
    let cfg = ComponentConfig::from_yaml(
        "tls: { cert_file: /nonexistent/c.pem, key_file: /nonexistent/k.pem }",
    )
    .unwrap();
    let receiver = OtlpReceiverFactory.build(&cfg, &cx).unwrap();
    assert_eq!(
        receiver.endpoints(),
        vec![
            "127.0.0.1:4317".parse().unwrap(),
            "127.0.0.1:4318".parse().unwrap()
        ]
    );
    let cfg = ComponentConfig::from_yaml("protocols: { grpc: { endpoint: 'nowhere:1' } }").unwrap();
    let err = OtlpReceiverFactory.build(&cfg, &cx).err().unwrap();
    assert_eq!(err.path.as_deref(), Some("protocols.grpc.endpoint"));
    assert_eq!(OtlpReceiverFactory.signals(), &Signal::ALL);
}

#[tokio::test]
async fn a_taken_port_fails_run_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let yaml = format!("protocols: {{ grpc: {{ endpoint: '{addr}' }} }}");
    let (receiver, cx, _trigger, _, _) = build(&yaml, None, &Signal::ALL);
    let err = Box::new(receiver).run(cx).await.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("cannot listen on {addr}: ")),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_certificate_fails_run_naming_the_file() {
    let yaml = format!(
        "{BASE}tls: {{ cert_file: /nonexistent/cert.pem, key_file: '{}' }}",
        fixture("key.pem")
    );
    let (receiver, cx, _trigger, _, _) = build(&yaml, None, &Signal::ALL);
    let err = Box::new(receiver).run(cx).await.unwrap_err().to_string();
    assert!(err.contains("/nonexistent/cert.pem"), "{err}");
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish_then_returns_ok() {
    let collect = CollectSink::new();
    let server = start_with(BASE, Some(Arc::new(Slow(collect.clone()))), &Signal::ALL).await;
    let addr = server.http;
    // An idle keep-alive connection must not hold shutdown up.
    let mut idle = connect(addr).await;
    let r = send(
        &mut idle,
        req(
            "POST",
            addr,
            "/v1/logs",
            &[PROTOBUF],
            request(Signal::Logs, 1),
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    let in_flight = tokio::spawn(post(
        addr,
        "/v1/logs",
        &[PROTOBUF],
        request(Signal::Logs, 2),
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    server.stop().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(in_flight.await.unwrap().status, 200);
    assert_eq!(collect.items(), 3);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "stopped listening"
    );
}

fn tls_client(alpn: &[u8]) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(fixture("ca.pem")).unwrap())
        .unwrap();
    let mut config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn tls_wraps_both_protocols() {
    let yaml = format!(
        "{BASE}tls: {{ cert_file: '{}', key_file: '{}' }}",
        fixture("cert.pem"),
        fixture("key.pem")
    );
    let server = start_with(&yaml, None, &Signal::ALL).await;

    // HTTP/1.1 over TLS.
    let tcp = TcpStream::connect(server.http).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = tls_client(b"http/1.1").connect(name, tcp).await.unwrap();
    let (mut sender, conn) = http1::handshake(TokioIo::new(tls)).await.unwrap();
    tokio::spawn(conn);
    let r = send(
        &mut sender,
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

    // gRPC (HTTP/2 via ALPN) over TLS.
    let ca = std::fs::read(fixture("ca.pem")).unwrap();
    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(ca))
        .domain_name("localhost");
    let ch = tonic::transport::Channel::from_shared(format!("https://{}", server.grpc))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = tonic::client::Grpc::new(ch);
    client.ready().await.unwrap();
    let path = ::http::uri::PathAndQuery::from_static(weir_otlp::grpc::export_path(Signal::Traces));
    client
        .unary(
            tonic::Request::new(request(Signal::Traces, 2)),
            path,
            weir_otlp::grpc::BytesCodec,
        )
        .await
        .unwrap();

    // Plain text on a TLS port gets nothing.
    let plain = post_plain_fails(server.http).await;
    assert!(plain, "a plain-text request on the TLS port must fail");
    assert_eq!(server.batches().iter().map(Batch::items).sum::<usize>(), 3);
    server.stop().await.unwrap();
}

/// Whether a plain HTTP request to a TLS listener fails.
async fn post_plain_fails(addr: std::net::SocketAddr) -> bool {
    let stream = TcpStream::connect(addr).await.unwrap();
    let Ok((mut sender, conn)) = http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream)).await
    else {
        return true;
    };
    tokio::spawn(conn);
    let r = req(
        "POST",
        addr,
        "/v1/logs",
        &[PROTOBUF],
        request(Signal::Logs, 1),
    );
    match tokio::time::timeout(Duration::from_secs(5), sender.send_request(r)).await {
        Ok(Ok(resp)) => !resp.status().is_success(),
        _ => true,
    }
}
