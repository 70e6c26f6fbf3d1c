//! `sp_status`: the one return code of every C call, with numbers that never change.

use std::ffi::c_char;
use switchpoint_core::ErrorKind;

/// What a call did. The numbers are stable across releases: switch on them freely.
/// `SP_OK` is success; 1..=17 are the gateway's error kinds (the same kinds every
/// switchpoint binding reports); 100 and above are problems at the C boundary itself.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sp_status {
    /// Success.
    SP_OK = 0,
    /// The provider rejected the credentials (HTTP 401).
    SP_AUTH = 1,
    /// The credentials may not use this resource (HTTP 403).
    SP_PERMISSION_DENIED = 2,
    /// The model or resource does not exist, at the provider or in the config (404).
    SP_NOT_FOUND = 3,
    /// The provider is rate limiting; `retry_after` says when to come back (429).
    SP_RATE_LIMITED = 4,
    /// No answer within the deadline.
    SP_TIMEOUT = 5,
    /// The connection failed or was cut (also: a stream cut before its end marker).
    SP_CONNECTION = 6,
    /// The request is invalid (including request/context text that is not JSON);
    /// `param` names the field.
    SP_BAD_REQUEST = 7,
    /// The prompt plus the output cap exceed the model's context window.
    SP_CONTEXT_WINDOW_EXCEEDED = 8,
    /// A safety filter blocked the prompt or the answer.
    SP_CONTENT_FILTERED = 9,
    /// The provider is down or overloaded (5xx, 529).
    SP_UNAVAILABLE = 10,
    /// The provider answered something that is not its documented wire format.
    SP_INVALID_RESPONSE = 11,
    /// A spending budget would be exceeded.
    SP_BUDGET_EXCEEDED = 12,
    /// A gateway rate limit (not the provider's) refused the request.
    SP_RATE_LIMIT_EXCEEDED = 13,
    /// A policy refused the request.
    SP_POLICY_DENIED = 14,
    /// The gateway configuration is invalid; `param` names the config field.
    SP_CONFIG = 15,
    /// The call was cancelled, e.g. a chunk callback returned non-zero.
    SP_CANCELLED = 16,
    /// A bug inside switchpoint, reported as an error.
    SP_INTERNAL = 17,
    /// A NULL pointer, text that is not UTF-8, or a call not allowed where it was made
    /// (a blocking call inside a callback).
    SP_INVALID_ARGUMENT = 100,
    /// A panic inside switchpoint was caught at the boundary (kind "internal", code "panic").
    SP_PANIC = 101,
}

impl sp_status {
    /// The status for one of the core's error kinds.
    pub fn from_kind(kind: ErrorKind) -> sp_status {
        match kind {
            ErrorKind::Auth => sp_status::SP_AUTH,
            ErrorKind::PermissionDenied => sp_status::SP_PERMISSION_DENIED,
            ErrorKind::NotFound => sp_status::SP_NOT_FOUND,
            ErrorKind::RateLimited => sp_status::SP_RATE_LIMITED,
            ErrorKind::Timeout => sp_status::SP_TIMEOUT,
            ErrorKind::Connection => sp_status::SP_CONNECTION,
            ErrorKind::BadRequest => sp_status::SP_BAD_REQUEST,
            ErrorKind::ContextWindowExceeded => sp_status::SP_CONTEXT_WINDOW_EXCEEDED,
            ErrorKind::ContentFiltered => sp_status::SP_CONTENT_FILTERED,
            ErrorKind::Unavailable => sp_status::SP_UNAVAILABLE,
            ErrorKind::InvalidResponse => sp_status::SP_INVALID_RESPONSE,
            ErrorKind::BudgetExceeded => sp_status::SP_BUDGET_EXCEEDED,
            ErrorKind::RateLimitExceeded => sp_status::SP_RATE_LIMIT_EXCEEDED,
            ErrorKind::PolicyDenied => sp_status::SP_POLICY_DENIED,
            ErrorKind::Config => sp_status::SP_CONFIG,
            ErrorKind::Cancelled => sp_status::SP_CANCELLED,
            ErrorKind::Internal => sp_status::SP_INTERNAL,
        }
    }

    /// The status's stable name as a NUL-terminated static string.
    fn name(self) -> &'static [u8] {
        match self {
            sp_status::SP_OK => b"ok\0",
            sp_status::SP_AUTH => b"auth\0",
            sp_status::SP_PERMISSION_DENIED => b"permission_denied\0",
            sp_status::SP_NOT_FOUND => b"not_found\0",
            sp_status::SP_RATE_LIMITED => b"rate_limited\0",
            sp_status::SP_TIMEOUT => b"timeout\0",
            sp_status::SP_CONNECTION => b"connection\0",
            sp_status::SP_BAD_REQUEST => b"bad_request\0",
            sp_status::SP_CONTEXT_WINDOW_EXCEEDED => b"context_window_exceeded\0",
            sp_status::SP_CONTENT_FILTERED => b"content_filtered\0",
            sp_status::SP_UNAVAILABLE => b"unavailable\0",
            sp_status::SP_INVALID_RESPONSE => b"invalid_response\0",
            sp_status::SP_BUDGET_EXCEEDED => b"budget_exceeded\0",
            sp_status::SP_RATE_LIMIT_EXCEEDED => b"rate_limit_exceeded\0",
            sp_status::SP_POLICY_DENIED => b"policy_denied\0",
            sp_status::SP_CONFIG => b"config\0",
            sp_status::SP_CANCELLED => b"cancelled\0",
            sp_status::SP_INTERNAL => b"internal\0",
            sp_status::SP_INVALID_ARGUMENT => b"invalid_argument\0",
            sp_status::SP_PANIC => b"panic\0",
        }
    }

    /// Every status, in number order.
    const ALL: [sp_status; 20] = [
        sp_status::SP_OK,
        sp_status::SP_AUTH,
        sp_status::SP_PERMISSION_DENIED,
        sp_status::SP_NOT_FOUND,
        sp_status::SP_RATE_LIMITED,
        sp_status::SP_TIMEOUT,
        sp_status::SP_CONNECTION,
        sp_status::SP_BAD_REQUEST,
        sp_status::SP_CONTEXT_WINDOW_EXCEEDED,
        sp_status::SP_CONTENT_FILTERED,
        sp_status::SP_UNAVAILABLE,
        sp_status::SP_INVALID_RESPONSE,
        sp_status::SP_BUDGET_EXCEEDED,
        sp_status::SP_RATE_LIMIT_EXCEEDED,
        sp_status::SP_POLICY_DENIED,
        sp_status::SP_CONFIG,
        sp_status::SP_CANCELLED,
        sp_status::SP_INTERNAL,
        sp_status::SP_INVALID_ARGUMENT,
        sp_status::SP_PANIC,
    ];
}

/// The stable snake_case name of a status ("ok", "rate_limited", "invalid_argument", ...),
/// the same names the error kinds have in every binding; "unknown" for a number that is not
/// a status. Ownership: the string is static; never free it. Callable from anywhere.
#[no_mangle]
pub extern "C" fn sp_status_name(status: i32) -> *const c_char {
    let name = sp_status::ALL
        .iter()
        .find(|s| **s as i32 == status)
        .map_or(&b"unknown\0"[..], |s| s.name());
    name.as_ptr().cast()
}

/// The library's version ("0.1.0"). Ownership: static; never free it.
#[no_mangle]
pub extern "C" fn sp_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn every_kind_has_its_documented_number_and_name() {
        let numbers: Vec<i32> = ErrorKind::ALL
            .iter()
            .map(|k| sp_status::from_kind(*k) as i32)
            .collect();
        assert_eq!(numbers, (1..=17).collect::<Vec<i32>>());
        for k in ErrorKind::ALL {
            let name = unsafe { CStr::from_ptr(sp_status_name(sp_status::from_kind(k) as i32)) };
            assert_eq!(name.to_str(), Ok(k.as_str()));
        }
        assert_eq!(sp_status::SP_INVALID_ARGUMENT as i32, 100);
        assert_eq!(sp_status::SP_PANIC as i32, 101);
    }

    #[test]
    fn names_cover_the_boundary_statuses_and_unknown_numbers() {
        let name = |n| {
            unsafe { CStr::from_ptr(sp_status_name(n)) }
                .to_str()
                .map(str::to_owned)
        };
        assert_eq!(name(0).as_deref(), Ok("ok"));
        assert_eq!(name(100).as_deref(), Ok("invalid_argument"));
        assert_eq!(name(101).as_deref(), Ok("panic"));
        assert_eq!(name(42).as_deref(), Ok("unknown"));
        assert_eq!(name(-1).as_deref(), Ok("unknown"));
    }
}
