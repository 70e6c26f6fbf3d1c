//! AWS Signature Version 4 with the `aws-sigv4` crate (AWS's own signer): the canonical
//! request, string to sign and signing key are computed there, over the final method, URL,
//! headers and body bytes, and the `authorization`, `x-amz-date` (and
//! `x-amz-security-token`) headers are added to the request.

use super::Authorizer;
use crate::api::{Error, ErrorKind};
use crate::config::Secret;
use crate::providers::HttpRequest;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use futures_util::future::BoxFuture;
use std::time::SystemTime;

/// An AWS access key pair, with the session token of temporary (STS) credentials.
#[derive(Debug, Clone)]
pub struct AwsCredentials {
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

/// Signs requests for one AWS service in one region.
#[derive(Debug)]
pub struct SigV4Signer {
    credentials: AwsCredentials,
    region: String,
    service: String,
    provider: String,
}

impl SigV4Signer {
    /// A signer for `service` (`bedrock`) in `region` (`us-east-1`), reporting errors as
    /// `provider`.
    pub fn new(credentials: AwsCredentials, region: &str, service: &str, provider: &str) -> Self {
        SigV4Signer {
            credentials,
            region: region.to_string(),
            service: service.to_string(),
            provider: provider.to_string(),
        }
    }

    /// Signs `req` as of `time` (the transport passes now; tests pass the vectors' time).
    pub fn sign_at(&self, req: &mut HttpRequest, time: SystemTime) -> Result<(), Error> {
        let fail = |what: String| {
            Error::new(
                ErrorKind::Config,
                format!("cannot sign the request: {what}"),
            )
            .with_provider(&self.provider)
        };
        if req.uri().host().is_none() {
            return Err(fail(format!("the URL `{}` has no host", req.uri())));
        }
        let identity = Credentials::new(
            self.credentials.access_key_id.expose(),
            self.credentials.secret_access_key.expose(),
            self.credentials
                .session_token
                .as_ref()
                .map(|t| t.expose().to_string()),
            None,
            "switchpoint-config",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| fail(e.to_string()))?
            .into();
        let mut headers = Vec::with_capacity(req.headers().len());
        for (name, value) in req.headers() {
            let value = value
                .to_str()
                .map_err(|_| fail(format!("header `{name}` is not visible ASCII")))?;
            headers.push((name.as_str(), value));
        }
        let uri = req.uri().to_string();
        let signable = SignableRequest::new(
            req.method().as_str(),
            uri,
            headers.into_iter(),
            SignableBody::Bytes(req.body()),
        )
        .map_err(|e| fail(e.to_string()))?;
        // aws-sigv4 traces the canonical request, session token included (newer releases
        // redact it, but need a newer Rust than this workspace's): signing runs with no
        // subscriber, so no log level ever shows a credential.
        let signed =
            tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
                sign(signable, &params)
            });
        let (instructions, _signature) = signed.map_err(|e| fail(e.to_string()))?.into_parts();
        instructions.apply_to_request_http1x(req);
        // The signature and token are credentials: keep them out of header debug output.
        for name in ["authorization", "x-amz-security-token"] {
            if let Some(v) = req.headers_mut().get_mut(name) {
                v.set_sensitive(true);
            }
        }
        Ok(())
    }
}

impl Authorizer for SigV4Signer {
    fn authorize<'a>(&'a self, req: &'a mut HttpRequest) -> BoxFuture<'a, Result<(), Error>> {
        let result = self.sign_at(req, SystemTime::now());
        Box::pin(std::future::ready(result))
    }
}
