//! The pricing and model catalogue: prices per million tokens, context windows, output caps
//! and capabilities, shipped inside the crate (`core/data/models.yaml`) and overridable from
//! config. Nothing is fetched at start-up.

use crate::api::Error;
use crate::providers::{ProviderKind, ProviderSettings, PRESETS};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::OnceLock;

/// The catalogue text shipped with the crate.
const BUILTIN: &str = include_str!("../../data/models.yaml");

/// USD per million tokens for each kind of token a provider bills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    /// Uncached prompt tokens.
    pub input: Decimal,
    /// Completion tokens (reasoning included unless `reasoning` is set).
    pub output: Decimal,
    /// Prompt tokens read from the provider's cache; `None` bills them as input.
    pub cached_input: Option<Decimal>,
    /// Prompt tokens written to the provider's cache; `None` bills them as input.
    pub cache_write: Option<Decimal>,
    /// A separate reasoning-token rate, where a provider publishes one.
    pub reasoning: Option<Decimal>,
    /// A higher tier for the whole request when the prompt is long (Gemini Pro, Grok).
    pub long_context: Option<LongContext>,
}

/// Prices that apply when a request's prompt exceeds `above` tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongContext {
    pub above: u64,
    pub input: Decimal,
    pub output: Decimal,
    pub cached_input: Option<Decimal>,
    pub cache_write: Option<Decimal>,
}

/// What a model can do, for routing filters and callers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub tools: bool,
    pub vision: bool,
    pub json_schema: bool,
    pub reasoning: bool,
}

/// One catalogue row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// The provider table it belongs to (`openai`, `anthropic`, ... or a configured name).
    pub provider: String,
    /// The model id or family prefix.
    pub model: String,
    pub price: Price,
    pub context_window: Option<u64>,
    pub max_output: Option<u64>,
    pub capabilities: Capabilities,
    /// Where the price comes from and when it was checked (`None` for config overrides).
    pub source: Option<String>,
    pub checked: Option<String>,
}

/// Prices and model facts by provider, with longest-prefix lookup.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    providers: HashMap<String, Vec<ModelInfo>>,
}

/// One model row as written in the YAML file and in config `pricing:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceEntry {
    #[serde(deserialize_with = "decimal")]
    pub input: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub output: Decimal,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub cached_input: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub cache_write: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub reasoning: Option<Decimal>,
    #[serde(default)]
    pub long_context: Option<LongContextEntry>,
    #[serde(default)]
    pub context_window: Option<u64>,
    #[serde(default)]
    pub max_output: Option<u64>,
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    /// Free text (provenance caveats); not used in computation.
    #[serde(default)]
    pub note: Option<String>,
}

/// The `long_context` tier as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LongContextEntry {
    pub above: u64,
    #[serde(deserialize_with = "decimal")]
    pub input: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub output: Decimal,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub cached_input: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub cache_write: Option<Decimal>,
}

/// A capability name in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    Tools,
    Vision,
    JsonSchema,
    Reasoning,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    providers: BTreeMap<String, ProviderBlock>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderBlock {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    checked: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    models: BTreeMap<String, PriceEntry>,
}

/// Provider names that bill from another provider's table.
fn table_for(provider: &str) -> &str {
    match provider {
        "azure" | "azure_openai" => "openai",
        other => other,
    }
}

impl PriceEntry {
    fn into_info(
        self,
        provider: &str,
        model: &str,
        source: Option<&str>,
        checked: Option<&str>,
    ) -> ModelInfo {
        let mut caps = Capabilities::default();
        for c in &self.capabilities {
            match c {
                Capability::Tools => caps.tools = true,
                Capability::Vision => caps.vision = true,
                Capability::JsonSchema => caps.json_schema = true,
                Capability::Reasoning => caps.reasoning = true,
            }
        }
        ModelInfo {
            provider: provider.to_string(),
            model: model.to_string(),
            price: Price {
                input: self.input,
                output: self.output,
                cached_input: self.cached_input,
                cache_write: self.cache_write,
                reasoning: self.reasoning,
                long_context: self.long_context.map(|l| LongContext {
                    above: l.above,
                    input: l.input,
                    output: l.output,
                    cached_input: l.cached_input,
                    cache_write: l.cache_write,
                }),
            },
            context_window: self.context_window,
            max_output: self.max_output,
            capabilities: caps,
            source: source.map(str::to_string),
            checked: checked.map(str::to_string),
        }
    }
}

impl Catalogue {
    /// The catalogue shipped with the crate, parsed once per process.
    pub fn builtin() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        // The file is checked by a unit test; an empty table (no costs) beats a panic.
        CATALOGUE.get_or_init(|| Catalogue::parse(BUILTIN).unwrap_or_default())
    }

    /// The shipped catalogue with a config's `pricing:` applied; without overrides, the one
    /// shared copy (no per-gateway clone).
    pub fn with_pricing(
        pricing: &BTreeMap<String, BTreeMap<String, PriceEntry>>,
    ) -> std::sync::Arc<Catalogue> {
        static SHARED: OnceLock<std::sync::Arc<Catalogue>> = OnceLock::new();
        if pricing.is_empty() {
            SHARED
                .get_or_init(|| std::sync::Arc::new(Catalogue::builtin().clone()))
                .clone()
        } else {
            std::sync::Arc::new(Catalogue::builtin().with_overrides(pricing))
        }
    }

    /// Parses catalogue YAML (the shipped file's format).
    pub fn parse(text: &str) -> Result<Catalogue, Error> {
        let file: FileShape = serde_yaml_ng::from_str(text)
            .map_err(|e| Error::config("pricing", format!("model catalogue: {e}")))?;
        let mut cat = Catalogue::default();
        for (provider, block) in file.providers {
            for (model, entry) in block.models {
                let info = entry.into_info(
                    &provider,
                    &model,
                    block.source.as_deref(),
                    block.checked.as_deref(),
                );
                cat.insert(info);
            }
        }
        Ok(cat)
    }

    /// This catalogue with config overrides applied: `provider -> model -> entry`; a row
    /// replaces the shipped one of the same provider and model, or adds a new model.
    pub fn with_overrides(
        &self,
        overrides: &BTreeMap<String, BTreeMap<String, PriceEntry>>,
    ) -> Catalogue {
        let mut cat = self.clone();
        for (provider, models) in overrides {
            for (model, entry) in models {
                cat.insert(entry.clone().into_info(provider, model, None, None));
            }
        }
        cat
    }

    fn insert(&mut self, info: ModelInfo) {
        let rows = self.providers.entry(info.provider.clone()).or_default();
        rows.retain(|r| r.model != info.model);
        rows.push(info);
        // Longest key first, so the first match is the most specific.
        rows.sort_by(|a, b| {
            b.model
                .len()
                .cmp(&a.model.len())
                .then(a.model.cmp(&b.model))
        });
    }

    /// The row for a model id at one of `providers` (tried in order: a configured provider
    /// name first, then its preset or wire-format name). A key matches the id when equal, or
    /// when the id continues the key with `-` (dated snapshots, variants). A `provider/`
    /// prefix on the id is ignored when the full id has no row.
    pub fn lookup(&self, providers: &[&str], model: &str) -> Option<&ModelInfo> {
        for p in providers {
            let Some(rows) = self.providers.get(table_for(p)) else {
                continue;
            };
            if let Some(r) = find(rows, model) {
                return Some(r);
            }
            if let Some((_, bare)) = model.split_once('/') {
                if let Some(r) = find(rows, bare) {
                    return Some(r);
                }
            }
        }
        None
    }

    /// The most specific row for a model id at any provider (longest key; ties go to the
    /// provider name first in order), for targets whose provider has no table of its own.
    pub fn lookup_any(&self, model: &str) -> Option<&ModelInfo> {
        let bare = model.split_once('/').map(|(_, b)| b);
        let mut tables: Vec<(&String, &Vec<ModelInfo>)> = self.providers.iter().collect();
        tables.sort_by(|a, b| a.0.cmp(b.0));
        tables
            .into_iter()
            .filter_map(|(_, rows)| find(rows, model).or_else(|| bare.and_then(|b| find(rows, b))))
            .max_by(|a, b| {
                a.model
                    .len()
                    .cmp(&b.model.len())
                    .then(b.provider.cmp(&a.provider))
            })
    }

    /// Every row, for listing (`provider`, then model).
    pub fn models(&self) -> Vec<&ModelInfo> {
        let mut all: Vec<&ModelInfo> = self.providers.values().flatten().collect();
        all.sort_by(|a, b| (&a.provider, &a.model).cmp(&(&b.provider, &b.model)));
        all
    }
}

/// The catalogue tables a configured provider's models are looked up in, most specific
/// first: its config name (for `pricing:` overrides), the preset its base URL belongs to,
/// then its wire format.
pub fn price_tables(name: &str, settings: &ProviderSettings) -> Vec<String> {
    let mut names = vec![name.to_string()];
    let base = settings.base_url.trim_end_matches('/');
    if let Some(preset) = PRESETS
        .iter()
        .find(|pr| !pr.base_url.is_empty() && pr.base_url.trim_end_matches('/') == base)
    {
        names.push(preset.name.to_string());
    }
    let kind = match settings.kind {
        ProviderKind::AzureOpenAi => "azure",
        other => other.as_str(),
    };
    names.push(kind.to_string());
    names.dedup();
    names
}

fn find<'a>(rows: &'a [ModelInfo], model: &str) -> Option<&'a ModelInfo> {
    rows.iter().find(|r| {
        model == r.model
            || (model.len() > r.model.len()
                && model.starts_with(r.model.as_str())
                && model.as_bytes()[r.model.len()] == b'-')
    })
}

/// A price written as text (`"0.075"`) or a number (`0.075`), read exactly.
pub fn parse_decimal(value: &serde_json::Value) -> Result<Decimal, String> {
    let text = match value {
        serde_json::Value::String(s) => s.trim().to_string(),
        // serde_json prints the shortest text that reads back as the same f64: what was written.
        serde_json::Value::Number(n) => n.to_string(),
        other => return Err(format!("expected a price like \"0.15\", got {other}")),
    };
    let d = Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|e| format!("invalid price `{text}`: {e}"))?;
    if d.is_sign_negative() {
        return Err(format!("price `{text}` is negative"));
    }
    Ok(d)
}

fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    parse_decimal(&v).map_err(serde::de::Error::custom)
}

fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => parse_decimal(&v)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn shipped_catalogue_parses_and_covers_every_provider() {
        let cat = Catalogue::parse(BUILTIN).expect("models.yaml parses");
        for p in [
            "openai",
            "anthropic",
            "gemini",
            "groq",
            "mistral",
            "deepseek",
            "xai",
            "together",
            "fireworks",
            "cohere",
        ] {
            assert!(
                cat.models().iter().any(|m| m.provider == p),
                "no models for {p}"
            );
        }
        assert!(Catalogue::builtin().lookup(&["openai"], "gpt-5").is_some());
    }

    #[test]
    fn longest_key_followed_by_a_dash_wins() {
        let cat = Catalogue::builtin();
        let m = cat
            .lookup(&["openai"], "gpt-4o-mini-2024-07-18")
            .expect("row");
        assert_eq!(m.model, "gpt-4o-mini");
        assert_eq!(m.price.cached_input, Some(dec("0.075")));
        let m = cat.lookup(&["openai"], "gpt-5-2025-08-07").expect("row");
        assert_eq!(m.model, "gpt-5");
        // `gpt-5.5-turbo` is not a `gpt-5` snapshot: `.` does not continue a family key.
        assert_eq!(
            cat.lookup(&["openai"], "gpt-5.5-turbo")
                .map(|m| m.model.as_str()),
            Some("gpt-5.5")
        );
        assert!(cat.lookup(&["openai"], "gpt-5x").is_none());
        let m = cat
            .lookup(&["anthropic"], "claude-opus-4-1-20250805")
            .expect("row");
        assert_eq!(m.price.input, dec("15"));
        let m = cat
            .lookup(&["anthropic"], "claude-opus-4-5-20251101")
            .expect("row");
        assert_eq!(m.price.input, dec("5"));
    }

    #[test]
    fn azure_uses_openai_prices_and_provider_prefixes_are_stripped() {
        let cat = Catalogue::builtin();
        assert_eq!(
            cat.lookup(&["my-azure", "azure"], "gpt-4o")
                .map(|m| m.price.input),
            Some(dec("2.50"))
        );
        assert_eq!(
            cat.lookup(&["openai"], "openai/gpt-4.1")
                .map(|m| m.model.as_str()),
            Some("gpt-4.1")
        );
        // Groq's own ids contain a slash and match whole.
        assert_eq!(
            cat.lookup(&["groq"], "openai/gpt-oss-120b")
                .map(|m| m.price.output),
            Some(dec("0.75"))
        );
    }

    #[test]
    fn overrides_replace_and_add_rows_exactly() {
        let text = r#"{"openai": {"gpt-4o": {"input": 1.1, "output": "2.2"}},
                       "my-azure": {"prod-deployment": {"input": "0.5", "output": 1, "cached_input": 0.25}}}"#;
        let ov: BTreeMap<String, BTreeMap<String, PriceEntry>> =
            serde_json::from_str(text).expect("overrides parse");
        let cat = Catalogue::builtin().with_overrides(&ov);
        let m = cat.lookup(&["openai"], "gpt-4o").expect("row");
        assert_eq!((m.price.input, m.price.output), (dec("1.1"), dec("2.2")));
        assert_eq!(m.price.cached_input, None);
        let m = cat
            .lookup(&["my-azure", "azure"], "prod-deployment")
            .expect("row");
        assert_eq!(m.price.cached_input, Some(dec("0.25")));
        // The shipped table is untouched.
        assert_eq!(
            Catalogue::builtin()
                .lookup(&["openai"], "gpt-4o")
                .map(|m| m.price.input),
            Some(dec("2.50"))
        );
    }

    #[test]
    fn prices_are_read_exactly_and_negative_ones_rejected() {
        assert_eq!(parse_decimal(&serde_json::json!(0.075)), Ok(dec("0.075")));
        assert_eq!(parse_decimal(&serde_json::json!("1e-2")), Ok(dec("0.01")));
        assert!(parse_decimal(&serde_json::json!(-1)).is_err());
        assert!(parse_decimal(&serde_json::json!(true)).is_err());
    }
}
