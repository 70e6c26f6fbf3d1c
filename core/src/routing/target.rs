//! Targets: a provider plus a provider model id, with the health they share across routes,
//! and the per-route view of one (weight, capabilities, window, price, limits, tags).

use super::{Caps, Features, Health, Price};
use crate::api::Error;
use crate::config::{resolve_provider, ProviderEntry, ResolvedProvider, Timeouts};
use crate::providers::{Preset, ProviderKind};
use crate::transport::Upstream;
use std::sync::{Arc, OnceLock};

/// A provider's pooled upstream: built at start when configured, on first use for a preset
/// (so a missing key for an unused preset is not an error).
#[derive(Debug)]
pub struct ProviderCell {
    pub name: String,
    pub kind: ProviderKind,
    preset: Option<&'static Preset>,
    defaults: Timeouts,
    cell: OnceLock<Result<Arc<Upstream>, Error>>,
}

impl ProviderCell {
    /// A configured provider, its client built now.
    pub fn configured(p: ResolvedProvider) -> Result<ProviderCell, Error> {
        let name = p.settings.name.clone();
        let kind = p.settings.kind;
        let up = Upstream::new(p)?;
        let cell = OnceLock::new();
        let _ = cell.set(Ok(Arc::new(up)));
        Ok(ProviderCell {
            name,
            kind,
            preset: None,
            defaults: Timeouts::default(),
            cell,
        })
    }

    /// A preset provider whose client is built on first use.
    pub fn preset(preset: &'static Preset, defaults: Timeouts) -> ProviderCell {
        ProviderCell {
            name: preset.name.to_string(),
            kind: preset.kind,
            preset: Some(preset),
            defaults,
            cell: OnceLock::new(),
        }
    }

    /// The upstream, building a preset's on first use (its error is kept and repeated).
    pub fn upstream(&self) -> Result<Arc<Upstream>, Error> {
        self.cell
            .get_or_init(|| {
                let preset = self.preset.ok_or_else(|| {
                    Error::config("", format!("provider `{}` has no client", self.name))
                })?;
                let p = resolve_provider(
                    preset.name,
                    &ProviderEntry::default(),
                    self.defaults,
                    &crate::config::process_env,
                )?;
                Upstream::new(p).map(Arc::new)
            })
            .clone()
    }
}

/// A provider and one of its models; health is shared by every route that uses it.
#[derive(Debug)]
pub struct Target {
    pub provider: Arc<ProviderCell>,
    /// The provider's model id.
    pub model: String,
    pub health: Arc<Health>,
}

impl Target {
    /// `provider/model`, for messages.
    pub fn label(&self) -> String {
        format!("{}/{}", self.provider.name, self.model)
    }
}

/// What a route knows about one of its targets.
#[derive(Debug, Clone)]
pub struct Slot {
    pub target: Arc<Target>,
    /// The target's health, held here too so scans take one pointer hop, not two.
    pub health: Arc<Health>,
    pub weight: f64,
    /// Capabilities (all when the config lists none).
    pub caps: Caps,
    /// Context window in tokens; `u64::MAX` when unknown.
    pub context_window: u64,
    pub price: Option<Price>,
    /// Requests and tokens per minute this target may take.
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub tags: Vec<String>,
}

impl Slot {
    /// Whether the target can serve a request with these needs.
    #[inline]
    pub fn fits(&self, f: &Features) -> bool {
        self.caps.covers(f.needs) && self.context_window >= f.context_needed()
    }

    /// Whether the target has limits to check.
    #[inline]
    pub fn limited(&self) -> bool {
        self.rpm.is_some() || self.tpm.is_some()
    }

    /// Headroom under the per-minute limits: 1 = unused (or no limits), 0 = at a limit.
    pub fn headroom(&self, now: u64) -> f64 {
        if !self.limited() {
            return 1.0;
        }
        let (req, tok) = self.health.usage(now);
        let mut room: f64 = 1.0;
        if let Some(rpm) = self.rpm {
            room = room.min(1.0 - req / rpm.max(1) as f64);
        }
        if let Some(tpm) = self.tpm {
            room = room.min(1.0 - tok / tpm.max(1) as f64);
        }
        room.max(0.0)
    }
}
