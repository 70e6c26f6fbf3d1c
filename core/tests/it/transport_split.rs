//! Recorded provider streams served over a raw TCP socket in awkward pieces (1 to 7 bytes,
//! splitting events, lines, UTF-8 sequences and `\n\n` separators) must decode exactly as
//! when served whole: the SSE layer keeps partial events across reads.

use futures_util::StreamExt;
use std::time::Duration;
use switchpoint_core::api::StreamAccumulator;
use switchpoint_core::api::{ChatRequest, ChatResponse, Message};
use switchpoint_core::{Gateway, RequestContext};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

/// Serves one HTTP/1.1 streaming response with `body` written in pieces of `sizes` (cycled).
async fn serve_in_pieces(body: Vec<u8>, sizes: &'static [usize]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        sock.set_nodelay(true).expect("nodelay");
        let mut buf = vec![0u8; 65536];
        let mut seen = Vec::new();
        // Read the request head and its body (Content-Length) before answering.
        loop {
            let n = sock.read(&mut buf).await.expect("read");
            seen.extend_from_slice(&buf[..n]);
            if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap_or(0))
                    })
                    .unwrap_or(0);
                if seen.len() >= end + 4 + len {
                    break;
                }
            }
        }
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
        sock.write_all(head.as_bytes()).await.expect("head");
        let mut at = 0;
        let mut i = 0;
        while at < body.len() {
            let n = sizes[i % sizes.len()].min(body.len() - at);
            sock.write_all(&body[at..at + n]).await.expect("piece");
            sock.flush().await.expect("flush");
            at += n;
            i += 1;
            if i % 16 == 0 {
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        }
        let _ = sock.shutdown().await;
    });
    format!("http://{addr}")
}

async fn stream_through(kind: &str, base: String, model: &str) -> ChatResponse {
    let base_url = if kind == "openai" {
        format!("{base}/v1")
    } else {
        base
    };
    let gw = Gateway::from_value(serde_json::json!({
        "providers": {"p": {"kind": kind, "base_url": base_url, "api_key": "k"}},
        "models": {"m": {"provider": "p", "model": model}}
    }))
    .expect("config");
    let mut req = ChatRequest {
        model: "m".into(),
        messages: vec![Message::user("hi")],
        ..Default::default()
    };
    req.stream_options = Some(switchpoint_core::api::StreamOptions {
        include_usage: Some(true),
        ..Default::default()
    });
    let mut stream = gw
        .chat_stream(&req, &RequestContext::default())
        .await
        .expect("stream opens");
    let mut acc = StreamAccumulator::new();
    while let Some(c) = stream.next().await {
        acc.push(&c.expect("chunk"));
    }
    acc.finish()
}

const AWKWARD: &[usize] = &[1, 7, 2, 5, 3, 1, 1, 4, 6];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_parallel_tool_calls_split_at_awkward_offsets() {
    let body = fixture(
        "openai-python/f82268f2fefd5cfbc7eeb59c297688be2f6ca0849a6e4f17851b517310841d9b.sse",
    );
    let whole = stream_through(
        "openai",
        serve_in_pieces(body.clone(), &[1 << 20]).await,
        "gpt-4o",
    )
    .await;
    let split = stream_through("openai", serve_in_pieces(body, AWKWARD).await, "gpt-4o").await;
    assert_eq!(whole, split);
    let calls = split.choices[0]
        .message
        .tool_calls
        .as_ref()
        .expect("tool calls");
    assert_eq!(calls.len(), 2);
    for c in calls {
        let args: serde_json::Value =
            serde_json::from_str(&c.function.arguments).expect("assembled arguments are JSON");
        assert!(args.is_object());
    }
    assert!(split.usage.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_tool_use_split_at_awkward_offsets() {
    let body = fixture("anthropic-sdk-python/tool_use_response.sse");
    let whole = stream_through(
        "anthropic",
        serve_in_pieces(body.clone(), &[1 << 20]).await,
        "claude",
    )
    .await;
    let split = stream_through("anthropic", serve_in_pieces(body, AWKWARD).await, "claude").await;
    // `created` is stamped by the adapter when the stream starts; everything else must match.
    let strip = |mut r: ChatResponse| {
        r.created = 0;
        r
    };
    assert_eq!(strip(whole), strip(split.clone()));
    let calls = split.choices[0]
        .message
        .tool_calls
        .as_ref()
        .expect("tool calls");
    assert!(!calls.is_empty());
    serde_json::from_str::<serde_json::Value>(&calls[0].function.arguments)
        .expect("arguments are JSON");
}
