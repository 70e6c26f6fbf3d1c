//! The Responses API surface: `Gateway::responses` and `Gateway::responses_stream`.
//!
//! Both run the chat pipeline (admit, cache, route, execute, settle) on the request's chat
//! translation; targets with a native Responses API are sent the request itself. The
//! answer comes back as a Response object, or as Responses stream events.

use super::calls::NativeResponses;
use super::{ChatStream, Engine, RequestContext};
use crate::api::responses::{
    from_chat, to_chat, EventBuilder, ResponseObject, ResponseStreamEvent, ResponsesRequest,
    Translated,
};
use crate::api::{ChatRequest, Error, Facts, StreamOptions};
use futures_util::Stream;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Instant, SystemTime};

/// The `extra` key under which the whole Responses request joins the cache key, so
/// requests that differ only in what chat cannot express are never served each other's
/// answers. It never reaches a provider: translating targets get the clean translation.
const CACHE_MARKER: &str = "switchpoint_responses";

impl Engine {
    /// One Responses API call (the request's `stream` flag is ignored; see
    /// [`Gateway::responses_stream`]).
    pub async fn responses(
        &self,
        req: &ResponsesRequest,
        ctx: &RequestContext,
    ) -> Result<ResponseObject, Error> {
        let (keyed, native) = self.prepare("responses", req, ctx)?;
        let mut resp = self.chat_via(&keyed, ctx, Some(native)).await?;
        let facts = resp.switchpoint.take();
        let mut out = from_chat(&resp, req);
        out.switchpoint = facts;
        Ok(out)
    }

    /// A streamed Responses API call: the events OpenAI sends, in order. Errors before the
    /// first event (including every target failing) come back here; later ones end the
    /// stream with `response.failed` and then the typed error.
    pub async fn responses_stream(
        &self,
        req: &ResponsesRequest,
        ctx: &RequestContext,
    ) -> Result<ResponseStream, Error> {
        let (mut keyed, native) = self.prepare("responses_stream", req, ctx)?;
        keyed.stream = Some(true);
        keyed.stream_options = Some(StreamOptions {
            include_usage: Some(true),
            ..StreamOptions::default()
        });
        let inner = self.chat_stream_via(&keyed, ctx, Some(native)).await?;
        Ok(ResponseStream {
            inner,
            builder: EventBuilder::new(req),
            pending: VecDeque::new(),
            done: false,
        })
    }

    /// The request's chat form, or its refusal (a malformed request still leaves its
    /// record, like a refused chat request).
    fn prepare(
        &self,
        call: &'static str,
        req: &ResponsesRequest,
        ctx: &RequestContext,
    ) -> Result<(ChatRequest, Arc<NativeResponses>), Error> {
        let (started, start) = (SystemTime::now(), Instant::now());
        let prepared = prepare(req);
        self.or_refused(call, &req.model, ctx, started, start, prepared)
    }
}

/// The chat request the pipeline runs on (its cache key covering the whole Responses
/// request) and what each attempt needs.
fn prepare(req: &ResponsesRequest) -> Result<(ChatRequest, Arc<NativeResponses>), Error> {
    let Translated { chat, blocker } = to_chat(req)?;
    let mut keyed = chat.clone();
    let mut whole = req.clone();
    whole.stream = None;
    let marker = serde_json::to_value(&whole)
        .map_err(|e| Error::bad_request("", format!("cannot encode the request: {e}")))?;
    keyed.extra.insert(CACHE_MARKER.into(), marker);
    let native = NativeResponses {
        req: req.clone(),
        chat,
        blocker,
    };
    Ok((keyed, Arc::new(native)))
}

/// A streamed Response: [`ResponseStreamEvent`]s, each with its sequence number. The last
/// event (`response.completed` / `.incomplete`) carries the final Response with the
/// gateway's facts (cost, attempts, latency). Dropping it cancels the upstream request.
pub struct ResponseStream {
    inner: ChatStream,
    builder: EventBuilder,
    pending: VecDeque<Result<ResponseStreamEvent, Error>>,
    done: bool,
}

impl std::fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseStream")
            .field("inner", &self.inner)
            .field("done", &self.done)
            .finish()
    }
}

impl ResponseStream {
    /// What the gateway did; final once the stream ended.
    pub fn facts(&self) -> &Facts {
        self.inner.facts()
    }
}

impl Stream for ResponseStream {
    type Item = Result<ResponseStreamEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.pending.pop_front() {
                return Poll::Ready(Some(item));
            }
            if this.done {
                return Poll::Ready(None);
            }
            let mut out = Vec::new();
            match ready!(Pin::new(&mut this.inner).poll_next(cx)) {
                Some(Ok(chunk)) => this.builder.on_chunk(&chunk, &mut out),
                Some(Err(e)) => {
                    this.builder.fail(&e, &mut out);
                    this.done = true;
                    this.pending.extend(out.drain(..).map(Ok));
                    this.pending.push_back(Err(e));
                    continue;
                }
                None => {
                    this.builder.finish(&mut out);
                    this.done = true;
                    let facts = this.inner.facts().clone();
                    for ev in &mut out {
                        if let ResponseStreamEvent::Completed { response, .. }
                        | ResponseStreamEvent::Incomplete { response, .. } = ev
                        {
                            response.switchpoint = Some(facts.clone());
                        }
                    }
                }
            }
            this.pending.extend(out.into_iter().map(Ok));
        }
    }
}
