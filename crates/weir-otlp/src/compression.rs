//! Content encodings: gzip and zstd, decompressed under a size limit.

use std::io::{self, Read, Write};

use bytes::Bytes;

/// A content encoding weir speaks on HTTP (`Content-Encoding`) and gRPC (`grpc-encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// No compression.
    Identity,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

/// Why a body could not be decompressed.
#[derive(Debug, thiserror::Error)]
pub enum DecompressError {
    /// The decompressed body would exceed the limit (a bomb or just too big).
    #[error("decompressed body exceeds {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not valid data of its encoding.
    #[error("invalid {encoding} data: {message}")]
    Invalid {
        /// `gzip` or `zstd`.
        encoding: &'static str,
        /// What the decoder said.
        message: String,
    },
}

impl Encoding {
    /// Parses a header value (`gzip`, `x-gzip`, `zstd`, `identity`;
    /// case-insensitive, surrounding whitespace ignored).
    pub fn from_header(value: &str) -> Option<Encoding> {
        let v = value.trim();
        if v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip") {
            Some(Encoding::Gzip)
        } else if v.eq_ignore_ascii_case("zstd") {
            Some(Encoding::Zstd)
        } else if v.eq_ignore_ascii_case("identity") {
            Some(Encoding::Identity)
        } else {
            None
        }
    }

    /// The encoding of a batch's compressed bytes; `None` for one this crate
    /// does not know (`ContentEncoding` is non-exhaustive).
    pub fn from_content_encoding(e: weir_core::ContentEncoding) -> Option<Encoding> {
        match e {
            weir_core::ContentEncoding::Gzip => Some(Encoding::Gzip),
            weir_core::ContentEncoding::Zstd => Some(Encoding::Zstd),
            _ => None,
        }
    }

    /// The matching [`weir_core::ContentEncoding`] (`None` for identity), to
    /// look up or attach a batch's compressed bytes.
    pub fn content_encoding(self) -> Option<weir_core::ContentEncoding> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some(weir_core::ContentEncoding::Gzip),
            Encoding::Zstd => Some(weir_core::ContentEncoding::Zstd),
        }
    }

    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Zstd => "zstd",
        }
    }
}

/// Read size per step: big enough to keep decoder call overhead low, small
/// enough that a bomb is caught within one chunk of the limit.
const CHUNK: usize = 64 * 1024;

/// Decompresses `body`, failing as soon as the output passes `limit` bytes
/// (the whole output is never held when it is too large).
pub fn decompress(encoding: Encoding, body: &[u8], limit: usize) -> Result<Bytes, DecompressError> {
    match encoding {
        Encoding::Identity => {
            if body.len() > limit {
                return Err(DecompressError::TooLarge { limit });
            }
            Ok(Bytes::copy_from_slice(body))
        }
        // Multi-member gzip is legal (RFC 1952) and some clients concatenate.
        Encoding::Gzip => read_limited(
            flate2::read::MultiGzDecoder::new(body),
            "gzip",
            body.len(),
            limit,
        ),
        Encoding::Zstd => {
            let decoder =
                zstd::stream::read::Decoder::with_buffer(body).map_err(|e| invalid("zstd", &e))?;
            read_limited(decoder, "zstd", body.len(), limit)
        }
    }
}

fn invalid(encoding: &'static str, e: &io::Error) -> DecompressError {
    DecompressError::Invalid {
        encoding,
        message: e.to_string(),
    }
}

/// Reads `r` to the end into one buffer, never growing it past `limit + 1` bytes.
fn read_limited(
    mut r: impl Read,
    encoding: &'static str,
    input_len: usize,
    limit: usize,
) -> Result<Bytes, DecompressError> {
    // Telemetry compresses ~4-10x; start near that so small bodies need no regrowth,
    // but never reserve beyond the limit on the word of the input size.
    let cap = input_len.saturating_mul(4).clamp(CHUNK, 16 * CHUNK);
    let mut out: Vec<u8> = Vec::with_capacity(cap.min(limit.saturating_add(1)));
    loop {
        if out.len() > limit {
            return Err(DecompressError::TooLarge { limit });
        }
        let start = out.len();
        // At most one byte past the limit is read: enough to know it is exceeded.
        let want = CHUNK.min(limit.saturating_add(1) - start);
        out.resize(start + want, 0);
        match r.read(&mut out[start..]) {
            Ok(0) => {
                out.truncate(start);
                return Ok(Bytes::from(out));
            }
            Ok(n) => out.truncate(start + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => out.truncate(start),
            Err(e) => return Err(invalid(encoding, &e)),
        }
    }
}

/// Compresses `body` (`level: None` = a fast default: gzip 1, zstd 1).
pub fn compress(encoding: Encoding, body: &[u8], level: Option<i32>) -> Vec<u8> {
    match encoding {
        Encoding::Identity => body.to_vec(),
        Encoding::Gzip => {
            let level = level.unwrap_or(1).clamp(0, 9) as u32;
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(body.len() / 4 + 64),
                flate2::Compression::new(level),
            );
            // Writing into a Vec cannot fail.
            enc.write_all(body).expect("gzip into memory");
            enc.finish().expect("gzip into memory")
        }
        Encoding::Zstd => zstd::bulk::compress(body, level.unwrap_or(1)).expect("zstd into memory"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1024 * 1024;

    #[test]
    fn header_values() {
        assert_eq!(Encoding::from_header(" GZip "), Some(Encoding::Gzip));
        assert_eq!(Encoding::from_header("x-gzip"), Some(Encoding::Gzip));
        assert_eq!(Encoding::from_header("ZSTD"), Some(Encoding::Zstd));
        assert_eq!(Encoding::from_header("identity"), Some(Encoding::Identity));
        assert_eq!(Encoding::from_header("br"), None);
        assert_eq!(Encoding::from_header(""), None);
        for e in [Encoding::Identity, Encoding::Gzip, Encoding::Zstd] {
            assert_eq!(Encoding::from_header(e.as_str()), Some(e));
            if let Some(c) = e.content_encoding() {
                assert_eq!(c.as_str(), e.as_str());
                assert_eq!(Encoding::from_content_encoding(c), Some(e));
            }
        }
    }

    fn sample() -> Vec<u8> {
        (0..200_000u32)
            .flat_map(|i| format!("record {i} level=info ").into_bytes())
            .collect()
    }

    #[test]
    fn round_trips() {
        let body = sample();
        for e in [Encoding::Identity, Encoding::Gzip, Encoding::Zstd] {
            for level in [None, Some(6)] {
                let c = compress(e, &body, level);
                if e != Encoding::Identity {
                    assert!(c.len() < body.len() / 3, "{e:?} compresses");
                }
                assert_eq!(decompress(e, &c, body.len()).unwrap(), body, "{e:?}");
                // Exactly at the limit is fine; one byte under is not.
                assert!(matches!(
                    decompress(e, &c, body.len() - 1),
                    Err(DecompressError::TooLarge { limit }) if limit == body.len() - 1
                ));
            }
        }
        assert_eq!(
            decompress(Encoding::Gzip, &compress(Encoding::Gzip, b"", None), 0).unwrap(),
            b""[..]
        );
    }

    #[test]
    fn multi_member_gzip() {
        let mut two = compress(Encoding::Gzip, b"hello ", None);
        two.extend(compress(Encoding::Gzip, b"world", None));
        assert_eq!(
            decompress(Encoding::Gzip, &two, 100).unwrap(),
            b"hello world"[..]
        );
    }

    /// 64 MiB of zeros, compressed without ever holding them.
    fn bomb(encoding: Encoding) -> Vec<u8> {
        let zeros = vec![0u8; MIB];
        match encoding {
            Encoding::Gzip => {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
                for _ in 0..64 {
                    enc.write_all(&zeros).unwrap();
                }
                enc.finish().unwrap()
            }
            _ => {
                let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
                for _ in 0..64 {
                    enc.write_all(&zeros).unwrap();
                }
                enc.finish().unwrap()
            }
        }
    }

    #[test]
    fn bombs_fail_fast() {
        for e in [Encoding::Gzip, Encoding::Zstd] {
            let b = bomb(e);
            assert!(b.len() < 200 * 1024, "{e:?} bomb is small: {}", b.len());
            let t = std::time::Instant::now();
            let err = decompress(e, &b, 20 * MIB).unwrap_err();
            assert!(
                matches!(err, DecompressError::TooLarge { limit } if limit == 20 * MIB),
                "{err}"
            );
            // Reading 20 MiB of zeros takes milliseconds; the full 64 MiB is never produced.
            assert!(t.elapsed().as_secs() < 5);
        }
    }

    #[test]
    fn truncated_and_corrupt_input_is_invalid() {
        let body = sample();
        for e in [Encoding::Gzip, Encoding::Zstd] {
            let c = compress(e, &body, None);
            let err = decompress(e, &c[..c.len() / 2], usize::MAX / 2).unwrap_err();
            assert!(
                matches!(err, DecompressError::Invalid { encoding, .. } if encoding == e.as_str()),
                "{err}"
            );
            let err = decompress(e, b"definitely not compressed", 1000).unwrap_err();
            assert!(matches!(err, DecompressError::Invalid { .. }), "{err}");
        }
        // A gzip stream cut inside its trailer (CRC/length) is also refused.
        let c = compress(Encoding::Gzip, b"abc", None);
        assert!(decompress(Encoding::Gzip, &c[..c.len() - 2], 1000).is_err());
    }

    #[test]
    fn identity_respects_the_limit() {
        assert!(matches!(
            decompress(Encoding::Identity, b"abcd", 3),
            Err(DecompressError::TooLarge { limit: 3 })
        ));
        assert_eq!(
            decompress(Encoding::Identity, b"abc", 3).unwrap(),
            b"abc"[..]
        );
    }
}
