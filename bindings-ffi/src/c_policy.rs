//! The admin surface for C callers: virtual keys (`sp_keys_*`), the audit log (`sp_audit`)
//! and reloading the configuration (`sp_gateway_reload`).

use crate::boundary::{arg_ref, arg_str, block_on, call, give_string, opt_str, out_ptr, to_json};
use crate::c_error::Failure;
use crate::c_gateway::{parse_request, sp_gateway};
use crate::c_status::sp_status;
use std::ffi::c_char;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchpoint_core::config::KeySpec;
use switchpoint_core::runtime::runtime;

/// The actor written to the audit log when the caller names none.
pub(crate) const DEFAULT_ACTOR: &str = "api";

/// The optional `actor` argument (NULL: "api").
///
/// # Safety
/// `p` is NULL or a NUL-terminated string.
unsafe fn actor<'a>(p: *const c_char) -> Result<&'a str, Failure> {
    // SAFETY: forwarded contract.
    Ok(unsafe { opt_str(p, "actor") }?.unwrap_or(DEFAULT_ACTOR))
}

/// The time an audit `since` in Unix milliseconds stands for (0 or less: the beginning).
pub(crate) fn since_ms(ms: i64) -> SystemTime {
    u64::try_from(ms)
        .ok()
        .and_then(|ms| UNIX_EPOCH.checked_add(Duration::from_millis(ms)))
        .unwrap_or(UNIX_EPOCH)
}

/// Runs one admin call: checks `out`, runs `body` (which answers a serializable value) and
/// hands its JSON to the caller.
fn admin<T: serde::Serialize>(
    out: *mut *mut c_char,
    out_name: &str,
    body: impl FnOnce() -> Result<T, Failure>,
) -> sp_status {
    call(|| {
        // SAFETY: `out` is NULL or writable, per the calling function's contract.
        let out = unsafe { out_ptr(out, out_name) }?;
        let value = body()?;
        *out = give_string(&to_json(&value)?);
        Ok(())
    })
}

/// Issues a virtual key, blocking the calling thread.
///
/// `spec_json` is NULL (a generated key with no restrictions) or an object with the key's
/// settings: `key` (a key of your own, at least 20 characters; generated `sk-sp-...` when
/// absent), `name`, `user`, `team`, `tier`, `models` (patterns, `*` matches any run of
/// characters), `routes`, `budgets` (`[{"period": "day"|"week"|"month"|"total",
/// "limit_usd", "soft_limit_usd"}]`), `limits` (`{"rpm", "tpm", "in_flight"}`),
/// `expires_at` (Unix seconds or RFC 3339 text), `metadata`. Unknown fields and bad values
/// are `SP_BAD_REQUEST` naming the field. `actor` (NULL: "api") is written to the audit log.
///
/// Ownership: inputs are borrowed. On `SP_OK`, `*out_json` receives the created key:
/// `{"key", "id", "source", "revoked", "created_at_ms", "created_by", "updated_at_ms",
/// "revision", ...settings}`, freed with `sp_string_free`. `key` is shown this once; only its
/// hash is kept. On failure `*out_json` is NULL.
///
/// Blocking: not allowed inside a callback (returns `SP_INVALID_ARGUMENT` there).
///
/// # Safety
/// `gw` is a live gateway; strings are NULL or NUL-terminated; `out_json` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_keys_create(
    gw: *const sp_gateway,
    spec_json: *const c_char,
    actor: *const c_char,
    out_json: *mut *mut c_char,
) -> sp_status {
    admin(out_json, "out_json", || {
        let gw = arg_ref(gw, "gw")?;
        // SAFETY: per the function's contract.
        let spec: KeySpec = match unsafe { opt_str(spec_json, "spec_json") }? {
            Some(text) => parse_request(text)?,
            None => KeySpec::default(),
        };
        // SAFETY: per the function's contract.
        let actor = unsafe { self::actor(actor) }?;
        Ok(block_on("sp_keys_create", gw.gw.create_key(spec, actor))??)
    })
}

/// Every virtual key (config and runtime ones, revoked included) as a JSON array of key
/// objects (as `sp_keys_create` answers, without `key`: a key's value is never shown again).
///
/// Ownership: on `SP_OK`, `*out_json` receives the JSON, freed with `sp_string_free`; on
/// failure it is NULL. Blocking: not allowed inside a callback.
///
/// # Safety
/// `gw` is a live gateway; `out_json` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_keys_list(
    gw: *const sp_gateway,
    out_json: *mut *mut c_char,
) -> sp_status {
    admin(out_json, "out_json", || {
        let gw = arg_ref(gw, "gw")?;
        Ok(block_on("sp_keys_list", gw.gw.list_keys())??)
    })
}

/// One virtual key by id (`key-` and 16 hex digits) as a key object; an unknown id is
/// `SP_NOT_FOUND` with `param` "id".
///
/// Ownership: `id` is borrowed. On `SP_OK`, `*out_json` receives the JSON, freed with
/// `sp_string_free`; on failure it is NULL. Blocking: not allowed inside a callback.
///
/// # Safety
/// `gw` is a live gateway; `id` is NUL-terminated; `out_json` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_keys_get(
    gw: *const sp_gateway,
    id: *const c_char,
    out_json: *mut *mut c_char,
) -> sp_status {
    admin(out_json, "out_json", || {
        let gw = arg_ref(gw, "gw")?;
        // SAFETY: per the function's contract.
        let id = unsafe { arg_str(id, "id") }?;
        Ok(block_on("sp_keys_get", gw.gw.get_key(id))??)
    })
}

/// Changes a runtime key's settings with a JSON merge patch (`patch_json`: fields given
/// replace, `null` removes; e.g. `{"models": ["gpt-4o*"], "limits": null}`). Config keys
/// change by editing the config and reloading. An unknown id is `SP_NOT_FOUND`; bad
/// settings are `SP_BAD_REQUEST` naming the field. `actor` (NULL: "api") goes to the audit
/// log.
///
/// Ownership: inputs are borrowed. On `SP_OK`, `*out_json` receives the updated key object,
/// freed with `sp_string_free`; on failure it is NULL. Blocking: not allowed inside a
/// callback.
///
/// # Safety
/// `gw` is a live gateway; strings are NULL (only `actor`) or NUL-terminated; `out_json`
/// is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_keys_update(
    gw: *const sp_gateway,
    id: *const c_char,
    patch_json: *const c_char,
    actor: *const c_char,
    out_json: *mut *mut c_char,
) -> sp_status {
    admin(out_json, "out_json", || {
        let gw = arg_ref(gw, "gw")?;
        // SAFETY: per the function's contract.
        let id = unsafe { arg_str(id, "id") }?;
        // SAFETY: per the function's contract.
        let patch: serde_json::Value =
            parse_request(unsafe { arg_str(patch_json, "patch_json") }?)?;
        // SAFETY: per the function's contract.
        let actor = unsafe { self::actor(actor) }?;
        Ok(block_on(
            "sp_keys_update",
            gw.gw.update_key(id, patch, actor),
        )??)
    })
}

/// Revokes a runtime key: every gateway sharing the state refuses it from now on (`SP_AUTH`
/// with code `key_revoked`). An unknown id is `SP_NOT_FOUND`. `actor` (NULL: "api") goes to
/// the audit log.
///
/// Ownership: inputs are borrowed. On `SP_OK`, `*out_json` receives the revoked key object
/// (`"revoked": true`), freed with `sp_string_free`; on failure it is NULL. Blocking: not
/// allowed inside a callback.
///
/// # Safety
/// `gw` is a live gateway; `id` is NUL-terminated, `actor` NULL or NUL-terminated;
/// `out_json` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_keys_revoke(
    gw: *const sp_gateway,
    id: *const c_char,
    actor: *const c_char,
    out_json: *mut *mut c_char,
) -> sp_status {
    admin(out_json, "out_json", || {
        let gw = arg_ref(gw, "gw")?;
        // SAFETY: per the function's contract.
        let id = unsafe { arg_str(id, "id") }?;
        // SAFETY: per the function's contract.
        let actor = unsafe { self::actor(actor) }?;
        Ok(block_on("sp_keys_revoke", gw.gw.revoke_key(id, actor))??)
    })
}

/// The administrative changes since `since_unix_ms` (Unix milliseconds; 0 or less: all
/// kept), oldest first, as a JSON array of `{"at_ms", "actor", "action", "target",
/// "details"}`; actions are `key_created`, `key_updated`, `key_revoked`,
/// `config_reloaded`, `budget_soft_limit`. Never a key or a secret.
///
/// Ownership: on `SP_OK`, `*out_json` receives the JSON, freed with `sp_string_free`; on
/// failure it is NULL. Blocking: not allowed inside a callback.
///
/// # Safety
/// `gw` is a live gateway; `out_json` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_audit(
    gw: *const sp_gateway,
    since_unix_ms: i64,
    out_json: *mut *mut c_char,
) -> sp_status {
    admin(out_json, "out_json", || {
        let gw = arg_ref(gw, "gw")?;
        Ok(block_on("sp_audit", gw.gw.audit(since_ms(since_unix_ms)))??)
    })
}

/// Swaps in a new configuration (YAML or JSON text, the schema of `sp_gateway_new_*`)
/// atomically: calls in flight finish on the old one, new calls take the new one, none
/// fails. Rotated provider keys, routes, virtual keys, budgets, limits and guardrails take
/// effect at once; counters, runtime keys, the audit log, record callbacks and guardrail
/// callbacks stay. An invalid config is `SP_CONFIG` (the field in the message) and the old
/// one stays. `actor` (NULL: "api") goes to the audit log (`config_reloaded`).
///
/// Ownership: inputs are borrowed. Never blocks on I/O (a change of state backend connects
/// lazily); allowed inside callbacks.
///
/// # Safety
/// `gw` is a live gateway; `config_text` is NUL-terminated, `actor` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sp_gateway_reload(
    gw: *const sp_gateway,
    config_text: *const c_char,
    actor: *const c_char,
) -> sp_status {
    call(|| {
        let gw = arg_ref(gw, "gw")?;
        // SAFETY: per the function's contract.
        let text = unsafe { arg_str(config_text, "config_text") }?;
        // SAFETY: per the function's contract.
        let actor = unsafe { self::actor(actor) }?;
        let rt = runtime();
        let _enter = rt.enter();
        gw.gw.reload_text(text, actor)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_since_is_clamped() {
        assert_eq!(since_ms(0), UNIX_EPOCH);
        assert_eq!(since_ms(-7), UNIX_EPOCH);
        assert_eq!(since_ms(1500), UNIX_EPOCH + Duration::from_millis(1500));
        assert!(since_ms(i64::MAX) > UNIX_EPOCH);
    }
}
