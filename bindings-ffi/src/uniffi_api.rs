//! The uniffi interface: the same gateway for Kotlin, Swift and Python (generated with the
//! `uniffi-bindgen` binary of this crate; see README.md).
//!
//! Requests, contexts and answers cross as JSON text in the OpenAI wire shape, exactly as in
//! the C ABI. Async methods run on the core's one tokio runtime; the foreign side awaits them
//! with its own executor (coroutines, async/await, asyncio). Streams push chunks to a
//! listener object the caller implements and return a handle that cancels them.

use crate::boundary::panic_message;
use crate::c_policy::DEFAULT_ACTOR;
use crate::c_telemetry::since_time;
use crate::guardrail::{hook_failed, invalid_answer, HostHook, HostHooks};
use crate::observer::{in_record_callback, Gated, HostObservers};
use futures_util::{FutureExt, StreamExt};
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use switchpoint_core::api::responses::ResponsesRequest;
use switchpoint_core::api::{from_json_str, ChatRequest, EmbeddingRequest, Facts};
use switchpoint_core::config::KeySpec;
use switchpoint_core::runtime::runtime;
use switchpoint_core::telemetry::GroupBy;
use switchpoint_core::{ChatStream, Error, ErrorKind, RequestContext, ResponseStream};
use tokio::sync::watch;

macro_rules! error_enum {
    ($($variant:ident => $kind:ident),* $(,)?) => {
        /// A failed call, one variant per error kind (the kinds every binding reports). Each
        /// carries the message, the provider, its HTTP status, when to retry (seconds), the
        /// field at fault and the provider's own error code.
        #[derive(Debug, Clone, PartialEq, uniffi::Error)]
        pub enum SwitchpointError {
            $(
                $variant {
                    message: String,
                    provider: Option<String>,
                    status: Option<u16>,
                    retry_after: Option<f64>,
                    param: Option<String>,
                    code: Option<String>,
                },
            )*
        }

        impl SwitchpointError {
            /// The error kind's stable snake_case name.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(SwitchpointError::$variant { .. } => ErrorKind::$kind.as_str(),)*
                }
            }

            /// The message.
            pub fn message(&self) -> &str {
                match self {
                    $(SwitchpointError::$variant { message, .. } => message,)*
                }
            }

            /// The core error this stands for (a host hook's error goes back into the core).
            pub fn into_core(self) -> Error {
                match self {
                    $(SwitchpointError::$variant { message, provider, status, retry_after, param, code } => {
                        let mut e = Error::new(ErrorKind::$kind, message);
                        e.provider = provider;
                        e.status = status;
                        e.retry_after = retry_after.and_then(|s| Duration::try_from_secs_f64(s).ok());
                        e.param = param;
                        e.code = code;
                        e
                    })*
                }
            }
        }

        impl From<Error> for SwitchpointError {
            fn from(e: Error) -> Self {
                let retry_after = e.retry_after.map(|d| d.as_secs_f64());
                let Error { kind, message, provider, status, param, code, .. } = e;
                match kind {
                    $(ErrorKind::$kind => SwitchpointError::$variant {
                        message, provider, status, retry_after, param, code,
                    },)*
                }
            }
        }
    };
}

error_enum! {
    Auth => Auth,
    PermissionDenied => PermissionDenied,
    NotFound => NotFound,
    RateLimited => RateLimited,
    Timeout => Timeout,
    Connection => Connection,
    BadRequest => BadRequest,
    ContextWindowExceeded => ContextWindowExceeded,
    ContentFiltered => ContentFiltered,
    Unavailable => Unavailable,
    InvalidResponse => InvalidResponse,
    BudgetExceeded => BudgetExceeded,
    RateLimitExceeded => RateLimitExceeded,
    PolicyDenied => PolicyDenied,
    Config => Config,
    Cancelled => Cancelled,
    Internal => Internal,
}

impl fmt::Display for SwitchpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind(), self.message())
    }
}

impl std::error::Error for SwitchpointError {}

/// An internal error (a caught panic or a lost task) in the uniffi shape.
fn internal(message: String) -> SwitchpointError {
    Error::new(ErrorKind::Internal, message)
        .with_code("panic")
        .into()
}

/// Serializes an answer to its wire JSON.
fn json<T: serde::Serialize>(v: &T) -> Result<String, SwitchpointError> {
    serde_json::to_string(v)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot serialize: {e}")).into())
}

/// Parses the optional context JSON (None or empty: an empty context).
fn context(text: Option<String>) -> Result<RequestContext, SwitchpointError> {
    Ok(text
        .as_deref()
        .map(RequestContext::from_json)
        .transpose()?
        .unwrap_or_default())
}

/// Runs `work` on the core's runtime and awaits it from whatever executor polls us.
async fn on_runtime<T, F>(work: F) -> Result<T, SwitchpointError>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, SwitchpointError>> + Send + 'static,
{
    let task = runtime().spawn(AssertUnwindSafe(work).catch_unwind());
    match task.await {
        Ok(Ok(r)) => r,
        Ok(Err(payload)) => Err(internal(panic_message(payload.as_ref()))),
        Err(e) => Err(internal(format!("the call's task was lost: {e}"))),
    }
}

/// Receives a stream's chunks; implemented by the caller (a Kotlin/Swift/Python object).
/// Methods run on the library's worker threads, one call at a time per stream.
#[uniffi::export(with_foreign)]
pub trait ChunkListener: Send + Sync {
    /// One chunk as JSON (an OpenAI `chat.completion.chunk`). Return false to stop the
    /// stream (the upstream request is closed; the stream ends with `on_error(Cancelled)`).
    fn on_chunk(&self, chunk_json: String) -> bool;
    /// The stream ended normally; `facts_json` is the gateway's facts about the call.
    fn on_done(&self, facts_json: String);
    /// The stream failed (before or after its first chunk) or was cancelled.
    fn on_error(&self, error: SwitchpointError);
}

/// A running stream; `cancel()` stops it and closes the upstream request.
#[derive(Debug, uniffi::Object)]
pub struct StreamHandle {
    cancel: watch::Sender<bool>,
}

#[uniffi::export]
impl StreamHandle {
    /// Stops the stream; the listener then gets `on_error(Cancelled)` unless it already
    /// ended. Calling it again, or after the end, does nothing.
    pub fn cancel(&self) {
        self.cancel.send_replace(true);
    }

    /// Whether the stream is over: the listener got its last call and was released. Wait for
    /// it before the process (or a Python interpreter) shuts down.
    pub fn is_finished(&self) -> bool {
        self.cancel.is_closed()
    }
}

/// Receives every request record (implemented by the caller). Called on the gateway's
/// telemetry thread, one record at a time; return quickly (a slow listener makes the
/// gateway drop records, never slow requests). An exception escaping it is counted in
/// `switchpoint_telemetry_observer_panics_total` and never reaches a request.
#[uniffi::export(with_foreign)]
pub trait RecordListener: Send + Sync {
    /// One finished request as JSON (id, model, route, provider, attempts, tokens, cost,
    /// cache, caller, tags, status; never a secret).
    fn on_record(&self, record_json: String);
}

/// A record listener's registration; `remove()` stops it.
#[derive(Debug, uniffi::Object)]
pub struct RecordSubscription {
    gw: switchpoint_core::Gateway,
    observers: Arc<HostObservers>,
    id: u64,
}

#[uniffi::export]
impl RecordSubscription {
    /// Stops delivery: when this returns the listener is not running and is never called
    /// again (from inside the listener itself, that call finishes). Calling it again does
    /// nothing.
    pub fn remove(&self) {
        self.observers.remove(&self.gw, self.id);
    }
}

/// A guardrail written in the host language (implemented by the caller). `check` sees each
/// event as JSON (`{"stage": "input"|"output", "messages" (input), "content" (output),
/// "model", "user", "team", "key_id", "tier", "tags", "metadata"}`) and answers a verdict as
/// JSON, or None to allow: `true`/`null` allow, `false` denies, `{"action": "deny", "reason":
/// ...}`, `{"action": "rewrite", "messages": [...]}` (input) or `{"action": "rewrite",
/// "content": ...}` (output). Called on one of the library's blocking threads, possibly on
/// several at once. An exception it throws fails the request with `Internal`, code
/// `guardrail_hook_failed`, and the exception's text as the message; a `SwitchpointError`
/// it throws fails the request with that error.
#[uniffi::export(with_foreign)]
pub trait GuardrailHook: Send + Sync {
    /// Decides on one event.
    fn check(&self, event_json: String) -> Result<Option<String>, SwitchpointError>;
}

impl From<uniffi::UnexpectedUniFFICallbackError> for SwitchpointError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        hook_failed(e.reason).into()
    }
}

/// Asks a foreign guardrail about one event and reads its JSON answer.
fn ask_foreign(hook: &dyn GuardrailHook, event_json: &str) -> Result<serde_json::Value, Error> {
    match hook.check(event_json.to_owned()) {
        Ok(None) => Ok(serde_json::Value::Null),
        Ok(Some(text)) => serde_json::from_str(&text).map_err(|e| {
            invalid_answer(format!(
                "a guardrail hook answered text that is not JSON ({e})"
            ))
        }),
        Err(e) => Err(e.into_core()),
    }
}

/// One row of a usage query; money as exact decimal strings ("0.00012").
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UsageRow {
    /// The user, team, model... of this row; None for the total row and requests without one.
    pub group: Option<String>,
    pub requests: u64,
    pub errors: u64,
    /// Requests answered from the cache (exact, semantic or coalesced).
    pub cache_hits: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost_usd: String,
    /// What cache hits saved.
    pub saved_usd: String,
}

impl From<switchpoint_core::telemetry::UsageRow> for UsageRow {
    fn from(r: switchpoint_core::telemetry::UsageRow) -> Self {
        UsageRow {
            group: r.group,
            requests: r.requests,
            errors: r.errors,
            cache_hits: r.cache_hits,
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            cached_tokens: r.cached_tokens,
            reasoning_tokens: r.reasoning_tokens,
            cost_usd: r.cost_usd.to_string(),
            saved_usd: r.saved_usd.to_string(),
        }
    }
}

/// A configured gateway; share one per process (it is thread-safe and pools connections).
#[derive(Debug, uniffi::Object)]
pub struct Gateway {
    gw: switchpoint_core::Gateway,
    /// Record listeners added through this object (removed when it is dropped).
    observers: Arc<HostObservers>,
    /// Guardrail hooks added through this object (removed when it is dropped).
    hooks: HostHooks,
}

impl Gateway {
    fn wrap(gw: switchpoint_core::Gateway) -> Arc<Gateway> {
        Arc::new(Gateway {
            gw,
            observers: Arc::default(),
            hooks: HostHooks::default(),
        })
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.observers.remove_all(&self.gw);
        self.hooks.remove_all(&self.gw);
    }
}

#[uniffi::export]
impl Gateway {
    /// A gateway from a YAML or JSON config file.
    #[uniffi::constructor]
    pub fn from_file(path: String) -> Result<Arc<Gateway>, SwitchpointError> {
        Ok(Gateway::wrap(switchpoint_core::Gateway::from_file(path)?))
    }

    /// A gateway from YAML or JSON config text.
    #[uniffi::constructor]
    pub fn from_text(text: String) -> Result<Arc<Gateway>, SwitchpointError> {
        Ok(Gateway::wrap(switchpoint_core::Gateway::from_text(&text)?))
    }

    /// A gateway with no config: `provider/model` names, keys from the environment.
    #[uniffi::constructor]
    pub fn from_env() -> Result<Arc<Gateway>, SwitchpointError> {
        Ok(Gateway::wrap(switchpoint_core::Gateway::from_env()?))
    }

    /// One chat completion: request JSON (and optional context JSON) in, response JSON out
    /// (OpenAI wire shape plus the gateway's facts under "switchpoint").
    pub async fn chat(
        &self,
        request_json: String,
        context_json: Option<String>,
    ) -> Result<String, SwitchpointError> {
        let req: ChatRequest = from_json_str(&request_json)?;
        let ctx = context(context_json)?;
        let gw = self.gw.clone();
        on_runtime(async move { json(&gw.chat(&req, &ctx).await?) }).await
    }

    /// One OpenAI Responses API call: Responses request JSON (and optional context JSON) in,
    /// Response JSON out (plus the gateway's facts under "switchpoint"). Providers with a
    /// native Responses API get it whole, the others its chat translation.
    pub async fn responses(
        &self,
        request_json: String,
        context_json: Option<String>,
    ) -> Result<String, SwitchpointError> {
        let req: ResponsesRequest = from_json_str(&request_json)?;
        let ctx = context(context_json)?;
        let gw = self.gw.clone();
        on_runtime(async move { json(&gw.responses(&req, &ctx).await?) }).await
    }

    /// Embeddings: request JSON in, response JSON out.
    pub async fn embed(
        &self,
        request_json: String,
        context_json: Option<String>,
    ) -> Result<String, SwitchpointError> {
        let req: EmbeddingRequest = from_json_str(&request_json)?;
        let ctx = context(context_json)?;
        let gw = self.gw.clone();
        on_runtime(async move { json(&gw.embed(&req, &ctx).await?) }).await
    }

    /// The metrics in the Prometheus text exposition format. Blocks (at most 1 s) for
    /// records still queued, so every call that already returned is counted.
    pub fn metrics_text(&self) -> String {
        self.gw.metrics_text()
    }

    /// Usage since `since_unix_seconds` (0 for everything kept), grouped by `group_by`
    /// ("total" when None; "user", "team", "model", "route", "provider", "tag", "key"),
    /// most expensive first. A bad `group_by` is `BadRequest` with param "group_by".
    /// Blocks (at most 1 s) for records still queued.
    pub fn usage(
        &self,
        since_unix_seconds: f64,
        group_by: Option<String>,
    ) -> Result<Vec<UsageRow>, SwitchpointError> {
        let group_by = group_by
            .as_deref()
            .map_or(Ok(GroupBy::Total), GroupBy::from_param)?;
        let since = since_param(since_unix_seconds)?;
        Ok(self
            .gw
            .usage(since, group_by)
            .into_iter()
            .map(UsageRow::from)
            .collect())
    }

    /// Calls `listener` with every request that finishes from now on, until the returned
    /// subscription's `remove()` (or until this gateway object is dropped).
    pub fn on_record(&self, listener: Arc<dyn RecordListener>) -> Arc<RecordSubscription> {
        let observer = Gated::new(move |json: &str| listener.on_record(json.to_owned()));
        let id = self.observers.add(&self.gw, observer);
        Arc::new(RecordSubscription {
            gw: self.gw.clone(),
            observers: self.observers.clone(),
            id,
        })
    }

    /// Blocks until every record of the calls that already returned reached every observer
    /// and the observers flushed; false after `timeout_seconds`, and at once when called
    /// from inside a record listener (it would wait for itself).
    pub fn flush_telemetry(&self, timeout_seconds: f64) -> bool {
        if in_record_callback() {
            return false;
        }
        let timeout = Duration::try_from_secs_f64(timeout_seconds).unwrap_or_default();
        self.gw.flush_telemetry(timeout)
    }

    /// Issues a virtual key: `spec_json` is None (a generated key, no restrictions) or the
    /// key's settings as JSON (`key`, `name`, `user`, `team`, `tier`, `models`, `routes`,
    /// `budgets`, `limits`, `expires_at`, `metadata`); `actor` (None: "api") goes to the
    /// audit log. Answers the created key as JSON, the only time its value (`key`) is shown.
    #[uniffi::method(default(spec_json = None, actor = None))]
    pub async fn create_key(
        &self,
        spec_json: Option<String>,
        actor: Option<String>,
    ) -> Result<String, SwitchpointError> {
        let spec: KeySpec = spec_json
            .as_deref()
            .map(from_json_str)
            .transpose()?
            .unwrap_or_default();
        let actor = actor.unwrap_or_else(|| DEFAULT_ACTOR.to_string());
        let gw = self.gw.clone();
        on_runtime(async move { json(&gw.create_key(spec, &actor).await?) }).await
    }

    /// Every virtual key (config and runtime ones, revoked included) as a JSON array of key
    /// objects; never a key's value.
    pub async fn list_keys(&self) -> Result<String, SwitchpointError> {
        let gw = self.gw.clone();
        on_runtime(async move { json(&gw.list_keys().await?) }).await
    }

    /// One virtual key by id as JSON; an unknown id is `NotFound`.
    pub async fn get_key(&self, id: String) -> Result<String, SwitchpointError> {
        let gw = self.gw.clone();
        on_runtime(async move { json(&gw.get_key(&id).await?) }).await
    }

    /// Changes a runtime key's settings with a JSON merge patch (fields given replace,
    /// `null` removes); answers the updated key as JSON.
    #[uniffi::method(default(actor = None))]
    pub async fn update_key(
        &self,
        id: String,
        patch_json: String,
        actor: Option<String>,
    ) -> Result<String, SwitchpointError> {
        let patch: serde_json::Value = from_json_str(&patch_json)?;
        let actor = actor.unwrap_or_else(|| DEFAULT_ACTOR.to_string());
        let gw = self.gw.clone();
        on_runtime(async move { json(&gw.update_key(&id, patch, &actor).await?) }).await
    }

    /// Revokes a runtime key: every gateway sharing the state refuses it from now on
    /// (`Auth`, code `key_revoked`). Answers the revoked key as JSON.
    #[uniffi::method(default(actor = None))]
    pub async fn revoke_key(
        &self,
        id: String,
        actor: Option<String>,
    ) -> Result<String, SwitchpointError> {
        let actor = actor.unwrap_or_else(|| DEFAULT_ACTOR.to_string());
        let gw = self.gw.clone();
        on_runtime(async move { json(&gw.revoke_key(&id, &actor).await?) }).await
    }

    /// The administrative changes since `since_unix_seconds` (0: all kept), oldest first, as
    /// a JSON array of `{at_ms, actor, action, target, details}`.
    #[uniffi::method(default(since_unix_seconds = 0.0))]
    pub async fn audit(&self, since_unix_seconds: f64) -> Result<String, SwitchpointError> {
        let since = since_param(since_unix_seconds)?;
        let gw = self.gw.clone();
        on_runtime(async move { json(&gw.audit(since).await?) }).await
    }

    /// Swaps in a new configuration (YAML or JSON text) atomically: calls in flight finish
    /// on the old one, none fails; counters, runtime keys, listeners and guardrails stay. An
    /// invalid config is `Config` and the old one stays. `actor` (None: "api") goes to the
    /// audit log.
    #[uniffi::method(default(actor = None))]
    pub fn reload(
        &self,
        config_text: String,
        actor: Option<String>,
    ) -> Result<(), SwitchpointError> {
        let rt = runtime();
        let _enter = rt.enter();
        self.gw
            .reload_text(&config_text, actor.as_deref().unwrap_or(DEFAULT_ACTOR))?;
        Ok(())
    }

    /// Adds a guardrail hook (after those added before; it survives `reload`); returns its id
    /// for `remove_guardrail`. It sees every request's messages and every non-streamed
    /// answer's text (see [`GuardrailHook`]).
    pub fn add_guardrail(&self, hook: Arc<dyn GuardrailHook>) -> u64 {
        let host = HostHook::new(move |event: &str| ask_foreign(hook.as_ref(), event));
        self.hooks.add(&self.gw, host)
    }

    /// Removes a guardrail hook: when this returns it is not running and is never called
    /// again (from inside the hook itself, that call finishes). False for an unknown id.
    pub fn remove_guardrail(&self, id: u64) -> bool {
        self.hooks.remove(&self.gw, id)
    }

    /// Starts a streamed chat completion and returns at once. Chunks go to `listener`, which
    /// then gets exactly one of `on_done` or `on_error`. A bad request or context is raised
    /// here instead, and the listener is never called.
    pub fn chat_stream(
        &self,
        request_json: String,
        context_json: Option<String>,
        listener: Arc<dyn ChunkListener>,
    ) -> Result<Arc<StreamHandle>, SwitchpointError> {
        let req: ChatRequest = from_json_str(&request_json)?;
        let ctx = context(context_json)?;
        let gw = self.gw.clone();
        Ok(start_stream(
            async move { gw.chat_stream(&req, &ctx).await },
            listener,
        ))
    }

    /// Starts a streamed Responses API call and returns at once. Each event (JSON with its
    /// `type`: `response.created`, `response.output_text.delta`, ..., `response.completed`)
    /// goes to `listener.on_chunk`; then exactly one of `on_done` or `on_error` (a failure
    /// after the start delivers `response.failed` first). A bad request or context is
    /// raised here instead, and the listener is never called.
    pub fn responses_stream(
        &self,
        request_json: String,
        context_json: Option<String>,
        listener: Arc<dyn ChunkListener>,
    ) -> Result<Arc<StreamHandle>, SwitchpointError> {
        let req: ResponsesRequest = from_json_str(&request_json)?;
        let ctx = context(context_json)?;
        let gw = self.gw.clone();
        Ok(start_stream(
            async move { gw.responses_stream(&req, &ctx).await },
            listener,
        ))
    }
}

/// A core stream the listener can be fed from: its items serialize to the wire JSON.
trait Streamed: futures_util::Stream<Item = Result<Self::Json, Error>> + Unpin + Send {
    type Json: serde::Serialize;
    fn facts(&self) -> &Facts;
}

impl Streamed for ChatStream {
    type Json = switchpoint_core::api::ChatChunk;
    fn facts(&self) -> &Facts {
        ChatStream::facts(self)
    }
}

impl Streamed for ResponseStream {
    type Json = switchpoint_core::api::responses::ResponseStreamEvent;
    fn facts(&self) -> &Facts {
        ResponseStream::facts(self)
    }
}

/// Runs the stream `open` opens on the runtime, feeding `listener`; returns the handle that
/// cancels it.
fn start_stream<S: Streamed + 'static>(
    open: impl std::future::Future<Output = Result<S, Error>> + Send + 'static,
    listener: Arc<dyn ChunkListener>,
) -> Arc<StreamHandle> {
    let (tx, rx) = watch::channel(false);
    runtime().spawn(async move {
        let outcome = AssertUnwindSafe(pump(open, listener.as_ref(), rx.clone()))
            .catch_unwind()
            .await;
        match outcome {
            Ok(Ok(facts)) => listener.on_done(facts),
            Ok(Err(e)) => listener.on_error(e),
            Err(payload) => listener.on_error(internal(panic_message(payload.as_ref()))),
        }
        // Release the foreign listener first, then report the stream finished: a caller
        // that waits for `is_finished()` knows the library holds nothing of its own.
        drop(listener);
        drop(rx);
    });
    Arc::new(StreamHandle { cancel: tx })
}

/// Moves items from the core's stream to the listener until the end, an error or a cancel.
async fn pump<S: Streamed>(
    open: impl std::future::Future<Output = Result<S, Error>>,
    listener: &dyn ChunkListener,
    mut cancel: watch::Receiver<bool>,
) -> Result<String, SwitchpointError> {
    let cancelled = || -> SwitchpointError {
        Error::new(ErrorKind::Cancelled, "the stream was cancelled").into()
    };
    let mut stream = tokio::select! {
        s = open => s?,
        _ = cancel_requested(&mut cancel) => return Err(cancelled()),
    };
    loop {
        let item = tokio::select! {
            item = stream.next() => item,
            _ = cancel_requested(&mut cancel) => return Err(cancelled()),
        };
        match item {
            None => return json(stream.facts()),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(chunk)) => {
                if !listener.on_chunk(json(&chunk)?) {
                    return Err(cancelled());
                }
            }
        }
    }
}

/// Resolves when `cancel()` was called; never when the handle was merely dropped (a caller
/// that discards the handle still wants the whole stream).
async fn cancel_requested(cancel: &mut watch::Receiver<bool>) {
    if cancel.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// A `since` given in Unix seconds, or a `bad_request` naming the parameter.
fn since_param(seconds: f64) -> Result<std::time::SystemTime, Error> {
    since_time(seconds).ok_or_else(|| {
        Error::new(
            ErrorKind::BadRequest,
            format!("since: not a finite number of seconds: {seconds}"),
        )
        .with_param("since")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_kind_and_detail() {
        let e: SwitchpointError = Error::new(ErrorKind::RateLimited, "slow")
            .with_status(429)
            .with_retry_after(Some(Duration::from_secs(2)))
            .into();
        assert_eq!(
            e,
            SwitchpointError::RateLimited {
                message: "slow".into(),
                provider: None,
                status: Some(429),
                retry_after: Some(2.0),
                param: None,
                code: None,
            }
        );
        assert_eq!(e.to_string(), "rate_limited: slow");
        for k in ErrorKind::ALL {
            assert_eq!(
                SwitchpointError::from(Error::new(k, "m")).kind(),
                k.as_str()
            );
        }
    }
}
