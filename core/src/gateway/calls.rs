//! The three upstream calls the executor tries target by target: a chat completion, the
//! opening of a stream (up to its first chunk), and embeddings. A chat call may carry a
//! Responses request (`NativeResponses`): targets with a native Responses API get it whole,
//! the others get its chat translation.

use crate::api::responses::ResponsesRequest;
use crate::api::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error,
};
use crate::providers::merge_embeddings;
use crate::providers::openai::responses::{parse_native, ResponsesStreamDecoder};
use crate::providers::HttpRequest;
use crate::resilience::{Answer, AttemptDeadlines, Call};
use crate::transport::{ChunkStream, Upstream};
use futures_util::{StreamExt, TryStreamExt};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A Responses API request riding on a chat call.
#[derive(Debug, Clone)]
pub(crate) struct NativeResponses {
    /// The request as the caller wrote it, for targets with a native Responses API.
    pub req: ResponsesRequest,
    /// Its chat translation, for the other targets.
    pub chat: ChatRequest,
    /// Why it cannot be translated (a translating target answers with this error).
    pub blocker: Option<Error>,
}

/// The HTTP request for one attempt, and whether it goes to the native Responses API.
fn build(
    up: &Upstream,
    req: &ChatRequest,
    native: Option<&NativeResponses>,
    model: &str,
    stream: bool,
) -> (Result<HttpRequest, Error>, bool) {
    let Some(n) = native else {
        return (up.adapter.chat_request(req, model, stream), false);
    };
    if up.responses_native {
        if let Some(http) = up.adapter.responses_request(&n.req, model, stream) {
            return (http, true);
        }
    }
    match &n.blocker {
        Some(b) => (Err(b.clone().with_provider(&up.name)), false),
        None => (up.adapter.chat_request(&n.chat, model, stream), false),
    }
}

/// A non-streaming chat completion.
#[derive(Debug)]
pub(crate) struct ChatCall<'a> {
    pub req: &'a ChatRequest,
    pub native: Option<&'a NativeResponses>,
}

impl Call for ChatCall<'_> {
    type Output = ChatResponse;

    fn attempt(
        &self,
        up: Arc<Upstream>,
        model: &str,
        limits: AttemptDeadlines,
    ) -> impl Future<Output = Result<Answer<ChatResponse>, Error>> + Send {
        let (http, is_native) = build(&up, self.req, self.native, model, false);
        let model = model.to_string();
        async move {
            let deadline = up.deadline(Instant::now(), left(limits.answer));
            let answer = up.send(http?, deadline).await?;
            let sent_at = answer.sent_at;
            let body = up.body(answer).await?;
            let waited = sent_at.elapsed();
            let resp = if is_native {
                parse_native(&body, &up.name)?
            } else {
                up.adapter.parse_chat(&body, &model)?
            };
            let tokens = resp.usage.as_ref().map(|u| u.total_tokens.get());
            Ok(Answer {
                output: resp,
                waited,
                tokens,
            })
        }
    }
}

/// A stream opened on one target, with its first chunk already read (so an error before
/// anything reached the caller can still fail over).
#[derive(Debug)]
pub(crate) struct Opened {
    pub chunks: ChunkStream,
    pub first: ChatChunk,
    pub sent_at: Instant,
}

/// Opening a stream: the request, the response headers and the first chunk.
#[derive(Debug)]
pub(crate) struct StreamCall<'a> {
    pub req: &'a ChatRequest,
    pub native: Option<&'a NativeResponses>,
}

impl Call for StreamCall<'_> {
    type Output = Opened;

    fn attempt(
        &self,
        up: Arc<Upstream>,
        model: &str,
        limits: AttemptDeadlines,
    ) -> impl Future<Output = Result<Answer<Opened>, Error>> + Send {
        let (http, is_native) = build(&up, self.req, self.native, model, true);
        let model = model.to_string();
        async move {
            let now = Instant::now();
            let first_by = up.deadline(now, left(limits.answer));
            let answer = up.send(http?, first_by).await?;
            let sent_at = answer.sent_at;
            let overall = up.deadline(now, left(limits.overall));
            let mut chunks = if is_native {
                let decoder = Box::new(ResponsesStreamDecoder::new(&up.name, &model));
                up.stream_with(answer, decoder, overall)
            } else {
                up.stream(answer, &model, overall)
            };
            let first = match chunks.next().await {
                Some(Ok(c)) => c,
                Some(Err(e)) => return Err(e),
                None => {
                    return Err(Error::new(
                        crate::api::ErrorKind::Connection,
                        "the stream ended before its first chunk",
                    )
                    .with_provider(&up.name))
                }
            };
            Ok(Answer {
                output: Opened {
                    chunks,
                    first,
                    sent_at,
                },
                waited: sent_at.elapsed(),
                tokens: None,
            })
        }
    }
}

/// How many of one call's embeddings requests are in flight at once, when the provider
/// needs several (one per text for Titan, one per batch for Cohere on Bedrock and Vertex).
const EMBED_FANOUT: usize = 4;

/// Embeddings: usually one request; several when the provider embeds one text or a bounded
/// batch per call, sent a few at a time under the attempt's deadline and joined in order. The
/// first failure fails the attempt (so retries and failover see one typed error).
#[derive(Debug)]
pub(crate) struct EmbedCall<'a> {
    pub req: &'a EmbeddingRequest,
}

impl Call for EmbedCall<'_> {
    type Output = EmbeddingResponse;

    fn attempt(
        &self,
        up: Arc<Upstream>,
        model: &str,
        limits: AttemptDeadlines,
    ) -> impl Future<Output = Result<Answer<EmbeddingResponse>, Error>> + Send {
        let https = up.adapter.embed_requests(self.req, model);
        let model = model.to_string();
        async move {
            let deadline = up.deadline(Instant::now(), left(limits.answer));
            let up = &up;
            let model = model.as_str();
            let parts: Vec<(EmbeddingResponse, Instant)> = futures_util::stream::iter(https?)
                .map(|http| async move {
                    let answer = up.send(http, deadline).await?;
                    let sent_at = answer.sent_at;
                    let body = up.body(answer).await?;
                    Ok::<_, Error>((up.adapter.parse_embed(&body, model)?, sent_at))
                })
                .buffered(EMBED_FANOUT)
                .try_collect()
                .await?;
            let waited = parts
                .iter()
                .map(|(_, sent_at)| *sent_at)
                .min()
                .map_or(Duration::ZERO, |first| first.elapsed());
            let resp =
                merge_embeddings(parts.into_iter().map(|(r, _)| r).collect()).ok_or_else(|| {
                    Error::new(
                        crate::api::ErrorKind::Internal,
                        "the adapter built no embeddings request",
                    )
                    .with_provider(&up.name)
                })?;
            let tokens = Some(resp.usage.total_tokens.get());
            Ok(Answer {
                output: resp,
                waited,
                tokens,
            })
        }
    }
}

/// Time left until a deadline, for the transport's "caller timeout".
fn left(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}
