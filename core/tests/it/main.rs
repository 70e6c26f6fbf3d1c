//! The integration tests in one binary (one link instead of one per file; the tests that set
//! process environment variables, `secrets` and `zero_config`, keep their own binaries).

mod adapter_anthropic;
mod adapter_azure;
mod adapter_bedrock;
mod adapter_cloud_embed;
mod adapter_cohere;
mod adapter_gemini;
mod adapter_mistral;
mod adapter_ollama;
mod adapter_openai;
mod adapter_vertex;
mod aimock_smoke;
mod auth_sigv4;
mod cache_upstream;
mod cloud_embeddings;
mod cloud_providers;
mod common;
mod cost_providers;
mod gateway_cache;
mod gateway_http;
mod guardrails;
mod openai_schema;
mod resilience_cooldown;
mod resilience_failover;
mod resilience_streams;
mod responses_gateway;
mod routing_latency;
mod routing_strategies;
mod scenarios;
mod telemetry_export;
mod transport_eventstream;
mod transport_split;
mod unified_schema;
