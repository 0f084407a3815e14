//! Editing encoded export requests without decoding them.
//!
//! Decoding an OTLP request into the `opentelemetry-proto` structs and encoding
//! it again costs ~2 µs a log record (DESIGN.md §3), far more than what most
//! processors do to it. This module lets a processor work on the bytes the
//! receiver got: find the groups and units of a request ([`Layout`]), read a
//! unit's fields and attributes in place ([`read`], [`attrs`]), and build the
//! output from ranges of the inputs plus the few bytes it adds ([`Assembly`]).
//! A unit that is kept as it is costs a copy of its bytes.

mod assemble;
pub mod attrs;
mod layout;
pub mod read;

pub use assemble::{ARENA, Assembly, Header, Piece, Slot, field_len};
pub use layout::{HeaderField, Layout, ResourceGroup, ScopeGroup};
pub use read::Malformed;
