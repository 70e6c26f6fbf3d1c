//! Python callbacks added to the gateway (record callbacks, guardrail hooks): the handle
//! Python holds, the id in the current core gateway, and re-adding them to every rebuilt one.

use crate::guardrail::PyGuardrail;
use crate::observer::PyObserver;
use std::sync::Arc;
use switchpoint_core::telemetry::ObserverId;
use switchpoint_core::Gateway;

/// A Python callback the core gateway can take on and let go of.
pub(crate) trait Hosted {
    /// The core gateway's id for it.
    type CoreId: Copy + std::fmt::Debug;
    /// Registers it with `gw`.
    fn attach(self: &Arc<Self>, gw: &Gateway) -> Self::CoreId;
    /// Stops it (no call starts after this) and unregisters it; false if `gw` did not have it.
    fn detach(&self, gw: &Gateway, id: Self::CoreId) -> bool;
}

impl Hosted for PyObserver {
    type CoreId = ObserverId;

    fn attach(self: &Arc<Self>, gw: &Gateway) -> ObserverId {
        gw.add_observer(self.clone())
    }

    fn detach(&self, gw: &Gateway, id: ObserverId) -> bool {
        self.deactivate();
        gw.remove_observer(id)
    }
}

impl Hosted for PyGuardrail {
    type CoreId = u64;

    fn attach(self: &Arc<Self>, gw: &Gateway) -> u64 {
        gw.add_guardrail(self.clone())
    }

    fn detach(&self, gw: &Gateway, id: u64) -> bool {
        self.deactivate();
        gw.remove_guardrail(id)
    }
}

/// One kind of callback, in the order they were added.
#[derive(Debug)]
pub(crate) struct HostedList<T: Hosted> {
    /// (handle Python holds, the callback, its id in the current core gateway)
    items: Vec<(u64, Arc<T>, T::CoreId)>,
}

impl<T: Hosted> Default for HostedList<T> {
    fn default() -> Self {
        HostedList { items: Vec::new() }
    }
}

impl<T: Hosted> HostedList<T> {
    /// Adds `item` to `gw` under `handle`.
    pub(crate) fn add(&mut self, gw: &Gateway, handle: u64, item: Arc<T>) {
        let id = item.attach(gw);
        self.items.push((handle, item, id));
    }

    /// Removes the callback with `handle`; false if there is none (already removed).
    pub(crate) fn remove(&mut self, gw: &Gateway, handle: u64) -> bool {
        let Some(at) = self.items.iter().position(|(h, ..)| *h == handle) else {
            return false;
        };
        let (_, item, id) = self.items.remove(at);
        item.detach(gw, id)
    }

    /// Adds every callback to a freshly built gateway.
    pub(crate) fn reattach(&mut self, fresh: &Gateway) {
        for (_, item, id) in &mut self.items {
            *id = item.attach(fresh);
        }
    }
}
