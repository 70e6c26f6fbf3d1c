//! The three upstream calls the executor tries target by target: a chat completion, the
//! opening of a stream (up to its first chunk), and embeddings.

use crate::api::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error,
};
use crate::providers::merge_embeddings;
use crate::resilience::{Answer, AttemptDeadlines, Call};
use crate::transport::{ChunkStream, Upstream};
use futures_util::{StreamExt, TryStreamExt};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A non-streaming chat completion.
#[derive(Debug)]
pub(crate) struct ChatCall<'a> {
    pub req: &'a ChatRequest,
}

impl Call for ChatCall<'_> {
    type Output = ChatResponse;

    fn attempt(
        &self,
        up: Arc<Upstream>,
        model: &str,
        limits: AttemptDeadlines,
    ) -> impl Future<Output = Result<Answer<ChatResponse>, Error>> + Send {
        let http = up.adapter.chat_request(self.req, model, false);
        let model = model.to_string();
        async move {
            let deadline = up.deadline(Instant::now(), left(limits.answer));
            let answer = up.send(http?, deadline).await?;
            let sent_at = answer.sent_at;
            let body = up.body(answer).await?;
            let waited = sent_at.elapsed();
            let resp = up.adapter.parse_chat(&body, &model)?;
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
}

impl Call for StreamCall<'_> {
    type Output = Opened;

    fn attempt(
        &self,
        up: Arc<Upstream>,
        model: &str,
        limits: AttemptDeadlines,
    ) -> impl Future<Output = Result<Answer<Opened>, Error>> + Send {
        let http = up.adapter.chat_request(self.req, model, true);
        let model = model.to_string();
        async move {
            let now = Instant::now();
            let first_by = up.deadline(now, left(limits.answer));
            let answer = up.send(http?, first_by).await?;
            let sent_at = answer.sent_at;
            let mut chunks = up.stream(answer, &model, up.deadline(now, left(limits.overall)));
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
