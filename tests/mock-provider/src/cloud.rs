//! The checks Bedrock and Vertex AI make before anything else: SigV4 signatures or a Bedrock
//! API key, Google OAuth bearer tokens, and Vertex's Anthropic body rules.

use http::request::Parts;
use serde_json::Value;

use crate::errors::{anthropic, gemini, ErrorReply};
use crate::route::Provider;
use crate::{bedrock, sigv4};

/// The `anthropic_version` Vertex requires in Anthropic bodies.
pub(crate) const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// Google's 401 for a missing or rejected OAuth token.
pub(crate) fn vertex_unauthenticated() -> ErrorReply {
    ErrorReply {
        status: 401,
        body: gemini(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            None,
        ),
    }
}

/// The token of an `Authorization: Bearer <token>` header, when there is a non-empty one.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get("authorization")?.to_str().ok()?;
    let scheme = value.get(..7)?;
    let token = value.get(7..)?.trim();
    (scheme.eq_ignore_ascii_case("bearer ") && !token.is_empty()).then_some(token)
}

/// Auth and body checks for the cloud formats; `Some` is the provider's refusal.
pub(crate) fn precheck(
    provider: Provider,
    parts: &Parts,
    raw: &[u8],
    body: &Value,
    request_id: &str,
) -> Option<ErrorReply> {
    match provider {
        Provider::Bedrock => {
            let refusal = match bearer(parts) {
                // A Bedrock API key (the service's bearer scheme): any but `bad-key` passes.
                Some("bad-key") => Some(sigv4::Refusal {
                    code: "UnrecognizedClientException",
                    message: "Invalid API Key format: Must start with pre-defined prefix".into(),
                }),
                Some(_) => None,
                None => sigv4::verify(parts, raw).err(),
            };
            refusal.map(|r| ErrorReply {
                status: 403,
                body: bedrock::error(r.code, &r.message),
            })
        }
        Provider::VertexGoogle | Provider::VertexAnthropic => {
            match bearer(parts) {
                None | Some("bad-key") => return Some(vertex_unauthenticated()),
                Some(_) => {}
            }
            if provider != Provider::VertexAnthropic {
                return None;
            }
            let invalid = |message: &str| ErrorReply {
                status: 400,
                body: anthropic("invalid_request_error", message, request_id),
            };
            match body.get("anthropic_version").and_then(Value::as_str) {
                None => return Some(invalid("anthropic_version: Field required")),
                Some(v) if v != VERTEX_ANTHROPIC_VERSION => {
                    return Some(invalid(&format!(
                        "anthropic_version: Input should be '{VERTEX_ANTHROPIC_VERSION}'"
                    )))
                }
                Some(_) => {}
            }
            body.get("model")
                .map(|_| invalid("model: Extra inputs are not permitted"))
        }
        _ => None,
    }
}
