//! The unit of work of an event that changes other entities ([`Changes`]).
//!
//! The event and the events it fires on instances **of its own store** run in one
//! [`Store::update_many`](crate::Store::update_many): one transaction, all or
//! nothing. An event fired on an instance of **another store** is written as an
//! outbox entry in that same transaction and delivered afterwards (see
//! [`outbox`](crate::app::outbox)), exactly once.
//!
//! The keys a unit of work locks are only known once the event ran, so it runs the
//! event, and when the event names other instances than the ones locked, starts
//! over with those locked too (events run on copies and must not have side
//! effects: running one again is harmless).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::{Dispatcher, EventOutcome, check_written, not_found, record_id, run_guarded};
use crate::app::outbox::{self, Entry};
use crate::entity::GLOBAL_ID;
use crate::event::{Call, Changes, DispatchError, EventError, EventInput, EventKind, EventOutput};
use crate::store::{Mutation, Record, UpdateOutcome};
use crate::{EntityId, EntityKey, EntityType, Scope, Store};

/// Units of work that keep naming new instances give up after this many rounds.
const MAX_ROUNDS: usize = 8;

/// The session id an event's input carries, for the session-scope events it fires.
#[derive(Debug, Clone)]
pub struct SessionOf(pub EntityId);

/// One fired event, resolved: which type, which instance, which event.
struct Target {
    ty: Arc<EntityType>,
    key: EntityKey,
    index: usize,
    call: Call,
}

/// What one round decided, kept outside the store's closure.
struct Decided {
    primary: Option<Record>,
    output: EventOutput,
    /// Key of every instance written, with its new state (`None`: deleted).
    written: Vec<EntityKey>,
    entries: Vec<Entry>,
}

fn same_store(a: &Arc<dyn Store>, b: &Arc<dyn Store>) -> bool {
    crate::store::same_store(&**a, &**b)
}

impl Dispatcher {
    /// The instance and event a [`Call`] names, from an event run with `input`.
    fn resolve(&self, call: Call, input: &EventInput) -> Result<Target, DispatchError> {
        let setup = |message: String| DispatchError::from(EventError::Setup(message));
        let ty = self.registry().get(&call.entity).cloned().ok_or_else(|| {
            setup(format!(
                "a fired change names entity `{}`, which is not registered",
                call.entity
            ))
        })?;
        let index = ty.event_index(&call.event).ok_or_else(|| {
            setup(format!(
                "a fired change names event `{call}`, which `{}` has not",
                ty.name()
            ))
        })?;
        let spec = ty.events()[index];
        if spec.kind == EventKind::Create {
            return Err(setup(format!(
                "`{call}` creates a record: fired changes run events on existing instances \
                 (create the record in a reaction, or return it from a create event)"
            )));
        }
        if spec.fires {
            return Err(setup(format!(
                "`{call}` fires changes itself: a fired event cannot fire others (yet)"
            )));
        }
        let id = match ty.scope() {
            Scope::Global => EntityId::new(GLOBAL_ID),
            Scope::Record => {
                let raw = call.id.clone().unwrap_or_default();
                ty.canonical_id(&raw)
                    .ok_or_else(|| not_found(ty.name(), &EntityId::new(raw)))?
            }
            Scope::Session => match input.extension::<SessionOf>() {
                Some(SessionOf(id)) => id.clone(),
                None => {
                    return Err(setup(format!(
                        "`{call}` is a session entity's event, and this event runs without a session"
                    )));
                }
            },
        };
        let mut call = call;
        call.id = Some(id.to_string());
        Ok(Target {
            key: ty.key(id),
            ty,
            index,
            call,
        })
    }

    /// Runs event `index` of `ty` (on `id`, or creating a record when it is a
    /// create event) with the events it fires, as one unit of work.
    pub(super) async fn dispatch_unit(
        &self,
        ty: &EntityType,
        index: usize,
        id: EntityId,
        input: &EventInput,
    ) -> Result<EventOutcome, DispatchError> {
        let spec = ty.events()[index];
        // A create event runs once, outside the store: its id (often random) must
        // stay the same over every round.
        let created = match spec.kind {
            EventKind::Create => {
                let mut changes = Changes::default();
                let (value, output) = run_guarded(ty, index, None, input, &mut changes)?;
                let id = record_id(ty, &value)?;
                check_written(ty, &id, &value)?;
                Some((id, value, output, changes.take()))
            }
            EventKind::Update => None,
        };
        let key = match &created {
            Some((id, ..)) => ty.key(id.clone()),
            None => ty.key(id.clone()),
        };
        let store = ty.store().clone();
        let mut others: Vec<EntityKey> = Vec::new();
        let mut outboxes = 0usize;
        for _ in 0..MAX_ROUNDS {
            let entry_ids: Vec<String> = (0..outboxes)
                .map(|_| crate::entity::new_uuid_v4())
                .collect();
            let mut keys = vec![key.clone()];
            keys.extend(others.iter().cloned());
            keys.extend(entry_ids.iter().map(|e| outbox::key(e)));
            let mut decided: Option<Result<Decided, DispatchError>> = None;
            let mut wanted: Option<(Vec<EntityKey>, usize)> = None;
            let outcomes = store
                .update_many(&keys, &mut |current| match self.round(
                    ty,
                    index,
                    &key,
                    created.as_ref(),
                    input,
                    &keys,
                    current,
                    &others,
                    &entry_ids,
                    &store,
                ) {
                    Round::Done(mutations, d) => {
                        decided = Some(Ok(d));
                        mutations
                    }
                    Round::Failed(e) => {
                        decided = Some(Err(e));
                        Vec::new()
                    }
                    Round::Needs(o, n) => {
                        wanted = Some((o, n));
                        Vec::new()
                    }
                })
                .await?;
            if let Some((o, n)) = wanted {
                others = o;
                outboxes = n;
                continue;
            }
            let decided = decided.unwrap_or_else(|| {
                Err(crate::StoreError::Unavailable(format!(
                    "the store did not run the unit of work of `{key}`"
                ))
                .into())
            })?;
            return self
                .committed(ty, spec, key, &keys, outcomes, decided)
                .await;
        }
        Err(crate::StoreError::Unavailable(format!(
            "the unit of work of `{key}` kept naming other instances; gave up after {MAX_ROUNDS} rounds"
        ))
        .into())
    }

    /// One run of the unit of work on the locked `current` records of `keys`.
    #[allow(clippy::too_many_arguments)]
    fn round(
        &self,
        ty: &EntityType,
        index: usize,
        key: &EntityKey,
        created: Option<&(EntityId, Value, EventOutput, Vec<Call>)>,
        input: &EventInput,
        keys: &[EntityKey],
        current: &[Option<&Record>],
        others: &[EntityKey],
        entry_ids: &[String],
        store: &Arc<dyn Store>,
    ) -> Round {
        let fail = Round::Failed;
        // The event itself.
        let (value, output, calls) = match created {
            Some((id, value, output, calls)) => {
                if current[0].is_some() {
                    return fail(
                        crate::StoreError::Conflict(format!(
                            "a `{}` with id `{id}` exists already",
                            ty.name()
                        ))
                        .into(),
                    );
                }
                (Some(value.clone()), output.clone(), calls.clone())
            }
            None => {
                let state = match current[0] {
                    Some(record) => record.value.clone(),
                    None => match ty.initial(&key.id) {
                        Some(Ok(value)) => value,
                        Some(Err(e)) => return fail(e.into()),
                        None => return fail(not_found(ty.name(), &key.id)),
                    },
                };
                let mut changes = Changes::default();
                match run_guarded(ty, index, Some(&state), input, &mut changes) {
                    Ok((_, EventOutput::Deleted)) => (None, EventOutput::Deleted, changes.take()),
                    Ok((value, output)) => {
                        if let Err(e) = check_written(ty, &key.id, &value) {
                            return fail(e);
                        }
                        (Some(value), output, changes.take())
                    }
                    Err(e) => return fail(e),
                }
            }
        };
        // Which instances the fired events touch, here and in other stores.
        let mut local = Vec::new();
        let mut remote = Vec::new();
        for call in calls {
            match self.resolve(call, input) {
                Ok(t) if same_store(t.ty.store(), store) => local.push(t),
                Ok(t) => remote.push(t),
                Err(e) => return fail(e),
            }
        }
        let mut needed: Vec<EntityKey> = Vec::new();
        for t in &local {
            if t.key != *key && !needed.contains(&t.key) {
                needed.push(t.key.clone());
            }
        }
        let locked_all = needed.iter().all(|k| others.contains(k));
        if !locked_all || remote.len() != entry_ids.len() {
            let mut all = others.to_vec();
            all.extend(needed.into_iter().filter(|k| !others.contains(k)));
            return Round::Needs(all, remote.len());
        }
        // The fired events of this store, in order, each on the state the previous
        // ones left.
        let mut states: HashMap<&EntityKey, Option<Value>> = HashMap::new();
        states.insert(key, value.clone());
        for (k, record) in keys.iter().zip(current).skip(1) {
            states.insert(k, record.map(|r| r.value.clone()));
        }
        let mut touched: Vec<EntityKey> = Vec::new();
        for t in local {
            let state = match states.get(&t.key).cloned().flatten() {
                Some(v) => v,
                None => match t.ty.initial(&t.key.id) {
                    Some(Ok(v)) => v,
                    Some(Err(e)) => return fail(e.into()),
                    None => return fail(not_found(t.ty.name(), &t.key.id)),
                },
            };
            let fired = EventInput::new(t.ty.name()).with_query(t.call.args.clone());
            let mut nested = Changes::default();
            let new = match run_guarded(&t.ty, t.index, Some(&state), &fired, &mut nested) {
                Ok((_, EventOutput::Deleted)) => None,
                Ok((v, _)) => {
                    if let Err(e) = check_written(&t.ty, &t.key.id, &v) {
                        return fail(e);
                    }
                    Some(v)
                }
                Err(e) => return fail(e),
            };
            if let Some(slot) = keys.iter().find(|k| **k == t.key) {
                states.insert(slot, new);
            }
            if !touched.contains(&t.key) {
                touched.push(t.key.clone());
            }
        }
        let origin = key.to_string();
        let entries: Vec<Entry> = remote
            .into_iter()
            .zip(entry_ids)
            .map(|(t, id)| Entry::pending(id.clone(), t.call, origin.clone()))
            .collect();
        // One mutation per key: the event's instance, those the fired events
        // touched, the outbox entries.
        let mut mutations = Vec::with_capacity(keys.len());
        mutations.push(match states.get(key).cloned().flatten() {
            Some(v) => Mutation::Put(v),
            None => Mutation::Delete,
        });
        for k in &keys[1..keys.len() - entries.len()] {
            mutations.push(if touched.contains(k) {
                match states.get(k).cloned().flatten() {
                    Some(v) => Mutation::Put(v),
                    None => Mutation::Delete,
                }
            } else {
                Mutation::Keep
            });
        }
        for entry in &entries {
            mutations.push(Mutation::Put(entry.to_value()));
        }
        let mut written = vec![key.clone()];
        written.extend(touched.into_iter().filter(|k| k != key));
        Round::Done(
            mutations,
            Decided {
                primary: None,
                output,
                written,
                entries,
            },
        )
    }

    /// After the commit: publish every instance written, deliver the outbox
    /// entries to their stores, answer with the event's own instance.
    async fn committed(
        &self,
        ty: &EntityType,
        spec: crate::EventSpec,
        key: EntityKey,
        keys: &[EntityKey],
        outcomes: Vec<UpdateOutcome>,
        mut decided: Decided,
    ) -> Result<EventOutcome, DispatchError> {
        for (k, outcome) in keys.iter().zip(&outcomes) {
            if !decided.written.contains(k) {
                continue;
            }
            match outcome {
                UpdateOutcome::Written(record) => {
                    if *k == key {
                        decided.primary = Some(record.clone());
                    }
                    self.publish(k, Some(record));
                }
                UpdateOutcome::Deleted => self.publish(k, None),
                UpdateOutcome::Unchanged(_) => {}
            }
        }
        for entry in decided.entries {
            // Committed already: a failed delivery waits in the outbox for the next
            // round of deliveries (every few seconds, and at start-up).
            if let Err(e) = self.deliver(ty.store(), entry).await {
                tracing::warn!(error = %e, origin = %key, "a change for another store waits in the outbox");
            }
        }
        Ok(EventOutcome {
            key,
            record: decided.primary,
            output: decided.output,
            spec,
        })
    }
}

/// What one round of a unit of work came to.
enum Round {
    /// Write these mutations.
    Done(Vec<Mutation>, Decided),
    /// The event failed: nothing is written.
    Failed(DispatchError),
    /// Lock these other instances of the store, and make room for this many
    /// outbox entries, then run again.
    Needs(Vec<EntityKey>, usize),
}
