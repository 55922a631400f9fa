//! The three SQL dialects and how each stores a field: the column type for every
//! [`FieldKind`], chosen once here so the store, the DDL and the migrations agree.

use std::fmt;

use sea_query::{
    Iden, MysqlQueryBuilder, PostgresQueryBuilder, QueryBuilder, SchemaBuilder, SqliteQueryBuilder,
};
use starmodel_core::entity::{Field, FieldKind};

/// A SQL dialect.
///
/// ```
/// use starmodel_sql::Dialect;
/// assert_eq!(Dialect::from_url("postgres://localhost/app"), Some(Dialect::Postgres));
/// assert_eq!(Dialect::from_url("sqlite::memory:"), Some(Dialect::Sqlite));
/// assert_eq!(Dialect::MySql.quote("order"), "`order`");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite 3 (bundled).
    Sqlite,
    /// PostgreSQL 12 or later.
    Postgres,
    /// MySQL 8 or MariaDB 10.5 or later.
    MySql,
}

impl Dialect {
    /// The dialect a connection URL speaks, from its scheme (`sqlite:`, `postgres:`
    /// or `postgresql:`, `mysql:` or `mariadb:`).
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            "mysql" | "mariadb" => Some(Self::MySql),
            _ => None,
        }
    }

    /// The dialect's name in lowercase (`sqlite`, `postgres`, `mysql`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
        }
    }

    /// `ident` quoted as an identifier (`"order"`, or `` `order` `` on MySQL), with
    /// embedded quote characters doubled.
    pub fn quote(self, ident: &str) -> String {
        let q = match self {
            Self::MySql => '`',
            Self::Sqlite | Self::Postgres => '"',
        };
        let mut out = String::with_capacity(ident.len() + 2);
        out.push(q);
        for c in ident.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
        out
    }

    /// sea-query's builder for statements of this dialect.
    pub fn query_builder(self) -> &'static dyn QueryBuilder {
        match self {
            Self::Sqlite => &SqliteQueryBuilder,
            Self::Postgres => &PostgresQueryBuilder,
            Self::MySql => &MysqlQueryBuilder,
        }
    }

    /// sea-query's builder for DDL of this dialect.
    pub fn schema_builder(self) -> &'static dyn SchemaBuilder {
        match self {
            Self::Sqlite => &SqliteQueryBuilder,
            Self::Postgres => &PostgresQueryBuilder,
            Self::MySql => &MysqlQueryBuilder,
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a field's value is kept in its column, read from its [`FieldKind`].
///
/// Integers of every width are one 64-bit column, floats of either width one 64-bit
/// float. Of the date and time kinds only [`FieldKind::Timestamp`] (chrono's
/// `DateTime<Tz>`, RFC 3339 with an offset in JSON) is stored as a timestamp; local
/// date-times, dates, times and `time::OffsetDateTime` are kept as the text serde
/// writes, and `SystemTime` (a JSON object) as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnKind {
    /// A 64-bit signed integer.
    Integer,
    /// A 64-bit float.
    Float,
    /// Text.
    Text,
    /// A boolean.
    Bool,
    /// A UUID (text on SQLite and MySQL).
    Uuid,
    /// A point in time, UTC (text on SQLite).
    Timestamp,
    /// Any JSON value (text on SQLite).
    Json,
}

impl ColumnKind {
    /// How `field` is stored.
    ///
    /// ```
    /// use starmodel_core::entity::{Field, FieldType};
    /// use starmodel_sql::ColumnKind;
    /// let at = Field::new("at", "DateTime<Utc>", FieldType::DateTime);
    /// assert_eq!(ColumnKind::of(&at), ColumnKind::Timestamp);
    /// let day = Field::new("day", "NaiveDate", FieldType::DateTime);
    /// assert_eq!(ColumnKind::of(&day), ColumnKind::Text);
    /// ```
    pub fn of(field: &Field) -> Self {
        match field.kind() {
            FieldKind::Integer { .. } => Self::Integer,
            FieldKind::Float { .. } => Self::Float,
            FieldKind::Text | FieldKind::Char => Self::Text,
            FieldKind::Bool => Self::Bool,
            FieldKind::Uuid => Self::Uuid,
            FieldKind::Timestamp => Self::Timestamp,
            FieldKind::OffsetDateTime
            | FieldKind::LocalDateTime
            | FieldKind::Date
            | FieldKind::Time => Self::Text,
            _ => Self::Json,
        }
    }
}

/// MySQL cannot index `TEXT` without a prefix length and caps an index key at 3072
/// bytes (768 characters of `utf8mb4`), so indexed text is a bounded `VARCHAR`.
const MYSQL_MAX_KEY_CHARS: u64 = 768;
/// Indexed text without a declared maximum.
const MYSQL_DEFAULT_KEY_CHARS: u64 = 255;
/// Unindexed text gets a `VARCHAR` only while it is short: MySQL caps a row's
/// `VARCHAR`s at 65,535 bytes together, so wide ones would make tables fail to create.
const MYSQL_MAX_VARCHAR_CHARS: u64 = 255;

/// Whether the store keeps an index on `field` (its own or the primary key).
pub(crate) fn is_keyed(field: &Field) -> bool {
    field.id || field.unique || field.index
}

/// The SQL type of `field`'s column in `dialect`, without `NULL`/`NOT NULL`.
///
/// | kind | SQLite | PostgreSQL | MySQL |
/// |---|---|---|---|
/// | integer | `BIGINT` | `BIGINT` | `BIGINT` |
/// | float | `REAL` | `DOUBLE PRECISION` | `DOUBLE` |
/// | text | `TEXT` | `TEXT COLLATE "C"` | `VARCHAR(n)` or `TEXT` |
/// | bool | `INTEGER` (0/1) | `BOOLEAN` | `BOOLEAN` |
/// | uuid | `TEXT` | `UUID` | `CHAR(36)` |
/// | timestamp | `TEXT` | `TIMESTAMPTZ` | `DATETIME(6)` (UTC) |
/// | json | `TEXT` | `JSONB` | `JSON` |
///
/// Text compares byte by byte everywhere (PostgreSQL's `"C"` collation, MySQL
/// tables binary collated, see [`ddl::create_table`](crate::ddl::create_table)), as
/// the memory store does. On MySQL, text that is the id, unique or indexed is a
/// `VARCHAR` of its `length(max)` (255 without one, at most 768 so the index fits);
/// other text is a `VARCHAR` when its `length(max)` is at most 255, else `TEXT`
/// (65,535 bytes: longer text is refused, [`StoreError::Invalid`](starmodel_core::StoreError::Invalid)).
///
/// ```
/// use starmodel_core::entity::{Field, FieldType};
/// use starmodel_sql::{Dialect, column_type};
/// let title = Field::new("title", "String", FieldType::Text).index();
/// assert_eq!(column_type(&title, Dialect::MySql), "VARCHAR(255)");
/// assert_eq!(column_type(&title, Dialect::Postgres), "TEXT COLLATE \"C\"");
/// ```
pub fn column_type(field: &Field, dialect: Dialect) -> String {
    use ColumnKind as K;
    use Dialect as D;
    let fixed = match (ColumnKind::of(field), dialect) {
        (K::Integer, _) => "BIGINT",
        (K::Float, D::Sqlite) => "REAL",
        (K::Float, D::Postgres) => "DOUBLE PRECISION",
        (K::Float, D::MySql) => "DOUBLE",
        (K::Text, D::Sqlite) => "TEXT",
        (K::Text, D::Postgres) => TEXT_POSTGRES,
        (K::Text, D::MySql) => return mysql_text(field),
        (K::Bool, D::Sqlite) => "INTEGER",
        (K::Bool, _) => "BOOLEAN",
        (K::Uuid, D::Sqlite) => "TEXT",
        (K::Uuid, D::Postgres) => "UUID",
        (K::Uuid, D::MySql) => "CHAR(36)",
        (K::Timestamp, D::Sqlite) => "TEXT",
        (K::Timestamp, D::Postgres) => "TIMESTAMPTZ",
        (K::Timestamp, D::MySql) => "DATETIME(6)",
        (K::Json, D::Sqlite) => "TEXT",
        (K::Json, D::Postgres) => "JSONB",
        (K::Json, D::MySql) => "JSON",
    };
    fixed.to_owned()
}

const TEXT_POSTGRES: &str = "TEXT COLLATE \"C\"";

fn mysql_text(field: &Field) -> String {
    let max = field.max_length();
    if is_keyed(field) {
        let n = max
            .unwrap_or(MYSQL_DEFAULT_KEY_CHARS)
            .clamp(1, MYSQL_MAX_KEY_CHARS);
        return format!("VARCHAR({n})");
    }
    match max {
        Some(n) if n <= MYSQL_MAX_VARCHAR_CHARS => format!("VARCHAR({})", n.max(1)),
        _ => "TEXT".to_owned(),
    }
}

/// The type of the `_id` key column of session and global entities.
pub(crate) fn key_column_type(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "TEXT",
        Dialect::Postgres => TEXT_POSTGRES,
        Dialect::MySql => "VARCHAR(255)",
    }
}

/// An identifier sea-query quotes when it writes it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ident(pub(crate) &'static str);

impl Iden for Ident {
    fn unquoted(&self, s: &mut dyn fmt::Write) {
        // Writing to a String cannot fail.
        let _ = s.write_str(self.0);
    }
}

#[cfg(test)]
mod tests {
    use starmodel_core::entity::FieldType;

    use super::*;

    #[test]
    fn mysql_text_is_bounded_when_indexed_or_short() {
        let plain = Field::new("body", "String", FieldType::Text);
        assert_eq!(column_type(&plain, Dialect::MySql), "TEXT");
        let indexed = Field {
            index: true,
            validate: &[starmodel_core::entity::Rule::Length {
                min: None,
                max: Some(5000),
            }],
            ..plain
        };
        assert_eq!(column_type(&indexed, Dialect::MySql), "VARCHAR(768)");
        let short = Field {
            validate: &[starmodel_core::entity::Rule::Length {
                min: Some(1),
                max: Some(40),
            }],
            ..plain
        };
        assert_eq!(column_type(&short, Dialect::MySql), "VARCHAR(40)");
    }

    #[test]
    fn quote_doubles_quote_characters() {
        assert_eq!(Dialect::Postgres.quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
    }
}
