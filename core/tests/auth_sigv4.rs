//! switchpoint's SigV4 signer against AWS's published Signature Version 4 test vectors
//! (`tests/fixtures/sigv4/`, see its README for provenance).

use bytes::Bytes;
use serde_json::Value;
use std::time::SystemTime;
use switchpoint_core::auth::{AwsCredentials, SigV4Signer};
use switchpoint_core::config::Secret;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/sigv4");

const CASES: [&str; 5] = [
    "get-vanilla",
    "get-vanilla-query-order-key-case",
    "get-vanilla-with-session-token",
    "post-vanilla",
    "post-header-key-sort",
];

fn read(case: &str, file: &str) -> String {
    std::fs::read_to_string(format!("{VECTORS}/{case}/{file}")).expect("vector file")
}

/// `METHOD PATH HTTP/1.1`, `Name:value` lines, a blank line, the body.
fn parse_request(text: &str) -> (String, String, Vec<(String, String)>, String) {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let first = lines.next().expect("request line");
    let mut parts = first.split(' ');
    let method = parts.next().expect("method").to_string();
    let path = parts.next().expect("path").to_string();
    let headers = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(':').expect("header line");
            (k.to_string(), v.to_string())
        })
        .collect();
    (method, path, headers, body.to_string())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn sign_case(case: &str) -> (http::Request<Bytes>, Vec<(String, String)>) {
    let ctx: Value = serde_json::from_str(&read(case, "context.json")).expect("context");
    let creds = &ctx["credentials"];
    let secret = |k: &str| creds[k].as_str().map(Secret::new);
    let signer = SigV4Signer::new(
        AwsCredentials {
            access_key_id: secret("access_key_id").expect("key id"),
            secret_access_key: secret("secret_access_key").expect("secret"),
            session_token: secret("token"),
        },
        ctx["region"].as_str().expect("region"),
        ctx["service"].as_str().expect("service"),
        "aws-vectors",
    );
    let time: SystemTime = humantime::parse_rfc3339(ctx["timestamp"].as_str().expect("time"))
        .expect("rfc3339 timestamp");
    let (method, path, headers, body) = parse_request(&read(case, "request.txt"));
    let host = header(&headers, "host").expect("host header");
    let mut builder = http::Request::builder()
        .method(method.as_str())
        .uri(format!("https://{host}{path}"));
    for (k, v) in &headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let mut req = builder.body(Bytes::from(body)).expect("request");
    signer.sign_at(&mut req, time).expect("signs");
    let (_, _, expected, _) = parse_request(&read(case, "header-signed-request.txt"));
    (req, expected)
}

#[test]
fn every_vector_gets_the_published_signature() {
    for case in CASES {
        let (req, expected) = sign_case(case);
        for name in ["authorization", "x-amz-date", "x-amz-security-token"] {
            let got = req.headers().get(name).map(|v| v.to_str().expect("ascii"));
            assert_eq!(got, header(&expected, name), "{case}: header {name}");
        }
        let signature = read(case, "header-signature.txt");
        let auth = req.headers()["authorization"].to_str().expect("ascii");
        assert!(
            auth.ends_with(&format!("Signature={}", signature.trim())),
            "{case}: {auth}"
        );
    }
}

#[test]
fn signature_and_token_are_marked_sensitive() {
    let (req, _) = sign_case("get-vanilla-with-session-token");
    assert!(req.headers()["authorization"].is_sensitive());
    assert!(req.headers()["x-amz-security-token"].is_sensitive());
    let debug = format!(
        "{:?}",
        AwsCredentials {
            access_key_id: Secret::new("AKIDEXAMPLE"),
            secret_access_key: Secret::new("wJalrXUtnFEMI-super-secret"),
            session_token: None,
        }
    );
    assert!(!debug.contains("super-secret"), "{debug}");
    assert!(!debug.contains("AKIDEXAMPLE"), "{debug}");
}

#[test]
fn a_relative_url_is_a_typed_error_not_a_panic() {
    let signer = SigV4Signer::new(
        AwsCredentials {
            access_key_id: Secret::new("AKID"),
            secret_access_key: Secret::new("s"),
            session_token: None,
        },
        "us-east-1",
        "bedrock",
        "br",
    );
    let mut req = http::Request::builder()
        .uri("/model/x/converse")
        .body(Bytes::new())
        .expect("request");
    let err = signer
        .sign_at(&mut req, SystemTime::now())
        .expect_err("no host");
    assert_eq!(err.provider.as_deref(), Some("br"));
    assert!(err.message.contains("no host"), "{}", err.message);
}
