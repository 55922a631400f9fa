//! The outbox: changes for another store than the event's, applied exactly once.
//!
//! An event that fires an event on an instance of another store cannot commit
//! both in one transaction. Instead its own transaction also writes an outbox
//! entry (`starmodel_outbox`, state `pending`) naming the fired event. Delivering
//! the entry is a second unit of work, **in the target store**: it runs the event
//! and writes a marker under the entry's id (state `applied`) in one transaction,
//! unless the marker is there already; then the entry is deleted from the source.
//!
//! A crash between the two commits leaves the entry pending, and the next delivery
//! applies it; a crash after the second commit but before the entry's deletion
//! finds the marker and only deletes the entry. Either way the change is applied
//! once. Entries are delivered right after their commit, at start-up
//! ([`Dispatcher::deliver_pending`]) and every few seconds while serving; one that
//! keeps failing stays pending and is logged each time, never dropped.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Dispatcher;
use super::dispatch::{check_written, not_found, run_guarded};
use crate::entity::{Field, FieldType, Rule, Schema};
use crate::event::{Call, Changes, DispatchError, EventError, EventInput, EventOutput};
use crate::store::{Mutation, UpdateOutcome};
use crate::{EntityId, EntityKey, Registry, Store, StoreError};

/// The outbox's entity name (its table in a SQL store).
pub const OUTBOX: &str = "starmodel_outbox";

static FIELDS: [Field; 5] = [
    Field::new("id", "String", FieldType::Text)
        .id()
        .validate(&[Rule::Length {
            min: Some(36),
            max: Some(44),
        }]),
    Field::new("state", "String", FieldType::Text).validate(&[Rule::Length {
        min: None,
        max: Some(16),
    }]),
    Field::new("call", "Call", FieldType::Json),
    Field::new("origin", "String", FieldType::Text),
    Field::new("created_ms", "i64", FieldType::Integer).index(),
];

/// The outbox's schema: attached to every store of an application whose events
/// fire changes.
pub static SCHEMA: Schema = Schema::new(OUTBOX, &FIELDS);

/// An entry waiting in its source store, or the marker of one applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// A random UUID.
    pub id: String,
    /// `pending` in the source store, `applied` in the target store.
    pub state: String,
    /// The event to run.
    pub call: Call,
    /// The instance whose event fired it.
    pub origin: String,
    /// When the entry was written, in milliseconds since the Unix epoch.
    pub created_ms: i64,
}

const PENDING: &str = "pending";
const APPLIED: &str = "applied";

/// The key of entry `id` in its source store.
pub fn key(id: &str) -> EntityKey {
    EntityKey::new(OUTBOX, id)
}

/// The key of the marker of entry `id` in its target store: another key than the
/// entry's, so that even a target that is the source under another handle keeps
/// both.
fn marker_key(id: &str) -> EntityKey {
    EntityKey::new(OUTBOX, format!("{id}.applied"))
}

/// Removes the entry under `key` from `store`, if it is still there.
async fn remove(store: &Arc<dyn Store>, key: &EntityKey) -> Result<(), DispatchError> {
    store
        .update(key, &mut |current| {
            if current.is_some() {
                Mutation::Delete
            } else {
                Mutation::Keep
            }
        })
        .await?;
    Ok(())
}

fn id_key(id: &EntityId) -> EntityKey {
    EntityKey::new(OUTBOX, id.clone())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Entry {
    pub(crate) fn pending(id: String, call: Call, origin: String) -> Self {
        Self {
            id,
            state: PENDING.to_owned(),
            call,
            origin,
            created_ms: now_ms(),
        }
    }

    pub(crate) fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

fn same_store(a: &Arc<dyn Store>, b: &Arc<dyn Store>) -> bool {
    crate::store::same_store(&**a, &**b)
}

/// Every store of `registry`, each once.
pub fn stores(registry: &Registry) -> Vec<Arc<dyn Store>> {
    let mut out: Vec<Arc<dyn Store>> = Vec::new();
    for ty in registry.iter() {
        if !out.iter().any(|s| same_store(s, ty.store())) {
            out.push(ty.store().clone());
        }
    }
    out
}

/// Whether some event of `registry` fires changes (and so needs the outbox).
pub fn needed(registry: &Registry) -> bool {
    registry
        .iter()
        .any(|ty| ty.events().iter().any(|e| e.fires))
}

/// Attaches the outbox to every store of `registry` when an event fires changes
/// or `reactions` (called by the application builder, before the stores are
/// prepared).
pub fn attach(registry: &Registry, reactions: bool) -> Result<(), StoreError> {
    if !needed(registry) && !reactions {
        return Ok(());
    }
    for store in stores(registry) {
        store.attach(&SCHEMA)?;
    }
    Ok(())
}

impl Dispatcher {
    /// Applies `entry`, waiting in `source`, to its target store (or runs its
    /// reaction), then removes it.
    pub async fn deliver(
        &self,
        source: &Arc<dyn Store>,
        entry: Entry,
    ) -> Result<(), DispatchError> {
        if let Some(name) = entry.call.event.strip_prefix(super::reaction::REACTION) {
            let name = name.to_owned();
            return self.react(source, entry, &name).await;
        }
        let call = &entry.call;
        let setup = |m: String| DispatchError::from(EventError::Setup(m));
        let ty = self.registry().get(&call.entity).cloned().ok_or_else(|| {
            setup(format!(
                "outbox entry `{}` names entity `{}`, which is not registered",
                entry.id, call.entity
            ))
        })?;
        let index = ty.event_index(&call.event).ok_or_else(|| {
            setup(format!(
                "outbox entry `{}` names event `{call}`, which does not exist",
                entry.id
            ))
        })?;
        let id = EntityId::new(call.id.clone().unwrap_or_default());
        let target = ty.key(id.clone());
        let marker = marker_key(&entry.id);
        let input = EventInput::new(ty.name()).with_query(call.args.clone());
        let mut applied = entry.clone();
        applied.id = marker.id.to_string();
        applied.state = APPLIED.to_owned();
        let mut failed = None;
        let outcomes = ty
            .store()
            .update_many(&[target.clone(), marker.clone()], &mut |current| {
                if current[1].is_some() {
                    // Applied before (a crash came before the entry was removed).
                    return Vec::new();
                }
                let state = match current[0] {
                    Some(r) => r.value.clone(),
                    None => match ty.initial(&id) {
                        Some(Ok(v)) => v,
                        Some(Err(e)) => {
                            failed = Some(e.into());
                            return Vec::new();
                        }
                        None => {
                            failed = Some(not_found(ty.name(), &id));
                            return Vec::new();
                        }
                    },
                };
                let mut nested = Changes::default();
                let change = match run_guarded(&ty, index, Some(&state), &input, &mut nested) {
                    Ok((_, EventOutput::Deleted)) => Mutation::Delete,
                    Ok((v, _)) => match check_written(&ty, &id, &v) {
                        Ok(()) => Mutation::Put(v),
                        Err(e) => {
                            failed = Some(e);
                            return Vec::new();
                        }
                    },
                    Err(e) => {
                        failed = Some(e);
                        return Vec::new();
                    }
                };
                vec![change, Mutation::Put(applied.to_value())]
            })
            .await?;
        if let Some(e) = failed {
            return Err(e);
        }
        match &outcomes[0] {
            UpdateOutcome::Written(record) => self.publish(&target, Some(record)),
            UpdateOutcome::Deleted => self.publish(&target, None),
            UpdateOutcome::Unchanged(_) => {}
        }
        remove(source, &key(&entry.id)).await
    }

    /// Runs reaction `name` for `entry` (waiting in `source`), then removes the
    /// entry; a failed reaction leaves it for the next delivery.
    async fn react(
        &self,
        source: &Arc<dyn Store>,
        entry: Entry,
        name: &str,
    ) -> Result<(), DispatchError> {
        let call = &entry.call;
        let reaction = self
            .reactions
            .get(call.entity.as_str())
            .and_then(|all| all.iter().find(|(n, _)| *n == name))
            .map(|(_, f)| f.clone());
        let done = match (reaction, self.registry().get(&call.entity)) {
            (Some(react), Some(ty)) => {
                let key = ty.key(EntityId::new(call.id.clone().unwrap_or_default()));
                let record = ty.store().load(&key).await?;
                react(entry.id.clone(), key, record)
                    .await
                    .map_err(|message| {
                        DispatchError::from(EventError::Rejected(format!(
                            "reaction `{name}` to `{}` failed: {message}",
                            entry.origin
                        )))
                    })
            }
            _ => {
                tracing::warn!(reaction = name, entity = %call.entity, entry = %entry.id, "no such reaction any more; its outbox entry is removed");
                Ok(())
            }
        };
        done?;
        remove(source, &key(&entry.id)).await
    }

    /// Whether this application writes outbox entries (an event fires changes,
    /// or an entity has reactions).
    pub fn uses_outbox(&self) -> bool {
        needed(self.registry()) || !self.reactions.is_empty()
    }

    /// Delivers every pending outbox entry of every store; how many were applied.
    /// Entries that fail stay pending (and are logged): the next call tries again.
    /// Applied markers older than a week are removed.
    pub async fn deliver_pending(&self) -> Result<usize, DispatchError> {
        if !self.uses_outbox() {
            return Ok(0);
        }
        let mut delivered = 0;
        let week_ago = now_ms() - 7 * 24 * 3600 * 1000;
        for store in stores(self.registry()) {
            for (id, record) in store.list(OUTBOX).await? {
                let entry: Entry = match serde_json::from_value(record.value) {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::error!(entry = %id, error = %e, "an outbox entry does not decode; it is kept");
                        continue;
                    }
                };
                if entry.state == APPLIED {
                    if entry.created_ms < week_ago {
                        store
                            .update(&id_key(&id), &mut |_| Mutation::Delete)
                            .await?;
                    }
                    continue;
                }
                let (entry_id, origin) = (entry.id.clone(), entry.origin.clone());
                match self.deliver(&store, entry).await {
                    Ok(()) => delivered += 1,
                    Err(e) => {
                        tracing::warn!(entry = %entry_id, %origin, error = %e, "an outbox entry could not be applied; it stays pending");
                    }
                }
            }
        }
        Ok(delivered)
    }
}
