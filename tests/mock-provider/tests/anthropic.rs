//! Anthropic Messages format over real HTTP.

mod common;

use common::*;
use serde_json::{json, Value};

fn tools() -> Value {
    json!([
        {"name": "get_weather", "description": "w", "input_schema": {"type": "object",
            "properties": {"location": {"type": "string"}, "days": {"type": "number"}}}},
        {"name": "lookup", "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}
    ])
}

#[tokio::test]
async fn message_echoes_last_user_text() {
    let h = harness().await;
    let answer = h
        .anthropic(&json!({"model": "claude-sonnet-4-5", "max_tokens": 100,
            "system": [{"type": "text", "text": "You are terse"}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi there"}]}]}))
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("request-id"), Some("req_mock_1"));
    assert_eq!(
        answer.json(),
        json!({
            "id": "msg_mock_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "Hi there", "citations": null}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 5, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                "output_tokens": 2, "server_tool_use": null, "service_tier": "standard"}
        })
    );
}

#[tokio::test]
async fn max_tokens_truncates_and_is_required() {
    let h = harness().await;
    let capped = h
        .anthropic(&json!({"model": "c", "max_tokens": 1, "messages": [{"role": "user", "content": "a b c"}]}))
        .await
        .json();
    assert_eq!(capped["content"][0]["text"], "a");
    assert_eq!(capped["stop_reason"], "max_tokens");
    let missing = h
        .anthropic(&json!({"model": "c", "messages": [{"role": "user", "content": "a"}]}))
        .await;
    assert_eq!(missing.status, 400);
    let body = missing.json();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["message"], "max_tokens: Field required");
    assert_eq!(body["request_id"], "req_mock_2");
}

#[tokio::test]
async fn version_header_and_key_are_checked() {
    let h = harness().await;
    let body =
        json!({"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": "a"}]});
    let no_version = h.post("/v1/messages", &[("x-api-key", "k")], &body).await;
    assert_eq!(no_version.status, 400);
    assert_eq!(no_version.json()["error"]["type"], "invalid_request_error");
    assert!(no_version.text.contains("anthropic-version"));
    let no_key = h
        .post(
            "/v1/messages",
            &[("anthropic-version", "2023-06-01")],
            &body,
        )
        .await;
    assert_eq!(no_key.status, 401);
    assert_eq!(no_key.json()["error"]["type"], "authentication_error");
    let bad = h
        .post(
            "/v1/messages",
            &[
                ("x-api-key", "bad-key"),
                ("anthropic-version", "2023-06-01"),
            ],
            &body,
        )
        .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["error"]["message"], "invalid x-api-key");
}

#[tokio::test]
async fn stream_has_the_full_event_sequence() {
    let h = harness().await;
    let answer = h
        .anthropic(&json!({"model": "c", "max_tokens": 10, "stream": true,
            "messages": [{"role": "user", "content": "Hello there friend"}]}))
        .await;
    let events = sse_events(&answer.text);
    let names: Vec<&str> = events
        .iter()
        .map(|e| e.event.as_deref().expect("named"))
        .collect();
    assert_eq!(
        names,
        vec![
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let start = events[0].json();
    assert_eq!(start["message"]["id"], "msg_mock_1");
    assert_eq!(start["message"]["content"], json!([]));
    assert_eq!(start["message"]["stop_reason"], Value::Null);
    assert_eq!(start["message"]["usage"]["input_tokens"], 3);
    assert_eq!(
        events[1].json()["content_block"],
        json!({"type": "text", "text": ""})
    );
    let text: String = events[3..6]
        .iter()
        .map(|e| {
            let delta = e.json()["delta"].clone();
            assert_eq!(delta["type"], "text_delta");
            delta["text"].as_str().expect("text").to_string()
        })
        .collect();
    assert_eq!(text, "Hello there friend");
    assert_eq!(events[3].json()["delta"]["text"], "Hello ");
    let delta = events[7].json();
    assert_eq!(
        delta["delta"],
        json!({"stop_reason": "end_turn", "stop_sequence": null})
    );
    assert_eq!(delta["usage"]["output_tokens"], 3);
    assert_eq!(events[8].json(), json!({"type": "message_stop"}));
}

#[tokio::test]
async fn tool_use_blocks_non_stream_and_stream() {
    let h = harness().await;
    let ask = json!({"model": "c", "max_tokens": 50, "tools": tools(),
        "messages": [{"role": "user", "content": "lookup then get_weather"}]});
    let body = h.anthropic(&ask).await.json();
    assert_eq!(body["stop_reason"], "tool_use");
    assert_eq!(
        body["content"],
        json!([
            {"type": "tool_use", "id": "toolu_mock_1", "name": "get_weather",
                "input": {"location": "lookup then get_weather", "days": 42}},
            {"type": "tool_use", "id": "toolu_mock_2", "name": "lookup",
                "input": {"q": "lookup then get_weather"}}
        ])
    );
    assert_eq!(body["usage"]["output_tokens"], 2);

    let mut streamed = ask.clone();
    streamed["stream"] = json!(true);
    let events = sse_events(&h.anthropic(&streamed).await.text);
    let starts: Vec<Value> = events
        .iter()
        .filter(|e| e.event.as_deref() == Some("content_block_start"))
        .map(SseEvent::json)
        .collect();
    assert_eq!(starts.len(), 2);
    assert_eq!(
        starts[0]["content_block"],
        json!({"type": "tool_use", "id": "toolu_mock_3", "name": "get_weather", "input": {}})
    );
    let partial: Vec<String> = events
        .iter()
        .filter(|e| e.event.as_deref() == Some("content_block_delta"))
        .map(SseEvent::json)
        .filter(|e| e["index"] == 0)
        .map(|e| {
            assert_eq!(e["delta"]["type"], "input_json_delta");
            e["delta"]["partial_json"]
                .as_str()
                .expect("partial")
                .to_string()
        })
        .collect();
    assert!(partial.len() >= 2);
    let input: Value = serde_json::from_str(&partial.concat()).expect("input JSON");
    assert_eq!(
        input,
        json!({"location": "lookup then get_weather", "days": 42})
    );
    let delta = events
        .iter()
        .find(|e| e.event.as_deref() == Some("message_delta"))
        .expect("message_delta")
        .json();
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
}

#[tokio::test]
async fn tool_choice_any_tool_none() {
    let h = harness().await;
    let ask = |choice: Value| {
        json!({"model": "c", "max_tokens": 50, "tools": tools(), "tool_choice": choice,
            "messages": [{"role": "user", "content": "no names here"}]})
    };
    let any = h.anthropic(&ask(json!({"type": "any"}))).await.json();
    assert_eq!(any["content"][0]["name"], "get_weather");
    let named = h
        .anthropic(&ask(json!({"type": "tool", "name": "lookup"})))
        .await
        .json();
    assert_eq!(named["content"].as_array().map(Vec::len), Some(1));
    assert_eq!(named["content"][0]["name"], "lookup");
    let auto = h.anthropic(&ask(json!({"type": "auto"}))).await.json();
    assert_eq!(auto["content"][0]["text"], "no names here");
}

#[tokio::test]
async fn tool_result_block_is_echoed() {
    let h = harness().await;
    let body = h
        .anthropic(&json!({"model": "c", "max_tokens": 50, "tools": tools(), "messages": [
            {"role": "user", "content": "get_weather"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                "content": [{"type": "text", "text": "sunny 21C"}]}]}
        ]}))
        .await
        .json();
    assert_eq!(body["content"][0]["text"], "tool result: sunny 21C");
    assert_eq!(body["stop_reason"], "end_turn");
}
