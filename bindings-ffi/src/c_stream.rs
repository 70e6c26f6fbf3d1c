//! Streaming two ways: a callback per chunk (`sp_chat_stream`) and a pull-style handle
//! (`sp_stream_open` / `sp_stream_next` / `sp_stream_close`).

use crate::boundary::{
    arg_ref, arg_str, block_on, call, call_void, give_string, opt_str, out_ptr, to_json,
};
use crate::c_error::{c_string, Failure};
use crate::c_gateway::{parse_context, parse_request, sp_gateway};
use crate::c_status::sp_status;
use futures_util::StreamExt;
use std::ffi::{c_char, c_void};
use std::sync::Mutex;
use switchpoint_core::api::ChatRequest;
use switchpoint_core::runtime::runtime;
use switchpoint_core::{ChatStream, Error, ErrorKind};

/// Called once per chunk of a stream with the chunk as JSON (an OpenAI
/// `chat.completion.chunk`). Return 0 to continue; any other value stops the stream, which
/// closes the upstream request.
///
/// Ownership: `chunk_json` is borrowed and valid only during the call; copy what you keep.
pub type sp_chunk_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, chunk_json: *const c_char) -> i32>;

/// The error a stream stopped by its consumer ends with.
fn stopped() -> Failure {
    Failure::Core(Error::new(
        ErrorKind::Cancelled,
        "the chunk callback stopped the stream; the upstream request was closed",
    ))
}

/// Streams a chat completion, calling `on_chunk` for every chunk; returns when the stream
/// has ended, failed or been stopped.
///
/// `on_chunk` runs on the calling thread (inside the library's runtime). Inside it you may
/// call `sp_string_free`, `sp_last_error`, `sp_status_name`, `sp_chat_async`,
/// `sp_embed_async`, `sp_stream_close` and `sp_gateway_free`; the blocking calls (`sp_chat`,
/// `sp_embed`, `sp_chat_stream`, `sp_stream_open`, `sp_stream_next`) return
/// `SP_INVALID_ARGUMENT` there.
///
/// Returns `SP_OK` when the stream ended normally, `SP_CANCELLED` when `on_chunk` stopped it
/// (the upstream connection is closed at once), or the error that ended it (errors before
/// the first chunk, e.g. a 429, and errors mid-stream, e.g. a cut connection, alike).
///
/// Ownership: inputs are borrowed. `out_facts_json` may be NULL; otherwise it receives the
/// gateway's facts about the call (provider, attempts, latency, ttft) as JSON once the
/// stream is over, also when it failed after opening; free it with `sp_string_free`.
///
/// # Safety
/// `gw` is a live gateway; strings are NUL-terminated; `out_facts_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sp_chat_stream(
    gw: *const sp_gateway,
    request_json: *const c_char,
    context_json: *const c_char,
    on_chunk: sp_chunk_cb,
    user_data: *mut c_void,
    out_facts_json: *mut *mut c_char,
) -> sp_status {
    call(|| {
        let facts_out = if out_facts_json.is_null() {
            None
        } else {
            // SAFETY: non-NULL and writable per the function's contract.
            Some(unsafe { out_ptr(out_facts_json, "out_facts_json") }?)
        };
        let gw = arg_ref(gw, "gw")?;
        let on_chunk =
            on_chunk.ok_or_else(|| Failure::InvalidArgument("`on_chunk` is NULL".into()))?;
        // SAFETY: per the function's contract.
        let req: ChatRequest = parse_request(unsafe { arg_str(request_json, "request_json") }?)?;
        // SAFETY: per the function's contract.
        let ctx = parse_context(unsafe { opt_str(context_json, "context_json") }?)?;
        let gateway = gw.gw.clone();
        let (outcome, facts) = block_on("sp_chat_stream", async move {
            let mut stream = match gateway.chat_stream(&req, &ctx).await {
                Ok(s) => s,
                Err(e) => return (Err(Failure::Core(e)), None),
            };
            let outcome = loop {
                match stream.next().await {
                    None => break Ok(()),
                    Some(Err(e)) => break Err(Failure::Core(e)),
                    Some(Ok(chunk)) => {
                        let text = match to_json(&chunk) {
                            Ok(t) => c_string(&t),
                            Err(f) => break Err(f),
                        };
                        // SAFETY: the caller's callback with the caller's user_data.
                        if unsafe { on_chunk(user_data, text.as_ptr()) } != 0 {
                            break Err(stopped());
                        }
                    }
                }
            };
            let facts = to_json(stream.facts()).ok();
            // Dropping the stream here closes the upstream connection.
            drop(stream);
            (outcome, facts)
        })?;
        if let (Some(slot), Some(f)) = (facts_out, facts) {
            *slot = give_string(&f);
        }
        outcome
    })
}

/// A stream being read chunk by chunk. Opaque: from `sp_stream_open`, freed with
/// `sp_stream_close`. Use it from one thread at a time (calls on it are serialized).
#[derive(Debug)]
pub struct sp_stream {
    inner: Mutex<StreamState>,
}

#[derive(Debug)]
struct StreamState {
    stream: Option<ChatStream>,
    facts: String,
}

/// Opens a streamed chat completion for pull-style reading. Errors before the first chunk
/// (bad request, 401, 429, ...) are reported here.
///
/// Ownership: inputs are borrowed. On `SP_OK`, `*out_stream` receives a stream you must
/// close with `sp_stream_close` (closing before the end cancels the upstream request).
///
/// Blocking (until the provider answers): not allowed inside a callback.
///
/// # Safety
/// `gw` is a live gateway; strings are NUL-terminated; `out_stream` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_stream_open(
    gw: *const sp_gateway,
    request_json: *const c_char,
    context_json: *const c_char,
    out_stream: *mut *mut sp_stream,
) -> sp_status {
    call(|| {
        // SAFETY: per the function's contract.
        let out = unsafe { out_ptr(out_stream, "out_stream") }?;
        let gw = arg_ref(gw, "gw")?;
        // SAFETY: per the function's contract.
        let req: ChatRequest = parse_request(unsafe { arg_str(request_json, "request_json") }?)?;
        // SAFETY: per the function's contract.
        let ctx = parse_context(unsafe { opt_str(context_json, "context_json") }?)?;
        let stream = block_on("sp_stream_open", gw.gw.chat_stream(&req, &ctx))??;
        let facts = to_json(stream.facts())?;
        *out = Box::into_raw(Box::new(sp_stream {
            inner: Mutex::new(StreamState {
                stream: Some(stream),
                facts,
            }),
        }));
        Ok(())
    })
}

/// Waits for the next chunk.
///
/// On `SP_OK`, `*out_chunk_json` receives the next chunk as JSON (free it with
/// `sp_string_free`), or NULL when the stream has ended. On an error (a cut connection, a
/// malformed event) `*out_chunk_json` is NULL, `sp_last_error()` has the detail, and the
/// stream is over: later calls return `SP_OK` with NULL.
///
/// Blocking: not allowed inside a callback.
///
/// # Safety
/// `stream` is a live stream; `out_chunk_json` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_stream_next(
    stream: *mut sp_stream,
    out_chunk_json: *mut *mut c_char,
) -> sp_status {
    call(|| {
        // SAFETY: per the function's contract.
        let out = unsafe { out_ptr(out_chunk_json, "out_chunk_json") }?;
        let stream = arg_ref(stream.cast_const(), "stream")?;
        let mut state = stream
            .inner
            .lock()
            .map_err(|_| Failure::InvalidArgument("the stream was poisoned by a panic".into()))?;
        let Some(s) = state.stream.as_mut() else {
            return Ok(());
        };
        let item = block_on("sp_stream_next", s.next())?;
        let facts = to_json(s.facts())?;
        state.facts = facts;
        match item {
            Some(Ok(chunk)) => {
                *out = give_string(&to_json(&chunk)?);
                Ok(())
            }
            Some(Err(e)) => {
                end(&mut state);
                Err(Failure::Core(e))
            }
            None => {
                end(&mut state);
                Ok(())
            }
        }
    })
}

/// Drops a finished stream inside the runtime (its connection belongs to it).
fn end(state: &mut StreamState) {
    let rt = runtime();
    let _enter = rt.enter();
    state.stream = None;
}

/// The gateway's facts about the stream so far (final once `sp_stream_next` returned the
/// end or an error), as JSON.
///
/// Ownership: on `SP_OK`, `*out_facts_json` receives a string freed with `sp_string_free`.
///
/// # Safety
/// `stream` is a live stream; `out_facts_json` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_stream_facts(
    stream: *const sp_stream,
    out_facts_json: *mut *mut c_char,
) -> sp_status {
    call(|| {
        // SAFETY: per the function's contract.
        let out = unsafe { out_ptr(out_facts_json, "out_facts_json") }?;
        let stream = arg_ref(stream, "stream")?;
        let state = stream
            .inner
            .lock()
            .map_err(|_| Failure::InvalidArgument("the stream was poisoned by a panic".into()))?;
        *out = give_string(&state.facts);
        Ok(())
    })
}

/// Closes a stream and frees it. Closing before the end cancels the upstream request (the
/// provider sees the connection close). NULL is ignored. May be called inside a callback.
///
/// Ownership: takes back a stream from `sp_stream_open`; do not use it afterwards.
///
/// # Safety
/// `stream` is NULL or a stream from this library not yet closed.
#[no_mangle]
pub unsafe extern "C" fn sp_stream_close(stream: *mut sp_stream) {
    call_void(|| {
        if !stream.is_null() {
            // SAFETY: `stream` came from `Box::into_raw` in `sp_stream_open`.
            let boxed = unsafe { Box::from_raw(stream) };
            let mut state = match boxed.inner.into_inner() {
                Ok(s) => s,
                Err(poisoned) => poisoned.into_inner(),
            };
            end(&mut state);
        }
    })
}
