use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::entity::Hooks;
use crate::entity::{FieldError, FieldType};
use crate::event::{Changes, EventError, EventInput, EventOutput, EventSpec, Events, Handler};
use crate::{EntityId, EntityKey, Schema, Scope, Store};

type RunFn = Box<
    dyn Fn(Option<&Value>, &EventInput, &mut Changes) -> Result<(Value, EventOutput), EventError>
        + Send
        + Sync,
>;
type HookFn = Box<dyn Fn(Value, bool) -> Result<Value, EventError> + Send + Sync>;
/// The boxed future of an async event run on a copy of the state.
pub(crate) type RunFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(Value, EventOutput), EventError>> + Send + 'a>,
>;
type RunAsyncFn = Box<dyn for<'a> Fn(&'a Value, &'a EventInput) -> RunFuture<'a> + Send + Sync>;
type InitialFn = Box<dyn Fn(&EntityId) -> Option<Result<Value, EventError>> + Send + Sync>;
type CheckFn = Box<dyn Fn(Value) -> Result<Value, FieldError> + Send + Sync>;

/// An entity type with its Rust type erased: what the dispatcher, the router and
/// the stores need at run time.
pub struct EntityType {
    name: &'static str,
    /// The name as an `Arc`, so keys are built without allocating.
    shared_name: Arc<str>,
    scope: Scope,
    schema: &'static Schema,
    specs: Vec<EventSpec>,
    runs: Vec<RunFn>,
    /// The async events' code, at their index (`None` for the others).
    async_runs: Vec<Option<RunAsyncFn>>,
    initial: InitialFn,
    check: CheckFn,
    hooks: HookFn,
    server_defaults: serde_json::Map<String, Value>,
    store: Arc<dyn Store>,
}

/// The entity's hooks on a new state: `on_create` for a new record, then
/// `normalize`, then `check`.
fn hooked<E: Hooks>(entity: &mut E, creating: bool) -> Result<(), EventError> {
    if creating {
        entity.on_create();
    }
    entity.normalize();
    entity.check().map_err(EventError::Invalid)
}

fn corrupt(entity: &str, e: serde_json::Error) -> EventError {
    EventError::Corrupt {
        entity: entity.to_owned(),
        reason: e.to_string(),
    }
}

impl EntityType {
    /// Erases `E`, keeping its state in `store`.
    pub fn of<E: Events>(store: Arc<dyn Store>) -> Self {
        let runs = E::events()
            .iter()
            .map(|def| {
                let def = *def;
                let run: RunFn = Box::new(move |state, input, changes| match def.handler {
                    Handler::Update(handler) => {
                        let state = state.ok_or_else(|| {
                            EventError::Rejected(format!("`{}` has no instance to change", E::NAME))
                        })?;
                        let mut entity = E::deserialize(state).map_err(|e| corrupt(E::NAME, e))?;
                        let output = handler(&mut entity, input, changes)?;
                        if !matches!(output, EventOutput::Deleted) {
                            hooked(&mut entity, false)?;
                        }
                        let value =
                            serde_json::to_value(&entity).map_err(|e| corrupt(E::NAME, e))?;
                        Ok((value, output))
                    }
                    Handler::UpdateAsync(_) => Err(EventError::Setup(format!(
                        "`{}` is an async event: it runs through `Dispatcher::dispatch_event`",
                        def.spec.name
                    ))),
                    Handler::Create(handler) => {
                        let mut entity = handler(input, changes)?;
                        hooked(&mut entity, true)?;
                        let value =
                            serde_json::to_value(&entity).map_err(|e| corrupt(E::NAME, e))?;
                        Ok((value, EventOutput::Signals))
                    }
                });
                run
            })
            .collect();
        let async_runs = E::events()
            .iter()
            .map(|def| {
                let Handler::UpdateAsync(handler) = def.handler else {
                    return None;
                };
                let run: RunAsyncFn = Box::new(move |state, input| {
                    let entity = E::deserialize(state).map_err(|e| corrupt(E::NAME, e));
                    Box::pin(async move {
                        let mut entity = entity?;
                        let output = handler(&mut entity, input).await?;
                        if !matches!(output, EventOutput::Deleted) {
                            hooked(&mut entity, false)?;
                        }
                        let value =
                            serde_json::to_value(&entity).map_err(|e| corrupt(E::NAME, e))?;
                        Ok((value, output))
                    })
                });
                Some(run)
            })
            .collect();
        Self {
            name: E::NAME,
            shared_name: Arc::from(E::NAME),
            async_runs,
            scope: E::SCOPE,
            schema: E::schema(),
            specs: E::events().iter().map(|d| d.spec).collect(),
            runs,
            initial: Box::new(|id| {
                E::initial(id).map(|e| serde_json::to_value(e).map_err(|e| corrupt(E::NAME, e)))
            }),
            check: Box::new(|value| {
                let entity: E = serde_path_to_error::deserialize(value).map_err(|e| {
                    let path = e.path().to_string();
                    let field = path.split(['.', '[']).next().unwrap_or_default().to_owned();
                    let message = e.into_inner().to_string();
                    FieldError {
                        field: if field == "?" { String::new() } else { field },
                        message,
                    }
                })?;
                serde_json::to_value(&entity).map_err(|e| FieldError {
                    field: String::new(),
                    message: e.to_string(),
                })
            }),
            hooks: Box::new(|value, creating| {
                let mut entity: E =
                    serde_json::from_value(value).map_err(|e| corrupt(E::NAME, e))?;
                hooked(&mut entity, creating)?;
                serde_json::to_value(&entity).map_err(|e| corrupt(E::NAME, e))
            }),
            server_defaults: E::server_defaults(),
            store,
        }
    }

    /// Runs the entity's [`Hooks`] on `value`, a well-typed instance (see
    /// [`check`](Self::check)) about to be written by something else than an event
    /// (the JSON API, the admin, the command line): `on_create` when `creating`,
    /// then `normalize` and `check`.
    pub fn hooks(&self, value: Value, creating: bool) -> Result<Value, EventError> {
        (self.hooks)(value, creating)
    }

    /// What a client leaves out for the `#[entity(server)]` fields (see
    /// [`Entity::server_defaults`](crate::Entity::server_defaults)).
    pub fn server_defaults(&self) -> &serde_json::Map<String, Value> {
        &self.server_defaults
    }

    /// Checks that `value` is a well-typed instance by turning it into the Rust type
    /// and back (which also fills defaults); the error names the first field at
    /// fault.
    pub fn check(&self, value: Value) -> Result<Value, FieldError> {
        (self.check)(value)
    }

    /// The entity's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The key of instance `id`.
    pub fn key(&self, id: EntityId) -> EntityKey {
        EntityKey {
            entity: self.shared_name.clone(),
            id,
        }
    }

    /// The entity's scope.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The entity's schema.
    pub fn schema(&self) -> &'static Schema {
        self.schema
    }

    /// The entity's events.
    pub fn events(&self) -> &[EventSpec] {
        &self.specs
    }

    /// The store holding the entity.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The same type, kept in `store` (the builder wraps stores this way).
    #[must_use]
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = store;
        self
    }

    /// The position of event `name` in [`events`](Self::events).
    pub fn event_index(&self, name: &str) -> Option<usize> {
        self.specs.iter().position(|s| s.name == name)
    }

    pub(crate) fn run(
        &self,
        index: usize,
        state: Option<&Value>,
        input: &EventInput,
        changes: &mut Changes,
    ) -> Result<(Value, EventOutput), EventError> {
        (self.runs[index])(state, input, changes)
    }

    /// Runs async event `index` on a copy of `state`; `None` when it is not async.
    pub(crate) fn run_async<'a>(
        &'a self,
        index: usize,
        state: &'a Value,
        input: &'a EventInput,
    ) -> Option<RunFuture<'a>> {
        self.async_runs[index].as_ref().map(|run| run(state, input))
    }

    /// Record id `raw` as every store keys it: a UUID in lower case with hyphens,
    /// an integer without sign or leading zeros; `None` when no record can have it
    /// (not a UUID, not an integer). Other scopes and text ids are kept as given.
    pub fn canonical_id(&self, raw: &str) -> Option<EntityId> {
        let field = match (self.scope, self.schema.id_field()) {
            (Scope::Record, Some(field)) => field,
            _ => return Some(EntityId::new(raw)),
        };
        let canonical = match field.ty {
            FieldType::Uuid => {
                let hex: String = raw
                    .trim_start_matches("urn:uuid:")
                    .chars()
                    .filter(|c| !matches!(c, '-' | '{' | '}'))
                    .collect();
                if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return None;
                }
                let h = hex.to_ascii_lowercase();
                format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                )
            }
            FieldType::Integer => {
                let trimmed = raw.strip_prefix('+').unwrap_or(raw);
                match trimmed.parse::<i64>() {
                    Ok(n) => n.to_string(),
                    Err(_) => trimmed.parse::<u64>().ok()?.to_string(),
                }
            }
            _ => raw.to_owned(),
        };
        Some(EntityId::new(canonical))
    }

    /// The state of an instance nobody changed yet, if the entity has one.
    pub fn initial(&self, id: &EntityId) -> Option<Result<Value, EventError>> {
        (self.initial)(id)
    }
}

impl fmt::Debug for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntityType")
            .field("name", &self.name)
            .field("scope", &self.scope)
            .field("events", &self.specs)
            .finish_non_exhaustive()
    }
}

/// The entity types of one application, by name.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    types: HashMap<&'static str, Arc<EntityType>>,
    order: Vec<&'static str>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a type.
    ///
    /// # Panics
    ///
    /// When a type of the same name is registered already: two entities would
    /// share routes and signals, which is a programming error caught at start-up.
    pub fn insert(&mut self, ty: EntityType) {
        let name = ty.name;
        assert!(
            self.types.insert(name, Arc::new(ty)).is_none(),
            "entity `{name}` is registered twice"
        );
        self.order.push(name);
    }

    /// The type named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<EntityType>> {
        self.types.get(name)
    }

    /// Every type in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<EntityType>> {
        self.order.iter().filter_map(|n| self.types.get(n))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::entity::Field;
    use crate::event::EventDef;
    use crate::{Entity, MemoryStore, StoreKind};

    macro_rules! record_with_id {
        ($name:ident, $rust_type:literal, $ty:ident) => {
            #[derive(Serialize, Deserialize)]
            struct $name {}
            impl crate::entity::Hooks for $name {}
            impl Entity for $name {
                const NAME: &'static str = stringify!($name);
                const SCOPE: Scope = Scope::Record;
                const STORE: StoreKind = StoreKind::Memory;
                fn schema() -> &'static Schema {
                    static FIELDS: [Field; 1] = [Field::new("id", $rust_type, FieldType::$ty).id()];
                    static SCHEMA: Schema = Schema::new(stringify!($name), &FIELDS);
                    &SCHEMA
                }
                fn initial(_: &EntityId) -> Option<Self> {
                    None
                }
            }
            impl Events for $name {
                fn events() -> &'static [EventDef<Self>] {
                    &[]
                }
            }
        };
    }

    record_with_id!(ByUuid, "Uuid", Uuid);
    record_with_id!(ByInt, "i64", Integer);

    #[test]
    fn ids_take_the_form_every_store_keys_them_by() {
        let uuid = EntityType::of::<ByUuid>(Arc::new(MemoryStore::new()));
        assert_eq!(
            uuid.canonical_id("6F9619FF8B86D011B42D00C04FC964FF")
                .as_ref()
                .map(EntityId::as_str),
            Some("6f9619ff-8b86-d011-b42d-00c04fc964ff")
        );
        let int = EntityType::of::<ByInt>(Arc::new(MemoryStore::new()));
        assert_eq!(
            int.canonical_id("007").as_ref().map(EntityId::as_str),
            Some("7")
        );
        assert_eq!(int.canonical_id("seven"), None);
    }
}
