//! The runtime in the test's own process, built from the built-in components
//! plus a `probe` exporter the test controls: it holds deliveries behind a
//! gate, is slow or fails for good on cue, and records what it delivered.
//! Clients talk to the real receivers over 127.0.0.1.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use weir_core::otlp::common::v1::any_value;
use weir_core::{
    Batch, BuildContext, ComponentConfig, ConfigError, ExportError, ExportOutcome, Exporter,
    ExporterFactory, Signal, SignalData, async_trait,
};
use weir_runtime::service::{RunSummary, StopHandle};

/// What the `probe` exporters did, and the test's controls over them.
pub struct Probe {
    /// `(exporter id, bodies of the records of one delivered batch)`.
    delivered: Mutex<Vec<(String, Vec<String>)>>,
    /// Export calls wait while this is false.
    gate: watch::Sender<bool>,
    /// Every export call fails for good while set.
    fail: AtomicBool,
    /// Export calls started.
    pub calls: AtomicUsize,
}

impl Probe {
    /// A probe with its gate open.
    pub fn new() -> Arc<Probe> {
        Arc::new(Probe {
            delivered: Mutex::new(Vec::new()),
            gate: watch::channel(true).0,
            fail: AtomicBool::new(false),
            calls: AtomicUsize::new(0),
        })
    }

    /// Holds every export call until [`Probe::open`].
    pub fn close(&self) {
        self.gate.send_replace(false);
    }

    pub fn open(&self) {
        self.gate.send_replace(true);
    }

    /// Makes every export call fail permanently (`http_400`).
    pub fn fail_permanently(&self) {
        self.fail.store(true, Ordering::SeqCst);
    }

    /// The batches `exporter` delivered, each as its records' bodies.
    pub fn batches(&self, exporter: &str) -> Vec<Vec<String>> {
        self.delivered
            .lock()
            .unwrap()
            .iter()
            .filter(|(id, _)| id == exporter)
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// The bodies of every record `exporter` delivered, in delivery order.
    pub fn records(&self, exporter: &str) -> Vec<String> {
        self.batches(exporter).concat()
    }
}

/// Builds `probe` exporters: `probe: { delay: 300ms }` (delay optional).
pub struct ProbeFactory(pub Arc<Probe>);

impl ExporterFactory for ProbeFactory {
    fn type_name(&self) -> &'static str {
        "probe"
    }
    fn description(&self) -> &'static str {
        "test exporter"
    }
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        cfg: &ComponentConfig,
        cx: &BuildContext,
    ) -> Result<Box<dyn Exporter>, ConfigError> {
        let delay = match cfg.value()["delay"].as_str() {
            None => Duration::ZERO,
            Some(d) => humantime_like(d).ok_or_else(|| ConfigError::at("delay", "a duration"))?,
        };
        Ok(Box::new(ProbeExporter {
            id: cx.id.to_string(),
            delay,
            probe: self.0.clone(),
        }))
    }
}

/// `250ms` or `2s`.
fn humantime_like(s: &str) -> Option<Duration> {
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.parse().ok().map(Duration::from_millis);
    }
    s.strip_suffix('s')?.parse().ok().map(Duration::from_secs)
}

struct ProbeExporter {
    id: String,
    delay: Duration,
    probe: Arc<Probe>,
}

#[async_trait]
impl Exporter for ProbeExporter {
    async fn export(&self, batch: &Batch) -> Result<ExportOutcome, ExportError> {
        self.probe.calls.fetch_add(1, Ordering::SeqCst);
        let mut gate = self.probe.gate.subscribe();
        let _ = gate.wait_for(|open| *open).await;
        tokio::time::sleep(self.delay).await;
        if self.probe.fail.load(Ordering::SeqCst) {
            return Err(ExportError::permanent("http_400", "the probe refuses"));
        }
        self.probe
            .delivered
            .lock()
            .unwrap()
            .push((self.id.clone(), bodies(batch)));
        Ok(ExportOutcome::delivered(batch.items()))
    }

    fn max_in_flight(&self) -> Option<usize> {
        Some(1)
    }
}

/// The string bodies of a batch's log records, in order.
pub fn bodies(batch: &Batch) -> Vec<String> {
    let SignalData::Logs(rl) = batch.data().expect("decodes") else {
        return Vec::new();
    };
    rl.iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .map(|l| match l.body.as_ref().and_then(|b| b.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) => s.clone(),
            _ => String::new(),
        })
        .collect()
}

/// A port free right now on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running service.
pub struct Running {
    pub stop: StopHandle,
    pub done: JoinHandle<RunSummary>,
    pub metrics: Option<SocketAddr>,
}

impl Running {
    /// Stops the service and gives its summary (at most 30 s).
    pub async fn finish(self) -> RunSummary {
        self.stop.stop();
        tokio::time::timeout(Duration::from_secs(30), self.done)
            .await
            .expect("service stopped in time")
            .expect("service task did not panic")
    }

    /// The `/metrics` text.
    pub async fn metrics_text(&self) -> String {
        let addr = self.metrics.expect("metrics on");
        let client = reqwest::Client::new();
        client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// Loads `yaml` with the built-in components plus `probe`, and starts it.
pub async fn start(yaml: &str, probe: &Arc<Probe>) -> Running {
    crate::otlp_support::install_crypto();
    let dist = weir::Distribution::builtin().exporter(ProbeFactory(probe.clone()));
    let registry = dist.registry();
    let report = weir_runtime::config::load_str("test.yaml", yaml, registry, &|_| None);
    let (built, diags) = weir_runtime::build::build(report, registry);
    let built = built.unwrap_or_else(|| panic!("invalid test config: {diags:#?}"));
    let running = weir_runtime::service::start(built).await.expect("start");
    let metrics = running.metrics_addr();
    let stop = running.stop_handle();
    let done = tokio::spawn(running.wait());
    Running {
        stop,
        done,
        metrics,
    }
}

/// Polls until `addr` accepts connections (at most 10 s).
pub async fn listening(addr: SocketAddr) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{addr} never listened"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
