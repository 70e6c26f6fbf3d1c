//! The HTTP side: accepting connections (with TCP_NODELAY), serving them with hyper, and the
//! `/_mock/*` control endpoints.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::body::MockBody;
use crate::fault::{Fault, ScriptQueue};
use crate::handler;
use crate::log::RequestLog;

/// Everything the connections of one server share.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub log: Arc<RequestLog>,
    script: Mutex<ScriptQueue>,
    /// Counter behind `call_mock_<n>` / `toolu_mock_<n>` ids.
    pub tool_ids: AtomicU64,
    pub accepted: AtomicU64,
    /// Accepted sockets on which TCP_NODELAY was set and read back as on.
    pub nodelay: AtomicU64,
}

impl State {
    pub(crate) fn script(&self) -> MutexGuard<'_, ScriptQueue> {
        self.script.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Accepts connections until the task is aborted; aborting drops (and so aborts) every
/// connection task too.
pub(crate) async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    state.accepted.fetch_add(1, Ordering::Relaxed);
                    // Without NODELAY a response written in two pieces waits ~40 ms for an ACK.
                    if stream.set_nodelay(true).is_ok() && stream.nodelay().unwrap_or(false) {
                        state.nodelay.fetch_add(1, Ordering::Relaxed);
                    }
                    connections.spawn(serve_connection(stream, state.clone()));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, state: Arc<State>) {
    let service = service_fn(move |request| handle(state.clone(), request));
    // Errors here are clients going away or faults cutting the connection: nothing to report.
    let _ = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> io::Result<Response<MockBody>> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| io::Error::new(io::ErrorKind::UnexpectedEof, e))?
        .to_bytes();
    if parts.uri.path().starts_with("/_mock/") {
        return Ok(control(&state, &parts.method, parts.uri.path(), &body));
    }
    handler::provider_request(&state, &parts, body).await
}

/// A plain response without log tracking (control endpoints).
pub(crate) fn simple(
    status: StatusCode,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(body, None));
    *response.status_mut() = status;
    if let Ok(value) = header::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

fn json<T: Serialize>(value: &T) -> Response<MockBody> {
    match serde_json::to_vec(value) {
        Ok(bytes) => simple(StatusCode::OK, "application/json", bytes),
        Err(e) => simple(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            e.to_string(),
        ),
    }
}

fn parse_faults(body: &[u8]) -> Result<Vec<Fault>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let value = match value {
        Value::Array(_) => value,
        single => Value::Array(vec![single]),
    };
    serde_json::from_value(value).map_err(|e| format!("invalid fault: {e}"))
}

fn control(state: &State, method: &Method, path: &str, body: &[u8]) -> Response<MockBody> {
    let no_content = || simple(StatusCode::NO_CONTENT, "text/plain", Bytes::new());
    match (method, path) {
        (&Method::GET, "/_mock/health") => simple(StatusCode::OK, "text/plain", "ok"),
        (&Method::GET, "/_mock/log") => json(&state.log.snapshot()),
        (&Method::DELETE, "/_mock/log") => {
            state.log.clear();
            no_content()
        }
        (&Method::GET, "/_mock/script") => json(&state.script().snapshot()),
        (&Method::POST, "/_mock/script") => match parse_faults(body) {
            Ok(faults) => {
                let mut script = state.script();
                script.push(faults);
                json(&serde_json::json!({ "queued": script.snapshot().len() }))
            }
            Err(message) => {
                let body = serde_json::json!({ "error": message }).to_string();
                simple(StatusCode::BAD_REQUEST, "application/json", body)
            }
        },
        (&Method::DELETE, "/_mock/script") => {
            state.script().clear();
            no_content()
        }
        _ => simple(
            StatusCode::NOT_FOUND,
            "text/plain",
            "unknown mock control endpoint",
        ),
    }
}
