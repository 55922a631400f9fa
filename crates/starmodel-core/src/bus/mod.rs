//! Buses tell every node that an entity instance changed, so each node can refresh
//! the browsers connected to it. A message is small ([`EntityChanged`]): receivers
//! reload the state from the shared store.
//!
//! [`LocalBus`] is the in-process bus; the Redis and Postgres buses live in their
//! own crates.

mod local;

pub use local::LocalBus;

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::EntityId;

/// Identifies one running application instance, so it can skip its own messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u64);

impl NodeId {
    /// A fresh id, different for every call and every process.
    pub fn random() -> Self {
        use std::hash::{BuildHasher, Hasher};
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        NodeId(h.finish())
    }
}

/// One committed change, as published after the store write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityChanged {
    /// The entity's name.
    pub entity: Arc<str>,
    /// The instance's id.
    pub id: EntityId,
    /// The version written (0 when deleted).
    pub version: u64,
    /// The node that committed the change.
    pub origin: NodeId,
}

/// What a bus subscription yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusEvent {
    /// A change was committed somewhere.
    Changed(EntityChanged),
    /// The subscriber fell behind and messages were lost: every view it feeds
    /// should reload from the store.
    Missed,
}

/// A bus failed to publish.
#[derive(Debug, thiserror::Error)]
#[error("bus unavailable: {0}")]
pub struct BusError(pub String);

/// Carries [`EntityChanged`] messages between application instances.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Sends a change to every subscriber, this node's included.
    async fn publish(&self, change: &EntityChanged) -> Result<(), BusError>;

    /// Every change published from now on. A subscriber that falls behind gets
    /// [`BusEvent::Missed`] rather than slowing publishers down.
    fn subscribe(&self) -> BoxStream<'static, BusEvent>;
}
