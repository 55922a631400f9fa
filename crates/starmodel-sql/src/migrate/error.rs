//! [`MigrateError`]: what a migration run reports.

use std::path::{Path, PathBuf};

use starmodel_core::StoreError;

/// A migration failed or was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The plan can lose data and destructive migrations are not allowed.
    #[error(
        "refusing a migration that can lose data (allow destructive migrations to run it): {}",
        .0.join("; ")
    )]
    Destructive(Vec<String>),
    /// An applied migration file was edited afterwards.
    #[error(
        "migration `{name}` changed after it was applied (recorded checksum {recorded}, \
         the file's is {found})"
    )]
    Changed {
        /// The file.
        name: String,
        /// The checksum recorded when it was applied.
        recorded: String,
        /// The checksum of the file now.
        found: String,
    },
    /// Files are waiting to be applied, so a new one would repeat their changes.
    #[error("migrations not yet applied: {}; apply them before generating another", .0.join(", "))]
    Pending(Vec<String>),
    /// A statement of a migration failed (on SQLite and PostgreSQL the migration was
    /// rolled back as a whole).
    #[error("migration `{name}` failed at statement {number} `{statement}`: {source}")]
    Failed {
        /// The migration.
        name: String,
        /// The statement's position, from 1.
        number: usize,
        /// The statement.
        statement: String,
        /// What the database said.
        #[source]
        source: sqlx::Error,
    },
    /// A change migrations do not make; the message says which.
    #[error("{0}")]
    Unsupported(String),
    /// Reading or writing the migrations directory failed.
    #[error("migrations i/o failed on `{path}`: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The database failed outside a migration's statements.
    #[error("migrations: {0}")]
    Database(#[from] sqlx::Error),
}

impl MigrateError {
    pub(super) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

impl From<MigrateError> for StoreError {
    fn from(error: MigrateError) -> Self {
        match error {
            MigrateError::Io { path, source } => StoreError::Io {
                path: path.display().to_string(),
                source,
            },
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}
