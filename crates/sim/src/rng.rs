//! Seeded, portable random streams.
//!
//! Every random decision draws from a PCG stream keyed by (seed, purpose,
//! a, b): a tube's timing is `(seed, TIME, round, tube)`, its assay
//! `(seed, ASSAY, round, tube)`. So any tube can be re-simulated on its own,
//! in any order, with the same outcome, and the city's sequential draws
//! (geography, zones, infections) are independent of the per-tube ones.

use rand::Rng;
use rand_pcg::Pcg64Mcg;

/// The generator used everywhere: PCG-64 MCG (portable, fast, seedable).
pub(crate) type SimRng = Pcg64Mcg;

pub(crate) const GEOGRAPHY: u64 = 1;
pub(crate) const ZONES: u64 = 2;
pub(crate) const INFECTION: u64 = 3;
pub(crate) const TIMING: u64 = 4;
pub(crate) const ASSAY: u64 = 5;
pub(crate) const RETEST: u64 = 6;
pub(crate) const IDS: u64 = 7;
pub(crate) const LABS: u64 = 8;

/// SplitMix64's finaliser: a bijective 64-bit mixer.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit hash of (seed, purpose, a, b).
pub(crate) fn hash4(seed: u64, purpose: u64, a: u64, b: u64) -> u64 {
    mix64(mix64(mix64(seed ^ mix64(purpose)) ^ a) ^ b.rotate_left(17))
}

/// The random stream for (seed, purpose, a, b).
pub(crate) fn stream(seed: u64, purpose: u64, a: u64, b: u64) -> SimRng {
    let hi = hash4(seed, purpose, a, b);
    let lo = mix64(hi ^ 0x5851_F42D_4C95_7F2D);
    Pcg64Mcg::new((u128::from(hi) << 64) | u128::from(lo))
}

/// A 64-bit hash of a byte string (FNV-1a, then mixed), for keys like alert ids.
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix64(h)
}

/// Uniform in `[lo, hi)` (or exactly `lo` when the range is empty).
pub(crate) fn uniform(rng: &mut SimRng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// Uniform integer in `lo..=hi`.
pub(crate) fn uniform_u32(rng: &mut SimRng, (lo, hi): (u32, u32)) -> u32 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

/// Hours (a uniform draw in the range) in milliseconds.
pub(crate) fn hours_ms(rng: &mut SimRng, (lo, hi): (f64, f64)) -> i64 {
    (uniform(rng, lo, hi) * 3_600_000.0).round() as i64
}
