//! OTLP wire for weir: the OTLP/JSON encoding, and the mapping of foreign log
//! lines (text or JSON objects) onto OTLP log records, shared by the stdin and
//! http receivers and the enrich processor.
#![forbid(unsafe_code)]

pub mod json;
pub mod logline;
