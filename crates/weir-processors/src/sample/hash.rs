//! The sampling hash, ratio thresholds and the per-instance random source.
//!
//! The hash is fixed and documented (`docs/processors/sample.md`) so that any
//! weir instance, or another tool, reproduces a decision:
//!
//! ```text
//! h = FNV-1a 64 (offset 0xcbf29ce484222325, prime 0x100000001b3)
//!       over the 4 little-endian bytes of hash_seed, then the key bytes
//! h = fmix64(h)          // MurmurHash3's 64-bit finalizer
//! keep  <=>  h < ratio × 2^64
//! ```
//!
//! The key bytes are the 16 trace-id bytes, or an attribute value (a string's
//! UTF-8 bytes; an integer's, a double's bits' or a boolean's 8 little-endian
//! bytes as `u64`). FNV-1a alone leaves short inputs' high bits poorly mixed,
//! and the decision reads the high bits, hence the finalizer.

use std::hash::BuildHasher;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// The seeded sampling hash of `key` (no allocation).
#[inline]
pub fn hash(seed: u32, key: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    for b in seed.to_le_bytes().iter().chain(key) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    fmix64(h)
}

/// MurmurHash3's 64-bit finalizer: every input bit reaches every output bit.
#[inline]
pub fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

/// A sampling ratio with its precomputed hash threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    /// The ratio, 0.0-1.0.
    pub value: f64,
    /// Keep when `hash < threshold`; meaningless when `all`.
    threshold: u64,
    /// `value == 1.0`: keep everything (2^64 does not fit a `u64`).
    all: bool,
}

impl Ratio {
    /// A ratio; `value` must be within 0.0-1.0 (checked at config time).
    pub fn new(value: f64) -> Self {
        debug_assert!((0.0..=1.0).contains(&value));
        Ratio {
            value,
            // `as` saturates: a value just below 1.0 gives u64::MAX.
            threshold: (value * 18_446_744_073_709_551_616.0) as u64,
            all: value >= 1.0,
        }
    }

    /// Whether every item is kept at this ratio.
    pub fn keeps_all(&self) -> bool {
        self.all
    }

    /// The decision for an item whose sampling hash is `h`.
    #[inline]
    pub fn keeps(&self, h: u64) -> bool {
        self.all || h < self.threshold
    }
}

/// SplitMix64: a fast, good-enough random source for items with no key,
/// seeded per instance from the OS-seeded `RandomState`.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded differently for every instance.
    pub fn from_entropy() -> Self {
        Rng(std::collections::hash_map::RandomState::new().hash_one(0x5eed_u32))
    }

    /// A generator with a fixed seed (tests).
    #[cfg(test)]
    pub fn seeded(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next uniformly distributed `u64`.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        fmix_splitmix(self.0)
    }
}

#[inline]
fn fmix_splitmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_fixed_and_seeded() {
        // Pinned (computed by an independent Python rendering of the documented
        // algorithm) so a change, which would change every decision across a
        // fleet, cannot slip in unnoticed.
        let id: Vec<u8> = (1..=16).collect();
        assert_eq!(hash(42, &id), 0x1942_4d5d_e733_06f3);
        assert_eq!(hash(0, b""), 0x4d33_a937_2719_2487);
        assert_ne!(hash(0, &[1; 16]), hash(1, &[1; 16]));
        assert_eq!(hash(7, &[3; 16]), hash(7, &[3; 16]));
    }

    #[test]
    fn thresholds_cover_the_edges() {
        assert!(!Ratio::new(0.0).keeps(0));
        assert!(Ratio::new(1.0).keeps(u64::MAX));
        assert!(Ratio::new(0.5).keeps(u64::MAX / 2 - 1));
        assert!(!Ratio::new(0.5).keeps(u64::MAX / 2 + 2));
        assert!(!Ratio::new(0.999_999_999_999_999_9).keeps(u64::MAX));
    }

    #[test]
    fn rng_is_roughly_uniform() {
        let mut r = Rng::seeded(1);
        let half = (0..10_000).filter(|_| r.next_u64() < u64::MAX / 2).count();
        assert!((4_700..5_300).contains(&half), "{half}");
    }
}
