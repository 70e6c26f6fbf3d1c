//! The Responses API over loopback against the mock provider: native pass-through to
//! OpenAI and Azure (`POST /responses`), translation to Anthropic and Gemini through chat
//! completions, tool round trips, streamed event order and text assembly, typed errors and
//! cost facts. Every Response and event is checked against the OpenAI OpenAPI schema.

use crate::common;

use common::schema::{assert_valid, Spec};
use futures_util::StreamExt;
use mock_provider::MockServer;
use serde_json::{json, Value};
use switchpoint_core::api::responses::{
    OutputItem, ResponseObject, ResponseStatus, ResponseStreamEvent, ResponsesRequest,
};
use switchpoint_core::api::{from_json_value, ErrorKind};
use switchpoint_core::{Gateway, RequestContext};

fn gateway(url: &str) -> Gateway {
    Gateway::from_value(json!({
        "providers": {
            "oai": {"kind": "openai", "base_url": format!("{url}/v1"), "api_key": "sk-test",
                    "responses": "native"},
            "oai-chat": {"kind": "openai", "base_url": format!("{url}/v1"), "api_key": "sk-test"},
            "az": {"kind": "azure_openai", "base_url": url, "api_key": "az-test",
                   "api_version": "2024-10-21", "responses": "native"},
            "claude": {"kind": "anthropic", "base_url": url, "api_key": "sk-ant-test"},
            "gem": {"kind": "gemini", "base_url": url, "api_key": "gm-test"}
        },
        "models": {
            "gpt": {"provider": "oai", "model": "gpt-4o"},
            "gpt-via-chat": {"provider": "oai-chat", "model": "gpt-4o"},
            "azure": {"provider": "az", "model": "gpt-4o"},
            "sonnet": {"provider": "claude", "model": "claude-sonnet-4-5"},
            "flash": {"provider": "gem", "model": "gemini-2.5-flash"},
            "gpt-bad": {"provider": "oai", "model": "gpt-4o!error=context_window"},
            "gpt-cut": {"provider": "oai", "model": "gpt-4o!cut_after=2"},
            "sonnet-cut": {"provider": "claude", "model": "claude-sonnet-4-5!cut_after=2"},
            "gpt-cached": {"provider": "oai", "model": "gpt-4o!cached_tokens=100,reasoning_tokens=7"}
        }
    }))
    .expect("gateway")
}

fn request(v: Value) -> ResponsesRequest {
    from_json_value(v).expect("request")
}

/// The Response as JSON, without the gateway's own `switchpoint` facts.
fn wire(r: &ResponseObject) -> Value {
    let mut v = serde_json::to_value(r).expect("serializes");
    if let Some(o) = v.as_object_mut() {
        o.remove("switchpoint");
    }
    v
}

fn weather_tool() -> Value {
    json!({"type": "function", "name": "get_weather", "description": "Weather for a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_openai_gets_the_responses_request_itself() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock.url());
    let req = request(json!({
        "model": "gpt", "instructions": "be brief", "input": "alpha beta gamma delta",
        "metadata": {"team": "a"}, "store": false, "reasoning": {"effort": "low"}
    }));
    let r = gw
        .responses(&req, &RequestContext::default())
        .await
        .expect("answer");
    assert_eq!(r.output_text(), "alpha beta gamma delta");
    assert_eq!(r.status, ResponseStatus::Completed);
    assert!(r.id.starts_with("resp_mock_"), "{}", r.id);
    let u = r.usage.as_ref().expect("usage");
    // P = 4 input words + 2 instruction words; C = 4.
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.total_tokens),
        (6, 4, 10)
    );
    assert_eq!(r.metadata.get("team"), Some(&json!("a")));
    assert_valid(Spec::OpenAi, "Response", &wire(&r));
    let facts = r.switchpoint.as_ref().expect("facts");
    assert_eq!(facts.provider, "oai");
    assert!(facts.cost.is_some(), "gpt-4o is priced: {facts:?}");

    let log = mock.log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].path, "/v1/responses");
    assert_eq!(log[0].endpoint, "responses");
    // The caller's fields pass through untouched, with the target's model id.
    assert_eq!(log[0].body["model"], "gpt-4o");
    assert_eq!(log[0].body["instructions"], "be brief");
    assert_eq!(log[0].body["reasoning"], json!({"effort": "low"}));
    assert_eq!(log[0].body["store"], false);
    assert!(log[0].body.get("messages").is_none());
    assert_eq!(log[0].headers["authorization"], "Bearer sk-test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_without_native_mode_and_others_are_translated() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock.url());
    for (model, path) in [
        ("gpt-via-chat", "/v1/chat/completions"),
        ("sonnet", "/v1/messages"),
        ("flash", "/v1beta/models/gemini-2.5-flash:generateContent"),
    ] {
        mock.clear_log();
        let req = request(json!({"model": model, "instructions": "be brief",
                                 "input": [{"role": "user", "content": [
                                     {"type": "input_text", "text": "alpha beta gamma delta"}]}],
                                 "max_output_tokens": 100}));
        let r = gw
            .responses(&req, &RequestContext::default())
            .await
            .unwrap_or_else(|e| panic!("{model}: {e}"));
        assert_eq!(r.output_text(), "alpha beta gamma delta", "{model}");
        assert_eq!(r.status, ResponseStatus::Completed);
        assert!(r.id.starts_with("resp_"), "{}", r.id);
        let u = r.usage.as_ref().expect("usage");
        assert_eq!((u.input_tokens, u.output_tokens), (6, 4), "{model}");
        assert_eq!(r.max_output_tokens, Some(100));
        assert_valid(Spec::OpenAi, "Response", &wire(&r));
        let facts = r.switchpoint.as_ref().expect("facts");
        assert!(facts.cost.is_some(), "{model} is priced: {facts:?}");
        let log = mock.log();
        assert_eq!(log.len(), 1, "{model}");
        assert_eq!(log[0].path, path, "{model}");
        // The cache marker never reaches a provider.
        assert!(!log[0].body.to_string().contains("switchpoint_responses"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_native_posts_the_v1_responses_path() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock.url());
    let req = request(json!({"model": "azure", "input": "hello there"}));
    let r = gw
        .responses(&req, &RequestContext::default())
        .await
        .expect("answer");
    assert_eq!(r.output_text(), "hello there");
    let log = mock.log();
    assert_eq!(log[0].path, "/openai/v1/responses");
    assert_eq!(log[0].body["model"], "gpt-4o");
    assert_eq!(log[0].headers["api-key"], "az-test");
}

/// A tool call, then its output sent back: the model answers from the tool result.
async fn tool_round_trip(gw: &Gateway, model: &str) {
    let first = request(json!({
        "model": model, "input": "get_weather Paris", "tools": [weather_tool()]
    }));
    let r = gw
        .responses(&first, &RequestContext::default())
        .await
        .unwrap_or_else(|e| panic!("{model}: {e}"));
    assert_valid(Spec::OpenAi, "Response", &wire(&r));
    let calls = r.function_calls();
    assert_eq!(calls.len(), 1, "{model}: {:?}", r.output);
    assert_eq!(calls[0].name, "get_weather");
    let args: Value = serde_json::from_str(&calls[0].arguments).expect("arguments JSON");
    assert_eq!(args, json!({"city": "get_weather Paris"}));
    let call_id = calls[0].call_id.clone();
    assert!(!call_id.is_empty());

    let second = request(json!({
        "model": model, "tools": [weather_tool()],
        "input": [
            {"role": "user", "content": "get_weather Paris"},
            {"type": "function_call", "call_id": call_id, "name": "get_weather",
             "arguments": calls[0].arguments},
            {"type": "function_call_output", "call_id": call_id, "output": "sunny"}
        ]
    }));
    let r = gw
        .responses(&second, &RequestContext::default())
        .await
        .unwrap_or_else(|e| panic!("{model}: {e}"));
    // Gemini gets the output wrapped as a functionResponse object, which the mock echoes.
    let expected = if model == "flash" {
        r#"tool result: {"content":"sunny"}"#
    } else {
        "tool result: sunny"
    };
    assert_eq!(r.output_text(), expected, "{model}");
    assert!(r.function_calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_round_trip_native_and_translated() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock.url());
    for model in ["gpt", "sonnet", "flash"] {
        tool_round_trip(&gw, model).await;
    }
    // Anthropic saw the function_call_output as a tool_result block.
    let log = mock.log();
    let anthropic = log
        .iter()
        .filter(|e| e.provider == "anthropic")
        .nth(1)
        .expect("second anthropic call");
    let last = anthropic.body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .expect("messages");
    assert_eq!(last["content"][0]["type"], "tool_result");
    assert_eq!(last["content"][0]["content"], "sunny");
}

async fn collect(
    gw: &Gateway,
    req: &ResponsesRequest,
) -> (
    Vec<ResponseStreamEvent>,
    Option<switchpoint_core::api::Error>,
) {
    let mut s = gw
        .responses_stream(req, &RequestContext::default())
        .await
        .expect("stream opens");
    let mut events = Vec::new();
    let mut error = None;
    while let Some(item) = s.next().await {
        match item {
            Ok(e) => events.push(e),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    assert!(s.next().await.is_none(), "nothing after the end");
    (events, error)
}

fn types(events: &[ResponseStreamEvent]) -> Vec<&str> {
    events.iter().map(ResponseStreamEvent::event_type).collect()
}

fn check_events(events: &[ResponseStreamEvent]) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(
            e.sequence_number(),
            i as u64,
            "sequence of {}",
            e.event_type()
        );
        let mut v = serde_json::to_value(e).expect("serializes");
        if let Some(r) = v.get_mut("response").and_then(Value::as_object_mut) {
            r.remove("switchpoint");
        }
        assert_valid(Spec::OpenAi, "ResponseStreamEvent", &v);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_have_the_event_order_and_assemble_the_text() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock.url());
    for model in ["gpt", "azure", "sonnet", "flash", "gpt-via-chat"] {
        let req = request(json!({"model": model, "input": "one two three", "stream": true}));
        let (events, error) = collect(&gw, &req).await;
        assert!(error.is_none(), "{model}: {error:?}");
        check_events(&events);
        let t = types(&events);
        assert_eq!(
            &t[..4],
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added"
            ],
            "{model}"
        );
        assert_eq!(
            &t[t.len() - 4..],
            [
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.completed"
            ],
            "{model}"
        );
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                ResponseStreamEvent::OutputTextDelta { delta, .. } => Some(delta.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "one two three", "{model}");
        let done = events
            .last()
            .and_then(|e| e.final_response())
            .expect("final");
        assert_eq!(done.output_text(), "one two three");
        let u = done.usage.as_ref().expect("usage in response.completed");
        assert_eq!((u.input_tokens, u.output_tokens), (3, 3), "{model}");
        let facts = done.switchpoint.as_ref().expect("facts");
        assert!(facts.cost.is_some(), "{model}: {facts:?}");
    }
    let native: Vec<_> = mock
        .log()
        .into_iter()
        .filter(|e| e.endpoint == "responses")
        .collect();
    assert_eq!(native.len(), 2, "gpt and azure streamed natively");
    assert!(native.iter().all(|e| e.stream && e.body["stream"] == true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_tool_calls_carry_their_arguments() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock.url());
    for model in ["gpt", "sonnet"] {
        let req = request(json!({"model": model, "input": "get_weather now",
                                 "tools": [weather_tool()], "stream": true}));
        let (events, error) = collect(&gw, &req).await;
        assert!(error.is_none(), "{model}: {error:?}");
        check_events(&events);
        let args: String = events
            .iter()
            .filter_map(|e| match e {
                ResponseStreamEvent::FunctionCallArgumentsDelta { delta, .. } => {
                    Some(delta.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(args, r#"{"city":"get_weather now"}"#, "{model}");
        let t = types(&events);
        assert!(
            t.contains(&"response.function_call_arguments.done"),
            "{model}: {t:?}"
        );
        let done = events
            .last()
            .and_then(|e| e.final_response())
            .expect("final");
        assert_eq!(done.status, ResponseStatus::Completed);
        let calls = done.function_calls();
        assert_eq!(calls.len(), 1, "{model}");
        assert_eq!(calls[0].arguments, args);
        assert!(matches!(
            done.output.last(),
            Some(OutputItem::FunctionCall(_))
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_streams_end_with_response_failed_and_a_connection_error() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock.url());
    for model in ["gpt-cut", "sonnet-cut"] {
        let req = request(json!({"model": model, "input": "one two three four five"}));
        let (events, error) = collect(&gw, &req).await;
        let e = error.unwrap_or_else(|| panic!("{model}: the cut is an error"));
        assert_eq!(e.kind, ErrorKind::Connection, "{model}: {e}");
        let last = events.last().expect("events before the cut");
        assert_eq!(last.event_type(), "response.failed", "{model}");
        let failed = last.final_response().expect("response");
        assert_eq!(failed.status, ResponseStatus::Failed);
        let error = failed.error.as_ref().expect("error");
        assert_eq!(error.code, "server_error");
        assert!(
            error.message.starts_with("connection: "),
            "{}",
            error.message
        );
        check_events(&events);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_typed() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock.url());
    let ctx = RequestContext::default();

    let e = gw
        .responses(&request(json!({"model": "gpt-bad", "input": "x"})), &ctx)
        .await
        .expect_err("context window");
    assert_eq!(e.kind, ErrorKind::ContextWindowExceeded, "{e}");
    assert_eq!(e.provider.as_deref(), Some("oai"));

    // What chat completions cannot express is refused on translated targets only.
    let e = gw
        .responses(
            &request(json!({"model": "sonnet", "input": "x", "previous_response_id": "resp_1"})),
            &ctx,
        )
        .await
        .expect_err("no server-side state on Anthropic");
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert_eq!(e.param.as_deref(), Some("previous_response_id"));
    let e = gw
        .responses(
            &request(json!({"model": "flash", "input": "x",
                            "tools": [weather_tool(), {"type": "web_search"}]})),
            &ctx,
        )
        .await
        .expect_err("built-in tool");
    assert_eq!(e.param.as_deref(), Some("tools[1].type"));
    assert!(e.message.contains("web_search"), "{}", e.message);
    let before = mock.log().len();
    assert_eq!(before, 1, "refused requests never reach a provider");

    // Native OpenAI takes both.
    let r = gw
        .responses(
            &request(
                json!({"model": "gpt", "input": "hi there", "previous_response_id": "resp_1",
                            "tools": [{"type": "web_search"}]}),
            ),
            &ctx,
        )
        .await
        .expect("native pass-through");
    assert_eq!(r.previous_response_id.as_deref(), Some("resp_1"));
    let log = mock.log();
    assert_eq!(
        log.last().map(|e| e.body["previous_response_id"].clone()),
        Some(json!("resp_1"))
    );

    let e = gw
        .responses(&request(json!({"model": "gpt"})), &ctx)
        .await
        .expect_err("no input");
    assert_eq!(e.param.as_deref(), Some("input"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_usage_details_reach_the_response_and_the_cost() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock.url());
    let r = gw
        .responses(
            &request(json!({"model": "gpt-cached", "input": "alpha beta"})),
            &RequestContext::default(),
        )
        .await
        .expect("answer");
    let u = r.usage.as_ref().expect("usage");
    assert_eq!(
        (u.input_tokens, u.input_tokens_details.cached_tokens),
        (102, 100)
    );
    assert_eq!(
        (u.output_tokens, u.output_tokens_details.reasoning_tokens),
        (9, 7)
    );
    // gpt-4o: $2.50 in, $1.25 cached, $10 out per 1M tokens.
    // 2 x 2.5 + 100 x 1.25 + 9 x 10 = 0.000005 + 0.000125 + 0.00009
    let cost = r.switchpoint.and_then(|f| f.cost).expect("cost");
    assert_eq!(cost.usd.to_string(), "0.00022");
}

#[test]
fn responses_mode_is_validated_and_defaults_by_host() {
    let e = Gateway::from_value(json!({
        "providers": {"claude": {"kind": "anthropic", "api_key": "k", "responses": "native"}}
    }))
    .expect_err("anthropic has no Responses API");
    assert_eq!(e.param.as_deref(), Some("providers.claude.responses"));
    let e = Gateway::from_value(json!({
        "providers": {"oai": {"kind": "openai", "api_key": "k", "responses": "sometimes"}}
    }))
    .expect_err("unknown mode");
    assert!(e.message.contains("native, translate"), "{}", e.message);

    let resolve = |entry: Value| {
        let entry = serde_json::from_value(entry).expect("entry");
        switchpoint_core::config::resolve_provider("p", &entry, Default::default(), &|_: &str| None)
            .expect("resolves")
            .responses_native
    };
    assert!(resolve(json!({"kind": "openai", "api_key": "k"})));
    assert!(!resolve(
        json!({"kind": "openai", "api_key": "k", "base_url": "http://localhost:8000/v1"})
    ));
    assert!(resolve(
        json!({"kind": "azure_openai", "api_key": "k", "base_url": "https://r.openai.azure.com"})
    ));
    assert!(!resolve(json!({"kind": "anthropic", "api_key": "k"})));
    assert!(!resolve(
        json!({"kind": "openai", "api_key": "k", "responses": "translate"})
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_responses_call_leaves_a_record_with_tokens_and_cost() {
    use std::sync::{Arc, Mutex};
    use switchpoint_core::telemetry::{FnObserver, RequestRecord, Status};
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock.url());
    let seen = Arc::new(Mutex::new(Vec::<RequestRecord>::new()));
    let s = seen.clone();
    gw.add_observer(Arc::new(FnObserver(move |r: &RequestRecord| {
        s.lock().expect("lock").push(r.clone())
    })));
    let r = gw
        .responses(
            &request(json!({"model": "gpt", "input": "one two three"})),
            &RequestContext::default(),
        )
        .await
        .expect("native answer");
    assert_eq!(r.output_text(), "one two three");
    let (events, error) = collect(
        &gw,
        &request(json!({"model": "sonnet", "input": "one two three", "stream": true})),
    )
    .await;
    assert!(error.is_none(), "{error:?}");
    assert!(!events.is_empty());
    let refused = gw
        .responses(
            &request(json!({"model": "gpt"})),
            &RequestContext::default(),
        )
        .await
        .expect_err("no input");
    assert_eq!(refused.kind, ErrorKind::BadRequest);

    assert!(gw.flush_telemetry(std::time::Duration::from_secs(5)));
    let records = seen.lock().expect("lock").clone();
    assert_eq!(records.len(), 3, "{records:?}");
    let (native, streamed, bad) = (&records[0], &records[1], &records[2]);
    assert_eq!(
        (native.call, native.provider.as_str(), native.status),
        ("responses", "oai", Status::Ok)
    );
    assert_eq!((native.tokens.prompt, native.tokens.completion), (3, 3));
    // gpt-4o: 3 x $2.50 + 3 x $10 per 1M tokens.
    let cost = |r: &RequestRecord| r.cost.as_ref().map(|c| c.total.to_string());
    assert_eq!(cost(native).as_deref(), Some("0.0000375"));
    assert_eq!(
        (streamed.call, streamed.provider.as_str(), streamed.status),
        ("responses_stream", "claude", Status::Ok)
    );
    assert_eq!((streamed.tokens.prompt, streamed.tokens.completion), (3, 3));
    // claude-sonnet-4-5: 3 x $3 + 3 x $15 per 1M tokens.
    assert_eq!(cost(streamed).as_deref(), Some("0.000054"));
    assert_eq!(
        (bad.call, bad.model.as_str(), bad.status),
        ("responses", "gpt", Status::Error(ErrorKind::BadRequest))
    );
}
