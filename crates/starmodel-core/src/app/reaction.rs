//! Reactions: code that runs after a committed change of an entity (send a mail
//! when a note is created, update a search index), **at least once**, with an
//! idempotency key.
//!
//! Every store of an application with reactions is wrapped in [`Reacting`]: a
//! write of an entity that has reactions also writes one outbox entry per
//! reaction, in the same transaction. The entry is delivered right after the
//! commit (and, if that fails or the process stops first, at start-up and every
//! few seconds): the reaction runs with the instance's current state, and only
//! when it succeeds is the entry removed. A reaction can therefore run more than
//! once for one change (a crash after it ran, before the entry was removed): use
//! [`Reaction::key`] to do its work once.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::outbox::{self, Entry};
use crate::event::Call;
use crate::store::{ListQuery, Mutation, Page, UpdateFn, UpdateManyFn};
use crate::{Entity, EntityId, EntityKey, Record, Schema, Store, StoreError, UpdateOutcome};

/// The prefix of a reaction's outbox entries' event name.
pub(crate) const REACTION: &str = "reaction:";

/// One delivery of a reaction to a change of an `E`.
#[derive(Debug)]
pub struct Reaction<E> {
    /// The same for every delivery of this change to this reaction, different
    /// for every other: the key to do the work only once.
    pub key: String,
    /// The instance that changed.
    pub id: EntityId,
    /// Its state now (`None`: it was deleted). Later changes may show already:
    /// each of them brings its own delivery too.
    pub entity: Option<E>,
}

/// A reaction with its entity erased: given the entry id, the instance's key
/// and its current record.
pub type ReactionFn = Arc<
    dyn Fn(
            String,
            EntityKey,
            Option<Record>,
        ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>>
        + Send
        + Sync,
>;

/// Erases reaction `f` of entity `E`.
pub fn erase<E, F, Fut>(f: F) -> ReactionFn
where
    E: Entity,
    F: Fn(Reaction<E>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let f = Arc::new(f);
    Arc::new(move |key, instance: EntityKey, record: Option<Record>| {
        let entity = record
            .map(|r| serde_json::from_value::<E>(r.value))
            .transpose()
            .map_err(|e| format!("the stored `{}` does not decode: {e}", E::NAME));
        let f = f.clone();
        Box::pin(async move {
            f(Reaction {
                key,
                id: instance.id,
                entity: entity?,
            })
            .await
        })
    })
}

/// The reactions of an application, by entity name: each a name and its code.
pub type Reactions = HashMap<&'static str, Vec<(&'static str, ReactionFn)>>;

/// A store that writes, with every change of an entity that has reactions, one
/// outbox entry per reaction in the same transaction, and tells `fresh` of the
/// entries it committed (to deliver them at once).
pub struct Reacting {
    inner: Arc<dyn Store>,
    /// Reaction names by entity name.
    names: Arc<HashMap<&'static str, Vec<&'static str>>>,
    fresh: mpsc::UnboundedSender<(Arc<dyn Store>, Entry)>,
}

impl Reacting {
    /// Wraps `inner` for the reactions `names` (reaction names by entity).
    pub fn new(
        inner: Arc<dyn Store>,
        names: Arc<HashMap<&'static str, Vec<&'static str>>>,
        fresh: mpsc::UnboundedSender<(Arc<dyn Store>, Entry)>,
    ) -> Self {
        Self {
            inner,
            names,
            fresh,
        }
    }

    /// The entries one write of `keys` may need: (index of the key, entry).
    fn entries(&self, keys: &[EntityKey]) -> Vec<(usize, Entry)> {
        let mut out = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            for name in self.names.get(&*key.entity).into_iter().flatten() {
                let call = Call {
                    entity: key.entity.to_string(),
                    id: Some(key.id.to_string()),
                    event: format!("{REACTION}{name}"),
                    args: Vec::new(),
                };
                out.push((
                    i,
                    Entry::pending(crate::entity::new_uuid_v4(), call, key.to_string()),
                ));
            }
        }
        out
    }

    async fn write(
        &self,
        keys: &[EntityKey],
        f: &mut UpdateManyFn<'_>,
    ) -> Result<Vec<UpdateOutcome>, StoreError> {
        let entries = self.entries(keys);
        if entries.is_empty() {
            return self.inner.update_many(keys, f).await;
        }
        let mut all = keys.to_vec();
        all.extend(entries.iter().map(|(_, e)| outbox::key(&e.id)));
        let n = keys.len();
        let mut outcomes = self
            .inner
            .update_many(&all, &mut |current| {
                let mut mutations = f(&current[..n]);
                if mutations.is_empty() {
                    return mutations;
                }
                mutations.resize(n, Mutation::Keep);
                for (i, entry) in &entries {
                    mutations.push(match mutations[*i] {
                        Mutation::Keep => Mutation::Keep,
                        _ => Mutation::Put(entry.to_value()),
                    });
                }
                mutations
            })
            .await?;
        let written = outcomes.split_off(n);
        for ((_, entry), outcome) in entries.into_iter().zip(written) {
            if matches!(outcome, UpdateOutcome::Written(_)) {
                // Nobody listening (shutting down): the next start delivers it.
                let _ = self.fresh.send((self.inner.clone(), entry));
            }
        }
        Ok(outcomes)
    }
}

#[async_trait]
impl Store for Reacting {
    fn identity(&self) -> usize {
        self.inner.identity()
    }
    fn attach(&self, schema: &'static Schema) -> Result<(), StoreError> {
        self.inner.attach(schema)
    }
    async fn prepare(&self) -> Result<(), StoreError> {
        self.inner.prepare().await
    }
    async fn load(&self, key: &EntityKey) -> Result<Option<Record>, StoreError> {
        self.inner.load(key).await
    }
    async fn update(
        &self,
        key: &EntityKey,
        f: &mut UpdateFn<'_>,
    ) -> Result<UpdateOutcome, StoreError> {
        if !self.names.contains_key(&*key.entity) {
            return self.inner.update(key, f).await;
        }
        let mut outcomes = self
            .write(std::slice::from_ref(key), &mut |current| {
                vec![f(current[0])]
            })
            .await?;
        Ok(outcomes.swap_remove(0))
    }
    async fn update_many(
        &self,
        keys: &[EntityKey],
        f: &mut UpdateManyFn<'_>,
    ) -> Result<Vec<UpdateOutcome>, StoreError> {
        self.write(keys, f).await
    }
    async fn list(&self, entity: &str) -> Result<Vec<(EntityId, Record)>, StoreError> {
        self.inner.list(entity).await
    }
    async fn query(&self, entity: &str, query: &ListQuery) -> Result<Page, StoreError> {
        self.inner.query(entity, query).await
    }
    /// Copies are not changes: no reaction runs for them.
    async fn import(&self, key: &EntityKey, record: &Record) -> Result<(), StoreError> {
        self.inner.import(key, record).await
    }
    async fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush().await
    }
}
