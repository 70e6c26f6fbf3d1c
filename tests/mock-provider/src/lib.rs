//! Fake LLM providers on loopback for tests: OpenAI, Azure OpenAI, Anthropic, Gemini, Cohere,
//! Mistral, Ollama, Bedrock and Vertex AI wire formats over real HTTP/1.1, with deterministic
//! replies, scripted faults and a request log.
//! See README.md for the endpoints, reply rules and fault fields.

mod anthropic;
mod bedrock;
mod body;
mod cloud;
mod cloud_embed;
mod cohere;
mod convo;
mod embed;
mod errors;
mod eventstream;
mod fault;
mod gemini;
mod handler;
mod log;
mod mistral;
mod oauth;
mod ollama;
mod openai;
mod responses;
mod route;
mod server;
mod sigv4;
mod sse;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use embed::{embedding, DEFAULT_DIMENSIONS};
pub use fault::{Fault, FaultError};
pub use log::{LogEntry, LOG_CAPACITY};
pub use sigv4::{TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY};

use server::State;

/// A running mock server on 127.0.0.1; dropping it stops the server and its connections.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl MockServer {
    /// Starts a server on a free loopback port (must be called inside a tokio runtime).
    pub async fn start() -> std::io::Result<MockServer> {
        MockServer::start_on(0).await
    }

    /// Starts a server on the given loopback port (0 picks a free one).
    pub async fn start_on(port: u16) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        let task = tokio::spawn(server::accept_loop(listener, state.clone()));
        Ok(MockServer { addr, state, task })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL to configure as a provider's endpoint, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The provider requests received so far (control requests are not logged).
    pub fn log(&self) -> Vec<LogEntry> {
        self.state.log.snapshot()
    }

    /// Forgets the logged requests (sequence numbers keep counting).
    pub fn clear_log(&self) {
        self.state.log.clear()
    }

    /// Appends faults to the script queue; each applies to the next matching requests.
    pub fn push_script(&self, faults: Vec<Fault>) {
        self.state.script().push(faults)
    }

    /// Empties the script queue.
    pub fn clear_script(&self) {
        self.state.script().clear()
    }

    /// Connections accepted so far (shows whether clients reuse keep-alive connections).
    pub fn accepted_connections(&self) -> u64 {
        self.state.accepted.load(Ordering::Relaxed)
    }

    /// Accepted connections on which TCP_NODELAY was confirmed on.
    pub fn nodelay_connections(&self) -> u64 {
        self.state.nodelay.load(Ordering::Relaxed)
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
