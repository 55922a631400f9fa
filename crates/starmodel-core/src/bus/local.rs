use async_trait::async_trait;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use super::{Bus, BusError, BusEvent, EntityChanged};

/// The in-process bus: a bounded broadcast channel. Clones share the channel, so
/// two applications in one process given clones of one `LocalBus` (and one store)
/// behave like two nodes.
///
/// ```
/// use starmodel_core::{Bus, LocalBus};
/// let bus = LocalBus::new();
/// let _changes = bus.subscribe();
/// ```
#[derive(Debug, Clone)]
pub struct LocalBus {
    tx: broadcast::Sender<EntityChanged>,
}

impl LocalBus {
    /// A bus that buffers up to 4,096 changes per slow subscriber.
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(4096).0,
        }
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Bus for LocalBus {
    async fn publish(&self, change: &EntityChanged) -> Result<(), BusError> {
        // No subscriber is not an error: nobody needs to hear it.
        let _ = self.tx.send(change.clone());
        Ok(())
    }

    fn subscribe(&self) -> BoxStream<'static, BusEvent> {
        BroadcastStream::new(self.tx.subscribe())
            .map(|m| m.map_or(BusEvent::Missed, BusEvent::Changed))
            .boxed()
    }
}
