//! A small, fast random source for routing picks (wyrand), seedable so tests are exact.
//!
//! Routing needs a few random numbers per request (weighted picks, power-of-two choices,
//! jitter); a per-thread generator keeps that free of locks and of a dependency.

use std::cell::Cell;

/// A wyrand generator: 64 bits of state, passes BigCrush, one multiply per number.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator with a fixed seed, for reproducible tests and benchmarks.
    pub fn seeded(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// A generator seeded from the clock, the thread and a process-wide counter.
    pub fn from_entropy() -> Rng {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        Rng { state: h.finish() }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.state) * u128::from(self.state ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) as u64) ^ (t as u64)
    }

    /// A uniform float in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform index in [0, n); n must be > 0.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

thread_local! {
    static STATE: Cell<u64> = Cell::new(Rng::from_entropy().state);
}

/// Runs `f` with this thread's generator (no locks, no allocation).
pub fn with_thread_rng<T>(f: impl FnOnce(&mut Rng) -> T) -> T {
    STATE.with(|s| {
        let mut rng = Rng { state: s.get() };
        let out = f(&mut rng);
        s.set(rng.state);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_generators_repeat_and_stay_in_range() {
        let (mut a, mut b) = (Rng::seeded(7), Rng::seeded(7));
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            let f = a.next_f64();
            assert!((0.0..1.0).contains(&f));
            assert!(a.below(3) < 3);
            b.next_f64();
            b.below(3);
        }
    }

    #[test]
    fn below_is_roughly_uniform() {
        let mut r = Rng::seeded(42);
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            counts[r.below(4)] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }
}
