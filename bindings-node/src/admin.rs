//! The admin surface: virtual keys, the audit log and config reload.
//!
//! Every export answers with a promise of JSON text (the core's serde form of `CreatedKey`,
//! `KeyInfo` and `AuditRecord`): the key store may live on Redis, and a reload may read
//! `file:`/`cmd:` secret references, so none of them runs on the event loop.

use crate::error::from_panic;
use crate::gateway::{to_json, Gateway};
use crate::task::{guard_sync, spawn_promise};
use crate::telemetry::unix_ms;
use napi::bindgen_prelude::{Env, Null, Object, Result};
use napi_derive::napi;
use switchpoint_core::api::from_json_str;
use switchpoint_core::config::KeySpec;
use switchpoint_core::{Error, ErrorKind};

#[napi]
impl Gateway {
    /// Issues a virtual key from its settings' JSON text; resolves to the created key's JSON
    /// (the only time its value is shown).
    #[napi(ts_return_type = "Promise<string | NativeError>")]
    pub fn create_key<'env>(
        &self,
        env: &'env Env,
        spec: String,
        actor: String,
    ) -> Result<Object<'env>> {
        guard_sync(env, || {
            let gw = self.core().clone();
            spawn_promise(env, None, async move {
                let spec: KeySpec = from_json_str(&spec)?;
                to_json(&gw.create_key(spec, &actor).await?)
            })
        })
    }

    /// Every virtual key (config and runtime ones, revoked included) as a JSON array,
    /// never with the keys' values.
    #[napi(ts_return_type = "Promise<string | NativeError>")]
    pub fn list_keys<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        guard_sync(env, || {
            let gw = self.core().clone();
            spawn_promise(env, None, async move { to_json(&gw.list_keys().await?) })
        })
    }

    /// One virtual key by id; `not_found` when there is none.
    #[napi(ts_return_type = "Promise<string | NativeError>")]
    pub fn get_key<'env>(&self, env: &'env Env, id: String) -> Result<Object<'env>> {
        guard_sync(env, || {
            let gw = self.core().clone();
            spawn_promise(env, None, async move { to_json(&gw.get_key(&id).await?) })
        })
    }

    /// Changes a runtime key's settings with a JSON merge patch (given fields replace,
    /// `null` removes); resolves to the key's new JSON.
    #[napi(ts_return_type = "Promise<string | NativeError>")]
    pub fn update_key<'env>(
        &self,
        env: &'env Env,
        id: String,
        patch: String,
        actor: String,
    ) -> Result<Object<'env>> {
        guard_sync(env, || {
            let gw = self.core().clone();
            spawn_promise(env, None, async move {
                let patch: serde_json::Value = serde_json::from_str(&patch).map_err(|e| {
                    Error::new(ErrorKind::BadRequest, format!("patch is not JSON: {e}"))
                        .with_param("patch")
                })?;
                to_json(&gw.update_key(&id, patch, &actor).await?)
            })
        })
    }

    /// Revokes a runtime key; resolves to the key's JSON (`revoked: true`).
    #[napi(ts_return_type = "Promise<string | NativeError>")]
    pub fn revoke_key<'env>(
        &self,
        env: &'env Env,
        id: String,
        actor: String,
    ) -> Result<Object<'env>> {
        guard_sync(env, || {
            let gw = self.core().clone();
            spawn_promise(env, None, async move {
                to_json(&gw.revoke_key(&id, &actor).await?)
            })
        })
    }

    /// The audit records since `since_ms` (Unix ms), oldest first, as a JSON array.
    #[napi(ts_return_type = "Promise<string | NativeError>")]
    pub fn audit<'env>(&self, env: &'env Env, since_ms: f64) -> Result<Object<'env>> {
        guard_sync(env, || {
            let gw = self.core().clone();
            spawn_promise(env, None, async move {
                let since = unix_ms("since", since_ms)?;
                to_json(&gw.audit(since).await?)
            })
        })
    }

    /// Swaps in a new configuration (YAML or JSON text) atomically: calls in flight finish
    /// on the old one. Runs on a blocking thread (secret references may read files or run
    /// commands); resolves to null.
    #[napi(ts_return_type = "Promise<null | NativeError>")]
    pub fn reload_text<'env>(
        &self,
        env: &'env Env,
        text: String,
        actor: String,
    ) -> Result<Object<'env>> {
        self.reload_with(env, move |gw| gw.reload_text(&text, &actor))
    }

    /// [`Gateway::reload_text`] for a config object the wrapper serialized with
    /// `JSON.stringify` (so JSON text is not mistaken for YAML and vice versa).
    #[napi(ts_return_type = "Promise<null | NativeError>")]
    pub fn reload_json<'env>(
        &self,
        env: &'env Env,
        json: String,
        actor: String,
    ) -> Result<Object<'env>> {
        self.reload_with(env, move |gw| {
            let value = serde_json::from_str(&json)
                .map_err(|e| Error::config("", format!("config is not a JSON object: {e}")))?;
            gw.reload_value(value, &actor)
        })
    }
}

impl Gateway {
    /// Runs one reload on a blocking thread and returns the promise of its outcome.
    fn reload_with<'env>(
        &self,
        env: &'env Env,
        reload: impl FnOnce(&switchpoint_core::Gateway) -> std::result::Result<(), Error>
            + Send
            + 'static,
    ) -> Result<Object<'env>> {
        guard_sync(env, || {
            let gw = self.core().clone();
            spawn_promise(env, None, async move {
                match tokio::task::spawn_blocking(move || reload(&gw)).await {
                    Ok(outcome) => outcome.map(|()| Null),
                    Err(e) if e.is_panic() => Err(from_panic(e.into_panic())),
                    Err(e) => Err(Error::new(
                        ErrorKind::Internal,
                        format!("reload failed: {e}"),
                    )),
                }
            })
        })
    }
}
