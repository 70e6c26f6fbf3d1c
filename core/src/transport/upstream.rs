//! One provider ready to call: its adapter, its pooled client and its deadlines.

use super::keyring::{KeyPick, KeyRing};
use super::{classify, deadline_error, ChunkStream};
use crate::api::Error;
use crate::auth::{authorizer_for, Authorizer};
use crate::config::{ResolvedProvider, Timeouts};
use crate::providers::{adapter_for, Adapter, HttpRequest};
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::timeout;

/// A provider's adapter plus the connection pool and deadlines used to reach it.
#[derive(Debug)]
pub struct Upstream {
    pub name: String,
    pub adapter: Arc<dyn Adapter>,
    client: reqwest::Client,
    /// Signs or adds a token to each request just before it is sent (Bedrock, Vertex).
    auth: Option<Arc<dyn Authorizer>>,
    pub timeouts: Timeouts,
    /// Responses API calls use the provider's own `/responses` endpoint.
    pub responses_native: bool,
    /// The provider's keys in rotation (`api_keys`), each with its own upstream; `None` for
    /// a provider with one key, which this upstream sends.
    keys: Option<Arc<KeyRing>>,
}

/// A 2xx answer whose body has not been read yet.
#[derive(Debug)]
pub struct UpstreamAnswer {
    pub response: reqwest::Response,
    /// When the request was sent, for the provider-side latency.
    pub sent_at: Instant,
    /// The call's deadline timer, registered once and reused to read the body.
    timer: Option<Timer>,
}

/// A deadline as one registered tokio timer, shared by the stages of a call.
#[derive(Debug)]
struct Timer {
    sleep: Pin<Box<tokio::time::Sleep>>,
    len: Duration,
}

impl Timer {
    fn until(deadline: Instant) -> Timer {
        Timer {
            sleep: Box::pin(tokio::time::sleep_until(deadline.into())),
            len: deadline.saturating_duration_since(Instant::now()),
        }
    }

    /// Runs `fut` unless the deadline passes first.
    async fn guard<T>(
        &mut self,
        what: &str,
        provider: &str,
        fut: impl Future<Output = T>,
    ) -> Result<T, Error> {
        tokio::select! {
            biased;
            out = fut => Ok(out),
            _ = self.sleep.as_mut() => Err(deadline_error(what, self.len, provider)),
        }
    }
}

impl Upstream {
    /// Builds the pooled client for a resolved provider.
    pub fn new(provider: ResolvedProvider) -> Result<Upstream, Error> {
        let mut builder = reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(256)
            .user_agent(concat!("switchpoint/", env!("CARGO_PKG_VERSION")));
        if let Some(c) = provider.timeouts.connect {
            builder = builder.connect_timeout(c);
        }
        let client = builder
            .build()
            .map_err(|e| Error::config("", format!("cannot build the HTTP client: {e}")))?;
        let name = provider.settings.name.clone();
        let auth = authorizer_for(&provider.auth, &client, &name);
        let with_settings = |settings| Upstream {
            name: name.clone(),
            adapter: adapter_for(settings),
            client: client.clone(),
            auth: auth.clone(),
            timeouts: provider.timeouts,
            responses_native: provider.responses_native,
            keys: None,
        };
        let keys = (!provider.keys.is_empty()).then(|| {
            let per_key = provider
                .keys
                .iter()
                .map(|k| {
                    let mut settings = provider.settings.clone();
                    settings.api_key = Some(k.secret.clone());
                    (k.clone(), Arc::new(with_settings(settings)))
                })
                .collect();
            Arc::new(KeyRing::new(&name, per_key))
        });
        Ok(Upstream {
            keys,
            ..with_settings(provider.settings)
        })
    }

    /// The upstream for one attempt at clock time `now` (ms): this one, or for a provider
    /// with `api_keys` the one sending the next key in rotation with room, with the pick to
    /// report the outcome to. Fails with `rate_limited` (the soonest key's wait as
    /// retry_after) when no key has room.
    pub fn for_attempt(
        self: Arc<Self>,
        now: u64,
    ) -> Result<(Arc<Upstream>, Option<KeyPick>), Error> {
        match &self.keys {
            None => Ok((self, None)),
            Some(ring) => {
                let pick = ring.checkout(now)?;
                Ok((pick.upstream(), Some(pick)))
            }
        }
    }

    /// The provider's keys in rotation, when it has `api_keys`.
    pub fn keys(&self) -> Option<&Arc<KeyRing>> {
        self.keys.as_ref()
    }

    /// Sends a request and waits for the response headers (within the first-byte deadline
    /// and `deadline`); a non-2xx answer is read and classified by the adapter. A provider
    /// with an [`Authorizer`] has the request signed or given its token first, within
    /// `deadline`.
    pub async fn send(
        &self,
        mut req: HttpRequest,
        deadline: Option<Instant>,
    ) -> Result<UpstreamAnswer, Error> {
        // One timer for the whole call, reused to read the body; a second one only when a
        // first-byte deadline is configured and comes sooner.
        let mut timer = deadline.map(Timer::until);
        if let Some(auth) = &self.auth {
            let fut = auth.authorize(&mut req);
            match timer.as_mut() {
                Some(t) => t.guard("authorization", &self.name, fut).await??,
                None => fut.await?,
            }
        }
        let req = reqwest::Request::try_from(req).map_err(|e| {
            Error::config("base_url", format!("invalid request URL: {e}")).with_provider(&self.name)
        })?;
        let sent_at = Instant::now();
        tracing::debug!(provider = %self.name, method = %req.method(), url = %req.url(), "sending request");
        let fut = self.client.execute(req);
        let headers_by = self
            .timeouts
            .first_byte
            .map(|f| sent_at + f)
            .filter(|f| deadline.is_none_or(|d| *f < d));
        let response = match (headers_by, timer.as_mut()) {
            (Some(by), _) => {
                let w = by.saturating_duration_since(sent_at);
                timeout(w, fut)
                    .await
                    .map_err(|_| deadline_error("response headers", w, &self.name))?
            }
            (None, Some(t)) => t.guard("response headers", &self.name, fut).await?,
            (None, None) => fut.await,
        }
        .map_err(|e| classify(&e, &self.name))?;
        let status = response.status();
        tracing::debug!(provider = %self.name, status = status.as_u16(), "response headers");
        if status.is_success() {
            return Ok(UpstreamAnswer {
                response,
                sent_at,
                timer,
            });
        }
        let headers = response.headers().clone();
        let body = read_body(response, timer, &self.name)
            .await
            .unwrap_or_default();
        let err = self.adapter.parse_error(status.as_u16(), &headers, &body);
        tracing::debug!(provider = %self.name, error = %err, "provider error");
        Err(err)
    }

    /// The deadline for a call starting now: the provider's total timeout or the caller's,
    /// whichever is sooner.
    pub fn deadline(&self, start: Instant, caller: Option<Duration>) -> Option<Instant> {
        min_opt(self.timeouts.total, caller).map(|d| start + d)
    }

    /// Reads a whole body within the call's deadline.
    pub async fn body(&self, answer: UpstreamAnswer) -> Result<Bytes, Error> {
        read_body(answer.response, answer.timer, &self.name).await
    }

    /// Turns a streaming answer into unified chunks with a given decoder (the native
    /// Responses API's, rather than the adapter's chat decoder).
    pub fn stream_with(
        &self,
        answer: UpstreamAnswer,
        decoder: Box<dyn crate::providers::StreamDecoder>,
        deadline: Option<Instant>,
    ) -> ChunkStream {
        ChunkStream::new(
            answer.response,
            crate::providers::Framing::Sse,
            decoder,
            self.name.clone(),
            deadline,
        )
    }

    /// Turns a streaming answer into unified chunks.
    pub fn stream(
        &self,
        answer: UpstreamAnswer,
        model: &str,
        deadline: Option<Instant>,
    ) -> ChunkStream {
        ChunkStream::new(
            answer.response,
            self.adapter.framing(),
            self.adapter.stream_decoder(model),
            self.name.clone(),
            deadline,
        )
    }
}

async fn read_body(
    response: reqwest::Response,
    timer: Option<Timer>,
    provider: &str,
) -> Result<Bytes, Error> {
    match timer {
        Some(mut t) => {
            t.guard("complete answer", provider, response.bytes())
                .await?
        }
        None => response.bytes().await,
    }
    .map_err(|e| classify(&e, provider))
}

fn min_opt(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
