//! The gateway class: built from config, answering chat, stream, Responses and embeddings
//! calls.

use crate::cancel::CancelToken;
use crate::stream::{NativeStream, Source};
use crate::task::{guard_sync, now_or_spawn, spawn_promise, throw, NowOrLater};
use napi::bindgen_prelude::{Env, Object, Result};
use napi_derive::napi;
use switchpoint_core::api::responses::ResponsesRequest;
use switchpoint_core::api::{from_json_str, ChatRequest, EmbeddingRequest};
use switchpoint_core::{Error, RequestContext};

/// One gateway: config parsed and routes resolved once; cheap to share across calls.
#[napi]
#[derive(Debug)]
pub struct Gateway {
    inner: switchpoint_core::Gateway,
}

#[napi]
impl Gateway {
    /// A gateway from a YAML or JSON config file.
    #[napi(factory)]
    pub fn from_file(env: &Env, path: String) -> Result<Gateway> {
        guard_sync(env, || {
            build(env, switchpoint_core::Gateway::from_file(&path))
        })
    }

    /// A gateway from YAML or JSON config text.
    #[napi(factory)]
    pub fn from_text(env: &Env, text: String) -> Result<Gateway> {
        guard_sync(env, || {
            build(env, switchpoint_core::Gateway::from_text(&text))
        })
    }

    /// A gateway from a config object the wrapper serialized with `JSON.stringify`.
    #[napi(factory)]
    pub fn from_json(env: &Env, json: String) -> Result<Gateway> {
        guard_sync(env, || {
            let value = serde_json::from_str(&json).map_err(|e| {
                throw(
                    env,
                    Error::config("", format!("config is not a JSON object: {e}")),
                )
            })?;
            build(env, switchpoint_core::Gateway::from_value(value))
        })
    }

    /// A gateway with no config: `provider/model` names, keys from the environment.
    #[napi(factory)]
    pub fn from_env(env: &Env) -> Result<Gateway> {
        guard_sync(env, || build(env, switchpoint_core::Gateway::from_env()))
    }

    /// Every target's state as JSON text: healthy, cooling down (until when) or half-open,
    /// latency, error rate, in flight. Plain data: never blocks the event loop.
    #[napi]
    pub fn health(&self, env: &Env) -> Result<String> {
        guard_sync(env, || {
            serde_json::to_string(&self.inner.health()).map_err(|e| {
                throw(
                    env,
                    Error::new(switchpoint_core::ErrorKind::Internal, e.to_string()),
                )
            })
        })
    }

    /// One chat completion: the response's JSON text (or the error) at once when the call
    /// needed no I/O (a cache hit), else a promise of it.
    #[napi(ts_return_type = "string | NativeError | Promise<string | NativeError>")]
    pub fn chat<'env>(
        &self,
        env: &'env Env,
        request: String,
        context: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> Result<NowOrLater<'env, String>> {
        guard_sync(env, || {
            let gw = self.inner.clone();
            now_or_spawn(env, cancel.map(CancelToken::token), async move {
                let req: ChatRequest = from_json_str(&request)?;
                let ctx = parse_context(context.as_deref())?;
                let resp = gw.chat(&req, &ctx).await?;
                to_json(&resp)
            })
        })
    }

    /// A streamed chat completion; resolves to a [`NativeStream`] once the provider answered.
    #[napi(ts_return_type = "Promise<NativeStream | NativeError>")]
    pub fn chat_stream<'env>(
        &self,
        env: &'env Env,
        request: String,
        context: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> Result<Object<'env>> {
        guard_sync(env, || {
            let gw = self.inner.clone();
            spawn_promise(env, cancel.map(CancelToken::token), async move {
                let req: ChatRequest = from_json_str(&request)?;
                let ctx = parse_context(context.as_deref())?;
                let stream = gw.chat_stream(&req, &ctx).await?;
                Ok(NativeStream::new(Source::Chat(stream)))
            })
        })
    }

    /// One Responses API call: the Response's JSON text (or the error) at once when the
    /// call needed no I/O, else a promise of it.
    #[napi(ts_return_type = "string | NativeError | Promise<string | NativeError>")]
    pub fn responses<'env>(
        &self,
        env: &'env Env,
        request: String,
        context: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> Result<NowOrLater<'env, String>> {
        guard_sync(env, || {
            let gw = self.inner.clone();
            now_or_spawn(env, cancel.map(CancelToken::token), async move {
                let req: ResponsesRequest = from_json_str(&request)?;
                let ctx = parse_context(context.as_deref())?;
                let resp = gw.responses(&req, &ctx).await?;
                to_json(&resp)
            })
        })
    }

    /// A streamed Responses API call; resolves to a [`NativeStream`] of events once the
    /// provider answered.
    #[napi(ts_return_type = "Promise<NativeStream | NativeError>")]
    pub fn responses_stream<'env>(
        &self,
        env: &'env Env,
        request: String,
        context: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> Result<Object<'env>> {
        guard_sync(env, || {
            let gw = self.inner.clone();
            spawn_promise(env, cancel.map(CancelToken::token), async move {
                let req: ResponsesRequest = from_json_str(&request)?;
                let ctx = parse_context(context.as_deref())?;
                let stream = gw.responses_stream(&req, &ctx).await?;
                Ok(NativeStream::new(Source::Responses(Box::new(stream))))
            })
        })
    }

    /// Embeddings: the response's JSON text (or the error) at once when the call needed no
    /// I/O, else a promise of it.
    #[napi(ts_return_type = "string | NativeError | Promise<string | NativeError>")]
    pub fn embed<'env>(
        &self,
        env: &'env Env,
        request: String,
        context: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> Result<NowOrLater<'env, String>> {
        guard_sync(env, || {
            let gw = self.inner.clone();
            now_or_spawn(env, cancel.map(CancelToken::token), async move {
                let req: EmbeddingRequest = from_json_str(&request)?;
                let ctx = parse_context(context.as_deref())?;
                let resp = gw.embed(&req, &ctx).await?;
                to_json(&resp)
            })
        })
    }
}

impl Gateway {
    /// The core gateway, for the exports in other modules (`telemetry`).
    pub(crate) fn core(&self) -> &switchpoint_core::Gateway {
        &self.inner
    }
}

fn build(env: &Env, gw: std::result::Result<switchpoint_core::Gateway, Error>) -> Result<Gateway> {
    gw.map(|inner| Gateway { inner }).map_err(|e| throw(env, e))
}

fn parse_context(text: Option<&str>) -> std::result::Result<RequestContext, Error> {
    match text {
        None => Ok(RequestContext::default()),
        Some(t) => RequestContext::from_json(t),
    }
}

/// Serializes an answer for the wrapper's `JSON.parse` (faster than building the object
/// property by property through N-API, and done here, off the JS thread).
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> std::result::Result<String, Error> {
    serde_json::to_string(value).map_err(|e| {
        Error::new(
            switchpoint_core::ErrorKind::Internal,
            format!("cannot serialize the answer: {e}"),
        )
    })
}
