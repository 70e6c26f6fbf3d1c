//! What a route does when an attempt fails: how often to retry, when a target rests, when
//! to hedge, where to fall back. Plain data, resolved once from config.

use crate::api::ErrorKind;
use std::time::Duration;

/// Retries on the same target: exponential backoff with full jitter, Retry-After honoured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries on one target after its first failure (0 = go straight to the next target).
    pub max: u32,
    /// The first backoff ceiling; doubles per retry.
    pub backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
    /// A Retry-After longer than this is not waited for on the same target.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max: 0,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// When a target rests, and for how long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CooldownPolicy {
    /// Failures within `window` that make a target rest.
    pub failures: u32,
    pub window: Duration,
    /// The first rest; each failed half-open probe doubles it up to `max_duration`.
    pub duration: Duration,
    pub max_duration: Duration,
    /// How long a request may wait for a resting target when every target rests (0: never).
    pub wait: Duration,
}

impl Default for CooldownPolicy {
    fn default() -> Self {
        CooldownPolicy {
            failures: 3,
            window: Duration::from_secs(60),
            duration: Duration::from_secs(10),
            max_duration: Duration::from_secs(300),
            wait: Duration::ZERO,
        }
    }
}

/// When to send the same request to a second target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HedgeAfter {
    /// After the first target's latency at this quantile (0.95 for p95).
    Quantile(f64),
    /// After a fixed delay.
    Fixed(Duration),
}

/// Opt-in hedging for a route.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HedgePolicy {
    pub after: HedgeAfter,
    /// The delay used until a target has enough latency samples for its quantile.
    pub initial: Duration,
}

/// Which final errors send a request to another route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackOn {
    /// Errors another target may not repeat: rate limits, timeouts, outages, bad bodies.
    Retryable,
    /// Every error.
    Any,
    /// One error kind (`context_window_exceeded`, `content_filtered`, ...).
    Kind(ErrorKind),
}

impl FallbackOn {
    /// Whether an error of `kind` triggers this fallback.
    pub fn covers(self, kind: ErrorKind) -> bool {
        match self {
            FallbackOn::Retryable => fails_over(kind),
            FallbackOn::Any => true,
            FallbackOn::Kind(k) => k == kind,
        }
    }
}

/// Route-level fallback: on these errors, try these routes in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Fallback {
    pub on: Vec<FallbackOn>,
    pub to: Vec<String>,
}

/// Per-attempt and overall deadlines of a route.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RouteTimeouts {
    /// One attempt (to the first chunk for streams).
    pub attempt: Option<Duration>,
    /// The whole request, all attempts and waits included.
    pub total: Option<Duration>,
}

/// Everything a route does beyond choosing a target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoutePolicy {
    pub retries: RetryPolicy,
    pub cooldown: CooldownPolicy,
    pub timeouts: RouteTimeouts,
    pub hedge: Option<HedgePolicy>,
    pub fallbacks: Vec<Fallback>,
    /// Continue a stream cut after its first chunk on another target.
    pub stream_resume: bool,
}

impl RoutePolicy {
    /// The routes to try when the route failed with `kind`.
    pub fn fallbacks_for(&self, kind: ErrorKind) -> Option<&[String]> {
        self.fallbacks
            .iter()
            .find(|f| f.on.iter().any(|o| o.covers(kind)))
            .map(|f| f.to.as_slice())
    }
}

/// What a failed attempt means for the rest of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Transient: retry this target (within the retry policy), then the next one.
    RetrySame,
    /// This target cannot serve it, another may (a model missing at this provider).
    NextTarget,
    /// Nothing on this provider will accept it (credentials, filters, a request it rejects).
    NextProvider,
    /// Only a target with a larger context window can serve it.
    LargerContext,
    /// No target can: end the request now.
    Stop,
}

/// The one place that says how each error kind is handled.
pub fn disposition(kind: ErrorKind) -> Disposition {
    match kind {
        ErrorKind::RateLimited
        | ErrorKind::Timeout
        | ErrorKind::Connection
        | ErrorKind::Unavailable
        | ErrorKind::InvalidResponse => Disposition::RetrySame,
        ErrorKind::NotFound => Disposition::NextTarget,
        ErrorKind::Auth
        | ErrorKind::PermissionDenied
        | ErrorKind::BadRequest
        | ErrorKind::ContentFiltered
        | ErrorKind::Config => Disposition::NextProvider,
        ErrorKind::ContextWindowExceeded => Disposition::LargerContext,
        ErrorKind::BudgetExceeded
        | ErrorKind::RateLimitExceeded
        | ErrorKind::PolicyDenied
        | ErrorKind::Cancelled
        | ErrorKind::Internal => Disposition::Stop,
    }
}

/// Whether an error says the target, not the request, is at fault (so another target or a
/// later try may succeed). A body that is not the provider's format counts: it is the
/// provider misbehaving, not the request.
pub fn fails_over(kind: ErrorKind) -> bool {
    disposition(kind) == Disposition::RetrySame
}

/// Whether an error counts against the target's health (towards a cooldown).
pub fn hurts_health(kind: ErrorKind) -> bool {
    fails_over(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_follow_the_error_kinds() {
        assert_eq!(disposition(ErrorKind::RateLimited), Disposition::RetrySame);
        assert_eq!(
            disposition(ErrorKind::InvalidResponse),
            Disposition::RetrySame
        );
        assert_eq!(disposition(ErrorKind::Auth), Disposition::NextProvider);
        assert_eq!(
            disposition(ErrorKind::BadRequest),
            Disposition::NextProvider
        );
        assert_eq!(
            disposition(ErrorKind::ContextWindowExceeded),
            Disposition::LargerContext
        );
        assert_eq!(disposition(ErrorKind::Cancelled), Disposition::Stop);
        for k in ErrorKind::ALL {
            if k.is_retryable() {
                assert!(fails_over(k), "{k}");
            }
        }
    }

    #[test]
    fn fallbacks_pick_the_first_matching_entry() {
        let p = RoutePolicy {
            fallbacks: vec![
                Fallback {
                    on: vec![FallbackOn::Kind(ErrorKind::ContextWindowExceeded)],
                    to: vec!["big".into()],
                },
                Fallback {
                    on: vec![FallbackOn::Retryable],
                    to: vec!["backup".into()],
                },
            ],
            ..RoutePolicy::default()
        };
        assert_eq!(
            p.fallbacks_for(ErrorKind::ContextWindowExceeded),
            Some(&["big".to_string()][..])
        );
        assert_eq!(
            p.fallbacks_for(ErrorKind::Timeout),
            Some(&["backup".to_string()][..])
        );
        assert_eq!(p.fallbacks_for(ErrorKind::Auth), None);
    }
}
