//! The Ledger v1 ingest contract (`shared/ledger-api.md`), shared by the
//! `http` receiver's Ledger-compatible endpoint, the `ledger` exporter and the
//! stand-in Ledger server used in tests.
//!
//! Ledger validates in two layers, and so does this crate:
//! 1. [`gateway`]: the FastAPI/pydantic schema. Any error refuses the whole
//!    request with a 422 and pydantic's error list.
//! 2. [`ingest`]: the ingestion service's per-item rules. A failing item is
//!    rejected inside a 202; the rest of the batch goes on.
//!
//! [`otlp`] maps between Ledger's types and OTLP both ways, [`settings`] is
//! `GET /api/v1/settings`, [`pyjson`] measures `json.dumps` as Python does.
#![forbid(unsafe_code)]

pub mod entry;
pub mod fit;
pub mod gateway;
pub mod ingest;
pub mod otlp;
pub mod pyjson;
pub mod ratelimit;
pub mod settings;
pub mod timestamp;

pub use entry::{Importance, Level, LogEntry, LogType};
pub use gateway::{SpanEvent, SpanIn, Unprocessable};
pub use timestamp::Timestamp;
