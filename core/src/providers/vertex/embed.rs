//! Text embeddings on Vertex AI: `POST {base}/publishers/google/models/{model}:predict`
//! (Vertex AI "Text embeddings API" reference).
//!
//! - Body: `{"instances": [{"content": text, "task_type"?, "title"?}], "parameters":
//!   {"outputDimensionality"?, "autoTruncate"?}}`. `dimensions` -> `outputDimensionality`;
//!   the `extra_body` keys `task_type` and `title` go into every instance (they are
//!   per-instance fields), every other `extra_body` key into `parameters`.
//! - At most 250 instances per request (`text-embedding-005`,
//!   `text-multilingual-embedding-002`), and ONE for `gemini-embedding-*`: longer lists are
//!   split into several requests, joined in order by the gateway.
//! - Answer: `predictions[].embeddings.values`; usage is the sum of
//!   `predictions[].embeddings.statistics.token_count`.
//! - Token-id input is a bad request; vectors always come back as floats.

use super::super::batches;
use crate::api::{
    Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, EmbeddingVector, Error,
    JsonMap, TokenCount,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// Most instances one `:predict` call takes for the text-embedding models.
pub(super) const MAX_INSTANCES: usize = 250;

/// The `extra_body` keys that belong to each instance rather than to `parameters`.
const INSTANCE_KEYS: [&str; 2] = ["task_type", "title"];

/// Longest body excerpt quoted in an invalid-response error.
const EXCERPT_CHARS: usize = 200;

/// How many instances one request for `model` may carry.
pub(super) fn batch_size(model: &str) -> usize {
    if model.starts_with("gemini-embedding") {
        1
    } else {
        MAX_INSTANCES
    }
}

/// The `:predict` bodies for one embeddings call, in input order.
pub(super) fn predict_bodies(req: &EmbeddingRequest, model: &str) -> Result<Vec<Value>, Error> {
    let texts = req.input.texts().ok_or_else(|| {
        Error::bad_request(
            "input",
            "Vertex AI text embeddings take text; token-id input is not supported",
        )
    })?;
    if texts.is_empty() {
        return Err(Error::bad_request(
            "input",
            "at least one input text is needed",
        ));
    }
    let mut instance_extra = JsonMap::new();
    let mut parameters = JsonMap::new();
    if let Some(d) = req.dimensions {
        parameters.insert("outputDimensionality".into(), json!(d));
    }
    for (k, v) in req.extra_body.iter().flatten() {
        if INSTANCE_KEYS.contains(&k.as_str()) {
            instance_extra.insert(k.clone(), v.clone());
        } else {
            parameters.insert(k.clone(), v.clone());
        }
    }
    Ok(batches(&texts, batch_size(model))
        .map(|batch| {
            let instances: Vec<Value> = batch
                .iter()
                .map(|text| {
                    let mut instance = JsonMap::new();
                    instance.insert("content".into(), json!(text));
                    instance.extend(instance_extra.clone());
                    Value::Object(instance)
                })
                .collect();
            let mut body = JsonMap::new();
            body.insert("instances".into(), Value::Array(instances));
            if !parameters.is_empty() {
                body.insert("parameters".into(), Value::Object(parameters.clone()));
            }
            Value::Object(body)
        })
        .collect())
}

/// `PredictResponse` for a text-embedding model.
#[derive(Debug, Deserialize)]
struct WirePredict {
    predictions: Vec<WirePrediction>,
}

#[derive(Debug, Deserialize)]
struct WirePrediction {
    embeddings: WireEmbeddings,
}

#[derive(Debug, Deserialize)]
struct WireEmbeddings {
    values: Vec<f32>,
    #[serde(default)]
    statistics: Option<WireStatistics>,
}

#[derive(Debug, Deserialize)]
struct WireStatistics {
    #[serde(default)]
    token_count: Option<f64>,
}

/// Parses one `:predict` answer.
pub(super) fn parse_predict(body: &[u8], model: &str) -> Result<EmbeddingResponse, Error> {
    let wire: WirePredict = serde_json::from_slice(body).map_err(|e| {
        let text: String = String::from_utf8_lossy(body)
            .trim()
            .chars()
            .take(EXCERPT_CHARS)
            .collect();
        Error::invalid_response(format!(
            "the answer is not a Vertex AI text-embedding prediction ({e}): {text}"
        ))
    })?;
    let mut tokens: u64 = 0;
    let data = wire
        .predictions
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let count = p
                .embeddings
                .statistics
                .and_then(|s| s.token_count)
                .filter(|t| t.is_finite() && *t > 0.0)
                .map_or(0, |t| t as u64);
            tokens = tokens.saturating_add(count);
            Embedding {
                object: "embedding".to_string(),
                index: u32::try_from(i).unwrap_or(u32::MAX),
                embedding: EmbeddingVector::Float(p.embeddings.values),
                extra: JsonMap::new(),
            }
        })
        .collect();
    Ok(EmbeddingResponse {
        object: "list".to_string(),
        data,
        model: model.to_string(),
        usage: EmbeddingUsage {
            prompt_tokens: TokenCount(tokens),
            total_tokens: TokenCount(tokens),
        },
        switchpoint: None,
        extra: JsonMap::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::batch_size;

    #[test]
    fn gemini_embedding_takes_one_instance_per_call() {
        assert_eq!(batch_size("gemini-embedding-001"), 1);
        assert_eq!(batch_size("text-embedding-005"), 250);
        assert_eq!(batch_size("text-multilingual-embedding-002"), 250);
    }
}
