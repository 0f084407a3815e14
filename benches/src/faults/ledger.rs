//! The stand-in Ledger as a counting destination: its accepted entries are
//! taken out every 100 ms and their ids (`attributes["loadgen.seq"]`, where
//! the `ledger` exporter puts a record's attributes) counted as arrivals.

use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio::task::JoinHandle;
use weir_ledger_standin::{Control, Standin, StandinConfig};

use super::ids::{Arrivals, SEQ_KEY, parse};

/// A running stand-in whose arrivals are counted by id.
pub struct LedgerDest {
    /// The stand-in.
    pub standin: Standin,
    /// Ids that arrived.
    pub arrivals: Arc<Arrivals>,
    pump: JoinHandle<()>,
}

impl Drop for LedgerDest {
    fn drop(&mut self) {
        self.pump.abort();
    }
}

impl LedgerDest {
    /// Starts a stand-in with limits far above any scenario's load (faults
    /// come on cue, not from limits) on `rt`.
    pub fn start(rt: &Runtime) -> Result<LedgerDest, String> {
        let standin = rt
            .block_on(Standin::start(StandinConfig {
                requests_per_minute: 1_000_000,
                requests_per_hour: 100_000_000,
                daily_quota: u64::MAX / 2,
                ..StandinConfig::default()
            }))
            .map_err(|e| format!("starting the stand-in: {e}"))?;
        let arrivals = Arc::new(Arrivals::default());
        let (control, counted) = (standin.control(), arrivals.clone());
        let pump = rt.spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                pump(&control, &counted);
            }
        });
        Ok(LedgerDest {
            standin,
            arrivals,
            pump,
        })
    }

    /// The stand-in's fault and record handle.
    pub fn control(&self) -> Control {
        self.standin.control()
    }

    /// Counts what arrived since the last pump (call once weir has exited,
    /// so the verdict sees everything).
    pub fn pump_now(&self) {
        pump(&self.standin.control(), &self.arrivals);
    }
}

fn pump(control: &Control, arrivals: &Arrivals) {
    let entries = control.take_entries();
    if entries.is_empty() {
        return;
    }
    let mut ids = Vec::with_capacity(entries.len());
    let mut anonymous = 0;
    for r in entries {
        let id = r
            .entry
            .attributes
            .as_ref()
            .and_then(|a| a.get(SEQ_KEY))
            .and_then(|v| v.as_str())
            .and_then(parse);
        match id {
            Some(id) => ids.push(id),
            None => anonymous += 1,
        }
    }
    arrivals.record(&ids);
    arrivals.record_anonymous(anonymous);
}
