//! # weir
//!
//! The `weir` binary and [`Distribution`], which custom builds use to add their
//! own components and keep the whole CLI (`run`, `validate`, `components`,
//! `top`, and every subcommand to come), with their components known to each.
//!
//! A custom build is a binary crate whose `main` is three lines:
//!
//! ```no_run
//! # use weir_core::*;
//! # struct RedactFactory;
//! # impl ProcessorFactory for RedactFactory {
//! #     fn type_name(&self) -> &'static str { "redact" }
//! #     fn description(&self) -> &'static str { "masks e-mail addresses" }
//! #     fn signals(&self) -> &'static [Signal] { &[Signal::Logs] }
//! #     fn build(&self, _: &ComponentConfig, _: &BuildContext) -> Result<Box<dyn Processor>, ConfigError> { unimplemented!() }
//! # }
//! // The allocator weir itself uses (measured faster on the decode path).
//! #[global_allocator]
//! static GLOBAL: weir::Allocator = weir::Allocator;
//!
//! fn main() {
//!     weir::Distribution::builtin().processor(RedactFactory).main()
//! }
//! ```
//!
//! `examples/custom-processor` in the repository is such a crate, tested end
//! to end; `docs/plugins.md` walks through writing one.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod docs;
mod logging;
mod progress;
mod schema;
mod top;

use clap::Parser;
use weir_core::{ExporterFactory, ProcessorFactory, ReceiverFactory, Registry};

/// The default pipeline that `weir run` uses without a file.
pub const DEFAULT_PIPELINE: &str = include_str!("../../../pipelines/default.yaml");

/// The global allocator of the `weir` binary (mimalloc), for custom builds to
/// use too: `#[global_allocator] static GLOBAL: weir::Allocator = weir::Allocator;`.
/// Measured faster than glibc's malloc on the OTLP decode path (DESIGN.md §3).
pub use mimalloc::MiMalloc as Allocator;

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
///
/// Every subcommand works on the distribution's [`Registry`]: `run` and
/// `validate` build pipelines from it, `components` lists it (your
/// components beside the built-ins), and a factory added here replaces a
/// built-in one of the same kind and type name.
///
/// ```
/// # use weir_core::*;
/// # struct RedactFactory;
/// # impl ProcessorFactory for RedactFactory {
/// #     fn type_name(&self) -> &'static str { "redact" }
/// #     fn description(&self) -> &'static str { "masks e-mail addresses" }
/// #     fn signals(&self) -> &'static [Signal] { &[Signal::Logs] }
/// #     fn build(&self, _: &ComponentConfig, _: &BuildContext) -> Result<Box<dyn Processor>, ConfigError> { unimplemented!() }
/// # }
/// let dist = weir::Distribution::builtin().processor(RedactFactory);
/// assert!(dist.registry().processor("redact").is_some());
/// assert!(dist.registry().processor("sample").is_some());
/// // What `my-weir components` prints (`main()` runs the process's arguments).
/// assert_eq!(dist.run_cli(["my-weir", "components"]), weir::exit::OK);
/// ```
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

    /// Parses the process arguments, runs the command, and exits with its
    /// code (see [`exit`]). Installs the TLS crypto provider (ring) first.
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
