//! Verifies the SigV4 signature of a Bedrock request the way AWS does: recompute it with
//! `aws-sigv4` over the received method, URL, signed headers and body, with the secret of the
//! access key it names, and compare.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use http::request::Parts;

/// The access key id the mock accepts (tests configure it).
pub const TEST_ACCESS_KEY_ID: &str = "AKIDMOCKBEDROCK0001";
/// Its secret access key.
pub const TEST_SECRET_ACCESS_KEY: &str = "mock/Secret+Key/for/switchpoint/tests00";

/// Why a request's signature is refused: the Bedrock error shape and message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// The parsed `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
struct AuthHeader<'a> {
    access_key: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse(header: &str) -> Option<AuthHeader<'_>> {
    let rest = header.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let mut scope = credential?.split('/');
    let access_key = scope.next()?;
    let _date = scope.next()?;
    let region = scope.next()?;
    let service = scope.next()?;
    Some(AuthHeader {
        access_key,
        region,
        service,
        signed_headers: signed?.split(';').collect(),
        signature: signature?,
    })
}

/// `20250101T120000Z` -> the instant.
fn amz_date(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<u64>().ok();
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, s) = (num(9..11)?, num(11..13)?, num(13..15)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(UNIX_EPOCH + Duration::from_secs(days * 86_400 + h * 3600 + mi * 60 + s))
}

/// Checks the request's SigV4 signature; `Err` says what AWS would answer (403).
pub(crate) fn verify(parts: &Parts, body: &[u8]) -> Result<(), Refusal> {
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok());
    let Some(auth) = header("authorization") else {
        return Err(refuse(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let auth = parse(auth).ok_or_else(|| {
        refuse(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
        )
    })?;
    if auth.access_key != TEST_ACCESS_KEY_ID {
        return Err(refuse(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    }
    if auth.service != "bedrock" {
        return Err(refuse(
            "InvalidSignatureException",
            format!(
                "Credential should be scoped to correct service: 'bedrock'. (got '{}')",
                auth.service
            ),
        ));
    }
    let time = header("x-amz-date").and_then(amz_date).ok_or_else(|| {
        refuse(
            "IncompleteSignatureException",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    })?;
    let token = header("x-amz-security-token").map(str::to_string);
    let identity = Credentials::new(
        TEST_ACCESS_KEY_ID,
        TEST_SECRET_ACCESS_KEY,
        token,
        None,
        "mock-provider",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name(auth.service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| refuse("IncompleteSignatureException", e.to_string()))?
        .into();
    // Only the headers the client signed, minus the ones the signer adds itself.
    let mut headers = Vec::new();
    for name in &auth.signed_headers {
        if matches!(*name, "x-amz-date" | "x-amz-security-token") {
            continue;
        }
        let Some(value) = header(name) else {
            return Err(refuse(
                "InvalidSignatureException",
                format!("signed header `{name}` is missing from the request"),
            ));
        };
        headers.push((*name, value));
    }
    let host = header("host").unwrap_or("localhost");
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let uri = format!("http://{host}{path}");
    let signable = SignableRequest::new(
        parts.method.as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| refuse("InvalidSignatureException", e.to_string()))?;
    // aws-sigv4 traces the canonical request with the session token in it; the mock stands
    // in for AWS and logs no credential either (the secrets audit reads every log line).
    let signed =
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
            sign(signable, &params)
        });
    let (_, expected) = signed
        .map_err(|e| refuse("InvalidSignatureException", e.to_string()))?
        .into_parts();
    if expected == auth.signature {
        Ok(())
    } else {
        Err(refuse(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_parse() {
        assert_eq!(
            amz_date("20150830T123600Z"),
            Some(UNIX_EPOCH + Duration::from_secs(1_440_938_160))
        );
        assert_eq!(amz_date("2015-08-30"), None);
    }

    #[test]
    fn authorization_headers_parse() {
        let h = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        let a = parse(h).expect("parses");
        assert_eq!(a.access_key, "AKID");
        assert_eq!(a.region, "us-east-1");
        assert_eq!(a.service, "bedrock");
        assert_eq!(a.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(a.signature, "abc");
    }
}
