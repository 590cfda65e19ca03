//! Seeded random numbers. The library never touches OS or thread-local randomness: every
//! function that draws takes an `&mut R` where `R: Rng`, and the CLI takes `--seed`.

use rand_core::SeedableRng;

/// The crate's generator: xoshiro256++ (fast, 256-bit state, good statistical quality).
pub type Rng = rand_xoshiro::Xoshiro256PlusPlus;

/// A generator from a 64-bit seed (expanded with SplitMix64).
///
/// ```
/// use rand::RngExt;
/// let mut a = neurodyn::rng::seeded(7);
/// let mut b = neurodyn::rng::seeded(7);
/// assert_eq!(a.random::<u64>(), b.random::<u64>());
/// ```
pub fn seeded(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// The `i`-th independent stream derived from `seed` (for shards, trials, workers): the same
/// `(seed, i)` always gives the same stream, whatever the thread count.
pub fn stream(seed: u64, i: u64) -> Rng {
    let mut r = Rng::seed_from_u64(seed);
    for _ in 0..i.min(64) {
        r.jump();
    }
    if i >= 64 {
        return Rng::seed_from_u64(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }
    r
}
