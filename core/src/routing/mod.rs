//! Model names -> the provider and model id that serve them.
//!
//! Resolved once at start from config; zero-config `provider/model` names reach a preset
//! provider whose key is read from the environment on first use.

use crate::api::{Error, ErrorKind};
use crate::config::{
    closest, resolve_provider, ModelTarget, ProviderEntry, ResolvedConfig, Timeouts,
};
use crate::providers::{Preset, PRESETS};
use crate::transport::Upstream;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Where one request goes.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub upstream: &'a Arc<Upstream>,
    /// The provider's model id.
    pub model: &'a str,
}

/// A preset provider, built on first use (its key is read from the environment then).
type LazyPreset = (&'static Preset, OnceLock<Result<Arc<Upstream>, Error>>);

/// The routing table: configured model names and providers, plus lazily-built presets.
#[derive(Debug)]
pub struct Router {
    upstreams: HashMap<String, Arc<Upstream>>,
    models: HashMap<String, ModelTarget>,
    presets: Vec<LazyPreset>,
    defaults: Timeouts,
}

impl Router {
    /// Builds one pooled upstream per configured provider.
    pub fn new(cfg: ResolvedConfig) -> Result<Router, Error> {
        let mut upstreams = HashMap::with_capacity(cfg.providers.len());
        for (name, p) in cfg.providers {
            upstreams.insert(name, Arc::new(Upstream::new(p)?));
        }
        let presets = PRESETS.iter().map(|p| (p, OnceLock::new())).collect();
        Ok(Router {
            upstreams,
            models: cfg.models,
            presets,
            defaults: cfg.defaults,
        })
    }

    /// Resolves a model name, an alias, or `provider/model`.
    pub fn resolve<'a>(&'a self, model: &'a str) -> Result<Target<'a>, Error> {
        if let Some(t) = self.models.get(model) {
            return Ok(Target {
                upstream: self.upstream(&t.provider)?,
                model: &t.model,
            });
        }
        if let Some((provider, id)) = model.split_once('/') {
            if self.upstreams.contains_key(provider) || Preset::find(provider).is_some() {
                if id.is_empty() {
                    return Err(Error::bad_request(
                        "model",
                        format!("`{model}` names no model after `{provider}/`"),
                    ));
                }
                return Ok(Target {
                    upstream: self.upstream(provider)?,
                    model: id,
                });
            }
        }
        Err(self.unknown_model(model))
    }

    fn upstream(&self, name: &str) -> Result<&Arc<Upstream>, Error> {
        if let Some(u) = self.upstreams.get(name) {
            return Ok(u);
        }
        let (preset, cell) = self
            .presets
            .iter()
            .find(|(p, _)| p.name == name)
            .ok_or_else(|| {
                Error::new(ErrorKind::NotFound, format!("unknown provider `{name}`"))
                    .with_param("model")
            })?;
        cell.get_or_init(|| {
            let p = resolve_provider(
                preset.name,
                &ProviderEntry::default(),
                self.defaults,
                &crate::config::process_env,
            )?;
            Upstream::new(p).map(Arc::new)
        })
        .as_ref()
        .map_err(|e| e.clone())
    }

    fn unknown_model(&self, model: &str) -> Error {
        let mut names: Vec<&str> = self.models.keys().map(String::as_str).collect();
        names.sort_unstable();
        let mut msg = format!("unknown model `{model}`");
        if let Some(s) = closest(model, names.iter().copied()) {
            msg.push_str(&format!("; did you mean `{s}`?"));
        }
        if names.is_empty() {
            msg.push_str("; no models are configured: use `provider/model`");
        } else {
            msg.push_str(&format!(
                "; configured: {}; or use `provider/model`",
                names.join(", ")
            ));
        }
        let mut providers: Vec<&str> = self
            .upstreams
            .keys()
            .map(String::as_str)
            .chain(Preset::names())
            .collect();
        providers.sort_unstable();
        providers.dedup();
        msg.push_str(&format!(" with a provider among {}", providers.join(", ")));
        Error::new(ErrorKind::NotFound, msg).with_param("model")
    }
}
