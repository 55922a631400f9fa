//! Migrations: plain SQL files generated from the difference between the attached
//! entities and the live database, applied in order and recorded in the
//! `_starmodel_migrations` table.
//!
//! - **Plan**: [`Migrator::plan`] reads the tables of the attached entities from the
//!   database's catalog and lists the [`Step`]s that bring them in line: missing
//!   tables, columns and indexes are added; a field declared
//!   `#[entity(renamed_from = "old")]` renames its column and keeps its data.
//! - **Never destructive by surprise**: changing a column's type or nullability and
//!   dropping a column can lose data, so a plan holding such a step is refused with
//!   the list of those steps unless [`Migrator::allow_destructive`] (or
//!   [`SqlStore::allow_destructive`](crate::SqlStore::allow_destructive)) says otherwise. SQLite, which cannot alter a
//!   column in place, rebuilds the table and copies every row across.
//! - **Files**: [`Migrator::generate`] writes the plan to
//!   `<dir>/<dialect>/<NNNN>_<slug>.sql` (a header saying what it does, then one
//!   statement per `;`); [`Migrator::apply`] runs every file not yet recorded, in
//!   name order, each in one transaction on PostgreSQL; on SQLite the whole run
//!   is one transaction, so a failing file leaves nothing of the run applied
//!   (MySQL commits schema changes at once, so a failing file leaves the
//!   statements before the failure applied). A recorded file whose text changed
//!   is refused. Running either again with nothing new does nothing.
//! - **On start**: [`SqlStore`](crate::SqlStore)'s `prepare` migrates as [`MigrateOnStart`] says;
//!   by default ([`Auto`](MigrateOnStart::Auto)) it applies pending files, then
//!   plans, writes and applies what is still missing, and fails start-up on a
//!   destructive plan.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use starmodel_core::Store;
//! use starmodel_core::entity::{Field, FieldType, Schema};
//! use starmodel_sql::SqlStore;
//! use starmodel_sql::migrate::{MigrateOnStart, Migrator};
//!
//! static FIELDS: [Field; 2] = [
//!     Field::new("id", "i64", FieldType::Integer).id(),
//!     Field::new("title", "String", FieldType::Text),
//! ];
//! static TODO: Schema = Schema::new("todo", &FIELDS);
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = SqlStore::connect("sqlite::memory:").await.unwrap()
//!     .migrations_dir(dir.path())
//!     .migrate_on_start(MigrateOnStart::Auto);
//! store.attach(&TODO).unwrap();
//! store.prepare().await.unwrap();   // writes and applies sqlite/0001_create_todo.sql
//! assert!(dir.path().join("sqlite/0001_create_todo.sql").exists());
//! assert!(Migrator::new(&store).plan().await.unwrap().is_empty());
//! # });
//! ```

mod column;
mod conn;
mod diff;
mod error;
mod files;
mod history;
mod live;
mod plan;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use error::MigrateError;
pub use history::Applied;
pub use live::{LiveColumn, LiveIndex, LiveTable};
pub use plan::{Plan, Step};

use starmodel_core::Schema;

use crate::backend::SqlPool;
use conn::{Access, Conn, Held};

/// What a [`Migrator`] reads of its store: the connections and the attached
/// entities' schemas (implemented by [`SqlStore`](crate::SqlStore), which hands
/// itself to [`Migrator::new`]).
pub(crate) trait Source: Send + Sync + std::fmt::Debug {
    fn pool(&self) -> &SqlPool;
    fn schemas(&self) -> Vec<&'static Schema>;
}

/// What [`SqlStore`](crate::SqlStore)'s `prepare` does about migrations (set with
/// [`SqlStore::migrate_on_start`](crate::SqlStore::migrate_on_start)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MigrateOnStart {
    /// Apply pending files from the migrations directory, then plan: nothing to do
    /// does nothing; additive steps are written as a new file (when a directory is
    /// set) and applied, or applied directly and recorded (when none is); a
    /// destructive plan fails start-up with its list of steps unless destructive
    /// migrations are allowed.
    #[default]
    Auto,
    /// Only apply pending files from the migrations directory ([`Migrator::DEFAULT_DIR`]
    /// when none is set); never plan.
    ApplyFiles,
    /// Leave the database alone.
    Off,
}

/// How a [`SqlStore`](crate::SqlStore) migrates on start.
#[derive(Debug, Clone, Default)]
pub(crate) struct MigrateConfig {
    pub(crate) mode: MigrateOnStart,
    pub(crate) dir: Option<PathBuf>,
    pub(crate) allow_destructive: bool,
}

/// Plans, writes and applies the migrations of a [`SqlStore`](crate::SqlStore)'s attached entities.
///
/// ```no_run
/// # async fn run(store: starmodel_sql::SqlStore) -> Result<(), starmodel_sql::migrate::MigrateError> {
/// use starmodel_sql::migrate::Migrator;
/// let migrator = Migrator::new(&store);
/// for step in migrator.plan().await?.steps() {
///     println!("{step}");
/// }
/// if let Some(file) = migrator.generate(Migrator::DEFAULT_DIR).await? {
///     println!("wrote {}", file.display());
/// }
/// migrator.apply(Migrator::DEFAULT_DIR).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Migrator {
    source: Arc<dyn Source>,
    allow_destructive: bool,
}

impl Migrator {
    /// Where migration files go unless told otherwise: `migrations/`, relative to
    /// the working directory.
    pub const DEFAULT_DIR: &'static str = "migrations";

    /// A migrator reading `source` (what [`Migrator::new`] builds from a store).
    pub(crate) fn from_source(source: Arc<dyn Source>, allow_destructive: bool) -> Self {
        Self {
            source,
            allow_destructive,
        }
    }

    /// Whether [`generate`](Self::generate) writes plans that can lose data
    /// (changed column types or nullability, dropped columns).
    pub fn allow_destructive(mut self, allow: bool) -> Self {
        self.allow_destructive = allow;
        self
    }

    /// What it takes to bring the database in line with the attached entities.
    pub async fn plan(&self) -> Result<Plan, MigrateError> {
        let mut held = self.open(Access::Read).await?;
        let result = self.plan_on(&mut held.conn()).await;
        close(held, result).await
    }

    /// Writes the plan as a new file in `dir` and returns its path; `None` when the
    /// database is up to date. Refuses a destructive plan unless allowed, and a new
    /// file while files in `dir` are not yet applied.
    pub async fn generate(&self, dir: impl AsRef<Path>) -> Result<Option<PathBuf>, MigrateError> {
        let mut held = self.open(Access::Write).await?;
        let result = self.generate_on(&mut held.conn(), dir.as_ref()).await;
        close(held, result).await
    }

    /// Applies every file in `dir` not yet recorded, in name order, and returns the
    /// names applied. Refuses to apply anything when a recorded file changed.
    pub async fn apply(&self, dir: impl AsRef<Path>) -> Result<Vec<String>, MigrateError> {
        let mut held = self.open(Access::Write).await?;
        let result = history::apply_dir(&mut held.conn(), dir.as_ref()).await;
        close(held, result).await
    }

    /// Plans and applies the plan at once, without a file, recording it in the
    /// history under the name a file would have had; returns that name, or `None`
    /// when there was nothing to do. Refuses a destructive plan unless allowed.
    pub async fn apply_plan(&self) -> Result<Option<String>, MigrateError> {
        let mut held = self.open(Access::Write).await?;
        let result = self.apply_plan_on(&mut held.conn()).await;
        close(held, result).await
    }

    /// The migrations recorded as applied, in name order.
    pub async fn applied(&self) -> Result<Vec<Applied>, MigrateError> {
        let mut held = self.open(Access::Read).await?;
        let result = history::read(&mut held.conn()).await;
        close(held, result).await
    }

    /// One connection for the whole run, holding a lock that keeps other
    /// processes' migrations waiting; the history table exists.
    async fn open(&self, access: Access) -> Result<Held, MigrateError> {
        let mut held = Held::acquire(self.source.pool(), access).await?;
        match history::ensure_table(&mut held.conn()).await {
            Ok(()) => Ok(held),
            Err(e) => close(held, Err(e)).await,
        }
    }

    async fn plan_on(&self, conn: &mut Conn<'_>) -> Result<Plan, MigrateError> {
        let dialect = conn.dialect();
        let mut tables = Vec::new();
        for schema in self.source.schemas() {
            let live = live::table(conn, schema.name).await?;
            tables.push(diff::table(schema, live, dialect)?);
        }
        Ok(Plan { dialect, tables })
    }

    fn check_destructive(&self, plan: &Plan) -> Result<(), MigrateError> {
        if self.allow_destructive || !plan.is_destructive() {
            return Ok(());
        }
        Err(MigrateError::Destructive(
            plan.destructive_steps()
                .iter()
                .map(ToString::to_string)
                .collect(),
        ))
    }

    async fn generate_on(
        &self,
        conn: &mut Conn<'_>,
        dir: &Path,
    ) -> Result<Option<PathBuf>, MigrateError> {
        let dialect = conn.dialect();
        let present = files::read_dir(dir, dialect)?;
        let applied = history::read(conn).await?;
        let pending: Vec<String> = present
            .iter()
            .filter(|f| !applied.iter().any(|a| a.name == f.name))
            .map(|f| f.name.clone())
            .collect();
        if !pending.is_empty() {
            return Err(MigrateError::Pending(pending));
        }
        let plan = self.plan_on(conn).await?;
        if plan.is_empty() {
            return Ok(None);
        }
        self.check_destructive(&plan)?;
        let taken = present
            .iter()
            .map(|f| f.name.as_str())
            .chain(applied.iter().map(|a| a.name.as_str()));
        let name = files::next_name(taken, &plan.slug());
        let path = files::dialect_dir(dir, dialect).join(&name);
        files::write_new(&path, &plan.sql(&name))?;
        tracing::info!("wrote migration {}", path.display());
        Ok(Some(path))
    }

    async fn apply_plan_on(&self, conn: &mut Conn<'_>) -> Result<Option<String>, MigrateError> {
        let plan = self.plan_on(conn).await?;
        if plan.is_empty() {
            return Ok(None);
        }
        self.check_destructive(&plan)?;
        let applied = history::read(conn).await?;
        let name = files::next_name(applied.iter().map(|a| a.name.as_str()), &plan.slug());
        let text = plan.sql(&name);
        history::run(conn, &name, &text).await?;
        Ok(Some(name))
    }

    /// What `SqlStore::prepare` runs.
    pub(crate) async fn on_start(&self, config: &MigrateConfig) -> Result<(), MigrateError> {
        if config.mode == MigrateOnStart::Off {
            return Ok(());
        }
        let mut held = self.open(Access::Write).await?;
        let result = self.on_start_on(&mut held.conn(), config).await;
        close(held, result).await
    }

    async fn on_start_on(
        &self,
        conn: &mut Conn<'_>,
        config: &MigrateConfig,
    ) -> Result<(), MigrateError> {
        match (config.mode, &config.dir) {
            (MigrateOnStart::Off, _) => Ok(()),
            (MigrateOnStart::ApplyFiles, dir) => {
                let dir = dir.as_deref().unwrap_or(Path::new(Self::DEFAULT_DIR));
                let folder = files::dialect_dir(dir, conn.dialect());
                if !folder.is_dir() {
                    tracing::warn!(
                        "no migrations to apply: {} does not exist",
                        folder.display()
                    );
                }
                history::apply_dir(conn, dir).await.map(drop)
            }
            (MigrateOnStart::Auto, Some(dir)) => {
                history::apply_dir(conn, dir).await?;
                if self.generate_on(conn, dir).await?.is_some() {
                    history::apply_dir(conn, dir).await?;
                }
                Ok(())
            }
            (MigrateOnStart::Auto, None) => self.apply_plan_on(conn).await.map(drop),
        }
    }
}

/// Ends the run of `held` (on SQLite commits it if `result` is a success, else
/// rolls it back; releases the lock elsewhere) and passes `result` on; a failure
/// to commit after a success is the run's error.
async fn close<T>(held: Held, result: Result<T, MigrateError>) -> Result<T, MigrateError> {
    match (held.release(result.is_ok()).await, result) {
        (Ok(()), result) => result,
        (Err(e), Ok(_)) => Err(e.into()),
        (Err(e), Err(first)) => {
            tracing::warn!("ending the migration run failed: {e}");
            Err(first)
        }
    }
}
