//! Cache keys: a keyed hash of the namespace, the route and the request in canonical form.
//!
//! In the process, the key is SipHash-2-4 (128-bit output) under a key drawn from the OS when
//! the process starts: a pseudo-random function, so nobody who cannot read the process's
//! memory can craft a request that collides with another tenant's entry, and a few times
//! cheaper than a cryptographic digest on a prompt-sized input (the key is the larger part
//! of a cache hit). Entries on the shared store must be found by every process, so their
//! key ([`shared_key`]) is a BLAKE3 digest of the same bytes instead, computed only when a
//! shared store is configured and the local cache missed.
//!
//! Two requests get the same key exactly when they must produce the same answer. The
//! normalizations, each of which only merges requests every provider treats alike:
//!
//! 1. Dropped fields: `model` (the resolved route is hashed instead, so aliases share
//!    entries); `stream` and `stream_options` (a streamed and a non-streamed answer are the
//!    same answer; the cache replays it either way); `user`, `metadata`, `store`,
//!    `prompt_cache_key`, `safety_identifier` (attribution, monitoring and provider-side
//!    caching hints, not output). The caller's key never enters: tenants are separated by
//!    the namespace, which is an id, not a secret.
//! 2. `max_tokens` and `max_completion_tokens` are one limit: hashed once as
//!    `max_completion_tokens` (the value the adapters send).
//! 3. Defaults dropped where an explicit default and an absent field behave identically on
//!    every provider: `n: 1`, `presence_penalty: 0`, `frequency_penalty: 0`,
//!    `logprobs: false`, `response_format: {"type": "text"}`, `stop: []`, `tools: []`,
//!    `extra_body: {}`, and `parallel_tool_calls` / `tool_choice` when no tools are offered.
//!    Kept as sent: `temperature` and `top_p`, whose defaults differ between providers
//!    (Mistral samples at 0.7 by default, Gemini with top_p 0.95), so `1.0` and absent may
//!    answer differently.
//! 4. `stop: "x"` is `stop: ["x"]`.
//! 5. In messages, content given as a single text part is the plain string, and null
//!    fields are absent (providers read `{"name": null}` and no name alike).
//! 6. Canonical JSON: object keys sorted bytewise, no whitespace, integral numbers written
//!    as integers (`1`, `1.0` and `1e0` hash alike; `-0.0` is `0`), other numbers in
//!    shortest round-trip form, strings JSON-escaped. Array order is kept (message, tool
//!    and stop order can change the answer).

use crate::api::ChatRequest;
use serde_json::{Map, Value};
use std::fmt;

/// A 128-bit in-process cache key (meaningful only inside the process that made it).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CacheKey(pub [u8; 16]);

impl std::hash::Hash for CacheKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Half the key is a uniformly distributed word already; see [`KeyBits`].
        let mut w = [0u8; 8];
        w.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(w));
    }
}

/// Hash-table hashing for cache keys: their bits, unchanged. A key is a keyed PRF's output,
/// so hashing it again (a table's default SipHash) would only cost time on every lookup.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyBits;

/// The hasher of [`KeyBits`].
#[derive(Debug, Default)]
pub struct KeyBitsHasher(u64);

impl std::hash::BuildHasher for KeyBits {
    type Hasher = KeyBitsHasher;
    fn build_hasher(&self) -> KeyBitsHasher {
        KeyBitsHasher(0)
    }
}

impl std::hash::Hasher for KeyBitsHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = self.0.rotate_left(29) ^ n;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only cache keys are hashed with this (through write_u64); anything else still
        // spreads (FNV-1a).
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl CacheKey {
    /// A key of its own for the `n`th request that must not share this key's flight (it
    /// skipped the cache read): never equal to a request's key.
    pub fn private(&self, n: u64) -> CacheKey {
        use siphasher::sip128::Hasher128;
        use std::hash::Hasher;
        let mut h = keyed_hasher();
        h.write(b"switchpoint.bypass\0");
        h.write(&self.0);
        h.write(&n.to_le_bytes());
        CacheKey(h.finish128().as_bytes())
    }

    /// Lower-case hex, for logs.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({})", &self.to_hex()[..16])
    }
}

/// Fields that never change the answer.
const DROPPED: [&str; 8] = [
    "model",
    "stream",
    "stream_options",
    "user",
    "metadata",
    "store",
    "prompt_cache_key",
    "safety_identifier",
];

/// The request in normalized form (before canonical serialization).
pub fn canonical_request(req: &ChatRequest) -> Value {
    let mut v = serde_json::to_value(req).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        normalize_top(m, req);
    }
    v
}

fn normalize_top(m: &mut Map<String, Value>, req: &ChatRequest) {
    for f in DROPPED {
        m.remove(f);
    }
    m.retain(|_, v| !v.is_null());
    m.remove("max_tokens");
    match req.max_output_tokens() {
        Some(n) => m.insert("max_completion_tokens".into(), n.into()),
        None => m.remove("max_completion_tokens"),
    };
    let is_num = |v: Option<&Value>, x: f64| v.and_then(Value::as_f64) == Some(x);
    if is_num(m.get("n"), 1.0) {
        m.remove("n");
    }
    for f in ["presence_penalty", "frequency_penalty"] {
        if is_num(m.get(f), 0.0) {
            m.remove(f);
        }
    }
    if m.get("logprobs") == Some(&Value::Bool(false)) {
        m.remove("logprobs");
    }
    if m.get("response_format").and_then(|f| f.get("type")) == Some(&Value::from("text")) {
        m.remove("response_format");
    }
    match m.get("stop") {
        Some(Value::String(s)) => {
            let one = Value::Array(vec![Value::String(s.clone())]);
            m.insert("stop".into(), one);
        }
        Some(Value::Array(a)) if a.is_empty() => {
            m.remove("stop");
        }
        _ => {}
    }
    if matches!(m.get("tools"), Some(Value::Array(a)) if a.is_empty()) {
        m.remove("tools");
    }
    if !m.contains_key("tools") {
        m.remove("parallel_tool_calls");
        m.remove("tool_choice");
    }
    if matches!(m.get("extra_body"), Some(Value::Object(o)) if o.is_empty()) {
        m.remove("extra_body");
    }
    if let Some(Value::Array(msgs)) = m.get_mut("messages") {
        for msg in msgs {
            if let Value::Object(mm) = msg {
                normalize_message(mm);
            }
        }
    }
}

fn normalize_message(m: &mut Map<String, Value>) {
    m.retain(|_, v| !v.is_null());
    let single_text = match m.get("content") {
        Some(Value::Array(parts)) if parts.len() == 1 => {
            let p = &parts[0];
            let only_text = p.get("type") == Some(&Value::from("text"))
                && p.as_object().is_some_and(|o| o.len() == 2);
            if only_text {
                p.get("text").cloned()
            } else {
                None
            }
        }
        _ => None,
    };
    if let Some(t @ Value::String(_)) = single_text {
        m.insert("content".into(), t);
    }
}

/// Writes `v` as canonical JSON (see the module doc) into `out`.
pub fn write_canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_json_str(s, out),
        Value::Array(a) => {
            out.push(b'[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_unstable();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_str(k, out);
                out.push(b':');
                write_canonical(&m[k], out);
            }
            out.push(b'}');
        }
    }
}

/// A JSON string literal, escaped as serde_json escapes it; text with nothing to escape (most
/// prompts) is copied whole instead of byte by byte.
pub(crate) fn write_json_str(s: &str, out: &mut Vec<u8>) {
    if needs_escape(s.as_bytes()) {
        // Writing a &str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// Whether any byte is a control character, `"` or `\`: eight bytes per step (the
/// "has a zero byte / has a byte less than n" word tests).
fn needs_escape(s: &[u8]) -> bool {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES * 0x80;
    let zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    let mut words = s.chunks_exact(8);
    for c in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        let w = u64::from_le_bytes(b);
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        if control
            | zero_byte(w ^ (ONES * u64::from(b'"')))
            | zero_byte(w ^ (ONES * u64::from(b'\\')))
            != 0
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

fn write_number(n: &serde_json::Number, out: &mut Vec<u8>) {
    use std::io::Write as _;
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        write_number_f64(f, out);
    }
}

/// A float in canonical form: integral values within the exactly-representable range as
/// integers, others in shortest round-trip form.
pub(crate) fn write_number_f64(f: f64, out: &mut Vec<u8>) {
    use std::io::Write as _;
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        let _ = write!(out, "{}", f as i64);
    } else {
        let _ = write!(out, "{f}");
    }
}

/// The canonical JSON text of a request (for tests and debugging).
pub fn canonical_json(req: &ChatRequest) -> String {
    let mut out = Vec::new();
    super::canonical::write_request(req, true, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// A SipHash-2-4 hasher under the process's key, drawn once from the OS's secure generator.
fn keyed_hasher() -> siphasher::sip128::SipHasher24 {
    static HASHER: std::sync::OnceLock<siphasher::sip128::SipHasher24> = std::sync::OnceLock::new();
    *HASHER.get_or_init(|| {
        let mut key = [0u8; 16];
        if getrandom::fill(&mut key).is_err() {
            // No OS generator (never seen on supported platforms): std's per-process
            // random hasher keys are the fallback, still unknown outside the process.
            use std::hash::BuildHasher;
            let s = std::collections::hash_map::RandomState::new();
            key[..8].copy_from_slice(&s.hash_one(1u8).to_le_bytes());
            key[8..].copy_from_slice(&s.hash_one(2u8).to_le_bytes());
        }
        siphasher::sip128::SipHasher24::new_with_key(&key)
    })
}

/// Runs `f` on the request's canonical text, written into a buffer kept per thread.
fn with_canonical<R>(req: &ChatRequest, messages: bool, f: impl FnOnce(&[u8]) -> R) -> R {
    // A hit is a few microseconds, and a fresh allocation (and its growth) for every key
    // was a visible part of it.
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(1024));
    }
    BUF.with(|cell| {
        let mut fresh = Vec::new();
        let mut guard = cell.try_borrow_mut();
        let buf = match guard.as_deref_mut() {
            Ok(b) => b,
            Err(_) => &mut fresh,
        };
        buf.clear();
        super::canonical::write_request(req, messages, buf);
        let out = f(buf);
        // A huge request's buffer is not kept for the thread's lifetime.
        if buf.capacity() > 64 * 1024 {
            *buf = Vec::with_capacity(1024);
        }
        out
    })
}

/// Feeds the key's parts to a hasher: lengths first, so no choice of namespace or route
/// text can forge another's prefix.
fn feed(mut update: impl FnMut(&[u8]), domain: &[u8], namespace: &str, route: &str, text: &[u8]) {
    update(domain);
    update(&(namespace.len() as u64).to_le_bytes());
    update(namespace.as_bytes());
    update(&(route.len() as u64).to_le_bytes());
    update(route.as_bytes());
    update(text);
}

fn hash_parts(
    domain: &[u8],
    namespace: &str,
    route: &str,
    req: &ChatRequest,
    messages: bool,
) -> CacheKey {
    use siphasher::sip128::Hasher128;
    use std::hash::Hasher;
    with_canonical(req, messages, |text| {
        let mut h = keyed_hasher();
        feed(|b| h.write(b), domain, namespace, route, text);
        CacheKey(h.finish128().as_bytes())
    })
}

const EXACT_DOMAIN: &[u8] = b"switchpoint.exact.v1\0";

/// The exact-cache key of a request in a namespace, on a route.
pub fn request_key(namespace: &str, route: &str, req: &ChatRequest) -> CacheKey {
    hash_parts(EXACT_DOMAIN, namespace, route, req, true)
}

/// The key of an exact-cache entry on the shared store: a BLAKE3 digest (lower-case hex) of
/// the same bytes as [`request_key`], so every process finds what another stored.
pub fn shared_key(namespace: &str, route: &str, req: &ChatRequest) -> String {
    with_canonical(req, true, |text| {
        let mut h = blake3::Hasher::new();
        feed(
            |b| {
                h.update(b);
            },
            EXACT_DOMAIN,
            namespace,
            route,
            text,
        );
        h.finalize().to_hex().to_string()
    })
}

/// The key of everything but the conversation: semantic matches are only looked for among
/// requests with identical parameters (tools, sampling, format), on the same route.
pub fn params_key(namespace: &str, route: &str, req: &ChatRequest) -> CacheKey {
    hash_parts(
        b"switchpoint.semantic-scope.v1\0",
        namespace,
        route,
        req,
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::from_json_value;
    use serde_json::json;

    fn req(v: Value) -> ChatRequest {
        from_json_value(v).expect("valid request")
    }

    fn key(v: Value) -> CacheKey {
        request_key("team:a", "gpt", &req(v))
    }

    #[test]
    fn parameter_order_and_number_spelling_do_not_matter() {
        let a = serde_json::from_str::<Value>(
            r#"{"model":"gpt","temperature":1,"messages":[{"role":"user","content":"hi"}],"top_p":0.5,
                "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"x":{"type":"integer","minimum":0}}}}}]}"#,
        )
        .expect("json");
        let b = serde_json::from_str::<Value>(
            r#"{"tools":[{"function":{"parameters":{"properties":{"x":{"minimum":0.0,"type":"integer"}},"type":"object"},"name":"f"},"type":"function"}],
                "top_p":5e-1,"messages":[{"content":"hi","role":"user"}],"temperature":1.0,"model":"gpt"}"#,
        )
        .expect("json");
        assert_eq!(key(a), key(b));
    }

    #[test]
    fn defaults_and_irrelevant_fields_are_normalized() {
        let base = json!({"model":"gpt","messages":[{"role":"user","content":"hi"}]});
        let same = [
            json!({"model":"alias","messages":[{"role":"user","content":"hi"}]}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"n":1,"presence_penalty":0,"frequency_penalty":0.0}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"user":"u1","metadata":{"a":"b"},"store":true}),
            json!({"model":"gpt","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi","name":null}]}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"text"},"stop":[],"tools":[],"parallel_tool_calls":true,"logprobs":false}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"extra_body":{}}),
        ];
        for s in same {
            assert_eq!(key(base.clone()), key(s.clone()), "{s}");
        }
        assert_eq!(
            key(json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"max_tokens":5})),
            key(
                json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":5})
            )
        );
        assert_eq!(
            key(json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"stop":"x"})),
            key(json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"stop":["x"]}))
        );
    }

    #[test]
    fn anything_that_changes_the_answer_changes_the_key() {
        let base = json!({"model":"gpt","messages":[{"role":"user","content":"hi"}]});
        let different = [
            json!({"model":"gpt","messages":[{"role":"user","content":"hi!"}]}),
            json!({"model":"gpt","messages":[{"role":"system","content":"hi"}]}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"temperature":1}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"top_p":1}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"n":2}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"seed":1}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"max_tokens":5}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"reasoning_effort":"low"}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"extra_body":{"top_k":3}}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}),
            json!({"model":"gpt","messages":[{"role":"user","content":[{"type":"text","text":"h"},{"type":"text","text":"i"}]}]}),
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}),
        ];
        for d in different {
            assert_ne!(key(base.clone()), key(d.clone()), "{d}");
        }
        let r = req(base);
        // Namespace and route separate entries; so does the params scope from the exact key.
        assert_ne!(
            request_key("team:a", "gpt", &r),
            request_key("team:b", "gpt", &r)
        );
        assert_ne!(
            request_key("team:a", "gpt", &r),
            request_key("team:a", "gpt2", &r)
        );
        assert_ne!(request_key("a", "bc", &r), request_key("ab", "c", &r));
        assert_ne!(
            request_key("team:a", "gpt", &r),
            params_key("team:a", "gpt", &r)
        );
    }

    #[test]
    fn params_key_ignores_only_the_conversation() {
        let a =
            req(json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"temperature":0}));
        let b = req(
            json!({"model":"gpt","messages":[{"role":"user","content":"hello there"}],"temperature":0.0}),
        );
        let c = req(
            json!({"model":"gpt","messages":[{"role":"user","content":"hi"}],"temperature":0.5}),
        );
        assert_eq!(params_key("n", "r", &a), params_key("n", "r", &b));
        assert_ne!(params_key("n", "r", &a), params_key("n", "r", &c));
    }

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        for s in [
            "",
            "plain text",
            "quote \" and backslash \\",
            "tab\tnewline\ncr\r",
            "\u{0}\u{1f}\u{7f}",
            "héllo wörld ✓ 😀",
            "</script>",
        ] {
            let mut ours = Vec::new();
            write_json_str(s, &mut ours);
            assert_eq!(ours, serde_json::to_vec(s).expect("json"), "{s:?}");
        }
    }

    #[test]
    fn the_shared_key_is_the_same_in_every_process_and_apart_from_the_local_one() {
        let r = req(json!({"model":"gpt","messages":[{"role":"user","content":"hi"}]}));
        // A fixed digest: another process (or version) must compute the same entry name.
        let k = shared_key("team:a", "gpt", &r);
        assert_eq!(k.len(), 64);
        assert_eq!(k, shared_key("team:a", "gpt", &r));
        assert_ne!(k, shared_key("team:b", "gpt", &r));
        let mut h = blake3::Hasher::new();
        h.update(b"switchpoint.exact.v1\0");
        h.update(&6u64.to_le_bytes());
        h.update(b"team:a");
        h.update(&3u64.to_le_bytes());
        h.update(b"gpt");
        h.update(canonical_json(&r).as_bytes());
        assert_eq!(k, h.finalize().to_hex().to_string());
    }

    #[test]
    fn canonical_text_is_sorted_and_compact() {
        let r = req(
            json!({"model":"m","temperature":0.25,"messages":[{"role":"user","content":"a\"b"}],"x_bias":-0.0}),
        );
        assert_eq!(
            canonical_json(&r),
            r#"{"messages":[{"content":"a\"b","role":"user"}],"temperature":0.25,"x_bias":0}"#
        );
    }
}
