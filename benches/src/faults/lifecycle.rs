//! weir itself stopped mid-stream: SIGTERM (memory queue: it must drain
//! within `shutdown_timeout`, exit 0, and deliver everything it
//! acknowledged), and `kill -9`, restart, drain (disk queue and
//! acknowledgements: what a client was told is safe survives the kill).

use std::time::Duration;

use super::load::LoadSpec;
use super::pipeline::{Pipeline, free_ports, otlp_exporter};
use super::report::FaultReport;
use super::rig::Rig;
use super::{DRAIN, MAX_IN_FLIGHT, RSS_BUDGET, pick};
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

/// Where the exporter keeps its queue in [`kill9`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// `storage: disk` with `acknowledgements: true` on the receiver: the
    /// scenario proper.
    Disk,
    /// The default memory queue, acknowledging on receipt: the control
    /// experiment, which must lose records (or the harness could not see a
    /// loss).
    Memory,
}

/// `faults-kill9`: gRPC load into weir (fixed ports) whose sink takes 200 ms
/// a request, so a backlog builds in the spool; `kill -9` mid-stream, the
/// load going on against the dead port; restart on the same spool and ports
/// after 1 s; the load goes on, stops, weir drains and gets SIGTERM.
/// `faults-kill9-memory-control` does the same with the memory queue.
pub fn kill9(env: &BenchEnv, queue: Queue) -> Result<FaultReport, String> {
    let name = match queue {
        Queue::Disk => "faults-kill9",
        Queue::Memory => "faults-kill9-memory-control",
    };
    let (items, rate) = pick(env, (100, 30.0), (500, 30.0));
    let (before, dead, after) = pick(env, (4, 1, 3), (30, 5, 30));
    // Batches delivered but not yet marked so in the spool when the kill
    // came go again after the restart: at most the export calls in flight.
    let mut rig = Rig::new(env, name, MAX_IN_FLIGHT * items as u64, RSS_BUDGET)?;
    let sink = rig.sink(Duration::from_millis(200))?;
    let arrivals = sink.arrivals().ok_or("sink records no ids")?;
    let sink_addr = sink.grpc_addr.ok_or("sink has no gRPC address")?;
    let spool = rig.dir.join("spool");
    let extra = match queue {
        Queue::Disk => format!(
            "    queue: {{ storage: disk, path: {}, max_bytes: 64MiB, fsync: interval }}\n",
            spool.display()
        ),
        Queue::Memory => String::new(),
    };
    let mut p = Pipeline::new("otlp", otlp_exporter(sink_addr, "grpc", &extra));
    p.acknowledgements = queue == Queue::Disk;
    (p.grpc_port, p.http_port) = free_ports()?;
    let weir = rig.start_weir(&p)?;
    let load = rig.load(&LoadSpec::new(weir.grpc(), Protocol::Grpc, items, rate))?;
    std::thread::sleep(Duration::from_secs(before));
    let backlog = rig.sends.acked_items().saturating_sub(arrivals.total());
    rig.kill_weir(weir);
    std::thread::sleep(Duration::from_secs(dead));
    let weir = rig.start_weir(&p)?;
    std::thread::sleep(Duration::from_secs(after));
    rig.stop_load(load);
    let mut recovery = super::rig::Recovery::start(&rig.sends);
    // The control loses records by design: no point waiting long for them.
    let drain = match queue {
        Queue::Disk => DRAIN,
        Queue::Memory => Duration::from_secs(10),
    };
    rig.wait_delivered(&arrivals, drain);
    recovery.poll(&arrivals);
    rig.report.recovery = recovery.took;
    rig.stop_weir(weir)?;
    rig.note(format!(
        "kill -9 with about {backlog} acknowledged records not yet delivered; restarted after {dead} s"
    ));
    Ok(rig.finish(&arrivals))
}

/// `faults-sigterm-disk`: disk queue and acknowledgements, fixed ports; the
/// sink goes down, a backlog builds in the spool, and SIGTERM comes while the
/// load goes on. weir must give up delivering at `shutdown_timeout`, keep
/// the backlog in the spool and exit 0; restarted with the sink back, it
/// delivers everything.
pub fn sigterm_disk(env: &BenchEnv) -> Result<FaultReport, String> {
    let (items, rate) = pick(env, (100, 20.0), (500, 20.0));
    let (warm, down, after) = pick(env, (2, 2, 2), (10, 20, 10));
    let shutdown_timeout = Duration::from_secs(3);
    let mut rig = Rig::new(
        env,
        "faults-sigterm-disk",
        MAX_IN_FLIGHT * items as u64,
        RSS_BUDGET,
    )?;
    let mut sink = rig.sink(Duration::ZERO)?;
    let arrivals = sink.arrivals().ok_or("sink records no ids")?;
    let sink_addr = sink.grpc_addr.ok_or("sink has no gRPC address")?;
    let extra = format!(
        "    queue: {{ storage: disk, path: {}, max_bytes: 64MiB, fsync: interval }}\n",
        rig.dir.join("spool").display()
    );
    let mut p = Pipeline::new("otlp", otlp_exporter(sink_addr, "grpc", &extra));
    p.acknowledgements = true;
    p.shutdown_timeout = "3s";
    (p.grpc_port, p.http_port) = free_ports()?;
    let weir = rig.start_weir(&p)?;
    let load = rig.load(&LoadSpec::new(weir.grpc(), Protocol::Grpc, items, rate))?;
    std::thread::sleep(Duration::from_secs(warm));
    rig.rt.block_on(sink.down());
    std::thread::sleep(Duration::from_secs(down));
    let backlog = rig.sends.acked_items().saturating_sub(arrivals.total());
    let took = rig.stop_weir(weir)?;
    rig.rt
        .block_on(sink.up())
        .map_err(|e| format!("sink back up: {e}"))?;
    let weir = rig.start_weir(&p)?;
    let mut recovery = super::rig::Recovery::start(&rig.sends);
    rig.sleep(Duration::from_secs(after), || recovery.poll(&arrivals));
    rig.stop_load(load);
    rig.wait_delivered(&arrivals, DRAIN);
    recovery.poll(&arrivals);
    rig.report.recovery = recovery.took;
    rig.stop_weir(weir)?;
    rig.note(format!(
        "SIGTERM with the sink down and about {backlog} acknowledged records not yet delivered; weir exited {:.2} s later (shutdown_timeout {} s)",
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
    if backlog == 0 {
        rig.broke("nothing was waiting in the spool at SIGTERM: the restart tested nothing");
    }
    Ok(rig.finish(&arrivals))
}
