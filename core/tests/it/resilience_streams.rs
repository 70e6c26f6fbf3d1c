//! Streams: failover before the first chunk, a typed error after it, and opt-in resume on
//! another target that continues the caller's stream.

use futures_util::StreamExt;
use mock_provider::{Fault, MockServer};
use serde_json::{json, Value};
use switchpoint_core::api::{AttemptOutcome, ChatRequest, Message, StreamAccumulator};
use switchpoint_core::routing::HealthState;
use switchpoint_core::{ErrorKind, Gateway, RequestContext};

fn gateway(mock: &MockServer, extra: Value) -> Gateway {
    let mut route = json!({"targets": [
        {"provider": "oai", "model": "primary"},
        {"provider": "claude", "model": "backup"}
    ], "cooldown": {"failures": 1}});
    if let (Value::Object(r), Value::Object(e)) = (&mut route, extra) {
        r.extend(e);
    }
    Gateway::from_value(json!({
        "providers": {
            "oai": {"kind": "openai", "base_url": format!("{}/v1", mock.url()), "api_key": "sk"},
            "claude": {"kind": "anthropic", "base_url": mock.url(), "api_key": "sk-ant"}
        },
        "routes": {"r": route}
    }))
    .expect("config")
}

fn ask(text: &str) -> ChatRequest {
    ChatRequest {
        model: "r".into(),
        messages: vec![Message::user(text)],
        max_tokens: Some(64),
        ..Default::default()
    }
}

fn on_primary(f: Fault) -> Fault {
    Fault {
        match_model: Some("primary".into()),
        ..f
    }
}

const TEXT: &str = "one two three four five six seven eight";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_before_the_first_chunk_fail_over_invisibly() {
    let mock = MockServer::start().await.expect("mock");
    for fault in [
        Fault {
            status: Some(503),
            ..Fault::default()
        },
        Fault {
            reset: true,
            ..Fault::default()
        },
    ] {
        mock.push_script(vec![on_primary(fault)]);
        let gw = gateway(&mock, json!({}));
        let mut s = gw
            .chat_stream(&ask(TEXT), &RequestContext::new())
            .await
            .expect("stream");
        let mut acc = StreamAccumulator::new();
        while let Some(c) = s.next().await {
            acc.push(&c.expect("no error reaches the caller"));
        }
        assert_eq!(acc.finish().text(), Some(TEXT));
        let f = s.facts();
        assert_eq!(f.provider, "claude");
        assert_eq!(f.attempts.len(), 2);
        assert!(matches!(f.attempts[0].outcome, AttemptOutcome::Error(_)));
        assert_eq!(f.attempts[1].outcome, AttemptOutcome::Ok);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_after_the_first_chunk_ends_in_a_typed_error() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock, json!({}));
    mock.push_script(vec![on_primary(Fault {
        cut_after: Some(3),
        ..Fault::default()
    })]);
    let mut s = gw
        .chat_stream(&ask(TEXT), &RequestContext::new())
        .await
        .expect("stream");
    let mut text = String::new();
    let mut error = None;
    while let Some(item) = s.next().await {
        match item {
            Ok(c) => text.push_str(&c.text()),
            Err(e) => {
                assert!(error.is_none(), "one error, then the end");
                error = Some(e);
            }
        }
    }
    let e = error.expect("the cut is reported, never a silent end");
    assert_eq!(e.kind, ErrorKind::Connection);
    assert_eq!(text, "one two three ");
    let f = s.facts();
    assert_eq!(f.provider_model, "primary");
    assert_eq!(
        f.attempts.last().map(|a| a.outcome),
        Some(AttemptOutcome::Error(ErrorKind::Connection))
    );
    // The cut counts against the primary (failures: 1 puts it to rest).
    let h = gw.health();
    let p = h.iter().find(|t| t.model == "primary").expect("listed");
    assert_eq!(p.state, HealthState::CoolingDown);
    assert_eq!(p.in_flight, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_continues_a_cut_stream_on_another_target() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock, json!({"stream_resume": true}));
    mock.push_script(vec![on_primary(Fault {
        cut_after: Some(3),
        ..Fault::default()
    })]);
    let mut req = ask(TEXT);
    req.stream_options = Some(switchpoint_core::api::StreamOptions {
        include_usage: Some(true),
        ..Default::default()
    });
    let mut s = gw
        .chat_stream(&req, &RequestContext::new())
        .await
        .expect("stream");
    let mut chunks = Vec::new();
    while let Some(item) = s.next().await {
        chunks.push(item.expect("the caller sees no error"));
    }
    let first = chunks.first().expect("chunks").clone();
    assert!(
        chunks
            .iter()
            .all(|c| c.id == first.id && c.model == first.model && c.created == first.created),
        "resumed chunks keep the stream's identity"
    );
    let roles = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter(|c| c.delta.role.is_some())
        .count();
    assert_eq!(roles, 1, "one role delta, from the first chunk");
    let mut acc = StreamAccumulator::new();
    for c in &chunks {
        acc.push(c);
    }
    let resp = acc.finish();
    // The mock echoes the user's text; the backup was given the text so far to continue.
    assert_eq!(resp.text(), Some(format!("one two three {TEXT}").as_str()));
    assert!(resp.usage.is_some());
    let sent = mock.log().last().cloned().expect("logged");
    assert_eq!(sent.model, "backup");
    let msgs = sent.body["messages"].as_array().expect("messages");
    let last = msgs.last().expect("a message");
    assert_eq!(last["role"], "assistant");
    let prefill = match &last["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        other => panic!("unexpected content {other}"),
    };
    assert_eq!(prefill.trim_end(), "one two three");
    let f = s.facts();
    assert_eq!(f.provider, "claude");
    assert_eq!(f.attempts.len(), 2);
    assert_eq!(
        f.attempts[0].outcome,
        AttemptOutcome::Error(ErrorKind::Connection)
    );
    assert_eq!(f.attempts[1].outcome, AttemptOutcome::Ok);
    assert!(f.attempts[1].resumed && !f.attempts[0].resumed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_that_finds_no_target_reports_the_cut() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock, json!({"stream_resume": true}));
    mock.push_script(vec![
        on_primary(Fault {
            cut_after: Some(2),
            ..Fault::default()
        }),
        Fault {
            status: Some(503),
            match_model: Some("backup".into()),
            ..Fault::default()
        },
    ]);
    let mut s = gw
        .chat_stream(&ask(TEXT), &RequestContext::new())
        .await
        .expect("stream");
    let mut last = None;
    let mut n = 0;
    while let Some(item) = s.next().await {
        match item {
            Ok(_) => n += 1,
            Err(e) => last = Some(e),
        }
    }
    let e = last.expect("typed error");
    assert_eq!(e.kind, ErrorKind::Connection);
    assert!(
        e.message.contains("resuming on another target failed"),
        "{}",
        e.message
    );
    assert!(n >= 2);
    assert_eq!(s.facts().attempts.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hedged_stream_takes_whichever_target_sends_its_first_chunk_first() {
    let mock = MockServer::start().await.expect("mock");
    let gw = gateway(&mock, json!({"hedge": {"after": "100ms"}}));
    mock.push_script(vec![on_primary(Fault {
        delay_ms: Some(2000),
        ..Fault::default()
    })]);
    let mut s = gw
        .chat_stream(&ask(TEXT), &RequestContext::new())
        .await
        .expect("stream");
    let mut acc = StreamAccumulator::new();
    while let Some(c) = s.next().await {
        acc.push(&c.expect("chunk"));
    }
    assert_eq!(acc.finish().text(), Some(TEXT));
    let f = s.facts();
    assert_eq!(f.provider_model, "backup");
    assert_eq!(
        f.attempts.iter().map(|a| a.outcome).collect::<Vec<_>>(),
        [
            AttemptOutcome::Error(ErrorKind::Cancelled),
            AttemptOutcome::Ok
        ]
    );
    assert!(f.attempts[1].hedge);
}
