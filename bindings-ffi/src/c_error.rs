//! Error detail for C callers: `sp_error`, the thread-local `sp_last_error`, and the
//! boundary's own failures (NULL pointers, bad UTF-8, misuse, caught panics).

use crate::c_status::sp_status;
use std::cell::RefCell;
use std::ffi::{c_char, CString};
use switchpoint_core::{Error, ErrorKind};

/// Everything known about a failed call. All strings are NUL-terminated UTF-8 owned by the
/// library: read them, copy what you keep, never free them.
#[repr(C)]
#[derive(Debug)]
pub struct sp_error {
    /// The status the call returned.
    pub status: sp_status,
    /// The error kind's stable name ("rate_limited", "invalid_argument", ...).
    pub kind: *const c_char,
    /// A human-readable message (never contains secrets).
    pub message: *const c_char,
    /// The provider (config name) that produced the error, or NULL.
    pub provider: *const c_char,
    /// The provider's HTTP status, or 0 when there was none.
    pub http_status: i32,
    /// Seconds to wait before retrying, or a negative number when the provider said nothing.
    pub retry_after: f64,
    /// The request or config field at fault ("messages[1].role"), or NULL.
    pub param: *const c_char,
    /// The provider's own error code or type ("rate_limit_error"), or NULL.
    pub code: *const c_char,
    /// The whole error as JSON: {"kind", "message", "provider", "status", "retry_after",
    /// "param", "code"}, absent fields omitted; the same object every binding reports.
    pub json: *const c_char,
}

/// Why a C call failed.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// The core's typed error.
    Core(Error),
    /// The caller broke the C contract (NULL, not UTF-8, a blocking call in a callback).
    InvalidArgument(String),
    /// A panic was caught before it crossed the boundary.
    Panic(String),
}

impl Failure {
    /// The status this failure is reported as.
    pub(crate) fn status(&self) -> sp_status {
        match self {
            Failure::Core(e) => sp_status::from_kind(e.kind),
            Failure::InvalidArgument(_) => sp_status::SP_INVALID_ARGUMENT,
            Failure::Panic(_) => sp_status::SP_PANIC,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

/// An `sp_error` together with the strings it points into.
#[derive(Debug)]
pub(crate) struct OwnedError {
    view: sp_error,
    _strings: Vec<CString>,
}

impl OwnedError {
    /// Builds the C view of a failure.
    pub(crate) fn new(failure: &Failure) -> Box<OwnedError> {
        let (kind, err) = match failure {
            Failure::Core(e) => (e.kind.as_str(), e.clone()),
            Failure::InvalidArgument(m) => (
                "invalid_argument",
                Error::new(ErrorKind::Internal, m.clone()),
            ),
            Failure::Panic(m) => (
                "internal",
                Error::new(ErrorKind::Internal, m.clone()).with_code("panic"),
            ),
        };
        let mut json = serde_json::to_value(&err).unwrap_or_default();
        if let Some(obj) = json.as_object_mut() {
            obj.insert("kind".into(), kind.into());
        }
        let mut strings = Vec::new();
        let mut keep = |s: &str| {
            let c = c_string(s);
            let p = c.as_ptr();
            strings.push(c);
            p
        };
        let view = sp_error {
            status: failure.status(),
            kind: keep(kind),
            message: keep(&err.message),
            provider: err.provider.as_deref().map_or(std::ptr::null(), &mut keep),
            http_status: err.status.map_or(0, i32::from),
            retry_after: err.retry_after.map_or(-1.0, |d| d.as_secs_f64()),
            param: err.param.as_deref().map_or(std::ptr::null(), &mut keep),
            code: err.code.as_deref().map_or(std::ptr::null(), &mut keep),
            json: keep(&json.to_string()),
        };
        Box::new(OwnedError {
            view,
            _strings: strings,
        })
    }

    /// The C view; valid while `self` lives (the strings' heap buffers never move).
    pub(crate) fn view(&self) -> &sp_error {
        &self.view
    }
}

/// A C string from Rust text; an interior NUL (impossible in JSON, unlikely in messages)
/// becomes U+FFFD so the text is never truncated silently.
pub(crate) fn c_string(s: &str) -> CString {
    CString::new(s)
        .unwrap_or_else(|_| CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default())
}

thread_local! {
    static LAST: RefCell<Option<Box<OwnedError>>> = const { RefCell::new(None) };
}

/// Records the outcome of the call that just finished on this thread.
pub(crate) fn set_last(failure: Option<&Failure>) {
    let owned = failure.map(OwnedError::new);
    // During thread teardown the slot may be gone; there is no caller left to read it.
    let _ = LAST.try_with(|slot| {
        if let Ok(mut s) = slot.try_borrow_mut() {
            *s = owned;
        }
    });
}

/// The error of the last failed call made on this thread, or NULL when the last call
/// succeeded. Every function returning `sp_status` sets or clears it.
///
/// Ownership: borrowed; the struct and its strings stay valid until the next call on this
/// thread of a function returning `sp_status`. Never free it. Thread-local: read it on the
/// thread that made the call (Go: keep the goroutine on its thread with
/// `runtime.LockOSThread` between the call and this read).
#[no_mangle]
pub extern "C" fn sp_last_error() -> *const sp_error {
    LAST.try_with(|slot| {
        slot.try_borrow()
            .ok()
            .and_then(|s| s.as_ref().map(|e| e.view() as *const sp_error))
            .unwrap_or(std::ptr::null())
    })
    .unwrap_or(std::ptr::null())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::time::Duration;

    fn text(p: *const c_char) -> Option<String> {
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    #[test]
    fn core_errors_keep_every_field() {
        let err = Error::new(ErrorKind::RateLimited, "slow down")
            .with_provider("oai")
            .with_status(429)
            .with_retry_after(Some(Duration::from_millis(1500)))
            .with_code("rate_limit_exceeded");
        let owned = OwnedError::new(&Failure::Core(err));
        let v = owned.view();
        assert_eq!(v.status, sp_status::SP_RATE_LIMITED);
        assert_eq!(text(v.kind).as_deref(), Some("rate_limited"));
        assert_eq!(text(v.message).as_deref(), Some("slow down"));
        assert_eq!(text(v.provider).as_deref(), Some("oai"));
        assert_eq!(v.http_status, 429);
        assert_eq!(v.retry_after, 1.5);
        assert!(v.param.is_null());
        assert_eq!(text(v.code).as_deref(), Some("rate_limit_exceeded"));
        let json: serde_json::Value =
            serde_json::from_str(&text(v.json).expect("json")).expect("valid json");
        assert_eq!(
            json,
            serde_json::json!({"kind": "rate_limited", "message": "slow down", "provider": "oai",
                "status": 429, "retry_after": 1.5, "code": "rate_limit_exceeded"})
        );
    }

    #[test]
    fn boundary_failures_have_their_own_kinds() {
        let owned = OwnedError::new(&Failure::InvalidArgument("`gw` is NULL".into()));
        assert_eq!(owned.view().status, sp_status::SP_INVALID_ARGUMENT);
        assert_eq!(text(owned.view().kind).as_deref(), Some("invalid_argument"));
        assert_eq!(owned.view().http_status, 0);
        assert!(owned.view().retry_after < 0.0);
        let owned = OwnedError::new(&Failure::Panic("boom".into()));
        assert_eq!(owned.view().status, sp_status::SP_PANIC);
        assert_eq!(text(owned.view().kind).as_deref(), Some("internal"));
        assert_eq!(text(owned.view().code).as_deref(), Some("panic"));
    }

    #[test]
    fn last_error_is_set_and_cleared() {
        set_last(Some(&Failure::InvalidArgument("x".into())));
        let p = sp_last_error();
        assert!(!p.is_null());
        assert_eq!(text(unsafe { (*p).message }).as_deref(), Some("x"));
        set_last(None);
        assert!(sp_last_error().is_null());
    }

    #[test]
    fn interior_nul_is_replaced_not_truncated() {
        assert_eq!(c_string("a\0b").to_str(), Ok("a\u{FFFD}b"));
    }
}
