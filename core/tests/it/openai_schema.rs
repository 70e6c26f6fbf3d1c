//! The schema helper itself: it must reject what the published specs reject, or every
//! "validates against the spec" assertion elsewhere would prove nothing.

use crate::common;

use common::schema::{validate, Spec};
use serde_json::json;

#[test]
fn openai_request_schema_accepts_a_minimal_request_and_rejects_broken_ones() {
    let ok = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(
        validate(Spec::OpenAi, "CreateChatCompletionRequest", &ok),
        Ok(())
    );

    let no_messages = json!({"model": "gpt-4o"});
    let errors = validate(Spec::OpenAi, "CreateChatCompletionRequest", &no_messages)
        .expect_err("messages are required");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("\"messages\" is a required property")),
        "{errors:?}"
    );

    let bad_role = json!({"model": "gpt-4o", "messages": [{"role": "robot", "content": "hi"}]});
    assert!(validate(Spec::OpenAi, "CreateChatCompletionRequest", &bad_role).is_err());

    let bad_temperature = json!({
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": "hot"
    });
    assert!(validate(
        Spec::OpenAi,
        "CreateChatCompletionRequest",
        &bad_temperature
    )
    .is_err());
}

#[test]
fn openai_nullable_fields_accept_null_after_the_rewrite() {
    // `finish_reason` is `type: string, nullable: true` in the stream chunk schema.
    let chunk = json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": null}]
    });
    assert_eq!(
        validate(Spec::OpenAi, "CreateChatCompletionStreamResponse", &chunk),
        Ok(())
    );
    let wrong_reason = json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "tired"}]
    });
    assert!(validate(
        Spec::OpenAi,
        "CreateChatCompletionStreamResponse",
        &wrong_reason
    )
    .is_err());
}

#[test]
fn openai_embedding_request_rejects_unknown_fields() {
    // CreateEmbeddingRequest is `additionalProperties: false`.
    let ok = json!({"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 256});
    assert_eq!(
        validate(Spec::OpenAi, "CreateEmbeddingRequest", &ok),
        Ok(())
    );
    let extra = json!({"model": "text-embedding-3-small", "input": "a", "input_type": "query"});
    assert!(validate(Spec::OpenAi, "CreateEmbeddingRequest", &extra).is_err());
}

#[test]
fn anthropic_and_gemini_documents_load_and_validate() {
    let error = json!({
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"
    });
    assert_eq!(validate(Spec::Anthropic, "ErrorResponse", &error), Ok(()));
    assert!(validate(Spec::Anthropic, "ErrorResponse", &json!({"type": "error"})).is_err());

    // The discovery-derived schema lists `model` as required although the REST call names
    // the model in the URL.
    let request = json!({
        "model": "models/gemini-2.0-flash",
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}]
    });
    assert_eq!(
        validate(Spec::Gemini, "GenerateContentRequest", &request),
        Ok(())
    );
    let bad = json!({
        "model": "models/gemini-2.0-flash",
        "contents": [{"role": "user", "parts": "hi"}]
    });
    assert!(validate(Spec::Gemini, "GenerateContentRequest", &bad).is_err());
}
