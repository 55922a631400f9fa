//! The history table `_starmodel_migrations(name, checksum, applied_at)` and running
//! migrations into it.

use std::path::Path;

use super::conn::Conn;
use super::error::MigrateError;
use super::files;
use crate::Dialect;

/// The table recording applied migrations.
pub(crate) const TABLE: &str = "_starmodel_migrations";

/// A migration recorded as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Its file name (`0001_create_todo.sql`).
    pub name: String,
    /// The hex SHA-256 of its text when it was applied.
    pub checksum: String,
    /// When it was applied, as the database prints its timestamp.
    pub applied_at: String,
}

pub(crate) async fn ensure_table(conn: &mut Conn<'_>) -> Result<(), MigrateError> {
    let applied_at = match conn.dialect() {
        Dialect::Sqlite => "TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP",
        Dialect::Postgres => "TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP",
        Dialect::MySql => "DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)",
    };
    let sql = format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} (name VARCHAR(255) NOT NULL PRIMARY KEY, \
         checksum CHAR(64) NOT NULL, applied_at {applied_at})"
    );
    conn.execute(&sql).await?;
    Ok(())
}

pub(crate) async fn read(conn: &mut Conn<'_>) -> Result<Vec<Applied>, MigrateError> {
    let applied_at = match conn.dialect() {
        Dialect::Sqlite => "applied_at",
        Dialect::Postgres => "applied_at::text",
        Dialect::MySql => "CAST(applied_at AS CHAR)",
    };
    let sql = format!("SELECT name, checksum, {applied_at} FROM {TABLE} ORDER BY name");
    Ok(conn
        .rows(&sql, &[])
        .await?
        .into_iter()
        .map(|mut row| Applied {
            applied_at: row.pop().flatten().unwrap_or_default(),
            checksum: row.pop().flatten().unwrap_or_default(),
            name: row.pop().flatten().unwrap_or_default(),
        })
        .collect())
}

/// Applies the files in `dir` that are not recorded yet, after checking that none of
/// the recorded ones changed; returns the names applied.
pub(crate) async fn apply_dir(
    conn: &mut Conn<'_>,
    dir: &Path,
) -> Result<Vec<String>, MigrateError> {
    let present = files::read_dir(dir, conn.dialect())?;
    let applied = read(conn).await?;
    let mut pending = Vec::new();
    for file in present {
        match applied.iter().find(|a| a.name == file.name) {
            Some(a) => {
                let found = files::checksum(&file.text);
                if a.checksum != found {
                    return Err(MigrateError::Changed {
                        name: file.name,
                        recorded: a.checksum.clone(),
                        found,
                    });
                }
            }
            None => pending.push(file),
        }
    }
    let mut names = Vec::new();
    for file in pending {
        if run(conn, &file.name, &file.text).await? {
            tracing::info!("applied migration {}", file.path.display());
            names.push(file.name);
        }
    }
    Ok(names)
}

/// Runs the statements of migration `name` and records it, in one transaction where
/// the dialect has transactional DDL. Returns `false` when another process recorded
/// it first (seen once its transaction holds the lock).
pub(crate) async fn run(conn: &mut Conn<'_>, name: &str, text: &str) -> Result<bool, MigrateError> {
    let mut tx = conn.begin().await?;
    match statements(&mut tx.conn(), name, text).await {
        Ok(true) => {
            tx.commit().await?;
            Ok(true)
        }
        Ok(false) => {
            tx.rollback().await?;
            Ok(false)
        }
        Err(e) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::warn!("rolling back migration {name} failed: {rollback}");
            }
            Err(e)
        }
    }
}

async fn statements(conn: &mut Conn<'_>, name: &str, text: &str) -> Result<bool, MigrateError> {
    let param = if conn.dialect() == Dialect::Postgres {
        "$1"
    } else {
        "?"
    };
    let seen = conn
        .rows(
            &format!("SELECT name FROM {TABLE} WHERE name = {param}"),
            &[name],
        )
        .await?;
    if !seen.is_empty() {
        return Ok(false);
    }
    for (i, statement) in files::split_statements(text).into_iter().enumerate() {
        if let Err(source) = conn.execute(&statement).await {
            return Err(MigrateError::Failed {
                name: name.to_owned(),
                number: i + 1,
                statement,
                source,
            });
        }
    }
    let values = if conn.dialect() == Dialect::Postgres {
        "$1, $2"
    } else {
        "?, ?"
    };
    conn.rows(
        &format!("INSERT INTO {TABLE} (name, checksum) VALUES ({values})"),
        &[name, &files::checksum(text)],
    )
    .await?;
    Ok(true)
}
