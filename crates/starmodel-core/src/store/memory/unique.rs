//! `#[entity(unique)]` on the memory store: per entity, an index from each unique
//! field's value to the instance holding it, kept by every write, so a taken value
//! is a [`StoreError::Conflict`] naming the field, as a SQL store's unique index
//! makes it. `null` (an `Option` left empty) is never taken, as in SQL. An
//! instance past its idle TTL holds its values until the background sweep or its
//! next write removes it (up to about a TTL later), though reads no longer see
//! it: only session-scope entities expire, and they rarely have unique fields.
//!
//! Lock order: a writer holds its instance's slot lock and then an index's lock,
//! never the other way round, and nothing waits for a slot while holding an
//! index; so indexes cannot deadlock with writers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde_json::Value;

use super::guard::{lock, read, write};
use crate::store::StoreError;
use crate::{EntityId, EntityKey, Schema};

/// The unique indexes of every attached entity that has unique fields.
#[derive(Default)]
pub(super) struct UniqueIndexes {
    /// `false` until an entity with a unique field is attached: the write path
    /// of a store without any skips the lookup.
    any: AtomicBool,
    by_entity: RwLock<HashMap<Arc<str>, Arc<EntityIndex>>>,
}

/// A value another instance holds.
struct Taken {
    field: &'static str,
    /// As JSON text.
    value: String,
    holder: EntityId,
}

/// One entity's unique fields and the values taken.
pub(super) struct EntityIndex {
    fields: Vec<&'static str>,
    /// (field position, the value's JSON text) → the instance holding it.
    taken: Mutex<HashMap<(usize, String), EntityId>>,
}

impl UniqueIndexes {
    /// Starts indexing `schema`'s unique fields (nothing to do without any, or
    /// when indexed already), over the instances already held (a loaded
    /// snapshot). Two of them holding one value is a conflict naming both: the
    /// store cannot promise uniqueness from there.
    pub(super) fn attach<'a>(
        &self,
        schema: &Schema,
        existing: impl Iterator<Item = (&'a EntityId, &'a Value)>,
    ) -> Result<(), StoreError> {
        if read(&self.by_entity).contains_key(schema.name) {
            return Ok(());
        }
        let fields: Vec<&'static str> = schema
            .fields
            .iter()
            .filter(|f| f.unique && !f.id)
            .map(|f| f.name)
            .collect();
        if fields.is_empty() {
            return Ok(());
        }
        let index = EntityIndex {
            fields,
            taken: Mutex::new(HashMap::new()),
        };
        for (id, value) in existing {
            if let Err(taken) = index.try_replace(id, None, Some(value)) {
                return Err(StoreError::Conflict(format!(
                    "`{}` instances `{}` and `{id}` both hold {} {}: the field is unique, \
                     so one must change before the store can serve it",
                    schema.name, taken.holder, taken.field, taken.value
                )));
            }
        }
        write(&self.by_entity).insert(Arc::from(schema.name), Arc::new(index));
        self.any.store(true, Ordering::Release);
        Ok(())
    }

    /// The index of `entity`, if it has unique fields.
    pub(super) fn of(&self, entity: &str) -> Option<Arc<EntityIndex>> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        read(&self.by_entity).get(entity).cloned()
    }

    /// Frees the values of an instance that left the store (expired, evicted).
    pub(super) fn forget(&self, key: &EntityKey, value: &Value) {
        if let Some(index) = self.of(&key.entity) {
            index.release(&key.id, Some(value));
        }
    }
}

impl EntityIndex {
    /// Instance `id`, holding `old`, is gone: its values are free.
    pub(super) fn release(&self, id: &EntityId, old: Option<&Value>) {
        // Only a new value can conflict; with none, this cannot fail.
        let _ = self.replace(id, old, None);
    }

    /// Instance `id` goes from `old` to `new` (`None`: absent). A value of `new`
    /// held by another instance is a conflict, and then nothing changes.
    pub(super) fn replace(
        &self,
        id: &EntityId,
        old: Option<&Value>,
        new: Option<&Value>,
    ) -> Result<(), StoreError> {
        self.try_replace(id, old, new)
            .map_err(|taken| StoreError::Conflict(format!("{} is taken", taken.field)))
    }

    fn try_replace(
        &self,
        id: &EntityId,
        old: Option<&Value>,
        new: Option<&Value>,
    ) -> Result<(), Taken> {
        let mut taken = lock(&self.taken);
        let entries = |value: Option<&Value>| -> Vec<(usize, String)> {
            value.map_or_else(Vec::new, |v| {
                self.fields
                    .iter()
                    .enumerate()
                    .filter_map(|(i, f)| match v.get(f) {
                        None | Some(Value::Null) => None,
                        Some(x) => Some((i, x.to_string())),
                    })
                    .collect()
            })
        };
        let added = entries(new);
        for k in &added {
            if let Some(holder) = taken.get(k).filter(|holder| *holder != id) {
                return Err(Taken {
                    field: self.fields[k.0],
                    value: k.1.clone(),
                    holder: holder.clone(),
                });
            }
        }
        for k in entries(old) {
            if taken.get(&k) == Some(id) {
                taken.remove(&k);
            }
        }
        for k in added {
            taken.insert(k, id.clone());
        }
        Ok(())
    }
}
