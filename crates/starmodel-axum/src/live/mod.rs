//! The live hub: one `watch` channel per entity instance that somebody is viewing,
//! holding that instance's latest state already encoded as a Datastar
//! `patch-signals` event.
//!
//! A commit encodes the new state **once** and stores it in the channel; every
//! stream watching it wakes and writes the same bytes. A slow stream never blocks
//! anyone: a `watch` keeps only the latest value, so a stream that fell behind
//! skips straight to the current state (coalescing). Channels exist only while a
//! stream watches them.

mod body;
mod views;

pub(crate) use body::LiveBody;
pub(crate) use views::{ViewDef, Views};

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{Map, Value};
use starmodel_core::app::CommitObserver;
use starmodel_core::{BusEvent, DispatchError, Dispatcher, EntityKey, Record};
use starmodel_datastar::{DatastarEvent, PatchSignals};
use tokio::sync::watch;

/// One encoded state of one instance.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub(crate) version: u64,
    pub(crate) bytes: Bytes,
    /// The state itself, to tell which keys the next state removes.
    state: Arc<Value>,
}

/// `None` until the first state is loaded.
pub(crate) type Latest = Option<Frame>;

#[derive(Default)]
pub(crate) struct LiveHub {
    topics: RwLock<HashMap<EntityKey, watch::Sender<Latest>>>,
    /// Set on shutdown: no channel is created any more.
    closed: AtomicBool,
    /// The application's live views (fragments following record entities).
    pub(crate) views: Views,
}

/// Writes `{"<name>": <state>}`: an entity's state under its signal namespace.
pub(crate) fn namespaced_json(name: &str, state: &serde_json::Value) -> String {
    let mut out = Vec::with_capacity(96);
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    // Writing a `Value` into memory cannot fail, and JSON is UTF-8.
    let _ = serde_json::to_writer(&mut out, state);
    out.push(b'}');
    String::from_utf8(out).unwrap_or_default()
}

/// Encodes `{"<entity>": state}` as a `datastar-patch-signals` event.
pub(crate) fn encode_state(entity: &str, state: &Value) -> Bytes {
    PatchSignals::new(namespaced_json(entity, state))
        .to_bytes()
        .unwrap_or_default()
}

/// The keys of `old` (recursively through objects) that `new` no longer has, as a
/// merge patch of nulls; `None` when nothing was removed.
///
/// Datastar merges signal patches, so a key missing from the new state (a map
/// entry removed, a field skipped when empty) would otherwise stay on the page.
fn removed_keys(old: &Value, new: &Value) -> Option<Value> {
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return None;
    };
    let mut patch = Map::new();
    for (key, was) in old {
        match new.get(key) {
            None => {
                patch.insert(key.clone(), Value::Null);
            }
            Some(now) => {
                if let Some(inner) = removed_keys(was, now) {
                    patch.insert(key.clone(), inner);
                }
            }
        }
    }
    (!patch.is_empty()).then_some(Value::Object(patch))
}

/// The frame for `state`: removals since `previous` (if any), then the state.
fn encode_frame(entity: &str, previous: Option<&Value>, state: &Value) -> Bytes {
    let Some(removals) = previous.and_then(|p| removed_keys(p, state)) else {
        return encode_state(entity, state);
    };
    let mut bytes = encode_state(entity, &removals).to_vec();
    bytes.extend_from_slice(&encode_state(entity, state));
    Bytes::from(bytes)
}

impl LiveHub {
    /// A hub serving these live views.
    pub(crate) fn with_views(views: Views) -> Self {
        Self {
            views,
            ..Self::default()
        }
    }

    fn topics(&self) -> RwLockReadGuard<'_, HashMap<EntityKey, watch::Sender<Latest>>> {
        self.topics.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn topics_mut(&self) -> RwLockWriteGuard<'_, HashMap<EntityKey, watch::Sender<Latest>>> {
        self.topics.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A receiver for `key`'s states, creating the channel when absent; `None`
    /// once the hub is closed.
    pub(crate) fn subscribe(&self, key: &EntityKey) -> Option<watch::Receiver<Latest>> {
        let mut topics = self.topics_mut();
        if self.is_closed() {
            return None;
        }
        Some(
            topics
                .entry(key.clone())
                .or_insert_with(|| watch::channel(None).0)
                .subscribe(),
        )
    }

    /// Ends every live stream: their channels close, so each wakes and finishes.
    pub(crate) fn close(&self) {
        let mut topics = self.topics_mut();
        self.closed.store(true, Ordering::SeqCst);
        topics.clear();
        drop(topics);
        self.views.close();
    }

    /// `true` after [`close`](Self::close).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Offers a state; it replaces the channel's value only when newer, so a slow
    /// load can never overwrite a later commit.
    pub(crate) fn offer(&self, key: &EntityKey, record: &Record) {
        let Some(tx) = self.topics().get(key).cloned() else {
            return;
        };
        let mut frame = None;
        tx.send_if_modified(|current| {
            if current
                .as_ref()
                .is_some_and(|f| f.version >= record.version)
            {
                return false;
            }
            let previous = current.as_ref().map(|f| &*f.state);
            let f = frame.get_or_insert_with(|| Frame {
                version: record.version,
                bytes: encode_frame(&key.entity, previous, &record.value),
                state: Arc::new(record.value.clone()),
            });
            *current = Some(f.clone());
            true
        });
    }

    /// `true` while a live stream watches `key`.
    pub(crate) fn is_watched(&self, key: &EntityKey) -> bool {
        self.topics()
            .get(key)
            .is_some_and(|tx| tx.receiver_count() > 0)
    }

    /// Drops the channels of `keys` that nobody watches any more.
    pub(crate) fn release(&self, keys: &[EntityKey]) {
        let mut topics = self.topics_mut();
        for key in keys {
            if topics.get(key).is_some_and(|tx| tx.receiver_count() == 0) {
                topics.remove(key);
            }
        }
    }

    /// Every instance somebody is watching.
    pub(crate) fn watched(&self) -> Vec<EntityKey> {
        self.topics().keys().cloned().collect()
    }

    /// How many instances are watched (for tests and metrics).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.topics().len()
    }

    /// Reloads `key` from its store and offers the result.
    pub(crate) async fn refresh(
        &self,
        dispatcher: &Dispatcher,
        key: &EntityKey,
    ) -> Result<(), DispatchError> {
        let record = dispatcher.state(&key.entity, &key.id).await?;
        self.offer(key, &record);
        Ok(())
    }
}

impl CommitObserver for LiveHub {
    fn committed(&self, key: &EntityKey, record: Option<&Record>) {
        if let Some(record) = record {
            self.offer(key, record);
        }
        self.views.changed(&key.entity, Some(&key.id));
    }
}

/// Applies other nodes' changes: reloads each changed instance somebody watches
/// here, and everything watched after missed messages. Ends with the application.
pub(crate) fn spawn_bus_listener(hub: Weak<LiveHub>, dispatcher: Weak<Dispatcher>) {
    let Some(d) = dispatcher.upgrade() else {
        return;
    };
    let node = d.node();
    let Some(bus) = d.bus() else {
        return;
    };
    let mut changes = bus.subscribe();
    drop(d);
    tokio::spawn(async move {
        while let Some(event) = changes.next().await {
            let (Some(hub), Some(dispatcher)) = (hub.upgrade(), dispatcher.upgrade()) else {
                return;
            };
            let keys = match event {
                BusEvent::Changed(c) if c.origin == node => continue,
                BusEvent::Changed(c) => {
                    hub.views.changed(&c.entity, Some(&c.id));
                    vec![EntityKey::new(c.entity, c.id)]
                }
                BusEvent::Missed => {
                    hub.views.refresh_all();
                    hub.watched()
                }
            };
            for key in keys {
                let watched = hub.topics().contains_key(&key);
                if watched && let Err(e) = hub.refresh(&dispatcher, &key).await {
                    tracing::warn!(%key, error = %e, "live refresh after a remote change failed");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(version: u64, count: i64) -> Record {
        Record {
            version,
            value: json!({ "count": count }),
        }
    }

    #[test]
    fn newer_states_replace_older_ones_only() {
        let hub = LiveHub::default();
        let key = EntityKey::new("counter", "global");
        let rx = hub.subscribe(&key).unwrap();
        hub.offer(&key, &record(2, 2));
        hub.offer(&key, &record(1, 1));
        let frame = rx.borrow().clone().expect("a frame");
        assert_eq!(frame.version, 2);
        assert_eq!(
            frame.bytes,
            "event: datastar-patch-signals\ndata: signals {\"counter\":{\"count\":2}}\n\n"
        );
    }

    #[test]
    fn removed_keys_are_nulled_before_the_new_state() {
        let hub = LiveHub::default();
        let key = EntityKey::new("todos", "s1");
        let rx = hub.subscribe(&key).unwrap();
        let with = |value| Record { version: 0, value };
        hub.offer(
            &key,
            &Record {
                version: 1,
                ..with(json!({"items": {"a": 1, "b": 2}, "n": 2}))
            },
        );
        hub.offer(
            &key,
            &Record {
                version: 2,
                ..with(json!({"items": {"b": 2}, "n": 1}))
            },
        );
        let frame = rx.borrow().clone().expect("a frame");
        assert_eq!(
            frame.bytes,
            "event: datastar-patch-signals\ndata: signals {\"todos\":{\"items\":{\"a\":null}}}\n\n\
             event: datastar-patch-signals\ndata: signals {\"todos\":{\"items\":{\"b\":2},\"n\":1}}\n\n"
        );
        assert_eq!(removed_keys(&json!({"a": [1]}), &json!({"a": []})), None);
    }

    #[test]
    fn channels_live_while_watched() {
        let hub = LiveHub::default();
        let key = EntityKey::new("counter", "global");
        let rx = hub.subscribe(&key).unwrap();
        hub.release(std::slice::from_ref(&key));
        assert_eq!(hub.len(), 1);
        drop(rx);
        hub.release(std::slice::from_ref(&key));
        assert_eq!(hub.len(), 0);
        // Offering to nobody creates nothing.
        hub.offer(&key, &record(1, 1));
        assert_eq!(hub.len(), 0);
    }
}
