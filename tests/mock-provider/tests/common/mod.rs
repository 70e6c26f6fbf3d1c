//! Shared helpers for the mock's integration tests: a client, JSON posting, SSE splitting.
#![allow(dead_code)]

use mock_provider::MockServer;
use serde_json::Value;

/// A started server plus a client for it.
pub struct Harness {
    pub server: MockServer,
    pub client: reqwest::Client,
}

pub async fn harness() -> Harness {
    Harness {
        server: MockServer::start().await.expect("server starts"),
        client: reqwest::Client::new(),
    }
}

/// A finished response: status, headers and body text.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Harness {
    /// POSTs JSON to `path` with the given headers and reads the whole answer.
    pub async fn post(&self, path: &str, headers: &[(&str, &str)], body: &Value) -> Answer {
        let response = self.send(path, headers, body).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body reads");
        Answer {
            status,
            headers,
            text,
        }
    }

    pub async fn send(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{}", self.server.url(), path))
            .header("content-type", "application/json")
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request sent")
    }

    pub async fn openai(&self, body: &Value) -> Answer {
        self.post("/v1/chat/completions", OPENAI_AUTH, body).await
    }

    pub async fn anthropic(&self, body: &Value) -> Answer {
        self.post("/v1/messages", ANTHROPIC_AUTH, body).await
    }

    pub async fn gemini(&self, model_action: &str, body: &Value) -> Answer {
        self.post(&format!("/v1beta/models/{model_action}"), GEMINI_AUTH, body)
            .await
    }
}

pub const OPENAI_AUTH: &[(&str, &str)] = &[("authorization", "Bearer sk-test")];
pub const AZURE_AUTH: &[(&str, &str)] = &[("api-key", "azure-key")];
pub const ANTHROPIC_AUTH: &[(&str, &str)] = &[
    ("x-api-key", "sk-ant-test"),
    ("anthropic-version", "2023-06-01"),
];
pub const GEMINI_AUTH: &[(&str, &str)] = &[("x-goog-api-key", "gem-key")];

/// One SSE event: its `event:` name (if any) and joined `data:` payload.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("bad event JSON ({e}): {}", self.data))
    }
}

/// Splits an SSE body into events (blank-line separated; CRLF or LF line ends).
pub fn sse_events(text: &str) -> Vec<SseEvent> {
    let normalized = text.replace("\r\n", "\n");
    normalized
        .split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut event = None;
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event: ") {
                    event = Some(name.to_string());
                } else if let Some(payload) = line.strip_prefix("data: ") {
                    data.push(payload);
                }
            }
            SseEvent {
                event,
                data: data.join("\n"),
            }
        })
        .collect()
}

/// Reads a streamed body chunk by chunk; returns the text received and whether it ended in an error.
pub async fn read_stream(mut response: reqwest::Response) -> (String, bool) {
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) => return (String::from_utf8_lossy(&bytes).into_owned(), false),
            Err(_) => return (String::from_utf8_lossy(&bytes).into_owned(), true),
        }
    }
}

/// Polls the log until `check` holds for the entry `seq` (the server records endings asynchronously).
pub async fn wait_for_log(
    server: &MockServer,
    seq: u64,
    check: impl Fn(&mock_provider::LogEntry) -> bool,
) -> mock_provider::LogEntry {
    for _ in 0..200 {
        if let Some(entry) = server.log().into_iter().find(|e| e.seq == seq) {
            if check(&entry) {
                return entry;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!(
        "log entry {seq} never reached the expected state: {:?}",
        server.log()
    );
}
