//! Serving a stored answer as a stream.
//!
//! A streamed original is replayed chunk for chunk as it arrived. A non-streamed original
//! is cut into the chunks a provider would have sent (OpenAI's shape): per choice, one
//! chunk with the role, text, refusal and whole tool calls, one with the finish reason;
//! then one usage chunk (`choices: []`) when the answer had usage.

use super::exact::CachedAnswer;
use crate::api::{
    ChatChunk, ChatResponse, Delta, FunctionCallDelta, Role, ToolCallDelta, ToolKind,
};
use std::sync::Arc;

/// The chunks a stored answer is replayed as.
pub fn replay_chunks(answer: &CachedAnswer) -> Vec<ChatChunk> {
    match &answer.chunks {
        Some(chunks) => chunks.clone(),
        None => chunks_from_response(&answer.response),
    }
}

/// A complete response as stream chunks (see the module doc).
pub fn chunks_from_response(r: &ChatResponse) -> Vec<ChatChunk> {
    let base = || {
        let mut c = ChatChunk::new(r.id.clone(), r.created, r.model.clone());
        c.system_fingerprint.clone_from(&r.system_fingerprint);
        c
    };
    let mut out = Vec::with_capacity(r.choices.len() * 2 + 1);
    for ch in &r.choices {
        let m = &ch.message;
        let tool_calls = m.tool_calls.as_ref().map(|calls| {
            calls
                .iter()
                .enumerate()
                .map(|(i, t)| ToolCallDelta {
                    index: i as u32,
                    id: Some(t.id.clone()),
                    kind: Some(ToolKind::Function),
                    function: Some(FunctionCallDelta {
                        name: Some(t.function.name.clone()),
                        arguments: Some(t.function.arguments.clone()),
                    }),
                })
                .collect()
        });
        let delta = Delta {
            role: Some(Role::Assistant),
            content: m.content.clone(),
            refusal: m.refusal.clone(),
            tool_calls,
            extra: Default::default(),
        };
        out.push(base().with_delta(ch.index, delta, None));
        out.push(base().with_delta(ch.index, Delta::default(), ch.finish_reason));
    }
    if let Some(u) = &r.usage {
        let mut c = base();
        c.usage = Some(u.clone());
        out.push(c);
    }
    out
}

/// Replays a stored answer as a stream of chunks without copying them up front.
pub fn replay_stream(
    answer: Arc<CachedAnswer>,
) -> impl futures_util::Stream<Item = ChatChunk> + Send + 'static {
    let synthesized = answer
        .chunks
        .is_none()
        .then(|| chunks_from_response(&answer.response));
    let len = answer
        .chunks
        .as_ref()
        .map_or_else(|| synthesized.as_ref().map_or(0, Vec::len), Vec::len);
    futures_util::stream::iter((0..len).filter_map(move |i| match &synthesized {
        Some(s) => s.get(i).cloned(),
        None => answer.chunks.as_ref().and_then(|c| c.get(i).cloned()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{from_json_value, StreamAccumulator};
    use futures_util::StreamExt;
    use std::time::Duration;

    #[test]
    fn a_response_replays_into_chunks_that_assemble_back_to_it() {
        let r: ChatResponse = from_json_value(serde_json::json!({
            "id": "chatcmpl-9", "object": "chat.completion", "created": 7, "model": "gpt",
            "system_fingerprint": "fp",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": null}, "finish_reason": "stop", "logprobs": null},
                {"index": 1, "message": {"role": "assistant", "content": null, "refusal": null,
                  "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
                 "finish_reason": "tool_calls", "logprobs": null}
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
        }))
        .expect("response");
        let chunks = chunks_from_response(&r);
        assert_eq!(chunks.len(), 5);
        assert!(chunks
            .last()
            .is_some_and(|c| c.choices.is_empty() && c.usage.is_some()));
        let mut acc = StreamAccumulator::new();
        for c in &chunks {
            acc.push(c);
        }
        assert_eq!(acc.finish(), r);
    }

    #[tokio::test]
    async fn a_streamed_answer_replays_its_own_chunks() {
        let chunks = vec![
            ChatChunk::new("c", 1, "m").with_delta(0, Delta::content("a"), None),
            ChatChunk::new("c", 1, "m").with_delta(0, Delta::content("b"), None),
        ];
        let a = Arc::new(CachedAnswer::from_chunks(
            chunks.clone(),
            Duration::from_secs(1),
        ));
        let got: Vec<ChatChunk> = replay_stream(a.clone()).collect().await;
        assert_eq!(got, chunks);
        assert_eq!(replay_chunks(&a), chunks);
    }
}
