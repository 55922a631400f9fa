use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, RwLock};

use crate::bus::{Bus, EntityChanged, NodeId};
use serde_json::Value;

use crate::entity::FieldError;
use crate::event::{
    Changes, DispatchError, EventError, EventInput, EventKind, EventOutput, EventSpec,
};
use crate::store::{ListQuery, Mutation, Page, Record, UpdateOutcome};
use crate::{EntityId, EntityKey, EntityType, Registry, Scope};

/// Told of every change this node commits, synchronously, before the bus hears of
/// it: the web adapter's live hub renders the new state once here for all viewers.
pub trait CommitObserver: Send + Sync + 'static {
    /// `record` is the new state, or `None` when the instance was deleted.
    fn committed(&self, key: &EntityKey, record: Option<&Record>);
}

/// What a successful event left behind.
#[derive(Debug, Clone)]
pub struct EventOutcome {
    /// The instance changed (or created).
    pub key: EntityKey,
    /// Its new state; `None` when the event deleted it.
    pub record: Option<Record>,
    /// The event's output (markup to patch, if any).
    pub output: EventOutput,
    /// The event that ran.
    pub spec: EventSpec,
}

/// Runs events as units of work: the store's atomic update runs the event on a
/// copy of the state; only a successful event is written, and only a written
/// change is published (first to local observers, then on the bus).
pub struct Dispatcher {
    registry: Registry,
    /// `None` for a single node: nobody else needs to hear of changes.
    bus: Option<Arc<dyn Bus>>,
    node: NodeId,
    observers: RwLock<Vec<Arc<dyn CommitObserver>>>,
    /// How long an async event may run before it is given up (503).
    event_timeout: std::time::Duration,
    async_locks: later::InstanceLocks,
    pub(crate) reactions: crate::app::reaction::Reactions,
}

/// How long an async event may run by default.
pub const DEFAULT_EVENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("registry", &self.registry)
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

mod later;
mod work;

pub use work::SessionOf;

pub(crate) fn not_found(entity: &str, id: &EntityId) -> DispatchError {
    DispatchError::NotFound {
        entity: entity.to_owned(),
        id: id.to_string(),
    }
}

/// Runs an event's code, turning a panic into an error (the state is kept).
pub(crate) fn run_guarded(
    ty: &EntityType,
    index: usize,
    state: Option<&Value>,
    input: &EventInput,
    changes: &mut Changes,
) -> Result<(Value, EventOutput), DispatchError> {
    match catch_unwind(AssertUnwindSafe(|| ty.run(index, state, input, changes))) {
        Ok(result) => Ok(result?),
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            let event = ty.events()[index].name;
            tracing::error!(entity = ty.name(), event, %message, "event panicked; state kept");
            Err(EventError::Panicked {
                event: event.to_owned(),
                message,
            }
            .into())
        }
    }
}

/// The id of a record entity's JSON value: its id field as text.
pub(crate) fn record_id(ty: &EntityType, value: &Value) -> Result<EntityId, DispatchError> {
    let field = ty.schema().id_field().map_or("id", |f| f.name);
    match value.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(EntityId::new(s.as_str())),
        Some(Value::Number(n)) => Ok(EntityId::new(n.to_string())),
        _ => Err(EventError::Invalid(vec![FieldError {
            field: field.to_owned(),
            message: "must be set to create a record".to_owned(),
        }])
        .into()),
    }
}

/// What must hold of any state written: the validation rules, and for records an
/// id field that still names the record.
pub(crate) fn check_written(
    ty: &EntityType,
    id: &EntityId,
    value: &Value,
) -> Result<(), DispatchError> {
    ty.schema()
        .validate(value)
        .map_err(|errors| DispatchError::from(EventError::Invalid(errors)))?;
    if ty.scope() == Scope::Record && record_id(ty, value)? != *id {
        let field = ty.schema().id_field().map_or("id", |f| f.name);
        return Err(EventError::Invalid(vec![FieldError {
            field: field.to_owned(),
            message: format!("cannot change (the record is `{id}`)"),
        }])
        .into());
    }
    Ok(())
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic payload".to_owned())
}

impl Dispatcher {
    /// A dispatcher over `registry`, publishing on `bus` as `node` (no bus: this
    /// node is the only one).
    pub fn new(registry: Registry, bus: Option<Arc<dyn Bus>>, node: NodeId) -> Self {
        Self {
            registry,
            bus,
            node,
            observers: RwLock::new(Vec::new()),
            event_timeout: DEFAULT_EVENT_TIMEOUT,
            async_locks: later::InstanceLocks::default(),
            reactions: crate::app::reaction::Reactions::new(),
        }
    }

    /// Runs `reactions` after the changes of their entities (their stores must be
    /// wrapped in [`Reacting`](crate::app::reaction::Reacting)).
    #[must_use]
    pub fn with_reactions(mut self, reactions: crate::app::reaction::Reactions) -> Self {
        self.reactions = reactions;
        self
    }

    /// Gives async events `timeout` to finish (default [`DEFAULT_EVENT_TIMEOUT`]);
    /// one that takes longer changes nothing and fails with
    /// [`EventError::TimedOut`] (503).
    #[must_use]
    pub fn with_event_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.event_timeout = timeout;
        self
    }

    /// The entity types.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The bus changes are published on, if any.
    pub fn bus(&self) -> Option<&Arc<dyn Bus>> {
        self.bus.as_ref()
    }

    /// This node's id.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// Adds an observer of this node's commits.
    pub fn observe(&self, observer: Arc<dyn CommitObserver>) {
        self.observers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(observer);
    }

    /// The current state of an instance. An instance nobody changed yet is its
    /// initial state at version 0, and is not written to the store.
    pub async fn state(&self, entity: &str, id: &EntityId) -> Result<Record, DispatchError> {
        let ty = self
            .registry
            .get(entity)
            .ok_or_else(|| DispatchError::UnknownEntity(entity.to_owned()))?;
        let key = ty.key(id.clone());
        if let Some(record) = ty.store().load(&key).await? {
            return Ok(record);
        }
        match ty.initial(id) {
            Some(value) => Ok(Record {
                version: 0,
                value: value?,
            }),
            None => Err(DispatchError::NotFound {
                entity: entity.to_owned(),
                id: id.to_string(),
            }),
        }
    }

    /// Runs event `event` of instance `id` of `entity` with `input`.
    pub async fn dispatch(
        &self,
        entity: &str,
        event: &str,
        id: EntityId,
        input: &EventInput,
    ) -> Result<EventOutcome, DispatchError> {
        let ty = self
            .registry
            .get(entity)
            .ok_or_else(|| DispatchError::UnknownEntity(entity.to_owned()))?;
        let index = ty
            .event_index(event)
            .ok_or_else(|| DispatchError::UnknownEvent {
                entity: entity.to_owned(),
                event: event.to_owned(),
            })?;
        self.dispatch_event(ty, index, id, input).await
    }

    /// Runs the event at `index` of `ty` (as the router resolved it) on instance
    /// `id`. A create event ignores `id`: the new record's id is its id field.
    ///
    /// # Panics
    ///
    /// When `index` is not an index of `ty.events()`.
    pub async fn dispatch_event(
        &self,
        ty: &EntityType,
        index: usize,
        id: EntityId,
        input: &EventInput,
    ) -> Result<EventOutcome, DispatchError> {
        let spec = ty.events()[index];
        if spec.asynchronous {
            return self.dispatch_async(ty, index, id, input).await;
        }
        if spec.fires {
            return self.dispatch_unit(ty, index, id, input).await;
        }
        if spec.kind == EventKind::Create {
            return self.dispatch_create(ty, index, input).await;
        }
        let (entity, event) = (ty.name(), spec.name);
        let key = ty.key(id.clone());
        let mut result: Option<Result<EventOutput, DispatchError>> = None;
        let outcome = ty
            .store()
            .update(&key, &mut |current| {
                let state = match current {
                    Some(record) => Cow::Borrowed(&record.value),
                    None => match ty.initial(&id) {
                        Some(Ok(value)) => Cow::Owned(value),
                        Some(Err(e)) => {
                            result = Some(Err(e.into()));
                            return Mutation::Keep;
                        }
                        None => {
                            result = Some(Err(not_found(entity, &id)));
                            return Mutation::Keep;
                        }
                    },
                };
                // The event takes no `Changes` (`spec.fires` is false): this one
                // stays empty and costs nothing.
                let mut changes = Changes::default();
                match run_guarded(ty, index, Some(&state), input, &mut changes) {
                    Ok((_, EventOutput::Deleted)) => {
                        // Removing needs no valid state: a record that breaks
                        // today's rules can still be deleted.
                        result = Some(Ok(EventOutput::Deleted));
                        Mutation::Delete
                    }
                    Ok((value, output)) => {
                        if let Err(e) = check_written(ty, &id, &value) {
                            result = Some(Err(e));
                            return Mutation::Keep;
                        }
                        result = Some(Ok(output));
                        Mutation::Put(value)
                    }
                    Err(e) => {
                        result = Some(Err(e));
                        Mutation::Keep
                    }
                }
            })
            .await?;
        let output = result.unwrap_or(Ok(EventOutput::Signals))?;
        let record = match outcome {
            UpdateOutcome::Written(record) => Some(record),
            UpdateOutcome::Deleted => None,
            UpdateOutcome::Unchanged(_) => {
                // A successful event asked for a write; a store that did not make it
                // is broken, and the client may retry.
                return Err(crate::StoreError::Unavailable(format!(
                    "the store did not write `{key}` after event `{event}`"
                ))
                .into());
            }
        };
        self.publish(&key, record.as_ref());
        Ok(EventOutcome {
            key,
            record,
            output,
            spec,
        })
    }

    async fn dispatch_create(
        &self,
        ty: &EntityType,
        index: usize,
        input: &EventInput,
    ) -> Result<EventOutcome, DispatchError> {
        let spec = ty.events()[index];
        let (value, output) = run_guarded(ty, index, None, input, &mut Changes::default())?;
        let (id, record) = self.insert_checked(ty, value).await?;
        Ok(EventOutcome {
            key: ty.key(id),
            record: Some(record),
            output,
            spec,
        })
    }

    /// Creates a record from `value` (already the entity's JSON form) as the JSON
    /// API, the admin and the command line do: the entity's [`Hooks`](crate::entity::Hooks)
    /// run (`on_create`, `normalize`, `check`), then it is validated, refused with
    /// [`StoreError::Conflict`](crate::StoreError::Conflict) when its id exists,
    /// and published.
    pub async fn insert(
        &self,
        ty: &EntityType,
        value: Value,
    ) -> Result<(EntityId, Record), DispatchError> {
        let value = ty.hooks(value, true)?;
        self.insert_checked(ty, value).await
    }

    /// [`insert`](Self::insert) of a value whose hooks ran already.
    async fn insert_checked(
        &self,
        ty: &EntityType,
        value: Value,
    ) -> Result<(EntityId, Record), DispatchError> {
        let id = record_id(ty, &value)?;
        check_written(ty, &id, &value)?;
        let key = ty.key(id.clone());
        // A store may run the closure more than once (a retried transaction):
        // each run must be able to write.
        let outcome = ty
            .store()
            .update(&key, &mut |current| match current {
                None => Mutation::Put(value.clone()),
                Some(_) => Mutation::Keep,
            })
            .await?;
        let UpdateOutcome::Written(record) = outcome else {
            return Err(crate::StoreError::Conflict(format!(
                "a `{}` with id `{id}` exists already",
                ty.name()
            ))
            .into());
        };
        self.publish(&key, Some(&record));
        Ok((id, record))
    }

    /// Changes record `id` with `change` (given its current JSON form, returns the
    /// new one; the entity's hooks `normalize` and `check` run on it, then it is
    /// checked and validated here), then publishes. `NotFound` when the record
    /// does not exist.
    pub async fn modify(
        &self,
        ty: &EntityType,
        id: EntityId,
        change: &(dyn Fn(&Value) -> Result<Value, DispatchError> + Send + Sync),
    ) -> Result<Record, DispatchError> {
        let key = ty.key(id.clone());
        let mut error = None;
        let outcome = ty
            .store()
            .update(&key, &mut |current| {
                let Some(current) = current else {
                    error = Some(not_found(ty.name(), &id));
                    return Mutation::Keep;
                };
                match change(&current.value)
                    .and_then(|v| ty.check(v).map_err(|e| EventError::Invalid(vec![e]).into()))
                    .and_then(|v| ty.hooks(v, false).map_err(DispatchError::from))
                    .and_then(|v| check_written(ty, &id, &v).map(|()| v))
                {
                    Ok(v) => Mutation::Put(v),
                    Err(e) => {
                        error = Some(e);
                        Mutation::Keep
                    }
                }
            })
            .await?;
        if let Some(e) = error {
            return Err(e);
        }
        let UpdateOutcome::Written(record) = outcome else {
            return Err(not_found(ty.name(), &id));
        };
        self.publish(&key, Some(&record));
        Ok(record)
    }

    /// Removes record `id`, then publishes. `NotFound` when it does not exist.
    pub async fn remove(&self, ty: &EntityType, id: EntityId) -> Result<(), DispatchError> {
        let key = ty.key(id.clone());
        let outcome = ty
            .store()
            .update(&key, &mut |current| {
                if current.is_some() {
                    Mutation::Delete
                } else {
                    Mutation::Keep
                }
            })
            .await?;
        if outcome != UpdateOutcome::Deleted {
            return Err(not_found(ty.name(), &id));
        }
        self.publish(&key, None);
        Ok(())
    }

    /// One page of `ty`'s instances matching `query`. Fields named in filters and
    /// the sort must exist (else [`StoreError::BadQuery`](crate::StoreError::BadQuery)).
    pub async fn query(&self, ty: &EntityType, query: &ListQuery) -> Result<Page, DispatchError> {
        let schema = ty.schema();
        let named = query
            .filters
            .iter()
            .map(|f| f.field.as_str())
            .chain(query.sort.iter().map(|s| s.field.as_str()));
        for field in named {
            if schema.field(field).is_none() {
                return Err(crate::StoreError::BadQuery(format!(
                    "`{}` has no field `{field}`",
                    ty.name()
                ))
                .into());
            }
        }
        Ok(ty.store().query(ty.name(), query).await?)
    }

    /// Tells local observers and the bus that `key` changed. Needs a Tokio runtime
    /// when there is a bus.
    pub fn publish(&self, key: &EntityKey, record: Option<&Record>) {
        for observer in self
            .observers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            observer.committed(key, record);
        }
        let Some(bus) = &self.bus else {
            return;
        };
        let change = EntityChanged {
            entity: key.entity.clone(),
            id: key.id.clone(),
            version: record.map_or(0, |r| r.version),
            origin: self.node,
        };
        // In its own task: the change is committed, and a client that goes away
        // (dropping this request's future) must not keep other nodes from hearing.
        let bus = bus.clone();
        tokio::spawn(async move {
            if let Err(e) = bus.publish(&change).await {
                // Other nodes resync when the bus reports missed messages.
                tracing::warn!(error = %e, entity = %change.entity, id = %change.id, "publishing a change failed");
            }
        });
    }
}

#[cfg(test)]
mod tests;
