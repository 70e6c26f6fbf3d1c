//! `api_keys`: several keys for one provider, used in rotation, each with its own optional
//! per-minute limits. The schema as users write it and its resolution into [`ApiKeySpec`]s.

use super::resolve::resolve_secret;
use super::Secret;
use crate::api::Error;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// One entry of `api_keys`: a reference string, or a map with the reference and its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKeyEntry {
    /// `env:NAME`, `file:PATH`, `cmd:COMMAND` or the key itself.
    Ref(String),
    /// `{key, name, rpm, tpm}`.
    Full(ApiKeyFields),
}

/// The map form of an `api_keys` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyFields {
    /// `env:NAME`, `file:PATH`, `cmd:COMMAND` or the key itself.
    pub key: String,
    /// How errors, facts and logs name this key (never by its value); default `key<N>`
    /// (1-based position).
    #[serde(default)]
    pub name: Option<String>,
    /// Requests per minute this key may send (counted in this process).
    #[serde(default)]
    pub rpm: Option<u64>,
    /// Tokens per minute this key may use (counted in this process from reported usage).
    #[serde(default)]
    pub tpm: Option<u64>,
}

impl<'de> Deserialize<'de> for ApiKeyEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ApiKeyEntry;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key reference (`env:NAME`, `file:PATH`, `cmd:COMMAND` or the key) or a map with `key` and optional `name`, `rpm`, `tpm`")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ApiKeyEntry, E> {
                Ok(ApiKeyEntry::Ref(v.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ApiKeyEntry, A::Error> {
                ApiKeyFields::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(ApiKeyEntry::Full)
            }
        }
        d.deserialize_any(V)
    }
}

/// One resolved key of a provider's rotation.
#[derive(Debug, Clone)]
pub struct ApiKeySpec {
    /// The name errors and facts use (`name`, else `key<N>`).
    pub name: String,
    pub secret: Secret,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
}

/// Resolves provider `provider`'s `api_keys` (reading every secret once); `api_key` must not
/// be set beside it.
pub fn resolve_keys(
    provider: &str,
    entries: &[ApiKeyEntry],
    has_api_key: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<ApiKeySpec>, Error> {
    let field = format!("providers.{provider}.api_keys");
    if has_api_key {
        return Err(Error::config(
            &field,
            format!("provider `{provider}` sets both `api_key` and `api_keys`; keep `api_key` for one key or list every key under `api_keys`"),
        ));
    }
    if entries.is_empty() {
        return Err(Error::config(
            &field,
            format!("provider `{provider}`: `api_keys` is empty; list at least one key"),
        ));
    }
    let mut keys: Vec<ApiKeySpec> = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let (reference, key_field, name, rpm, tpm) = match entry {
            ApiKeyEntry::Ref(r) => (r, at.clone(), None, None, None),
            ApiKeyEntry::Full(f) => (&f.key, format!("{at}.key"), f.name.clone(), f.rpm, f.tpm),
        };
        for (limit, value) in [("rpm", rpm), ("tpm", tpm)] {
            if value == Some(0) {
                return Err(Error::config(
                    format!("{at}.{limit}"),
                    format!("`{at}.{limit}` must be at least 1 (leave it out for no limit)"),
                ));
            }
        }
        let name = match name {
            Some(n) if n.trim().is_empty() => {
                return Err(Error::config(
                    format!("{at}.name"),
                    format!("`{at}.name` is empty"),
                ))
            }
            Some(n) => n,
            None => format!("key{}", i + 1),
        };
        if let Some(j) = keys.iter().position(|k| k.name == name) {
            return Err(Error::config(
                format!("{at}.name"),
                format!("provider `{provider}`: keys {j} and {i} of `api_keys` are both named `{name}`; give each key its own `name`"),
            ));
        }
        let secret = resolve_secret(reference, &key_field, env)?;
        keys.push(ApiKeySpec {
            name,
            secret,
            rpm,
            tpm,
        });
    }
    Ok(keys)
}
