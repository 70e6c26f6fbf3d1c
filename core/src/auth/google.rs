//! Google OAuth access tokens for Vertex AI: a service-account key turned into a token with
//! the JWT-bearer grant (RFC 7523, as Google documents for server-to-server OAuth), or a
//! token given as is.
//!
//! The flow: an RS256-signed JWT (`iss` = the key's `client_email`, `scope` = cloud-platform,
//! `aud` = the key's `token_uri`, one hour of validity) is POSTed as
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>` to `token_uri`,
//! which answers `{"access_token", "expires_in", "token_type"}`. The token is cached and
//! refreshed [`REFRESH_MARGIN`] before it expires; callers arriving while a refresh is under
//! way wait for that one refresh instead of starting their own.

use super::Authorizer;
use crate::api::{Error, ErrorKind};
use crate::config::Secret;
use crate::providers::{header_value, now_unix, HttpRequest};
use futures_util::future::BoxFuture;
use http::HeaderValue;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The OAuth scope Vertex AI accepts.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// How long before expiry a cached token is replaced (at most half its lifetime).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// The longest wait for the token endpoint when the call has no shorter deadline.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// The JWT grant type of RFC 7523.
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The fields of a service-account key file switchpoint uses; the private key is a [`Secret`].
#[derive(Clone)]
pub struct ServiceAccountKey {
    pub client_email: String,
    pub private_key_id: Option<String>,
    pub private_key: Secret,
    pub token_uri: String,
    /// The parsed private key, ready to sign (parsed once, at config time).
    signing_key: EncodingKey,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("private_key", &self.private_key)
            .field("token_uri", &self.token_uri)
            .finish()
    }
}

/// The key file as Google writes it (`type: service_account`).
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    client_email: String,
    #[serde(default)]
    private_key_id: Option<String>,
    private_key: String,
    #[serde(default)]
    token_uri: Option<String>,
}

/// Google's token endpoint, used when a key file names none.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

impl ServiceAccountKey {
    /// Parses a key file's JSON. Errors say which field is wrong and never quote the file.
    pub fn from_json(text: &str) -> Result<ServiceAccountKey, String> {
        let file: KeyFile = serde_json::from_str(text).map_err(|e| {
            // serde's message names the missing field or the position, never a value.
            format!("not a service-account key file: {e}")
        })?;
        if let Some(kind) = file.kind.as_deref().filter(|k| *k != "service_account") {
            return Err(format!(
                "the key file's `type` is `{kind}`; only `service_account` keys are supported"
            ));
        }
        let signing_key = EncodingKey::from_rsa_pem(file.private_key.as_bytes())
            .map_err(|_| "the key file's `private_key` is not an RSA private key in PEM form")?;
        Ok(ServiceAccountKey {
            client_email: file.client_email,
            private_key_id: file.private_key_id,
            private_key: Secret::new(file.private_key),
            token_uri: file
                .token_uri
                .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_string()),
            signing_key,
        })
    }

    /// The signed JWT assertion for a token request issued at `now` (Unix seconds).
    pub fn assertion(&self, now: u64) -> Result<String, Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.private_key_id.clone();
        let claims = Claims {
            iss: &self.client_email,
            scope: CLOUD_PLATFORM_SCOPE,
            aud: &self.token_uri,
            iat: now,
            exp: now + 3600,
        };
        jsonwebtoken::encode(&header, &claims, &self.signing_key).map_err(|e| {
            Error::new(
                ErrorKind::Auth,
                format!("cannot sign the service-account JWT: {e}"),
            )
        })
    }
}

/// The JWT claims Google's token endpoint requires.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

/// Where a Vertex provider's bearer token comes from.
#[derive(Debug, Clone)]
pub enum GoogleCredentials {
    /// Minted and refreshed from a service-account key.
    ServiceAccount(Arc<ServiceAccountKey>),
    /// Used as is (from `env:` or a file; the caller keeps it fresh).
    AccessToken(Secret),
}

impl GoogleCredentials {
    /// A key file's JSON (text starting with `{`) or else an access token.
    pub fn parse(text: &str) -> Result<GoogleCredentials, String> {
        let text = text.trim();
        if text.starts_with('{') {
            ServiceAccountKey::from_json(text)
                .map(|k| GoogleCredentials::ServiceAccount(Arc::new(k)))
        } else if text.is_empty() {
            Err("the credentials are empty".to_string())
        } else {
            Ok(GoogleCredentials::AccessToken(Secret::new(text)))
        }
    }
}

/// A cached `Authorization` value and when to replace it.
#[derive(Clone)]
struct Cached {
    header: HeaderValue,
    refresh_at: Instant,
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// The token endpoint's error answer (RFC 6749 section 5.2).
#[derive(Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Authorizes requests with a Google OAuth bearer token.
pub struct GoogleAuth {
    creds: GoogleCredentials,
    client: reqwest::Client,
    provider: String,
    cached: Mutex<Option<Cached>>,
    /// Held while a token is fetched, so concurrent callers share one refresh.
    refresh: tokio::sync::Mutex<()>,
    fetches: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for GoogleAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleAuth")
            .field("creds", &self.creds)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl GoogleAuth {
    /// An authorizer for `creds`, fetching tokens with `client`.
    pub fn new(creds: GoogleCredentials, client: reqwest::Client, provider: &str) -> Self {
        GoogleAuth {
            creds,
            client,
            provider: provider.to_string(),
            cached: Mutex::new(None),
            refresh: tokio::sync::Mutex::new(()),
            fetches: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// How many tokens were fetched from the token endpoint (for tests and diagnostics).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The `Authorization` header value to send now.
    pub async fn header(&self) -> Result<HeaderValue, Error> {
        let key = match &self.creds {
            GoogleCredentials::AccessToken(token) => {
                return bearer(token.expose()).map_err(|e| e.with_provider(&self.provider))
            }
            GoogleCredentials::ServiceAccount(key) => key,
        };
        if let Some(h) = self.fresh() {
            return Ok(h);
        }
        let _one_refresh = self.refresh.lock().await;
        if let Some(h) = self.fresh() {
            return Ok(h);
        }
        let (token, lifetime) = self.fetch(key).await?;
        let header = bearer(&token).map_err(|e| e.with_provider(&self.provider))?;
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        let cached = Cached {
            header: header.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(margin),
        };
        if let Ok(mut slot) = self.cached.lock() {
            *slot = Some(cached);
        }
        Ok(header)
    }

    /// The cached header, unless it is due for refresh.
    fn fresh(&self) -> Option<HeaderValue> {
        let slot = self.cached.lock().ok()?;
        slot.as_ref()
            .filter(|c| Instant::now() < c.refresh_at)
            .map(|c| c.header.clone())
    }

    /// Exchanges a fresh JWT for an access token.
    async fn fetch(&self, key: &ServiceAccountKey) -> Result<(String, Duration), Error> {
        let provider = self.provider.as_str();
        let assertion = key
            .assertion(now_unix())
            .map_err(|e| e.with_provider(provider))?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", JWT_BEARER_GRANT)
            .append_pair("assertion", &assertion)
            .finish();
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::debug!(provider, token_uri = %key.token_uri, "fetching a Google access token");
        let response = self
            .client
            .post(&key.token_uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .timeout(TOKEN_TIMEOUT)
            .body(form)
            .send()
            .await
            .map_err(|e| crate::transport::classify(&e, provider))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| crate::transport::classify(&e, provider))?;
        if !(200..300).contains(&status) {
            return Err(token_error(status, &body, provider));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
            Error::invalid_response(format!(
                "the OAuth token endpoint's answer has no access_token: {e}"
            ))
            .with_provider(provider)
        })?;
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3600));
        Ok((answer.access_token, lifetime))
    }
}

/// `Bearer <token>`, marked sensitive.
fn bearer(token: &str) -> Result<HeaderValue, Error> {
    header_value("credentials", &format!("Bearer {token}"))
}

/// A typed error for a refused token request; the message quotes only the endpoint's error.
fn token_error(status: u16, body: &[u8], provider: &str) -> Error {
    let parsed = serde_json::from_slice::<TokenError>(body).ok();
    let kind = match status {
        400 | 401 | 403 => ErrorKind::Auth,
        s => ErrorKind::from_status(s),
    };
    let detail = parsed
        .as_ref()
        .map(|t| match &t.error_description {
            Some(d) => format!("{}: {d}", t.error),
            None => t.error.clone(),
        })
        .unwrap_or_else(|| format!("HTTP {status}"));
    let mut err = Error::new(
        kind,
        format!("the OAuth token endpoint refused the service-account key ({detail})"),
    )
    .with_provider(provider)
    .with_status(status);
    if let Some(t) = parsed {
        err = err.with_code(t.error);
    }
    err
}

impl Authorizer for GoogleAuth {
    fn authorize<'a>(&'a self, req: &'a mut HttpRequest) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let header = self.header().await?;
            req.headers_mut()
                .insert(http::header::AUTHORIZATION, header);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_keys_are_told_apart_and_never_printed() {
        let creds = GoogleCredentials::parse("  ya29.secret-token \n").expect("token");
        match &creds {
            GoogleCredentials::AccessToken(t) => assert_eq!(t.expose(), "ya29.secret-token"),
            other => panic!("expected a token, got {other:?}"),
        }
        assert!(!format!("{creds:?}").contains("secret-token"));
        let err = GoogleCredentials::parse("{\"type\":\"service_account\"}").expect_err("bad");
        assert!(err.contains("client_email"), "{err}");
        let err = GoogleCredentials::parse(
            "{\"type\":\"service_account\",\"client_email\":\"a@b\",\"private_key\":\"nope-secret\"}",
        )
        .expect_err("bad key");
        assert!(!err.contains("nope-secret"), "{err}");
        assert!(err.contains("private_key"), "{err}");
    }

    #[test]
    fn token_errors_are_auth_with_the_endpoint_code() {
        let e = token_error(
            400,
            br#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
            "vx",
        );
        assert_eq!(e.kind, ErrorKind::Auth);
        assert_eq!(e.code.as_deref(), Some("invalid_grant"));
        assert_eq!(e.status, Some(400));
        assert!(
            e.message.contains("Invalid JWT Signature."),
            "{}",
            e.message
        );
        assert_eq!(token_error(503, b"", "vx").kind, ErrorKind::Unavailable);
    }
}
