//! Small pieces every adapter uses to build requests.

use crate::api::Error;
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
