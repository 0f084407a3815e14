//! A fault scenario's outcome: the [`Verdict`], what weir did (exit codes,
//! memory, timings), the bounds it was held to, and every bound it broke.

use std::fmt::Write;
use std::time::Duration;

use super::ids::Verdict;
use crate::BenchResult;

const MIB: f64 = 1024.0 * 1024.0;

/// What a fault scenario saw.
#[derive(Debug, Clone, Default)]
pub struct FaultReport {
    /// Scenario name (`faults-...`).
    pub scenario: String,
    /// Acknowledged against delivered.
    pub verdict: Verdict,
    /// Most duplicate arrivals allowed.
    pub duplicate_bound: u64,
    /// Most resident memory weir may reach (VmHWM), bytes.
    pub rss_budget: u64,
    /// The highest VmHWM of any weir process of the run, bytes.
    pub peak_rss: u64,
    /// CPU seconds of weir (all its processes).
    pub cpu_seconds: f64,
    /// Exit code of each weir stopped with SIGTERM (must be 0).
    pub exits: Vec<Option<i32>>,
    /// From the start of the load to the end of the drain.
    pub wall: Duration,
    /// From the end of the fault until everything acknowledged had arrived.
    pub recovery: Option<Duration>,
    /// Load offered, requests per second (every protocol together).
    pub offered_rate: f64,
    /// Bounds particular to the scenario that were broken.
    pub broken: Vec<String>,
    /// What else is worth knowing (timings, refusal kinds, weir's own counts).
    pub notes: Vec<String>,
}

impl FaultReport {
    /// A report for `scenario` held to `duplicate_bound` and `rss_budget`.
    pub fn new(scenario: &str, duplicate_bound: u64, rss_budget: u64) -> FaultReport {
        FaultReport {
            scenario: scenario.to_string(),
            duplicate_bound,
            rss_budget,
            ..FaultReport::default()
        }
    }

    /// Every bound broken: the common ones (nothing acknowledged lost, no
    /// strays, no non-retryable refusal, duplicates and memory bounded, clean
    /// exits, something acknowledged at all) and the scenario's own.
    pub fn violations(&self) -> Vec<String> {
        let v = &self.verdict;
        let mut out = Vec::new();
        if v.acked == 0 {
            out.push("nothing was acknowledged: the scenario tested nothing".into());
        }
        if v.lost > 0 {
            out.push(format!(
                "{} acknowledged records never arrived (e.g. ids {:?})",
                v.lost, v.lost_sample
            ));
        }
        if v.duplicates > self.duplicate_bound {
            out.push(format!(
                "{} duplicate arrivals, bound {}",
                v.duplicates, self.duplicate_bound
            ));
        }
        if v.strays > 0 {
            out.push(format!("{} records arrived that were never sent", v.strays));
        }
        if v.rejected > 0 {
            out.push(format!(
                "non-retryable answers to the client: {:?}",
                v.rejections
            ));
        }
        if self.peak_rss > self.rss_budget {
            out.push(format!(
                "peak RSS {:.1} MiB over the budget of {:.1} MiB",
                self.peak_rss as f64 / MIB,
                self.rss_budget as f64 / MIB
            ));
        }
        for (i, code) in self.exits.iter().enumerate() {
            if *code != Some(0) {
                out.push(format!(
                    "weir run {} exited with {code:?} on SIGTERM",
                    i + 1
                ));
            }
        }
        out.extend(self.broken.iter().cloned());
        out
    }

    /// The report in a few lines.
    pub fn summary(&self) -> String {
        let mut s = format!("{}: {}", self.scenario, self.verdict.summary());
        let _ = write!(
            s,
            "\n  duplicates {} (bound {}); peak RSS {:.1} MiB (budget {:.0}); weir cpu {:.2} s; exits {:?}; wall {:.1} s; offered {:.0} req/s",
            self.verdict.duplicates,
            self.duplicate_bound,
            self.peak_rss as f64 / MIB,
            self.rss_budget as f64 / MIB,
            self.cpu_seconds,
            self.exits,
            self.wall.as_secs_f64(),
            self.offered_rate,
        );
        if let Some(r) = self.recovery {
            let _ = write!(s, "; recovered in {:.2} s", r.as_secs_f64());
        }
        for n in &self.notes {
            let _ = write!(s, "\n  {n}");
        }
        for b in self.violations() {
            let _ = write!(s, "\n  BROKEN: {b}");
        }
        s
    }

    /// The report as a row of the benchmark table: `sent` is what was
    /// acknowledged, `received` what of it arrived, `errors` the bounds broken.
    pub fn to_bench(&self) -> BenchResult {
        let v = &self.verdict;
        let mut note = format!(
            "refused {} failed {}; {} dup (bound {}); offered {:.0} req/s",
            v.refused, v.failed, v.duplicates, self.duplicate_bound, self.offered_rate
        );
        if let Some(r) = self.recovery {
            let _ = write!(note, "; recovered {:.1} s", r.as_secs_f64());
        }
        for n in &self.notes {
            let _ = write!(note, "; {n}");
        }
        for b in self.violations() {
            let _ = write!(note, "; BROKEN: {b}");
        }
        BenchResult {
            scenario: self.scenario.clone(),
            sent: v.acked,
            received: v.acked - v.lost,
            seconds: self.wall.as_secs_f64(),
            cpu_seconds: self.cpu_seconds,
            peak_rss: self.peak_rss,
            errors: self.violations().len() as u64,
            note: note.replace('|', "/"),
        }
    }
}

/// `http_503 12, grpc_unavailable 3`: the fates of refused or failed
/// requests by kind.
pub fn kinds(sends: &[super::ids::SentRequest]) -> String {
    use super::ids::Fate;
    let mut by = std::collections::BTreeMap::<&str, u64>::new();
    for s in sends {
        let kind = match &s.fate {
            Fate::Acked => continue,
            Fate::Refused(k) | Fate::Failed(k) | Fate::Rejected(k) => k.as_str(),
        };
        *by.entry(kind).or_default() += 1;
    }
    if by.is_empty() {
        return "none".into();
    }
    by.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
