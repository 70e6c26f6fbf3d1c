//! Embeddings through `InvokeModel` (`POST /model/{modelId}/invoke`), whose body is the
//! model's own format (Bedrock user guide, "Inference request parameters and response fields
//! for foundation models"):
//!
//! - **Amazon Titan Text Embeddings** (`amazon.titan-embed-text-v2:0`, `-v1`, `-g1-text-*`):
//!   `{"inputText", "dimensions"?}` with one text per call, answered
//!   `{"embedding": [..], "inputTextTokenCount": n}`. A list input becomes one request per
//!   text; usage is the sum of `inputTextTokenCount`.
//! - **Cohere Embed** (`cohere.embed-english-v3`, `cohere.embed-multilingual-v3`,
//!   `cohere.embed-v4:0`): `{"texts", "input_type"}` with at most 96 texts per call (so longer
//!   lists are split), answered `{"embeddings": [[..]], "response_type": "embeddings_floats"}`
//!   or, when `embedding_types` was asked for, `{"embeddings": {"float": [[..]]}}`.
//!   `input_type` defaults to `search_document` (Cohere requires one); `dimensions` becomes
//!   v4's `output_dimension` and is refused for v3, whose size is fixed. The documented
//!   answer carries no token count: usage is read from `meta.billed_units.input_tokens` when
//!   present (Cohere's own API sends it), else it is 0.
//!
//! The family is read from the model id (also inside an ARN or a `us.`/`global.` inference
//! profile id). `extra_body` keys (`normalize`, `embeddingTypes`, `truncate`, `input_type`,
//! ...) are merged into every request body as given. Vectors always come back as floats, as
//! for the other adapters whose providers have no base64 encoding.

use super::super::batches;
use crate::api::{
    Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, EmbeddingVector, Error,
    JsonMap, TokenCount,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// Most texts Cohere Embed on Bedrock takes in one call.
pub(super) const COHERE_MAX_TEXTS: usize = 96;

/// The `input_type` sent to Cohere when `extra_body` names none.
pub(super) const COHERE_DEFAULT_INPUT_TYPE: &str = "search_document";

/// Longest body excerpt quoted in an invalid-response error.
const EXCERPT_CHARS: usize = 200;

/// The embedding model families Bedrock serves through InvokeModel that switchpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    /// Amazon Titan Text Embeddings (one text per call).
    Titan,
    /// Cohere Embed v3 (fixed size).
    CohereV3,
    /// Cohere Embed v4 (`output_dimension`).
    CohereV4,
}

impl Family {
    /// The family of a model id, inference profile id or ARN; `None` for other models.
    pub(super) fn of(model: &str) -> Option<Family> {
        let m = model.to_ascii_lowercase();
        if m.contains("amazon.titan-embed") && !m.contains("image") {
            Some(Family::Titan)
        } else if m.contains("cohere.embed-v4") {
            Some(Family::CohereV4)
        } else if m.contains("cohere.embed") {
            Some(Family::CohereV3)
        } else {
            None
        }
    }
}

/// The family, or a bad request naming `model` for anything else.
fn family(model: &str) -> Result<Family, Error> {
    Family::of(model).ok_or_else(|| {
        Error::bad_request(
            "model",
            format!(
                "Bedrock embeddings speak Amazon Titan Text Embeddings (amazon.titan-embed-text-*) and Cohere Embed (cohere.embed-*); `{model}` is neither (name the foundation model id, not a provisioned-throughput ARN)"
            ),
        )
    })
}

/// The request bodies for one embeddings call, in input order.
pub(super) fn embed_bodies(req: &EmbeddingRequest, model: &str) -> Result<Vec<Value>, Error> {
    let family = family(model)?;
    let texts = req.input.texts().ok_or_else(|| {
        Error::bad_request(
            "input",
            "Bedrock embedding models take text; token-id input is not supported",
        )
    })?;
    if texts.is_empty() {
        return Err(Error::bad_request(
            "input",
            "at least one input text is needed",
        ));
    }
    let extra = |body: &mut JsonMap| {
        for (k, v) in req.extra_body.iter().flatten() {
            body.insert(k.clone(), v.clone());
        }
    };
    match family {
        Family::Titan => Ok(texts
            .iter()
            .map(|text| {
                let mut body = JsonMap::new();
                body.insert("inputText".into(), json!(text));
                if let Some(d) = req.dimensions {
                    body.insert("dimensions".into(), json!(d));
                }
                extra(&mut body);
                Value::Object(body)
            })
            .collect()),
        Family::CohereV3 | Family::CohereV4 => {
            if family == Family::CohereV3 && req.dimensions.is_some() {
                return Err(Error::bad_request(
                    "dimensions",
                    "Cohere Embed v3 on Bedrock has a fixed vector size; `dimensions` needs Cohere Embed v4 (cohere.embed-v4)",
                ));
            }
            Ok(batches(&texts, COHERE_MAX_TEXTS)
                .map(|batch| {
                    let mut body = JsonMap::new();
                    body.insert("texts".into(), json!(batch));
                    body.insert("input_type".into(), json!(COHERE_DEFAULT_INPUT_TYPE));
                    if let Some(d) = req.dimensions {
                        body.insert("output_dimension".into(), json!(d));
                    }
                    extra(&mut body);
                    Value::Object(body)
                })
                .collect())
        }
    }
}

/// Titan's answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TitanAnswer {
    embedding: Vec<f32>,
    #[serde(default)]
    input_text_token_count: Option<u64>,
}

/// Cohere's answer: `embeddings_floats` (a list of vectors) or `embeddings_by_type`.
#[derive(Debug, Deserialize)]
struct CohereAnswer {
    embeddings: CohereVectors,
    #[serde(default)]
    meta: Option<CohereMeta>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CohereVectors {
    Floats(Vec<Vec<f32>>),
    ByType {
        #[serde(default)]
        float: Option<Vec<Vec<f32>>>,
    },
}

#[derive(Debug, Deserialize)]
struct CohereMeta {
    #[serde(default)]
    billed_units: Option<CohereBilled>,
}

#[derive(Debug, Deserialize)]
struct CohereBilled {
    #[serde(default)]
    input_tokens: Option<f64>,
}

/// The body quoted (shortened) in an invalid-response error.
fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .trim()
        .chars()
        .take(EXCERPT_CHARS)
        .collect()
}

/// Parses one InvokeModel answer of an embedding model.
pub(super) fn parse_embed(body: &[u8], model: &str) -> Result<EmbeddingResponse, Error> {
    let (vectors, tokens) = match family(model)? {
        Family::Titan => {
            let a: TitanAnswer = serde_json::from_slice(body).map_err(|e| {
                Error::invalid_response(format!(
                    "the answer is not a Titan embeddings response ({e}): {}",
                    excerpt(body)
                ))
            })?;
            (vec![a.embedding], a.input_text_token_count.unwrap_or(0))
        }
        Family::CohereV3 | Family::CohereV4 => {
            let a: CohereAnswer = serde_json::from_slice(body).map_err(|e| {
                Error::invalid_response(format!(
                    "the answer is not a Cohere Embed response ({e}): {}",
                    excerpt(body)
                ))
            })?;
            let vectors = match a.embeddings {
                CohereVectors::Floats(v) => v,
                CohereVectors::ByType { float: Some(v) } => v,
                CohereVectors::ByType { float: None } => {
                    return Err(Error::invalid_response(
                        "the Cohere Embed answer has no float embeddings (ask for embedding_types [\"float\"])",
                    ))
                }
            };
            let tokens = a
                .meta
                .and_then(|m| m.billed_units)
                .and_then(|b| b.input_tokens)
                .filter(|t| t.is_finite() && *t > 0.0)
                .map_or(0, |t| t as u64);
            (vectors, tokens)
        }
    };
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

#[cfg(test)]
mod tests {
    use super::Family;

    #[test]
    fn families_from_ids_profiles_and_arns() {
        assert_eq!(
            Family::of("amazon.titan-embed-text-v2:0"),
            Some(Family::Titan)
        );
        assert_eq!(
            Family::of("amazon.titan-embed-g1-text-02"),
            Some(Family::Titan)
        );
        assert_eq!(Family::of("amazon.titan-embed-image-v1"), None);
        assert_eq!(Family::of("us.cohere.embed-v4:0"), Some(Family::CohereV4));
        assert_eq!(
            Family::of("arn:aws:bedrock:us-east-1::foundation-model/cohere.embed-english-v3"),
            Some(Family::CohereV3)
        );
        assert_eq!(Family::of("anthropic.claude-3-haiku-20240307-v1:0"), None);
    }
}
