//! Virtual keys: issued to applications and users, stored only as hashes, each bound to an
//! identity, allowed models and routes, budgets, limits and metadata.

use crate::api::Error;
use crate::config::KeySpec;
use crate::state::StoredKey;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where a key was defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// In the config file (changed by editing config and reloading).
    Config,
    /// Through the admin API at runtime.
    Api,
}

/// A key as the admin API shows it: everything but the key itself and its hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyInfo {
    /// The key's id (`key-` + 16 hex digits): what records, metrics and usage name.
    pub id: String,
    pub source: KeySource,
    pub revoked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at_ms: Option<u64>,
    /// Changes so far (1 when created).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    #[serde(flatten)]
    pub spec: KeySpec,
}

/// A key just created: the only time its value is shown.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedKey {
    /// The key to hand to the application (`sk-sp-...`); switchpoint keeps only its hash.
    pub key: String,
    #[serde(flatten)]
    pub info: KeyInfo,
}

/// What the store keeps in a key's body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct KeyBody {
    pub spec: KeySpec,
    pub created_at_ms: u64,
    pub created_by: String,
    pub updated_at_ms: u64,
}

/// A key resolved for admission.
#[derive(Debug)]
pub(crate) struct ActiveKey {
    pub id: String,
    /// The store revision read (`None` for config keys, which only change on reload).
    pub rev: Option<u64>,
    pub spec: KeySpec,
    pub expires_at_ms: Option<u64>,
    pub revoked: bool,
}

impl ActiveKey {
    /// A config key.
    pub fn from_config(hash: &str, spec: &KeySpec) -> ActiveKey {
        ActiveKey {
            id: id_of_hash(hash),
            rev: None,
            expires_at_ms: spec.expires_at.as_ref().and_then(|e| e.unix_ms().ok()),
            spec: spec.clone(),
            revoked: false,
        }
    }

    /// A stored key; `None` when its body does not parse (a newer version wrote it).
    pub fn from_stored(stored: &StoredKey) -> Option<ActiveKey> {
        let body: KeyBody = serde_json::from_str(&stored.body).ok()?;
        Some(ActiveKey {
            id: stored.id.clone(),
            rev: Some(stored.rev),
            spec: body.spec,
            expires_at_ms: stored.expires_at_ms,
            revoked: stored.revoked,
        })
    }

    /// Whether the key may ask for `model` (as requested) served by `route`.
    pub fn allows(&self, model: &str, route: &str) -> bool {
        let ok =
            |pats: &[String], name: &str| pats.is_empty() || pats.iter().any(|p| glob(p, name));
        ok(&self.spec.models, model) && ok(&self.spec.routes, route)
    }
}

/// The key info of a config key.
pub(crate) fn config_info(hash: &str, spec: &KeySpec) -> KeyInfo {
    KeyInfo {
        id: id_of_hash(hash),
        source: KeySource::Config,
        revoked: false,
        expires_at_ms: spec.expires_at.as_ref().and_then(|e| e.unix_ms().ok()),
        created_at_ms: None,
        created_by: Some("config".to_string()),
        updated_at_ms: None,
        revision: None,
        spec: spec.clone(),
    }
}

/// The key info of a stored key.
pub(crate) fn stored_info(stored: &StoredKey) -> Result<KeyInfo, Error> {
    let body: KeyBody = serde_json::from_str(&stored.body).map_err(|e| {
        Error::new(
            crate::api::ErrorKind::Internal,
            format!(
                "virtual key {} has a record this version cannot read: {e}",
                stored.id
            ),
        )
    })?;
    Ok(KeyInfo {
        id: stored.id.clone(),
        source: KeySource::Api,
        revoked: stored.revoked,
        expires_at_ms: stored.expires_at_ms,
        created_at_ms: Some(body.created_at_ms),
        created_by: Some(body.created_by),
        updated_at_ms: Some(body.updated_at_ms),
        revision: Some(stored.rev),
        spec: body.spec,
    })
}

/// `key-` and the first 16 hex digits of the key's hash (the same id records always used).
pub(crate) fn id_of_hash(hash: &str) -> String {
    format!("key-{}", &hash[..16.min(hash.len())])
}

/// A fresh key: `sk-sp-` and 48 hex digits (192 bits) from the OS's secure generator.
pub(crate) fn generate() -> Result<String, Error> {
    let mut buf = [0u8; 24];
    getrandom::fill(&mut buf).map_err(|e| {
        Error::new(
            crate::api::ErrorKind::Internal,
            format!("the OS random generator failed: {e}"),
        )
    })?;
    let hex: String = buf.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("sk-sp-{hex}"))
}

/// Shared handle to a resolved key.
pub(crate) type KeyRef = Arc<ActiveKey>;

/// `*` matches any run of characters; everything else literally.
fn glob(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    if parts.is_empty() {
        return rest.is_empty();
    }
    let (last, middle) = parts.split_last().unwrap_or((&"", &[]));
    for p in middle {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("gpt-4o", "gpt-4o"));
        assert!(!glob("gpt-4o", "gpt-4o-mini"));
        assert!(glob("gpt-4o*", "gpt-4o-mini"));
        assert!(glob("openai/*", "openai/gpt-4o"));
        assert!(glob("*mini", "gpt-4o-mini"));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b*c", "aXXcYYb"));
        assert!(glob("*", ""));
        assert!(!glob("ab*ba", "aba"));
    }

    #[test]
    fn generated_keys_are_distinct_and_long() {
        let a = generate().expect("present");
        let b = generate().expect("present");
        assert_ne!(a, b);
        assert_eq!(a.len(), 6 + 48);
        assert!(a.starts_with("sk-sp-"));
    }
}
