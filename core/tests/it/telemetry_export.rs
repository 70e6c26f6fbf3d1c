//! Observers end to end: every observer receives records; the Prometheus text parses with
//! the reference Python parser; OTLP spans reach a loopback receiver that decodes them with
//! opentelemetry-proto.

use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use switchpoint_core::api::{AttemptFact, AttemptOutcome, ErrorKind, FinishReason};
use switchpoint_core::config::TelemetryConfig;
use switchpoint_core::telemetry::record::unix_ms;
use switchpoint_core::telemetry::{
    CacheOutcome, CacheStatus, Caller, Cost, FnObserver, GroupBy, RequestRecord, Status, Telemetry,
    TokenSplit,
};

fn record(id: &str, user: &str, status: Status) -> RequestRecord {
    let now = unix_ms(SystemTime::now());
    RequestRecord {
        id: id.into(),
        call: "chat",
        started_at_ms: now - 250,
        ended_at_ms: now,
        latency_ms: 250.0,
        ttft_ms: None,
        model: "gpt-4o".into(),
        route: "gpt-4o".into(),
        provider: "oai".into(),
        provider_model: "gpt-4o-2024-08-06".into(),
        provider_kind: "openai".into(),
        response_id: Some(format!("chatcmpl-{id}")),
        response_model: Some("gpt-4o-2024-08-06".into()),
        finish_reasons: vec![FinishReason::Stop],
        attempts: vec![AttemptFact::new(
            "oai",
            "gpt-4o-2024-08-06",
            match status {
                Status::Ok => AttemptOutcome::Ok,
                Status::Error(k) => AttemptOutcome::Error(k),
            },
            240.0,
        )],
        tokens: TokenSplit {
            prompt: 100,
            completion: 20,
            cached: 40,
            cache_write: 0,
            reasoning: 5,
        },
        cost: Some(Cost {
            total: Decimal::from_str("0.00035").expect("dec"),
            ..Cost::default()
        }),
        cache: CacheOutcome {
            status: CacheStatus::Miss,
            saved_usd: None,
        },
        caller: Caller {
            key_id: Some("vk_1".into()),
            user: Some(user.into()),
            team: Some("research".into()),
            tier: Some("pro".into()),
        },
        tags: vec!["summarize".into()],
        status,
        content: None,
    }
}

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("switchpoint-tel-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("usage.jsonl")
}

#[test]
fn every_observer_receives_every_record() {
    let log = temp_path("all");
    let cfg: TelemetryConfig = serde_json::from_value(serde_json::json!({
        "log": {"path": log.display().to_string()}
    }))
    .expect("config");
    let tel = Telemetry::new(&cfg, &Default::default()).expect("telemetry");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    tel.add_observer(Arc::new(FnObserver(move |r: &RequestRecord| {
        s.lock().expect("lock").push(r.id.clone())
    })));
    tel.emit(record("a", "alice", Status::Ok));
    tel.emit(record("b", "bob", Status::Ok));
    tel.emit(record("c", "alice", Status::Error(ErrorKind::RateLimited)));
    assert!(tel.flush(Duration::from_secs(5)));

    // Host callback.
    assert_eq!(*seen.lock().expect("lock"), ["a", "b", "c"]);
    // JSON-lines log.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .expect("log written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["status"], "error");
    assert_eq!(lines[2]["error_kind"], "rate_limited");
    assert_eq!(lines[0]["cost"]["total"], "0.00035");
    assert_eq!(lines[0]["caller"]["key_id"], "vk_1");
    // Metrics registry.
    let text = tel.metrics_text();
    assert!(text.contains(
        r#"switchpoint_requests_total{route="gpt-4o",provider="oai",model="gpt-4o",user="alice",team="research",tag="summarize",status="ok",cache="miss"} 1"#
    ));
    assert!(text.contains("switchpoint_telemetry_dropped_total 0\n"));
    // Usage store.
    let users = tel.usage(SystemTime::now() - Duration::from_secs(60), GroupBy::User);
    let alice = users
        .iter()
        .find(|r| r.group.as_deref() == Some("alice"))
        .expect("alice");
    assert_eq!((alice.requests, alice.errors), (2, 1));
    assert_eq!(alice.cost_usd, Decimal::from_str("0.0007").expect("dec"));
    let _ = std::fs::remove_dir_all(log.parent().expect("dir"));
}

/// (family, type, sample name, labels, value) as the Python parser reports them.
type Sample = (
    String,
    String,
    String,
    serde_json::Map<String, serde_json::Value>,
    f64,
);

const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append([fam.name, fam.type, s.name, s.labels, s.value])
print(json.dumps(out))
"#;

#[test]
fn prometheus_text_parses_with_prometheus_client() {
    let tel = Telemetry::new(&TelemetryConfig::default(), &Default::default()).expect("telemetry");
    let mut r = record("a", "al\"ice\\x\ny", Status::Ok);
    r.ttft_ms = Some(80.0);
    tel.emit(r);
    tel.emit(record("b", "bob", Status::Error(ErrorKind::Timeout)));
    assert!(tel.flush(Duration::from_secs(5)));
    let text = tel.metrics_text();

    let child = std::process::Command::new("python3")
        .arg("-c")
        .arg(PARSE)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        println!("skipped: python3 not found (the Python binding suite runs this check)");
        return;
    };
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(text.as_bytes()).expect("write");
    }
    let out = child.wait_with_output().expect("python ran");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No module named 'prometheus_client'") {
        println!("skipped: prometheus_client not installed (pip install prometheus_client)");
        return;
    }
    assert!(
        out.status.success(),
        "parser rejected the exposition: {stderr}\n{text}"
    );
    let samples: Vec<Sample> = serde_json::from_slice(&out.stdout).expect("parser output");
    let find = |name: &str, pred: &dyn Fn(&serde_json::Map<String, serde_json::Value>) -> bool| {
        samples
            .iter()
            .filter(|s| s.2 == name && pred(&s.3))
            .map(|s| s.4)
            .sum::<f64>()
    };
    assert_eq!(find("switchpoint_requests_total", &|_| true), 2.0);
    // Escaped label values come back exactly.
    assert_eq!(
        find("switchpoint_requests_total", &|l| l["user"]
            == "al\"ice\\x\ny"),
        1.0
    );
    assert_eq!(
        find("switchpoint_errors_total", &|l| l["kind"] == "timeout"),
        1.0
    );
    assert_eq!(
        find("switchpoint_tokens_total", &|l| l["type"] == "reasoning"),
        10.0
    );
    assert!((find("switchpoint_cost_usd_total", &|_| true) - 0.0007).abs() < 1e-12);
    assert_eq!(
        find("switchpoint_request_duration_seconds_bucket", &|l| l["le"]
            == "0.25"),
        2.0
    );
    assert_eq!(
        find("switchpoint_time_to_first_token_seconds_count", &|_| true),
        1.0
    );
    let types: std::collections::HashMap<&str, &str> = samples
        .iter()
        .map(|s| (s.0.as_str(), s.1.as_str()))
        .collect();
    assert_eq!(types.get("switchpoint_requests"), Some(&"counter"));
    assert_eq!(
        types.get("switchpoint_request_duration_seconds"),
        Some(&"histogram")
    );
}

#[cfg(feature = "otlp")]
mod otlp {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
    use prost::Message;
    use std::collections::HashMap;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    struct Received {
        path: String,
        content_type: String,
        body: ExportTraceServiceRequest,
    }

    /// A minimal OTLP/HTTP receiver: HTTP/1.1 POSTs, protobuf bodies, 200 answers.
    async fn receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<Received>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/v1/traces", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let _ = sock.set_nodelay(true);
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    loop {
                        let head_end = loop {
                            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break i + 4;
                            }
                            let mut chunk = [0u8; 4096];
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                        let mut lines = head.lines();
                        let path = lines
                            .next()
                            .and_then(|l| l.split_whitespace().nth(1))
                            .unwrap_or("")
                            .to_string();
                        let headers: HashMap<String, String> = lines
                            .filter_map(|l| l.split_once(':'))
                            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                            .collect();
                        let len: usize = headers
                            .get("content-length")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        while buf.len() < head_end + len {
                            let mut chunk = [0u8; 4096];
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let body: Vec<u8> = buf.drain(..head_end + len).skip(head_end).collect();
                        if let Ok(req) = ExportTraceServiceRequest::decode(&body[..]) {
                            let _ = tx.send(Received {
                                path,
                                content_type: headers
                                    .get("content-type")
                                    .cloned()
                                    .unwrap_or_default(),
                                body: req,
                            });
                        }
                        let _ = sock
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n")
                            .await;
                    }
                });
            }
        });
        (url, rx)
    }

    fn attrs(kv: &[opentelemetry_proto::tonic::common::v1::KeyValue]) -> HashMap<String, Any> {
        kv.iter()
            .filter_map(|k| Some((k.key.clone(), k.value.as_ref()?.value.clone()?)))
            .collect()
    }

    fn s(v: &str) -> Any {
        Any::StringValue(v.to_string())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spans_follow_the_genai_conventions_and_reach_the_receiver() {
        let (url, mut rx) = receiver().await;
        let cfg: TelemetryConfig = serde_json::from_value(serde_json::json!({
            "otlp": {"endpoint": url, "service_name": "span-test", "headers": {"x-token": "t1"}}
        }))
        .expect("config");
        let tel = Arc::new(Telemetry::new(&cfg, &Default::default()).expect("telemetry"));
        let ok = record("a", "alice", Status::Ok);
        let failed = record("b", "bob", Status::Error(ErrorKind::RateLimited));
        tel.emit(ok.clone());
        tel.emit(failed.clone());
        let t = tel.clone();
        let flushed = tokio::task::spawn_blocking(move || t.flush(Duration::from_secs(10)))
            .await
            .expect("flush");
        assert!(flushed);

        let mut spans = Vec::new();
        let mut resource = HashMap::new();
        while spans.len() < 2 {
            let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .expect("spans arrive")
                .expect("receiver open");
            assert_eq!(got.path, "/v1/traces");
            assert_eq!(got.content_type, "application/x-protobuf");
            for rs in got.body.resource_spans {
                if let Some(r) = &rs.resource {
                    resource = attrs(&r.attributes);
                }
                for ss in rs.scope_spans {
                    spans.extend(ss.spans);
                }
            }
        }
        assert_eq!(resource.get("service.name"), Some(&s("span-test")));
        spans.sort_by_key(|s| s.start_time_unix_nano);
        let span = spans
            .iter()
            .find(|sp| attrs(&sp.attributes).get("gen_ai.response.id") == Some(&s("chatcmpl-a")))
            .expect("the ok span");
        assert_eq!(span.name, "chat gpt-4o");
        assert_eq!(span.kind, SpanKind::Client as i32);
        assert_eq!(span.start_time_unix_nano, ok.started_at_ms * 1_000_000);
        assert_eq!(span.end_time_unix_nano, ok.ended_at_ms * 1_000_000);
        let a = attrs(&span.attributes);
        assert_eq!(a.get("gen_ai.operation.name"), Some(&s("chat")));
        assert_eq!(a.get("gen_ai.provider.name"), Some(&s("openai")));
        assert_eq!(a.get("gen_ai.request.model"), Some(&s("gpt-4o")));
        assert_eq!(
            a.get("gen_ai.response.model"),
            Some(&s("gpt-4o-2024-08-06"))
        );
        assert_eq!(
            a.get("gen_ai.usage.input_tokens"),
            Some(&Any::IntValue(100))
        );
        assert_eq!(
            a.get("gen_ai.usage.output_tokens"),
            Some(&Any::IntValue(20))
        );
        match a.get("gen_ai.response.finish_reasons") {
            Some(Any::ArrayValue(arr)) => {
                let v: Vec<Option<Any>> = arr.values.iter().map(|v| v.value.clone()).collect();
                assert_eq!(v, vec![Some(s("stop"))]);
            }
            other => panic!("finish_reasons: {other:?}"),
        }
        assert_eq!(a.get("switchpoint.cost.usd"), Some(&s("0.00035")));
        assert_eq!(a.get("switchpoint.cache.status"), Some(&s("miss")));
        assert_eq!(
            a.get("switchpoint.usage.cached_tokens"),
            Some(&Any::IntValue(40))
        );
        assert!(!a.contains_key("error.type"));

        let bad = spans
            .iter()
            .find(|sp| attrs(&sp.attributes).get("gen_ai.response.id") == Some(&s("chatcmpl-b")))
            .expect("the failed span");
        assert_eq!(
            attrs(&bad.attributes).get("error.type"),
            Some(&s("rate_limited"))
        );
        let status = bad.status.as_ref().expect("status");
        assert_eq!(status.code, 2, "STATUS_CODE_ERROR");
        assert_eq!(status.message, "rate_limited");
    }
}
