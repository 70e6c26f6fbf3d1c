//! OpenAI-shaped request bodies and auth headers, shared with the Azure adapter.
//!
//! The unified request already is the OpenAI wire shape, so a body is the request serialized
//! once into a JSON map and adjusted in place (model id, `extra_body`, stream flags): no
//! message is cloned on the way.

use crate::api::{ChatRequest, EmbeddingRequest, Error, ErrorKind, JsonMap};
use crate::providers::header_value;
use http::{HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::Value;

/// What goes in the body's `model` field.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ModelField<'a> {
    /// The provider's model id (OpenAI and every compatible host).
    Set(&'a str),
    /// No `model` field: the URL names the deployment (Azure).
    Omit,
}

/// How the key is presented to the provider.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AuthScheme {
    /// `Authorization: Bearer <key>` (OpenAI and compatible hosts).
    Bearer,
    /// `api-key: <key>` (Azure).
    ApiKey,
}

/// The auth header for `key`, built once per adapter; marked sensitive so it never gets logged.
pub(crate) fn auth_header(
    scheme: AuthScheme,
    key: Option<&str>,
) -> Result<Option<(HeaderName, HeaderValue)>, Error> {
    let Some(key) = key else { return Ok(None) };
    Ok(Some(match scheme {
        AuthScheme::Bearer => (
            http::header::AUTHORIZATION,
            header_value("authorization", &format!("Bearer {key}"))?,
        ),
        AuthScheme::ApiKey => (
            HeaderName::from_static("api-key"),
            header_value("api-key", key)?,
        ),
    }))
}

/// The chat-completions body: the request with the provider's model, `extra_body` merged into
/// the top level, and the stream flags the gateway needs (usage is always requested).
pub(crate) fn chat_body(
    req: &ChatRequest,
    model: ModelField<'_>,
    stream: bool,
) -> Result<Vec<u8>, Error> {
    let mut body = to_object(req)?;
    merge_extra_body(&mut body);
    set_model(&mut body, model);
    if stream {
        body.insert("stream".to_string(), Value::Bool(true));
        let opts = body
            .entry("stream_options")
            .or_insert_with(|| Value::Object(JsonMap::new()));
        if !opts.is_object() {
            *opts = Value::Object(JsonMap::new());
        }
        if let Value::Object(opts) = opts {
            opts.insert("include_usage".to_string(), Value::Bool(true));
        }
    } else {
        // OpenAI rejects `stream_options` unless `stream` is true.
        body.remove("stream");
        body.remove("stream_options");
    }
    to_bytes(&body)
}

/// The embeddings body: the request with the provider's model and `extra_body` merged.
pub(crate) fn embed_body(req: &EmbeddingRequest, model: ModelField<'_>) -> Result<Vec<u8>, Error> {
    let mut body = to_object(req)?;
    merge_extra_body(&mut body);
    set_model(&mut body, model);
    to_bytes(&body)
}

fn to_object<T: Serialize>(req: &T) -> Result<JsonMap, Error> {
    match serde_json::to_value(req) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::new(
            ErrorKind::Internal,
            "the request did not serialize to a JSON object",
        )),
        Err(e) => Err(Error::new(
            ErrorKind::BadRequest,
            format!("the request cannot be encoded as JSON: {e}"),
        )),
    }
}

/// Moves `extra_body`'s keys to the top level; they win over same-named fields because the
/// caller put them there on purpose for this provider.
fn merge_extra_body(body: &mut JsonMap) {
    if let Some(Value::Object(extra)) = body.remove("extra_body") {
        body.extend(extra);
    }
}

fn set_model(body: &mut JsonMap, model: ModelField<'_>) {
    match model {
        ModelField::Set(id) => {
            body.insert("model".to_string(), Value::String(id.to_string()));
        }
        ModelField::Omit => {
            body.remove("model");
        }
    }
}

fn to_bytes(body: &JsonMap) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body).map_err(|e| {
        Error::new(
            ErrorKind::BadRequest,
            format!("the request cannot be encoded as JSON: {e}"),
        )
    })
}
