//! Requests from JSON with errors that name the parameter, shared by every binding.

use super::{ChatRequest, EmbeddingRequest, Error};
use serde::de::DeserializeOwned;

/// Parses JSON text into `T`; the error names the field path (`messages[1].role`).
pub fn from_json_str<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    // The plain decoder first (the same schema without path bookkeeping, which costs a
    // request's decode about a third more); only text it rejects is decoded again, for an
    // error that names the field.
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| path_error(e.path().to_string(), e.inner().to_string()))
}

/// Converts an already-parsed JSON value into `T`; the error names the field path.
pub fn from_json_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Error> {
    // As for text: the plain decoder first, borrowing the tree; the path-aware one reruns
    // only for a value it rejects.
    if let Ok(v) = T::deserialize(&value) {
        return Ok(v);
    }
    serde_path_to_error::deserialize(value)
        .map_err(|e| path_error(e.path().to_string(), e.inner().to_string()))
}

fn path_error(path: String, reason: String) -> Error {
    let reason = match reason.rfind(" at line ") {
        Some(i) => reason[..i].to_string(),
        None => reason,
    };
    // serde_path_to_error says `?` when the text is not JSON at all (no field to blame).
    if path == "." || path == "?" || path.is_empty() {
        Error::new(
            super::ErrorKind::BadRequest,
            format!("invalid request: {reason}"),
        )
    } else {
        Error::bad_request(path.clone(), format!("invalid `{path}`: {reason}"))
    }
}

impl ChatRequest {
    /// Parses a chat request from JSON text.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        from_json_str(text)
    }
}

impl EmbeddingRequest {
    /// Parses an embeddings request from JSON text.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        from_json_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ErrorKind;

    #[test]
    fn names_the_bad_parameter() {
        let err = ChatRequest::from_json(r#"{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"robot","content":"x"}]}"#)
            .expect_err("must fail");
        assert_eq!(err.kind, ErrorKind::BadRequest);
        assert_eq!(err.param.as_deref(), Some("messages[1].role"));
        assert!(err.message.contains("robot"), "{}", err.message);
    }

    #[test]
    fn text_that_is_not_json_blames_no_field() {
        let err = ChatRequest::from_json("{not json").expect_err("must fail");
        assert_eq!(err.param, None);
        assert!(
            err.message
                .starts_with("invalid request: key must be a string"),
            "{}",
            err.message
        );
    }

    #[test]
    fn keeps_unknown_fields_and_round_trips() {
        let text = r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}],"logprobs":true,"stream_options":{"include_usage":true}}"#;
        let req = ChatRequest::from_json(text).expect("valid");
        assert_eq!(
            req.extra.get("logprobs"),
            Some(&serde_json::Value::Bool(true))
        );
        let back: serde_json::Value = serde_json::to_value(&req).expect("serialize");
        let orig: serde_json::Value = serde_json::from_str(text).expect("json");
        assert_eq!(back, orig);
    }
}
