//! The gateway configuration: schema, validation, secret references.
//!
//! Config is YAML or JSON (or an already-parsed object from a binding). Parsing errors name
//! the source, the field path, the line and what is allowed; resolution reads `env:`,
//! `file:` and `cmd:` secrets and checks every reference once, at start.

mod cache;
mod cloud;
mod command;
mod keys;
mod load;
mod policy;
mod resolve;
mod route_schema;
mod routes;
mod schema;
mod secret;
mod telemetry;

pub use command::{run_secret_command, SECRET_COMMAND_TIMEOUT};
pub use keys::{resolve_keys, ApiKeyEntry, ApiKeyFields, ApiKeySpec};
pub use load::{closest, parse_text, parse_value, Source};
pub use resolve::{
    resolve, resolve_provider, resolve_secret, ModelTarget, ResolvedConfig, ResolvedProvider,
    DEFAULT_TIMEOUTS,
};
pub use route_schema::{
    AutoEntry, Capability, CooldownEntry, FallbackEntry, FallbackOnEntry, HedgeAfterEntry,
    HedgeEntry, MatchEntry, PriceEntry, RetriesEntry, RouteEntry, RouteTimeoutsEntry, RuleEntry,
    TargetEntry,
};
pub use routes::{resolve_routes, ResolvedRoutes, RouteSpec, TargetSpec};
pub use schema::{ConfigFile, Defaults, ModelEntry, ProviderEntry, Timeouts};
pub use secret::Secret;

pub use policy::{
    check_spec, key_hash, resolve_policy, BudgetEntry, Expiry, KeyBudget, KeyEntry, KeySpec,
    LimitEntry, LimitValues, OnUnavailable, Period, PolicyConfig, RedisConfig, Scope,
    StateBackendKind, StateConfig, VirtualKeysConfig,
};

pub use cache::{CacheConfig, CachePolicy, RouteCache, SemanticCacheConfig, SemanticPolicy};
pub use telemetry::{
    LogConfig, MetricsConfig, OtlpConfig, RedactConfig, TelemetryConfig, UsageConfig,
};

/// Config `pricing:`: provider name -> model id -> prices.
pub type PricingOverrides = std::collections::BTreeMap<
    String,
    std::collections::BTreeMap<String, crate::telemetry::PriceEntry>,
>;

use crate::api::Error;

/// Reads the process environment (the default for [`resolve`]).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Loads and resolves a config file (`.json` is JSON, anything else YAML).
pub fn load_file(path: impl AsRef<std::path::Path>) -> Result<ResolvedConfig, Error> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::config(
            "",
            format!("cannot read config file {}: {e}", path.display()),
        )
    })?;
    resolve(
        parse_text(&text, &Source::File(path.display().to_string()))?,
        &process_env,
    )
}

/// Loads and resolves config text (YAML or JSON).
pub fn load_text(text: &str) -> Result<ResolvedConfig, Error> {
    resolve(parse_text(text, &Source::Text)?, &process_env)
}
