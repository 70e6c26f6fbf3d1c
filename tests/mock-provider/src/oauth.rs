//! A fake Google OAuth 2.0 token endpoint (`POST /token`) for the service-account flow: it
//! checks the JWT-bearer grant as Google does (RS256 signature with the test key's public
//! half, `aud` = this endpoint, `exp` in the future, the cloud-platform scope) and issues
//! `ya29.mock.<client_email>` tokens.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::fault::FaultError;

/// The public half of the committed test key (`tests/fixtures/vertex/test-key.pem`).
const TEST_PUBLIC_KEY: &str = include_str!("../../fixtures/vertex/test-key.pub.pem");

/// The grant type of RFC 7523 that service accounts use.
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The scope Vertex AI needs.
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The token lifetime answered unless the token URL asks for another (`?expires_in=N`).
pub(crate) const DEFAULT_EXPIRES_IN: u64 = 3599;

#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    #[serde(default)]
    scope: String,
}

/// An OAuth error body (RFC 6749 section 5.2) with its status.
pub(crate) fn error(status: u16, code: &str, description: &str) -> (u16, Value) {
    (
        status,
        json!({ "error": code, "error_description": description }),
    )
}

/// The answer to a token request: 200 with a token, or the OAuth error. The JWT's `aud` must
/// be the URL the request was posted to (`http://{host}{path_and_query}`).
pub(crate) fn token(raw_body: &[u8], host: &str, path_and_query: &str) -> (u16, Value) {
    let query = path_and_query.split_once('?').map_or("", |(_, q)| q);
    let form: Vec<(String, String)> = url::form_urlencoded::parse(raw_body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if field("grant_type") != Some(JWT_BEARER) {
        return error(400, "unsupported_grant_type", "Invalid grant_type: ");
    }
    let Some(assertion) = field("assertion") else {
        return error(
            400,
            "invalid_request",
            "Missing required parameter: assertion",
        );
    };
    let Ok(key) = DecodingKey::from_rsa_pem(TEST_PUBLIC_KEY.as_bytes()) else {
        return error(
            500,
            "internal_failure",
            "mock-provider: the test public key does not parse",
        );
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[format!("http://{host}{path_and_query}")]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    let claims = match jsonwebtoken::decode::<Claims>(assertion, &key, &validation) {
        Ok(data) => data.claims,
        Err(e) => {
            let why = match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => "Invalid JWT Signature.".to_string(),
                jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim. (bad aud)".to_string()
                }
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.".to_string()
                }
                other => format!("Invalid JWT: {other:?}"),
            };
            return error(400, "invalid_grant", &why);
        }
    };
    if !claims.scope.split(' ').any(|s| s == CLOUD_PLATFORM) {
        return error(
            400,
            "invalid_scope",
            "Invalid OAuth scope or ID token audience provided.",
        );
    }
    let expires_in = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "expires_in")
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .unwrap_or(DEFAULT_EXPIRES_IN);
    (
        200,
        json!({
            "access_token": format!("ya29.mock.{}", claims.iss),
            "expires_in": expires_in,
            "token_type": "Bearer"
        }),
    )
}

/// The token endpoint's answer to a scripted fault (only faults with
/// `match_provider: "google-oauth"` reach it).
pub(crate) fn fault_body(kind: FaultError) -> Value {
    let (code, description) = match kind {
        FaultError::RateLimit => ("rate_limit_exceeded", "Rate limit exceeded."),
        FaultError::Server | FaultError::Overloaded | FaultError::Unavailable => {
            ("internal_failure", "Backend Error")
        }
        FaultError::Permission => ("access_denied", "Requested client not authorized."),
        _ => ("invalid_grant", "Invalid JWT Signature."),
    };
    json!({ "error": code, "error_description": description })
}
