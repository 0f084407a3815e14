//! A destination in trouble, with weir's memory queue: down then back (the
//! OTLP sink, and the stand-in Ledger's dead listener, 503 and 429 spells),
//! slow (1 s a request), throttling (429 storms with Retry-After). The load
//! never stops and weir is never killed, so every record weir acknowledged
//! must arrive.

use std::time::Duration;

use super::ledger::LedgerDest;
use super::load::LoadSpec;
use super::pipeline::{Pipeline, ledger_exporter, otlp_exporter};
use super::report::FaultReport;
use super::rig::{Recovery, Rig};
use super::{DRAIN, MAX_IN_FLIGHT, RSS_BUDGET, pick};
use crate::BenchEnv;
use crate::loadgen::Protocol;
use crate::sink::Refusal;

/// `faults-down-otlp`: OTLP gRPC into weir → `otlp` exporter → the sink,
/// which goes down (listener closed, connections cut) for 5 s (soak: 60 s)
/// and comes back on the same port.
pub fn down_otlp(env: &BenchEnv) -> Result<FaultReport, String> {
    let (items, rate) = pick(env, (100, 20.0), (500, 40.0));
    let (warm, down, after) = pick(env, (2, 5, 3), (5, 60, 10));
    // A sink cut mid-request may have counted a batch whose answer never
    // came back: each request in flight can arrive twice.
    let mut rig = Rig::new(
        env,
        "faults-down-otlp",
        MAX_IN_FLIGHT * items as u64,
        RSS_BUDGET,
    )?;
    let mut sink = rig.sink(Duration::ZERO)?;
    let arrivals = sink.arrivals().ok_or("sink records no ids")?;
    let sink_addr = sink.grpc_addr.ok_or("sink has no gRPC address")?;
    let p = Pipeline::new("otlp", otlp_exporter(sink_addr, "grpc", ""));
    let weir = rig.start_weir(&p)?;
    let load = rig.load(&LoadSpec::new(weir.grpc(), Protocol::Grpc, items, rate))?;
    rig.sleep(secs(warm), || {});
    rig.rt.block_on(sink.down());
    let acked_before = rig.sends.acked_items();
    rig.sleep(secs(down), || {});
    let acked_during = rig.sends.acked_items() - acked_before;
    rig.rt
        .block_on(sink.up())
        .map_err(|e| format!("sink back up: {e}"))?;
    let mut recovery = Recovery::start(&rig.sends);
    rig.sleep(secs(after), || recovery.poll(&arrivals));
    rig.stop_load(load);
    rig.wait_delivered(&arrivals, DRAIN);
    recovery.poll(&arrivals);
    rig.report.recovery = recovery.took;
    rig.stop_weir(weir)?;
    rig.note(format!(
        "sink down {down} s; weir acknowledged {acked_during} records while it was down; sink saw {} requests",
        sink.requests()
    ));
    Ok(rig.finish(&arrivals))
}

/// `faults-down-ledger`: OTLP into weir → `adaptive_batch` → `ledger`
/// exporter → the stand-in, which stops listening, then answers 503 for a
/// spell, then 429 for a spell (both with Retry-After), then recovers.
pub fn down_ledger(env: &BenchEnv) -> Result<FaultReport, String> {
    let (items, rate) = pick(env, (100, 10.0), (500, 20.0));
    let (warm, dead, unavailable, throttled, after) =
        pick(env, (2, 3, 3, 3, 3), (5, 60, 30, 30, 10));
    let retry_after = pick(env, 1, 10);
    // The ledger exporter sends in order, one request at a time: the one
    // cut by the dead listener can arrive twice, one batch of at most 1000.
    let mut rig = Rig::new(env, "faults-down-ledger", 1000, RSS_BUDGET)?;
    let ledger = LedgerDest::start(&rig.rt)?;
    let control = ledger.control();
    // Quick: a shorter breaker and backoff, so recovery fits the CI budget.
    let extra = if env.quick {
        "    circuit_breaker: { failures: 5, open_for: 2s }\n    retry: { max: 2s }\n"
    } else {
        ""
    };
    let mut p = Pipeline::new("ledger", ledger_exporter(&ledger.standin.base_url(), extra));
    p.processors = Some((
        "  adaptive_batch: { max_items: 1000, max_delay: 500ms }\n".into(),
        "[adaptive_batch]".into(),
    ));
    let weir = rig.start_weir(&p)?;
    let load = rig.load(&LoadSpec::new(weir.grpc(), Protocol::Grpc, items, rate))?;
    rig.sleep(secs(warm), || {});
    rig.rt.block_on(control.stop_listening());
    rig.sleep(secs(dead), || {});
    rig.rt
        .block_on(control.start_listening())
        .map_err(|e| format!("stand-in back up: {e}"))?;
    control.fail_for(secs(unavailable), 503, Some(retry_after));
    rig.sleep(secs(unavailable), || {});
    control.fail_for(secs(throttled), 429, Some(retry_after));
    rig.sleep(secs(throttled), || {});
    let mut recovery = Recovery::start(&rig.sends);
    rig.sleep(secs(after), || recovery.poll(&ledger.arrivals));
    rig.stop_load(load);
    rig.wait_delivered(&ledger.arrivals, DRAIN);
    recovery.poll(&ledger.arrivals);
    rig.report.recovery = recovery.took;
    rig.stop_weir(weir)?;
    ledger.pump_now();
    let stats = ledger.standin.stats();
    rig.note(format!(
        "stand-in dead {dead} s, 503 {unavailable} s, 429 {throttled} s (Retry-After {retry_after} s); answered {:?}; {} rejected entries",
        stats.by_status, stats.rejected_logs
    ));
    if stats.rejected_logs > 0 || stats.status(422) > 0 || stats.status(400) > 0 {
        rig.broke(format!(
            "the stand-in refused entries as invalid: {} rejected, {:?}",
            stats.rejected_logs, stats.by_status
        ));
    }
    let arrivals = ledger.arrivals.clone();
    Ok(rig.finish(&arrivals))
}

/// `faults-slow`: the sink takes 1 s per request; weir's 4 export calls in
/// flight carry 4 requests a second, and the load offers twice that.
pub fn slow(env: &BenchEnv) -> Result<FaultReport, String> {
    let (items, rate, run) = pick(env, (100, 8.0, 6), (500, 8.0, 60));
    let mut rig = Rig::new(env, "faults-slow", MAX_IN_FLIGHT * items as u64, RSS_BUDGET)?;
    let sink = rig.sink(Duration::from_secs(1))?;
    let arrivals = sink.arrivals().ok_or("sink records no ids")?;
    let sink_addr = sink.grpc_addr.ok_or("sink has no gRPC address")?;
    let p = Pipeline::new("otlp", otlp_exporter(sink_addr, "grpc", ""));
    let weir = rig.start_weir(&p)?;
    let load = rig.load(&LoadSpec::new(weir.grpc(), Protocol::Grpc, items, rate))?;
    rig.sleep(secs(run), || {});
    rig.stop_load(load);
    let mut recovery = Recovery::start(&rig.sends);
    rig.wait_delivered(&arrivals, DRAIN);
    recovery.poll(&arrivals);
    rig.report.recovery = recovery.took;
    rig.stop_weir(weir)?;
    rig.note(format!(
        "sink 1 s a request; {} requests reached it in {run} s of load",
        sink.requests()
    ));
    Ok(rig.finish(&arrivals))
}

/// `faults-throttle`: weir's `otlp` exporter over HTTP/protobuf to a sink
/// that answers storms of 429 + `Retry-After: 1` (calm spells between).
/// Nothing may be lost, and weir must wait as told: at most one try per
/// delivery in flight per Retry-After.
pub fn throttle(env: &BenchEnv) -> Result<FaultReport, String> {
    let (items, rate) = pick(env, (100, 20.0), (500, 20.0));
    let (storm, calm, cycles) = pick(env, (2, 1, 3), (4, 2, 10));
    let retry_after = Duration::from_secs(1);
    let mut rig = Rig::new(
        env,
        "faults-throttle",
        MAX_IN_FLIGHT * items as u64,
        RSS_BUDGET,
    )?;
    let sink = rig.sink(Duration::ZERO)?;
    let arrivals = sink.arrivals().ok_or("sink records no ids")?;
    let sink_addr = sink.http_addr.ok_or("sink has no HTTP address")?;
    let p = Pipeline::new("otlp", otlp_exporter(sink_addr, "http/protobuf", ""));
    let weir = rig.start_weir(&p)?;
    let load = rig.load(&LoadSpec::new(weir.grpc(), Protocol::Grpc, items, rate))?;
    rig.sleep(secs(calm), || {});
    for _ in 0..cycles {
        sink.refuse(Some(Refusal::Throttle), retry_after);
        rig.sleep(secs(storm), || {});
        sink.refuse(None, retry_after);
        rig.sleep(secs(calm), || {});
    }
    let mut recovery = Recovery::start(&rig.sends);
    rig.stop_load(load);
    rig.wait_delivered(&arrivals, DRAIN);
    recovery.poll(&arrivals);
    rig.report.recovery = recovery.took;
    rig.stop_weir(weir)?;
    // Each delivery in flight may try once per Retry-After of a storm, and
    // once more as each storm starts; twice that is the bound.
    let storm_secs = storm * cycles;
    let allowed = 2 * MAX_IN_FLIGHT * (storm_secs / retry_after.as_secs() + cycles);
    rig.note(format!(
        "{cycles} storms of {storm} s: sink answered 429 {} times (bound {allowed}), accepted {} requests",
        sink.refused(),
        sink.requests()
    ));
    if sink.refused() == 0 {
        rig.broke("no request met a 429: the storm tested nothing");
    }
    if sink.refused() > allowed {
        rig.broke(format!(
            "weir tried {} times into 429 storms of {storm_secs} s with Retry-After 1 s (bound {allowed}): Retry-After not honoured",
            sink.refused()
        ));
    }
    Ok(rig.finish(&arrivals))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}
