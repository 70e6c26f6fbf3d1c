//! Embeddings through `batchEmbedContents`: one `EmbedContentRequest` per input text.
//!
//! - `dimensions` -> `outputDimensionality`; `extra_body` keys (`taskType`, `title`) are
//!   merged into every per-input request, since the batch body takes only `requests`.
//! - Token-id input is a bad request: Gemini embeds text only.
//! - Gemini reports no token usage for embeddings: usage is 0.
//! - Vectors are always returned as floats: `parse_embed` does not see the request's
//!   `encoding_format`, and the OpenAI SDKs accept floats when they asked for base64.

use super::error::excerpt;
use crate::api::{
    Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, EmbeddingVector, Error, JsonMap,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// The `BatchEmbedContentsRequest` body.
pub(super) fn embed_body(req: &EmbeddingRequest, model: &str) -> Result<Value, Error> {
    let texts = req.input.texts().ok_or_else(|| {
        Error::bad_request(
            "input",
            "Gemini embeds text only; token-id input is not supported",
        )
    })?;
    if texts.is_empty() {
        return Err(Error::bad_request(
            "input",
            "at least one input text is needed",
        ));
    }
    let model = model.strip_prefix("models/").unwrap_or(model);
    let requests: Vec<Value> = texts
        .into_iter()
        .map(|text| {
            let mut r = JsonMap::new();
            r.insert("model".into(), json!(format!("models/{model}")));
            r.insert("content".into(), json!({ "parts": [{ "text": text }] }));
            if let Some(d) = req.dimensions {
                r.insert("outputDimensionality".into(), json!(d));
            }
            for (k, v) in req.extra_body.iter().flatten() {
                r.insert(k.clone(), v.clone());
            }
            Value::Object(r)
        })
        .collect();
    Ok(json!({ "requests": requests }))
}

/// `BatchEmbedContentsResponse`.
#[derive(Debug, Deserialize)]
struct WireBatch {
    embeddings: Option<Vec<WireEmbedding>>,
}

/// `ContentEmbedding`.
#[derive(Debug, Deserialize)]
struct WireEmbedding {
    #[serde(default)]
    values: Vec<f32>,
}

/// Parses a `batchEmbedContents` answer.
pub(super) fn parse_embed(body: &[u8], model: &str) -> Result<EmbeddingResponse, Error> {
    let wire: WireBatch = serde_json::from_slice(body).map_err(|e| {
        Error::invalid_response(format!(
            "Gemini answer is not a BatchEmbedContentsResponse ({e}): {}",
            excerpt(body)
        ))
    })?;
    let embeddings = wire.embeddings.ok_or_else(|| {
        Error::invalid_response("Gemini embeddings answer has no `embeddings` field")
    })?;
    let data = embeddings
        .into_iter()
        .enumerate()
        .map(|(i, e)| Embedding {
            extra: Default::default(),
            object: "embedding".to_string(),
            index: u32::try_from(i).unwrap_or(u32::MAX),
            embedding: EmbeddingVector::Float(e.values),
        })
        .collect();
    Ok(EmbeddingResponse {
        object: "list".to_string(),
        data,
        model: model.to_string(),
        usage: EmbeddingUsage::default(),
        switchpoint: None,
        extra: JsonMap::new(),
    })
}
