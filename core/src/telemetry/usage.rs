//! Usage queries: requests, tokens, cost, errors and cache hits since a time, grouped by
//! user, team, model, route, provider, tag or key.
//!
//! Totals are kept per time bucket (`telemetry.usage.bucket`, default one minute) for
//! `retention` (default 24 h), with at most `max_groups` group totals across all buckets
//! (the oldest buckets are dropped first), so memory is bounded. A query sums the buckets
//! that end after `since`, so `since` is honoured to the bucket's resolution.

use super::hub::Observer;
use super::record::{unix_ms, RequestRecord, Status};
use crate::config::UsageConfig;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::SystemTime;

/// What usage rows are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One row with the totals.
    Total,
    User,
    Team,
    /// The model name the caller asked for.
    Model,
    Route,
    Provider,
    /// Each tag of a request counts it once (a request with two tags is in both rows).
    Tag,
    /// The virtual key id.
    Key,
}

impl GroupBy {
    const ALL: [GroupBy; 8] = [
        GroupBy::Total,
        GroupBy::User,
        GroupBy::Team,
        GroupBy::Model,
        GroupBy::Route,
        GroupBy::Provider,
        GroupBy::Tag,
        GroupBy::Key,
    ];

    /// Parses `user`, `team`, `model`, `route`, `provider`, `tag`, `key` or `total`.
    pub fn parse(s: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// Parses a `group_by` argument, or a `bad_request` error naming the parameter and the
    /// allowed values (what every binding reports for a typo).
    pub fn from_param(s: &str) -> Result<GroupBy, crate::api::Error> {
        GroupBy::parse(s).ok_or_else(|| {
            let allowed: Vec<&str> = GroupBy::ALL.iter().map(|g| g.as_str()).collect();
            crate::api::Error::new(
                crate::api::ErrorKind::BadRequest,
                format!(
                    "group_by: unknown grouping `{s}`; allowed: {}",
                    allowed.join(", ")
                ),
            )
            .with_param("group_by")
        })
    }

    /// The name bindings and queries use.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Total => "total",
            GroupBy::User => "user",
            GroupBy::Team => "team",
            GroupBy::Model => "model",
            GroupBy::Route => "route",
            GroupBy::Provider => "provider",
            GroupBy::Tag => "tag",
            GroupBy::Key => "key",
        }
    }
}

/// Totals for one group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UsageRow {
    /// The user, team, model... this row is about; `None` for requests without one (and for
    /// the `total` row).
    pub group: Option<String>,
    pub requests: u64,
    pub errors: u64,
    /// Requests answered from the cache (exact, semantic or coalesced).
    pub cache_hits: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost_usd: Decimal,
    /// What cache hits saved.
    pub saved_usd: Decimal,
}

impl UsageRow {
    fn add(&mut self, r: &RequestRecord) {
        self.requests += 1;
        self.errors += u64::from(matches!(r.status, Status::Error(_)));
        self.cache_hits += u64::from(r.cache.status.is_hit());
        self.prompt_tokens += r.tokens.prompt;
        self.completion_tokens += r.tokens.completion;
        self.cached_tokens += r.tokens.cached;
        self.reasoning_tokens += r.tokens.reasoning;
        self.cost_usd += r.cost_usd();
        self.saved_usd += r.cache.saved_usd.unwrap_or_default();
    }

    fn merge(&mut self, o: &UsageRow) {
        self.requests += o.requests;
        self.errors += o.errors;
        self.cache_hits += o.cache_hits;
        self.prompt_tokens += o.prompt_tokens;
        self.completion_tokens += o.completion_tokens;
        self.cached_tokens += o.cached_tokens;
        self.reasoning_tokens += o.reasoning_tokens;
        self.cost_usd += o.cost_usd;
        self.saved_usd += o.saved_usd;
    }
}

type GroupKey = (GroupBy, Option<String>);

#[derive(Debug)]
struct Bucket {
    /// Unix ms of the bucket's start.
    start: u64,
    rows: HashMap<GroupKey, UsageRow>,
}

/// The in-memory usage store (an observer).
#[derive(Debug)]
pub struct UsageStore {
    width_ms: u64,
    retention_ms: u64,
    max_groups: usize,
    inner: Mutex<Store>,
}

#[derive(Debug, Default)]
struct Store {
    buckets: VecDeque<Bucket>,
    groups: usize,
}

impl UsageStore {
    /// An empty store with the configured resolution and bounds.
    pub fn new(cfg: &UsageConfig) -> UsageStore {
        UsageStore {
            width_ms: (cfg.bucket.as_millis() as u64).max(1),
            retention_ms: cfg.retention.as_millis() as u64,
            max_groups: cfg.max_groups,
            inner: Mutex::new(Store::default()),
        }
    }

    /// Totals of requests that ended at or after `since` (to the bucket), one row per group,
    /// largest cost first (then by group name).
    pub fn query(&self, since: SystemTime, group_by: GroupBy) -> Vec<UsageRow> {
        let since = unix_ms(since);
        let mut out: HashMap<Option<String>, UsageRow> = HashMap::new();
        if let Ok(store) = self.inner.lock() {
            for b in store
                .buckets
                .iter()
                .filter(|b| b.start + self.width_ms > since)
            {
                for ((g, name), row) in &b.rows {
                    if *g == group_by {
                        out.entry(name.clone())
                            .or_insert_with(|| UsageRow {
                                group: name.clone(),
                                ..UsageRow::default()
                            })
                            .merge(row);
                    }
                }
            }
        }
        let mut rows: Vec<UsageRow> = out
            .into_values()
            .map(|mut r| {
                r.cost_usd = r.cost_usd.normalize();
                r.saved_usd = r.saved_usd.normalize();
                r
            })
            .collect();
        rows.sort_by(|a, b| b.cost_usd.cmp(&a.cost_usd).then(a.group.cmp(&b.group)));
        rows
    }

    fn keys(r: &RequestRecord) -> Vec<GroupKey> {
        let mut k = vec![
            (GroupBy::Total, None),
            (GroupBy::User, r.caller.user.clone()),
            (GroupBy::Team, r.caller.team.clone()),
            (GroupBy::Model, Some(r.model.clone())),
            (GroupBy::Route, Some(r.route.clone())),
            (GroupBy::Provider, Some(r.provider.clone())),
            (GroupBy::Key, r.caller.key_id.clone()),
        ];
        if r.tags.is_empty() {
            k.push((GroupBy::Tag, None));
        }
        for t in &r.tags {
            k.push((GroupBy::Tag, Some(t.clone())));
        }
        k
    }
}

impl Store {
    fn bucket_mut(&mut self, start: u64) -> &mut Bucket {
        let pos = self.buckets.iter().rposition(|b| b.start <= start);
        let idx = match pos {
            Some(i) if self.buckets[i].start == start => i,
            Some(i) => {
                self.buckets.insert(
                    i + 1,
                    Bucket {
                        start,
                        rows: HashMap::new(),
                    },
                );
                i + 1
            }
            None => {
                self.buckets.push_front(Bucket {
                    start,
                    rows: HashMap::new(),
                });
                0
            }
        };
        &mut self.buckets[idx]
    }

    fn evict(&mut self, oldest_kept: u64, max_groups: usize) {
        while let Some(front) = self.buckets.front() {
            let too_old = front.start < oldest_kept;
            let too_many = self.groups > max_groups && self.buckets.len() > 1;
            if !(too_old || too_many) {
                break;
            }
            if let Some(b) = self.buckets.pop_front() {
                self.groups -= b.rows.len();
            }
        }
    }
}

impl Observer for UsageStore {
    fn on_record(&self, r: &RequestRecord) {
        let start = r.ended_at_ms - r.ended_at_ms % self.width_ms;
        let now = unix_ms(SystemTime::now()).max(r.ended_at_ms);
        let oldest_kept = now.saturating_sub(self.retention_ms);
        if start + self.width_ms <= oldest_kept {
            return;
        }
        let Ok(mut store) = self.inner.lock() else {
            return;
        };
        let mut added = 0;
        let bucket = store.bucket_mut(start);
        for key in UsageStore::keys(r) {
            let row = bucket.rows.entry(key).or_insert_with(|| {
                added += 1;
                UsageRow::default()
            });
            row.add(r);
        }
        store.groups += added;
        store.evict(oldest_kept, self.max_groups);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ErrorKind;
    use crate::telemetry::cost::{Cost, TokenSplit};
    use crate::telemetry::record::{CacheOutcome, CacheStatus, Caller};
    use std::str::FromStr;
    use std::time::Duration;

    fn rec(user: &str, team: &str, tags: &[&str], ended: SystemTime, cost: &str) -> RequestRecord {
        RequestRecord {
            model: "gpt".into(),
            route: "gpt".into(),
            provider: "openai".into(),
            ended_at_ms: unix_ms(ended),
            tokens: TokenSplit {
                prompt: 100,
                completion: 10,
                cached: 20,
                reasoning: 4,
                ..TokenSplit::default()
            },
            cost: Some(Cost {
                total: Decimal::from_str(cost).expect("dec"),
                ..Cost::default()
            }),
            caller: Caller {
                user: Some(user.into()),
                team: Some(team.into()),
                ..Caller::default()
            },
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..RequestRecord::default()
        }
    }

    fn cfg() -> UsageConfig {
        UsageConfig {
            enabled: true,
            bucket: Duration::from_secs(60),
            retention: Duration::from_secs(3600),
            max_groups: 10_000,
        }
    }

    #[test]
    fn groups_and_totals() {
        let s = UsageStore::new(&cfg());
        let now = SystemTime::now();
        s.on_record(&rec("alice", "a", &["chat"], now, "0.01"));
        s.on_record(&rec("alice", "a", &["chat", "rag"], now, "0.02"));
        let mut err = rec("bob", "b", &[], now, "0");
        err.status = Status::Error(ErrorKind::Timeout);
        err.cost = None;
        s.on_record(&err);
        let mut hit = rec("bob", "b", &[], now, "0");
        hit.cost = None;
        hit.tokens = TokenSplit::default();
        hit.cache = CacheOutcome {
            status: CacheStatus::Hit,
            saved_usd: Some(Decimal::from_str("0.015").expect("dec")),
        };
        s.on_record(&hit);

        let since = now - Duration::from_secs(600);
        let total = s.query(since, GroupBy::Total);
        assert_eq!(total.len(), 1);
        let t = &total[0];
        assert_eq!((t.requests, t.errors, t.cache_hits), (4, 1, 1));
        assert_eq!((t.prompt_tokens, t.completion_tokens), (300, 30));
        assert_eq!((t.cached_tokens, t.reasoning_tokens), (60, 12));
        assert_eq!(t.cost_usd, Decimal::from_str("0.03").expect("dec"));
        assert_eq!(t.saved_usd, Decimal::from_str("0.015").expect("dec"));

        let users = s.query(since, GroupBy::User);
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].group.as_deref(), Some("alice"));
        assert_eq!(users[0].requests, 2);
        assert_eq!(
            (users[1].requests, users[1].errors, users[1].cache_hits),
            (2, 1, 1)
        );

        let tags = s.query(since, GroupBy::Tag);
        let by: HashMap<Option<String>, u64> =
            tags.iter().map(|r| (r.group.clone(), r.requests)).collect();
        assert_eq!(by.get(&Some("chat".into())), Some(&2));
        assert_eq!(by.get(&Some("rag".into())), Some(&1));
        assert_eq!(by.get(&None), Some(&2));
    }

    #[test]
    fn since_and_retention_bound_what_is_kept() {
        let s = UsageStore::new(&cfg());
        let now = SystemTime::now();
        s.on_record(&rec("old", "a", &[], now - Duration::from_secs(7200), "1"));
        s.on_record(&rec("mid", "a", &[], now - Duration::from_secs(1800), "1"));
        s.on_record(&rec("new", "a", &[], now, "1"));
        // Beyond retention: never stored.
        assert_eq!(
            s.query(now - Duration::from_secs(10_000), GroupBy::Total)[0].requests,
            2
        );
        let recent = s.query(now - Duration::from_secs(300), GroupBy::User);
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].group.as_deref(), Some("new"));
    }

    #[test]
    fn group_count_is_bounded_by_dropping_old_buckets() {
        let s = UsageStore::new(&UsageConfig {
            max_groups: 50,
            ..cfg()
        });
        let now = SystemTime::now();
        for i in 0..40u64 {
            let t = now - Duration::from_secs(60 * (40 - i));
            s.on_record(&rec(&format!("u{i}"), "a", &[], t, "1"));
        }
        let groups = s.inner.lock().expect("lock").groups;
        assert!(groups <= 50, "{groups}");
        // The newest requests are always kept.
        let users = s.query(now - Duration::from_secs(3600), GroupBy::User);
        assert!(users.iter().any(|r| r.group.as_deref() == Some("u39")));
        assert!(!users.iter().any(|r| r.group.as_deref() == Some("u0")));
    }
}

#[cfg(test)]
mod group_by_tests {
    use super::GroupBy;

    #[test]
    fn a_typo_names_the_parameter_and_the_allowed_values() {
        assert_eq!(GroupBy::from_param("team").expect("valid"), GroupBy::Team);
        let e = GroupBy::from_param("teams").expect_err("a typo");
        assert_eq!(e.kind.as_str(), "bad_request");
        assert_eq!(e.param.as_deref(), Some("group_by"));
        assert_eq!(
            e.message,
            "group_by: unknown grouping `teams`; allowed: total, user, team, model, route, provider, tag, key"
        );
    }
}
