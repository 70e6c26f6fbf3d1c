//! Request spans exported over OTLP/HTTP (protobuf), named and attributed per the
//! OpenTelemetry GenAI semantic conventions (gen-ai-spans):
//! - span name `{gen_ai.operation.name} {gen_ai.request.model}`, kind CLIENT;
//! - `gen_ai.operation.name` (`chat`, `embeddings`), `gen_ai.provider.name` (the
//!   registry's well-known values: `openai`, `anthropic`, `gcp.gemini`, `azure.ai.openai`,
//!   `groq`, `mistral_ai`, `deepseek`, `x_ai`; other providers by their own name),
//!   `gen_ai.request.model`, `gen_ai.response.model`, `gen_ai.response.id`,
//!   `gen_ai.response.finish_reasons`, `gen_ai.usage.input_tokens`,
//!   `gen_ai.usage.output_tokens`; on failure `error.type` (the error kind) and status ERROR;
//! - gateway facts under `switchpoint.*` (route, attempts, cache status, cost, saved cost,
//!   cached and reasoning tokens, user, team, tags).
//!
//! Spans are built from finished records with the request's own start and end times, on the
//! telemetry worker, and exported in batches by the SDK's processor thread.

use super::hub::Observer;
use super::record::{from_unix_ms, RequestRecord, Status};
use crate::api::{Error, ErrorKind};
use crate::config::OtlpConfig;
use opentelemetry::trace::{
    Span as _, SpanKind, Status as SpanStatus, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use std::collections::HashMap;

/// The OTLP span exporter (an observer).
pub struct OtlpObserver {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

impl std::fmt::Debug for OtlpObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtlpObserver")
    }
}

/// The semconv `gen_ai.provider.name` for a provider preset or wire format.
pub fn genai_provider_name(kind: &str) -> &str {
    match kind {
        "openai" => "openai",
        "azure" | "azure_openai" => "azure.ai.openai",
        "anthropic" => "anthropic",
        "gemini" => "gcp.gemini",
        "groq" => "groq",
        "mistral" => "mistral_ai",
        "deepseek" => "deepseek",
        "xai" => "x_ai",
        other => other,
    }
}

impl OtlpObserver {
    /// An exporter posting to the configured OTLP/HTTP traces endpoint.
    pub fn new(cfg: &OtlpConfig) -> Result<OtlpObserver, Error> {
        let headers: HashMap<String, String> = cfg.headers.clone().into_iter().collect();
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(cfg.endpoint.clone())
            .with_timeout(cfg.timeout)
            .with_headers(headers)
            .build()
            .map_err(|e| {
                Error::new(ErrorKind::Config, format!("telemetry.otlp: {e}"))
                    .with_param("telemetry.otlp")
            })?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(cfg.service_name.clone())
                    .build(),
            )
            .build();
        let tracer = provider.tracer("switchpoint");
        Ok(OtlpObserver { provider, tracer })
    }
}

fn operation(call: &str) -> &'static str {
    match call {
        "embed" => "embeddings",
        _ => "chat",
    }
}

/// The span attributes of a record (public for tests and other exporters).
pub fn span_attributes(r: &RequestRecord) -> Vec<KeyValue> {
    let i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let mut a = vec![
        KeyValue::new("gen_ai.operation.name", operation(r.call)),
        KeyValue::new(
            "gen_ai.provider.name",
            genai_provider_name(&r.provider_kind).to_string(),
        ),
        KeyValue::new("gen_ai.request.model", r.model.clone()),
        KeyValue::new("gen_ai.usage.input_tokens", i(r.tokens.prompt)),
        KeyValue::new("gen_ai.usage.output_tokens", i(r.tokens.completion)),
        KeyValue::new("switchpoint.route", r.route.clone()),
        KeyValue::new("switchpoint.provider", r.provider.clone()),
        KeyValue::new("switchpoint.attempts", r.attempts.len() as i64),
        KeyValue::new("switchpoint.cache.status", r.cache.status.as_str()),
        KeyValue::new("switchpoint.usage.cached_tokens", i(r.tokens.cached)),
        KeyValue::new("switchpoint.usage.reasoning_tokens", i(r.tokens.reasoning)),
    ];
    if let Some(m) = r
        .response_model
        .clone()
        .or_else(|| (!r.provider_model.is_empty()).then(|| r.provider_model.clone()))
    {
        a.push(KeyValue::new("gen_ai.response.model", m));
    }
    if let Some(id) = &r.response_id {
        a.push(KeyValue::new("gen_ai.response.id", id.clone()));
    }
    if !r.finish_reasons.is_empty() {
        let reasons: Vec<StringValue> = r
            .finish_reasons
            .iter()
            .map(|f| StringValue::from(f.as_str()))
            .collect();
        a.push(KeyValue::new(
            "gen_ai.response.finish_reasons",
            Value::Array(Array::String(reasons)),
        ));
    }
    if let Some(c) = &r.cost {
        a.push(KeyValue::new("switchpoint.cost.usd", c.total.to_string()));
    }
    if let Some(s) = r.cache.saved_usd {
        a.push(KeyValue::new("switchpoint.cache.saved_usd", s.to_string()));
    }
    if let Some(u) = &r.caller.user {
        a.push(KeyValue::new("switchpoint.user", u.clone()));
    }
    if let Some(t) = &r.caller.team {
        a.push(KeyValue::new("switchpoint.team", t.clone()));
    }
    if !r.tags.is_empty() {
        let tags: Vec<StringValue> = r
            .tags
            .iter()
            .map(|t| StringValue::from(t.clone()))
            .collect();
        a.push(KeyValue::new(
            "switchpoint.tags",
            Value::Array(Array::String(tags)),
        ));
    }
    if let Some(ttft) = r.ttft_ms {
        a.push(KeyValue::new("switchpoint.ttft_ms", ttft));
    }
    if let Status::Error(kind) = r.status {
        a.push(KeyValue::new("error.type", kind.as_str()));
    }
    a
}

impl Observer for OtlpObserver {
    fn on_record(&self, r: &RequestRecord) {
        let name = format!("{} {}", operation(r.call), r.model);
        let mut span = self
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Client)
            .with_start_time(from_unix_ms(r.started_at_ms))
            .with_attributes(span_attributes(r))
            .start(&self.tracer);
        if let Status::Error(kind) = r.status {
            span.set_status(SpanStatus::error(kind.as_str()));
        }
        span.end_with_timestamp(from_unix_ms(r.ended_at_ms.max(r.started_at_ms)));
    }

    fn flush(&self) {
        let _ = self.provider.force_flush();
    }
}

impl Drop for OtlpObserver {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}
