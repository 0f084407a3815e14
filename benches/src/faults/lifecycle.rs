//! weir itself stopped mid-stream: SIGTERM (memory queue: it must drain
//! within `shutdown_timeout`, exit 0, and deliver everything it
//! acknowledged).

use std::time::Duration;

use super::load::LoadSpec;
use super::pipeline::{Pipeline, otlp_exporter};
use super::report::FaultReport;
use super::rig::Rig;
use super::{MAX_IN_FLIGHT, RSS_BUDGET, pick};
use crate::BenchEnv;
use crate::loadgen::Protocol;

/// Slack over `shutdown_timeout` for the process to exit once it is done.
const EXIT_SLACK: Duration = Duration::from_secs(2);

/// `faults-sigterm`: gRPC and HTTP load into weir, whose sink takes 200 ms
/// a request (so batches wait in the queue); SIGTERM while the load goes on.
pub fn sigterm(env: &BenchEnv) -> Result<FaultReport, String> {
    let (items, warm) = pick(env, (100, 3), (500, 20));
    let shutdown_timeout = Duration::from_secs(10);
    let mut rig = Rig::new(
        env,
        "faults-sigterm",
        MAX_IN_FLIGHT * items as u64,
        RSS_BUDGET,
    )?;
    // 4 calls in flight at 200 ms each: 20 requests a second; 40 offered.
    let sink = rig.sink(Duration::from_millis(200))?;
    let arrivals = sink.arrivals().ok_or("sink records no ids")?;
    let sink_addr = sink.grpc_addr.ok_or("sink has no gRPC address")?;
    let mut p = Pipeline::new("otlp", otlp_exporter(sink_addr, "grpc", ""));
    p.shutdown_timeout = "10s";
    let weir = rig.start_weir(&p)?;
    let grpc = rig.load(&LoadSpec::new(weir.grpc(), Protocol::Grpc, items, 30.0))?;
    let http = rig.load(&LoadSpec::new(
        weir.http(),
        Protocol::HttpProtobuf,
        items,
        10.0,
    ))?;
    std::thread::sleep(Duration::from_secs(warm));
    let waiting = rig.sends.acked_items().saturating_sub(arrivals.total());
    let took = rig.stop_weir(weir)?;
    rig.stop_load(grpc);
    rig.stop_load(http);
    rig.note(format!(
        "SIGTERM with about {waiting} acknowledged records not yet delivered; weir exited {:.2} s later (shutdown_timeout {} s)",
        took.as_secs_f64(),
        shutdown_timeout.as_secs()
    ));
    if took > shutdown_timeout + EXIT_SLACK {
        rig.broke(format!(
            "weir took {:.2} s to exit after SIGTERM, shutdown_timeout is {} s",
            took.as_secs_f64(),
            shutdown_timeout.as_secs()
        ));
    }
    Ok(rig.finish(&arrivals))
}
