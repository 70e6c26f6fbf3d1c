//! Embeddings spread over several upstream calls: providers whose embedding API takes one
//! text per call (Amazon Titan, `gemini-embedding-001` on Vertex AI) or a bounded batch (Cohere
//! on Bedrock: 96 texts, Vertex `:predict`: 250 instances) answer one unified request with
//! several HTTP requests. The adapter splits the inputs with [`batches`]; the gateway sends
//! the requests and joins the parsed answers, in order, with [`merge_embeddings`].

use crate::api::{EmbeddingResponse, EmbeddingUsage, TokenCount};

/// The inputs cut into consecutive batches of at most `size` (at least 1) texts each.
pub fn batches<'a>(texts: &'a [&'a str], size: usize) -> impl Iterator<Item = &'a [&'a str]> {
    texts.chunks(size.max(1))
}

/// Joins the answers of the requests made for one embeddings call, in the order they were
/// built: the vectors are re-indexed across the whole input, the token counts summed, and the
/// model and extra fields taken from the first answer. `None` when there is no answer.
pub fn merge_embeddings(parts: Vec<EmbeddingResponse>) -> Option<EmbeddingResponse> {
    let mut parts = parts.into_iter();
    let mut merged = parts.next()?;
    let mut prompt = merged.usage.prompt_tokens.get();
    let mut total = merged.usage.total_tokens.get();
    for part in parts {
        prompt = prompt.saturating_add(part.usage.prompt_tokens.get());
        total = total.saturating_add(part.usage.total_tokens.get());
        merged.data.extend(part.data);
    }
    for (i, e) in merged.data.iter_mut().enumerate() {
        e.index = u32::try_from(i).unwrap_or(u32::MAX);
    }
    merged.usage = EmbeddingUsage {
        prompt_tokens: TokenCount(prompt),
        total_tokens: TokenCount(total),
    };
    Some(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Embedding, EmbeddingVector, JsonMap};

    fn answer(vectors: &[f32], tokens: u64) -> EmbeddingResponse {
        EmbeddingResponse {
            object: "list".into(),
            data: vectors
                .iter()
                .map(|v| Embedding {
                    object: "embedding".into(),
                    index: 0,
                    embedding: EmbeddingVector::Float(vec![*v]),
                    extra: JsonMap::new(),
                })
                .collect(),
            model: "m".into(),
            usage: EmbeddingUsage {
                prompt_tokens: TokenCount(tokens),
                total_tokens: TokenCount(tokens),
            },
            switchpoint: None,
            extra: JsonMap::new(),
        }
    }

    #[test]
    fn answers_join_in_order_with_summed_usage() {
        let merged = merge_embeddings(vec![answer(&[1.0], 3), answer(&[2.0, 3.0], 4)])
            .expect("one answer at least");
        let got: Vec<(u32, EmbeddingVector)> = merged
            .data
            .iter()
            .map(|e| (e.index, e.embedding.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, EmbeddingVector::Float(vec![1.0])),
                (1, EmbeddingVector::Float(vec![2.0])),
                (2, EmbeddingVector::Float(vec![3.0])),
            ]
        );
        assert_eq!(merged.usage.prompt_tokens.get(), 7);
        assert_eq!(merged.usage.total_tokens.get(), 7);
        assert_eq!(merge_embeddings(Vec::new()), None);
    }

    #[test]
    fn batches_are_bounded_and_never_empty_sized() {
        let texts = ["a", "b", "c"];
        let sizes: Vec<usize> = batches(&texts, 2).map(<[&str]>::len).collect();
        assert_eq!(sizes, vec![2, 1]);
        assert_eq!(batches(&texts, 0).count(), 3);
    }
}
