//! Scripted faults (header, model suffix, script queue), the request log and connection behaviour.

mod common;

use std::time::{Duration, Instant};

use common::*;
use mock_provider::{Fault, FaultError};
use serde_json::{json, Value};

fn chat(model: &str, text: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": text}]})
}

fn anthropic_chat(model: &str, text: &str) -> Value {
    json!({"model": model, "max_tokens": 100, "messages": [{"role": "user", "content": text}]})
}

#[tokio::test]
async fn header_fault_gives_rate_limit_with_retry_headers() {
    let h = harness().await;
    let headers = [
        ("authorization", "Bearer k"),
        (
            "x-mock-fault",
            r#"{"status":429,"retry_after":2,"retry_after_ms":1500}"#,
        ),
    ];
    let answer = h
        .post("/v1/chat/completions", &headers, &chat("gpt-4o", "hi"))
        .await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.header("retry-after"), Some("2"));
    assert_eq!(answer.header("retry-after-ms"), Some("1500"));
    let error = answer.json()["error"].clone();
    assert_eq!(error["type"], "requests");
    assert_eq!(error["code"], "rate_limit_exceeded");
    assert_eq!(error["param"], Value::Null);
    assert!(error["message"]
        .as_str()
        .expect("message")
        .contains("gpt-4o"));
    let log = h.server.log();
    assert_eq!(log[0].status, 429);
    assert_eq!(log[0].fault.as_ref().and_then(|f| f.status), Some(429));
    assert!(log[0].completed);
    // Fractional seconds stay fractional.
    let headers = [
        ("authorization", "Bearer k"),
        (
            "x-mock-fault",
            r#"{"error":"rate_limit","retry_after":0.5}"#,
        ),
    ];
    let answer = h
        .post("/v1/chat/completions", &headers, &chat("m", "hi"))
        .await;
    assert_eq!(answer.header("retry-after"), Some("0.5"));
}

#[tokio::test]
async fn model_suffix_fault_is_stripped_from_the_model() {
    let h = harness().await;
    let answer = h
        .openai(&chat("gpt-4o!status=503,retry_after=3", "hi"))
        .await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.header("retry-after"), Some("3"));
    assert_eq!(answer.json()["error"]["type"], "server_error");
    let log = h.server.log();
    assert_eq!(log[0].model, "gpt-4o");
    assert_eq!(log[0].fault.as_ref().and_then(|f| f.retry_after), Some(3.0));

    let gemini = h
        .gemini(
            "gem!error=context_window:generateContent",
            &json!({"contents": [{"parts": [{"text": "x"}]}]}),
        )
        .await;
    assert_eq!(gemini.status, 400);
    assert_eq!(
        gemini.json(),
        json!({"error": {"code": 400, "status": "INVALID_ARGUMENT",
            "message": "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."}})
    );
    assert_eq!(h.server.log()[1].model, "gem");

    let typo = h.openai(&chat("m!stauts=500", "hi")).await;
    assert_eq!(typo.status, 400);
    assert!(typo.text.contains("stauts"));
}

#[tokio::test]
async fn script_queue_matches_provider_model_and_times() {
    let h = harness().await;
    h.server.push_script(vec![
        Fault {
            error: Some(FaultError::Server),
            times: Some(2),
            match_provider: Some("anthropic".into()),
            ..Fault::default()
        },
        Fault {
            status: Some(429),
            match_model: Some("x".into()),
            ..Fault::default()
        },
    ]);
    assert_eq!(h.openai(&chat("y", "hi")).await.status, 200);
    assert_eq!(h.openai(&chat("x", "hi")).await.status, 429);
    assert_eq!(h.openai(&chat("x", "hi")).await.status, 200);
    for _ in 0..2 {
        let answer = h.anthropic(&anthropic_chat("c", "hi")).await;
        assert_eq!(answer.status, 500);
        assert_eq!(answer.json()["error"]["type"], "api_error");
    }
    assert_eq!(h.anthropic(&anthropic_chat("c", "hi")).await.status, 200);

    // Header faults win over the queue and do not consume it.
    h.server.push_script(vec![Fault {
        status: Some(500),
        ..Fault::default()
    }]);
    let headers = [
        ("authorization", "Bearer k"),
        ("x-mock-fault", r#"{"status":404}"#),
    ];
    assert_eq!(
        h.post("/v1/chat/completions", &headers, &chat("m", "hi"))
            .await
            .status,
        404
    );
    assert_eq!(h.openai(&chat("m", "hi")).await.status, 500);
    h.server.push_script(vec![Fault {
        status: Some(500),
        ..Fault::default()
    }]);
    h.server.clear_script();
    assert_eq!(h.openai(&chat("m", "hi")).await.status, 200);
}

#[tokio::test]
async fn control_endpoints_over_http() {
    let h = harness().await;
    let url = h.server.url();
    let health = h
        .client
        .get(format!("{url}/_mock/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.text().await.expect("text"), "ok");
    let queued = h
        .client
        .post(format!("{url}/_mock/script"))
        .body(r#"[{"error":"overloaded","match_provider":"anthropic"},{"status":500,"times":3}]"#)
        .send()
        .await
        .expect("script");
    assert_eq!(queued.status(), 200);
    assert_eq!(queued.text().await.expect("text"), r#"{"queued":2}"#);
    let bad = h
        .client
        .post(format!("{url}/_mock/script"))
        .body("[{\"nope\":1}]")
        .send()
        .await
        .expect("bad");
    assert_eq!(bad.status(), 400);

    let overloaded = h.anthropic(&anthropic_chat("c", "hi")).await;
    assert_eq!(overloaded.status, 529);
    assert_eq!(
        overloaded.json()["error"],
        json!({"type": "overloaded_error", "message": "Overloaded"})
    );
    let deleted = h
        .client
        .delete(format!("{url}/_mock/script"))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 204);
    assert_eq!(h.openai(&chat("m", "after")).await.status, 200);

    let log: Value = serde_json::from_str(
        &h.client
            .get(format!("{url}/_mock/log"))
            .send()
            .await
            .expect("log")
            .text()
            .await
            .expect("text"),
    )
    .expect("log JSON");
    let entries = log.as_array().expect("array");
    assert_eq!(entries.len(), 2, "control requests are not logged");
    let last = &entries[1];
    assert_eq!(last["seq"], 2);
    assert_eq!(last["method"], "POST");
    assert_eq!(last["path"], "/v1/chat/completions");
    assert_eq!(last["query"], "");
    assert_eq!(last["provider"], "openai");
    assert_eq!(last["endpoint"], "chat");
    assert_eq!(last["model"], "m");
    assert_eq!(last["stream"], false);
    assert_eq!(last["headers"]["authorization"], "Bearer sk-test");
    assert_eq!(last["body"]["messages"][0]["content"], "after");
    assert_eq!(last["fault"], Value::Null);
    assert_eq!(last["status"], 200);
    assert_eq!(last["completed"], true);
    assert_eq!(last["client_closed_early"], false);
    assert_eq!(entries[0]["fault"]["error"], "overloaded");

    let cleared = h
        .client
        .delete(format!("{url}/_mock/log"))
        .send()
        .await
        .expect("clear");
    assert_eq!(cleared.status(), 204);
    assert!(h.server.log().is_empty());
    h.openai(&chat("m", "again")).await;
    assert_eq!(h.server.log()[0].seq, 3, "seq keeps counting after a clear");
}

#[tokio::test]
async fn error_bodies_per_kind_and_provider() {
    let h = harness().await;
    let openai = |fault: &'static str| {
        let body = chat("gpt-4o", "hi");
        let h = &h;
        async move {
            h.post(
                "/v1/chat/completions",
                &[("authorization", "Bearer k"), ("x-mock-fault", fault)],
                &body,
            )
            .await
        }
    };
    let ctx = openai(r#"{"error":"context_window"}"#).await;
    assert_eq!(ctx.status, 400);
    assert_eq!(
        ctx.json(),
        json!({"error": {"message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 200000 tokens. Please reduce the length of the messages.",
            "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}})
    );
    for (fault, status, code) in [
        (r#"{"error":"auth"}"#, 401, json!("invalid_api_key")),
        (
            r#"{"error":"permission"}"#,
            403,
            json!("unsupported_country_region_territory"),
        ),
        (r#"{"error":"not_found"}"#, 404, json!("model_not_found")),
        (r#"{"error":"server"}"#, 500, Value::Null),
        (r#"{"error":"unavailable"}"#, 503, Value::Null),
        (r#"{"error":"overloaded"}"#, 503, Value::Null),
        (r#"{"error":"bad_request"}"#, 400, Value::Null),
        (r#"{"error":"server","status":502}"#, 502, Value::Null),
    ] {
        let answer = openai(fault).await;
        assert_eq!(answer.status, status, "{fault}");
        assert_eq!(answer.json()["error"]["code"], code, "{fault}");
    }

    let anthropic_fault = |fault: &'static str| {
        let h = &h;
        async move {
            let headers = [
                ("x-api-key", "k"),
                ("anthropic-version", "2023-06-01"),
                ("x-mock-fault", fault),
            ];
            h.post("/v1/messages", &headers, &anthropic_chat("c", "hi"))
                .await
        }
    };
    for (fault, status, kind) in [
        (r#"{"error":"rate_limit"}"#, 429, "rate_limit_error"),
        (r#"{"error":"auth"}"#, 401, "authentication_error"),
        (r#"{"error":"permission"}"#, 403, "permission_error"),
        (r#"{"error":"not_found"}"#, 404, "not_found_error"),
        (r#"{"status":413}"#, 413, "request_too_large"),
        (r#"{"status":529}"#, 529, "overloaded_error"),
    ] {
        let answer = anthropic_fault(fault).await;
        assert_eq!(answer.status, status, "{fault}");
        let body = answer.json();
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], kind, "{fault}");
        assert!(body["request_id"]
            .as_str()
            .expect("request id")
            .starts_with("req_mock_"));
    }
    let ctx = anthropic_fault(r#"{"error":"context_window"}"#)
        .await
        .json();
    assert_eq!(
        ctx["error"],
        json!({"type": "invalid_request_error", "message": "prompt is too long: 210000 tokens > 200000 maximum"})
    );

    for (fault, status, name) in [
        (
            r#"{"error":"rate_limit","retry_after":7}"#,
            429,
            "RESOURCE_EXHAUSTED",
        ),
        (r#"{"error":"overloaded"}"#, 503, "UNAVAILABLE"),
        (r#"{"error":"server"}"#, 500, "INTERNAL"),
        (r#"{"error":"permission"}"#, 403, "PERMISSION_DENIED"),
        (r#"{"error":"not_found"}"#, 404, "NOT_FOUND"),
        (r#"{"status":400}"#, 400, "INVALID_ARGUMENT"),
    ] {
        let headers = [("x-goog-api-key", "k"), ("x-mock-fault", fault)];
        let answer = h
            .post(
                "/v1beta/models/g:generateContent",
                &headers,
                &json!({"contents": [{"parts": [{"text": "x"}]}]}),
            )
            .await;
        assert_eq!(answer.status, status, "{fault}");
        let body = answer.json();
        assert_eq!(body["error"]["code"], status);
        assert_eq!(body["error"]["status"], name);
        if status == 429 {
            assert_eq!(body["error"]["details"][1]["retryDelay"], "7s");
            assert_eq!(answer.header("retry-after"), Some("7"));
        }
    }

    let azure = h
        .post(
            "/openai/deployments/d/chat/completions?api-version=2024-10-21",
            &[
                ("api-key", "k"),
                ("x-mock-fault", r#"{"error":"rate_limit","retry_after":4}"#),
            ],
            &json!({"messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(azure.status, 429);
    assert_eq!(azure.json()["error"]["code"], "429");
    assert!(azure.text.contains("Please retry after 4 seconds"));
}

#[tokio::test]
async fn content_filter_per_provider() {
    let h = harness().await;
    let openai = h.openai(&chat("m!error=content_filter", "bad")).await;
    assert_eq!(openai.status, 200);
    let body = openai.json();
    assert_eq!(body["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(body["choices"][0]["message"]["content"], Value::Null);

    let mut stream = chat("m!error=content_filter", "bad");
    stream["stream"] = json!(true);
    let events = sse_events(&h.openai(&stream).await.text);
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[1].json()["choices"][0]["finish_reason"],
        "content_filter"
    );

    let azure = h
        .post(
            "/openai/deployments/d!error=content_filter/chat/completions?api-version=2024-10-21",
            AZURE_AUTH,
            &json!({"messages": [{"role": "user", "content": "bad"}]}),
        )
        .await;
    assert_eq!(azure.status, 400);
    let error = azure.json()["error"].clone();
    assert_eq!(error["code"], "content_filter");
    assert_eq!(error["param"], "prompt");
    assert_eq!(error["status"], 400);
    assert!(error["message"].as_str().expect("message").starts_with("The response was filtered due to the prompt triggering Azure OpenAI's content management policy"));

    let anthropic = h
        .anthropic(&anthropic_chat("c!error=content_filter", "bad"))
        .await
        .json();
    assert_eq!(anthropic["stop_reason"], "refusal");
    assert_eq!(anthropic["content"], json!([]));
    let mut streamed = anthropic_chat("c!error=content_filter", "bad");
    streamed["stream"] = json!(true);
    let events = sse_events(&h.anthropic(&streamed).await.text);
    let delta = events
        .iter()
        .find(|e| e.event.as_deref() == Some("message_delta"))
        .expect("delta")
        .json();
    assert_eq!(delta["delta"]["stop_reason"], "refusal");

    let body = json!({"contents": [{"parts": [{"text": "bad"}]}]});
    let gemini = h
        .gemini("g!error=content_filter:generateContent", &body)
        .await;
    assert_eq!(gemini.status, 200);
    let gemini = gemini.json();
    assert_eq!(gemini["promptFeedback"]["blockReason"], "SAFETY");
    assert!(gemini.get("candidates").is_none());
    let events = sse_events(
        &h.gemini(
            "g!error=content_filter:streamGenerateContent?alt=sse",
            &body,
        )
        .await
        .text,
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].json()["promptFeedback"]["blockReason"], "SAFETY");
}

#[tokio::test]
async fn cached_write_and_reasoning_tokens_in_each_usage_format() {
    let h = harness().await;
    let fault = r#"{"cached_tokens":100,"cache_write_tokens":50,"reasoning_tokens":7}"#;
    let openai = h
        .post(
            "/v1/chat/completions",
            &[("authorization", "Bearer k"), ("x-mock-fault", fault)],
            &chat("m", "a b"),
        )
        .await
        .json();
    assert_eq!(openai["usage"]["prompt_tokens"], 102);
    assert_eq!(
        openai["usage"]["prompt_tokens_details"]["cached_tokens"],
        100
    );
    assert_eq!(openai["usage"]["completion_tokens"], 9);
    assert_eq!(
        openai["usage"]["completion_tokens_details"]["reasoning_tokens"],
        7
    );
    assert_eq!(openai["usage"]["total_tokens"], 111);

    let headers = [
        ("x-api-key", "k"),
        ("anthropic-version", "2023-06-01"),
        ("x-mock-fault", fault),
    ];
    let anthropic = h
        .post("/v1/messages", &headers, &anthropic_chat("c", "a b"))
        .await
        .json();
    assert_eq!(
        anthropic["usage"],
        json!({"input_tokens": 2, "cache_creation_input_tokens": 50, "cache_read_input_tokens": 100,
            "cache_creation": {"ephemeral_5m_input_tokens": 50, "ephemeral_1h_input_tokens": 0},
            "output_tokens": 9, "server_tool_use": null, "service_tier": "standard"})
    );

    let headers = [("x-goog-api-key", "k"), ("x-mock-fault", fault)];
    let gemini = h
        .post(
            "/v1beta/models/g:generateContent",
            &headers,
            &json!({"contents": [{"parts": [{"text": "a b"}]}]}),
        )
        .await
        .json();
    let usage = &gemini["usageMetadata"];
    assert_eq!(usage["promptTokenCount"], 102);
    assert_eq!(usage["cachedContentTokenCount"], 100);
    assert_eq!(usage["candidatesTokenCount"], 2);
    assert_eq!(usage["thoughtsTokenCount"], 7);
    assert_eq!(usage["totalTokenCount"], 111);
}

#[tokio::test]
async fn delay_holds_back_the_headers() {
    let h = harness().await;
    let started = Instant::now();
    let answer = h.openai(&chat("m!delay_ms=150", "late")).await;
    assert_eq!(answer.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(answer.json()["choices"][0]["message"]["content"], "late");
}

#[tokio::test]
async fn reset_closes_without_a_response() {
    let h = harness().await;
    let result = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", h.server.url()))
        .header("authorization", "Bearer k")
        .body(chat("m!reset=true", "x").to_string())
        .send()
        .await;
    assert!(result.is_err(), "a reset must not produce a response");
    let entry = wait_for_log(&h.server, 1, |e| e.fault.is_some()).await;
    assert_eq!(entry.status, 0);
    assert!(!entry.completed);
    assert!(!entry.client_closed_early);
    assert_eq!(h.server.log().len(), 1);
}

#[tokio::test]
async fn malformed_non_stream_and_stream() {
    let h = harness().await;
    let answer = h.openai(&chat("m!malformed=true", "a b c")).await;
    assert_eq!(answer.status, 200);
    assert!(
        serde_json::from_str::<Value>(&answer.text).is_err(),
        "{}",
        answer.text
    );
    assert!(answer.text.starts_with('{'));

    let mut stream = chat("m!malformed=true", "a b c");
    stream["stream"] = json!(true);
    let events = sse_events(&h.openai(&stream).await.text);
    // role, "a ", broken, "b ", "c", finish, [DONE]
    assert_eq!(events.len(), 7);
    assert_eq!(events[1].json()["choices"][0]["delta"]["content"], "a ");
    assert!(serde_json::from_str::<Value>(&events[2].data).is_err());
    assert_eq!(events[3].json()["choices"][0]["delta"]["content"], "b ");
}

#[tokio::test]
async fn cut_after_drops_streams_and_bodies() {
    let h = harness().await;
    let mut stream = chat("m!cut_after=1", "one two three");
    stream["stream"] = json!(true);
    let response = h.send("/v1/chat/completions", OPENAI_AUTH, &stream).await;
    assert_eq!(response.status(), 200);
    let (text, errored) = read_stream(response).await;
    assert!(errored, "a cut stream must end in a transport error");
    let events = sse_events(&text);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].json()["choices"][0]["delta"]["content"], "one ");
    assert!(!text.contains("[DONE]"));
    let entry = wait_for_log(&h.server, 1, |e| e.status == 200).await;
    assert!(!entry.completed && !entry.client_closed_early);

    let mut anthropic = anthropic_chat("c!cut_after=2", "one two three");
    anthropic["stream"] = json!(true);
    let (text, errored) =
        read_stream(h.send("/v1/messages", ANTHROPIC_AUTH, &anthropic).await).await;
    assert!(errored);
    let names: Vec<String> = sse_events(&text)
        .into_iter()
        .filter_map(|e| e.event)
        .collect();
    assert_eq!(
        names,
        vec![
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta"
        ]
    );

    let gemini_body = json!({"contents": [{"parts": [{"text": "one two three"}]}]});
    let (text, errored) = read_stream(
        h.send(
            "/v1beta/models/g!cut_after=9:streamGenerateContent?alt=sse",
            GEMINI_AUTH,
            &gemini_body,
        )
        .await,
    )
    .await;
    assert!(errored);
    let events = sse_events(&text);
    assert_eq!(
        events.len(),
        2,
        "the finishReason event is never sent on a cut"
    );
    assert!(events
        .iter()
        .all(|e| e.json()["candidates"][0].get("finishReason").is_none()));

    let response = h
        .send(
            "/v1/chat/completions",
            OPENAI_AUTH,
            &chat("m!cut_after=0", "whole body"),
        )
        .await;
    assert_eq!(response.status(), 200);
    let length: usize = response.headers()["content-length"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("number");
    assert!(length > 100);
    assert!(
        response.text().await.is_err(),
        "half a body then a closed connection"
    );
}

#[tokio::test]
async fn chunk_delay_paces_events() {
    let h = harness().await;
    let mut stream = chat("m!chunk_delay_ms=40", "a b c");
    stream["stream"] = json!(true);
    let started = Instant::now();
    let (text, errored) =
        read_stream(h.send("/v1/chat/completions", OPENAI_AUTH, &stream).await).await;
    assert!(!errored);
    assert_eq!(sse_events(&text).len(), 6);
    // Six events means five gaps of 40 ms.
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn client_leaving_a_slow_stream_is_recorded() {
    let h = harness().await;
    let mut stream = chat("m!chunk_delay_ms=300", "one two three four five six");
    stream["stream"] = json!(true);
    let mut response = h.send("/v1/chat/completions", OPENAI_AUTH, &stream).await;
    let first = response.chunk().await.expect("chunk").expect("some data");
    assert!(String::from_utf8_lossy(&first).starts_with("data: "));
    drop(response);
    let entry = wait_for_log(&h.server, 1, |e| e.client_closed_early).await;
    assert!(!entry.completed);
    assert_eq!(entry.status, 200);
}

#[tokio::test]
async fn client_leaving_during_delay_is_recorded() {
    let h = harness().await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .expect("client");
    let result = client
        .post(format!("{}/v1/chat/completions", h.server.url()))
        .header("authorization", "Bearer k")
        .body(chat("m!delay_ms=5000", "x").to_string())
        .send()
        .await;
    assert!(result.is_err());
    let entry = wait_for_log(&h.server, 1, |e| e.client_closed_early).await;
    assert_eq!(entry.status, 0);
    assert!(!entry.completed);
}

#[tokio::test]
async fn sockets_get_nodelay_and_keep_alive() {
    let h = harness().await;
    for _ in 0..3 {
        assert_eq!(h.openai(&chat("m", "hi")).await.status, 200);
    }
    assert_eq!(
        h.server.accepted_connections(),
        1,
        "one kept-alive connection"
    );
    assert_eq!(h.server.nodelay_connections(), 1);
    let other = reqwest::Client::new();
    other
        .get(format!("{}/_mock/health", h.server.url()))
        .send()
        .await
        .expect("health");
    assert_eq!(h.server.accepted_connections(), 2);
    assert_eq!(h.server.nodelay_connections(), 2);
}

#[tokio::test]
async fn unknown_paths_are_logged_404() {
    let h = harness().await;
    let answer = h.post("/v1/assistants", OPENAI_AUTH, &json!({})).await;
    assert_eq!(answer.status, 404);
    let log = h.server.log();
    assert_eq!(log[0].provider, "unknown");
    assert_eq!(log[0].status, 404);
}

#[tokio::test]
async fn drop_stops_the_server() {
    let server = mock_provider::MockServer::start().await.expect("start");
    let url = server.url();
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let result = reqwest::Client::new()
        .get(format!("{url}/_mock/health"))
        .send()
        .await;
    assert!(result.is_err());
}
