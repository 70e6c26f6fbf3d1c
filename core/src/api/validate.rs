//! Checking a request before it costs anything: every error names the parameter.

use super::{ChatRequest, Content, ContentPart, EmbeddingInput, EmbeddingRequest, Error, Role};

/// Checks a chat request's values (types were already checked by deserialization).
pub fn validate_chat(req: &ChatRequest) -> Result<(), Error> {
    if req.model.trim().is_empty() {
        return Err(Error::bad_request("model", "`model` must name a model"));
    }
    if req.messages.is_empty() {
        return Err(Error::bad_request(
            "messages",
            "`messages` must contain at least one message",
        ));
    }
    range("temperature", req.temperature, 0.0, 2.0)?;
    range("top_p", req.top_p, 0.0, 1.0)?;
    range("presence_penalty", req.presence_penalty, -2.0, 2.0)?;
    range("frequency_penalty", req.frequency_penalty, -2.0, 2.0)?;
    if req.n == Some(0) {
        return Err(Error::bad_request("n", "`n` must be at least 1"));
    }
    for (field, v) in [
        ("max_tokens", req.max_tokens),
        ("max_completion_tokens", req.max_completion_tokens),
    ] {
        if v == Some(0) {
            return Err(Error::bad_request(
                field,
                format!("`{field}` must be at least 1"),
            ));
        }
    }
    for (i, m) in req.messages.iter().enumerate() {
        match m.role {
            Role::Tool if m.tool_call_id.as_deref().is_none_or(str::is_empty) => {
                return Err(Error::bad_request(
                    format!("messages[{i}].tool_call_id"),
                    format!("`messages[{i}]` has role tool but no `tool_call_id`"),
                ));
            }
            Role::Assistant => {}
            _ if m.content.is_none() => {
                return Err(Error::bad_request(
                    format!("messages[{i}].content"),
                    format!(
                        "`messages[{i}]` (role {}) has no `content`",
                        m.role.as_str()
                    ),
                ));
            }
            _ => {}
        }
        if let Some(Content::Parts(parts)) = &m.content {
            for (j, p) in parts.iter().enumerate() {
                if let ContentPart::ImageUrl { image_url } = p {
                    if image_url.source().is_none() {
                        return Err(Error::bad_request(
                            format!("messages[{i}].content[{j}].image_url.url"),
                            "a data URI must look like data:<media type>;base64,<data>",
                        ));
                    }
                }
            }
        }
    }
    for (i, t) in req.tools.iter().flatten().enumerate() {
        let name = &t.function.name;
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            return Err(Error::bad_request(
                format!("tools[{i}].function.name"),
                format!("tool name `{name}` must be 1-64 characters of a-z, A-Z, 0-9, _ and -"),
            ));
        }
    }
    Ok(())
}

/// Checks an embeddings request's values.
pub fn validate_embed(req: &EmbeddingRequest) -> Result<(), Error> {
    if req.model.trim().is_empty() {
        return Err(Error::bad_request("model", "`model` must name a model"));
    }
    let empty = match &req.input {
        EmbeddingInput::One(s) => s.is_empty(),
        EmbeddingInput::Many(v) => v.is_empty(),
        EmbeddingInput::Tokens(v) => v.is_empty(),
        EmbeddingInput::ManyTokens(v) => v.is_empty(),
    };
    if empty {
        return Err(Error::bad_request("input", "`input` must not be empty"));
    }
    if req.dimensions == Some(0) {
        return Err(Error::bad_request(
            "dimensions",
            "`dimensions` must be at least 1",
        ));
    }
    Ok(())
}

fn range(field: &str, v: Option<f64>, lo: f64, hi: f64) -> Result<(), Error> {
    match v {
        Some(x) if !(lo..=hi).contains(&x) => Err(Error::bad_request(
            field,
            format!("`{field}` must be between {lo} and {hi}, got {x}"),
        )),
        _ => Ok(()),
    }
}
