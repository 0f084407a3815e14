//! Trace and span ids written as hex.

/// A trace id from 32 hex digits (either case). `None` when the text is not
/// that, or is all zeros (an invalid id in OTLP).
pub fn parse_trace_id(hex: &str) -> Option<[u8; 16]> {
    parse_id(hex)
}

/// A span id from 16 hex digits (either case). `None` when the text is not
/// that, or is all zeros.
pub fn parse_span_id(hex: &str) -> Option<[u8; 8]> {
    parse_id(hex)
}

fn parse_id<const N: usize>(hex: &str) -> Option<[u8; N]> {
    let digits = hex.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut id = [0u8; N];
    for (byte, pair) in id.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    id.iter().any(|b| *b != 0).then_some(id)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}
