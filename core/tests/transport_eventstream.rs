//! The recorded-shape Bedrock ConverseStream body (`tests/fixtures/bedrock/converse-stream.bin`)
//! served over a raw TCP socket in awkward pieces (1 to 7 bytes: reads end mid-prelude,
//! mid-header, mid-payload and mid-CRC) must decode through the real transport exactly as when
//! served whole; a body cut inside a message is a typed `connection` error.

use futures_util::StreamExt;
use std::time::Duration;
use switchpoint_core::api::{ChatRequest, ChatResponse, ErrorKind, Message, StreamAccumulator};
use switchpoint_core::{Gateway, RequestContext};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn fixture() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/bedrock/converse-stream.bin"
    ))
    .expect("fixture")
}

/// Serves one streaming answer with `body` written in pieces of `sizes` (cycled).
async fn serve_in_pieces(body: Vec<u8>, sizes: &'static [usize]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        sock.set_nodelay(true).expect("nodelay");
        let mut buf = vec![0u8; 65536];
        let mut seen = Vec::new();
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
                if n == 0 || seen.len() >= end + 4 + len {
                    break;
                }
            }
        }
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.amazon.eventstream\r\nconnection: close\r\n\r\n";
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

async fn stream_through(base: String) -> Result<ChatResponse, switchpoint_core::Error> {
    // A Bedrock API key (bearer): the raw server checks no signature.
    let gw = Gateway::from_value(serde_json::json!({
        "providers": {"br": {"kind": "bedrock", "base_url": base, "region": "us-east-1", "api_key": "k"}},
        "models": {"m": {"provider": "br", "model": "anthropic.claude-sonnet-4-5"}}
    }))
    .expect("config");
    let req = ChatRequest {
        model: "m".into(),
        messages: vec![Message::user("hi")],
        stream_options: Some(switchpoint_core::api::StreamOptions {
            include_usage: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut stream = gw.chat_stream(&req, &RequestContext::default()).await?;
    let mut acc = StreamAccumulator::new();
    while let Some(c) = stream.next().await {
        acc.push(&c?);
    }
    Ok(acc.finish())
}

/// Everything but the fields stamped per stream (`id`, `created`).
fn strip(mut r: ChatResponse) -> ChatResponse {
    r.id.clear();
    r.created = 0;
    r.switchpoint = None;
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converse_stream_split_at_awkward_offsets_decodes_the_same() {
    let body = fixture();
    let whole = stream_through(serve_in_pieces(body.clone(), &[1 << 20]).await)
        .await
        .expect("whole");
    for sizes in [&[1usize][..], &[1, 7, 2, 5, 3, 1, 1, 4, 6], &[3], &[7]] {
        let sizes: &'static [usize] = Box::leak(sizes.to_vec().into_boxed_slice());
        let split = stream_through(serve_in_pieces(body.clone(), sizes).await)
            .await
            .expect("split");
        assert_eq!(strip(split), strip(whole.clone()), "pieces {sizes:?}");
    }
    let msg = &whole.choices[0].message;
    assert_eq!(
        msg.content.as_deref(),
        Some("Hello, I will check the weather.")
    );
    assert_eq!(
        msg.tool_calls
            .as_ref()
            .map(|c| c[0].function.arguments.as_str()),
        Some("{\"city\": \"Paris\"}")
    );
    assert_eq!(whole.usage.as_ref().map(|u| u.total_tokens.0), Some(1270));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_cut_inside_a_message_is_a_connection_error() {
    let mut body = fixture();
    // Drop the end of the last message (`metadata`) and the whole `messageStop` before it
    // stays: cut 10 bytes into the last message's CRC/payload.
    body.truncate(body.len() - 10);
    let err = stream_through(serve_in_pieces(body, &[5]).await)
        .await
        .expect_err("cut");
    assert_eq!(err.kind, ErrorKind::Connection);
    assert_eq!(err.provider.as_deref(), Some("br"));
}
