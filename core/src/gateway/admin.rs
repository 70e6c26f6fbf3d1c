//! The admin surface: virtual keys and the audit log (every binding wraps these).

use super::Gateway;
use crate::api::Error;
use crate::policy::{AuditRecord, CreatedKey, KeyInfo, KeySpec};

impl Gateway {
    /// Issues a virtual key bound to an identity, allowed models, budgets and limits. The
    /// key's value is in the answer once; only its hash is stored.
    pub async fn create_key(&self, spec: KeySpec, actor: &str) -> Result<CreatedKey, Error> {
        self.engine().inner.policy.create_key(spec, actor).await
    }

    /// Every virtual key (config and runtime ones; revoked included), without their values.
    pub async fn list_keys(&self) -> Result<Vec<KeyInfo>, Error> {
        self.engine().inner.policy.list_keys().await
    }

    /// One virtual key by id.
    pub async fn get_key(&self, id: &str) -> Result<KeyInfo, Error> {
        self.engine().inner.policy.get_key(id).await
    }

    /// Changes a runtime key's settings (a JSON merge patch: fields given replace, `null`
    /// removes).
    pub async fn update_key(
        &self,
        id: &str,
        patch: serde_json::Value,
        actor: &str,
    ) -> Result<KeyInfo, Error> {
        self.engine()
            .inner
            .policy
            .update_key(id, patch, actor)
            .await
    }

    /// Revokes a runtime key; every process sharing the state refuses it from now on.
    pub async fn revoke_key(&self, id: &str, actor: &str) -> Result<KeyInfo, Error> {
        self.engine().inner.policy.revoke_key(id, actor).await
    }

    /// Administrative changes since a time, oldest first.
    pub async fn audit(&self, since: std::time::SystemTime) -> Result<Vec<AuditRecord>, Error> {
        let since_ms = crate::telemetry::record::unix_ms(since);
        self.engine().inner.policy.audit_since(since_ms).await
    }
}
