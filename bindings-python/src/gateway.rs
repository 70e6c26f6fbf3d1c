//! The gateway as Python sees it: blocking calls and asyncio starts over the core's one
//! `Gateway`, rebuilt with fresh connection pools the first time it is used after `fork()`.

use crate::admin::{self, ConfigSource, KeyCall};
use crate::body::Body;
use crate::completer::Completer;
use crate::errors;
use crate::guardrail::PyGuardrail;
use crate::hosted::HostedList;
use crate::observer::{on_worker_thread, PyObserver};
use crate::outcome::{guarded, to_json, Value};
use crate::stream::{NativeStream, Source};
use crate::tree::to_py;
use crate::wait;
use pyo3::prelude::*;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use switchpoint_core::api::responses::{ResponseObject, ResponsesRequest};
use switchpoint_core::api::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse};
use switchpoint_core::runtime::runtime;
use switchpoint_core::telemetry::GroupBy;
use switchpoint_core::{Error, ErrorKind, Gateway, RequestContext};

/// A configured gateway (`switchpoint._native.Gateway`).
#[pyclass(frozen, name = "Gateway", module = "switchpoint._native")]
#[derive(Debug)]
pub struct NativeGateway {
    current: Mutex<Current>,
}

#[derive(Debug)]
struct Current {
    /// The process the gateway's pools were made in.
    pid: u32,
    /// Always Some until the object is dropped (the drop moves it to the runtime).
    gateway: Option<Gateway>,
    /// Python record callbacks, added again to every rebuilt gateway (after `fork()` too).
    observers: HostedList<PyObserver>,
    /// Python guardrail hooks, added again to every rebuilt gateway (after `fork()` too).
    guardrails: HostedList<PyGuardrail>,
    /// The next handle `add_observer` or `add_guardrail` gives out.
    next_handle: u64,
}

impl Current {
    /// Installs a fresh gateway (new pools, new telemetry), moving the record callbacks over;
    /// returns the one it replaced.
    fn install(&mut self, fresh: Gateway) -> Option<Gateway> {
        self.observers.reattach(&fresh);
        self.guardrails.reattach(&fresh);
        self.gateway.replace(fresh)
    }

    /// The next handle `add_observer` or `add_guardrail` gives out.
    fn take_handle(&mut self) -> u64 {
        let handle = self.next_handle;
        self.next_handle += 1;
        handle
    }
}

impl NativeGateway {
    fn wrap(gateway: Result<Gateway, Error>, py: Python<'_>) -> PyResult<Self> {
        match gateway {
            Ok(gateway) => Ok(NativeGateway {
                current: Mutex::new(Current {
                    pid: switchpoint_core::runtime::process_id(),
                    gateway: Some(gateway),
                    observers: HostedList::default(),
                    guardrails: HostedList::default(),
                    next_handle: 1,
                }),
            }),
            Err(e) => Err(errors::to_pyerr(py, &e)),
        }
    }

    /// The gateway for this process: in a forked child, a rebuilt one (the parent's pooled
    /// connections and runtime are not usable there).
    fn gateway(&self, py: Python<'_>) -> PyResult<Gateway> {
        // The lock is released before any Python code runs (building an exception), so a
        // thread waiting for it never holds the GIL another needs.
        let current = self.current_gateway();
        current.map_err(|e| errors::to_pyerr(py, &e))
    }

    fn current_gateway(&self) -> Result<Gateway, Error> {
        self.with_current(|_, gw| gw.clone())
    }

    /// Runs `f` on the locked state and this process's gateway (rebuilt first in a forked
    /// child). No Python code may run inside `f`.
    fn with_current<R>(&self, f: impl FnOnce(&mut Current, &Gateway) -> R) -> Result<R, Error> {
        let pid = switchpoint_core::runtime::process_id();
        let mut cur = match self.current.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let Some(gateway) = cur.gateway.clone() else {
            return Err(Error::new(
                ErrorKind::Internal,
                "the gateway was already dropped",
            ));
        };
        if cur.pid == pid {
            return Ok(f(&mut cur, &gateway));
        }
        let fresh = gateway.rebuild()?;
        // The parent's pools hold the parent's sockets and runtime: leak, never drop.
        std::mem::forget(cur.install(fresh.clone()));
        std::mem::forget(gateway);
        cur.pid = pid;
        Ok(f(&mut cur, &fresh))
    }

    /// Runs `work` to completion while this thread waits with the GIL released.
    ///
    /// Work that needs no I/O (a cache hit, a request the core rejects) finishes in its first
    /// poll, so that poll happens right here, in the runtime's context: no thread hand-off.
    /// Anything still pending then moves to the runtime (the next poll there registers the
    /// runtime's waker), and this thread waits for it in signal-checking slices.
    fn block<T: Send + 'static>(
        &self,
        py: Python<'_>,
        work: impl Future<Output = Result<T, Error>> + Send + 'static,
    ) -> PyResult<T> {
        wait::ensure_outside_runtime(py)?;
        let mut fut = Box::pin(guarded(work));
        let result = match wait::poll_once(py, &mut fut) {
            Poll::Ready(result) => result,
            Poll::Pending => {
                let rt = runtime();
                wait::join(py, &rt, rt.spawn(fut))?
            }
        };
        result.map_err(|e| errors::to_pyerr(py, &e))
    }
}

/// A request and its context from what the Python layer produced; errors name the field.
fn parse<R: DeserializeOwned>(request: Body, context: &str) -> Result<(R, RequestContext), Error> {
    let req = request.parse::<R>()?;
    let ctx = if context.is_empty() {
        RequestContext::default()
    } else {
        RequestContext::from_json(context)?
    };
    Ok((req, ctx))
}

async fn chat(gw: Gateway, request: Body, context: String) -> Result<ChatResponse, Error> {
    let (req, ctx) = parse::<ChatRequest>(request, &context)?;
    gw.chat(&req, &ctx).await
}

async fn chat_stream(gw: Gateway, request: Body, context: String) -> Result<Source, Error> {
    let (req, ctx) = parse::<ChatRequest>(request, &context)?;
    gw.chat_stream(&req, &ctx).await.map(Source::Chat)
}

async fn responses(gw: Gateway, request: Body, context: String) -> Result<ResponseObject, Error> {
    let (req, ctx) = parse::<ResponsesRequest>(request, &context)?;
    gw.responses(&req, &ctx).await
}

async fn responses_stream(gw: Gateway, request: Body, context: String) -> Result<Source, Error> {
    let (req, ctx) = parse::<ResponsesRequest>(request, &context)?;
    gw.responses_stream(&req, &ctx)
        .await
        .map(|s| Source::Responses(Box::new(s)))
}

async fn embed(gw: Gateway, request: Body, context: String) -> Result<EmbeddingResponse, Error> {
    let (req, ctx) = parse::<EmbeddingRequest>(request, &context)?;
    gw.embed(&req, &ctx).await
}

/// `since` in unix seconds (None: everything) as a wall-clock time; None when it is later
/// than any time the clock can hold (so no request can match).
fn since_time(since: Option<f64>) -> Result<Option<SystemTime>, Error> {
    let Some(secs) = since else {
        return Ok(Some(UNIX_EPOCH));
    };
    if secs.is_nan() {
        return Err(Error::new(
            ErrorKind::BadRequest,
            "since must be a datetime, a timedelta or unix seconds, not NaN",
        )
        .with_param("since"));
    }
    if secs <= 0.0 {
        return Ok(Some(UNIX_EPOCH));
    }
    Ok(Duration::try_from_secs_f64(secs)
        .ok()
        .and_then(|d| UNIX_EPOCH.checked_add(d)))
}

/// A flush timeout in seconds, checked.
fn timeout_of(seconds: f64) -> Result<Duration, Error> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        Error::new(
            ErrorKind::BadRequest,
            format!("timeout must be a non-negative number of seconds, got {seconds}"),
        )
        .with_param("timeout")
    })
}

/// Waits until every record so far reached every observer and they flushed, in short
/// rounds (each a flush of its own: one that succeeds covers everything before it).
fn flush_rounds(gw: &Gateway, deadline: Instant, slice: Duration) -> Option<bool> {
    let left = deadline.saturating_duration_since(Instant::now());
    if gw.flush_telemetry(left.min(slice)) {
        return Some(true);
    }
    (Instant::now() >= deadline).then_some(false)
}

#[pymethods]
impl NativeGateway {
    /// A gateway from a YAML or JSON config file.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let gw = py.detach(|| Gateway::from_file(path));
        Self::wrap(gw, py)
    }

    /// A gateway from YAML or JSON config text.
    #[staticmethod]
    fn from_text(py: Python<'_>, text: &str) -> PyResult<Self> {
        Self::wrap(Gateway::from_text(text), py)
    }

    /// A gateway from a config object the Python layer serialized to JSON.
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        let gw = serde_json::from_str(text)
            .map_err(|e| Error::config("", format!("config is not a JSON object: {e}")))
            .and_then(Gateway::from_value);
        Self::wrap(gw, py)
    }

    /// A gateway with no config: `provider/model` names, keys from the environment.
    #[staticmethod]
    fn from_env(py: Python<'_>) -> PyResult<Self> {
        Self::wrap(Gateway::from_env(), py)
    }

    /// Replaces the connection pools with fresh ones (done automatically after `fork()`).
    /// Record callbacks move to the fresh gateway; metrics and usage start from zero.
    fn rebuild(&self, py: Python<'_>) -> PyResult<()> {
        let old = self
            .with_current(|cur, gw| gw.rebuild().map(|fresh| cur.install(fresh)))
            .and_then(|r| r)
            .map_err(|e| errors::to_pyerr(py, &e))?;
        if let Some(old) = old {
            runtime().spawn(async move { drop(old) });
        }
        Ok(())
    }

    /// Every target's state (healthy, cooling down until when, latency, error rate, in
    /// flight) as JSON: plain data, no I/O.
    fn health(&self, py: Python<'_>) -> PyResult<String> {
        let gw = self
            .current_gateway()
            .map_err(|e| errors::to_pyerr(py, &e))?;
        serde_json::to_string(&gw.health()).map_err(|e| {
            errors::to_pyerr(
                py,
                &Error::new(switchpoint_core::ErrorKind::Internal, e.to_string()),
            )
        })
    }

    /// Prometheus text exposition of the gateway's metrics; waits (GIL released, up to a
    /// second) for records still queued, so requests that returned are counted.
    fn metrics_text(&self, py: Python<'_>) -> PyResult<String> {
        let gw = self.gateway(py)?;
        Ok(py.detach(|| gw.metrics_text()))
    }

    /// Usage rows since `since` (unix seconds; None: everything), grouped, as JSON.
    #[pyo3(signature = (since, group_by))]
    fn usage(&self, py: Python<'_>, since: Option<f64>, group_by: &str) -> PyResult<String> {
        let query = GroupBy::from_param(group_by).and_then(|g| Ok((since_time(since)?, g)));
        let (since, group_by) = query.map_err(|e| errors::to_pyerr(py, &e))?;
        let gw = self.gateway(py)?;
        let rows = match since {
            Some(since) => py.detach(|| gw.usage(since, group_by)),
            None => Vec::new(),
        };
        to_json(&rows).map_err(|e| errors::to_pyerr(py, &e))
    }

    /// Calls `callback(record)` with every request record from now on (on the telemetry
    /// thread); returns the handle `remove_observer` takes.
    fn add_observer(&self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<u64> {
        let observer = Arc::new(PyObserver::new(callback));
        self.with_current(|cur, gw| {
            let handle = cur.take_handle();
            cur.observers.add(gw, handle, observer);
            handle
        })
        .map_err(|e| errors::to_pyerr(py, &e))
    }

    /// Stops a callback; no call to it starts after this returns. False if it was already
    /// removed.
    fn remove_observer(&self, py: Python<'_>, handle: u64) -> PyResult<bool> {
        self.with_current(|cur, gw| cur.observers.remove(gw, handle))
            .map_err(|e| errors::to_pyerr(py, &e))
    }

    /// Calls `callback(event)` (the Python layer's wrapper of the user's hook) for every
    /// input and output event from now on; returns the handle `remove_guardrail` takes.
    fn add_guardrail(&self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<u64> {
        let hook = Arc::new(PyGuardrail::new(callback));
        self.with_current(|cur, gw| {
            let handle = cur.take_handle();
            cur.guardrails.add(gw, handle, hook);
            handle
        })
        .map_err(|e| errors::to_pyerr(py, &e))
    }

    /// Stops a hook; no call to it starts after this returns. False if it was already
    /// removed.
    fn remove_guardrail(&self, py: Python<'_>, handle: u64) -> PyResult<bool> {
        self.with_current(|cur, gw| cur.guardrails.remove(gw, handle))
            .map_err(|e| errors::to_pyerr(py, &e))
    }

    /// Waits (GIL released, answering Ctrl-C) until every record so far reached every
    /// observer and they flushed; False on timeout. Inside a record callback it returns False
    /// at once: the telemetry thread cannot wait for itself.
    fn flush_telemetry(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let timeout = timeout_of(timeout).map_err(|e| errors::to_pyerr(py, &e))?;
        let gw = self.gateway(py)?;
        if on_worker_thread() {
            return Ok(false);
        }
        let deadline = Instant::now() + timeout;
        wait::in_slices(py, |slice| flush_rounds(&gw, deadline, slice))
    }

    /// `flush_telemetry` for asyncio: the wait runs on the runtime's blocking threads.
    fn flush_telemetry_async<'py>(
        &self,
        py: Python<'py>,
        completer: &Completer,
        timeout: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let timeout = timeout_of(timeout).map_err(|e| errors::to_pyerr(py, &e))?;
        let gw = self.gateway(py)?;
        completer.start(py, async move {
            let flushed = tokio::task::spawn_blocking(move || gw.flush_telemetry(timeout))
                .await
                .map_err(|e| Error::new(ErrorKind::Internal, format!("flush failed: {e}")))?;
            Ok(Value::Json(flushed.to_string()))
        })
    }

    /// One chat completion, blocking: request and context JSON in, the response as a dict.
    fn chat<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'_, PyAny>,
        context: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let gw = self.gateway(py)?;
        let request = Body::from_py(request)?;
        let resp = self.block(py, chat(gw, request, context))?;
        to_py(py, &resp)
    }

    /// A streamed chat completion, blocking until the first bytes are in.
    fn chat_stream(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        context: String,
    ) -> PyResult<NativeStream> {
        let gw = self.gateway(py)?;
        let request = Body::from_py(request)?;
        self.block(py, chat_stream(gw, request, context))
            .map(NativeStream::new)
    }

    /// One Responses API call, blocking: request and context JSON in, the Response as a dict.
    fn responses<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'_, PyAny>,
        context: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let gw = self.gateway(py)?;
        let request = Body::from_py(request)?;
        let resp = self.block(py, responses(gw, request, context))?;
        to_py(py, &resp)
    }

    /// A streamed Responses API call, blocking until the first bytes are in; yields events.
    fn responses_stream(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        context: String,
    ) -> PyResult<NativeStream> {
        let gw = self.gateway(py)?;
        let request = Body::from_py(request)?;
        self.block(py, responses_stream(gw, request, context))
            .map(NativeStream::new)
    }

    /// Embeddings, blocking: the response as a dict.
    fn embed<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'_, PyAny>,
        context: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let gw = self.gateway(py)?;
        let request = Body::from_py(request)?;
        let resp = self.block(py, embed(gw, request, context))?;
        to_py(py, &resp)
    }

    /// Starts a chat completion for asyncio: its outcome `(tag, value)` when it finished in
    /// its first poll (a cache hit), else the task to await.
    fn chat_async<'py>(
        &self,
        py: Python<'py>,
        completer: &Completer,
        request: &Bound<'_, PyAny>,
        context: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let gw = self.gateway(py)?;
        let request = Body::from_py(request)?;
        completer.start(py, async move {
            chat(gw, request, context)
                .await
                .map(|r| Value::Chat(Box::new(r)))
        })
    }

    /// Starts a streamed chat completion for asyncio.
    fn chat_stream_async<'py>(
        &self,
        py: Python<'py>,
        completer: &Completer,
        request: &Bound<'_, PyAny>,
        context: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let gw = self.gateway(py)?;
        let request = Body::from_py(request)?;
        completer.start(py, async move {
            chat_stream(gw, request, context)
                .await
                .map(|s| Value::Stream(Box::new(s)))
        })
    }

    /// Starts a Responses API call for asyncio.
    fn responses_async<'py>(
        &self,
        py: Python<'py>,
        completer: &Completer,
        request: &Bound<'_, PyAny>,
        context: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let gw = self.gateway(py)?;
        let request = Body::from_py(request)?;
        completer.start(py, async move {
            responses(gw, request, context)
                .await
                .map(|r| Value::Responses(Box::new(r)))
        })
    }

    /// Starts a streamed Responses API call for asyncio.
    fn responses_stream_async<'py>(
        &self,
        py: Python<'py>,
        completer: &Completer,
        request: &Bound<'_, PyAny>,
        context: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let gw = self.gateway(py)?;
        let request = Body::from_py(request)?;
        completer.start(py, async move {
            responses_stream(gw, request, context)
                .await
                .map(|s| Value::Stream(Box::new(s)))
        })
    }

    /// Starts an embeddings call for asyncio.
    fn embed_async<'py>(
        &self,
        py: Python<'py>,
        completer: &Completer,
        request: &Bound<'_, PyAny>,
        context: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let gw = self.gateway(py)?;
        let request = Body::from_py(request)?;
        completer.start(py, async move {
            embed(gw, request, context)
                .await
                .map(|r| Value::Embeddings(Box::new(r)))
        })
    }

    /// A virtual-key call (`create`, `list`, `get`, `update`, `revoke`), blocking: the key
    /// (or keys) as dicts.
    #[pyo3(signature = (op, id, body, actor))]
    fn keys<'py>(
        &self,
        py: Python<'py>,
        op: &str,
        id: Option<String>,
        body: Option<&Bound<'_, PyAny>>,
        actor: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let gw = self.gateway(py)?;
        let call = KeyCall::new(op, id, body, actor)?;
        let answer = self.block(py, call.run(gw))?;
        to_py(py, &answer)
    }

    /// Starts a virtual-key call for asyncio.
    #[pyo3(signature = (completer, op, id, body, actor))]
    fn keys_async<'py>(
        &self,
        py: Python<'py>,
        completer: &Completer,
        op: &str,
        id: Option<String>,
        body: Option<&Bound<'_, PyAny>>,
        actor: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let gw = self.gateway(py)?;
        let call = KeyCall::new(op, id, body, actor)?;
        completer.start(py, async move { call.run(gw).await.map(Value::Tree) })
    }

    /// The audit records since `since` (unix seconds; None: everything), oldest first,
    /// blocking.
    #[pyo3(signature = (since))]
    fn audit<'py>(&self, py: Python<'py>, since: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let since = since_time(since).map_err(|e| errors::to_pyerr(py, &e))?;
        let gw = self.gateway(py)?;
        let records = self.block(py, admin::audit(gw, since))?;
        to_py(py, &records)
    }

    /// Starts an audit query for asyncio.
    #[pyo3(signature = (completer, since))]
    fn audit_async<'py>(
        &self,
        py: Python<'py>,
        completer: &Completer,
        since: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let since = since_time(since).map_err(|e| errors::to_pyerr(py, &e))?;
        let gw = self.gateway(py)?;
        completer.start(
            py,
            async move { admin::audit(gw, since).await.map(Value::Tree) },
        )
    }

    /// Swaps in a new configuration (a path when `is_file`, else YAML/JSON text or a config
    /// dict) with the GIL released; requests in flight finish on the old one.
    fn reload(
        &self,
        py: Python<'_>,
        config: &Bound<'_, PyAny>,
        is_file: bool,
        actor: String,
    ) -> PyResult<()> {
        let source = ConfigSource::new(config, is_file)?;
        let gw = self.gateway(py)?;
        py.detach(|| source.reload(&gw, &actor))
            .map_err(|e| errors::to_pyerr(py, &e))
    }

    /// `reload` for asyncio: the swap runs on the runtime's blocking threads (connecting to a
    /// new state backend may take a while).
    fn reload_async<'py>(
        &self,
        py: Python<'py>,
        completer: &Completer,
        config: &Bound<'_, PyAny>,
        is_file: bool,
        actor: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let source = ConfigSource::new(config, is_file)?;
        let gw = self.gateway(py)?;
        completer.start(py, async move {
            tokio::task::spawn_blocking(move || source.reload(&gw, &actor))
                .await
                .map_err(|e| Error::new(ErrorKind::Internal, format!("reload failed: {e}")))??;
            Ok(Value::Tree(serde_json::Value::Null))
        })
    }
}

impl Drop for NativeGateway {
    fn drop(&mut self) {
        let cur = match self.current.get_mut() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        let Some(gw) = cur.gateway.take() else {
            return;
        };
        if cur.pid != switchpoint_core::runtime::process_id() {
            std::mem::forget(gw);
            return;
        }
        // Connection pools close on the runtime, not in a finalizer holding the GIL.
        runtime().spawn(async move { drop(gw) });
    }
}
