//! The gateway's public surface: constructors, calls and what the host asks of it; each
//! call runs on the configuration in force when it starts.

use super::{ChatStream, Gateway, RequestContext, ResponseStream};
use crate::api::responses::{ResponseObject, ResponsesRequest};
use crate::api::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Error};
use crate::config;
use crate::routing::{Router, TargetHealth};
use crate::telemetry::{GroupBy, Observer, ObserverId, Telemetry, UsageRow};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

impl Gateway {
    /// A fresh gateway from the same configuration, with new connection pools: what a
    /// forked child needs, since pooled connections belong to the parent's runtime.
    pub fn rebuild(&self) -> Result<Gateway, Error> {
        Gateway::from_config(self.engine().inner.config.clone())
    }

    /// A gateway from a YAML or JSON config file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Gateway, Error> {
        Gateway::from_config(config::load_file(path)?)
    }

    /// A gateway from YAML or JSON config text.
    pub fn from_text(text: &str) -> Result<Gateway, Error> {
        Gateway::from_config(config::load_text(text)?)
    }

    /// A gateway from an already-parsed config object (a Python dict, a JS object).
    pub fn from_value(value: serde_json::Value) -> Result<Gateway, Error> {
        Gateway::from_config(config::resolve(
            config::parse_value(value)?,
            &config::process_env,
        )?)
    }

    /// A gateway with no config: `provider/model` names, keys from the environment.
    pub fn from_env() -> Result<Gateway, Error> {
        Gateway::from_config(config::resolve(
            config::ConfigFile::default(),
            &config::process_env,
        )?)
    }

    /// Every target's state: healthy, cooling down (until when) or half-open, latency,
    /// recent error rate and requests in flight. Plain data, serializable to JSON.
    pub fn health(&self) -> Vec<TargetHealth> {
        self.engine().inner.router.health()
    }

    /// The routing table, for benchmarks and diagnostics (the decision alone, health).
    pub fn router(&self) -> Arc<Router> {
        self.engine().inner.router.clone()
    }

    /// Prometheus text exposition of the gateway's metrics.
    pub fn metrics_text(&self) -> String {
        use std::fmt::Write;
        let mut out = self.live.telemetry.metrics_text();
        self.engine().inner.policy.write_metrics(&mut out);
        let name = "switchpoint_guardrail_findings_total";
        let n = self
            .live
            .hooks
            .findings
            .load(std::sync::atomic::Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP {name} Guardrail findings that flagged or redacted (blocks are refusals)."
        );
        let _ = writeln!(out, "# TYPE {name} counter");
        let _ = writeln!(out, "{name} {n}");
        out
    }

    /// Requests, tokens, cost, errors and cache hits since a time, grouped.
    pub fn usage(&self, since: SystemTime, group_by: GroupBy) -> Vec<UsageRow> {
        self.live.telemetry.usage(since, group_by)
    }

    /// Adds an observer (what bindings wrap host callbacks in); it receives every request
    /// record from now on, on the telemetry worker thread.
    pub fn add_observer(&self, observer: Arc<dyn Observer>) -> ObserverId {
        self.live.telemetry.add_observer(observer)
    }

    /// Removes an observer; false if it was not registered.
    pub fn remove_observer(&self, id: ObserverId) -> bool {
        self.live.telemetry.remove_observer(id)
    }

    /// Waits (blocking) until every record so far reached the observers; false on timeout.
    pub fn flush_telemetry(&self, timeout: Duration) -> bool {
        self.live.telemetry.flush(timeout)
    }

    /// Prices, records and observers.
    pub fn telemetry(&self) -> &Telemetry {
        &self.live.telemetry
    }

    /// One chat completion (the request's `stream` flag is ignored; see [`Gateway::chat_stream`]).
    pub async fn chat(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
    ) -> Result<ChatResponse, Error> {
        self.engine().chat_via(req, ctx, None).await
    }

    /// A streamed chat completion. Errors before the first chunk (including a non-2xx
    /// answer) fail over and, when every target failed, come back here; later ones arrive in
    /// the stream, which always ends with an error rather than silently when cut. Answers
    /// from the cache are replayed as streams; identical streams in flight are shared.
    pub async fn chat_stream(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
    ) -> Result<ChatStream, Error> {
        self.engine().chat_stream_via(req, ctx, None).await
    }

    /// Embeddings for one or more inputs.
    pub async fn embed(
        &self,
        req: &EmbeddingRequest,
        ctx: &RequestContext,
    ) -> Result<EmbeddingResponse, Error> {
        self.engine().embed(req, ctx).await
    }

    /// One Responses API call (the request's `stream` flag is ignored; see
    /// [`Gateway::responses_stream`]).
    pub async fn responses(
        &self,
        req: &ResponsesRequest,
        ctx: &RequestContext,
    ) -> Result<ResponseObject, Error> {
        self.engine().responses(req, ctx).await
    }

    /// A streamed Responses API call: the events OpenAI sends, in order. Errors before the
    /// first event come back here; later ones end the stream with `response.failed` and
    /// then the typed error.
    pub async fn responses_stream(
        &self,
        req: &ResponsesRequest,
        ctx: &RequestContext,
    ) -> Result<ResponseStream, Error> {
        self.engine().responses_stream(req, ctx).await
    }
}
