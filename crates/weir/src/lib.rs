//! # weir
//!
//! The `weir` binary and [`Distribution`], which custom builds use to add their
//! own components and keep the whole CLI:
//!
//! ```no_run
//! # use weir_core::Registry;
//! // In your crate's main.rs (with your factory types):
//! // weir::Distribution::builtin().processor(MyFactory).main()
//! weir::Distribution::builtin().main()
//! ```
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod logging;
mod progress;
mod top;

use clap::Parser;
use weir_core::{ExporterFactory, ProcessorFactory, ReceiverFactory, Registry};

/// The default pipeline that `weir run` uses without a file.
pub const DEFAULT_PIPELINE: &str = include_str!("../../../pipelines/default.yaml");

/// Process exit codes.
pub mod exit {
    /// Clean run, or every file valid.
    pub const OK: i32 = 0;
    /// Invalid config, startup failure, or a component failed.
    pub const FAILURE: i32 = 1;
    /// Command-line usage error (clap's own code).
    pub const USAGE: i32 = 2;
    /// The run ended but data had to be abandoned at the shutdown deadline.
    pub const DATA_ABANDONED: i32 = 3;
}

/// A set of components plus the weir CLI: the built-in one, or yours.
#[derive(Clone)]
pub struct Distribution {
    registry: Registry,
}

impl Distribution {
    /// Every built-in receiver, processor and exporter.
    pub fn builtin() -> Self {
        let mut registry = Registry::new();
        weir_receivers::register(&mut registry);
        weir_processors::register(&mut registry);
        weir_exporters::register(&mut registry);
        Distribution { registry }
    }

    /// No components at all (build up your own set).
    pub fn empty() -> Self {
        Distribution {
            registry: Registry::new(),
        }
    }

    /// Adds a receiver factory.
    pub fn receiver(mut self, f: impl ReceiverFactory + 'static) -> Self {
        self.registry.add_receiver(f);
        self
    }

    /// Adds a processor factory.
    pub fn processor(mut self, f: impl ProcessorFactory + 'static) -> Self {
        self.registry.add_processor(f);
        self
    }

    /// Adds an exporter factory.
    pub fn exporter(mut self, f: impl ExporterFactory + 'static) -> Self {
        self.registry.add_exporter(f);
        self
    }

    /// The components of this distribution.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Parses the process arguments, runs the command, and exits.
    pub fn main(self) -> ! {
        // reqwest and tonic are built without a default crypto provider (no
        // aws-lc-rs/cmake in the build); choose ring once for the process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let code = self.run_cli(std::env::args_os());
        std::process::exit(code)
    }

    /// Runs the CLI on `args` (the first is the program name) and returns the
    /// exit code.
    pub fn run_cli<I, T>(&self, args: I) -> i32
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let cli = match cli::Cli::try_parse_from(args) {
            Ok(c) => c,
            Err(e) => {
                let _ = e.print();
                return if e.use_stderr() {
                    exit::USAGE
                } else {
                    exit::OK
                };
            }
        };
        commands::dispatch(&self.registry, cli)
    }
}
