//! How long to wait before retrying the same target: exponential backoff with full jitter
//! (AWS's "full jitter"), never sooner than the provider's Retry-After.

use super::policy::RetryPolicy;
use crate::routing::Rng;
use std::time::Duration;

/// The wait before retry number `retry` (0 for the first retry), or `None` when the
/// provider asked for a pause longer than the policy's cap (then another target is better).
pub fn retry_delay(
    policy: &RetryPolicy,
    retry: u32,
    retry_after: Option<Duration>,
    rng: &mut Rng,
) -> Option<Duration> {
    if retry_after.is_some_and(|r| r > policy.max_retry_after) {
        return None;
    }
    let ceiling = policy
        .backoff
        .saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
        .min(policy.max_backoff);
    let jittered = ceiling.mul_f64(rng.next_f64());
    Some(jittered.max(retry_after.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max: 5,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(10),
        }
    }

    #[test]
    fn full_jitter_stays_under_the_doubling_ceiling() {
        let mut rng = Rng::seeded(1);
        for (retry, ceiling_ms) in [(0, 100), (1, 200), (2, 400), (3, 800), (4, 1000), (9, 1000)] {
            let mut max_seen = Duration::ZERO;
            for _ in 0..2000 {
                let d = retry_delay(&policy(), retry, None, &mut rng).expect("retry");
                assert!(d <= Duration::from_millis(ceiling_ms), "{retry}: {d:?}");
                max_seen = max_seen.max(d);
            }
            // Full jitter spreads over the whole range.
            assert!(max_seen >= Duration::from_millis(ceiling_ms * 9 / 10));
        }
    }

    #[test]
    fn retry_after_is_a_floor_and_a_long_one_skips_the_retry() {
        let mut rng = Rng::seeded(2);
        let d = retry_delay(&policy(), 0, Some(Duration::from_secs(2)), &mut rng);
        assert_eq!(d, Some(Duration::from_secs(2)));
        assert_eq!(
            retry_delay(&policy(), 0, Some(Duration::from_secs(11)), &mut rng),
            None
        );
    }
}
