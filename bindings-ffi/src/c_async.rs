//! Non-blocking calls for callers with their own event loop: the answer arrives through a
//! completion callback on one of the library's worker threads.

use crate::boundary::{arg_ref, arg_str, call, opt_str, panic_message, to_json, UserData};
use crate::c_error::{c_string, sp_error, Failure, OwnedError};
use crate::c_gateway::{parse_context, parse_request, sp_gateway};
use crate::c_status::sp_status;
use futures_util::FutureExt;
use std::ffi::{c_char, c_void};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use switchpoint_core::api::responses::ResponsesRequest;
use switchpoint_core::api::{ChatRequest, EmbeddingRequest};
use switchpoint_core::runtime::runtime;

/// Called exactly once when an async call finishes, on one of the library's worker threads.
/// On success `status` is `SP_OK`, `response_json` is the response and `error` is NULL;
/// otherwise `response_json` is NULL and `error` has the detail.
///
/// Ownership: `response_json` and `error` (with its strings) are borrowed and valid only
/// during the call; copy what you keep. Inside it you may call `sp_string_free`,
/// `sp_status_name`, `sp_chat_async`, `sp_embed_async`, `sp_stream_close` and
/// `sp_gateway_free`; the blocking calls return `SP_INVALID_ARGUMENT` there. Return quickly:
/// the thread runs other requests' I/O.
pub type sp_done_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        status: sp_status,
        response_json: *const c_char,
        error: *const sp_error,
    ),
>;

/// Runs `work` on the core's runtime and reports its outcome to `on_done`.
fn spawn<F>(
    on_done: unsafe extern "C" fn(*mut c_void, sp_status, *const c_char, *const sp_error),
    user_data: UserData,
    work: F,
) where
    F: Future<Output = Result<String, Failure>> + Send + 'static,
{
    runtime().spawn(async move {
        let outcome = match AssertUnwindSafe(work).catch_unwind().await {
            Ok(r) => r,
            Err(payload) => Err(Failure::Panic(panic_message(payload.as_ref()))),
        };
        deliver(on_done, user_data, outcome);
    });
}

/// Calls the completion callback with borrowed views of the outcome.
fn deliver(
    on_done: unsafe extern "C" fn(*mut c_void, sp_status, *const c_char, *const sp_error),
    user_data: UserData,
    outcome: Result<String, Failure>,
) {
    match outcome {
        Ok(json) => {
            let text = c_string(&json);
            // SAFETY: the caller's callback with the caller's user_data.
            unsafe {
                on_done(
                    user_data.0,
                    sp_status::SP_OK,
                    text.as_ptr(),
                    std::ptr::null(),
                )
            }
        }
        Err(f) => {
            let err = OwnedError::new(&f);
            // SAFETY: as above; `err` outlives the call.
            unsafe { on_done(user_data.0, f.status(), std::ptr::null(), err.view()) }
        }
    }
}

/// Starts a chat completion and returns at once; `on_done` receives the response (the same
/// JSON `sp_chat` returns) or the error.
///
/// Returns `SP_OK` when the call was started: `on_done` will then be called exactly once, on a
/// worker thread (possibly before this function returns). Any other status means the
/// arguments were rejected (NULL, not UTF-8, a bad request or context) and `on_done` is never
/// called. The gateway may be freed while calls are running; they finish normally.
///
/// Ownership: inputs are borrowed (copied before returning). `user_data` is passed to
/// `on_done` untouched; it must stay valid, and usable from another thread, until then.
/// Allowed inside callbacks.
///
/// # Safety
/// `gw` is a live gateway; strings are NUL-terminated; `on_done` is a valid function.
#[no_mangle]
pub unsafe extern "C" fn sp_chat_async(
    gw: *const sp_gateway,
    request_json: *const c_char,
    context_json: *const c_char,
    on_done: sp_done_cb,
    user_data: *mut c_void,
) -> sp_status {
    call(|| {
        let gw = arg_ref(gw, "gw")?.gw.clone();
        let on_done =
            on_done.ok_or_else(|| Failure::InvalidArgument("`on_done` is NULL".into()))?;
        // SAFETY: per the function's contract.
        let req: ChatRequest = parse_request(unsafe { arg_str(request_json, "request_json") }?)?;
        // SAFETY: per the function's contract.
        let ctx = parse_context(unsafe { opt_str(context_json, "context_json") }?)?;
        spawn(on_done, UserData(user_data), async move {
            let resp = gw.chat(&req, &ctx).await?;
            to_json(&resp)
        });
        Ok(())
    })
}

/// Starts an embeddings call and returns at once; the contract is `sp_chat_async`'s, with
/// the response `sp_embed` returns.
///
/// # Safety
/// `gw` is a live gateway; strings are NUL-terminated; `on_done` is a valid function.
#[no_mangle]
pub unsafe extern "C" fn sp_embed_async(
    gw: *const sp_gateway,
    request_json: *const c_char,
    context_json: *const c_char,
    on_done: sp_done_cb,
    user_data: *mut c_void,
) -> sp_status {
    call(|| {
        let gw = arg_ref(gw, "gw")?.gw.clone();
        let on_done =
            on_done.ok_or_else(|| Failure::InvalidArgument("`on_done` is NULL".into()))?;
        // SAFETY: per the function's contract.
        let req: EmbeddingRequest =
            parse_request(unsafe { arg_str(request_json, "request_json") }?)?;
        // SAFETY: per the function's contract.
        let ctx = parse_context(unsafe { opt_str(context_json, "context_json") }?)?;
        spawn(on_done, UserData(user_data), async move {
            let resp = gw.embed(&req, &ctx).await?;
            to_json(&resp)
        });
        Ok(())
    })
}

/// Starts a Responses API call and returns at once; the contract is `sp_chat_async`'s, with
/// the Response `sp_responses` returns.
///
/// # Safety
/// `gw` is a live gateway; strings are NUL-terminated; `on_done` is a valid function.
#[no_mangle]
pub unsafe extern "C" fn sp_responses_async(
    gw: *const sp_gateway,
    request_json: *const c_char,
    context_json: *const c_char,
    on_done: sp_done_cb,
    user_data: *mut c_void,
) -> sp_status {
    call(|| {
        let gw = arg_ref(gw, "gw")?.gw.clone();
        let on_done =
            on_done.ok_or_else(|| Failure::InvalidArgument("`on_done` is NULL".into()))?;
        // SAFETY: per the function's contract.
        let req: ResponsesRequest =
            parse_request(unsafe { arg_str(request_json, "request_json") }?)?;
        // SAFETY: per the function's contract.
        let ctx = parse_context(unsafe { opt_str(context_json, "context_json") }?)?;
        spawn(on_done, UserData(user_data), async move {
            let resp = gw.responses(&req, &ctx).await?;
            to_json(&resp)
        });
        Ok(())
    })
}
