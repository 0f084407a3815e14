//! OTLP/JSON encoding (filled in by the exporters work).
