//! What every fault scenario needs: a runtime for the load and the
//! destinations, weir processes started from a [`Pipeline`] and sampled for
//! memory and CPU while they live, the id source and the client's record, and
//! waits that end when everything acknowledged has arrived.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use super::ids::{Arrivals, IdSource, Sends, Verdict};
use super::load::{Load, LoadSpec};
use super::pipeline::Pipeline;
use super::report::{FaultReport, kinds};
use crate::BenchEnv;
use crate::loadgen::Protocol;
use crate::otlp_scenarios::weir::{Sampler, Weir};
use crate::sink::{Sink, SinkConfig};

/// One scenario's harness.
pub struct Rig {
    /// Runs the loads, the sink and the stand-in (two worker threads).
    pub rt: Runtime,
    /// How the scenario is run.
    pub env: BenchEnv,
    /// The scenario's scratch folder (fresh).
    pub dir: PathBuf,
    /// Ids for every request of the scenario.
    pub ids: Arc<IdSource>,
    /// Every request's fate.
    pub sends: Arc<Sends>,
    /// Filled in as the scenario goes.
    pub report: FaultReport,
    runs: usize,
    started: Instant,
    offered: Vec<(u64, Duration)>,
}

/// A weir process and its sampler.
pub struct Running {
    /// The process.
    pub weir: Weir,
    sampler: Sampler,
}

impl Running {
    /// `http://` + its gRPC receiver address.
    pub fn grpc(&self) -> String {
        format!("http://{}", self.weir.grpc)
    }

    /// `http://` + its HTTP receiver address.
    pub fn http(&self) -> String {
        format!("http://{}", self.weir.http)
    }

    /// The receiver endpoint for `protocol`.
    pub fn endpoint(&self, protocol: Protocol) -> String {
        match protocol {
            Protocol::Grpc => self.grpc(),
            _ => self.http(),
        }
    }
}

impl Rig {
    /// A harness for scenario `name`, whose report is held to
    /// `duplicate_bound` and `rss_budget` (bytes).
    pub fn new(
        env: &BenchEnv,
        name: &str,
        duplicate_bound: u64,
        rss_budget: u64,
    ) -> Result<Rig, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        let dir = env.scratch.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Rig {
            rt,
            env: env.clone(),
            dir,
            ids: Arc::default(),
            sends: Arc::default(),
            report: FaultReport::new(name, duplicate_bound, rss_budget),
            runs: 0,
            started: Instant::now(),
            offered: Vec::new(),
        })
    }

    /// A counting sink (gRPC and HTTP on free ports) recording ids, answering
    /// after `delay`.
    pub fn sink(&self, delay: Duration) -> Result<Sink, String> {
        self.rt
            .block_on(Sink::start(SinkConfig {
                delay,
                record_ids: true,
                ..SinkConfig::local()
            }))
            .map_err(|e| format!("starting the sink: {e}"))
    }

    /// Starts weir on `pipeline` (its files in a folder of its own, removed
    /// when it is dropped) and samples it.
    pub fn start_weir(&mut self, pipeline: &Pipeline) -> Result<Running, String> {
        let binary = self.env.weir.clone();
        self.start_weir_as(&binary, pipeline)
    }

    /// [`Rig::start_weir`] with `binary` in place of weir (a wrapper that
    /// ends by exec'ing weir, so the process is weir's).
    pub fn start_weir_as(&mut self, binary: &Path, pipeline: &Pipeline) -> Result<Running, String> {
        self.runs += 1;
        let dir = self.dir.join(format!("weir-{}", self.runs));
        let env = BenchEnv {
            weir: binary.to_path_buf(),
            ..self.env.clone()
        };
        let weir = Weir::start(&env, &dir, &pipeline.yaml(), false)?;
        let sampler = Sampler::start(weir.pid());
        Ok(Running { weir, sampler })
    }

    fn account(&mut self, sampler: Sampler) {
        let usage = sampler.stop();
        self.report.peak_rss = self.report.peak_rss.max(usage.peak_rss);
        self.report.cpu_seconds += usage.cpu_seconds;
    }

    /// SIGTERM, then waits for the exit (at most 60 s); notes the exit code
    /// and returns how long the exit took.
    pub fn stop_weir(&mut self, running: Running) -> Result<Duration, String> {
        let Running { weir, sampler } = running;
        let asked = Instant::now();
        let code = weir.stop();
        let took = asked.elapsed();
        self.account(sampler);
        self.report.exits.push(code?);
        Ok(took)
    }

    /// SIGKILL: weir gets no chance to do anything.
    pub fn kill_weir(&mut self, running: Running) {
        let Running { weir, sampler } = running;
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &weir.pid().to_string()])
            .status();
        // Dropping reaps it (and removes its pipeline folder, not the spool).
        drop(weir);
        self.account(sampler);
    }

    /// Starts a load (more than one may run at once).
    pub fn load(&self, spec: &LoadSpec) -> Result<Load, String> {
        self.rt
            .block_on(Load::start(spec, self.ids.clone(), self.sends.clone()))
    }

    /// Stops `load`, waiting for its requests in flight.
    pub fn stop_load(&mut self, load: Load) {
        let run = self.rt.block_on(load.stop());
        self.offered.push((run.requests, run.elapsed));
    }

    /// Sleeps `d`, calling `tick` every 100 ms.
    pub fn sleep(&self, d: Duration, mut tick: impl FnMut()) {
        let until = Instant::now() + d;
        while Instant::now() < until {
            std::thread::sleep(Duration::from_millis(100).min(until - Instant::now()));
            tick();
        }
    }

    /// Waits (at most `within`) until everything acknowledged so far has
    /// arrived; how long that took, or `None` at the deadline.
    pub fn wait_delivered(&self, arrivals: &Arrivals, within: Duration) -> Option<Duration> {
        let ranges = self.sends.acked_ranges();
        let since = Instant::now();
        loop {
            if arrivals.has_all(&ranges) {
                return Some(since.elapsed());
            }
            if since.elapsed() >= within {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Notes something about the run.
    pub fn note(&mut self, note: impl Into<String>) {
        self.report.notes.push(note.into());
    }

    /// Notes a bound the scenario broke.
    pub fn broke(&mut self, what: impl Into<String>) {
        self.report.broken.push(what.into());
    }

    /// The report, with the verdict of `arrivals` (call once every weir has
    /// exited, so nothing more can arrive).
    pub fn finish(mut self, arrivals: &Arrivals) -> FaultReport {
        let sends = self.sends.all();
        self.report.verdict = Verdict::new(&self.sends, arrivals, self.ids.issued());
        self.report.wall = self.started.elapsed();
        let requests: u64 = self.offered.iter().map(|o| o.0).sum();
        let longest = self.offered.iter().map(|o| o.1).max().unwrap_or_default();
        self.report.offered_rate = requests as f64 / longest.as_secs_f64().max(1e-9);
        let not_acked = kinds(&sends);
        self.report
            .notes
            .insert(0, format!("not acknowledged: {not_acked}"));
        self.report
    }
}

/// Recovery after a fault: how long after `since` every record acknowledged
/// before then had arrived.
pub struct Recovery {
    ranges: Vec<(u64, u64)>,
    since: Instant,
    /// Once seen.
    pub took: Option<Duration>,
}

impl Recovery {
    /// Starts the clock now, for what `sends` holds acknowledged now.
    pub fn start(sends: &Sends) -> Recovery {
        Recovery {
            ranges: sends.acked_ranges(),
            since: Instant::now(),
            took: None,
        }
    }

    /// Checks `arrivals` (cheap once recovered).
    pub fn poll(&mut self, arrivals: &Arrivals) {
        if self.took.is_none() && arrivals.has_all(&self.ranges) {
            self.took = Some(self.since.elapsed());
        }
    }
}
