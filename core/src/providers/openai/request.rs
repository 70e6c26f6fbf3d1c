//! OpenAI-shaped request bodies and auth headers, shared with the Azure adapter.
//!
//! The unified request already is the OpenAI wire shape. The common case is serialized
//! straight to bytes through a borrowing view with the provider's model and stream flags (no
//! intermediate JSON tree, no clone); a request with `extra_body` goes through a JSON map so
//! its keys can override typed fields.

use crate::api::{
    ChatRequest, EmbeddingRequest, Error, ErrorKind, JsonMap, Message, ResponseFormat, Stop, Tool,
    ToolChoice,
};
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
    if req.extra_body.is_none() {
        return to_bytes(&ChatBody::new(req, model, stream));
    }
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

/// The request as the provider gets it, borrowed field by field from the unified request.
#[derive(Serialize)]
struct ChatBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    messages: &'a [Message],
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<&'a [Tool]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<&'a ToolChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<&'a Stop>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<&'a ResponseFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a JsonMap>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptionsBody<'a>>,
    #[serde(flatten)]
    extra: &'a JsonMap,
}

/// `stream_options` with usage always requested, the caller's other options kept.
#[derive(Serialize)]
struct StreamOptionsBody<'a> {
    include_usage: bool,
    #[serde(flatten)]
    extra: Option<&'a JsonMap>,
}

impl<'a> ChatBody<'a> {
    fn new(req: &'a ChatRequest, model: ModelField<'a>, stream: bool) -> Self {
        ChatBody {
            model: match model {
                ModelField::Set(id) => Some(id),
                ModelField::Omit => None,
            },
            messages: &req.messages,
            tools: req.tools.as_deref(),
            tool_choice: req.tool_choice.as_ref(),
            parallel_tool_calls: req.parallel_tool_calls,
            temperature: req.temperature,
            top_p: req.top_p,
            max_tokens: req.max_tokens,
            max_completion_tokens: req.max_completion_tokens,
            stop: req.stop.as_ref(),
            n: req.n,
            seed: req.seed,
            presence_penalty: req.presence_penalty,
            frequency_penalty: req.frequency_penalty,
            response_format: req.response_format.as_ref(),
            user: req.user.as_deref(),
            metadata: req.metadata.as_ref(),
            // OpenAI rejects `stream_options` unless `stream` is true.
            stream: stream.then_some(true),
            stream_options: stream.then(|| StreamOptionsBody {
                include_usage: true,
                extra: req.stream_options.as_ref().map(|o| &o.extra),
            }),
            extra: &req.extra,
        }
    }
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

fn to_bytes<T: Serialize>(body: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body).map_err(|e| {
        Error::new(
            ErrorKind::BadRequest,
            format!("the request cannot be encoded as JSON: {e}"),
        )
    })
}
