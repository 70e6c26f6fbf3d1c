//! Deterministic embeddings: vectors derived from a hash of the input text, in the OpenAI
//! and Gemini response shapes.

use serde_json::{json, Value};

use crate::convo::word_count;
use crate::gemini::content_text;

/// Vector length when the request does not ask for one.
pub const DEFAULT_DIMENSIONS: usize = 8;
/// Longest vector the mock will produce.
pub const MAX_DIMENSIONS: usize = 65_536;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a over the dimension index (4 bytes little-endian) and then the text bytes.
fn fnv1a(dimension: u32, text: &str) -> u64 {
    dimension
        .to_le_bytes()
        .iter()
        .chain(text.as_bytes())
        .fold(FNV_OFFSET, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(FNV_PRIME)
        })
}

/// The unit-length vector for a text: component i is hash(i, text) mapped to [-1, 1],
/// then the whole vector is L2-normalized.
pub fn embedding(text: &str, dimensions: usize) -> Vec<f32> {
    let raw: Vec<f64> = (0..dimensions)
        .map(|i| {
            let hash = fnv1a(i as u32, text);
            (hash as f64 / u64::MAX as f64) * 2.0 - 1.0
        })
        .collect();
    let norm = raw.iter().map(|v| v * v).sum::<f64>().sqrt();
    raw.iter()
        .map(|v| if norm > 0.0 { (v / norm) as f32 } else { 0.0 })
        .collect()
}

/// Standard base64 (with padding) of the vector's little-endian f32 bytes, as OpenAI sends it.
pub fn to_base64(vector: &[f32]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = vector.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(TABLE[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(crate) fn dimensions(value: Option<&Value>) -> Result<usize, String> {
    match value {
        None | Some(Value::Null) => Ok(DEFAULT_DIMENSIONS),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=MAX_DIMENSIONS as u64).contains(&n) => Ok(n as usize),
            _ => Err(format!(
                "Invalid value for dimensions: {v}; expected an integer from 1 to {MAX_DIMENSIONS}."
            )),
        },
    }
}

/// The texts of an OpenAI `input`: a string, strings, or token arrays (tokens joined by spaces).
fn openai_inputs(input: &Value) -> Option<Vec<String>> {
    let tokens = |items: &Vec<Value>| {
        items
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    match input {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) if items.iter().all(Value::is_number) => Some(vec![tokens(items)]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Some(s.clone()),
                Value::Array(t) => Some(tokens(t)),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// The OpenAI/Azure embeddings answer; `Err` is the invalid-request message with its param.
pub(crate) fn openai_response(body: &Value, model: &str) -> Result<Value, (String, &'static str)> {
    let inputs = body
        .get("input")
        .and_then(openai_inputs)
        .ok_or_else(|| ("Missing required parameter: 'input'.".to_string(), "input"))?;
    let dims = dimensions(body.get("dimensions")).map_err(|m| (m, "dimensions"))?;
    let base64 = body.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let words: u64 = inputs.iter().map(|t| word_count(t)).sum();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let vector = embedding(text, dims);
            let encoded = if base64 {
                Value::String(to_base64(&vector))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "index": index, "embedding": encoded})
        })
        .collect();
    Ok(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": words, "total_tokens": words}
    }))
}

fn gemini_one(request: &Value) -> Result<Value, String> {
    let content = request
        .get("content")
        .ok_or("* EmbedContentRequest.content: content is not specified\n")?;
    let dims = dimensions(request.get("outputDimensionality"))?;
    Ok(json!({"values": embedding(&content_text(content), dims)}))
}

/// The Gemini `:embedContent` answer.
pub(crate) fn gemini_response(body: &Value) -> Result<Value, String> {
    Ok(json!({ "embedding": gemini_one(body)? }))
}

/// The Gemini `:batchEmbedContents` answer.
pub(crate) fn gemini_batch_response(body: &Value) -> Result<Value, String> {
    let requests = body
        .get("requests")
        .and_then(Value::as_array)
        .ok_or("* BatchEmbedContentsRequest.requests: requests is not specified\n")?;
    let embeddings = requests
        .iter()
        .map(gemini_one)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({ "embeddings": embeddings }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_deterministic_unit_length() {
        let a = embedding("hello", 16);
        assert_eq!(a, embedding("hello", 16));
        assert_ne!(a, embedding("hello!", 16));
        let norm: f32 = a.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(a.iter().all(|v| (-1.0..=1.0).contains(v)));
    }

    #[test]
    fn base64_matches_known_encoding() {
        // 1.0f32 = 00 00 80 3f, -2.0f32 = 00 00 00 c0
        assert_eq!(to_base64(&[1.0]), "AACAPw==");
        assert_eq!(to_base64(&[1.0, -2.0]), "AACAPwAAAMA=");
    }

    #[test]
    fn openai_inputs_accept_tokens() {
        let body = json!({"input": [[1, 2], "a b c"], "dimensions": 3});
        let out = openai_response(&body, "m").expect("valid");
        assert_eq!(out["data"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            out["data"][1]["embedding"].as_array().map(Vec::len),
            Some(3)
        );
        assert_eq!(out["usage"]["prompt_tokens"], 5);
    }
}
