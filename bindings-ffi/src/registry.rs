//! What a host added to a gateway through one handle (an `sp_gateway`, a uniffi `Gateway`):
//! record callbacks and guardrail hooks alike, removable by id and all at once when the
//! handle is freed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use switchpoint_core::{Error, ErrorKind, Gateway};

/// Ids handed to hosts: unique in the process, never 0, so an id from one gateway handle
/// (or of another kind) is not found on another.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A host callback the gateway can take on and let go of.
pub(crate) trait Attach: std::fmt::Debug + Send + Sync + 'static {
    /// The gateway's own id for it.
    type CoreId: Copy + std::fmt::Debug;
    /// Registers it with the gateway.
    fn attach(self: &Arc<Self>, gw: &Gateway) -> Self::CoreId;
    /// Unregisters it; once this returns it is not running and is never called again.
    fn detach(&self, gw: &Gateway, id: Self::CoreId);
}

/// Host id -> the gateway's id and the callback.
type Entries<T> = HashMap<u64, (<T as Attach>::CoreId, Arc<T>)>;

/// The callbacks of one kind added through one handle.
#[derive(Debug)]
pub(crate) struct HostRegistry<T: Attach> {
    by_id: Mutex<Entries<T>>,
}

impl<T: Attach> Default for HostRegistry<T> {
    fn default() -> Self {
        HostRegistry {
            by_id: Mutex::default(),
        }
    }
}

impl<T: Attach> HostRegistry<T> {
    /// Registers `item` with the gateway (after those added before); returns the host's id.
    pub(crate) fn add(&self, gw: &Gateway, item: Arc<T>) -> u64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let core_id = item.attach(gw);
        self.lock().insert(id, (core_id, item));
        id
    }

    /// Removes one; false when the id is unknown here (never added, or already removed).
    pub(crate) fn remove(&self, gw: &Gateway, id: u64) -> bool {
        let Some((core_id, item)) = self.lock().remove(&id) else {
            return false;
        };
        item.detach(gw, core_id);
        true
    }

    /// [`HostRegistry::remove`], with an unknown id as a `not_found` error naming `what`.
    pub(crate) fn remove_or_not_found(
        &self,
        gw: &Gateway,
        id: u64,
        what: &str,
    ) -> Result<(), Error> {
        if self.remove(gw, id) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::NotFound,
                format!("no {what} with id {id} on this gateway"),
            )
            .with_param("id"))
        }
    }

    /// Removes every one (the handle is going away).
    pub(crate) fn remove_all(&self, gw: &Gateway) {
        let all: Vec<_> = self.lock().drain().map(|(_, v)| v).collect();
        for (core_id, item) in all {
            item.detach(gw, core_id);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Entries<T>> {
        self.by_id.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
