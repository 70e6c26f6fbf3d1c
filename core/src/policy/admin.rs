//! The admin API behind `gateway.keys` and `gateway.audit`: create, list, update and revoke
//! virtual keys at runtime, each change written to the audit log.

use super::audit::AuditRecord;
use super::keys::{self, config_info, stored_info, CreatedKey, KeyBody, KeyInfo};
use super::Policy;
use crate::api::{Error, ErrorKind};
use crate::config::{check_spec, key_hash, KeySpec};
use crate::state::{StateError, StoredKey};
use std::sync::atomic::Ordering;
use std::time::SystemTime;

fn now_ms() -> u64 {
    crate::telemetry::record::unix_ms(SystemTime::now())
}

fn unreachable(e: StateError) -> Error {
    Error::new(ErrorKind::Unavailable, e.to_string()).with_code("state_unavailable")
}

fn not_found(id: &str) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!("no virtual key with id `{id}`"),
    )
    .with_status(404)
    .with_param("id")
}

impl Policy {
    /// Issues a key (generated unless `spec.key` brings one); its value is returned once and
    /// only its hash is kept.
    pub async fn create_key(&self, mut spec: KeySpec, actor: &str) -> Result<CreatedKey, Error> {
        if spec.hash.is_some() {
            return Err(Error::new(
                ErrorKind::BadRequest,
                "`hash` is for config keys; to bring your own key pass `key`",
            )
            .with_param("hash"));
        }
        check_spec(&spec, "key").map_err(as_bad_request)?;
        let value = match spec.key.take() {
            Some(k) if k.len() < 20 => {
                return Err(Error::new(
                    ErrorKind::BadRequest,
                    "a key of your own must have at least 20 characters",
                )
                .with_param("key"))
            }
            Some(k) => k,
            None => keys::generate()?,
        };
        let hash = key_hash(&value);
        let id = keys::id_of_hash(&hash);
        if self.config_keys.contains_key(&id)
            || self
                .backend
                .key_get(&id)
                .await
                .map_err(unreachable)?
                .is_some()
        {
            return Err(
                Error::new(ErrorKind::BadRequest, "this key already exists").with_param("key")
            );
        }
        let now = now_ms();
        let body = KeyBody {
            spec,
            created_at_ms: now,
            created_by: actor.to_string(),
            updated_at_ms: now,
        };
        let mut stored = StoredKey {
            id: id.clone(),
            hash,
            rev: 0,
            revoked: false,
            expires_at_ms: body.spec.expires_at.as_ref().and_then(|e| e.unix_ms().ok()),
            body: serde_json::to_string(&body).map_err(internal)?,
        };
        stored.rev = self.backend.key_put(&stored).await.map_err(unreachable)?;
        self.shared.created.store(true, Ordering::Relaxed);
        let info = stored_info(&stored)?;
        self.audit(
            actor,
            "key_created",
            &id,
            serde_json::to_value(&info.spec).unwrap_or_default(),
        )
        .await;
        Ok(CreatedKey { key: value, info })
    }

    /// Every key: config keys first, then those created at runtime (revoked ones included).
    pub async fn list_keys(&self) -> Result<Vec<KeyInfo>, Error> {
        let mut out: Vec<KeyInfo> = self
            .config_keys
            .values()
            .map(|(hash, k)| config_info(hash, &k.spec))
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        let mut stored = self.backend.key_list().await.map_err(unreachable)?;
        stored.sort_by(|a, b| a.id.cmp(&b.id));
        for s in &stored {
            out.push(stored_info(s)?);
        }
        Ok(out)
    }

    /// One key by id.
    pub async fn get_key(&self, id: &str) -> Result<KeyInfo, Error> {
        if let Some((hash, k)) = self.config_keys.get(id) {
            return Ok(config_info(hash, &k.spec));
        }
        match self.backend.key_get(id).await.map_err(unreachable)? {
            Some(s) => stored_info(&s),
            None => Err(not_found(id)),
        }
    }

    /// Changes a runtime key: `patch` is a JSON merge patch on its settings (fields given
    /// replace, `null` removes). Every process sees the change at its next admission.
    pub async fn update_key(
        &self,
        id: &str,
        patch: serde_json::Value,
        actor: &str,
    ) -> Result<KeyInfo, Error> {
        let mut stored = self.stored_for_change(id).await?;
        let mut body: KeyBody = serde_json::from_str(&stored.body).map_err(internal)?;
        let serde_json::Value::Object(patch) = patch else {
            return Err(Error::new(
                ErrorKind::BadRequest,
                "a key update is an object of the settings to change",
            ));
        };
        for field in ["key", "hash"] {
            if patch.contains_key(field) {
                return Err(Error::new(
                    ErrorKind::BadRequest,
                    format!("`{field}` cannot be changed: create a new key and revoke this one"),
                )
                .with_param(field));
            }
        }
        let mut merged = serde_json::to_value(&body.spec).map_err(internal)?;
        if let serde_json::Value::Object(m) = &mut merged {
            for (k, v) in patch.iter() {
                if v.is_null() {
                    m.remove(k);
                } else {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        let spec: KeySpec = crate::api::from_json_value(merged)?;
        check_spec(&spec, "key").map_err(as_bad_request)?;
        body.spec = spec;
        body.updated_at_ms = now_ms();
        stored.expires_at_ms = body.spec.expires_at.as_ref().and_then(|e| e.unix_ms().ok());
        stored.body = serde_json::to_string(&body).map_err(internal)?;
        stored.rev = self.backend.key_put(&stored).await.map_err(unreachable)?;
        self.forget(id);
        self.audit(actor, "key_updated", id, serde_json::Value::Object(patch))
            .await;
        stored_info(&stored)
    }

    /// Revokes a runtime key: every process refuses it from its next admission on.
    pub async fn revoke_key(&self, id: &str, actor: &str) -> Result<KeyInfo, Error> {
        let mut stored = self.stored_for_change(id).await?;
        if !stored.revoked {
            stored.revoked = true;
            stored.rev = self.backend.key_put(&stored).await.map_err(unreachable)?;
            self.audit(actor, "key_revoked", id, serde_json::Value::Null)
                .await;
        }
        self.forget(id);
        stored_info(&stored)
    }

    /// Audit records since a unix ms, oldest first.
    pub async fn audit_since(&self, since_ms: u64) -> Result<Vec<AuditRecord>, Error> {
        let lines = self
            .backend
            .audit_since(since_ms)
            .await
            .map_err(unreachable)?;
        Ok(lines
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }

    /// Writes an audit record (a failure to write is logged, never fails the change).
    pub async fn audit(&self, actor: &str, action: &str, target: &str, details: serde_json::Value) {
        let target = (!target.is_empty()).then_some(target);
        let record = AuditRecord::now(actor, action, target, details);
        let Ok(text) = serde_json::to_string(&record) else {
            return;
        };
        if let Err(e) = self.backend.audit_append(record.at_ms, &text).await {
            tracing::warn!(error = %e, action, "audit record not written");
        }
    }

    async fn stored_for_change(&self, id: &str) -> Result<StoredKey, Error> {
        if self.config_keys.contains_key(id) {
            return Err(Error::new(
                ErrorKind::BadRequest,
                format!("virtual key {id} is defined in config: change the config and reload"),
            )
            .with_param("id"));
        }
        self.backend
            .key_get(id)
            .await
            .map_err(unreachable)?
            .ok_or_else(|| not_found(id))
    }
}

fn internal(e: serde_json::Error) -> Error {
    Error::new(ErrorKind::Internal, format!("virtual key record: {e}"))
}

/// A settings error from an admin call is the caller's bad request (with the field).
fn as_bad_request(mut e: Error) -> Error {
    e.kind = ErrorKind::BadRequest;
    e
}
