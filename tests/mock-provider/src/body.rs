//! The response body: a queue of byte pieces, optionally paced, optionally cut short, that
//! records in the log whether it was fully written or abandoned by the client.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

use crate::log::Tracker;

/// Time given to hyper to flush the bytes sent before a cut.
const CUT_FLUSH_PAUSE: Duration = Duration::from_millis(20);

/// Response body used for every answer the mock gives.
#[derive(Debug)]
pub struct MockBody {
    pieces: VecDeque<Bytes>,
    gap: Option<Duration>,
    sleep: Option<Pin<Box<Sleep>>>,
    /// End with an error instead of a clean end, which makes hyper drop the connection.
    cut: bool,
    /// Exact length to announce, so hyper sends `content-length` instead of chunked encoding.
    exact_len: Option<u64>,
    tracker: Option<Tracker>,
}

impl MockBody {
    /// A complete body sent with a content-length.
    pub(crate) fn full(bytes: impl Into<Bytes>, tracker: Option<Tracker>) -> MockBody {
        let bytes = bytes.into();
        MockBody {
            exact_len: Some(bytes.len() as u64),
            pieces: VecDeque::from([bytes]),
            gap: None,
            sleep: None,
            cut: false,
            tracker,
        }
    }

    /// A chunked body of pieces, `gap` apart; with `cut` the connection drops after the last one.
    pub(crate) fn pieces(
        pieces: Vec<Bytes>,
        gap: Option<Duration>,
        cut: bool,
        tracker: Option<Tracker>,
    ) -> MockBody {
        // A cut before any byte still lets the headers out first.
        let sleep =
            (cut && pieces.is_empty()).then(|| Box::pin(tokio::time::sleep(CUT_FLUSH_PAUSE)));
        MockBody {
            pieces: pieces.into(),
            gap: gap.filter(|d| !d.is_zero()),
            sleep,
            cut,
            exact_len: None,
            tracker,
        }
    }

    fn settle(&mut self, completed: bool) {
        if let Some(tracker) = self.tracker.take() {
            tracker.settle(completed);
        }
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(sleep) = self.sleep.as_mut() {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.sleep = None;
        }
        match self.pieces.pop_front() {
            Some(piece) => {
                if let Some(gap) = self.gap {
                    if !self.pieces.is_empty() {
                        self.sleep = Some(Box::pin(tokio::time::sleep(gap)));
                    }
                }
                if self.pieces.is_empty() && self.cut {
                    // hyper drops buffered bytes when a body fails, so pause to let it flush
                    // what was sent before the cut.
                    self.sleep = Some(Box::pin(tokio::time::sleep(CUT_FLUSH_PAUSE)));
                }
                Poll::Ready(Some(Ok(Frame::data(piece))))
            }
            None if self.cut => {
                self.settle(false);
                self.cut = false;
                Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "mock-provider: connection cut by fault",
                ))))
            }
            None => {
                self.settle(true);
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty() && !self.cut && self.sleep.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.exact_len {
            Some(len) => SizeHint::with_exact(len),
            None => SizeHint::default(),
        }
    }
}

impl Drop for MockBody {
    fn drop(&mut self) {
        // hyper may stop polling once a sized body is fully written; that counts as complete.
        if self.pieces.is_empty() && !self.cut && self.sleep.is_none() {
            self.settle(true);
        }
        // Otherwise the tracker's own drop records that the client went away early.
    }
}
