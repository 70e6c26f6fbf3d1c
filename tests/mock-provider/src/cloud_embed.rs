//! Embeddings on the cloud formats: Bedrock `InvokeModel` for Amazon Titan Text Embeddings
//! and Cohere Embed (the bodies of the Bedrock user guide's model-parameter pages), and Vertex
//! AI `:predict` for Google's text-embedding models. Vectors are the deterministic ones of
//! `embed.rs`; a body the provider would refuse gets its message (`Err`).

use serde_json::{json, Value};

use crate::convo::word_count;
use crate::embed::{dimensions, embedding};

/// Most texts Cohere Embed on Bedrock takes per call.
const COHERE_MAX_TEXTS: usize = 96;
/// Most instances one Vertex `:predict` call takes (one for `gemini-embedding-*`).
const VERTEX_MAX_INSTANCES: usize = 250;
/// Cohere's `input_type` values.
const COHERE_INPUT_TYPES: [&str; 4] = [
    "search_document",
    "search_query",
    "classification",
    "clustering",
];
/// Vertex's `task_type` values.
const VERTEX_TASK_TYPES: [&str; 8] = [
    "RETRIEVAL_QUERY",
    "RETRIEVAL_DOCUMENT",
    "SEMANTIC_SIMILARITY",
    "CLASSIFICATION",
    "CLUSTERING",
    "QUESTION_ANSWERING",
    "FACT_VERIFICATION",
    "CODE_RETRIEVAL_QUERY",
];

/// Bedrock's JSON-schema refusal for a key the model does not take.
fn extraneous(keys: &[&str], body: &Value) -> Result<(), String> {
    let unknown = body
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .find(|k| !keys.contains(k));
    match unknown {
        Some(k) => Err(format!(
            "Malformed input request: #: extraneous key [{k}] is not permitted, please reformat your input and try again."
        )),
        None => Ok(()),
    }
}

/// A size from a field that only takes `allowed` values (8 when absent, the mock's default).
fn fixed_dimensions(field: &str, value: Option<&Value>, allowed: &[u64]) -> Result<usize, String> {
    match value {
        None => Ok(crate::embed::DEFAULT_DIMENSIONS),
        Some(v) => match v.as_u64() {
            Some(n) if allowed.contains(&n) => Ok(n as usize),
            _ => Err(format!(
                "Malformed input request: #/{field}: {v} is not a valid enum value, please reformat your input and try again."
            )),
        },
    }
}

/// Titan Text Embeddings: `{"inputText", "dimensions"?, "normalize"?, "embeddingTypes"?}`
/// (V2; G1 takes `inputText` only) -> `{"embedding", "inputTextTokenCount",
/// "embeddingsByType"}`.
fn titan(body: &Value, model: &str) -> Result<Value, String> {
    let v2 = model.contains("titan-embed-text-v2");
    let keys: &[&str] = if v2 {
        &["inputText", "dimensions", "normalize", "embeddingTypes"]
    } else {
        &["inputText"]
    };
    extraneous(keys, body)?;
    let text = body.get("inputText").and_then(Value::as_str).ok_or(
        "Malformed input request: #: required key [inputText] not found, please reformat your input and try again.",
    )?;
    let dims = fixed_dimensions("dimensions", body.get("dimensions"), &[256, 512, 1024])?;
    let vector = embedding(text, dims);
    Ok(json!({
        "embedding": vector,
        "inputTextTokenCount": word_count(text),
        "embeddingsByType": {"float": vector}
    }))
}

/// Cohere Embed on Bedrock: `{"texts", "input_type", "truncate"?, "embedding_types"?}` (v4
/// also `output_dimension`, `max_tokens`) -> `embeddings_floats`, or `embeddings_by_type` when
/// `embedding_types` is given. No token count: Bedrock's documented answer has none.
fn cohere(body: &Value, model: &str, seq: u64) -> Result<Value, String> {
    let v4 = model.contains("embed-v4");
    let keys: &[&str] = if v4 {
        &[
            "texts",
            "input_type",
            "truncate",
            "embedding_types",
            "images",
            "output_dimension",
            "max_tokens",
        ]
    } else {
        &[
            "texts",
            "input_type",
            "truncate",
            "embedding_types",
            "images",
        ]
    };
    extraneous(keys, body)?;
    match body.get("input_type").and_then(Value::as_str) {
        None => {
            return Err("Malformed input request: #: required key [input_type] not found, please reformat your input and try again.".into())
        }
        Some(t) if !COHERE_INPUT_TYPES.contains(&t) => {
            return Err(format!("Malformed input request: #/input_type: {t} is not a valid enum value, please reformat your input and try again."))
        }
        Some(_) => {}
    }
    let texts: Vec<&str> = body
        .get("texts")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
        .ok_or("Malformed input request: #: required key [texts] not found, please reformat your input and try again.")?;
    if texts.len() > COHERE_MAX_TEXTS {
        return Err(format!(
            "Malformed input request: #/texts: expected maximum item count: {COHERE_MAX_TEXTS}, found: {}, please reformat your input and try again.",
            texts.len()
        ));
    }
    let dims = fixed_dimensions(
        "output_dimension",
        body.get("output_dimension"),
        &[256, 512, 1024, 1536],
    )?;
    let vectors: Vec<Vec<f32>> = texts.iter().map(|t| embedding(t, dims)).collect();
    let by_type = body.get("embedding_types").is_some();
    Ok(json!({
        "id": format!("mock-embed-{seq}"),
        "texts": texts,
        "embeddings": if by_type { json!({"float": vectors}) } else { json!(vectors) },
        "response_type": if by_type { "embeddings_by_type" } else { "embeddings_floats" }
    }))
}

/// The Bedrock `InvokeModel` answer for an embedding model.
pub(crate) fn bedrock_invoke(body: &Value, model: &str, seq: u64) -> Result<Value, String> {
    if model.contains("amazon.titan-embed") {
        titan(body, model)
    } else if model.contains("cohere.embed") {
        cohere(body, model, seq)
    } else {
        Err(format!(
            "The provided model identifier is invalid: mock-provider serves InvokeModel for Titan and Cohere embedding models only, not {model}."
        ))
    }
}

/// The Vertex AI `:predict` answer of a text-embedding model: `{"predictions": [{"embeddings":
/// {"values", "statistics": {"token_count", "truncated"}}}], "metadata":
/// {"billableCharacterCount"}}`; length `parameters.outputDimensionality`, else 8.
pub(crate) fn vertex_predict(body: &Value, model: &str) -> Result<Value, String> {
    let instances = body
        .get("instances")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or("instances: at least one instance is required.")?;
    let limit = if model.starts_with("gemini-embedding") {
        1
    } else {
        VERTEX_MAX_INSTANCES
    };
    if instances.len() > limit {
        return Err(format!(
            "Unable to submit request because it included too many instances. Reduce the number of instances and try again: batchSize must be at most {limit} but the entered value was {}.",
            instances.len()
        ));
    }
    let parameters = body.get("parameters");
    let dims = dimensions(parameters.and_then(|p| p.get("outputDimensionality")))?;
    let mut characters = 0usize;
    let predictions = instances
        .iter()
        .map(|instance| {
            let text = instance
                .get("content")
                .and_then(Value::as_str)
                .ok_or("instances[].content: a text to embed is required.")?;
            if let Some(t) = instance.get("task_type") {
                if !t.as_str().is_some_and(|t| VERTEX_TASK_TYPES.contains(&t)) {
                    return Err(format!("instances[].task_type: invalid value {t}."));
                }
            }
            characters += text.chars().count();
            Ok(json!({"embeddings": {
                "values": embedding(text, dims),
                "statistics": {"token_count": word_count(text), "truncated": false}
            }}))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(json!({
        "predictions": predictions,
        "metadata": {"billableCharacterCount": characters}
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titan_takes_one_text_and_counts_its_words() {
        let out = bedrock_invoke(
            &json!({"inputText": "a b c", "dimensions": 256}),
            "amazon.titan-embed-text-v2:0",
            1,
        )
        .expect("valid");
        assert_eq!(out["inputTextTokenCount"], 3);
        assert_eq!(out["embedding"].as_array().map(Vec::len), Some(256));
        let err = bedrock_invoke(
            &json!({"inputText": "a", "dimensions": 8}),
            "amazon.titan-embed-text-v2:0",
            1,
        )
        .expect_err("bad size");
        assert!(err.contains("#/dimensions"), "{err}");
        let err = bedrock_invoke(&json!({"texts": ["a"]}), "amazon.titan-embed-text-v2:0", 1)
            .expect_err("cohere body");
        assert!(err.contains("extraneous key [texts]"), "{err}");
    }

    #[test]
    fn cohere_needs_an_input_type_and_answers_both_shapes() {
        let model = "cohere.embed-english-v3";
        let err = bedrock_invoke(&json!({"texts": ["a"]}), model, 1).expect_err("no input_type");
        assert!(err.contains("[input_type]"), "{err}");
        let out = bedrock_invoke(
            &json!({"texts": ["a", "b"], "input_type": "search_query"}),
            model,
            7,
        )
        .expect("valid");
        assert_eq!(out["response_type"], "embeddings_floats");
        assert_eq!(out["id"], "mock-embed-7");
        assert_eq!(out["embeddings"].as_array().map(Vec::len), Some(2));
        let out = bedrock_invoke(
            &json!({"texts": ["a"], "input_type": "clustering", "embedding_types": ["float"]}),
            model,
            1,
        )
        .expect("valid");
        assert_eq!(out["embeddings"]["float"][0], json!(embedding("a", 8)));
    }

    #[test]
    fn vertex_limits_gemini_embedding_to_one_instance() {
        let two = json!({"instances": [{"content": "a"}, {"content": "b c"}]});
        let out = vertex_predict(&two, "text-embedding-005").expect("valid");
        assert_eq!(
            out["predictions"][1]["embeddings"]["statistics"]["token_count"],
            2
        );
        assert_eq!(out["metadata"]["billableCharacterCount"], 4);
        let err = vertex_predict(&two, "gemini-embedding-001").expect_err("one only");
        assert!(err.contains("too many instances"), "{err}");
    }
}
