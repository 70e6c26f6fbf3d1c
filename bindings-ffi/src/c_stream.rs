//! Streaming two ways: a callback per chunk (`sp_chat_stream`, and per Responses event
//! `sp_responses_stream`) and a pull-style handle (`sp_stream_open` /
//! `sp_responses_stream_open`, then `sp_stream_next` / `sp_stream_close`).

use crate::boundary::{
    arg_ref, arg_str, block_on, call, call_void, give_string, opt_str, out_ptr, to_json,
};
use crate::c_error::{c_string, Failure};
use crate::c_gateway::{parse_context, parse_request, sp_gateway};
use crate::c_status::sp_status;
use futures_util::StreamExt;
use std::ffi::{c_char, c_void};
use std::future::Future;
use std::sync::Mutex;
use switchpoint_core::api::responses::ResponsesRequest;
use switchpoint_core::api::{ChatRequest, Facts};
use switchpoint_core::runtime::runtime;
use switchpoint_core::{ChatStream, Error, ErrorKind, ResponseStream};

/// A core stream: chat chunks or Responses API events. The Responses stream is boxed (it is
/// the larger one); the chat stream stays inline so opening one costs no extra allocation,
/// hence the size difference the lint would flag.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Source {
    Chat(ChatStream),
    Responses(Box<ResponseStream>),
}

impl Source {
    /// The next item as its wire JSON; None at the end.
    async fn next_json(&mut self) -> Option<Result<String, Failure>> {
        let item = match self {
            Source::Chat(s) => s.next().await.map(|r| r.map(|c| to_json(&c))),
            Source::Responses(s) => s.next().await.map(|r| r.map(|e| to_json(&e))),
        };
        item.map(|r| r.map_err(Failure::Core).and_then(|json| json))
    }

    /// What the gateway did so far.
    fn facts(&self) -> &Facts {
        match self {
            Source::Chat(s) => s.facts(),
            Source::Responses(s) => s.facts(),
        }
    }
}

/// Called once per chunk of a stream with the chunk as JSON (an OpenAI
/// `chat.completion.chunk`; for `sp_responses_stream`, a Responses stream event whose `type`
/// names it). Return 0 to continue; any other value stops the stream, which closes the
/// upstream request.
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
        // SAFETY: per the function's contract.
        let facts_out = unsafe { opt_out(out_facts_json) }?;
        let gw = arg_ref(gw, "gw")?;
        let on_chunk =
            on_chunk.ok_or_else(|| Failure::InvalidArgument("`on_chunk` is NULL".into()))?;
        // SAFETY: per the function's contract.
        let req: ChatRequest = parse_request(unsafe { arg_str(request_json, "request_json") }?)?;
        // SAFETY: per the function's contract.
        let ctx = parse_context(unsafe { opt_str(context_json, "context_json") }?)?;
        let gateway = gw.gw.clone();
        let open = async move { gateway.chat_stream(&req, &ctx).await.map(Source::Chat) };
        // SAFETY: the caller's callback and user_data, per the function's contract.
        unsafe { to_callback("sp_chat_stream", open, on_chunk, user_data, facts_out) }
    })
}

/// Streams a Responses API call, calling `on_event` for every event (`response.created`,
/// `response.output_text.delta`, ..., `response.completed`, each with its `type` and
/// `sequence_number`); returns when the stream has ended, failed or been stopped.
///
/// `request_json` is a Responses request (`model`, `input`, `instructions`, `tools`, ...;
/// `stream` is ignored). Everything else is `sp_chat_stream`'s contract: the same callback
/// rules, statuses (a failure after the start delivers `response.failed` first and then
/// returns the error) and facts.
///
/// # Safety
/// `gw` is a live gateway; strings are NUL-terminated; `out_facts_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sp_responses_stream(
    gw: *const sp_gateway,
    request_json: *const c_char,
    context_json: *const c_char,
    on_event: sp_chunk_cb,
    user_data: *mut c_void,
    out_facts_json: *mut *mut c_char,
) -> sp_status {
    call(|| {
        // SAFETY: per the function's contract.
        let facts_out = unsafe { opt_out(out_facts_json) }?;
        let gw = arg_ref(gw, "gw")?;
        let on_event =
            on_event.ok_or_else(|| Failure::InvalidArgument("`on_event` is NULL".into()))?;
        // SAFETY: per the function's contract.
        let req: ResponsesRequest =
            parse_request(unsafe { arg_str(request_json, "request_json") }?)?;
        // SAFETY: per the function's contract.
        let ctx = parse_context(unsafe { opt_str(context_json, "context_json") }?)?;
        let gateway = gw.gw.clone();
        let open = async move {
            gateway
                .responses_stream(&req, &ctx)
                .await
                .map(|s| Source::Responses(Box::new(s)))
        };
        // SAFETY: the caller's callback and user_data, per the function's contract.
        unsafe { to_callback("sp_responses_stream", open, on_event, user_data, facts_out) }
    })
}

/// `*out` as a slot when `out` is not NULL.
///
/// # Safety
/// `out` is NULL or writable.
unsafe fn opt_out<'a>(out: *mut *mut c_char) -> Result<Option<&'a mut *mut c_char>, Failure> {
    if out.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and writable per the contract.
    Ok(Some(unsafe { out_ptr(out, "out_facts_json") }?))
}

/// Opens a stream and hands every item to `on_item` until it ends, fails or the callback
/// stops it; the facts go to `facts_out` once it is over.
///
/// # Safety
/// `on_item` and `user_data` are the caller's, valid for the whole call.
unsafe fn to_callback(
    name: &'static str,
    open: impl Future<Output = Result<Source, Error>> + Send + 'static,
    on_item: unsafe extern "C" fn(*mut c_void, *const c_char) -> i32,
    user_data: *mut c_void,
    facts_out: Option<&mut *mut c_char>,
) -> Result<(), Failure> {
    let (outcome, facts) = block_on(name, async move {
        let mut stream = match open.await {
            Ok(s) => s,
            Err(e) => return (Err(Failure::Core(e)), None),
        };
        let outcome = loop {
            match stream.next_json().await {
                None => break Ok(()),
                Some(Err(f)) => break Err(f),
                Some(Ok(json)) => {
                    let text = c_string(&json);
                    // SAFETY: the caller's callback with the caller's user_data.
                    if unsafe { on_item(user_data, text.as_ptr()) } != 0 {
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
}

/// A stream being read chunk by chunk (or event by event). Opaque: from `sp_stream_open` or
/// `sp_responses_stream_open`, freed with
/// `sp_stream_close`. Use it from one thread at a time (calls on it are serialized).
#[derive(Debug)]
pub struct sp_stream {
    inner: Mutex<StreamState>,
}

#[derive(Debug)]
struct StreamState {
    stream: Option<Source>,
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
        *out = new_stream(Source::Chat(stream))?;
        Ok(())
    })
}

/// Opens a streamed Responses API call for pull-style reading: `sp_stream_next` then gives
/// one event's JSON per call (`response.created` first, `response.completed` or
/// `response.incomplete` last; a failure after the start gives `response.failed` and then
/// the error). Otherwise `sp_stream_open`'s contract.
///
/// # Safety
/// `gw` is a live gateway; strings are NUL-terminated; `out_stream` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_responses_stream_open(
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
        let req: ResponsesRequest =
            parse_request(unsafe { arg_str(request_json, "request_json") }?)?;
        // SAFETY: per the function's contract.
        let ctx = parse_context(unsafe { opt_str(context_json, "context_json") }?)?;
        let opened = block_on(
            "sp_responses_stream_open",
            gw.gw.responses_stream(&req, &ctx),
        )??;
        *out = new_stream(Source::Responses(Box::new(opened)))?;
        Ok(())
    })
}

/// A pull-style handle over an opened stream.
fn new_stream(stream: Source) -> Result<*mut sp_stream, Failure> {
    let facts = to_json(stream.facts())?;
    Ok(Box::into_raw(Box::new(sp_stream {
        inner: Mutex::new(StreamState {
            stream: Some(stream),
            facts,
        }),
    })))
}

/// Waits for the next chunk (or Responses event).
///
/// On `SP_OK`, `*out_chunk_json` receives the next chunk (event) as JSON (free it with
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
        let item = block_on("sp_stream_next", s.next_json())?;
        let facts = to_json(s.facts())?;
        state.facts = facts;
        match item {
            Some(Ok(json)) => {
                *out = give_string(&json);
                Ok(())
            }
            Some(Err(f)) => {
                end(&mut state);
                Err(f)
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
/// Ownership: takes back a stream from `sp_stream_open` or `sp_responses_stream_open`; do not
/// use it afterwards.
///
/// # Safety
/// `stream` is NULL or a stream from this library not yet closed.
#[no_mangle]
pub unsafe extern "C" fn sp_stream_close(stream: *mut sp_stream) {
    call_void(|| {
        if !stream.is_null() {
            // SAFETY: `stream` came from `Box::into_raw` in `new_stream`.
            let boxed = unsafe { Box::from_raw(stream) };
            let mut state = match boxed.inner.into_inner() {
                Ok(s) => s,
                Err(poisoned) => poisoned.into_inner(),
            };
            end(&mut state);
        }
    })
}
