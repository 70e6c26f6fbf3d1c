//! Gemini generateContent / streamGenerateContent / embeddings over real HTTP.

mod common;

use common::*;
use serde_json::{json, Value};

fn user(text: &str) -> Value {
    json!({"role": "user", "parts": [{"text": text}]})
}

#[tokio::test]
async fn generate_content_echoes_with_usage() {
    let h = harness().await;
    let answer = h
        .gemini(
            "gemini-2.5-flash:generateContent",
            &json!({
                "systemInstruction": {"parts": [{"text": "be kind"}]},
                "contents": [user("Hello Gemini")]
            }),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json(),
        json!({
            "candidates": [{"content": {"parts": [{"text": "Hello Gemini"}], "role": "model"},
                "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2, "totalTokenCount": 6,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 4}]},
            "modelVersion": "gemini-2.5-flash",
            "responseId": "mock-1"
        })
    );
}

#[tokio::test]
async fn key_in_query_and_auth_errors() {
    let h = harness().await;
    let body = json!({"contents": [user("hi")]});
    let by_query = h
        .post("/v1beta/models/g:generateContent?key=abc", &[], &body)
        .await;
    assert_eq!(by_query.status, 200);
    let missing = h.post("/v1beta/models/g:generateContent", &[], &body).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json()["error"]["status"], "UNAUTHENTICATED");
    let bad = h
        .post("/v1beta/models/g:generateContent?key=bad-key", &[], &body)
        .await;
    assert_eq!(bad.status, 401);
    let error = bad.json();
    assert_eq!(error["error"]["code"], 401);
    assert_eq!(error["error"]["details"][0]["reason"], "API_KEY_INVALID");
}

#[tokio::test]
async fn max_output_tokens_and_candidate_count() {
    let h = harness().await;
    let body = h
        .gemini(
            "g:generateContent",
            &json!({"contents": [user("a b c d")],
            "generationConfig": {"maxOutputTokens": 3, "candidateCount": 2}}),
        )
        .await
        .json();
    let candidates = body["candidates"].as_array().expect("candidates");
    assert_eq!(candidates.len(), 2);
    assert_eq!(candidates[1]["index"], 1);
    assert_eq!(candidates[0]["content"]["parts"][0]["text"], "a b c");
    assert_eq!(candidates[0]["finishReason"], "MAX_TOKENS");
    assert_eq!(body["usageMetadata"]["candidatesTokenCount"], 6);
}

#[tokio::test]
async fn stream_is_sse_with_crlf_and_final_finish_reason() {
    let h = harness().await;
    let response = h
        .send(
            "/v1beta/models/g:streamGenerateContent?alt=sse",
            GEMINI_AUTH,
            &json!({"contents": [user("one two three")]}),
        )
        .await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let (text, errored) = read_stream(response).await;
    assert!(!errored);
    assert!(text.starts_with("data: {"));
    assert!(
        text.contains("}\r\n\r\ndata: "),
        "Gemini ends events with CRLF"
    );
    let events = sse_events(&text);
    assert_eq!(events.len(), 3);
    let texts: Vec<Value> = events
        .iter()
        .map(|e| e.json()["candidates"][0]["content"]["parts"][0]["text"].clone())
        .collect();
    assert_eq!(texts, vec![json!("one "), json!("two "), json!("three")]);
    assert!(events[0].json()["candidates"][0]
        .get("finishReason")
        .is_none());
    let last = events[2].json();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["promptTokenCount"], 3);
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 3);
    assert_eq!(last["usageMetadata"]["totalTokenCount"], 6);
    assert!(h.server.log()[0].stream);
}

#[tokio::test]
async fn function_calls_end_with_stop() {
    let h = harness().await;
    let ask = json!({
        "contents": [user("call get_weather")],
        "tools": [{"functionDeclarations": [
            {"name": "get_weather", "parameters": {"type": "OBJECT", "properties": {
                "city": {"type": "STRING"}, "days": {"type": "INTEGER"}}}},
            {"name": "other", "parameters": {"type": "OBJECT", "properties": {}}}
        ]}]
    });
    let body = h.gemini("g:generateContent", &ask).await.json();
    let candidate = &body["candidates"][0];
    assert_eq!(candidate["finishReason"], "STOP");
    assert_eq!(
        candidate["content"]["parts"],
        json!([{"functionCall": {"id": "call_mock_1", "name": "get_weather",
            "args": {"city": "call get_weather", "days": 42}}}])
    );
    let mut forced = ask.clone();
    forced["contents"] = json!([user("nothing")]);
    forced["toolConfig"] =
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["other"]}});
    let body = h.gemini("g:generateContent", &forced).await.json();
    assert_eq!(
        body["candidates"][0]["content"]["parts"][0]["functionCall"]["name"],
        "other"
    );

    let events = sse_events(&h.gemini("g:streamGenerateContent?alt=sse", &ask).await.text);
    assert_eq!(events.len(), 1);
    let only = events[0].json();
    assert_eq!(only["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        only["candidates"][0]["content"]["parts"][0]["functionCall"]["name"],
        "get_weather"
    );
}

#[tokio::test]
async fn function_response_is_echoed() {
    let h = harness().await;
    let body = h
        .gemini("g:generateContent", &json!({"contents": [
            user("get_weather"),
            {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp": 21}}}]}
        ]}))
        .await
        .json();
    assert_eq!(
        body["candidates"][0]["content"]["parts"][0]["text"],
        "tool result: {\"temp\":21}"
    );
}

#[tokio::test]
async fn embed_and_batch_embed() {
    let h = harness().await;
    let one = h
        .gemini(
            "text-embedding-004:embedContent",
            &json!({"content": {"parts": [{"text": "hi"}]}}),
        )
        .await
        .json();
    let values: Vec<f32> =
        serde_json::from_value(one["embedding"]["values"].clone()).expect("values");
    assert_eq!(
        values,
        mock_provider::embedding("hi", mock_provider::DEFAULT_DIMENSIONS)
    );
    let batch = h
        .gemini("text-embedding-004:batchEmbedContents", &json!({"requests": [
            {"model": "models/text-embedding-004", "content": {"parts": [{"text": "a"}]}, "outputDimensionality": 3},
            {"model": "models/text-embedding-004", "content": {"parts": [{"text": "b"}]}}
        ]}))
        .await
        .json();
    let embeddings = batch["embeddings"].as_array().expect("embeddings");
    assert_eq!(embeddings.len(), 2);
    assert_eq!(embeddings[0]["values"].as_array().map(Vec::len), Some(3));
    assert_eq!(embeddings[1]["values"].as_array().map(Vec::len), Some(8));
    let log = h.server.log();
    assert_eq!(log[1].endpoint, "embeddings");
    assert_eq!(log[1].model, "text-embedding-004");
}
