//! The pipeline files of the fault scenarios: the `otlp` receiver on both
//! protocols → optional processors → one exporter (`otlp` to the counting
//! sink, or `ledger` to the stand-in).

use std::net::SocketAddr;

use weir_ledger_standin::DEFAULT_API_KEY;

/// The receiver side and the service settings.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// gRPC port of the `otlp` receiver (0: any free port).
    pub grpc_port: u16,
    /// HTTP port (0: any).
    pub http_port: u16,
    /// How long a request waits for room before a retryable refusal.
    pub backpressure_timeout: &'static str,
    /// `acknowledgements: true` on the receiver: success only once the data
    /// is spooled or delivered.
    pub acknowledgements: bool,
    /// `acknowledgement_timeout` with acknowledgements (below the load's own
    /// 10 s request timeout, so clients hear a retryable answer).
    pub acknowledgement_timeout: &'static str,
    /// `processors:` definitions and the pipeline's list, when any.
    pub processors: Option<(String, String)>,
    /// The `exporters:` block's body, indented by two spaces (`  otlp:\n    ...`).
    pub exporter: String,
    /// The exporter's id.
    pub exporter_id: &'static str,
    /// `service.shutdown_timeout`.
    pub shutdown_timeout: &'static str,
}

impl Pipeline {
    /// Receivers on free ports, 1 s backpressure timeout, no
    /// acknowledgements, no processors, 10 s shutdown timeout, `exporter`.
    pub fn new(exporter_id: &'static str, exporter: String) -> Pipeline {
        Pipeline {
            grpc_port: 0,
            http_port: 0,
            backpressure_timeout: "1s",
            acknowledgements: false,
            acknowledgement_timeout: "5s",
            processors: None,
            exporter,
            exporter_id,
            shutdown_timeout: "10s",
        }
    }

    /// The YAML.
    pub fn yaml(&self) -> String {
        let acks = if self.acknowledgements {
            format!(
                "    acknowledgements: true\n    acknowledgement_timeout: {}\n",
                self.acknowledgement_timeout
            )
        } else {
            String::new()
        };
        let (defs, chain) = match &self.processors {
            Some((defs, ids)) => (
                format!("processors:\n{defs}"),
                format!("      processors: {ids}\n"),
            ),
            None => (String::new(), String::new()),
        };
        format!(
            "receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: 127.0.0.1:{grpc} }}
      http: {{ endpoint: 127.0.0.1:{http} }}
    backpressure_timeout: {bp}
{acks}{defs}exporters:
{exporter}service:
  shutdown_timeout: {shutdown}
  telemetry:
    metrics: {{ address: none }}
  pipelines:
    logs:
      receivers: [otlp]
{chain}      exporters: [{id}]
",
            grpc = self.grpc_port,
            http = self.http_port,
            bp = self.backpressure_timeout,
            exporter = self.exporter,
            shutdown = self.shutdown_timeout,
            id = self.exporter_id,
        )
    }
}

/// An `otlp` exporter block to the sink at `sink` over `protocol` (`grpc` or
/// `http/protobuf`), uncompressed, with `extra` settings (each line indented
/// by four spaces, e.g. `    queue: { capacity: 4 }\n`).
pub fn otlp_exporter(sink: SocketAddr, protocol: &str, extra: &str) -> String {
    format!(
        "  otlp:
    protocol: {protocol}
    endpoint: http://{sink}
    compression: none
{extra}"
    )
}

/// A `ledger` exporter block to the stand-in at `base_url`, with `extra`.
pub fn ledger_exporter(base_url: &str, extra: &str) -> String {
    format!(
        "  ledger:
    endpoint: {base_url}
    api_key: {DEFAULT_API_KEY}
    compression: gzip
{extra}"
    )
}

/// Two distinct free ports on 127.0.0.1, for receivers that must keep their
/// ports across restarts (another process could take one in between;
/// unlikely in tests).
pub fn free_ports() -> Result<(u16, u16), String> {
    let bind = || std::net::TcpListener::bind("127.0.0.1:0");
    let port = |l: &std::net::TcpListener| l.local_addr().map(|a| a.port());
    let (a, b) = (bind(), bind());
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((
            port(&a).map_err(|e| e.to_string())?,
            port(&b).map_err(|e| e.to_string())?,
        )),
        (Err(e), _) | (_, Err(e)) => Err(format!("no free port: {e}")),
    }
}
