//! The in-process store: a map of instances behind per-instance locks, with an
//! idle TTL, a capacity bound and an optional snapshot file so a restart loses
//! nothing.

mod guard;
mod snapshot;
mod unique;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;

use super::{Mutation, Record, Store, StoreError, UpdateFn, UpdateManyFn, UpdateOutcome};
use crate::{EntityId, EntityKey, Schema};
use guard::{lock, read, write};

/// Keeps entity state in memory.
///
/// - **Serialized writes**: [`update`](Store::update) holds the instance's own lock
///   while the event runs, so concurrent events on one instance never lose an
///   update, and events on different instances never wait for each other.
/// - **Unique fields**: a value of an `#[entity(unique)]` field that another
///   instance holds is refused with [`StoreError::Conflict`], as on SQL stores.
/// - **Idle TTL**: an instance nobody read or wrote for `ttl` is gone.
/// - **Capacity**: past `capacity` instances the least recently used are evicted.
/// - **Snapshot file**: loaded when the store is built, written every
///   `snapshot_interval` when something changed and on [`flush`](Store::flush)
///   (which the server calls on graceful shutdown).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use starmodel_core::MemoryStore;
/// let store = MemoryStore::builder()
///     .ttl(Duration::from_secs(3600))
///     .capacity(100_000)
///     .build()
///     .unwrap();
/// # });
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    slots: RwLock<HashMap<EntityKey, Arc<Slot>>>,
    ttl: Option<Duration>,
    capacity: Option<usize>,
    snapshot: Option<(PathBuf, Duration)>,
    epoch: Instant,
    /// Bumped by every write; compared with `saved` to skip idle snapshots.
    generation: AtomicU64,
    saved: AtomicU64,
    background: AtomicBool,
    snapshot_lock: tokio::sync::Mutex<()>,
    /// Entities whose instances never expire nor get evicted.
    pinned: RwLock<Vec<Arc<str>>>,
    /// The highest version ever written: an instance created again after it
    /// expired, was evicted or deleted continues above it, so versions never go
    /// back and viewers holding an old version still take the new state.
    max_version: AtomicU64,
    unique: unique::UniqueIndexes,
}

struct Slot {
    state: Mutex<SlotState>,
    last_access_ms: AtomicU64,
    /// Exempt from TTL and eviction (its entity is [pinned](MemoryStore::pin)).
    pinned: AtomicBool,
}

struct SlotState {
    record: Option<Record>,
    /// Set when the slot left the map; a writer that finds it set starts over.
    removed: bool,
}

/// Configures a [`MemoryStore`].
#[derive(Debug, Default, Clone)]
pub struct MemoryStoreBuilder {
    ttl: Option<Duration>,
    capacity: Option<usize>,
    snapshot: Option<PathBuf>,
    snapshot_interval: Option<Duration>,
}

impl MemoryStoreBuilder {
    /// Forget instances idle for this long (default: never).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Keep at most this many instances, evicting the least recently used.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = Some(capacity.max(1));
        self
    }

    /// Load state from this file now and save it there periodically.
    pub fn snapshot(mut self, path: impl Into<PathBuf>) -> Self {
        self.snapshot = Some(path.into());
        self
    }

    /// How often a changed store is saved to its snapshot (default 5 s).
    pub fn snapshot_interval(mut self, every: Duration) -> Self {
        self.snapshot_interval = Some(every.max(Duration::from_millis(10)));
        self
    }

    /// Builds the store, loading the snapshot file if there is one. Inside a Tokio
    /// runtime this also starts the background task (expiry sweep, snapshots).
    ///
    /// A snapshot that exists but does not parse is an error: starting empty would
    /// overwrite it and lose its data.
    pub fn build(self) -> Result<MemoryStore, StoreError> {
        let interval = self.snapshot_interval.unwrap_or(Duration::from_secs(5));
        let store = MemoryStore {
            inner: Arc::new(Inner {
                slots: RwLock::new(HashMap::new()),
                ttl: self.ttl,
                capacity: self.capacity,
                snapshot: self.snapshot.clone().map(|p| (p, interval)),
                epoch: Instant::now(),
                generation: AtomicU64::new(0),
                saved: AtomicU64::new(0),
                background: AtomicBool::new(false),
                snapshot_lock: tokio::sync::Mutex::new(()),
                pinned: RwLock::new(Vec::new()),
                max_version: AtomicU64::new(0),
                unique: unique::UniqueIndexes::default(),
            }),
        };
        if let Some(path) = &self.snapshot {
            let records = snapshot::read(path)?;
            let now = store.inner.now_ms();
            let mut slots = write(&store.inner.slots);
            for (key, record) in records {
                store
                    .inner
                    .max_version
                    .fetch_max(record.version, Ordering::Relaxed);
                slots.insert(key, Arc::new(Slot::new(Some(record), now, false)));
            }
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            store.start_background();
        }
        Ok(store)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("len", &self.len())
            .field("ttl", &self.inner.ttl)
            .field("capacity", &self.inner.capacity)
            .finish()
    }
}

impl Slot {
    fn new(record: Option<Record>, now_ms: u64, pinned: bool) -> Self {
        Slot {
            state: Mutex::new(SlotState {
                record,
                removed: false,
            }),
            last_access_ms: AtomicU64::new(now_ms),
            pinned: AtomicBool::new(pinned),
        }
    }

    fn pinned(&self) -> bool {
        self.pinned.load(Ordering::Relaxed)
    }
}

impl Inner {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn expired(&self, slot: &Slot, now_ms: u64) -> bool {
        !slot.pinned()
            && self.ttl.is_some_and(|ttl| {
                let idle = now_ms.saturating_sub(slot.last_access_ms.load(Ordering::Relaxed));
                u128::from(idle) > ttl.as_millis()
            })
    }

    /// The slot for `key`, created (making room if needed) when absent.
    fn slot(&self, key: &EntityKey) -> Result<Arc<Slot>, StoreError> {
        if let Some(slot) = read(&self.slots).get(key) {
            return Ok(slot.clone());
        }
        let mut slots = write(&self.slots);
        if let Some(slot) = slots.get(key) {
            return Ok(slot.clone());
        }
        if let Some(capacity) = self.capacity {
            if slots.len() >= capacity {
                self.evict(&mut slots, capacity);
            }
            if slots.len() >= capacity {
                return Err(StoreError::Full { capacity });
            }
        }
        let pinned = read(&self.pinned).contains(&key.entity);
        let slot = Arc::new(Slot::new(None, self.now_ms(), pinned));
        slots.insert(key.clone(), slot.clone());
        Ok(slot)
    }

    /// Drops expired and empty slots, then the least recently used ones until a
    /// sixteenth of the capacity is free (so eviction is not paid on every insert).
    fn evict(&self, slots: &mut HashMap<EntityKey, Arc<Slot>>, capacity: usize) {
        self.sweep_locked(slots);
        let target = capacity - (capacity / 16).max(1);
        if slots.len() <= target {
            return;
        }
        let mut by_age: Vec<(u64, EntityKey)> = slots
            .iter()
            .filter(|(_, s)| !s.pinned())
            .map(|(k, s)| (s.last_access_ms.load(Ordering::Relaxed), k.clone()))
            .collect();
        let excess = slots.len() - target;
        // Only the oldest `excess` need ordering (plus a margin for busy slots):
        // a linear selection, not a sort of every key under the write lock.
        let wanted = (excess + excess / 4 + 1).min(by_age.len());
        if wanted < by_age.len() {
            by_age.select_nth_unstable_by_key(wanted, |(t, _)| *t);
            by_age.truncate(wanted);
        }
        by_age.sort_unstable_by_key(|(t, _)| *t);
        let mut evicted = 0;
        for (_, key) in by_age {
            if evicted == excess {
                break;
            }
            let Some(slot) = slots.get(&key).cloned() else {
                continue;
            };
            if let Ok(mut state) = slot.state.try_lock() {
                state.removed = true;
                if let Some(record) = &state.record {
                    self.unique.forget(&key, &record.value);
                }
                slots.remove(&key);
                evicted += 1;
            }
        }
        if evicted > 0 {
            self.generation.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn sweep_locked(&self, slots: &mut HashMap<EntityKey, Arc<Slot>>) {
        let now = self.now_ms();
        slots.retain(|key, slot| match slot.state.try_lock() {
            Ok(mut state) if state.record.is_none() || self.expired(slot, now) => {
                state.removed = true;
                if let Some(record) = &state.record {
                    self.unique.forget(key, &record.value);
                }
                false
            }
            _ => true,
        });
    }

    /// Takes `slot` (which its writer marked removed) out of the map, unless
    /// another slot took its place already.
    fn remove_slot(&self, key: &EntityKey, slot: &Arc<Slot>) {
        let mut slots = write(&self.slots);
        if slots.get(key).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            slots.remove(key);
        }
    }

    /// A writer takes `slot`: an expired record is gone, and the slot was used now.
    fn touch(
        &self,
        slot: &Slot,
        state: &mut SlotState,
        unique: Option<&unique::EntityIndex>,
        key: &EntityKey,
    ) {
        let now = self.now_ms();
        if self.expired(slot, now) {
            if let Some(index) = unique {
                index.release(&key.id, state.record.as_ref().map(|r| &r.value));
            }
            state.record = None;
        }
        slot.last_access_ms.store(now, Ordering::Relaxed);
    }

    /// Applies `mutation` to the locked `state`, keeping `unique` (when given) in
    /// step.
    fn apply(
        &self,
        key: &EntityKey,
        state: &mut SlotState,
        unique: Option<&unique::EntityIndex>,
        mutation: Mutation,
    ) -> Result<UpdateOutcome, StoreError> {
        let outcome = match mutation {
            Mutation::Keep => return Ok(UpdateOutcome::Unchanged(state.record.clone())),
            Mutation::Delete => {
                if let Some(index) = unique {
                    index.release(&key.id, state.record.as_ref().map(|r| &r.value));
                }
                state.record = None;
                UpdateOutcome::Deleted
            }
            Mutation::Put(value) => {
                if let Some(index) = unique {
                    index.replace(
                        &key.id,
                        state.record.as_ref().map(|r| &r.value),
                        Some(&value),
                    )?;
                }
                let version = match &state.record {
                    Some(r) => r.version + 1,
                    None => self.max_version.load(Ordering::Relaxed) + 1,
                };
                self.max_version.fetch_max(version, Ordering::Relaxed);
                let record = Record { version, value };
                state.record = Some(record.clone());
                UpdateOutcome::Written(record)
            }
        };
        self.generation.fetch_add(1, Ordering::Relaxed);
        Ok(outcome)
    }

    /// A writer is done with `slot`. With nothing left in it (a failed first event,
    /// a delete, a taken unique value) the slot leaves the map; writers queued on it
    /// see `removed` and retry.
    fn leave(
        &self,
        key: &EntityKey,
        slot: &Arc<Slot>,
        mut state: std::sync::MutexGuard<'_, SlotState>,
    ) {
        if state.record.is_none() {
            state.removed = true;
            drop(state);
            self.remove_slot(key, slot);
        }
    }

    fn records(&self) -> Vec<(EntityKey, Record)> {
        let now = self.now_ms();
        let slots = read(&self.slots);
        let mut out: Vec<(EntityKey, Record)> = slots
            .iter()
            .filter(|(_, slot)| !self.expired(slot, now))
            .filter_map(|(k, slot)| lock(&slot.state).record.clone().map(|r| (k.clone(), r)))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl MemoryStore {
    /// An unbounded store without TTL or snapshot.
    pub fn new() -> Self {
        Self::builder()
            .build()
            .expect("a store without snapshot cannot fail to build")
    }

    /// Configures a store.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    /// How many instances are held (expired ones included until swept).
    pub fn len(&self) -> usize {
        read(&self.inner.slots).len()
    }

    /// `true` when no instance is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Exempts every instance of `entity` from the TTL and from eviction: shared
    /// state such as a global entity must not vanish because nobody touched it.
    /// The application builder pins its global-scope entities.
    pub fn pin(&self, entity: &str) {
        let mut pinned = write(&self.inner.pinned);
        if pinned.iter().any(|e| &**e == entity) {
            return;
        }
        pinned.push(Arc::from(entity));
        drop(pinned);
        for (key, slot) in read(&self.inner.slots).iter() {
            if &*key.entity == entity {
                slot.pinned.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Removes expired and deleted instances now (the background task does this
    /// periodically).
    pub fn sweep(&self) {
        self.inner.sweep_locked(&mut write(&self.inner.slots));
    }

    /// Starts the background task (expiry sweep and periodic snapshots) on the
    /// current Tokio runtime; does nothing if it runs already. The task ends when
    /// the last handle to the store is dropped.
    pub fn start_background(&self) {
        if self.inner.background.swap(true, Ordering::SeqCst) {
            return;
        }
        let sweep_every = self.inner.ttl.map_or(Duration::from_secs(60), |t| {
            (t / 2).min(Duration::from_secs(60))
        });
        let tick = self
            .inner
            .snapshot
            .as_ref()
            .map_or(sweep_every, |(_, every)| (*every).min(sweep_every))
            .max(Duration::from_millis(10));
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval.tick().await;
            let mut last_sweep = Instant::now();
            loop {
                interval.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let store = MemoryStore { inner };
                if store.inner.ttl.is_some() && last_sweep.elapsed() >= sweep_every {
                    store.sweep();
                    last_sweep = Instant::now();
                }
                if let Err(e) = store.save_snapshot().await {
                    tracing::error!(error = %e, "memory store snapshot failed");
                }
            }
        });
    }

    /// Writes the snapshot file now if anything changed since the last write.
    /// Does nothing for a store without a snapshot file.
    pub async fn save_snapshot(&self) -> Result<(), StoreError> {
        let Some((path, _)) = &self.inner.snapshot else {
            return Ok(());
        };
        let _one_writer = self.inner.snapshot_lock.lock().await;
        let generation = self.inner.generation.load(Ordering::SeqCst);
        if generation == self.inner.saved.load(Ordering::SeqCst) {
            return Ok(());
        }
        let (inner, path) = (self.inner.clone(), path.clone());
        // Collecting holds the map's read lock: off the async workers, like the write.
        tokio::task::spawn_blocking(move || snapshot::write(&path, &inner.records()))
            .await
            .map_err(|e| StoreError::Unavailable(format!("snapshot task failed: {e}")))??;
        self.inner.saved.store(generation, Ordering::SeqCst);
        Ok(())
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn identity(&self) -> usize {
        Arc::as_ptr(&self.inner).cast::<()>() as usize
    }

    /// Indexes the entity's unique fields, if it has any, over every instance
    /// held (a snapshot's, expired-looking ones too: pinning may revive them);
    /// two holding one value make this a conflict.
    fn attach(&self, schema: &'static Schema) -> Result<(), StoreError> {
        let mut held: Vec<(EntityId, Value)> = read(&self.inner.slots)
            .iter()
            .filter(|(k, _)| &*k.entity == schema.name)
            .filter_map(|(k, slot)| {
                let record = lock(&slot.state).record.clone()?;
                Some((k.id.clone(), record.value))
            })
            .collect();
        held.sort_by(|a, b| a.0.cmp(&b.0));
        self.inner
            .unique
            .attach(schema, held.iter().map(|(id, value)| (id, value)))
    }

    async fn load(&self, key: &EntityKey) -> Result<Option<Record>, StoreError> {
        let Some(slot) = read(&self.inner.slots).get(key).cloned() else {
            return Ok(None);
        };
        let now = self.inner.now_ms();
        if self.inner.expired(&slot, now) {
            return Ok(None);
        }
        slot.last_access_ms.store(now, Ordering::Relaxed);
        Ok(lock(&slot.state).record.clone())
    }

    async fn update(
        &self,
        key: &EntityKey,
        f: &mut UpdateFn<'_>,
    ) -> Result<UpdateOutcome, StoreError> {
        let unique = self.inner.unique.of(&key.entity);
        loop {
            let slot = self.inner.slot(key)?;
            let mut state = lock(&slot.state);
            if state.removed {
                continue;
            }
            self.inner.touch(&slot, &mut state, unique.as_deref(), key);
            let mutation = f(state.record.as_ref());
            let outcome = self
                .inner
                .apply(key, &mut state, unique.as_deref(), mutation);
            self.inner.leave(key, &slot, state);
            return outcome;
        }
    }

    /// Locks the instances in key order (so two units of work over the same keys
    /// cannot deadlock), runs `f`, then applies every mutation or, when one breaks
    /// a unique field, none.
    async fn update_many(
        &self,
        keys: &[EntityKey],
        f: &mut UpdateManyFn<'_>,
    ) -> Result<Vec<UpdateOutcome>, StoreError> {
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by(|a, b| keys[*a].cmp(&keys[*b]));
        let uniques: Vec<_> = keys
            .iter()
            .map(|k| self.inner.unique.of(&k.entity))
            .collect();
        'retry: loop {
            let slots = keys
                .iter()
                .map(|k| self.inner.slot(k))
                .collect::<Result<Vec<_>, _>>()?;
            let mut guards: Vec<Option<std::sync::MutexGuard<'_, SlotState>>> =
                (0..keys.len()).map(|_| None).collect();
            for &i in &order {
                let state = lock(&slots[i].state);
                if state.removed {
                    continue 'retry;
                }
                guards[i] = Some(state);
            }
            let mut states: Vec<_> = guards.into_iter().flatten().collect();
            for (i, state) in states.iter_mut().enumerate() {
                self.inner
                    .touch(&slots[i], state, uniques[i].as_deref(), &keys[i]);
            }
            let current: Vec<Option<&Record>> = states.iter().map(|s| s.record.as_ref()).collect();
            let mut mutations = f(&current);
            mutations.resize(keys.len(), Mutation::Keep);
            let old: Vec<Option<Value>> = states
                .iter()
                .map(|s| s.record.as_ref().map(|r| r.value.clone()))
                .collect();
            // Claim unique values first, all or none.
            let mut claimed: Vec<usize> = Vec::new();
            let mut conflict = None;
            for (i, mutation) in mutations.iter().enumerate() {
                let Some(index) = &uniques[i] else { continue };
                let new = match mutation {
                    Mutation::Keep => continue,
                    Mutation::Delete => None,
                    Mutation::Put(v) => Some(v),
                };
                match index.replace(&keys[i].id, old[i].as_ref(), new) {
                    Ok(()) => claimed.push(i),
                    Err(e) => {
                        conflict = Some(e);
                        break;
                    }
                }
            }
            if let Some(e) = conflict {
                for i in claimed {
                    if let Some(index) = &uniques[i] {
                        let new = match &mutations[i] {
                            Mutation::Put(v) => Some(v),
                            _ => None,
                        };
                        let _ = index.replace(&keys[i].id, new, old[i].as_ref());
                    }
                }
                for (i, state) in states.into_iter().enumerate() {
                    self.inner.leave(&keys[i], &slots[i], state);
                }
                return Err(e);
            }
            let mut outcomes = Vec::with_capacity(keys.len());
            for (i, (mut state, mutation)) in states.into_iter().zip(mutations).enumerate() {
                // Unique values are claimed already: apply without the index.
                let outcome = self.inner.apply(&keys[i], &mut state, None, mutation)?;
                self.inner.leave(&keys[i], &slots[i], state);
                outcomes.push(outcome);
            }
            return Ok(outcomes);
        }
    }

    async fn list(&self, entity: &str) -> Result<Vec<(EntityId, Record)>, StoreError> {
        Ok(self
            .inner
            .records()
            .into_iter()
            .filter(|(k, _)| &*k.entity == entity)
            .map(|(k, r)| (k.id, r))
            .collect())
    }

    async fn import(&self, key: &EntityKey, record: &Record) -> Result<(), StoreError> {
        loop {
            let slot = self.inner.slot(key)?;
            let mut state = lock(&slot.state);
            if state.removed {
                continue;
            }
            slot.last_access_ms
                .store(self.inner.now_ms(), Ordering::Relaxed);
            if let Some(index) = self.inner.unique.of(&key.entity) {
                let old = state.record.as_ref().map(|r| &r.value);
                if let Err(e) = index.replace(&key.id, old, Some(&record.value)) {
                    if state.record.is_none() {
                        // Leave no empty slot behind (as `update` does).
                        state.removed = true;
                        drop(state);
                        self.inner.remove_slot(key, &slot);
                    }
                    return Err(e);
                }
            }
            self.inner
                .max_version
                .fetch_max(record.version, Ordering::Relaxed);
            state.record = Some(record.clone());
            self.inner.generation.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.save_snapshot().await
    }
}

#[cfg(test)]
mod tests;
