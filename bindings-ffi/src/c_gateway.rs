//! The gateway handle and the blocking calls: `sp_gateway_*`, `sp_chat`, `sp_responses`,
//! `sp_embed`.

use crate::boundary::{
    arg_ref, arg_str, block_on, call, call_void, give_string, opt_str, out_ptr, to_json,
};
use crate::c_error::Failure;
use crate::c_status::sp_status;
use crate::guardrail::HostHooks;
use crate::observer::HostObservers;
use std::ffi::c_char;
use switchpoint_core::api::responses::ResponsesRequest;
use switchpoint_core::api::{from_json_str, ChatRequest, EmbeddingRequest};
use switchpoint_core::runtime::runtime;
use switchpoint_core::{Error, Gateway, RequestContext};

/// A configured gateway. Opaque: create it with an `sp_gateway_new_*` function, free it with
/// `sp_gateway_free`. Safe to share across threads: every call takes it as `const`.
#[derive(Debug)]
pub struct sp_gateway {
    pub(crate) gw: Gateway,
    /// Record callbacks added through this handle (removed when it is freed).
    pub(crate) observers: HostObservers,
    /// Guardrail callbacks added through this handle (removed when it is freed).
    pub(crate) hooks: HostHooks,
}

/// Parses a request's JSON text with the core's path-aware decoder (errors name the field).
pub(crate) fn parse_request<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Failure> {
    from_json_str(text).map_err(Failure::Core)
}

/// Parses the optional context JSON; NULL or empty text means an empty context.
pub(crate) fn parse_context(text: Option<&str>) -> Result<RequestContext, Failure> {
    text.map_or(Ok(RequestContext::default()), |t| {
        RequestContext::from_json(t).map_err(Failure::Core)
    })
}

/// Stores a new gateway in `*out`.
fn make(out: *mut *mut sp_gateway, build: impl FnOnce() -> Result<Gateway, Failure>) -> sp_status {
    call(|| {
        // SAFETY: `out` is NULL or writable, per the function's contract.
        let slot = unsafe { out_ptr(out, "out") }?;
        let gw = build()?;
        *slot = Box::into_raw(Box::new(sp_gateway {
            gw,
            observers: HostObservers::default(),
            hooks: HostHooks::default(),
        }));
        Ok(())
    })
}

/// Creates a gateway from a YAML or JSON config file.
///
/// Ownership: `path` is borrowed. On `SP_OK`, `*out` receives a gateway you free with
/// `sp_gateway_free`; on failure `*out` is NULL (config errors are `SP_CONFIG` with the
/// file, line and field in the message).
///
/// # Safety
/// `path` is a NUL-terminated string; `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn sp_gateway_new_from_file(
    path: *const c_char,
    out: *mut *mut sp_gateway,
) -> sp_status {
    make(out, || {
        // SAFETY: per the function's contract.
        let path = unsafe { arg_str(path, "path") }?;
        Ok(Gateway::from_file(path)?)
    })
}

/// Creates a gateway from YAML config text (JSON text is accepted too).
///
/// Ownership: `yaml` is borrowed. On `SP_OK`, `*out` receives a gateway you free with
/// `sp_gateway_free`; on failure `*out` is NULL.
///
/// # Safety
/// `yaml` is a NUL-terminated string; `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn sp_gateway_new_from_yaml(
    yaml: *const c_char,
    out: *mut *mut sp_gateway,
) -> sp_status {
    make(out, || {
        // SAFETY: per the function's contract.
        let text = unsafe { arg_str(yaml, "yaml") }?;
        Ok(Gateway::from_text(text)?)
    })
}

/// Creates a gateway from JSON config text (a JSON object).
///
/// Ownership: `json` is borrowed. On `SP_OK`, `*out` receives a gateway you free with
/// `sp_gateway_free`; on failure `*out` is NULL.
///
/// # Safety
/// `json` is a NUL-terminated string; `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn sp_gateway_new_from_json(
    json: *const c_char,
    out: *mut *mut sp_gateway,
) -> sp_status {
    make(out, || {
        // SAFETY: per the function's contract.
        let text = unsafe { arg_str(json, "json") }?;
        if !text.trim_start().starts_with('{') {
            return Err(Failure::Core(Error::config(
                "",
                "a JSON config must be a JSON object (text starting with `{`)",
            )));
        }
        Ok(Gateway::from_text(text)?)
    })
}

/// Creates a gateway with no config: models named `provider/model`, keys from the
/// environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, ...).
///
/// Ownership: on `SP_OK`, `*out` receives a gateway you free with `sp_gateway_free`.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn sp_gateway_new_from_env(out: *mut *mut sp_gateway) -> sp_status {
    make(out, || Ok(Gateway::from_env()?))
}

/// Frees a gateway. NULL is ignored. Calls still running (async calls, open streams) keep
/// what they need and finish normally. Record callbacks added with
/// `sp_gateway_add_observer` and guardrails added with `sp_guardrail_add` are removed first:
/// none is called after this returns (from inside such a callback, the callback running
/// finishes; no other starts).
///
/// Ownership: takes back a gateway from `sp_gateway_new_*`; do not use it afterwards.
/// May be called from inside a callback.
///
/// # Safety
/// `gw` is NULL or a gateway from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn sp_gateway_free(gw: *mut sp_gateway) {
    call_void(|| {
        if !gw.is_null() {
            let _rt = runtime();
            let _enter = _rt.enter();
            // SAFETY: `gw` came from `Box::into_raw` in `make`.
            let gw = unsafe { Box::from_raw(gw) };
            gw.observers.remove_all(&gw.gw);
            gw.hooks.remove_all(&gw.gw);
            drop(gw);
        }
    })
}

/// One chat completion, blocking the calling thread until the answer arrives.
///
/// `request_json` is an OpenAI chat-completions request (`stream` is ignored; see
/// `sp_chat_stream`). `context_json` is NULL or a request context object (`user`, `team`,
/// `tier`, `tags`, `metadata`, `api_key`, `timeout` in seconds, `cache`: `{"no_read",
/// "no_store", "ttl" (seconds), "refresh", "namespace"}`). Text that is not JSON, or JSON
/// that does not fit the schema (unknown fields included), is `SP_BAD_REQUEST` with the
/// field in `param`. The facts say what the cache did (`"cache"`: "hit", "semantic_hit",
/// "coalesced", "miss" or "bypass"; absent on routes without a cache) and what the call
/// cost (`"cost": {"usd", "saved_usd"}` as decimal strings).
///
/// Ownership: inputs are borrowed. On `SP_OK`, `*out_response_json` receives the response
/// (OpenAI wire shape plus the gateway's facts under "switchpoint"), freed with
/// `sp_string_free`; on failure it is NULL and `sp_last_error()` has the detail.
///
/// Blocking: not allowed inside a callback (returns `SP_INVALID_ARGUMENT` there).
///
/// # Safety
/// `gw` is a live gateway; strings are NUL-terminated; `out_response_json` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_chat(
    gw: *const sp_gateway,
    request_json: *const c_char,
    context_json: *const c_char,
    out_response_json: *mut *mut c_char,
) -> sp_status {
    call(|| {
        // SAFETY: per the function's contract.
        let out = unsafe { out_ptr(out_response_json, "out_response_json") }?;
        let gw = arg_ref(gw, "gw")?;
        // SAFETY: per the function's contract.
        let req: ChatRequest = parse_request(unsafe { arg_str(request_json, "request_json") }?)?;
        // SAFETY: per the function's contract.
        let ctx = parse_context(unsafe { opt_str(context_json, "context_json") }?)?;
        let resp = block_on("sp_chat", gw.gw.chat(&req, &ctx))??;
        *out = give_string(&to_json(&resp)?);
        Ok(())
    })
}

/// One OpenAI Responses API call, blocking the calling thread until the answer arrives.
///
/// `request_json` is a Responses request (`model`, `input` as a string or items,
/// `instructions`, `tools`, `tool_choice`, `text`, `max_output_tokens`, ...; `stream` is
/// ignored, see `sp_responses_stream`). Providers with a native Responses API (OpenAI,
/// Azure OpenAI; config `responses: native | translate`) get it whole, the others its chat
/// translation; fields chat cannot express are `SP_BAD_REQUEST` on those, naming the field.
/// `context_json` as for `sp_chat`.
///
/// Ownership: inputs are borrowed. On `SP_OK`, `*out_response_json` receives the Response
/// (`"object": "response"`, `output` items, `usage`, plus the gateway's facts under
/// "switchpoint"), freed with `sp_string_free`; on failure it is NULL and `sp_last_error()`
/// has the detail.
///
/// Blocking: not allowed inside a callback (returns `SP_INVALID_ARGUMENT` there).
///
/// # Safety
/// `gw` is a live gateway; strings are NUL-terminated; `out_response_json` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_responses(
    gw: *const sp_gateway,
    request_json: *const c_char,
    context_json: *const c_char,
    out_response_json: *mut *mut c_char,
) -> sp_status {
    call(|| {
        // SAFETY: per the function's contract.
        let out = unsafe { out_ptr(out_response_json, "out_response_json") }?;
        let gw = arg_ref(gw, "gw")?;
        let req: ResponsesRequest =
            // SAFETY: per the function's contract.
            parse_request(unsafe { arg_str(request_json, "request_json") }?)?;
        // SAFETY: per the function's contract.
        let ctx = parse_context(unsafe { opt_str(context_json, "context_json") }?)?;
        let resp = block_on("sp_responses", gw.gw.responses(&req, &ctx))??;
        *out = give_string(&to_json(&resp)?);
        Ok(())
    })
}

/// Embeddings for one or more inputs, blocking the calling thread.
///
/// `request_json` is an OpenAI embeddings request; `context_json` as for `sp_chat`.
///
/// Ownership: inputs are borrowed. On `SP_OK`, `*out_response_json` receives the response
/// (OpenAI wire shape plus "switchpoint" facts), freed with `sp_string_free`; on failure it
/// is NULL.
///
/// Blocking: not allowed inside a callback (returns `SP_INVALID_ARGUMENT` there).
///
/// # Safety
/// `gw` is a live gateway; strings are NUL-terminated; `out_response_json` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_embed(
    gw: *const sp_gateway,
    request_json: *const c_char,
    context_json: *const c_char,
    out_response_json: *mut *mut c_char,
) -> sp_status {
    call(|| {
        // SAFETY: per the function's contract.
        let out = unsafe { out_ptr(out_response_json, "out_response_json") }?;
        let gw = arg_ref(gw, "gw")?;
        // SAFETY: per the function's contract.
        let req: EmbeddingRequest =
            parse_request(unsafe { arg_str(request_json, "request_json") }?)?;
        // SAFETY: per the function's contract.
        let ctx = parse_context(unsafe { opt_str(context_json, "context_json") }?)?;
        let resp = block_on("sp_embed", gw.gw.embed(&req, &ctx))??;
        *out = give_string(&to_json(&resp)?);
        Ok(())
    })
}

/// Every target's state as a JSON array: provider, model, routes, `state` (`healthy`,
/// `cooling_down` with `cooling_until_unix_ms` and `cooldown_remaining_s`, or `half_open`),
/// EWMA and p95 latency, recent error rate, requests in flight. Plain data: never blocks.
///
/// Ownership: on `SP_OK`, `*out_health_json` receives the JSON, freed with
/// `sp_string_free`; on failure it is NULL.
///
/// May be called from inside a callback.
///
/// # Safety
/// `gw` is a live gateway; `out_health_json` is writable.
#[no_mangle]
pub unsafe extern "C" fn sp_gateway_health(
    gw: *const sp_gateway,
    out_health_json: *mut *mut c_char,
) -> sp_status {
    call(|| {
        // SAFETY: per the function's contract.
        let out = unsafe { out_ptr(out_health_json, "out_health_json") }?;
        let gw = arg_ref(gw, "gw")?;
        *out = give_string(&to_json(&gw.gw.health())?);
        Ok(())
    })
}
