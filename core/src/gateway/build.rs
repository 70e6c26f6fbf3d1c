//! Building the pipeline from a configuration, and swapping it at runtime (`reload`).

use super::{pricing_names, Engine, Gateway, Inner, Live};
use crate::api::Error;
use crate::cache::ResponseCache;
use crate::config::{ResolvedConfig, StateBackendKind};
use crate::policy::{Policy, Shared};
use crate::routing::Router;
use crate::state::{MemoryState, RedisState, StateBackend};
use crate::telemetry::Telemetry;
use arc_swap::ArcSwap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// How long one shared-state operation may take unless config says otherwise.
const STATE_TIMEOUT: Duration = Duration::from_millis(250);

impl Gateway {
    /// A gateway from a resolved configuration.
    pub fn from_config(cfg: ResolvedConfig) -> Result<Gateway, Error> {
        let telemetry = Arc::new(Telemetry::with_catalogue(
            &cfg.telemetry,
            cfg.catalogue.clone(),
        )?);
        let hooks = Arc::new(super::guard::HookSet::default());
        let inner = Inner::build(cfg, telemetry.clone(), hooks.clone(), None)?;
        Ok(Gateway {
            live: Arc::new(Live {
                current: ArcSwap::from_pointee(inner),
                telemetry,
                hooks,
                reloading: std::sync::Mutex::new(()),
            }),
        })
    }

    /// The pipeline in force now (a request keeps it to its end).
    pub(crate) fn engine(&self) -> Engine {
        Engine {
            inner: self.live.current.load_full(),
        }
    }

    /// Swaps in a new configuration atomically: requests in flight finish on the old one,
    /// new requests take the new one; nothing is dropped. Rotated provider keys, routes,
    /// virtual keys, budgets, limits and guardrails take effect at once. Counters, runtime
    /// keys and the audit log stay (on the same state backend); the cache stays when its
    /// settings did not change; telemetry settings keep those the gateway was created with.
    pub fn reload(&self, cfg: ResolvedConfig, actor: &str) -> Result<(), Error> {
        let _one = self
            .live
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let old = self.live.current.load_full();
        let next = Inner::build(
            cfg,
            self.live.telemetry.clone(),
            self.live.hooks.clone(),
            Some(&old),
        )?;
        let policy = next.policy.clone();
        self.live.current.store(Arc::new(next));
        let details = serde_json::json!({
            "providers": old.config.providers.len(),
            "routes": old.config.routes.len(),
        });
        let actor = actor.to_string();
        crate::policy::run_detached(Box::pin(async move {
            policy.audit(&actor, "config_reloaded", "", details).await;
        }));
        Ok(())
    }

    /// [`Gateway::reload`] from YAML or JSON config text.
    pub fn reload_text(&self, text: &str, actor: &str) -> Result<(), Error> {
        self.reload(crate::config::load_text(text)?, actor)
    }

    /// [`Gateway::reload`] from an already-parsed config object.
    pub fn reload_value(&self, value: serde_json::Value, actor: &str) -> Result<(), Error> {
        self.reload(
            crate::config::resolve(
                crate::config::parse_value(value)?,
                &crate::config::process_env,
            )?,
            actor,
        )
    }
}

impl Inner {
    /// The pipeline of a configuration; `old` (on reload) lends what may be kept.
    fn build(
        cfg: ResolvedConfig,
        telemetry: Arc<Telemetry>,
        hooks: Arc<super::guard::HookSet>,
        old: Option<&Inner>,
    ) -> Result<Inner, Error> {
        // Kept when its settings are unchanged (compared by their full debug form).
        let same_cache =
            old.filter(|o| format!("{:?}", o.config.cache) == format!("{:?}", cfg.cache));
        let cache = match same_cache {
            Some(o) => o.cache.clone(),
            None => ResponseCache::new(&cfg.cache).map(Arc::new),
        };
        let same_state = old.filter(|o| {
            o.config.policy.state == cfg.policy.state
                && o.config.policy.redis_url == cfg.policy.redis_url
        });
        let (backend, shared) = match same_state {
            Some(o) => (o.policy.backend().clone(), o.policy.shared().clone()),
            None => (open_state(&cfg)?, Arc::new(Shared::default())),
        };
        let router = Arc::new(Router::new(cfg.clone())?);
        super::cooldowns::share(&router, &backend);
        let policy = Arc::new(Policy::new(cfg.policy.clone(), backend, shared));
        Ok(Inner {
            router,
            cache,
            telemetry,
            pricing_names: Arc::new(pricing_names(&cfg)),
            policy,
            hooks,
            bypass: AtomicU64::new(0),
            config: cfg,
        })
    }
}

/// The state backend a config names.
fn open_state(cfg: &ResolvedConfig) -> Result<Arc<dyn StateBackend>, Error> {
    let p = &cfg.policy;
    match p.state.backend {
        StateBackendKind::Memory => Ok(Arc::new(MemoryState::new())),
        StateBackendKind::Redis => {
            let (Some(url), Some(r)) = (&p.redis_url, &p.state.redis) else {
                return Err(Error::config(
                    "state.redis.url",
                    "`state.backend: redis` needs `state.redis.url`",
                ));
            };
            let timeout = r.timeout.unwrap_or(STATE_TIMEOUT);
            let backend = RedisState::new(url.expose(), &r.prefix, timeout)
                .map_err(|e| Error::config("state.redis.url", e.to_string()))?;
            Ok(Arc::new(backend))
        }
    }
}
