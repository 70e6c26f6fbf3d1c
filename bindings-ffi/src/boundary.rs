//! The rules every C entry point follows: catch panics, check pointers and UTF-8, never
//! block inside the runtime, hand out strings the caller frees with `sp_string_free`.

use crate::c_error::{c_string, set_last, Failure};
use crate::c_status::sp_status;
use std::any::Any;
use std::ffi::{c_char, c_void, CStr, CString};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use switchpoint_core::runtime::runtime;
use switchpoint_core::{Error, ErrorKind};

/// Runs one C call's body: a panic becomes `SP_PANIC`, the outcome is recorded for
/// `sp_last_error`, and the status is returned.
pub(crate) fn call(body: impl FnOnce() -> Result<(), Failure>) -> sp_status {
    let result = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|payload| Err(Failure::Panic(panic_message(payload.as_ref()))));
    match result {
        Ok(()) => {
            set_last(None);
            sp_status::SP_OK
        }
        Err(f) => {
            let status = f.status();
            set_last(Some(&f));
            status
        }
    }
}

/// Runs a body that returns nothing to C (a `free` function); a panic is swallowed because
/// there is no status to report it with.
pub(crate) fn call_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// The text of a caught panic.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    format!("switchpoint panicked (a bug; please report it): {what}")
}

/// A required C string argument as UTF-8.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives the call.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::InvalidArgument(format!("`{name}` is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::InvalidArgument(format!(
            "`{name}` is not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// An optional C string argument: NULL means absent.
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn opt_str<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { arg_str(p, name) }.map(Some)
    }
}

/// A required pointer argument.
pub(crate) fn arg_ref<'a, T>(p: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: the caller passes NULL or a live object it got from this library.
    unsafe { p.as_ref() }.ok_or_else(|| Failure::InvalidArgument(format!("`{name}` is NULL")))
}

/// A required out-parameter, reset to NULL so it is NULL whenever the call fails.
///
/// # Safety
/// `p` is NULL or points to writable storage for one pointer.
pub(crate) unsafe fn out_ptr<'a, T>(p: *mut *mut T, name: &str) -> Result<&'a mut *mut T, Failure> {
    // SAFETY: per the caller's contract.
    let slot = unsafe { p.as_mut() }
        .ok_or_else(|| Failure::InvalidArgument(format!("`{name}` (out-parameter) is NULL")))?;
    *slot = std::ptr::null_mut();
    Ok(slot)
}

/// Hands a string to C; the caller frees it with `sp_string_free`.
pub(crate) fn give_string(s: &str) -> *mut c_char {
    c_string(s).into_raw()
}

/// Serializes a response/chunk/facts value to its wire JSON.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| {
        Failure::Core(Error::new(
            ErrorKind::Internal,
            format!("cannot serialize the answer to JSON: {e}"),
        ))
    })
}

/// Runs a future to completion on the core's runtime from a caller's thread. Refuses (instead
/// of deadlocking or panicking) when called on a runtime thread, i.e. inside a callback.
pub(crate) fn block_on<F: Future>(what: &str, fut: F) -> Result<F::Output, Failure> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Failure::InvalidArgument(format!(
            "{what} blocks and cannot be called from inside a switchpoint callback (or any \
             async runtime thread); use the *_async functions there"
        )));
    }
    Ok(runtime().block_on(fut))
}

/// A caller's `user_data` pointer carried to a worker thread; the header tells callers it
/// must be usable from any thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut c_void);

impl UserData {
    /// The pointer (a method, so closures capture the whole `Send + Sync` wrapper).
    pub(crate) fn ptr(self) -> *mut c_void {
        self.0
    }
}

// SAFETY: the header documents that `user_data` is handed to callbacks on other threads;
// the library itself never dereferences it.
unsafe impl Send for UserData {}

// SAFETY: as for `Send`: the pointer is only copied and handed back to the caller's
// callbacks (record callbacks are shared with the telemetry thread); never dereferenced.
unsafe impl Sync for UserData {}

/// Frees a string returned by this library (responses, chunks, facts). NULL is ignored.
///
/// Ownership: takes back a string the library gave you through an out-parameter. Never pass
/// a string you allocated yourself, a string handed to a callback, or one twice.
///
/// # Safety
/// `s` is NULL or a string returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn sp_string_free(s: *mut c_char) {
    call_void(|| {
        if !s.is_null() {
            // SAFETY: `s` came from `CString::into_raw` in `give_string`.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::c_error::sp_last_error;

    #[test]
    fn a_panic_becomes_a_status_with_its_message() {
        let status = call(|| panic!("kaboom"));
        assert_eq!(status, sp_status::SP_PANIC);
        let err = unsafe { &*sp_last_error() };
        let msg = unsafe { CStr::from_ptr(err.message) }.to_string_lossy();
        assert!(msg.contains("kaboom"), "{msg}");
        assert_eq!(call(|| Ok(())), sp_status::SP_OK);
        assert!(sp_last_error().is_null());
    }

    #[test]
    fn strings_are_checked() {
        let bad = [0xffu8, 0x41, 0];
        let err = unsafe { arg_str(bad.as_ptr().cast(), "request_json") }.expect_err("not utf-8");
        assert!(
            matches!(err, Failure::InvalidArgument(m) if m == "`request_json` is not valid UTF-8 (invalid byte at offset 0)")
        );
        let err = unsafe { arg_str(std::ptr::null(), "path") }.expect_err("null");
        assert!(matches!(err, Failure::InvalidArgument(m) if m == "`path` is NULL"));
        assert_eq!(unsafe { opt_str(std::ptr::null(), "ctx") }.ok(), Some(None));
    }

    #[test]
    fn blocking_inside_the_runtime_is_refused() {
        let rt = runtime();
        let inner = rt.block_on(async { block_on("sp_chat", async { 1 }) });
        assert!(
            matches!(inner, Err(Failure::InvalidArgument(m)) if m.starts_with("sp_chat blocks"))
        );
        assert_eq!(block_on("sp_chat", async { 2 }).ok(), Some(2));
    }
}
