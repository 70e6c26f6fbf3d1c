//! Observability for C callers: Prometheus text, usage queries, record callbacks and
//! flushing (`sp_gateway_metrics_text`, `sp_gateway_usage`, `sp_gateway_add_observer`,
//! `sp_gateway_remove_observer`, `sp_gateway_flush_telemetry`).

use crate::boundary::{arg_ref, call, give_string, opt_str, out_ptr, to_json, UserData};
use crate::c_error::{c_string, Failure};
use crate::c_gateway::sp_gateway;
use crate::c_status::sp_status;
use crate::observer::{in_record_callback, Gated};
use std::ffi::{c_char, c_void};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchpoint_core::telemetry::GroupBy;
use switchpoint_core::{Error, ErrorKind};

/// Receives one request record as JSON: `id`, `call`, `started_at_ms`, `ended_at_ms`,
/// `latency_ms`, `ttft_ms`, `model`, `route`, `provider`, `provider_model`, `attempts`,
/// `tokens`, `cost`, `cache` (`status`, `saved_usd`), `caller` (`key_id`, `user`, `team`,
/// `tier`), `tags`, `status` ("ok" or "error" with `error_kind`). Never a secret.
///
/// Called on the gateway's telemetry thread (one thread per gateway, not one of the worker
/// threads), one record at a time, in the order requests finished.
///
/// Ownership: `record_json` is borrowed and valid only during the call; copy what you keep.
/// Return quickly: records queue up behind a slow callback, and when the queue is full new
/// records are dropped (counted in `switchpoint_telemetry_dropped_total`), never the
/// requests slowed. Inside it you may call anything except `sp_gateway_metrics_text`,
/// `sp_gateway_usage` and `sp_gateway_flush_telemetry` (they wait for this very thread and
/// return `SP_INVALID_ARGUMENT` there); blocking calls such as `sp_chat` work but hold up
/// every other record.
pub type sp_record_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, record_json: *const c_char)>;

/// Refuses calls that wait for the telemetry thread when made on it.
fn not_in_record_callback(what: &str) -> Result<(), Failure> {
    if in_record_callback() {
        return Err(Failure::InvalidArgument(format!(
            "{what} waits for the telemetry thread and cannot be called from inside a record \
             callback"
        )));
    }
    Ok(())
}

/// The time a `since` argument in Unix seconds stands for (0 or less: the beginning);
/// `None` for NaN, +infinity or a time out of range.
pub(crate) fn since_time(seconds: f64) -> Option<SystemTime> {
    if seconds.is_nan() {
        return None;
    }
    if seconds <= 0.0 {
        return Some(UNIX_EPOCH);
    }
    Duration::try_from_secs_f64(seconds)
        .ok()
        .and_then(|d| UNIX_EPOCH.checked_add(d))
}

/// The gateway's metrics in the Prometheus text exposition format (version 0.0.4): request,
/// error, token, cost and cache-saving counters, latency and time-to-first-token
/// histograms, and the telemetry queue's own counters. Serve it on your `/metrics`.
///
/// Waits (at most 1 s) for records still queued, so every call that already returned is
/// counted. Ownership: on `SP_OK`, `*out` receives the text, freed with `sp_string_free`;
/// on failure it is NULL. Refused inside a record callback (`SP_INVALID_ARGUMENT`).
///
/// # Safety
/// `gw` is a live gateway; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_gateway_metrics_text(
    gw: *const sp_gateway,
    out: *mut *mut c_char,
) -> sp_status {
    call(|| {
        // SAFETY: per the function's contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let gw = arg_ref(gw, "gw")?;
        not_in_record_callback("sp_gateway_metrics_text")?;
        *out = give_string(&gw.gw.metrics_text());
        Ok(())
    })
}

/// Usage since a time, grouped: a JSON array of rows, most expensive first, each
/// `{"group", "requests", "errors", "cache_hits", "prompt_tokens", "completion_tokens",
/// "cached_tokens", "reasoning_tokens", "cost_usd", "saved_usd"}` with money as decimal
/// strings ("0.00012") and `group` null for the total row and requests without one.
///
/// `since_unix_seconds`: 0 (or less) for everything kept; otherwise Unix seconds (fractions
/// allowed), honoured to the usage bucket's resolution. `group_by`: NULL or "total",
/// "user", "team", "model", "route", "provider", "tag" or "key"; anything else is
/// `SP_BAD_REQUEST` with `param` "group_by" and the allowed values in the message.
///
/// Waits (at most 1 s) for records still queued, so every call that already returned is
/// counted. Ownership: on `SP_OK`, `*out_json` receives the JSON, freed with
/// `sp_string_free`; on failure it is NULL. Refused inside a record callback.
///
/// # Safety
/// `gw` is a live gateway; `group_by` is NULL or NUL-terminated; `out_json` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_gateway_usage(
    gw: *const sp_gateway,
    since_unix_seconds: f64,
    group_by: *const c_char,
    out_json: *mut *mut c_char,
) -> sp_status {
    call(|| {
        // SAFETY: per the function's contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let gw = arg_ref(gw, "gw")?;
        // SAFETY: per the function's contract.
        let group_by = match unsafe { opt_str(group_by, "group_by") }? {
            Some(g) => GroupBy::from_param(g)?,
            None => GroupBy::Total,
        };
        let since = since_time(since_unix_seconds).ok_or_else(|| {
            Failure::InvalidArgument(format!(
                "`since_unix_seconds` must be a finite number of seconds, got {since_unix_seconds}"
            ))
        })?;
        not_in_record_callback("sp_gateway_usage")?;
        *out = give_string(&to_json(&gw.gw.usage(since, group_by))?);
        Ok(())
    })
}

/// Calls `on_record(user_data, record_json)` for every request that finishes from now on
/// (records still queued when it is added may reach it too); see `sp_record_fn` for the
/// thread and what may be called inside.
///
/// On `SP_OK`, `*out_id` receives the observer's id (never 0) for
/// `sp_gateway_remove_observer`; on failure it is 0. `user_data` is passed untouched; it
/// must stay valid, and usable from the telemetry thread, until the observer is removed
/// (or the gateway freed). Allowed inside callbacks.
///
/// # Safety
/// `gw` is a live gateway; `on_record` is a valid function; `out_id` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_gateway_add_observer(
    gw: *const sp_gateway,
    on_record: sp_record_fn,
    user_data: *mut c_void,
    out_id: *mut u64,
) -> sp_status {
    call(|| {
        // SAFETY: `out_id` is NULL or writable, per the function's contract.
        let slot = unsafe { out_id.as_mut() }
            .ok_or_else(|| Failure::InvalidArgument("`out_id` (out-parameter) is NULL".into()))?;
        *slot = 0;
        let gw = arg_ref(gw, "gw")?;
        let f = on_record.ok_or_else(|| Failure::InvalidArgument("`on_record` is NULL".into()))?;
        let user_data = UserData(user_data);
        let observer = Gated::new(move |json: &str| {
            let text = c_string(json);
            // SAFETY: the caller's function with the caller's user_data; `text` outlives it.
            unsafe { f(user_data.ptr(), text.as_ptr()) }
        });
        *slot = gw.observers.add(&gw.gw, observer);
        Ok(())
    })
}

/// Removes a record callback. Once this returns, the callback is not running and is never
/// called again, so `user_data` may be freed (called from inside that same callback, the
/// running call finishes when it returns; no other starts). Records queued earlier are not
/// delivered to it. An id that is unknown to this gateway handle (never added, or already
/// removed) is `SP_NOT_FOUND` with `param` "id". Allowed inside callbacks.
///
/// # Safety
/// `gw` is a live gateway.
#[no_mangle]
pub unsafe extern "C" fn sp_gateway_remove_observer(gw: *const sp_gateway, id: u64) -> sp_status {
    call(|| {
        let gw = arg_ref(gw, "gw")?;
        gw.observers
            .remove_or_not_found(&gw.gw, id, "record callback")
            .map_err(Failure::Core)
    })
}

/// Waits until every record of the calls that already returned has reached every observer
/// (record callbacks, the JSON-lines log, the OTLP exporter) and the observers flushed
/// their output. Returns `SP_OK`, or `SP_TIMEOUT` after `timeout_seconds` (>= 0).
///
/// Blocking: refused (`SP_INVALID_ARGUMENT`) inside a record callback and inside the
/// worker-thread callbacks, like the other blocking calls.
///
/// # Safety
/// `gw` is a live gateway.
#[no_mangle]
pub unsafe extern "C" fn sp_gateway_flush_telemetry(
    gw: *const sp_gateway,
    timeout_seconds: f64,
) -> sp_status {
    call(|| {
        let gw = arg_ref(gw, "gw")?;
        let timeout = Duration::try_from_secs_f64(timeout_seconds).map_err(|_| {
            Failure::InvalidArgument(format!(
                "`timeout_seconds` must be a finite number >= 0, got {timeout_seconds}"
            ))
        })?;
        not_in_record_callback("sp_gateway_flush_telemetry")?;
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Failure::InvalidArgument(
                "sp_gateway_flush_telemetry blocks and cannot be called from inside a \
                 switchpoint callback (or any async runtime thread)"
                    .into(),
            ));
        }
        if gw.gw.flush_telemetry(timeout) {
            Ok(())
        } else {
            Err(Failure::Core(Error::new(
                ErrorKind::Timeout,
                format!(
                    "telemetry was not flushed within {timeout_seconds} s (a record callback \
                     or an observer is slow)"
                ),
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_checked() {
        assert_eq!(since_time(0.0), Some(UNIX_EPOCH));
        assert_eq!(since_time(-5.0), Some(UNIX_EPOCH));
        assert_eq!(since_time(f64::NEG_INFINITY), Some(UNIX_EPOCH));
        assert_eq!(
            since_time(1.5),
            Some(UNIX_EPOCH + Duration::from_millis(1500))
        );
        assert_eq!(since_time(f64::NAN), None);
        assert_eq!(since_time(f64::INFINITY), None);
        assert_eq!(since_time(1e300), None);
    }
}
