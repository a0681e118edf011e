//! Randomness without shared state: one independent ChaCha8 stream per
//! `(seed, purpose, epoch, sample)`, and the epoch permutation as a pure function of `(seed, epoch)`.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// The generator augflow draws every random number from.
pub type SampleRng = ChaCha8Rng;

/// What a stream is used for, so streams of different purposes never coincide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// The augmentation parameters of one sample.
    Transform = 1,
    /// The order of the samples in one epoch.
    Permutation = 2,
    /// A shuffle before a train/validation split.
    Split = 3,
    /// The augmentation of `fit(augment = true)`.
    Fit = 4,
    /// Anything else a caller needs (pipelines, tools).
    Other = 5,
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An independent stream for `(seed, stream, epoch, index)`.
///
/// The same arguments always give the same numbers, on any thread, in any order.
///
/// ```
/// use augflow::rng::{Stream, stream_rng};
/// use rand_chacha::rand_core::Rng;
/// let a = stream_rng(42, Stream::Transform, 0, 7).next_u64();
/// assert_eq!(a, stream_rng(42, Stream::Transform, 0, 7).next_u64());
/// assert_ne!(a, stream_rng(42, Stream::Transform, 1, 7).next_u64());
/// ```
pub fn stream_rng(seed: u64, stream: Stream, epoch: u64, index: u64) -> SampleRng {
    let mut h = splitmix64(seed);
    h = splitmix64(h ^ stream as u64);
    h = splitmix64(h ^ epoch);
    h = splitmix64(h ^ index);
    let mut key = [0u8; 32];
    for (i, chunk) in key.chunks_exact_mut(8).enumerate() {
        h = splitmix64(h ^ i as u64);
        chunk.copy_from_slice(&h.to_le_bytes());
    }
    ChaCha8Rng::from_seed(key)
}

/// The stream that draws the augmentation of sample `index` in epoch `epoch`.
///
/// ```
/// use augflow::rng::sample_rng;
/// use rand_chacha::rand_core::Rng;
/// assert_eq!(sample_rng(1, 2, 3).next_u32(), sample_rng(1, 2, 3).next_u32());
/// ```
pub fn sample_rng(seed: u64, epoch: u64, index: u64) -> SampleRng {
    stream_rng(seed, Stream::Transform, epoch, index)
}

/// A uniform `f64` in `[0, 1)` with 53 random bits.
///
/// ```
/// let mut r = augflow::rng::sample_rng(0, 0, 0);
/// let u = augflow::rng::unit_f64(&mut r);
/// assert!((0.0..1.0).contains(&u));
/// ```
pub fn unit_f64(rng: &mut SampleRng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `lo + (hi - lo) · u`, `u` uniform in `[0, 1)`, as numpy's `uniform` (spec §1.1);
/// `lo > hi` is allowed.
pub fn uniform(rng: &mut SampleRng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * unit_f64(rng)
}

/// A uniform integer in `[0, n)` without modulo bias; `0` without drawing when `n <= 1`.
///
/// ```
/// let mut r = augflow::rng::sample_rng(0, 0, 0);
/// assert!(augflow::rng::below(&mut r, 10) < 10);
/// ```
pub fn below(rng: &mut SampleRng, n: u64) -> u64 {
    if n <= 1 {
        return 0;
    }
    let zone = u64::MAX - (u64::MAX - n + 1) % n;
    loop {
        let v = rng.next_u64();
        if v <= zone {
            return v % n;
        }
    }
}

/// A uniformly random permutation of `0..n` (Fisher–Yates), a pure function of
/// `(seed, stream, epoch)`.
///
/// ```
/// use augflow::rng::{Stream, permutation};
/// let p = permutation(9, Stream::Permutation, 0, 10);
/// let mut sorted = p.clone();
/// sorted.sort();
/// assert_eq!(sorted, (0..10).collect::<Vec<_>>());
/// assert_eq!(p, permutation(9, Stream::Permutation, 0, 10));
/// ```
pub fn permutation(seed: u64, stream: Stream, epoch: u64, n: usize) -> Vec<usize> {
    let mut rng = stream_rng(seed, stream, epoch, 0);
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = below(&mut rng, i as u64 + 1) as usize;
        p.swap(i, j);
    }
    p
}

/// A seed drawn from the operating system's randomness (for `seed: None`), so that any run
/// can be replayed by passing the seed it reports.
///
/// ```
/// let a = augflow::rng::os_seed();
/// let b = augflow::rng::os_seed();
/// assert_ne!(a, b);
/// ```
pub fn os_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // RandomState's keys come from the OS; the counter and the clock make repeated calls differ.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    h.write_u64(now);
    h.write_u32(std::process::id());
    splitmix64(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_roughly_uniform() {
        let mut r = sample_rng(3, 0, 0);
        let mut counts = [0usize; 5];
        for _ in 0..50_000 {
            counts[below(&mut r, 5) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn uniform_stays_in_range_and_fills_it() {
        let mut r = sample_rng(5, 0, 0);
        let v: Vec<f64> = (0..10_000).map(|_| uniform(&mut r, -20.0, 20.0)).collect();
        assert!(v.iter().all(|x| (-20.0..20.0).contains(x)));
        assert!(v.iter().any(|&x| x < -19.0) && v.iter().any(|&x| x > 19.0));
    }

    #[test]
    fn permutations_differ_between_epochs() {
        assert_ne!(
            permutation(1, Stream::Permutation, 0, 50),
            permutation(1, Stream::Permutation, 1, 50)
        );
    }

    #[test]
    fn fisher_yates_is_unbiased_on_three_elements() {
        // 6 orderings of 3 rows, each expected 1/6 of the time over many (seed, epoch) pairs.
        let mut counts = std::collections::BTreeMap::new();
        let trials = 6000;
        for e in 0..trials {
            *counts
                .entry(permutation(99, Stream::Other, e, 3))
                .or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 6);
        for (perm, c) in counts {
            // Binomial(6000, 1/6): sd ≈ 29; 6 sd either side.
            assert!((826..=1174).contains(&c), "{perm:?} seen {c} times");
        }
    }
}
