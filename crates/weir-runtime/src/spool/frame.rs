//! The frame: how one record sits in a segment file.
//!
//! ```text
//! | len: u32 LE | crc: u32 LE | payload: len bytes |
//! ```
//!
//! `crc` is CRC-32 (IEEE, `crc32fast`) over the four length bytes followed by the
//! payload, so a flipped bit in the length is caught as surely as one in the payload.

/// Bytes before a frame's payload: length and checksum.
pub const FRAME_HEADER_BYTES: usize = 8;

/// The largest payload a frame may carry. Appends above it are refused, and a
/// length above it on replay marks the frame corrupt, so a garbage length never
/// makes the reader allocate gigabytes.
pub const MAX_RECORD_BYTES: usize = 256 * 1024 * 1024;

/// Appends one frame holding `payload` to `out`.
pub fn encode_into(out: &mut Vec<u8>, payload: &[u8]) {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER_BYTES]);
    out.extend_from_slice(payload);
    seal(out, start);
}

/// Fills in the header of the frame that starts at `out[start]`: the caller
/// reserved [`FRAME_HEADER_BYTES`] there and wrote the payload after them. This
/// lets a record be encoded straight into the write buffer, without a copy.
/// The payload must not exceed [`MAX_RECORD_BYTES`].
pub fn seal(out: &mut [u8], start: usize) {
    let payload_start = start + FRAME_HEADER_BYTES;
    let payload_len = out.len() - payload_start;
    debug_assert!(payload_len <= MAX_RECORD_BYTES);
    let len = (payload_len as u32).to_le_bytes();
    let crc = checksum(&len, &out[payload_start..]);
    out[start..start + 4].copy_from_slice(&len);
    out[start + 4..payload_start].copy_from_slice(&crc.to_le_bytes());
}

fn checksum(len: &[u8; 4], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(len);
    hasher.update(payload);
    hasher.finalize()
}

/// What the reader found at one offset of a segment.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A whole, checksummed frame: its payload is `buf[start..start + len]` and
    /// the next frame begins at `next`.
    Frame {
        start: usize,
        len: usize,
        next: usize,
    },
    /// The bytes left are fewer than a header, or than the header's length says:
    /// a write cut short by a crash.
    Short,
    /// The length is impossible (over [`MAX_RECORD_BYTES`]).
    BadLength,
    /// Length in bounds but the checksum does not match; the frame would end at
    /// `next` if its length is to be believed.
    BadChecksum { next: usize },
}

/// Decodes the frame at `buf[at..]`; never panics, whatever the bytes.
pub fn decode(buf: &[u8], at: usize) -> Decoded {
    let Some(header) = buf.get(at..at + FRAME_HEADER_BYTES) else {
        return Decoded::Short;
    };
    let len_bytes: [u8; 4] = [header[0], header[1], header[2], header[3]];
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let len = u32::from_le_bytes(len_bytes) as usize;
    if len > MAX_RECORD_BYTES {
        return Decoded::BadLength;
    }
    let start = at + FRAME_HEADER_BYTES;
    let next = start + len;
    let Some(payload) = buf.get(start..next) else {
        return Decoded::Short;
    };
    if checksum(&len_bytes, payload) != crc {
        return Decoded::BadChecksum { next };
    }
    Decoded::Frame { start, len, next }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let mut buf = Vec::new();
        encode_into(&mut buf, b"hello");
        encode_into(&mut buf, b"");
        assert_eq!(
            decode(&buf, 0),
            Decoded::Frame {
                start: 8,
                len: 5,
                next: 13
            }
        );
        assert_eq!(
            decode(&buf, 13),
            Decoded::Frame {
                start: 21,
                len: 0,
                next: 21
            }
        );
        assert_eq!(decode(&buf, 21), Decoded::Short);
        assert_eq!(decode(&buf[..12], 0), Decoded::Short);
        assert_eq!(decode(&buf[..7], 0), Decoded::Short);

        let mut flipped = buf.clone();
        flipped[10] ^= 0x01;
        assert_eq!(decode(&flipped, 0), Decoded::BadChecksum { next: 13 });
        let mut bad_len = buf.clone();
        bad_len[3] = 0xff;
        assert_eq!(decode(&bad_len, 0), Decoded::BadLength);
        // A length flipped to another in-bounds value fails the checksum.
        let mut other_len = buf;
        other_len[0] = 4;
        assert!(matches!(decode(&other_len, 0), Decoded::BadChecksum { .. }));
    }
}
