//! A store for testing what copies data: [`HookedImports`] passes every import
//! through a hook that may change the record or fail, such as an
//! [`ImportBudget`] that fails imports once enough of them succeeded (a
//! connection lost in the middle of a copy).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use starmodel_core::store::testing::{HookedImports, ImportBudget};
//! use starmodel_core::{EntityId, EntityKey, MemoryStore, Record, Store};
//!
//! let budget = ImportBudget::new(1);
//! let store = HookedImports::new(MemoryStore::new(), budget.hook("connection lost"));
//! let key = |id: &str| EntityKey::new("note", EntityId::new(id));
//! let record = Record { version: 1, value: serde_json::json!({}) };
//! assert!(store.import(&key("a"), &record).await.is_ok());
//! assert!(store.import(&key("b"), &record).await.is_err());
//! budget.set(usize::MAX);
//! assert!(store.import(&key("b"), &record).await.is_ok());
//! # });
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::{ListQuery, Page, Store, StoreError, UpdateFn, UpdateManyFn, UpdateOutcome};
use crate::entity::Schema;
use crate::{EntityId, EntityKey, Record};

/// Wraps `S`; every import passes through `hook` first, which returns the record
/// to write or the error to fail with. Every other call goes to `S` unchanged.
#[derive(Debug, Clone)]
pub struct HookedImports<S, F> {
    inner: S,
    hook: F,
}

impl<S, F> HookedImports<S, F> {
    /// `inner` with its imports passed through `hook`.
    pub fn new(inner: S, hook: F) -> Self {
        Self { inner, hook }
    }
}

#[async_trait]
impl<S, F> Store for HookedImports<S, F>
where
    S: Store,
    F: Fn(&Record) -> Result<Record, StoreError> + Send + Sync + 'static,
{
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
        self.inner.update(key, f).await
    }

    async fn update_many(
        &self,
        keys: &[EntityKey],
        f: &mut UpdateManyFn<'_>,
    ) -> Result<Vec<UpdateOutcome>, StoreError> {
        self.inner.update_many(keys, f).await
    }

    fn identity(&self) -> usize {
        self.inner.identity()
    }

    async fn list(&self, entity: &str) -> Result<Vec<(EntityId, Record)>, StoreError> {
        self.inner.list(entity).await
    }

    async fn query(&self, entity: &str, query: &ListQuery) -> Result<Page, StoreError> {
        self.inner.query(entity, query).await
    }

    async fn import(&self, key: &EntityKey, record: &Record) -> Result<(), StoreError> {
        let record = (self.hook)(record)?;
        self.inner.import(key, &record).await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush().await
    }
}

/// How many more imports may succeed; shared by its clones and its hooks.
#[derive(Debug, Clone)]
pub struct ImportBudget(Arc<AtomicUsize>);

impl ImportBudget {
    /// A budget of `left` imports.
    pub fn new(left: usize) -> Self {
        Self(Arc::new(AtomicUsize::new(left)))
    }

    /// Sets how many more imports may succeed (`usize::MAX`: as good as all).
    pub fn set(&self, left: usize) {
        self.0.store(left, Ordering::SeqCst);
    }

    /// A hook for [`HookedImports`]: passes the record on while the budget lasts
    /// (taking one from it), then fails with [`StoreError::Unavailable`]`(message)`.
    pub fn hook(
        &self,
        message: &'static str,
    ) -> impl Fn(&Record) -> Result<Record, StoreError> + Send + Sync + 'static {
        let left = Arc::clone(&self.0);
        move |record| {
            left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1))
                .map(|_| record.clone())
                .map_err(|_| StoreError::Unavailable(message.into()))
        }
    }
}
