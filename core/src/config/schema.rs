//! The config file's shape, exactly as users write it (YAML or JSON).

use super::route_schema::{AutoEntry, CooldownEntry, RetriesEntry, RouteEntry};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::time::Duration;

/// The whole gateway configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Providers by the name models refer to.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderEntry>,
    /// The model names applications use, each mapped to a provider's model (a route with
    /// one target).
    #[serde(default)]
    pub models: BTreeMap<String, ModelEntry>,
    /// Model names served by several targets, with a strategy, rules, retries and fallbacks.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteEntry>,
    /// Settings of the built-in `auto` route.
    #[serde(default)]
    pub auto: Option<AutoEntry>,
    /// Defaults applied to every provider unless it sets its own.
    #[serde(default)]
    pub defaults: Defaults,
    /// The response cache (exact and semantic).
    #[serde(default)]
    pub cache: super::CacheConfig,
    /// Observers: metrics, usage store, usage log, OTLP spans, content recording.
    #[serde(default)]
    pub telemetry: super::TelemetryConfig,
    /// Price overrides and additions: provider -> model -> USD per 1M tokens.
    #[serde(default)]
    pub pricing: super::PricingOverrides,
    /// Where shared state lives (memory, or Redis for many processes).
    #[serde(default)]
    pub state: super::StateConfig,
    /// Keys the gateway issues to applications and users.
    #[serde(default)]
    pub virtual_keys: Option<super::VirtualKeysConfig>,
    /// Spending limits in USD per period.
    #[serde(default)]
    pub budgets: Vec<super::BudgetEntry>,
    /// Requests, tokens and requests in flight per key, user, team or route.
    #[serde(default)]
    pub limits: Vec<super::LimitEntry>,
    /// Checks on what is sent and what comes back: size, blocked patterns, PII.
    #[serde(default)]
    pub guardrails: crate::policy::guardrails::GuardrailsConfig,
}

/// One provider: its wire format, where it lives and how to authenticate.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderEntry {
    /// A wire format (`openai`, `azure_openai`, `anthropic`, `gemini`, `cohere`, `mistral`,
    /// `ollama`, `bedrock`, `vertex`) or a preset name (`groq`, `mistral`, ...); defaults to
    /// the entry's own name when that is a preset.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub base_url: Option<String>,
    /// `env:NAME`, `file:PATH`, `cmd:COMMAND` (its output) or the key itself.
    #[serde(default)]
    pub api_key: Option<String>,
    /// Several keys used in rotation instead of `api_key`: each a reference like `api_key`'s
    /// or `{key, name, rpm, tpm}` with the key's own per-minute limits.
    #[serde(default)]
    pub api_keys: Option<Vec<super::ApiKeyEntry>>,
    /// Azure `api-version`, Anthropic `anthropic-version`.
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub timeouts: Timeouts,
    /// How Responses API calls reach this provider: `native` (POST `/responses`; only the
    /// `openai` and `azure_openai` wire formats have it) or `translate` (through chat
    /// completions). Default: `native` for api.openai.com and Azure OpenAI hosts,
    /// `translate` for every other host.
    #[serde(default)]
    pub responses: Option<String>,
    /// Bedrock: the AWS region (`us-east-1`); defaults to `AWS_REGION` / `AWS_DEFAULT_REGION`.
    #[serde(default)]
    pub region: Option<String>,
    /// Bedrock: the access key id for SigV4 (`env:NAME`, `file:PATH` or the value); defaults
    /// to `env:AWS_ACCESS_KEY_ID`. Not needed when `api_key` holds a Bedrock API key.
    #[serde(default)]
    pub aws_access_key_id: Option<String>,
    /// Bedrock: the secret access key; defaults to `env:AWS_SECRET_ACCESS_KEY`.
    #[serde(default)]
    pub aws_secret_access_key: Option<String>,
    /// Bedrock: the session token of temporary credentials; defaults to
    /// `env:AWS_SESSION_TOKEN` when that is set.
    #[serde(default)]
    pub aws_session_token: Option<String>,
    /// Vertex AI: the Google Cloud project id; defaults to `GOOGLE_CLOUD_PROJECT`.
    #[serde(default)]
    pub project: Option<String>,
    /// Vertex AI: the location (`us-central1`, `europe-west4`, `global`); defaults to
    /// `GOOGLE_CLOUD_LOCATION`, else `us-central1`.
    #[serde(default)]
    pub location: Option<String>,
    /// Vertex AI: a service-account key (`file:PATH` to the JSON key file, `env:NAME`, or the
    /// JSON itself), or an OAuth access token (`env:NAME` or the token); defaults to the key
    /// file named by `GOOGLE_APPLICATION_CREDENTIALS`.
    #[serde(default)]
    pub credentials: Option<String>,
}

/// A model name applications use.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// A configured provider or a preset name.
    pub provider: String,
    /// The provider's own model id (defaults to the entry's name).
    #[serde(default)]
    pub model: Option<String>,
    /// Other names for the same model.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// Settings shared by all providers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Same-target retries for every route (each route may override fields).
    #[serde(default)]
    pub retries: Option<RetriesEntry>,
    /// Cooldowns for every route (each route may override fields).
    #[serde(default)]
    pub cooldown: Option<CooldownEntry>,
}

/// Deadlines for one call; each as seconds (`30`, `0.5`) or a duration string (`"30s"`, `"2m"`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// Establishing the TCP/TLS connection.
    #[serde(default, deserialize_with = "duration")]
    pub connect: Option<Duration>,
    /// From sending the request to the response headers.
    #[serde(default, deserialize_with = "duration")]
    pub first_byte: Option<Duration>,
    /// The whole call, to the last byte of the answer.
    #[serde(default, deserialize_with = "duration")]
    pub total: Option<Duration>,
}

impl Timeouts {
    /// These timeouts with gaps filled from `fallback`.
    pub fn or(self, fallback: Timeouts) -> Timeouts {
        Timeouts {
            connect: self.connect.or(fallback.connect),
            first_byte: self.first_byte.or(fallback.first_byte),
            total: self.total.or(fallback.total),
        }
    }
}

/// A duration as seconds (`30`, `0.5`) or text (`"30s"`, `"2m"`).
pub(super) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(f64),
        Text(String),
    }
    let parsed = match Raw::deserialize(d)? {
        Raw::Secs(s) if s.is_finite() && s > 0.0 => Duration::from_secs_f64(s),
        Raw::Secs(s) => {
            return Err(serde::de::Error::custom(format!(
                "invalid duration {s}: expected a positive number of seconds"
            )))
        }
        Raw::Text(t) => humantime::parse_duration(&t).map_err(|e| {
            serde::de::Error::custom(format!(
                "invalid duration `{t}`: {e} (write seconds like 30 or text like \"30s\", \"2m\")"
            ))
        })?,
    };
    Ok(Some(parsed))
}
