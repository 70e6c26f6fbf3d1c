//! Embeddings through `POST /v2/embed`.
//!
//! - `input` -> `texts`; token-id input is a bad request (Cohere embeds text).
//! - `input_type` is required by Cohere's v3+ models: `search_document` unless the caller sets
//!   another through `extra_body` (`search_query`, `classification`, `clustering`).
//! - `embedding_types: ["float"]`, read back from `embeddings.float`; `dimensions` ->
//!   `output_dimension`; other `extra_body` keys (`truncate`, ...) are merged last.
//! - Usage: `meta.billed_units.input_tokens` (0 when absent).

use super::error::excerpt;
use crate::api::{
    Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, EmbeddingVector, Error,
    JsonMap, TokenCount,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// The `input_type` sent when the caller names none.
pub const DEFAULT_INPUT_TYPE: &str = "search_document";

/// The `/v2/embed` body.
pub(super) fn embed_body(req: &EmbeddingRequest, model: &str) -> Result<Value, Error> {
    let texts = req.input.texts().ok_or_else(|| {
        Error::bad_request(
            "input",
            "Cohere embeds text only; token-id input is not supported",
        )
    })?;
    if texts.is_empty() {
        return Err(Error::bad_request(
            "input",
            "at least one input text is needed",
        ));
    }
    let mut body = JsonMap::new();
    body.insert("model".into(), json!(model));
    body.insert("texts".into(), json!(texts));
    body.insert("input_type".into(), json!(DEFAULT_INPUT_TYPE));
    body.insert("embedding_types".into(), json!(["float"]));
    if let Some(d) = req.dimensions {
        body.insert("output_dimension".into(), json!(d));
    }
    for (k, v) in req.extra_body.iter().flatten() {
        body.insert(k.clone(), v.clone());
    }
    Ok(Value::Object(body))
}

/// `EmbedByTypeResponse` (v2), or the older float-list form.
#[derive(Debug, Deserialize)]
struct WireEmbed {
    embeddings: WireVectors,
    #[serde(default)]
    meta: Option<WireMeta>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum WireVectors {
    ByType { float: Vec<Vec<f32>> },
    Floats(Vec<Vec<f32>>),
}

#[derive(Debug, Deserialize)]
struct WireMeta {
    #[serde(default)]
    billed_units: Option<WireBilled>,
}

#[derive(Debug, Deserialize)]
struct WireBilled {
    #[serde(default)]
    input_tokens: Option<f64>,
}

/// Parses an embed answer.
pub(super) fn parse_embed(body: &[u8], model: &str) -> Result<EmbeddingResponse, Error> {
    let wire: WireEmbed = serde_json::from_slice(body).map_err(|e| {
        Error::invalid_response(format!(
            "the answer is not a Cohere embed response with float embeddings ({e}): {}",
            excerpt(body)
        ))
    })?;
    let vectors = match wire.embeddings {
        WireVectors::ByType { float } | WireVectors::Floats(float) => float,
    };
    let tokens = wire
        .meta
        .and_then(|m| m.billed_units)
        .and_then(|b| b.input_tokens)
        .filter(|t| t.is_finite() && *t > 0.0)
        .map_or(0, |t| t as u64);
    Ok(EmbeddingResponse {
        object: "list".to_string(),
        data: vectors
            .into_iter()
            .enumerate()
            .map(|(i, v)| Embedding {
                object: "embedding".to_string(),
                index: u32::try_from(i).unwrap_or(u32::MAX),
                embedding: EmbeddingVector::Float(v),
                extra: JsonMap::new(),
            })
            .collect(),
        model: model.to_string(),
        usage: EmbeddingUsage {
            prompt_tokens: TokenCount(tokens),
            total_tokens: TokenCount(tokens),
        },
        switchpoint: None,
        extra: JsonMap::new(),
    })
}
