//! More than the destination takes: 10× overload on the receivers (memory
//! queue): they must refuse with retryable answers only, lose nothing they
//! acknowledged, and keep weir's memory bounded.

use std::time::Duration;

use super::ids::Fate;
use super::load::LoadSpec;
use super::pipeline::{Pipeline, otlp_exporter};
use super::report::FaultReport;
use super::rig::Rig;
use super::{DRAIN, MAX_IN_FLIGHT, RSS_BUDGET, pick};
use crate::BenchEnv;
use crate::loadgen::Protocol;

/// The least offered/accepted ratio for the run to count as overload.
const MIN_OVERLOAD: f64 = 5.0;

/// `faults-overload`: the sink takes 100 ms a request, so weir's 4 calls in
/// flight carry 40 requests a second; gRPC and HTTP loads offer 200 each.
pub fn overload(env: &BenchEnv) -> Result<FaultReport, String> {
    let (items, concurrency, run) = pick(env, (100, 32, 5), (500, 64, 60));
    let per_protocol = 200.0;
    let mut rig = Rig::new(
        env,
        "faults-overload",
        MAX_IN_FLIGHT * items as u64,
        RSS_BUDGET,
    )?;
    let sink = rig.sink(Duration::from_millis(100))?;
    let arrivals = sink.arrivals().ok_or("sink records no ids")?;
    let sink_addr = sink.grpc_addr.ok_or("sink has no gRPC address")?;
    let mut p = Pipeline::new("otlp", otlp_exporter(sink_addr, "grpc", ""));
    p.backpressure_timeout = "200ms";
    let weir = rig.start_weir(&p)?;
    let mut loads = Vec::new();
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        let mut spec = LoadSpec::new(weir.endpoint(protocol), protocol, items, per_protocol);
        spec.concurrency = concurrency;
        loads.push(rig.load(&spec)?);
    }
    std::thread::sleep(Duration::from_secs(run));
    for load in loads {
        rig.stop_load(load);
    }
    let sends = rig.sends.all();
    let acked = sends.iter().filter(|s| s.fate == Fate::Acked).count();
    let refused = sends
        .iter()
        .filter(|s| matches!(s.fate, Fate::Refused(_)))
        .count();
    let ratio = sends.len() as f64 / acked.max(1) as f64;
    rig.wait_delivered(&arrivals, DRAIN);
    rig.stop_weir(weir)?;
    rig.note(format!(
        "{} requests offered, {acked} accepted ({ratio:.1}x overload), {refused} refused",
        sends.len()
    ));
    if refused == 0 {
        rig.broke("nothing was refused: no backpressure reached the clients");
    }
    if ratio < MIN_OVERLOAD {
        rig.broke(format!(
            "offered only {ratio:.1}x what was accepted (want at least {MIN_OVERLOAD}x): not an overload"
        ));
    }
    Ok(rig.finish(&arrivals))
}
