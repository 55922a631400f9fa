//! The tables an entity schema needs: `CREATE TABLE` and `CREATE INDEX` per dialect.
//!
//! One table per entity, named after it; one typed column per field (see
//! [`column_type`]); the key column (the `#[entity(id)]` field, or [`KEY_COLUMN`] for
//! session and global entities) is the primary key; [`VERSION_COLUMN`] counts writes.
//! `unique` fields get a unique index, `index` fields an index, both named by
//! [`index_name`].

use sea_query::{ColumnDef, ColumnType, Index, IndexCreateStatement, Table};
use starmodel_core::entity::{Field, Schema};

use crate::dialect::{Dialect, Ident, column_type, key_column_type};

/// The key column of entities without an `#[entity(id)]` field (session and global
/// scope): the session id or `global`.
pub const KEY_COLUMN: &str = "_id";

/// The column holding each row's version: 1 when written first, one more per write.
pub const VERSION_COLUMN: &str = "_version";

/// The name of the primary key column of `schema`'s table.
pub fn key_column(schema: &Schema) -> &'static str {
    schema.id_field().map_or(KEY_COLUMN, |f| f.name)
}

/// The name of the index the store keeps on `field`: `{table}_{field}_key` when
/// unique, else `{table}_{field}_idx`.
///
/// ```
/// use starmodel_core::entity::{Field, FieldType, Schema};
/// use starmodel_sql::{Dialect, ddl};
/// static FIELDS: [Field; 2] = [
///     Field::new("id", "String", FieldType::Text).id().unique(),
///     Field::new("email", "String", FieldType::Text).unique(),
/// ];
/// static USER: Schema = Schema::new("user", &FIELDS);
/// assert_eq!(ddl::index_name(&USER, &FIELDS[1]), "user_email_key");
/// assert_eq!(ddl::key_column(&USER), "id");
/// assert!(!ddl::has_index(&FIELDS[0]), "the id is the primary key");
/// assert_eq!(
///     ddl::create_index(&USER, &FIELDS[1], Dialect::Postgres).unwrap(),
///     r#"CREATE UNIQUE INDEX IF NOT EXISTS "user_email_key" ON "user" ("email")"#,
/// );
/// ```
pub fn index_name(schema: &Schema, field: &Field) -> String {
    let suffix = if field.unique { "key" } else { "idx" };
    format!("{}_{}_{suffix}", schema.name, field.name)
}

/// Whether `field` has an index of its own (the id field is the primary key instead).
pub fn has_index(field: &Field) -> bool {
    !field.id && (field.unique || field.index)
}

/// `field`'s column definition: its quoted name, type and `NULL`/`NOT NULL` (plus
/// `PRIMARY KEY` for the id field), as `CREATE TABLE` and `ALTER TABLE … ADD COLUMN`
/// take it.
///
/// ```
/// use starmodel_core::entity::{Field, FieldType};
/// use starmodel_sql::{Dialect, ddl};
/// let field = Field::new("due", "Option<i64>", FieldType::Integer).nullable();
/// assert_eq!(ddl::column_def(&field, Dialect::Postgres), r#""due" BIGINT NULL"#);
/// ```
pub fn column_def(field: &Field, dialect: Dialect) -> String {
    let mut def = format!(
        "{} {}",
        dialect.quote(field.name),
        column_type(field, dialect)
    );
    def.push_str(if field.nullable && !field.id {
        " NULL"
    } else {
        " NOT NULL"
    });
    if field.id {
        def.push_str(" PRIMARY KEY");
    }
    def
}

fn column(field: &Field, dialect: Dialect) -> ColumnDef {
    let mut col = ColumnDef::new_with_type(
        Ident(field.name),
        ColumnType::custom(column_type(field, dialect)),
    );
    if field.nullable && !field.id {
        col.null();
    } else {
        col.not_null();
    }
    if field.id {
        col.primary_key();
    }
    col
}

fn index(schema: &Schema, field: &Field) -> IndexCreateStatement {
    let mut index = Index::create();
    index
        .name(index_name(schema, field))
        .table(Ident(schema.name))
        .col(Ident(field.name));
    if field.unique {
        index.unique();
    }
    index
}

/// `CREATE INDEX` for `field`'s index, `None` when it has none ([`has_index`]).
/// `IF NOT EXISTS` on SQLite and PostgreSQL; MySQL has no such clause, so
/// [`create_table`] declares MySQL's indexes inside the table instead.
pub fn create_index(schema: &Schema, field: &Field, dialect: Dialect) -> Option<String> {
    if !has_index(field) {
        return None;
    }
    let mut index = index(schema, field);
    if dialect != Dialect::MySql {
        index.if_not_exists();
    }
    Some(index.build_any(dialect.schema_builder()))
}

/// The table collation on MySQL: text compares byte by byte. MySQL 8 reads the
/// `/*!80000 … */` comment and MariaDB skips it; MariaDB reads `/*M! … */` and
/// takes `utf8mb4_nopad_bin`, which, unlike `utf8mb4_bin`, does not pad: `a` and
/// `a ` are two ids, as in the other stores. MySQL 8's `utf8mb4_bin` still pads.
const MYSQL_COLLATION: &str =
    " /*!80000 COLLATE=utf8mb4_bin */ /*M!100202 COLLATE=utf8mb4_nopad_bin */";

/// The statements creating `schema`'s table and its indexes when missing, to run in
/// order: `CREATE TABLE IF NOT EXISTS` and then, on SQLite and PostgreSQL, one
/// `CREATE [UNIQUE] INDEX IF NOT EXISTS` per indexed field (on MySQL the indexes are
/// part of the table statement). MySQL tables are InnoDB in `utf8mb4`, binary
/// collated (`utf8mb4_nopad_bin` on MariaDB, `utf8mb4_bin` on MySQL).
///
/// ```
/// use starmodel_core::entity::{Field, FieldType, Schema};
/// use starmodel_sql::{Dialect, ddl};
/// static FIELDS: [Field; 2] = [
///     Field::new("id", "i64", FieldType::Integer).id().unique(),
///     Field::new("order", "String", FieldType::Text).index(),
/// ];
/// static SCHEMA: Schema = Schema::new("group", &FIELDS);
/// assert_eq!(ddl::create_table(&SCHEMA, Dialect::Sqlite), [
///     r#"CREATE TABLE IF NOT EXISTS "group" ( "id" BIGINT NOT NULL PRIMARY KEY, "order" TEXT NOT NULL, "_version" BIGINT NOT NULL )"#,
///     r#"CREATE INDEX IF NOT EXISTS "group_order_idx" ON "group" ("order")"#,
/// ]);
/// ```
pub fn create_table(schema: &Schema, dialect: Dialect) -> Vec<String> {
    let mut table = Table::create();
    table.table(Ident(schema.name)).if_not_exists();
    if schema.id_field().is_none() {
        table.col(
            ColumnDef::new_with_type(
                Ident(KEY_COLUMN),
                ColumnType::custom(key_column_type(dialect)),
            )
            .not_null()
            .primary_key(),
        );
    }
    for field in schema.fields {
        table.col(column(field, dialect));
    }
    table.col(
        ColumnDef::new_with_type(Ident(VERSION_COLUMN), ColumnType::custom("BIGINT")).not_null(),
    );
    let indexed = schema.fields.iter().filter(|f| has_index(f));
    if dialect == Dialect::MySql {
        for field in indexed {
            table.index(&mut index(schema, field));
        }
        table.engine("InnoDB").character_set("utf8mb4");
        let mut sql = table.build_any(dialect.schema_builder());
        sql.push_str(MYSQL_COLLATION);
        return vec![sql];
    }
    let mut statements = vec![table.build_any(dialect.schema_builder())];
    statements.extend(indexed.filter_map(|f| create_index(schema, f, dialect)));
    statements
}
