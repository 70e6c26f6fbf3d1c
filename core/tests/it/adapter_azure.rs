//! The Azure OpenAI adapter: deployment URLs, `api-key`, no `model` in the body, Azure's
//! filter annotations and errors. Wire samples follow Azure's documented answer shapes.

use crate::common;

use common::schema::{assert_valid, Spec};
use common::sse::{decode_all, split};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};
use std::time::Duration;
use switchpoint_core::api::{
    ChatRequest, EmbeddingRequest, ErrorKind, FinishReason, StreamAccumulator, TokenCount,
};
use switchpoint_core::config::Secret;
use switchpoint_core::providers::azure::AzureAdapter;
use switchpoint_core::providers::{Adapter, ProviderKind, ProviderSettings};

const DEPLOYMENT: &str = "gpt-4o-prod";

fn settings(api_version: Option<&str>) -> ProviderSettings {
    ProviderSettings {
        name: "my-azure".to_string(),
        kind: ProviderKind::AzureOpenAi,
        base_url: "https://my-resource.openai.azure.com".to_string(),
        api_key: Some(Secret::new("azure-key-123")),
        headers: Vec::new(),
        api_version: api_version.map(str::to_string),
    }
}

fn adapter() -> AzureAdapter {
    AzureAdapter::new(settings(None))
}

fn request() -> ChatRequest {
    serde_json::from_value(json!({
        "model": "smart",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello."}
        ],
        "max_tokens": 20,
        "extra_body": {"data_sources": [{"type": "azure_search", "parameters": {"endpoint": "https://search.example", "index_name": "docs"}}]}
    }))
    .expect("valid")
}

fn body_json(req: &http::Request<bytes::Bytes>) -> Value {
    serde_json::from_slice(req.body()).expect("JSON body")
}

#[test]
fn chat_url_names_the_deployment_and_api_version() {
    let req = adapter()
        .chat_request(&request(), DEPLOYMENT, false)
        .expect("builds");
    assert_eq!(
        req.uri().to_string(),
        "https://my-resource.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21"
    );
    let preview = AzureAdapter::new(settings(Some("2025-01-01-preview")));
    let req = preview
        .chat_request(&request(), DEPLOYMENT, false)
        .expect("builds");
    assert_eq!(
        req.uri().to_string(),
        "https://my-resource.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2025-01-01-preview"
    );
}

#[test]
fn the_key_goes_in_a_sensitive_api_key_header_not_bearer() {
    let req = adapter()
        .chat_request(&request(), DEPLOYMENT, false)
        .expect("builds");
    let key = req.headers().get("api-key").expect("api-key header");
    assert_eq!(key, "azure-key-123");
    assert!(key.is_sensitive());
    assert!(req.headers().get("authorization").is_none());
    assert!(!format!("{:?}", adapter()).contains("azure-key-123"));
}

#[test]
fn the_body_has_no_model_field_and_is_otherwise_openai_shaped() {
    let req = adapter()
        .chat_request(&request(), DEPLOYMENT, true)
        .expect("builds");
    let body = body_json(&req);
    let expected = json!({
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello."}
        ],
        "max_tokens": 20,
        "data_sources": [{"type": "azure_search", "parameters": {"endpoint": "https://search.example", "index_name": "docs"}}],
        "stream": true,
        "stream_options": {"include_usage": true}
    });
    assert_eq!(body, expected);
    // With the deployment as the model it is a valid OpenAI request.
    let mut with_model = body;
    with_model["model"] = json!(DEPLOYMENT);
    assert_valid(Spec::OpenAi, "CreateChatCompletionRequest", &with_model);
}

#[test]
fn embeddings_use_the_deployment_url_and_no_model() {
    let req: EmbeddingRequest = serde_json::from_value(json!({
        "model": "embedder", "input": ["a", "b"], "dimensions": 256
    }))
    .expect("valid");
    let http = adapter()
        .embed_request(&req, "text-embedding-3-small")
        .expect("builds");
    assert_eq!(
        http.uri().to_string(),
        "https://my-resource.openai.azure.com/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21"
    );
    assert_eq!(http.headers()["api-key"], "azure-key-123");
    assert_eq!(
        body_json(&http),
        json!({"input": ["a", "b"], "dimensions": 256})
    );
}

/// An Azure stream: a prompt-filter-only first chunk, filter annotations on every choice, a
/// usage chunk, `[DONE]`.
const AZURE_STREAM: &str = r#"data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}

data: {"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1733220000,"id":"chatcmpl-AaZ1","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_04751d0b65"}

data: {"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}},"delta":{"content":"Hello"},"finish_reason":null,"index":0,"logprobs":null}],"created":1733220000,"id":"chatcmpl-AaZ1","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_04751d0b65"}

data: {"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}},"delta":{"content":"!"},"finish_reason":null,"index":0,"logprobs":null}],"created":1733220000,"id":"chatcmpl-AaZ1","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_04751d0b65"}

data: {"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0,"logprobs":null}],"created":1733220000,"id":"chatcmpl-AaZ1","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_04751d0b65"}

data: {"choices":[],"created":1733220000,"id":"chatcmpl-AaZ1","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_04751d0b65","usage":{"completion_tokens":2,"completion_tokens_details":{"reasoning_tokens":0},"prompt_tokens":18,"prompt_tokens_details":{"cached_tokens":0},"total_tokens":20}}

data: [DONE]

"#;

#[test]
fn the_prompt_filter_chunk_is_skipped_and_the_rest_decodes() {
    let events = split(AZURE_STREAM);
    assert_eq!(events.len(), 7);
    let (chunks, end) = decode_all(adapter().stream_decoder(DEPLOYMENT).as_mut(), &events);
    assert_eq!(end, Ok(()));
    assert_eq!(
        chunks.len(),
        5,
        "the filter-only first chunk is not passed on"
    );
    assert!(chunks.iter().all(|c| c.id == "chatcmpl-AaZ1"));
    let mut acc = StreamAccumulator::new();
    chunks.iter().for_each(|c| acc.push(c));
    let resp = acc.finish();
    assert_eq!(resp.text(), Some("Hello!"));
    assert_eq!(resp.choices.len(), 1);
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::Stop));
    let usage = resp.usage.expect("usage");
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (TokenCount(18), TokenCount(2), TokenCount(20))
    );
    for chunk in &chunks {
        assert_valid(
            Spec::OpenAi,
            "CreateChatCompletionStreamResponse",
            &serde_json::to_value(chunk).expect("serializes"),
        );
    }
}

#[test]
fn azure_filter_annotations_are_kept_on_a_completion() {
    let body = br#"{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}},"finish_reason":"stop","index":0,"logprobs":null,"message":{"content":"Hello!","refusal":null,"role":"assistant"}}],"created":1733220000,"id":"chatcmpl-AaZ2","model":"gpt-4o-2024-11-20","object":"chat.completion","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}],"system_fingerprint":"fp_04751d0b65","usage":{"completion_tokens":2,"prompt_tokens":18,"total_tokens":20}}"#;
    let resp = adapter().parse_chat(body, DEPLOYMENT).expect("parses");
    assert_eq!(resp.text(), Some("Hello!"));
    assert_eq!(
        resp.extra["prompt_filter_results"][0]["content_filter_results"]["jailbreak"]["detected"],
        json!(false)
    );
}

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
        .collect()
}

#[test]
fn the_content_filter_400_is_content_filtered() {
    let body = br#"{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":true,"severity":"medium"}}}}}"#;
    let err = adapter().parse_error(400, &HeaderMap::new(), body);
    assert_eq!(err.kind, ErrorKind::ContentFiltered);
    assert_eq!(err.status, Some(400));
    assert_eq!(err.code.as_deref(), Some("content_filter"));
    assert_eq!(err.param.as_deref(), Some("prompt"));
    assert_eq!(err.provider.as_deref(), Some("my-azure"));
    assert!(err.message.starts_with("The response was filtered"));
}

#[test]
fn azure_errors_with_status_string_codes_map_by_status() {
    let a = adapter();
    let err = a.parse_error(
        429,
        &headers(&[("retry-after", "6"), ("retry-after-ms", "6000")]),
        br#"{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds."}}"#,
    );
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.code.as_deref(), Some("429"));
    assert_eq!(err.retry_after, Some(Duration::from_secs(6)));

    let err = a.parse_error(
        401,
        &HeaderMap::new(),
        br#"{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}"#,
    );
    assert_eq!(err.kind, ErrorKind::Auth);

    let err = a.parse_error(
        404,
        &HeaderMap::new(),
        br#"{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}}"#,
    );
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.code.as_deref(), Some("DeploymentNotFound"));
}
