//! The config shape of routes: targets, strategy, rules, retries, cooldowns, hedging and
//! fallbacks, exactly as users write them.

use super::schema::duration;
use crate::api::ErrorKind;
use crate::routing::Strategy;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// A model name served by one or more targets.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteEntry {
    /// Other names for the route.
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub strategy: Strategy,
    #[serde(default)]
    pub targets: Vec<TargetEntry>,
    /// Evaluated in order before the strategy; the first match sends the request elsewhere.
    #[serde(default)]
    pub rules: Vec<RuleEntry>,
    /// Where requests go when no rule matches (for a route without targets).
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub retries: Option<RetriesEntry>,
    #[serde(default)]
    pub cooldown: Option<CooldownEntry>,
    #[serde(default)]
    pub timeouts: Option<RouteTimeoutsEntry>,
    /// Opt-in: a second target when the first is slower than usual.
    #[serde(default)]
    pub hedge: Option<HedgeEntry>,
    /// Other routes to try when this one fails, by error kind.
    #[serde(default)]
    pub fallbacks: Vec<FallbackEntry>,
    /// Opt-in: continue a stream cut after its first chunk on another target.
    #[serde(default)]
    pub stream_resume: bool,
}

/// One target of a route.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetEntry {
    /// A configured provider or a preset name.
    pub provider: String,
    /// The provider's model id.
    pub model: String,
    /// Share of traffic for `weighted` (default 1; 0 = only when the others are out).
    #[serde(default)]
    pub weight: Option<f64>,
    /// Requests per minute this target may take.
    #[serde(default)]
    pub rpm: Option<u64>,
    /// Tokens per minute this target may take.
    #[serde(default)]
    pub tpm: Option<u64>,
    /// USD per million tokens; overrides the built-in price table.
    #[serde(default)]
    pub price: Option<PriceEntry>,
    /// What the target supports; when omitted, everything.
    #[serde(default)]
    pub capabilities: Option<Vec<Capability>>,
    /// The model's context window in tokens; when omitted, unlimited.
    #[serde(default)]
    pub context_window: Option<u64>,
    /// Labels shown in `health()`.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A price in USD per million tokens.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceEntry {
    pub input: f64,
    #[serde(default)]
    pub output: f64,
}

/// A feature a request may need from a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    Tools,
    Vision,
    JsonSchema,
}

/// A conditional routing rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleEntry {
    #[serde(default)]
    pub when: MatchEntry,
    /// A route, a model name or `provider/model`.
    pub route: String,
}

/// Conditions of a rule; all must hold. Lists mean "any of".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchEntry {
    #[serde(default, deserialize_with = "one_or_many")]
    pub tier: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub user: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub team: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub tags: Vec<String>,
    /// Metadata key -> a value or a list of values.
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub has_tools: Option<bool>,
    #[serde(default)]
    pub has_images: Option<bool>,
    #[serde(default)]
    pub json: Option<bool>,
    #[serde(default)]
    pub reasoning: Option<bool>,
    #[serde(default)]
    pub prompt_tokens_above: Option<u64>,
    #[serde(default)]
    pub prompt_tokens_below: Option<u64>,
}

/// Same-target retries; unset fields come from `defaults.retries`, then built-ins.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetriesEntry {
    /// Retries on one target before failing over (default 0).
    #[serde(default)]
    pub max: Option<u32>,
    /// The first backoff ceiling (default 200ms), doubling per retry.
    #[serde(default, deserialize_with = "duration")]
    pub backoff: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    pub max_backoff: Option<Duration>,
    /// A longer Retry-After is not waited for on the same target (default 30s).
    #[serde(default, deserialize_with = "duration")]
    pub max_retry_after: Option<Duration>,
}

/// When a target rests; unset fields come from `defaults.cooldown`, then built-ins.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CooldownEntry {
    /// Failures within `window` that make a target rest (default 3).
    #[serde(default)]
    pub failures: Option<u32>,
    #[serde(default, deserialize_with = "duration")]
    pub window: Option<Duration>,
    /// The first rest (default 10s); doubles per failed probe up to `max_duration`.
    #[serde(default, deserialize_with = "duration")]
    pub duration: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    pub max_duration: Option<Duration>,
    /// How long a request may wait when every target rests (default: not at all).
    #[serde(default, deserialize_with = "duration")]
    pub wait: Option<Duration>,
}

/// A route's deadlines.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteTimeoutsEntry {
    /// One attempt (to the first chunk for streams).
    #[serde(default, deserialize_with = "duration")]
    pub attempt: Option<Duration>,
    /// The whole request.
    #[serde(default, deserialize_with = "duration")]
    pub total: Option<Duration>,
}

/// Hedging settings.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HedgeEntry {
    /// `p95` (any `pNN`), or a fixed delay (`"300ms"`, `0.3`). Default `p95`.
    #[serde(default, deserialize_with = "hedge_after")]
    pub after: Option<HedgeAfterEntry>,
    /// The delay used until the target has enough latency samples (default 1s).
    #[serde(default, deserialize_with = "duration")]
    pub initial: Option<Duration>,
}

/// When to hedge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HedgeAfterEntry {
    Quantile(f64),
    Fixed(Duration),
}

/// A route-level fallback.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackEntry {
    /// Error kinds, `retryable` or `any` (default `retryable`).
    #[serde(default)]
    pub on: Vec<FallbackOnEntry>,
    /// Routes to try, in order.
    #[serde(deserialize_with = "one_or_many")]
    pub to: Vec<String>,
}

/// `retryable`, `any`, or an error kind name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackOnEntry {
    Retryable,
    Any,
    Kind(ErrorKind),
}

impl<'de> Deserialize<'de> for FallbackOnEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "retryable" => Ok(FallbackOnEntry::Retryable),
            "any" => Ok(FallbackOnEntry::Any),
            other => ErrorKind::ALL
                .iter()
                .find(|k| k.as_str() == other)
                .map(|k| FallbackOnEntry::Kind(*k))
                .ok_or_else(|| {
                    // serde's wording, so the loader adds a did-you-mean.
                    let allowed: Vec<String> = ["retryable", "any"]
                        .into_iter()
                        .chain(ErrorKind::ALL.iter().map(|k| k.as_str()))
                        .map(|n| format!("`{n}`"))
                        .collect();
                    de::Error::custom(format!(
                        "unknown variant `{other}`, expected one of {}",
                        allowed.join(", ")
                    ))
                }),
        }
    }
}

/// Settings of the built-in `auto` route.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoEntry {
    /// Where short, simple prompts go (default `openai/gpt-4o-mini`).
    #[serde(default)]
    pub small: Option<String>,
    /// Where long, tool-using, image or reasoning prompts go (default `openai/gpt-4o`).
    #[serde(default)]
    pub large: Option<String>,
    /// Prompts above this many estimated tokens go to `large` (default 2000).
    #[serde(default)]
    pub long_prompt_tokens: Option<u64>,
    /// Caller tags that mean a reasoning-heavy workload (default reasoning, code, analysis).
    #[serde(default)]
    pub large_tags: Option<Vec<String>>,
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string or a list of strings")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<String>, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::new();
            while let Some(s) = seq.next_element::<String>()? {
                out.push(s);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

fn hedge_after<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HedgeAfterEntry>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(f64),
        Text(String),
    }
    let bad = |what: &str| {
        de::Error::custom(format!(
            "invalid hedge delay `{what}`: write a quantile like \"p95\" or a duration like \"300ms\""
        ))
    };
    Ok(Some(match Raw::deserialize(d)? {
        Raw::Secs(s) if s.is_finite() && s > 0.0 => {
            HedgeAfterEntry::Fixed(Duration::from_secs_f64(s))
        }
        Raw::Secs(s) => return Err(bad(&s.to_string())),
        Raw::Text(t) => match t.strip_prefix('p').map(str::parse::<f64>) {
            Some(Ok(q)) if q > 0.0 && q < 100.0 => HedgeAfterEntry::Quantile(q / 100.0),
            Some(_) => return Err(bad(&t)),
            None => HedgeAfterEntry::Fixed(humantime::parse_duration(&t).map_err(|_| bad(&t))?),
        },
    }))
}
