//! Error answers in each provider's own format, for faults, auth failures and invalid requests.

use serde_json::{json, Value};

use crate::fault::FaultError;
use crate::route::Provider;

/// An error status and body ready to send.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ErrorReply {
    pub status: u16,
    pub body: Value,
}

/// Facts some error messages mention.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ErrorContext<'a> {
    pub model: &'a str,
    pub request_id: &'a str,
    pub retry_after: Option<f64>,
}

fn openai(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

fn azure(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

/// An Anthropic error envelope.
pub(crate) fn anthropic(kind: &str, message: &str, request_id: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id})
}

/// A Google API error envelope (`google.rpc.Status`).
pub(crate) fn gemini(status: u16, message: &str, details: Option<Value>) -> Value {
    let mut error = json!({"code": status, "message": message, "status": google_status(status)});
    if let (Some(details), Some(obj)) = (details, error.as_object_mut()) {
        obj.insert("details".into(), details);
    }
    json!({ "error": error })
}

/// The google.rpc status name Google APIs send with an HTTP status.
fn google_status(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "NOT_IMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        500..=599 => "INTERNAL",
        _ => "FAILED_PRECONDITION",
    }
}

fn api_key_invalid_details() -> Value {
    json!([{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"}
    }])
}

/// The answer to a fault's `error`/`status` (never called for a non-Azure content filter).
pub(crate) fn fault_error(
    provider: Provider,
    kind: FaultError,
    status: Option<u16>,
    ctx: ErrorContext<'_>,
) -> ErrorReply {
    let anthropic_like = matches!(provider, Provider::Anthropic | Provider::VertexAnthropic);
    let status = status.unwrap_or_else(|| match (provider, kind) {
        // AWS refuses credentials with 403, not 401.
        (Provider::Bedrock, FaultError::Auth) => 403,
        _ => kind.default_status(anthropic_like),
    });
    let body = match provider {
        Provider::OpenAi => openai_fault(kind, ctx),
        Provider::Azure => azure_fault(kind, ctx),
        Provider::Anthropic => anthropic_fault(kind, status, ctx),
        Provider::Gemini => gemini_fault(kind, status, ctx),
        Provider::Cohere => cohere_fault(kind, ctx),
        Provider::Mistral => mistral_fault(kind, ctx),
        Provider::Ollama => ollama_fault(kind, ctx),
        Provider::Bedrock => crate::bedrock::fault_body(kind, ctx),
        Provider::VertexGoogle | Provider::VertexAnthropic if kind == FaultError::Auth => {
            crate::cloud::vertex_unauthenticated().body
        }
        Provider::VertexGoogle => gemini_fault(kind, status, ctx),
        // Quota refusals come from Vertex itself (Google's shape); the rest from the model.
        Provider::VertexAnthropic if kind == FaultError::RateLimit => {
            gemini_fault(kind, status, ctx)
        }
        Provider::VertexAnthropic => anthropic_fault(kind, status, ctx),
        Provider::GoogleOAuth => crate::oauth::fault_body(kind),
    };
    ErrorReply { status, body }
}

fn cohere(message: &str, request_id: &str) -> Value {
    json!({"id": request_id, "message": message})
}

fn cohere_fault(kind: FaultError, ctx: ErrorContext<'_>) -> Value {
    let message = match kind {
        FaultError::RateLimit => "You are using a Trial key, which is limited to 20 API calls / minute. You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits at 'https://dashboard.cohere.com/api-keys'. Contact us on 'https://discord.gg/XW44jPfYJu' or email us at support@cohere.com with any questions".to_string(),
        FaultError::Overloaded | FaultError::Unavailable => "service unavailable".to_string(),
        FaultError::Server => "internal server error, this has been reported to our developers".to_string(),
        FaultError::Auth => "invalid api token".to_string(),
        FaultError::Permission => "You do not have access to this resource.".to_string(),
        FaultError::NotFound => format!("model '{}' not found, make sure the correct model ID was used and that you have access to the model.", ctx.model),
        FaultError::BadRequest | FaultError::ContentFilter => "invalid request: mock-provider bad_request fault".to_string(),
        FaultError::ContextWindow => "too many tokens: size limit exceeded by 11326 tokens. Try using shorter or fewer inputs, or setting prompt_truncation='AUTO'.".to_string(),
    };
    cohere(&message, ctx.request_id)
}

fn mistral(message: &str, kind: &str, code: Option<&str>) -> Value {
    json!({"object": "error", "message": message, "type": kind, "param": null, "code": code})
}

fn mistral_fault(kind: FaultError, ctx: ErrorContext<'_>) -> Value {
    match kind {
        FaultError::RateLimit => json!({"message": "Requests rate limit exceeded", "request_id": ctx.request_id}),
        FaultError::Overloaded | FaultError::Unavailable => mistral("Service unavailable.", "service_unavailable", None),
        FaultError::Server => mistral("Internal server error", "internal_server_error", None),
        FaultError::Auth => json!({"message": "Unauthorized", "request_id": ctx.request_id}),
        FaultError::Permission => mistral("You do not have access to this model.", "forbidden", None),
        FaultError::NotFound => mistral(&format!("Invalid model: {}", ctx.model), "invalid_model", Some("1500")),
        FaultError::BadRequest | FaultError::ContentFilter => mistral("Invalid request (mock-provider bad_request fault).", "invalid_request_error", None),
        FaultError::ContextWindow => mistral("Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum context length", "invalid_request_error", None),
    }
}

fn ollama_fault(kind: FaultError, ctx: ErrorContext<'_>) -> Value {
    let message = match kind {
        FaultError::RateLimit => "too many requests".to_string(),
        FaultError::Overloaded | FaultError::Unavailable => {
            "server busy, please try again.  maximum pending requests exceeded".to_string()
        }
        FaultError::Server => "llama runner process has terminated: exit status 2".to_string(),
        FaultError::Auth => "unauthorized".to_string(),
        FaultError::Permission => "forbidden".to_string(),
        FaultError::NotFound => format!("model \"{}\" not found, try pulling it first", ctx.model),
        FaultError::BadRequest | FaultError::ContentFilter => {
            "invalid request (mock-provider bad_request fault)".to_string()
        }
        FaultError::ContextWindow => "the input length exceeds the context length".to_string(),
    };
    json!({ "error": message })
}

const OPENAI_CONTEXT: &str = "This model's maximum context length is 128000 tokens. However, your messages resulted in 200000 tokens. Please reduce the length of the messages.";

fn openai_fault(kind: FaultError, ctx: ErrorContext<'_>) -> Value {
    match kind {
        FaultError::RateLimit => openai(
            &format!(
                "Rate limit reached for {} in organization org-mock on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms. Visit https://platform.openai.com/account/rate-limits to learn more.",
                ctx.model
            ),
            "requests",
            None,
            Some("rate_limit_exceeded"),
        ),
        FaultError::Overloaded | FaultError::Unavailable => openai(
            "The server is overloaded or not ready yet.",
            "server_error",
            None,
            None,
        ),
        FaultError::Server => openai(
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
            None,
        ),
        FaultError::Auth => openai(
            "Incorrect API key provided: bad-key. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            None,
            Some("invalid_api_key"),
        ),
        FaultError::Permission => openai(
            "Country, region, or territory not supported",
            "request_forbidden",
            None,
            Some("unsupported_country_region_territory"),
        ),
        FaultError::NotFound => openai(
            &format!(
                "The model `{}` does not exist or you do not have access to it.",
                ctx.model
            ),
            "invalid_request_error",
            None,
            Some("model_not_found"),
        ),
        FaultError::BadRequest | FaultError::ContentFilter => openai(
            "Invalid request (mock-provider bad_request fault).",
            "invalid_request_error",
            None,
            None,
        ),
        FaultError::ContextWindow => openai(
            OPENAI_CONTEXT,
            "invalid_request_error",
            Some("messages"),
            Some("context_length_exceeded"),
        ),
    }
}

fn azure_fault(kind: FaultError, ctx: ErrorContext<'_>) -> Value {
    match kind {
        FaultError::RateLimit => {
            let seconds = ctx.retry_after.map_or(1, |s| s.ceil().max(0.0) as u64);
            azure(
                "429",
                &format!(
                    "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current AIServices S0 pricing tier. Please retry after {seconds} seconds. Please contact Azure support service if you would like to further increase the default rate limit."
                ),
            )
        }
        FaultError::Auth => azure(
            "401",
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
        ),
        FaultError::NotFound => azure(
            "DeploymentNotFound",
            "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
        ),
        FaultError::ContentFilter => azure_content_filter(),
        other => openai_fault(other, ctx),
    }
}

/// Azure's answer when its prompt filter blocks a request.
fn azure_content_filter() -> Value {
    let safe = json!({"filtered": false, "severity": "safe"});
    json!({"error": {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
        "type": null,
        "param": "prompt",
        "code": "content_filter",
        "status": 400,
        "innererror": {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": {
                "hate": safe.clone(),
                "self_harm": safe.clone(),
                "sexual": safe,
                "violence": {"filtered": true, "severity": "high"}
            }
        }
    }})
}

fn anthropic_fault(kind: FaultError, status: u16, ctx: ErrorContext<'_>) -> Value {
    let (kind, message) = match kind {
        FaultError::RateLimit => (
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit (https://docs.claude.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.",
        ),
        FaultError::Overloaded => ("overloaded_error", "Overloaded"),
        FaultError::Server | FaultError::Unavailable => ("api_error", "Internal server error"),
        FaultError::Auth => ("authentication_error", "invalid x-api-key"),
        FaultError::Permission => (
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        FaultError::NotFound => ("not_found_error", "model: not found"),
        FaultError::BadRequest | FaultError::ContentFilter if status == 413 => {
            ("request_too_large", "Request exceeds the maximum allowed number of bytes.")
        }
        FaultError::BadRequest | FaultError::ContentFilter => (
            "invalid_request_error",
            "Invalid request (mock-provider bad_request fault).",
        ),
        FaultError::ContextWindow => (
            "invalid_request_error",
            "prompt is too long: 210000 tokens > 200000 maximum",
        ),
    };
    let message = if kind == "not_found_error" {
        format!("model: {}", ctx.model)
    } else {
        message.to_string()
    };
    anthropic(kind, &message, ctx.request_id)
}

fn gemini_fault(kind: FaultError, status: u16, ctx: ErrorContext<'_>) -> Value {
    match kind {
        FaultError::RateLimit => {
            let mut details = vec![json!({
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                    "quotaDimensions": {"location": "global", "model": ctx.model},
                    "quotaValue": "10"
                }]
            })];
            if let Some(seconds) = ctx.retry_after {
                details.push(json!({
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": format!("{}s", format_seconds(seconds))
                }));
            }
            gemini(
                status,
                "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
                Some(Value::Array(details)),
            )
        }
        FaultError::Overloaded => gemini(
            status,
            "The model is overloaded. Please try again later.",
            None,
        ),
        FaultError::Unavailable => gemini(status, "The service is currently unavailable.", None),
        FaultError::Server => gemini(
            status,
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
            None,
        ),
        FaultError::Auth => gemini(
            status,
            "API key not valid. Please pass a valid API key.",
            Some(api_key_invalid_details()),
        ),
        FaultError::Permission => gemini(
            status,
            "The caller does not have permission",
            None,
        ),
        FaultError::NotFound => gemini(
            status,
            &format!(
                "models/{} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.",
                ctx.model
            ),
            None,
        ),
        FaultError::BadRequest | FaultError::ContentFilter => {
            gemini(status, "Request contains an invalid argument.", None)
        }
        FaultError::ContextWindow => gemini(
            status,
            "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            None,
        ),
    }
}

/// Seconds written as an integer when whole, else as a decimal.
pub(crate) fn format_seconds(seconds: f64) -> String {
    if seconds.fract() == 0.0 && seconds.abs() < 1e15 {
        format!("{}", seconds as i64)
    } else {
        format!("{seconds}")
    }
}

/// The 401 a provider sends for a missing or rejected key.
pub(crate) fn auth_error(provider: Provider, missing: bool, request_id: &str) -> ErrorReply {
    let body = match provider {
        Provider::OpenAi if missing => openai(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (i.e. username: YOUR_KEY, password: \"\") using HTTP Basic Auth. You can obtain an API key from https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            None,
            None,
        ),
        Provider::Anthropic if missing => {
            anthropic("authentication_error", "x-api-key header is required", request_id)
        }
        Provider::Gemini if missing => gemini(
            401,
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            None,
        ),
        _ => {
            return fault_error(
                provider,
                FaultError::Auth,
                Some(401),
                ErrorContext {
                    model: "",
                    request_id,
                    retry_after: None,
                },
            )
        }
    };
    ErrorReply { status: 401, body }
}

/// A 400 for a request the provider would reject as invalid.
pub(crate) fn invalid_request(
    provider: Provider,
    message: &str,
    param: Option<&str>,
    request_id: &str,
) -> ErrorReply {
    let body = match provider {
        Provider::OpenAi | Provider::Azure => openai(
            message,
            "invalid_request_error",
            param,
            param.map(|_| "missing_required_parameter"),
        ),
        Provider::Anthropic | Provider::VertexAnthropic => {
            anthropic("invalid_request_error", message, request_id)
        }
        Provider::Gemini | Provider::VertexGoogle => gemini(400, message, None),
        Provider::Cohere => cohere(message, request_id),
        Provider::Mistral => mistral(message, "invalid_request_error", None),
        Provider::Ollama => json!({ "error": message }),
        Provider::Bedrock => crate::bedrock::error("ValidationException", message),
        Provider::GoogleOAuth => crate::oauth::error(400, "invalid_request", message).1,
    };
    ErrorReply { status: 400, body }
}

/// Azure's answer to a path it does not serve, e.g. without `api-version`.
pub(crate) fn azure_not_found() -> ErrorReply {
    ErrorReply {
        status: 404,
        body: azure("404", "Resource not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ErrorContext<'static> {
        ErrorContext {
            model: "m",
            request_id: "req_mock_1",
            retry_after: Some(2.0),
        }
    }

    #[test]
    fn overloaded_is_529_only_on_anthropic() {
        let a = fault_error(Provider::Anthropic, FaultError::Overloaded, None, ctx());
        assert_eq!(a.status, 529);
        assert_eq!(a.body["error"]["type"], "overloaded_error");
        let o = fault_error(Provider::OpenAi, FaultError::Overloaded, None, ctx());
        assert_eq!(o.status, 503);
        let g = fault_error(Provider::Gemini, FaultError::Overloaded, None, ctx());
        assert_eq!(g.body["error"]["status"], "UNAVAILABLE");
    }

    #[test]
    fn gemini_rate_limit_carries_retry_info() {
        let g = fault_error(Provider::Gemini, FaultError::RateLimit, None, ctx());
        assert_eq!(g.status, 429);
        assert_eq!(g.body["error"]["status"], "RESOURCE_EXHAUSTED");
        assert_eq!(g.body["error"]["details"][1]["retryDelay"], "2s");
    }

    #[test]
    fn seconds_format() {
        assert_eq!(format_seconds(2.0), "2");
        assert_eq!(format_seconds(1.5), "1.5");
    }
}
