//! Timing helpers for the harness-less benches: per-operation times from batches, so the
//! clock's own cost is spread over many operations.

use std::time::{Duration, Instant};

/// Percentiles (ns per operation) over `batches` batches of `per_batch` calls of `op`.
pub fn per_op_ns(batches: usize, per_batch: usize, mut op: impl FnMut()) -> Summary {
    for _ in 0..per_batch * 10 {
        op();
    }
    let mut samples: Vec<f64> = Vec::with_capacity(batches);
    for _ in 0..batches {
        let t = Instant::now();
        for _ in 0..per_batch {
            op();
        }
        samples.push(t.elapsed().as_nanos() as f64 / per_batch as f64);
    }
    Summary::of(samples)
}

/// Like [`per_op_ns`], with `settle` run (untimed) after every batch: for operations that
/// hand work to another thread, which must catch up between batches as it does in use.
#[allow(dead_code)]
pub fn per_op_ns_settled(
    batches: usize,
    per_batch: usize,
    mut settle: impl FnMut() -> bool,
    mut op: impl FnMut(),
) -> Summary {
    let mut samples: Vec<f64> = Vec::with_capacity(batches);
    for i in 0..batches + 10 {
        let t = Instant::now();
        for _ in 0..per_batch {
            op();
        }
        let took = t.elapsed().as_nanos() as f64 / per_batch as f64;
        settle();
        // The first ten batches warm up.
        if i >= 10 {
            samples.push(took);
        }
    }
    Summary::of(samples)
}

/// Percentiles of per-operation time, ns.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

impl Summary {
    /// The percentiles of per-operation samples (ns).
    pub fn of(mut samples: Vec<f64>) -> Summary {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
        Summary {
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
        }
    }

    /// One result line: name, percentiles and the target it is held to.
    pub fn report(&self, name: &str, target: Duration) {
        let ok = self.p50 <= target.as_nanos() as f64;
        println!(
            "{name}: p50 {:.0} ns, p90 {:.0} ns, p99 {:.0} ns (target p50 < {} ns: {})",
            self.p50,
            self.p90,
            self.p99,
            target.as_nanos(),
            if ok { "met" } else { "MISSED" }
        );
    }
}
