//! The audit log: every administrative change as a record saying who did what, and when.

use serde::{Deserialize, Serialize};

/// One administrative change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Unix milliseconds.
    pub at_ms: u64,
    /// Who made the change (the `actor` the admin call named, or `config` / `gateway`).
    pub actor: String,
    /// `key_created`, `key_updated`, `key_revoked`, `config_reloaded`, `budget_soft_limit`.
    pub action: String,
    /// What it changed (a key id, a budget counter), when it names one thing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The change's details (never a key or a secret).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

impl AuditRecord {
    /// A record stamped now.
    pub fn now(
        actor: &str,
        action: &str,
        target: Option<&str>,
        details: serde_json::Value,
    ) -> Self {
        AuditRecord {
            at_ms: crate::telemetry::record::unix_ms(std::time::SystemTime::now()),
            actor: actor.to_string(),
            action: action.to_string(),
            target: target.map(str::to_string),
            details,
        }
    }
}
