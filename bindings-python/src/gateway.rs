//! The gateway as Python sees it: blocking calls and asyncio starts over the core's one
//! `Gateway`, rebuilt with fresh connection pools the first time it is used after `fork()`.

use crate::completer::{Completer, Task};
use crate::errors;
use crate::outcome::{guarded, to_json, Value};
use crate::stream::NativeStream;
use crate::wait;
use pyo3::prelude::*;
use serde::de::DeserializeOwned;
use std::path::PathBuf;
use std::sync::Mutex;
use switchpoint_core::api::{from_json_str, ChatRequest, EmbeddingRequest};
use switchpoint_core::runtime::runtime;
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
}

impl NativeGateway {
    fn wrap(gateway: Result<Gateway, Error>, py: Python<'_>) -> PyResult<Self> {
        match gateway {
            Ok(gateway) => Ok(NativeGateway {
                current: Mutex::new(Current {
                    pid: std::process::id(),
                    gateway: Some(gateway),
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
        let pid = std::process::id();
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
            return Ok(gateway);
        }
        let fresh = gateway.rebuild()?;
        // The parent's pools hold the parent's sockets and runtime: leak, never drop.
        std::mem::forget(cur.gateway.replace(fresh.clone()));
        std::mem::forget(gateway);
        cur.pid = pid;
        Ok(fresh)
    }

    /// Runs `work` to completion on the runtime while this thread waits with the GIL released.
    fn block<T: Send + 'static>(
        &self,
        py: Python<'_>,
        work: impl std::future::Future<Output = Result<T, Error>> + Send + 'static,
    ) -> PyResult<T> {
        let rt = runtime();
        let handle = rt.spawn(guarded(work));
        wait::join(py, &rt, handle)?.map_err(|e| errors::to_pyerr(py, &e))
    }
}

/// A request and its context from the JSON the Python layer produced; errors name the field.
fn parse<R: DeserializeOwned>(request: &str, context: &str) -> Result<(R, RequestContext), Error> {
    let req = from_json_str::<R>(request)?;
    let ctx = RequestContext::from_json(context)?;
    Ok((req, ctx))
}

async fn chat(gw: Gateway, request: String, context: String) -> Result<String, Error> {
    let (req, ctx) = parse::<ChatRequest>(&request, &context)?;
    to_json(&gw.chat(&req, &ctx).await?)
}

async fn chat_stream(
    gw: Gateway,
    request: String,
    context: String,
) -> Result<switchpoint_core::ChatStream, Error> {
    let (req, ctx) = parse::<ChatRequest>(&request, &context)?;
    gw.chat_stream(&req, &ctx).await
}

async fn embed(gw: Gateway, request: String, context: String) -> Result<String, Error> {
    let (req, ctx) = parse::<EmbeddingRequest>(&request, &context)?;
    to_json(&gw.embed(&req, &ctx).await?)
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
    fn rebuild(&self, py: Python<'_>) -> PyResult<()> {
        let fresh = self
            .current_gateway()
            .and_then(|gw| gw.rebuild())
            .map_err(|e| errors::to_pyerr(py, &e))?;
        let old = {
            let mut cur = match self.current.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            cur.gateway.replace(fresh)
        };
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

    /// One chat completion, blocking: request and context JSON in, response JSON out.
    fn chat(&self, py: Python<'_>, request: String, context: String) -> PyResult<String> {
        let gw = self.gateway(py)?;
        self.block(py, chat(gw, request, context))
    }

    /// A streamed chat completion, blocking until the first bytes are in.
    fn chat_stream(
        &self,
        py: Python<'_>,
        request: String,
        context: String,
    ) -> PyResult<NativeStream> {
        let gw = self.gateway(py)?;
        self.block(py, chat_stream(gw, request, context))
            .map(NativeStream::new)
    }

    /// Embeddings, blocking.
    fn embed(&self, py: Python<'_>, request: String, context: String) -> PyResult<String> {
        let gw = self.gateway(py)?;
        self.block(py, embed(gw, request, context))
    }

    /// Starts a chat completion for asyncio.
    fn chat_async(
        &self,
        py: Python<'_>,
        completer: &Completer,
        request: String,
        context: String,
    ) -> PyResult<Task> {
        let gw = self.gateway(py)?;
        Ok(completer.start(async move { chat(gw, request, context).await.map(Value::Json) }))
    }

    /// Starts a streamed chat completion for asyncio.
    fn chat_stream_async(
        &self,
        py: Python<'_>,
        completer: &Completer,
        request: String,
        context: String,
    ) -> PyResult<Task> {
        let gw = self.gateway(py)?;
        Ok(completer.start(async move {
            chat_stream(gw, request, context)
                .await
                .map(|s| Value::Stream(Box::new(s)))
        }))
    }

    /// Starts an embeddings call for asyncio.
    fn embed_async(
        &self,
        py: Python<'_>,
        completer: &Completer,
        request: String,
        context: String,
    ) -> PyResult<Task> {
        let gw = self.gateway(py)?;
        Ok(completer.start(async move { embed(gw, request, context).await.map(Value::Json) }))
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
        if cur.pid != std::process::id() {
            std::mem::forget(gw);
            return;
        }
        // Connection pools close on the runtime, not in a finalizer holding the GIL.
        runtime().spawn(async move { drop(gw) });
    }
}
