//! Turning a parsed config into resolved providers and model names: secrets read, presets
//! applied, every cross-reference checked.

use super::command::{run_secret_command, SECRET_COMMAND_TIMEOUT};
use super::keys::{resolve_keys, ApiKeySpec};
use super::load::closest;
use super::routes::{resolve_routes, RouteSpec};
use super::schema::{ConfigFile, ProviderEntry, Timeouts};
use super::Secret;
use crate::api::Error;
use crate::providers::{header_value, Preset, ProviderKind, ProviderSettings};
use crate::resilience::RoutePolicy;
use crate::telemetry::Catalogue;
use http::HeaderName;
use std::collections::HashMap;
use std::time::Duration;

/// Timeouts used when neither the provider nor `defaults` sets one.
pub const DEFAULT_TIMEOUTS: Timeouts = Timeouts {
    connect: Some(Duration::from_secs(10)),
    first_byte: None,
    total: Some(Duration::from_secs(600)),
};

/// A provider ready to use: settings for its adapter and its deadlines.
#[derive(Debug, Clone)]
pub struct ResolvedProvider {
    /// The adapter's settings; with `api_keys`, `api_key` holds the first key.
    pub settings: ProviderSettings,
    /// The keys used in rotation (`api_keys`); empty when the provider has one key
    /// (`api_key`, a preset's environment variable) or none.
    pub keys: Vec<ApiKeySpec>,
    pub timeouts: Timeouts,
    /// Responses API calls go to the provider's own `/responses` (else through chat).
    pub responses_native: bool,
    /// How the transport signs or authorizes requests (Bedrock SigV4, Vertex OAuth); `None`
    /// for providers whose adapter sends the key in a header.
    pub auth: crate::auth::AuthConfig,
}

/// A model name resolved to the provider and model id that serve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelTarget {
    /// The configured provider name (or preset name for zero-config use).
    pub provider: String,
    /// The provider's own model id.
    pub model: String,
}

/// The validated configuration the gateway runs on.
#[derive(Debug, Clone, Default)]
pub struct ResolvedConfig {
    pub providers: HashMap<String, ResolvedProvider>,
    /// Model names and aliases.
    pub models: HashMap<String, ModelTarget>,
    pub defaults: Timeouts,
    /// Every route: `models:` entries (one target each), `routes:` entries and `auto`.
    pub routes: Vec<RouteSpec>,
    /// The policy of routes made on the fly for `provider/model` names.
    pub route_defaults: RoutePolicy,
    pub cache: super::CacheConfig,
    pub telemetry: super::TelemetryConfig,
    /// The model catalogue with the config's `pricing:` applied, built once for routing and
    /// telemetry.
    pub catalogue: std::sync::Arc<Catalogue>,
    /// Shared state, virtual keys, budgets and limits.
    pub policy: super::PolicyConfig,
    /// Input and output checks, compiled.
    pub guardrails: crate::policy::guardrails::Guardrails,
}

/// Reads the environment and files the config refers to, and checks every reference.
pub fn resolve(
    cfg: ConfigFile,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ResolvedConfig, Error> {
    let defaults = cfg.defaults.timeouts.or(DEFAULT_TIMEOUTS);
    let mut providers = HashMap::new();
    for (name, entry) in &cfg.providers {
        let p = resolve_provider(name, entry, defaults, env)?;
        providers.insert(name.clone(), p);
    }
    let mut models = HashMap::new();
    for (name, entry) in &cfg.models {
        let field = format!("models.{name}.provider");
        if !providers.contains_key(&entry.provider) && Preset::find(&entry.provider).is_none() {
            let known: Vec<&str> = providers
                .keys()
                .map(String::as_str)
                .chain(Preset::names())
                .collect();
            let mut msg = format!(
                "model `{name}` names provider `{}`, which is neither configured nor a preset",
                entry.provider
            );
            if let Some(s) = closest(&entry.provider, known.iter().copied()) {
                msg.push_str(&format!("; did you mean `{s}`?"));
            }
            msg.push_str(&format!(" (allowed: {})", known.join(", ")));
            return Err(Error::config(field, msg));
        }
        let target = ModelTarget {
            provider: entry.provider.clone(),
            model: entry.model.clone().unwrap_or_else(|| name.clone()),
        };
        for (i, alias) in std::iter::once(name)
            .chain(entry.aliases.iter())
            .enumerate()
        {
            if let Some(prev) = models.insert(alias.clone(), target.clone()) {
                if prev != target {
                    let field = if i == 0 {
                        format!("models.{name}")
                    } else {
                        format!("models.{name}.aliases[{}]", i - 1)
                    };
                    return Err(Error::config(
                        field,
                        format!("the name `{alias}` is used by two different models"),
                    ));
                }
            }
        }
    }
    let catalogue = Catalogue::with_pricing(&cfg.pricing);
    let resolved = resolve_routes(&cfg, &providers, &catalogue)?;
    check_sections(&cfg, &providers, &models, &resolved.routes)?;
    let policy = super::resolve_policy(
        &cfg.state,
        cfg.virtual_keys.as_ref(),
        &cfg.budgets,
        &cfg.limits,
        env,
    )?;
    // Built (and its regexes compiled) once here, so a bad pattern fails the config.
    let guardrails = crate::policy::guardrails::Guardrails::new(&cfg.guardrails)?;
    Ok(ResolvedConfig {
        policy,
        guardrails,
        providers,
        models,
        defaults,
        routes: resolved.routes,
        route_defaults: resolved.defaults,
        cache: cfg.cache,
        telemetry: cfg.telemetry,
        catalogue,
    })
}

/// Resolves a provider entry (also used for presets with an empty entry).
pub fn resolve_provider(
    name: &str,
    entry: &ProviderEntry,
    defaults: Timeouts,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ResolvedProvider, Error> {
    let field = |f: &str| format!("providers.{name}.{f}");
    let kind_name = entry.kind.clone().unwrap_or_else(|| name.to_string());
    let (kind, preset) = match kind_name.as_str() {
        "openai" => (ProviderKind::OpenAi, Preset::find("openai")),
        "azure_openai" | "azure" => (ProviderKind::AzureOpenAi, Preset::find("azure")),
        "anthropic" => (ProviderKind::Anthropic, Preset::find("anthropic")),
        "gemini" => (ProviderKind::Gemini, Preset::find("gemini")),
        "bedrock" => (ProviderKind::Bedrock, None),
        "vertex" | "vertex_ai" => (ProviderKind::Vertex, None),
        other => match Preset::find(other) {
            Some(p) => (p.kind, Some(p)),
            None => {
                let allowed: Vec<&str> = ProviderKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .chain(Preset::names())
                    .collect::<Vec<_>>();
                let what = if entry.kind.is_some() {
                    "kind"
                } else {
                    "name (no `kind` given)"
                };
                let mut msg = format!("provider `{name}`: unknown {what} `{other}`");
                if let Some(s) = closest(other, allowed.iter().copied()) {
                    msg.push_str(&format!("; did you mean `{s}`?"));
                }
                msg.push_str(&format!(" (allowed kinds: {})", dedup(allowed).join(", ")));
                return Err(Error::config(field("kind"), msg));
            }
        },
    };
    let cloud = super::cloud::resolve_cloud(name, entry, kind, env)?;
    let base_url = match (&cloud.base_url, &entry.base_url, preset) {
        (Some(u), _, _) => u.clone(),
        (None, Some(u), _) => u.clone(),
        (None, None, Some(p)) => env(p.base_url_env)
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| p.base_url.to_string()),
        (None, None, None) => String::new(),
    };
    if base_url.is_empty() {
        let hint = preset
            .map(|p| format!(" or set {}", p.base_url_env))
            .unwrap_or_default();
        return Err(Error::config(
            field("base_url"),
            format!("provider `{name}` needs `base_url`{hint}"),
        ));
    }
    let parsed = url::Url::parse(&base_url).map_err(|e| {
        Error::config(
            field("base_url"),
            format!("provider `{name}`: `{base_url}` is not a URL: {e}"),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::config(
            field("base_url"),
            format!(
                "provider `{name}`: base_url must be http or https, got `{}`",
                parsed.scheme()
            ),
        ));
    }
    let keys = match &entry.api_keys {
        Some(list) => resolve_keys(name, list, entry.api_key.is_some(), env)?,
        None => Vec::new(),
    };
    let api_key = match (&entry.api_key, keys.first()) {
        (_, Some(first)) => Some(first.secret.clone()),
        (Some(reference), None) => Some(resolve_secret(reference, &field("api_key"), env)?),
        (None, None) => match preset {
            Some(p) => match env(p.key_env).filter(|v| !v.is_empty()) {
                Some(v) => Some(Secret::new(v)),
                None if p.key_optional => None,
                None => {
                    return Err(Error::config(
                        field("api_key"),
                        format!("provider `{name}` has no API key: set the environment variable {} or `api_key` in config", p.key_env),
                    ))
                }
            },
            None => None,
        },
    };
    let mut headers = Vec::with_capacity(entry.headers.len());
    for (k, v) in &entry.headers {
        let hname = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
            Error::config(
                field(&format!("headers.{k}")),
                format!("`{k}` is not a valid HTTP header name"),
            )
        })?;
        let value = if ["env:", "file:", "cmd:"].iter().any(|p| v.starts_with(p)) {
            resolve_secret(v, &field(&format!("headers.{k}")), env)?
                .expose()
                .to_string()
        } else {
            v.clone()
        };
        headers.push((
            hname,
            header_value(&field(&format!("headers.{k}")), &value)?,
        ));
    }
    let settings = ProviderSettings {
        name: name.to_string(),
        kind,
        base_url: base_url.trim_end_matches('/').to_string(),
        api_key,
        headers,
        api_version: entry.api_version.clone(),
    };
    let responses_native = responses_mode(entry, kind, &parsed, &field("responses"))?;
    Ok(ResolvedProvider {
        settings,
        keys,
        timeouts: entry.timeouts.or(defaults),
        responses_native,
        auth: cloud.auth,
    })
}

/// Whether Responses calls use the provider's native API: the entry's `responses`
/// (`native` | `translate`), else native for OpenAI's and Azure OpenAI's own hosts.
fn responses_mode(
    entry: &ProviderEntry,
    kind: ProviderKind,
    url: &url::Url,
    field: &str,
) -> Result<bool, Error> {
    let has_native = matches!(kind, ProviderKind::OpenAi | ProviderKind::AzureOpenAi);
    match entry.responses.as_deref() {
        Some("translate") => Ok(false),
        Some("native") if has_native => Ok(true),
        Some("native") => Err(Error::config(
            field,
            format!(
                "`responses: native` needs the `openai` or `azure_openai` wire format, not `{kind}`; use `translate`"
            ),
        )),
        Some(other) => Err(Error::config(
            field,
            format!("unknown `responses` mode `{other}` (allowed: native, translate)"),
        )),
        None => {
            let host = url.host_str().unwrap_or("").to_ascii_lowercase();
            Ok(match kind {
                ProviderKind::OpenAi => host == "api.openai.com",
                ProviderKind::AzureOpenAi => [
                    ".openai.azure.com",
                    ".cognitiveservices.azure.com",
                    ".services.ai.azure.com",
                ]
                .iter()
                .any(|s| host.ends_with(s)),
                _ => false,
            })
        }
    }
}

/// Resolves `env:NAME`, `file:PATH`, `cmd:COMMAND` (its trimmed stdout, see
/// [`run_secret_command`]) or a literal; errors name the field and the reference, never a
/// value.
pub fn resolve_secret(
    reference: &str,
    field: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Secret, Error> {
    if let Some(command) = reference.strip_prefix("cmd:") {
        return run_secret_command(command, field, SECRET_COMMAND_TIMEOUT);
    }
    if let Some(var) = reference.strip_prefix("env:") {
        return env(var)
            .filter(|v| !v.is_empty())
            .map(Secret::new)
            .ok_or_else(|| {
                Error::config(
                    field,
                    format!("`{field}` refers to the environment variable {var}, which is not set"),
                )
            });
    }
    if let Some(path) = reference.strip_prefix("file:") {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(
                field,
                format!("`{field}` refers to the file {path}, which cannot be read: {e}"),
            )
        })?;
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(Error::config(
                field,
                format!("`{field}` refers to the file {path}, which is empty"),
            ));
        }
        return Ok(Secret::new(trimmed));
    }
    Ok(Secret::new(reference))
}

fn dedup(mut v: Vec<&str>) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(*x));
    v
}

/// Checks the cache and telemetry sections (their own rules live beside their schema).
fn check_sections(
    cfg: &ConfigFile,
    providers: &HashMap<String, ResolvedProvider>,
    models: &HashMap<String, ModelTarget>,
    routes: &[super::RouteSpec],
) -> Result<(), Error> {
    let is_model = |name: &str| {
        models.contains_key(name)
            || routes
                .iter()
                .any(|r| r.name == name || r.aliases.iter().any(|a| a == name))
            || name
                .split_once('/')
                .is_some_and(|(p, _)| providers.contains_key(p) || Preset::find(p).is_some())
    };
    cfg.cache
        .check(&is_model)
        .and_then(|()| cfg.telemetry.check())
        .map_err(|(field, msg)| Error::config(field, msg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::{parse_text, Source};

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn load(yaml: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<ResolvedConfig, Error> {
        resolve(parse_text(yaml, &Source::Text)?, env)
    }

    #[test]
    fn presets_fill_kind_url_and_key() {
        let cfg = load("providers:\n  groq: {}\nmodels:\n  fast: {provider: groq, model: llama, aliases: [quick]}\n", &env_of(&[("GROQ_API_KEY", "gsk-1")]))
            .expect("valid");
        let p = &cfg.providers["groq"].settings;
        assert_eq!(p.kind, ProviderKind::OpenAi);
        assert_eq!(p.base_url, "https://api.groq.com/openai/v1");
        assert_eq!(p.api_key.as_ref().map(Secret::expose), Some("gsk-1"));
        assert_eq!(
            cfg.models["quick"],
            ModelTarget {
                provider: "groq".into(),
                model: "llama".into()
            }
        );
    }

    #[test]
    fn missing_env_key_names_the_variable_not_a_value() {
        let err = load(
            "providers:\n  main:\n    kind: anthropic\n    api_key: env:MY_KEY\n",
            &env_of(&[]),
        )
        .expect_err("must fail");
        assert_eq!(err.param.as_deref(), Some("providers.main.api_key"));
        assert!(err.message.contains("MY_KEY"), "{}", err.message);
    }

    #[test]
    fn unknown_kind_lists_allowed_and_suggests() {
        let err = load(
            "providers:\n  x:\n    kind: antropic\n    api_key: k\n",
            &env_of(&[]),
        )
        .expect_err("must fail");
        assert!(
            err.message.contains("did you mean `anthropic`"),
            "{}",
            err.message
        );
        assert!(err.message.contains("allowed kinds"), "{}", err.message);
    }

    #[test]
    fn unknown_provider_in_model_is_caught() {
        let err = load("models:\n  m: {provider: opnai}\n", &env_of(&[])).expect_err("must fail");
        assert_eq!(err.param.as_deref(), Some("models.m.provider"));
        assert!(
            err.message.contains("did you mean `openai`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn azure_needs_a_base_url() {
        let err = load(
            "providers:\n  az:\n    kind: azure_openai\n    api_key: k\n",
            &env_of(&[]),
        )
        .expect_err("must fail");
        assert!(
            err.message.contains("AZURE_OPENAI_ENDPOINT"),
            "{}",
            err.message
        );
    }

    #[test]
    fn file_secrets_are_read_and_trimmed() {
        let dir = std::env::temp_dir().join(format!("sp-secret-{}", std::process::id()));
        std::fs::write(&dir, "sk-from-file\n").expect("write");
        let yaml = format!(
            "providers:\n  openai:\n    api_key: file:{}\n",
            dir.display()
        );
        let cfg = load(&yaml, &env_of(&[])).expect("valid");
        assert_eq!(
            cfg.providers["openai"]
                .settings
                .api_key
                .as_ref()
                .map(Secret::expose),
            Some("sk-from-file")
        );
        let _ = std::fs::remove_file(dir);
    }

    #[test]
    fn duplicate_alias_is_rejected() {
        let yaml = "providers:\n  openai: {api_key: k}\nmodels:\n  a: {provider: openai, model: x, aliases: [s]}\n  b: {provider: openai, model: y, aliases: [s]}\n";
        let err = load(yaml, &env_of(&[])).expect_err("must fail");
        assert!(err.message.contains("`s`"), "{}", err.message);
    }
}
