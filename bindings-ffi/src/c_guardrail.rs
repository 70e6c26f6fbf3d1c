//! Host guardrails for C callers: `sp_guardrail_add`, `sp_guardrail_remove`, and
//! `sp_string_dup` for the answers guardrail callbacks hand back.

use crate::boundary::{arg_ref, call, UserData};
use crate::c_error::{c_string, Failure};
use crate::c_gateway::sp_gateway;
use crate::c_status::sp_status;
use crate::guardrail::{hook_failed, invalid_answer, HostHook};
use std::ffi::{c_char, c_int, c_void, CString};
use switchpoint_core::Error;

/// Decides on one guardrail event; see `sp_guardrail_add`.
///
/// `event_json` is `{"stage": "input"|"output", "messages": [...] (input), "content": "..."
/// (output), "model", "user", "team", "key_id", "tier", "tags", "metadata"}` (absent fields
/// omitted), borrowed for the call.
///
/// Return 0 with `*verdict_json_out` set to the verdict, or left NULL to allow. The verdict is
/// JSON text: `null` or `true` (allow), `false` (deny), `{"action": "allow"}`,
/// `{"action": "deny", "reason": "..."}`, `{"action": "rewrite", "messages": [...]}` (input)
/// or `{"action": "rewrite", "content": "..."}` (output).
///
/// Return non-zero when the check itself failed: the request then fails with `SP_INTERNAL`,
/// code `guardrail_hook_failed`; a message in `*verdict_json_out` (plain text) becomes the
/// error's message.
///
/// Ownership: a string stored in `*verdict_json_out` must come from `sp_string_dup` (or any
/// other string this library returned) and must not be modified afterwards; the library
/// takes it and frees it. `*verdict_json_out` is NULL when the callback is called.
pub type sp_guardrail_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        event_json: *const c_char,
        verdict_json_out: *mut *mut c_char,
    ) -> c_int,
>;

/// Copies `text` into a string owned by this library: what a guardrail callback stores in
/// `*verdict_json_out` (the library frees it), or anything else you later free with
/// `sp_string_free`. Returns NULL when `text` is NULL.
///
/// May be called anywhere, including inside callbacks.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sp_string_dup(text: *const c_char) -> *mut c_char {
    if text.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: non-NULL and NUL-terminated per the contract.
    let copy = unsafe { std::ffi::CStr::from_ptr(text) }.to_owned();
    copy.into_raw()
}

/// Takes back a string a callback handed over, as text (lossy for bytes that are not UTF-8).
///
/// # Safety
/// `p` is NULL or a string from `CString::into_raw` in this library, unmodified.
unsafe fn take(p: *mut c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: per the contract documented on `sp_guardrail_fn`.
    let owned = unsafe { CString::from_raw(p) };
    Some(owned.to_string_lossy().into_owned())
}

/// Calls a C guardrail callback with one event and reads its answer.
fn ask(
    f: unsafe extern "C" fn(*mut c_void, *const c_char, *mut *mut c_char) -> c_int,
    user_data: UserData,
    event_json: &str,
) -> Result<serde_json::Value, Error> {
    let event = c_string(event_json);
    let mut out: *mut c_char = std::ptr::null_mut();
    // SAFETY: the caller's function with the caller's user_data; `event` outlives the call.
    let rc = unsafe { f(user_data.ptr(), event.as_ptr(), &mut out) };
    // SAFETY: `out` is NULL or a string the callback got from this library.
    let answer = unsafe { take(out) };
    if rc != 0 {
        return Err(hook_failed(answer.unwrap_or_else(|| {
            format!("the guardrail callback failed (it returned {rc})")
        })));
    }
    match answer {
        None => Ok(serde_json::Value::Null),
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            invalid_answer(format!(
                "a guardrail callback answered text that is not JSON ({e})"
            ))
        }),
    }
}

/// Adds a host guardrail: `on_check(user_data, event_json, &verdict)` sees every request's
/// messages before they leave (stage "input") and every non-streamed answer's text before
/// it is returned (stage "output"), and allows, denies (`SP_POLICY_DENIED`, code
/// `guardrail_hook`, the reason in the message) or rewrites them. Guardrails run in the order
/// added, each seeing the previous one's rewrite, after the configured guardrails. See
/// `sp_guardrail_fn` for the verdicts and who owns what.
///
/// Threads: the callback runs on one of the library's blocking threads (not a worker
/// thread), possibly on several at once for concurrent requests. Inside it you may call
/// anything except the blocking calls (`sp_chat`, `sp_keys_*`, ..., refused with
/// `SP_INVALID_ARGUMENT`); `sp_chat_async` works, and waiting for its completion there is
/// fine. A request waits for its guardrails, so keep them quick.
///
/// On `SP_OK`, `*out_id` receives the guardrail's id (never 0) for `sp_guardrail_remove`; on
/// failure it is 0. `user_data` is passed untouched; it must stay valid, and usable from
/// other threads, until the guardrail is removed (or the gateway freed). Guardrails survive
/// `sp_gateway_reload`. Allowed inside callbacks.
///
/// # Safety
/// `gw` is a live gateway; `on_check` is a valid function; `out_id` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_guardrail_add(
    gw: *const sp_gateway,
    on_check: sp_guardrail_fn,
    user_data: *mut c_void,
    out_id: *mut u64,
) -> sp_status {
    call(|| {
        // SAFETY: `out_id` is NULL or writable, per the function's contract.
        let slot = unsafe { out_id.as_mut() }
            .ok_or_else(|| Failure::InvalidArgument("`out_id` (out-parameter) is NULL".into()))?;
        *slot = 0;
        let gw = arg_ref(gw, "gw")?;
        let f = on_check.ok_or_else(|| Failure::InvalidArgument("`on_check` is NULL".into()))?;
        let user_data = UserData(user_data);
        let hook = HostHook::new(move |event: &str| ask(f, user_data, event));
        *slot = gw.hooks.add(&gw.gw, hook);
        Ok(())
    })
}

/// Removes a guardrail. Once this returns the callback is not running and is never called
/// again, so `user_data` may be freed (called from inside that same callback, the running
/// call finishes when it returns; no other starts). Requests already past their check are
/// not affected. An id unknown to this gateway handle (never added, or already removed) is
/// `SP_NOT_FOUND` with `param` "id". Allowed inside callbacks.
///
/// # Safety
/// `gw` is a live gateway.
#[no_mangle]
pub unsafe extern "C" fn sp_guardrail_remove(gw: *const sp_gateway, id: u64) -> sp_status {
    call(|| {
        let gw = arg_ref(gw, "gw")?;
        gw.hooks
            .remove_or_not_found(&gw.gw, id, "guardrail")
            .map_err(Failure::Core)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boundary::{arg_str, give_string};
    use switchpoint_core::ErrorKind;

    unsafe extern "C" fn deny_all(
        user_data: *mut c_void,
        event_json: *const c_char,
        out: *mut *mut c_char,
    ) -> c_int {
        // SAFETY: the test passes a counter and a valid event.
        unsafe { *(user_data as *mut u32) += 1 };
        let event = unsafe { arg_str(event_json, "event") }.expect("utf-8");
        assert!(event.contains("\"stage\""), "{event}");
        let verdict = c_string("{\"action\":\"deny\",\"reason\":\"nope\"}");
        // SAFETY: `out` is the library's slot.
        unsafe { *out = sp_string_dup(verdict.as_ptr()) };
        0
    }

    unsafe extern "C" fn fail_with(
        _: *mut c_void,
        _: *const c_char,
        out: *mut *mut c_char,
    ) -> c_int {
        // SAFETY: `out` is the library's slot.
        unsafe { *out = give_string("database is down") };
        3
    }

    unsafe extern "C" fn fail_silently(
        _: *mut c_void,
        _: *const c_char,
        _: *mut *mut c_char,
    ) -> c_int {
        -1
    }

    unsafe extern "C" fn not_json(
        _: *mut c_void,
        _: *const c_char,
        out: *mut *mut c_char,
    ) -> c_int {
        // SAFETY: `out` is the library's slot.
        unsafe { *out = give_string("yes please") };
        0
    }

    #[test]
    fn callbacks_answer_verdicts_failures_and_garbage() {
        let mut calls = 0u32;
        let ud = UserData((&mut calls as *mut u32).cast());
        let v = ask(deny_all, ud, "{\"stage\":\"input\"}").expect("verdict");
        assert_eq!(v, serde_json::json!({"action": "deny", "reason": "nope"}));
        assert_eq!(calls, 1);
        let e = ask(fail_with, ud, "{}").expect_err("failed");
        assert_eq!(
            (e.kind, e.code.as_deref(), e.message.as_str()),
            (
                ErrorKind::Internal,
                Some("guardrail_hook_failed"),
                "database is down"
            )
        );
        let e = ask(fail_silently, ud, "{}").expect_err("failed");
        assert_eq!(e.message, "the guardrail callback failed (it returned -1)");
        let e = ask(not_json, ud, "{}").expect_err("garbage");
        assert_eq!(
            (e.kind, e.code.as_deref()),
            (ErrorKind::Config, Some("guardrail_hook_invalid"))
        );
        assert!(unsafe { sp_string_dup(std::ptr::null()) }.is_null());
    }
}
