//! weir's built-in processors, one folder each.
#![forbid(unsafe_code)]

use weir_core::Registry;

/// Adds every built-in processor to `registry`.
pub fn register(_registry: &mut Registry) {}
