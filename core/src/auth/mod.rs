//! Request authorization for providers whose credentials are more than a header: AWS SigV4
//! signing (Bedrock) and Google OAuth access tokens (Vertex AI).
//!
//! Adapters stay pure: they build the unsigned request. The transport
//! ([`crate::transport::Upstream::send`]) hands it to the provider's [`Authorizer`] just before
//! sending, because a signature covers the final bytes and time, and a token may need a network
//! round trip. Providers whose key is a plain header (OpenAI, Anthropic, Gemini, ...) have no
//! authorizer: their adapters set the header themselves.

pub mod google;
pub mod sigv4;

pub use google::{GoogleAuth, GoogleCredentials, ServiceAccountKey};
pub use sigv4::{AwsCredentials, SigV4Signer};

use crate::api::Error;
use crate::providers::HttpRequest;
use futures_util::future::BoxFuture;
use std::fmt::Debug;
use std::sync::Arc;

/// Adds credentials to a request right before it is sent (a signature, a bearer token).
pub trait Authorizer: Send + Sync + Debug {
    /// Authorizes `req` in place; errors are typed (`auth` for refused credentials,
    /// `connection`/`timeout` when a token endpoint cannot be reached).
    fn authorize<'a>(&'a self, req: &'a mut HttpRequest) -> BoxFuture<'a, Result<(), Error>>;
}

/// The resolved credentials of one provider, as config describes them; secrets redacted in
/// Debug.
#[derive(Debug, Clone, Default)]
pub enum AuthConfig {
    /// The adapter puts the key in a header itself (every provider but the cloud ones).
    #[default]
    None,
    /// AWS Signature Version 4 for `service` in `region` (Bedrock: service `bedrock`).
    SigV4 {
        credentials: AwsCredentials,
        region: String,
        service: String,
    },
    /// A Google OAuth bearer token: minted from a service-account key, or given as is.
    Google(GoogleCredentials),
}

/// Builds the authorizer for a provider (`None` when its adapter handles auth alone).
/// `client` is the provider's pooled HTTP client, reused for token requests.
pub fn authorizer_for(
    auth: &AuthConfig,
    client: &reqwest::Client,
    provider: &str,
) -> Option<Arc<dyn Authorizer>> {
    match auth {
        AuthConfig::None => None,
        AuthConfig::SigV4 {
            credentials,
            region,
            service,
        } => Some(Arc::new(SigV4Signer::new(
            credentials.clone(),
            region,
            service,
            provider,
        ))),
        AuthConfig::Google(creds) => Some(Arc::new(GoogleAuth::new(
            creds.clone(),
            client.clone(),
            provider,
        ))),
    }
}
