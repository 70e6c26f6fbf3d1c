//! A configured API key appears in no error, log line or Debug output, whatever fails.
//! Its own test binary: it installs a global log subscriber and sets an environment variable.

use mock_provider::MockServer;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchpoint_core::api::{ChatRequest, EmbeddingInput, EmbeddingRequest, Message};
use switchpoint_core::{config, Gateway, RequestContext};

const LITERAL: &str = "sk-LITERAL-SECRET-0001";
const FROM_ENV: &str = "sk-ENV-SECRET-0002";
const FROM_FILE: &str = "sk-FILE-SECRET-0003";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_clean(what: &str, text: &str) {
    for secret in [LITERAL, FROM_ENV, FROM_FILE] {
        assert!(!text.contains(secret), "{what} leaks a secret: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_errors_logs_or_debug_output() {
    let logs = Captured::default();
    let sink = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .init();

    let mock = MockServer::start().await.expect("mock");
    std::env::set_var("SP_TEST_SECRET", FROM_ENV);
    let key_file = std::env::temp_dir().join(format!("sp-secrets-test-{}", std::process::id()));
    std::fs::write(&key_file, FROM_FILE).expect("key file");
    let cfg = serde_json::json!({
        "providers": {
            "lit": {"kind": "openai", "base_url": format!("{}/v1", mock.url()), "api_key": LITERAL},
            "env": {"kind": "anthropic", "base_url": mock.url(), "api_key": "env:SP_TEST_SECRET"},
            "file": {"kind": "gemini", "base_url": mock.url(), "api_key": format!("file:{}", key_file.display())},
            "dead": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": LITERAL}
        },
        "models": {
            "a": {"provider": "lit", "model": "gpt"},
            "b": {"provider": "env", "model": "claude"},
            "c": {"provider": "file", "model": "gem"},
            "d": {"provider": "dead", "model": "x"}
        }
    });
    let gw = Gateway::from_value(cfg.clone()).expect("config");
    let mut outputs = vec![format!("{gw:?}")];
    let resolved = config::resolve(
        config::parse_value(cfg).expect("parse"),
        &config::process_env,
    )
    .expect("resolve");
    outputs.push(format!("{resolved:?}"));

    let ctx = RequestContext::default().with_timeout(Duration::from_millis(300));
    let req = |model: &str, text: &str| ChatRequest {
        model: model.into(),
        messages: vec![Message::user(text)],
        ..Default::default()
    };
    // Success on every provider (so the keys were really sent), then every failure we can cause.
    for m in ["a", "b", "c"] {
        let r = gw.chat(&req(m, "ok"), &ctx).await.expect("succeeds");
        outputs.push(format!("{r:?}"));
    }
    let sent: Vec<String> = mock
        .log()
        .iter()
        .flat_map(|e| e.headers.values().cloned().collect::<Vec<_>>())
        .collect();
    assert!(
        sent.iter().any(|v| v.contains(LITERAL)),
        "the literal key was sent"
    );
    assert!(
        sent.iter().any(|v| v.contains(FROM_ENV)),
        "the env key was sent"
    );
    assert!(
        sent.iter().any(|v| v.contains(FROM_FILE)),
        "the file key was sent"
    );

    let mut errors = Vec::new();
    for m in ["a", "b", "c"] {
        for fault in [
            "error=auth",
            "status=429,retry_after=1",
            "error=server",
            "reset=true",
            "malformed=true",
            "delay_ms=1000",
        ] {
            mock.push_script(vec![
                serde_json::from_value(fault_json(fault)).expect("fault")
            ]);
            errors.push(gw.chat(&req(m, "fail"), &ctx).await.expect_err("fails"));
        }
    }
    errors.push(
        gw.chat(&req("d", "unreachable"), &ctx)
            .await
            .expect_err("fails"),
    );
    errors.push(
        gw.chat(&req("zzz", "unknown"), &ctx)
            .await
            .expect_err("fails"),
    );
    let embed = EmbeddingRequest {
        model: "b".into(),
        input: EmbeddingInput::One("x".into()),
        dimensions: None,
        encoding_format: None,
        user: None,
        extra_body: None,
        extra: Default::default(),
    };
    errors.push(
        gw.embed(&embed, &ctx)
            .await
            .expect_err("anthropic has no embeddings"),
    );
    // A config error in a document that holds a literal key.
    let bad = format!(
        "providers:\n  x:\n    kind: openai\n    api_key: {LITERAL}\n    bse_url: http://h\n"
    );
    errors.push(Gateway::from_text(&bad).expect_err("typo"));
    let bad = format!(
        "providers:\n  x:\n    kind: openai\n    api_key: {LITERAL}\n    base_url: not a url\n"
    );
    errors.push(Gateway::from_text(&bad).expect_err("bad url"));

    for e in &errors {
        outputs.push(format!("{e}"));
        outputs.push(format!("{e:?}"));
        outputs.push(serde_json::to_string(e).expect("json"));
    }
    for o in &outputs {
        assert_clean("output", o);
    }
    let log_text = String::from_utf8(logs.0.lock().expect("lock").clone()).expect("utf8");
    assert!(
        log_text.contains("sending request"),
        "logs were captured at all"
    );
    assert_clean("log", &log_text);
    let _ = std::fs::remove_file(key_file);
}

fn fault_json(spec: &str) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for kv in spec.split(',') {
        let (k, v) = kv.split_once('=').expect("k=v");
        let v = serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.into()));
        m.insert(k.into(), v);
    }
    serde_json::Value::Object(m)
}
