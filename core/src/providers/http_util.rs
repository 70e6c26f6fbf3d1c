//! Small pieces every adapter uses to build requests.

use super::openai::{auth_header, AuthScheme};
use super::ProviderSettings;
use crate::api::{Content, ContentPart, Error, Message};
use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, Method, Request};
use std::time::{SystemTime, UNIX_EPOCH};

/// The request an adapter hands to the transport.
pub type HttpRequest = Request<Bytes>;

/// A JSON POST to `url` with `headers`; fails only on a URL or header the caller made invalid.
pub fn json_post(
    url: &str,
    headers: impl IntoIterator<Item = (HeaderName, HeaderValue)>,
    body: Vec<u8>,
) -> Result<HttpRequest, Error> {
    let mut builder = Request::builder().method(Method::POST).uri(url).header(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (k, v) in headers {
        builder = builder.header(k, v);
    }
    builder
        .body(Bytes::from(body))
        .map_err(|e| Error::config("base_url", format!("cannot build a request to {url}: {e}")))
}

/// A header value from a secret or config string; never echoes the value in the error.
pub fn header_value(name: &str, value: &str) -> Result<HeaderValue, Error> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        Error::config(
            name.to_string(),
            format!("the value for header `{name}` has characters HTTP headers cannot carry"),
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// Seconds since the Unix epoch, for the `created` field when a provider sends none.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A provider's key presented the way its API wants it, plus its configured headers, built
/// once per adapter: every JSON POST the adapter makes goes through here.
#[derive(Debug)]
pub(crate) struct KeyedPost {
    provider: String,
    /// The auth header, or the error a bad key gives on every request.
    auth: Result<Option<(HeaderName, HeaderValue)>, Error>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl KeyedPost {
    /// The key of `settings` in `scheme`, and its extra headers.
    pub(crate) fn new(settings: &ProviderSettings, scheme: AuthScheme) -> KeyedPost {
        KeyedPost {
            provider: settings.name.clone(),
            auth: auth_header(scheme, settings.api_key.as_ref().map(|k| k.expose()))
                .map_err(|e| e.with_provider(&settings.name)),
            headers: settings.headers.clone(),
        }
    }

    /// A POST of an encoded JSON body to `url`.
    pub(crate) fn bytes(&self, url: &str, body: Vec<u8>) -> Result<HttpRequest, Error> {
        let auth = self.auth.clone()?;
        let headers = auth.into_iter().chain(self.headers.iter().cloned());
        json_post(url, headers, body).map_err(|e| e.with_provider(&self.provider))
    }

    /// A POST of `body` to `url`, encoded here.
    pub(crate) fn json(&self, url: &str, body: &serde_json::Value) -> Result<HttpRequest, Error> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            Error::bad_request("messages", format!("cannot encode the request: {e}"))
                .with_provider(&self.provider)
        })?;
        self.bytes(url, bytes)
    }
}

/// A system or developer message's text, for APIs whose `system` field takes text only
/// (Anthropic, Bedrock Converse); any other part is a `bad_request` naming it.
pub(crate) fn system_text(m: &Message, i: usize, api: &str) -> Result<String, Error> {
    let parts = match &m.content {
        None => return Ok(String::new()),
        Some(Content::Text(t)) => return Ok(t.clone()),
        Some(Content::Parts(parts)) => parts,
    };
    let mut text = String::new();
    for (j, part) in parts.iter().enumerate() {
        match part {
            ContentPart::Text { text: t } => text.push_str(t),
            _ => {
                return Err(Error::bad_request(
                    format!("messages[{i}].content[{j}]"),
                    format!("{api} takes only text in system and developer messages"),
                ))
            }
        }
    }
    Ok(text)
}
