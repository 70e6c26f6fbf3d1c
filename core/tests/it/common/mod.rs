//! Helpers shared by the integration tests: SSE fixture splitting and OpenAPI validation.
// Each test binary uses only some of these helpers.
#![allow(dead_code)]

pub mod redis;
pub mod scenario;
pub mod schema;
pub mod sse;

/// The contents of a file under the repository's `tests/fixtures/`.
pub fn fixture(path: &str) -> String {
    let full = format!("{}/../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read fixture {full}: {e}"))
}
