//! Keeping a request alive: retries with backoff that honours Retry-After, failover along
//! the route's plan, cooldowns, hedging, deadlines, and fallbacks to other routes.
//!
//! How they combine, in one sentence: for each target the strategy picks, retry it up to
//! `retries.max` times while its errors are transient, then move to the next target the
//! strategy picks (skipping resting ones), and when the route runs out, follow its
//! `fallbacks` for the final error's kind.

mod backoff;
mod execute;
mod policy;

pub use backoff::retry_delay;
pub use execute::{Answer, AttemptDeadlines, Call, Executor, Served};
pub use policy::{
    disposition, fails_over, hurts_health, CooldownPolicy, Disposition, Fallback, FallbackOn,
    HedgeAfter, HedgePolicy, RetryPolicy, RoutePolicy, RouteTimeouts,
};
