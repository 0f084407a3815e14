//! Log-line mapping (filled in by the stdin work).
