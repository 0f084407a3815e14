//! A compliance case for every built-in component: its minimal config, and
//! for exporters the destination it needs (started here, kept alive for the
//! run).

use weir_bench::sink::{Sink, SinkConfig};
use weir_core::telemetry::Kind;
use weir_ledger_standin::{DEFAULT_API_KEY, Standin, StandinConfig};

use super::harness::{Case, Feed, Setup};
use crate::otlp_support::runtime;

const fn case(kind: Kind, type_name: &'static str, feed: Feed, setup: fn() -> Setup) -> Case {
    Case {
        kind,
        type_name,
        feed,
        setup,
    }
}

/// Every case, receivers first. A component type missing here fails
/// `every_registered_component_has_a_compliance_case`.
pub const CASES: &[Case] = &[
    case(Kind::Receiver, "otlp", Feed::OtlpHttp, || {
        Setup::plain(
            "{ protocols: { grpc: { endpoint: 127.0.0.1:0 }, http: { endpoint: 127.0.0.1:0 } } }",
        )
    }),
    case(Kind::Receiver, "http", Feed::HttpJson, || {
        Setup::plain("{ endpoint: 127.0.0.1:0 }")
    }),
    case(Kind::Receiver, "stdin", Feed::Stdin, || {
        Setup::plain("{ max_delay: 10ms }")
    }),
    case(Kind::Processor, "enrich", Feed::Stdin, || {
        Setup::plain("{ attributes: [ { key: env, value: compliance } ] }")
    }),
    case(Kind::Processor, "sample", Feed::Stdin, || {
        Setup::plain("{ ratio: 1.0 }")
    }),
    case(Kind::Processor, "rate_limit", Feed::Stdin, || {
        Setup::plain("{ rate: 1000000 }")
    }),
    case(Kind::Processor, "adaptive_batch", Feed::Stdin, || {
        Setup::plain("{ max_delay: 100ms }")
    }),
    case(Kind::Exporter, "ledger", Feed::Stdin, ledger),
    case(Kind::Exporter, "otlp", Feed::Stdin, otlp_exporter),
    case(Kind::Exporter, "file", Feed::Stdin, file),
    case(Kind::Exporter, "debug", Feed::Stdin, || Setup::plain("{}")),
    case(Kind::Exporter, "blackhole", Feed::Stdin, || {
        Setup::plain("{}")
    }),
];

/// The stand-in Ledger (the real contract) on a runtime of its own.
fn ledger() -> Setup {
    let rt = runtime();
    let standin = rt
        .block_on(Standin::start(StandinConfig::default()))
        .expect("start the stand-in Ledger");
    Setup {
        config: format!(
            "{{ endpoint: \"{}\", api_key: \"{DEFAULT_API_KEY}\" }}",
            standin.base_url()
        ),
        keep: vec![Box::new(standin), Box::new(rt)],
    }
}

/// The bench's counting OTLP sink, over gRPC.
fn otlp_exporter() -> Setup {
    let rt = runtime();
    let sink = rt
        .block_on(Sink::start(SinkConfig::local()))
        .expect("start the OTLP sink");
    let addr = sink.grpc_addr.expect("the sink listens on gRPC");
    Setup {
        config: format!("{{ endpoint: \"http://{addr}\", compression: none }}"),
        keep: vec![Box::new(sink), Box::new(rt)],
    }
}

/// A file in a folder of its own.
fn file() -> Setup {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("out.jsonl");
    Setup {
        config: format!("{{ path: \"{}\" }}", path.display()),
        keep: vec![Box::new(dir)],
    }
}
