//! The body of one live stream: the first frames, then each watched instance's
//! latest frame whenever it changes, a heartbeat while idle; it ends when the
//! application shuts down.
//!
//! One hand-written stream rather than combinators: with 10,000 open pages a
//! change wakes 10,000 of these, and each wake should poll only what it must.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use starmodel_core::EntityKey;
use tokio::time::Interval;
use tokio_stream::wrappers::WatchStream;

use super::{Latest, LiveHub};

const HEARTBEAT: &[u8] = b": keep-alive\n\n";

pub(crate) struct LiveBody {
    first: Option<Bytes>,
    changes: Vec<WatchStream<Latest>>,
    heartbeat: Interval,
    /// Only for a stream that watches nothing: the others end when the hub
    /// closes their channels.
    shutdown: Option<WatchStream<bool>>,
    hub: Arc<LiveHub>,
    keys: Vec<EntityKey>,
}

impl LiveBody {
    pub(crate) fn new(
        first: Bytes,
        changes: Vec<WatchStream<Latest>>,
        heartbeat: Interval,
        shutdown: WatchStream<bool>,
        hub: Arc<LiveHub>,
        keys: Vec<EntityKey>,
    ) -> Self {
        Self {
            first: (!first.is_empty()).then_some(first),
            shutdown: changes.is_empty().then_some(shutdown),
            changes,
            heartbeat,
            hub,
            keys,
        }
    }
}

impl Drop for LiveBody {
    fn drop(&mut self) {
        // Drop the receivers first, so the hub sees nobody left watching.
        self.changes.clear();
        self.hub.release(&self.keys);
    }
}

impl Stream for LiveBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.hub.is_closed() {
            return Poll::Ready(None);
        }
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        if let Some(shutdown) = &mut this.shutdown {
            match Pin::new(shutdown).poll_next(cx) {
                Poll::Ready(Some(true) | None) => return Poll::Ready(None),
                Poll::Ready(Some(false)) | Poll::Pending => {}
            }
        }
        for changes in &mut this.changes {
            loop {
                match Pin::new(&mut *changes).poll_next(cx) {
                    Poll::Ready(Some(Some(frame))) => return Poll::Ready(Some(Ok(frame.bytes))),
                    // The placeholder before the first load: nothing to send.
                    Poll::Ready(Some(None)) => continue,
                    // The hub closed the channel: the application is stopping.
                    Poll::Ready(None) => return Poll::Ready(None),
                    Poll::Pending => break,
                }
            }
        }
        if this.heartbeat.poll_tick(cx).is_ready() {
            return Poll::Ready(Some(Ok(Bytes::from_static(HEARTBEAT))));
        }
        Poll::Pending
    }
}
