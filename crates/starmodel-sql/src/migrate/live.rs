//! What the live database holds: the tables of the attached entities, read from each
//! dialect's catalog (SQLite pragmas, PostgreSQL's `pg_catalog`, MySQL's
//! `information_schema`).

use super::conn::Conn;
use crate::Dialect;

/// A table as the database reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveTable {
    /// The table's name.
    pub name: String,
    /// Its columns in order.
    pub columns: Vec<LiveColumn>,
    /// Its indexes, the primary key's left out.
    pub indexes: Vec<LiveIndex>,
}

impl LiveTable {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&LiveColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A column as the database reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveColumn {
    /// The column's name.
    pub name: String,
    /// Its type as the catalog spells it (`BIGINT`, `bigint(20)`, `text`…).
    pub sql_type: String,
    /// Whether it accepts `NULL`.
    pub nullable: bool,
    /// Whether it is (part of) the primary key.
    pub primary_key: bool,
}

/// An index as the database reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveIndex {
    /// The index's name.
    pub name: String,
    /// The indexed columns in order (an expression shows as an empty name).
    pub columns: Vec<String>,
    /// Whether it is unique.
    pub unique: bool,
}

/// The table `name`, `None` when it does not exist.
pub(crate) async fn table(
    conn: &mut Conn<'_>,
    name: &str,
) -> Result<Option<LiveTable>, sqlx::Error> {
    let (columns, indexes) = match conn.dialect() {
        Dialect::Sqlite => sqlite(conn, name).await?,
        Dialect::Postgres => catalog(conn, name, POSTGRES_COLUMNS, POSTGRES_INDEXES).await?,
        Dialect::MySql => catalog(conn, name, MYSQL_COLUMNS, MYSQL_INDEXES).await?,
    };
    if columns.is_empty() {
        return Ok(None);
    }
    Ok(Some(LiveTable {
        name: name.to_owned(),
        columns,
        indexes,
    }))
}

type Parts = (Vec<LiveColumn>, Vec<LiveIndex>);

fn flag(cell: &Option<String>) -> bool {
    matches!(
        cell.as_deref(),
        Some("1" | "t" | "true" | "YES" | "PRI" | "pk")
    )
}

fn text(cell: &Option<String>) -> String {
    cell.clone().unwrap_or_default()
}

async fn sqlite(conn: &mut Conn<'_>, table: &str) -> Result<Parts, sqlx::Error> {
    let rows = conn
        .rows(
            r#"SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid"#,
            &[table],
        )
        .await?;
    let columns = rows
        .iter()
        .map(|r| LiveColumn {
            name: text(&r[0]),
            sql_type: text(&r[1]),
            nullable: !flag(&r[2]),
            primary_key: r[3].as_deref().is_some_and(|pk| pk != "0"),
        })
        .collect();
    let mut indexes = Vec::new();
    let list = conn
        .rows(
            r#"SELECT name, "unique", origin FROM pragma_index_list(?) ORDER BY name"#,
            &[table],
        )
        .await?;
    for index in list {
        // `pk`: the primary key's own index.
        if index[2].as_deref() == Some("pk") {
            continue;
        }
        let name = text(&index[0]);
        let columns = conn
            .rows(
                "SELECT name FROM pragma_index_info(?) ORDER BY seqno",
                &[&name],
            )
            .await?
            .iter()
            .map(|r| text(&r[0]))
            .collect();
        indexes.push(LiveIndex {
            name,
            columns,
            unique: flag(&index[1]),
        });
    }
    Ok((columns, indexes))
}

/// PostgreSQL's catalog: (name, type, nullable, primary key) per column.
const POSTGRES_COLUMNS: &str = "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), \
                    CASE WHEN a.attnotnull THEN '0' ELSE '1' END, \
                    CASE WHEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid \
                        AND i.indisprimary AND a.attnum = ANY (i.indkey)) THEN '1' ELSE '0' END \
             FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relname = $1 \
               AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum";

/// PostgreSQL's catalog: (index, unique, column) per indexed column.
const POSTGRES_INDEXES: &str = "SELECT ic.relname::text, CASE WHEN ix.indisunique THEN '1' ELSE '0' END, \
                    COALESCE(a.attname::text, '') \
             FROM pg_index ix \
             JOIN pg_class t ON t.oid = ix.indrelid \
             JOIN pg_class ic ON ic.oid = ix.indexrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
             LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
             WHERE n.nspname = current_schema() AND t.relname = $1 AND NOT ix.indisprimary \
             ORDER BY ic.relname, k.ord";

/// MySQL's information schema: (name, type, nullable, key) per column. CAST: some
/// servers hand information_schema text out as binary strings.
const MYSQL_COLUMNS: &str = "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), \
                    CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_KEY AS CHAR) \
             FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? \
             ORDER BY ORDINAL_POSITION";

/// MySQL's information schema: (index, unique, column) per indexed column.
const MYSQL_INDEXES: &str = "SELECT CAST(INDEX_NAME AS CHAR), CAST(1 - NON_UNIQUE AS CHAR), \
                    CAST(COALESCE(COLUMN_NAME, '') AS CHAR) \
             FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME <> 'PRIMARY' \
             ORDER BY INDEX_NAME, SEQ_IN_INDEX";

/// A table's columns and indexes from a server's catalog, through two queries
/// taking the table name: `columns` answers (name, type, nullable, primary key)
/// per column, `indexes` (index, unique, column) per indexed column in order.
async fn catalog(
    conn: &mut Conn<'_>,
    table: &str,
    columns: &str,
    indexes: &str,
) -> Result<Parts, sqlx::Error> {
    let rows = conn.rows(columns, &[table]).await?;
    let columns = rows
        .iter()
        .map(|r| LiveColumn {
            name: text(&r[0]),
            sql_type: text(&r[1]),
            nullable: flag(&r[2]),
            primary_key: flag(&r[3]),
        })
        .collect();
    let rows = conn.rows(indexes, &[table]).await?;
    Ok((columns, group_indexes(&rows)))
}

/// Rows of (index, unique, column), ordered by index and position, into indexes.
fn group_indexes(rows: &[Vec<Option<String>>]) -> Vec<LiveIndex> {
    let mut indexes: Vec<LiveIndex> = Vec::new();
    for row in rows {
        let name = text(&row[0]);
        let column = text(&row[2]);
        match indexes.last_mut() {
            Some(last) if last.name == name => last.columns.push(column),
            _ => indexes.push(LiveIndex {
                name,
                columns: vec![column],
                unique: flag(&row[1]),
            }),
        }
    }
    indexes
}
