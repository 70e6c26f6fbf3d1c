//! Mistral streams: OpenAI-shaped chunks ending in `[DONE]`, except that usage arrives on the
//! last chunk that carries a choice (with its `finish_reason`), not in a separate chunk.
//! That chunk is split in two so callers see the unified order: the finish chunk, then one
//! usage-only chunk with `choices: []`.

use crate::api::{ChatChunk, Error};
use crate::providers::openai::OpenAiStreamDecoder;
use crate::providers::{StreamDecoder, StreamEvent, StreamStep};

/// Decodes a Mistral stream with the OpenAI decoder and moves usage to its own chunk.
#[derive(Debug)]
pub(super) struct MistralStream {
    inner: OpenAiStreamDecoder,
}

impl MistralStream {
    pub(super) fn new(provider: &str, model: &str) -> Self {
        MistralStream {
            inner: OpenAiStreamDecoder::new(provider, model),
        }
    }
}

impl StreamDecoder for MistralStream {
    fn on_event(
        &mut self,
        event: StreamEvent<'_>,
        out: &mut Vec<ChatChunk>,
    ) -> Result<StreamStep, Error> {
        let start = out.len();
        let step = self.inner.on_event(event, out)?;
        let mut i = start;
        while i < out.len() {
            if !out[i].choices.is_empty() {
                if let Some(usage) = out[i].usage.take() {
                    let mut tail = ChatChunk::new(&out[i].id, out[i].created, &out[i].model);
                    tail.usage = Some(usage);
                    out.insert(i + 1, tail);
                    i += 1;
                }
            }
            i += 1;
        }
        Ok(step)
    }

    fn on_end(&mut self, out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        self.inner.on_end(out)
    }
}
