//! [`SqlStore`]: entity state in typed SQL tables.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use async_trait::async_trait;
use starmodel_core::store::query::cursor_at;
use starmodel_core::store::{UpdateFn, UpdateManyFn};
use starmodel_core::{
    EntityId, EntityKey, ListQuery, Mutation, Page, Record, Schema, Store, StoreError,
    UpdateOutcome,
};

use crate::backend::SqlPool;
use crate::dialect::Dialect;
use crate::migrate::{self, MigrateConfig, Migrator};
use crate::query;
use crate::table::TableInfo;

/// The URL [`SqlStore::from_env`] uses when `DATABASE_URL` is not set.
pub const DEFAULT_URL: &str = "sqlite://starmodel.db";

/// Keeps entity state in SQL tables: one table per entity, one typed column per
/// field (see [`column_type`](crate::column_type)), a version column.
///
/// - **Atomic updates**: on PostgreSQL and MySQL an update is one transaction that
///   locks the row while the event runs; on SQLite a single writer connection runs
///   them one at a time and each write checks the row's version, so several
///   processes can share one database file.
/// - **Conflicts, not errors**: a unique value taken is
///   [`StoreError::Conflict`] naming the field (409); an unreachable database is
///   [`StoreError::Unavailable`] (503).
/// - **Queries in the database**: [`Store::query`] is one `SELECT` with the
///   filters, sort and page pushed down.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use starmodel_core::{EntityKey, Mutation, Store};
/// use starmodel_core::entity::{Field, FieldType, Schema};
/// use starmodel_sql::SqlStore;
///
/// static FIELDS: [Field; 1] = [Field::new("count", "i64", FieldType::Integer)];
/// static COUNTER: Schema = Schema::new("counter", &FIELDS);
///
/// let store = SqlStore::connect("sqlite::memory:").await.unwrap();
/// store.attach(&COUNTER).unwrap();
/// store.prepare().await.unwrap();
/// let key = EntityKey::new("counter", "global");
/// store.update(&key, &mut |_| Mutation::Put(serde_json::json!({"count": 1}))).await.unwrap();
/// let record = store.load(&key).await.unwrap().unwrap();
/// assert_eq!((record.version, record.value["count"].as_i64()), (1, Some(1)));
/// # });
/// ```
#[derive(Clone)]
pub struct SqlStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: SqlPool,
    dialect: Dialect,
    tables: RwLock<HashMap<&'static str, Arc<TableInfo>>>,
    migrate: Mutex<MigrateConfig>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("dialect", &self.inner.dialect)
            .field("entities", &self.schemas().len())
            .finish_non_exhaustive()
    }
}

impl SqlStore {
    /// Connects to the database at `url`: `sqlite://app.db` (created if missing;
    /// WAL mode, `synchronous=NORMAL`), `sqlite::memory:`, `postgres://…` or
    /// `mysql://…`. Each needs its cargo feature (`sqlite` is on by default).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = SqlPool::connect(url).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                dialect: pool.dialect(),
                pool,
                tables: RwLock::new(HashMap::new()),
                migrate: Mutex::default(),
            }),
        })
    }

    /// Connects to `DATABASE_URL`, or to [`DEFAULT_URL`] (a SQLite file in the
    /// working directory) when it is not set.
    pub async fn from_env() -> Result<Self, StoreError> {
        let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        Self::connect(&url).await
    }

    /// The dialect of the database.
    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
    }

    /// The connections, to run your own SQL (migrations do).
    pub fn pool(&self) -> &SqlPool {
        &self.inner.pool
    }

    /// The schemas attached so far, by entity name.
    pub fn schemas(&self) -> Vec<&'static Schema> {
        let tables = self
            .inner
            .tables
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut schemas: Vec<_> = tables.values().map(|t| t.schema).collect();
        schemas.sort_by_key(|s| s.name);
        schemas
    }

    /// Closes the connections (the store is unusable afterwards).
    pub async fn close(&self) {
        self.inner.pool.close().await;
    }

    fn table(&self, entity: &str) -> Result<Arc<TableInfo>, StoreError> {
        self.inner
            .tables
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(entity)
            .cloned()
            .ok_or_else(|| {
                StoreError::Unavailable(format!(
                    "entity `{entity}` is not attached to this SQL store"
                ))
            })
    }
}

/// Gets the database ready for the attached entities: migrates as
/// [`SqlStore::migrate_on_start`] says (by default, adds what is missing and refuses
/// to lose data).
async fn prepare(store: &SqlStore) -> Result<(), StoreError> {
    let config = store.migrate_config();
    Ok(Migrator::new(store).on_start(&config).await?)
}

#[async_trait]
impl Store for SqlStore {
    fn identity(&self) -> usize {
        Arc::as_ptr(&self.inner).cast::<()>() as usize
    }

    fn attach(&self, schema: &'static Schema) -> Result<(), StoreError> {
        let table = Arc::new(TableInfo::new(schema, self.inner.dialect));
        self.inner
            .tables
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(schema.name, table);
        Ok(())
    }

    async fn prepare(&self) -> Result<(), StoreError> {
        prepare(self).await
    }

    async fn load(&self, key: &EntityKey) -> Result<Option<Record>, StoreError> {
        let table = self.table(&key.entity)?;
        if unholdable_key(&table, key).is_some() {
            return Ok(None);
        }
        self.inner.pool.load(&table, key).await
    }

    async fn update(
        &self,
        key: &EntityKey,
        f: &mut UpdateFn<'_>,
    ) -> Result<UpdateOutcome, StoreError> {
        let table = self.table(&key.entity)?;
        if let Some(e) = unholdable_key(&table, key) {
            return match f(None) {
                Mutation::Put(_) => Err(e),
                Mutation::Delete => Ok(UpdateOutcome::Deleted),
                Mutation::Keep => Ok(UpdateOutcome::Unchanged(None)),
            };
        }
        self.inner.pool.update(&table, key, f).await
    }

    async fn update_many(
        &self,
        keys: &[EntityKey],
        f: &mut UpdateManyFn<'_>,
    ) -> Result<Vec<UpdateOutcome>, StoreError> {
        let tables = keys
            .iter()
            .map(|k| self.table(&k.entity))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(e) = keys
            .iter()
            .zip(&tables)
            .find_map(|(k, t)| unholdable_key(t, k))
        {
            return Err(e);
        }
        let tables: Vec<&TableInfo> = tables.iter().map(|t| &**t).collect();
        self.inner.pool.update_many(&tables, keys, f).await
    }

    async fn list(&self, entity: &str) -> Result<Vec<(EntityId, Record)>, StoreError> {
        let table = self.table(entity)?;
        self.inner.pool.list(&table).await
    }

    async fn query(&self, entity: &str, query: &ListQuery) -> Result<Page, StoreError> {
        let table = self.table(entity)?;
        let select = query::select(&table, query)?;
        let (start, limit) = (select.start, select.limit);
        let mut items = self.inner.pool.select(&table, select).await?;
        let next = match limit {
            Some(limit) if items.len() > limit => {
                items.truncate(limit);
                Some(cursor_at(start + limit))
            }
            _ => None,
        };
        Ok(Page { items, next })
    }

    async fn import(&self, key: &EntityKey, record: &Record) -> Result<(), StoreError> {
        let table = self.table(&key.entity)?;
        self.inner.pool.import(&table, key, record).await
    }
}

/// Why `key`'s id cannot be a key of `table` (U+0000 on PostgreSQL): no row has
/// it, so reads find nothing and only a write fails.
fn unholdable_key(table: &TableInfo, key: &EntityKey) -> Option<StoreError> {
    match table.key_value(key.id.as_str()) {
        Err(e @ StoreError::Invalid { .. }) => Some(e),
        _ => None,
    }
}

/// Migration settings, chosen before the store is handed to the application.
impl SqlStore {
    /// Keep migration files in `dir` (as `<dir>/<dialect>/<NNNN>_<slug>.sql`):
    /// on start, pending files are applied and new steps are written there before
    /// they run, so they can be reviewed and committed. Without a directory,
    /// [`MigrateOnStart::Auto`](migrate::MigrateOnStart::Auto) applies its plan directly (still recorded in the
    /// history table) and [`MigrateOnStart::ApplyFiles`](migrate::MigrateOnStart::ApplyFiles) reads
    /// [`Migrator::DEFAULT_DIR`].
    pub fn migrations_dir(self, dir: impl Into<PathBuf>) -> Self {
        self.update_migrate_config(|c| c.dir = Some(dir.into()));
        self
    }

    /// What `prepare` does about migrations; [`MigrateOnStart::Auto`](migrate::MigrateOnStart::Auto) unless told.
    pub fn migrate_on_start(self, mode: migrate::MigrateOnStart) -> Self {
        self.update_migrate_config(|c| c.mode = mode);
        self
    }

    /// Whether start-up migrations may change column types or nullability and drop
    /// columns (`false` unless told: start-up fails listing those steps instead).
    pub fn allow_destructive(self, allow: bool) -> Self {
        self.update_migrate_config(|c| c.allow_destructive = allow);
        self
    }

    fn migrate_config(&self) -> MigrateConfig {
        self.inner
            .migrate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn update_migrate_config(&self, f: impl FnOnce(&mut MigrateConfig)) {
        f(&mut self
            .inner
            .migrate
            .lock()
            .unwrap_or_else(PoisonError::into_inner));
    }
}

/// The store hands the migrator its connections and attached schemas.
impl migrate::Source for SqlStore {
    fn pool(&self) -> &SqlPool {
        SqlStore::pool(self)
    }

    fn schemas(&self) -> Vec<&'static Schema> {
        SqlStore::schemas(self)
    }
}

impl Migrator {
    /// A migrator for `store`'s attached entities; destructive steps are allowed
    /// when the store allows them.
    pub fn new(store: &SqlStore) -> Self {
        Migrator::from_source(
            Arc::new(store.clone()),
            store.migrate_config().allow_destructive,
        )
    }
}
