//! OpenAI and Azure OpenAI formats over real HTTP.

mod common;

use common::*;
use serde_json::{json, Value};

fn weather_tools() -> Value {
    json!([
        {"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}, "metric": {"type": "boolean"}},
            "required": ["city"]}}},
        {"type": "function", "function": {"name": "get_time", "parameters": {
            "type": "object", "properties": {"zone": {"type": "string"}}}}}
    ])
}

#[tokio::test]
async fn chat_echoes_last_user_message_with_usage() {
    let h = harness().await;
    let answer = h
        .openai(&json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "first question"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": [{"type": "text", "text": "Hello there"}, {"type": "text", "text": "world"}]}
            ]
        }))
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-request-id"), Some("req_mock_1"));
    let body = answer.json();
    assert_eq!(body["id"], "chatcmpl-mock-1");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(body["system_fingerprint"], "fp_mock");
    assert!(body["created"].as_u64().expect("created") > 1_700_000_000);
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["logprobs"], Value::Null);
    assert_eq!(
        choice["message"],
        json!({"role": "assistant", "content": "Hello there world", "refusal": null, "annotations": []})
    );
    // prompt: 2 + 2 + 1 + 3 words; completion: 3 words
    assert_eq!(
        body["usage"],
        json!({
            "prompt_tokens": 8, "completion_tokens": 3, "total_tokens": 11,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        })
    );
}

#[tokio::test]
async fn n_choices_and_length_cap() {
    let h = harness().await;
    let body = h
        .openai(&json!({"model": "m", "n": 2, "max_completion_tokens": 2,
            "messages": [{"role": "user", "content": "one two three"}]}))
        .await
        .json();
    let choices = body["choices"].as_array().expect("choices");
    assert_eq!(choices.len(), 2);
    for (i, choice) in choices.iter().enumerate() {
        assert_eq!(choice["index"], i);
        assert_eq!(choice["message"]["content"], "one two");
        assert_eq!(choice["finish_reason"], "length");
    }
    assert_eq!(body["usage"]["completion_tokens"], 4);
    let legacy = h
        .openai(&json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "a b"}]}))
        .await
        .json();
    assert_eq!(legacy["choices"][0]["message"]["content"], "a");
}

#[tokio::test]
async fn stream_sends_one_chunk_per_word_then_usage_and_done() {
    let h = harness().await;
    let response = h
        .send(
            "/v1/chat/completions",
            OPENAI_AUTH,
            &json!({"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true},
                "messages": [{"role": "user", "content": "Hello  big world"}]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    let (text, errored) = read_stream(response).await;
    assert!(!errored);
    let events = sse_events(&text);
    assert_eq!(events.len(), 7, "{text}");
    assert_eq!(events[6].data, "[DONE]");
    let chunks: Vec<Value> = events[..6].iter().map(SseEvent::json).collect();
    for chunk in &chunks {
        assert_eq!(chunk["id"], "chatcmpl-mock-1");
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["model"], "gpt-4o");
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": "", "refusal": null})
    );
    assert_eq!(chunks[0]["usage"], Value::Null);
    let pieces: Vec<&str> = chunks[1..4]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().expect("text"))
        .collect();
    assert_eq!(pieces, vec!["Hello  ", "big ", "world"]);
    assert_eq!(chunks[4]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[4]["choices"][0]["delta"], json!({}));
    assert_eq!(chunks[5]["choices"], json!([]));
    assert_eq!(chunks[5]["usage"]["prompt_tokens"], 3);
    assert_eq!(chunks[5]["usage"]["completion_tokens"], 3);
}

#[tokio::test]
async fn stream_without_include_usage_has_no_usage_field() {
    let h = harness().await;
    let answer = h
        .openai(
            &json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    let events = sse_events(&answer.text);
    assert_eq!(events.len(), 4);
    for event in &events[..3] {
        assert!(event.json().get("usage").is_none(), "{}", event.data);
    }
}

#[tokio::test]
async fn tools_called_by_name_in_parallel() {
    let h = harness().await;
    let body = h
        .openai(&json!({"model": "m", "tools": weather_tools(),
            "messages": [{"role": "user", "content": "get_time and get_weather please"}]}))
        .await
        .json();
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let calls = choice["message"]["tool_calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["id"], "call_mock_1");
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    let args: Value = serde_json::from_str(
        calls[0]["function"]["arguments"]
            .as_str()
            .expect("string args"),
    )
    .expect("args JSON");
    assert_eq!(
        args,
        json!({"city": "get_time and get_weather please", "days": 42, "metric": true})
    );
    assert_eq!(calls[1]["id"], "call_mock_2");
    assert_eq!(calls[1]["function"]["name"], "get_time");
    assert_eq!(body["usage"]["completion_tokens"], 2);
}

#[tokio::test]
async fn tool_choice_required_named_and_none() {
    let h = harness().await;
    let ask = |choice: Value| {
        json!({"model": "m", "tools": weather_tools(), "tool_choice": choice,
            "messages": [{"role": "user", "content": "plain words"}]})
    };
    let required = h.openai(&ask(json!("required"))).await.json();
    assert_eq!(
        required["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "get_weather"
    );
    let named = h
        .openai(&ask(
            json!({"type": "function", "function": {"name": "get_time"}}),
        ))
        .await
        .json();
    let calls = named["choices"][0]["message"]["tool_calls"]
        .as_array()
        .expect("calls");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["function"]["name"], "get_time");
    let mut none = ask(json!("none"));
    none["messages"][0]["content"] = json!("get_weather");
    let none = h.openai(&none).await.json();
    assert_eq!(none["choices"][0]["message"]["content"], "get_weather");
}

#[tokio::test]
async fn tool_result_is_echoed() {
    let h = harness().await;
    let body = h
        .openai(&json!({"model": "m", "tools": weather_tools(), "messages": [
            {"role": "user", "content": "get_weather"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\":21}"}
        ]}))
        .await
        .json();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "tool result: {\"temp\":21}"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn tool_calls_stream_in_fragments() {
    let h = harness().await;
    let answer = h
        .openai(
            &json!({"model": "m", "stream": true, "tools": weather_tools(),
            "messages": [{"role": "user", "content": "get_weather now"}]}),
        )
        .await;
    let events = sse_events(&answer.text);
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(SseEvent::json)
        .collect();
    assert_eq!(events.last().map(|e| e.data.as_str()), Some("[DONE]"));
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": null, "refusal": null})
    );
    assert_eq!(
        chunks[1]["choices"][0]["delta"]["tool_calls"][0],
        json!({"index": 0, "id": "call_mock_1", "type": "function",
            "function": {"name": "get_weather", "arguments": ""}})
    );
    let fragments: Vec<&str> = chunks[2..chunks.len() - 1]
        .iter()
        .map(|c| {
            let call = &c["choices"][0]["delta"]["tool_calls"][0];
            assert_eq!(call["index"], 0);
            assert!(call.get("id").is_none());
            call["function"]["arguments"].as_str().expect("fragment")
        })
        .collect();
    assert!(fragments.len() >= 2, "{fragments:?}");
    let args: Value = serde_json::from_str(&fragments.concat()).expect("joined args");
    assert_eq!(
        args,
        json!({"city": "get_weather now", "days": 42, "metric": true})
    );
    assert_eq!(
        chunks.last().expect("finish")["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[tokio::test]
async fn embeddings_float_base64_and_dimensions() {
    let h = harness().await;
    let floats = h
        .post(
            "/v1/embeddings",
            OPENAI_AUTH,
            &json!({"model": "text-embedding-3-small", "input": ["a b", "c"]}),
        )
        .await
        .json();
    assert_eq!(floats["object"], "list");
    assert_eq!(floats["model"], "text-embedding-3-small");
    assert_eq!(
        floats["usage"],
        json!({"prompt_tokens": 3, "total_tokens": 3})
    );
    let first: Vec<f32> =
        serde_json::from_value(floats["data"][0]["embedding"].clone()).expect("floats");
    assert_eq!(first.len(), 8);
    assert_eq!(first, mock_provider::embedding("a b", 8));
    assert_eq!(floats["data"][1]["index"], 1);
    assert_eq!(floats["data"][1]["object"], "embedding");

    let b64 = h
        .post(
            "/v1/embeddings",
            OPENAI_AUTH,
            &json!({"model": "m", "input": "a b", "encoding_format": "base64", "dimensions": 4}),
        )
        .await
        .json();
    let encoded = b64["data"][0]["embedding"].as_str().expect("base64 string");
    assert_eq!(encoded.len(), 24); // 16 bytes -> 24 base64 characters
    let bad = h
        .post(
            "/v1/embeddings",
            OPENAI_AUTH,
            &json!({"model": "m", "input": "x", "dimensions": 0}),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["param"], "dimensions");
}

#[tokio::test]
async fn missing_and_bad_keys_are_401() {
    let h = harness().await;
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let missing = h.post("/v1/chat/completions", &[], &body).await;
    assert_eq!(missing.status, 401);
    let error = missing.json();
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["code"], Value::Null);
    assert!(error["error"]["message"]
        .as_str()
        .expect("message")
        .starts_with("You didn't provide an API key"));
    let bad = h
        .post(
            "/v1/chat/completions",
            &[("authorization", "Bearer bad-key")],
            &body,
        )
        .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["error"]["code"], "invalid_api_key");
    let no_messages = h.openai(&json!({"model": "m"})).await;
    assert_eq!(no_messages.status, 400);
    assert_eq!(no_messages.json()["error"]["param"], "messages");
}

#[tokio::test]
async fn azure_uses_deployment_api_key_and_api_version() {
    let h = harness().await;
    let path = "/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21";
    let body = json!({"messages": [{"role": "user", "content": "hi azure"}]});
    let answer = h.post(path, AZURE_AUTH, &body).await;
    assert_eq!(answer.status, 200);
    let json = answer.json();
    assert_eq!(json["model"], "my-gpt");
    assert_eq!(json["choices"][0]["message"]["content"], "hi azure");
    assert_eq!(json["prompt_filter_results"][0]["prompt_index"], 0);
    assert_eq!(
        json["choices"][0]["content_filter_results"]["hate"],
        json!({"filtered": false, "severity": "safe"})
    );

    let no_version = h
        .post(
            "/openai/deployments/my-gpt/chat/completions",
            AZURE_AUTH,
            &body,
        )
        .await;
    assert_eq!(no_version.status, 404);
    assert_eq!(
        no_version.json(),
        json!({"error": {"code": "404", "message": "Resource not found"}})
    );
    let bearer_only = h.post(path, OPENAI_AUTH, &body).await;
    assert_eq!(bearer_only.status, 401);
    assert_eq!(bearer_only.json()["error"]["code"], "401");

    let log = h.server.log();
    assert_eq!(log[0].provider, "azure");
    assert_eq!(log[0].model, "my-gpt");
    assert_eq!(log[0].query, "api-version=2024-10-21");
}

#[tokio::test]
async fn azure_stream_opens_with_prompt_filter_results() {
    let h = harness().await;
    let answer = h
        .post(
            "/openai/deployments/dep/chat/completions?api-version=2024-10-21",
            AZURE_AUTH,
            &json!({"stream": true, "messages": [{"role": "user", "content": "a b"}]}),
        )
        .await;
    let events = sse_events(&answer.text);
    let first = events[0].json();
    assert_eq!(first["choices"], json!([]));
    assert_eq!(first["id"], "");
    assert_eq!(first["prompt_filter_results"][0]["prompt_index"], 0);
    assert_eq!(events[1].json()["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(events[2].json()["choices"][0]["delta"]["content"], "a ");
    assert_eq!(events[3].json()["choices"][0]["delta"]["content"], "b");
    assert_eq!(events.last().map(|e| e.data.as_str()), Some("[DONE]"));
}

#[tokio::test]
async fn azure_embeddings() {
    let h = harness().await;
    let answer = h
        .post(
            "/openai/deployments/emb/embeddings?api-version=2024-10-21",
            AZURE_AUTH,
            &json!({"input": "x y", "dimensions": 3}),
        )
        .await
        .json();
    assert_eq!(answer["model"], "emb");
    let vector: Vec<f32> =
        serde_json::from_value(answer["data"][0]["embedding"].clone()).expect("floats");
    assert_eq!(vector, mock_provider::embedding("x y", 3));
}
