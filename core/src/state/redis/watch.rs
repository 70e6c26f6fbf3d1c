//! The cooldown watcher: one pub/sub connection per watch that hands every published cooldown
//! to the sink, and subscribes again (with backoff) whenever the connection is lost.

use super::super::CooldownSink;
use super::redact::Redactor;
use super::reply::parse_cooldown;
use futures_util::StreamExt;
use std::time::Duration;
use tokio::task::AbortHandle;

/// The first wait before subscribing again; doubled up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How often an idle subscription pings, so a silently dead connection is noticed.
const PING_EVERY: Duration = Duration::from_secs(15);

/// What a watcher needs, owned by its task.
pub(super) struct Watch {
    pub client: ::redis::Client,
    pub channel: String,
    pub sink: CooldownSink,
    pub op_timeout: Duration,
    pub redactor: Redactor,
}

/// Starts the watcher on the current tokio runtime, or on the core's own runtime when the
/// caller has none (a binding's thread).
pub(super) fn spawn(watch: Watch) -> AbortHandle {
    let task = run(watch);
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.spawn(task).abort_handle(),
        Err(_) => crate::runtime::runtime().spawn(task).abort_handle(),
    }
}

async fn run(watch: Watch) {
    let mut backoff = MIN_BACKOFF;
    loop {
        match subscribe(&watch).await {
            Ok(pubsub) => {
                backoff = MIN_BACKOFF;
                listen(pubsub, &watch).await;
                tracing::debug!(url = %watch.redactor.shown, "cooldown subscription lost; subscribing again");
            }
            Err(e) => {
                tracing::debug!(url = %watch.redactor.shown, error = %watch.redactor.scrub(&e), "cannot subscribe to cooldowns");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn subscribe(watch: &Watch) -> Result<::redis::aio::PubSub, String> {
    let connect = async {
        let mut pubsub = watch.client.get_async_pubsub().await?;
        pubsub.subscribe(&watch.channel).await?;
        Ok::<_, ::redis::RedisError>(pubsub)
    };
    match tokio::time::timeout(watch.op_timeout, connect).await {
        Ok(Ok(pubsub)) => Ok(pubsub),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {:?}", watch.op_timeout)),
    }
}

/// Delivers messages until the connection ends or stops answering pings.
async fn listen(pubsub: ::redis::aio::PubSub, watch: &Watch) {
    let (mut sink, mut stream) = pubsub.split();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(msg) => match parse_cooldown(msg.get_payload_bytes()) {
                    Some(cooldown) => (watch.sink)(cooldown),
                    None => tracing::warn!("ignoring a malformed cooldown message"),
                },
                None => return,
            },
            _ = ping.tick() => {
                let answer = tokio::time::timeout(watch.op_timeout, sink.ping::<::redis::Value>()).await;
                if !matches!(answer, Ok(Ok(_))) {
                    return;
                }
            }
        }
    }
}
