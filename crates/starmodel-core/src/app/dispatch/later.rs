//! Async events (`#[event] async fn`): they await something (a request to
//! another service, a file), so they cannot run inside a store's lock.
//!
//! The instance is held by this node while the event runs (a per-instance async
//! lock: a second event on it waits), the event runs on a copy of the state it
//! read, and the result is written only if the state is still that version. When
//! another node wrote it meanwhile, the event runs again on the new state, so no
//! update is lost (and an async event must tolerate running twice, as on every
//! optimistic store). An event that takes longer than the dispatcher's timeout
//! changes nothing and answers 503.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use super::{Dispatcher, EventOutcome, check_written, not_found};
use crate::event::{DispatchError, EventError, EventInput, EventOutput};
use crate::store::{Mutation, UpdateOutcome};
use crate::{EntityId, EntityKey, EntityType};

/// Rounds before an async event that keeps losing to other writers gives up.
const MAX_ROUNDS: usize = 16;

/// One async lock per instance an async event runs on, while it runs.
#[derive(Default)]
pub(crate) struct InstanceLocks {
    locks: Mutex<HashMap<EntityKey, Weak<tokio::sync::Mutex<()>>>>,
}

impl InstanceLocks {
    fn of(&self, key: &EntityKey) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(lock) = locks.get(key).and_then(Weak::upgrade) {
            return lock;
        }
        if locks.len() >= 1024 {
            locks.retain(|_, lock| lock.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(key.clone(), Arc::downgrade(&lock));
        lock
    }
}

impl Dispatcher {
    pub(super) async fn dispatch_async(
        &self,
        ty: &EntityType,
        index: usize,
        id: EntityId,
        input: &EventInput,
    ) -> Result<EventOutcome, DispatchError> {
        let spec = ty.events()[index];
        let key = ty.key(id.clone());
        let lock = self.async_locks.of(&key);
        let _held = lock.lock().await;
        for _ in 0..MAX_ROUNDS {
            let (version, state) = match ty.store().load(&key).await? {
                Some(record) => (record.version, record.value),
                None => match ty.initial(&id) {
                    Some(value) => (0, value?),
                    None => return Err(not_found(ty.name(), &id)),
                },
            };
            let Some(run) = ty.run_async(index, &state, input) else {
                return Err(
                    EventError::Setup(format!("`{}` is not an async event", spec.name)).into(),
                );
            };
            let (value, output) = match tokio::time::timeout(self.event_timeout, run).await {
                Ok(result) => result?,
                Err(_) => {
                    return Err(EventError::TimedOut {
                        event: spec.name.to_owned(),
                        millis: self.event_timeout.as_millis(),
                    }
                    .into());
                }
            };
            let deleted = matches!(output, EventOutput::Deleted);
            if !deleted {
                check_written(ty, &id, &value)?;
            }
            let mut moved_on = false;
            let outcome = ty
                .store()
                .update(&key, &mut |current| {
                    if current.map_or(0, |r| r.version) != version {
                        moved_on = true;
                        return Mutation::Keep;
                    }
                    if deleted {
                        Mutation::Delete
                    } else {
                        Mutation::Put(value.clone())
                    }
                })
                .await?;
            if moved_on {
                // Another node wrote it while the event ran: run on the new state.
                continue;
            }
            let record = match outcome {
                UpdateOutcome::Written(record) => Some(record),
                UpdateOutcome::Deleted => None,
                UpdateOutcome::Unchanged(_) => {
                    return Err(crate::StoreError::Unavailable(format!(
                        "the store did not write `{key}` after event `{}`",
                        spec.name
                    ))
                    .into());
                }
            };
            self.publish(&key, record.as_ref());
            return Ok(EventOutcome {
                key,
                record,
                output,
                spec,
            });
        }
        Err(crate::StoreError::Unavailable(format!(
            "`{key}` kept changing while async event `{}` ran; gave up after {MAX_ROUNDS} rounds",
            spec.name
        ))
        .into())
    }
}
