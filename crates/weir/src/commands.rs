//! The subcommands.

use std::path::Path;

use weir_core::Registry;
use weir_core::telemetry::Kind;
use weir_runtime::config::{self, Diagnostic, LoadReport, LogFormat, Severity};
use weir_runtime::service::{self, StopReason};

use crate::cli::{Cli, Command, LogFormatArg};
use crate::progress::Progress;
use crate::{DEFAULT_PIPELINE, exit, logging};

pub fn dispatch(registry: &Registry, cli: Cli) -> i32 {
    match &cli.command {
        Command::Run { file } => run(registry, &cli, file.as_deref()),
        Command::Validate { files } => validate(registry, files),
        Command::Components { markdown: false } => {
            components(registry);
            exit::OK
        }
        Command::Components { markdown: true } => {
            print!("{}", crate::docs::components_markdown(registry));
            exit::OK
        }
        Command::Schema => {
            let schema = crate::schema::pipeline_schema(registry);
            match serde_json::to_string_pretty(&schema) {
                Ok(text) => {
                    println!("{text}");
                    exit::OK
                }
                Err(e) => {
                    eprintln!("weir: cannot write the schema: {e}");
                    exit::FAILURE
                }
            }
        }
        Command::Top {
            address,
            interval,
            once,
        } => crate::top::run(address, *interval, *once),
    }
}

fn load(registry: &Registry, file: Option<&Path>) -> LoadReport {
    match file {
        Some(f) => config::load_file(f, registry),
        None => config::load_str(
            "<embedded default pipeline>",
            DEFAULT_PIPELINE,
            registry,
            &|v| std::env::var(v).ok(),
        ),
    }
}

fn print_diagnostics(diags: &[Diagnostic]) {
    for d in diags {
        eprintln!("{d}");
    }
}

fn validate(registry: &Registry, files: &[std::path::PathBuf]) -> i32 {
    let mut code = exit::OK;
    for f in files {
        let (built, diags) = weir_runtime::build::build(config::load_file(f, registry), registry);
        print_diagnostics(&diags);
        let errors = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        if built.is_none() || errors > 0 {
            eprintln!("{}: invalid ({errors} error(s))", f.display());
            code = exit::FAILURE;
        } else {
            println!("{}: ok", f.display());
        }
    }
    code
}

fn components(registry: &Registry) {
    println!(
        "{:<10} {:<16} {:<22} DESCRIPTION",
        "KIND", "TYPE", "SIGNALS"
    );
    for c in registry.components() {
        if c.kind == Kind::Channel {
            continue;
        }
        let signals: Vec<&str> = c.signals.iter().map(|s| s.as_str()).collect();
        println!(
            "{:<10} {:<16} {:<22} {}",
            c.kind.as_str(),
            c.type_name,
            signals.join(","),
            c.description
        );
    }
}

fn run(registry: &Registry, cli: &Cli, file: Option<&Path>) -> i32 {
    let report = load(registry, file);
    let telemetry = report.config.as_ref().map(|c| c.telemetry.clone());
    let format = match cli.log_format {
        Some(LogFormatArg::Json) => LogFormat::Json,
        Some(LogFormatArg::Text) => LogFormat::Text,
        None => telemetry
            .as_ref()
            .and_then(|t| t.log_format)
            .unwrap_or_default(),
    };
    let level = cli
        .log_level
        .clone()
        .or_else(|| telemetry.and_then(|t| t.log_level));
    logging::init(level.as_deref(), format);

    let (built, diags) = weir_runtime::build::build(report, registry);
    print_diagnostics(&diags);
    let Some(built) = built else {
        return exit::FAILURE;
    };
    // A stdin batch run shows its progress (see progress.rs).
    let progress = built
        .receivers
        .iter()
        .any(|r| r.id.type_name() == "stdin")
        .then(|| Progress::start(built.metrics.clone()));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("weir")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("weir: cannot start the async runtime: {e}");
            return exit::FAILURE;
        }
    };
    let summary = rt.block_on(async move {
        let running = match service::start(built).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "cannot start");
                return None;
            }
        };
        if let Some(addr) = running.metrics_addr() {
            tracing::info!(%addr, "serving /metrics, /healthz and /readyz");
        }
        forward_os_signals(running.stop_handle());
        tracing::info!("pipelines running");
        Some(running.wait().await)
    });
    // Receivers may leave a thread blocked on stdin; don't wait for it.
    rt.shutdown_background();
    logging::flush_repeats();
    let Some(summary) = summary else {
        if let Some(mut p) = progress {
            p.stop_live();
        }
        return exit::FAILURE;
    };
    // `delivered` sums every exporter: one record sent to two exporters counts twice.
    tracing::info!(
        delivered = summary.sent,
        abandoned = summary.abandoned,
        reason = ?summary.reason,
        "stopped"
    );
    if let Some(p) = progress {
        p.finish(summary.sent);
    }
    if summary.abandoned > 0 {
        eprintln!(
            "weir: shutdown deadline passed: {} item(s) abandoned",
            summary.abandoned
        );
        return exit::DATA_ABANDONED;
    }
    if matches!(summary.reason, StopReason::ReceiverFailed(_)) || summary.component_errors > 0 {
        return exit::FAILURE;
    }
    exit::OK
}

/// SIGINT and SIGTERM request a graceful stop; a second one abandons the rest.
fn forward_os_signals(stop: service::StopHandle) {
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            tracing::error!("cannot install signal handlers");
            return;
        };
        loop {
            tokio::select! {
                _ = int.recv() => tracing::info!("SIGINT: stopping"),
                _ = term.recv() => tracing::info!("SIGTERM: stopping"),
            }
            stop.stop();
        }
    });
}
