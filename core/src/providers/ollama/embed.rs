//! Embeddings through `POST /api/embed`: `input` (one text or several) -> `embeddings`,
//! `dimensions` kept, `extra_body` merged (`truncate`, `keep_alive`, `options`); usage from
//! `prompt_eval_count`. Token-id input is a bad request.

use super::error::excerpt;
use crate::api::{
    Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, EmbeddingVector, Error,
    JsonMap, TokenCount,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// The `/api/embed` body.
pub(super) fn embed_body(req: &EmbeddingRequest, model: &str) -> Result<Value, Error> {
    let texts = req.input.texts().ok_or_else(|| {
        Error::bad_request(
            "input",
            "Ollama embeds text only; token-id input is not supported",
        )
    })?;
    let mut body = JsonMap::new();
    body.insert("model".into(), json!(model));
    body.insert("input".into(), json!(texts));
    if let Some(d) = req.dimensions {
        body.insert("dimensions".into(), json!(d));
    }
    for (k, v) in req.extra_body.iter().flatten() {
        body.insert(k.clone(), v.clone());
    }
    Ok(Value::Object(body))
}

#[derive(Debug, Deserialize)]
struct WireEmbed {
    embeddings: Vec<Vec<f32>>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    prompt_eval_count: Option<u64>,
}

/// Parses an `/api/embed` answer.
pub(super) fn parse_embed(body: &[u8], model: &str) -> Result<EmbeddingResponse, Error> {
    let wire: WireEmbed = serde_json::from_slice(body).map_err(|e| {
        Error::invalid_response(format!(
            "the answer is not an Ollama embed response ({e}): {}",
            excerpt(body)
        ))
    })?;
    let tokens = wire.prompt_eval_count.unwrap_or(0);
    Ok(EmbeddingResponse {
        object: "list".to_string(),
        data: wire
            .embeddings
            .into_iter()
            .enumerate()
            .map(|(i, v)| Embedding {
                object: "embedding".to_string(),
                index: u32::try_from(i).unwrap_or(u32::MAX),
                embedding: EmbeddingVector::Float(v),
                extra: JsonMap::new(),
            })
            .collect(),
        model: wire.model.unwrap_or_else(|| model.to_string()),
        usage: EmbeddingUsage {
            prompt_tokens: TokenCount(tokens),
            total_tokens: TokenCount(tokens),
        },
        switchpoint: None,
        extra: JsonMap::new(),
    })
}
