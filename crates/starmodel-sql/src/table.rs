//! An attached entity's table: its columns, and the statements the store runs on
//! it, built once per dialect with sea-query so that every identifier is quoted and
//! every value a parameter.

use sea_query::{Expr, LockType, OnConflict, Order, Query, SimpleExpr, Value as SqlValue};
use serde_json::{Map, Value};
use starmodel_core::entity::{Field, Schema};
use starmodel_core::{EntityId, StoreError};

use crate::ddl::{self, KEY_COLUMN, VERSION_COLUMN};
use crate::dialect::{ColumnKind, Dialect, Ident};
use crate::value;

/// One column the store reads and writes, in row order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub(crate) name: &'static str,
    pub(crate) kind: ColumnKind,
    /// `None` for the `_id` key column of session and global entities.
    pub(crate) field: Option<&'static Field>,
}

/// The statements of one table, with parameters in the order documented on each.
#[derive(Debug)]
pub(crate) struct Statements {
    /// Columns of the row whose key is `$1`.
    pub(crate) select: String,
    /// `select`, locking the row (`FOR UPDATE`; PostgreSQL and MySQL only).
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub(crate) select_for_update: String,
    /// Every column in row order, then the version.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub(crate) insert: String,
    /// `insert` replacing a row with the same key (import).
    pub(crate) upsert: String,
    /// Every non-key column, the version, the key.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub(crate) update: String,
    /// The key.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub(crate) delete: String,
    /// The key, then the version the row must still have.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) delete_if_version: String,
    /// Every row, ordered by key.
    pub(crate) select_all: String,
    /// SQLite's statements that also check or report the connection's view of the
    /// database (see `backend::sqlite`); empty on other dialects.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) sqlite: SqliteStatements,
}

/// `(SELECT data_version …)` changes when another connection commits;
/// `total_changes()` counts the rows this connection changed.
const SQLITE_STATE: &str = "(SELECT data_version FROM pragma_data_version()), total_changes()";

/// SQLite statements that detect writes made behind a cached row's back.
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) struct SqliteStatements {
    /// The connection's `(data_version, total_changes)`.
    pub(crate) state: String,
    /// `insert`, returning the state before it.
    pub(crate) insert_returning_state: String,
    /// `update`, then the version the row must still have; returning the state
    /// before it.
    pub(crate) update_returning_state: String,
    /// `update`, then the version the row must still have and the state the row
    /// was cached in.
    pub(crate) update_if_state: String,
    /// `delete_if_version`, then the state the row was cached in.
    pub(crate) delete_if_state: String,
}

impl SqliteStatements {
    fn new(insert: &str, update_if_version: &str, delete_if_version: &str) -> Self {
        let returning = format!(" RETURNING {SQLITE_STATE}");
        let unchanged = " AND (SELECT data_version FROM pragma_data_version()) = ? \
                         AND total_changes() = ?";
        Self {
            state: format!("SELECT {SQLITE_STATE}"),
            insert_returning_state: format!("{insert}{returning}"),
            update_returning_state: format!("{update_if_version}{returning}"),
            update_if_state: format!("{update_if_version}{unchanged}"),
            delete_if_state: format!("{delete_if_version}{unchanged}"),
        }
    }
}

/// What the store knows of one attached entity.
#[derive(Debug)]
pub(crate) struct TableInfo {
    pub(crate) schema: &'static Schema,
    pub(crate) dialect: Dialect,
    /// The key column's name.
    pub(crate) key: &'static str,
    pub(crate) key_kind: ColumnKind,
    /// The columns in row order (the version column comes after them).
    pub(crate) columns: Vec<Column>,
    /// Index of the key column in `columns`.
    pub(crate) key_index: usize,
    pub(crate) sql: Statements,
    /// Unique index names and the field each covers.
    constraints: Vec<(String, &'static str)>,
}

impl TableInfo {
    pub(crate) fn new(schema: &'static Schema, dialect: Dialect) -> Self {
        let mut columns = Vec::with_capacity(schema.fields.len() + 1);
        if schema.id_field().is_none() {
            columns.push(Column {
                name: KEY_COLUMN,
                kind: ColumnKind::Text,
                field: None,
            });
        }
        columns.extend(schema.fields.iter().map(|f| Column {
            name: f.name,
            kind: ColumnKind::of(f),
            field: Some(f),
        }));
        let key = ddl::key_column(schema);
        let key_index = columns.iter().position(|c| c.name == key).unwrap_or(0);
        let key_kind = columns[key_index].kind;
        let mut constraints: Vec<(String, &'static str)> = schema
            .fields
            .iter()
            .filter(|f| ddl::has_index(f))
            .map(|f| (ddl::index_name(schema, f), f.name))
            .collect();
        // The primary key's name: PostgreSQL's `{table}_pkey`, MySQL's `PRIMARY`.
        constraints.push((format!("{}_pkey", schema.name), key));
        constraints.push(("PRIMARY".to_owned(), key));
        let sql = Statements::new(schema.name, key, &columns, dialect);
        Self {
            schema,
            dialect,
            key,
            key_kind,
            columns,
            key_index,
            sql,
            constraints,
        }
    }

    /// The column (as a field name, or the key) named `name`.
    pub(crate) fn column(&self, name: &str) -> Option<&'static str> {
        self.columns.iter().find(|c| c.name == name).map(|c| c.name)
    }

    /// The field a unique constraint or index covers.
    pub(crate) fn field_of_constraint(&self, name: &str) -> Option<&'static str> {
        self.constraints
            .iter()
            .find(|(c, _)| c == name)
            .map(|(_, field)| *field)
    }

    /// The key column value for instance `id`.
    pub(crate) fn key_value(&self, id: &str) -> Result<SqlValue, StoreError> {
        value::key_to_sql(self.key_kind, self.dialect, self.key, id)
    }

    /// The instance id a decoded key value stands for.
    pub(crate) fn id_of(&self, key: &Value) -> EntityId {
        match key {
            Value::String(s) => EntityId::new(s.as_str()),
            other => EntityId::new(other.to_string()),
        }
    }

    /// The values of every column of `value` (an instance with id `id`) in row
    /// order: missing fields are NULL, the key comes from `id`.
    pub(crate) fn row_values(
        &self,
        id: &str,
        value: &Value,
        out: &mut Vec<SqlValue>,
    ) -> Result<(), StoreError> {
        let object = value.as_object().ok_or_else(|| {
            StoreError::BadQuery(format!(
                "a `{}` must be a JSON object to be stored",
                self.schema.name
            ))
        })?;
        for (i, column) in self.columns.iter().enumerate() {
            if i == self.key_index {
                out.push(self.key_value(id)?);
            } else {
                let v = object.get(column.name).unwrap_or(&Value::Null);
                if v.is_null() && column.field.is_some_and(|f| !f.nullable) {
                    // A non-null `serde_json::Value` field may hold JSON `null`.
                    if column.kind == ColumnKind::Json {
                        out.push(value::json_null(self.dialect));
                        continue;
                    }
                    return Err(StoreError::BadQuery(format!(
                        "`{}` must not be null",
                        column.name
                    )));
                }
                out.push(value::to_sql(column.kind, self.dialect, column.name, v)?);
            }
        }
        Ok(())
    }

    /// The parameters of [`Statements::update`]: every column but the key, the new
    /// version, the key.
    pub(crate) fn update_values(
        &self,
        id: &str,
        value: &Value,
        version: u64,
    ) -> Result<Vec<SqlValue>, StoreError> {
        let mut out = self.insert_values(id, value, version)?;
        let key = out.remove(self.key_index);
        out.push(key);
        Ok(out)
    }

    /// The parameters of [`Statements::insert`].
    pub(crate) fn insert_values(
        &self,
        id: &str,
        value: &Value,
        version: u64,
    ) -> Result<Vec<SqlValue>, StoreError> {
        let mut out = Vec::with_capacity(self.columns.len() + 1);
        self.row_values(id, value, &mut out)?;
        out.push(version_value(version));
        Ok(out)
    }

    /// A row's decoded cells (in row order) as the instance's JSON object, leaving
    /// out the `_id` column of session and global entities.
    pub(crate) fn object(&self, cells: Vec<Value>) -> Value {
        let mut map = Map::new();
        for (column, cell) in self.columns.iter().zip(cells) {
            if column.field.is_some() {
                map.insert(column.name.to_owned(), cell);
            }
        }
        Value::Object(map)
    }
}

pub(crate) fn version_value(version: u64) -> SqlValue {
    SqlValue::BigInt(Some(i64::try_from(version).unwrap_or(i64::MAX)))
}

/// A parameter placeholder; the value is bound when the statement runs.
fn param() -> SimpleExpr {
    Expr::val(0i64).into()
}

impl Statements {
    fn new(table: &'static str, key: &'static str, columns: &[Column], dialect: Dialect) -> Self {
        let builder = dialect.query_builder();
        let names: Vec<Ident> = columns.iter().map(|c| Ident(c.name)).collect();
        let mut all = names.clone();
        all.push(Ident(VERSION_COLUMN));
        let key_is = || Expr::col(Ident(key)).eq(param());

        let mut select = Query::select();
        select
            .columns(all.iter().copied())
            .from(Ident(table))
            .and_where(key_is());
        let mut select_for_update = select.clone();
        select_for_update.lock(LockType::Update);

        let mut insert = Query::insert();
        insert
            .into_table(Ident(table))
            .columns(all.iter().copied())
            .values_panic(all.iter().map(|_| param()));
        let mut upsert = insert.clone();
        let others: Vec<Ident> = all.iter().copied().filter(|c| c.0 != key).collect();
        upsert.on_conflict(
            OnConflict::column(Ident(key))
                .update_columns(others.iter().copied())
                .to_owned(),
        );

        let mut update = Query::update();
        update
            .table(Ident(table))
            .values(others.iter().map(|c| (*c, param())))
            .and_where(key_is());
        let mut update_if_version = update.clone();
        update_if_version.and_where(Expr::col(Ident(VERSION_COLUMN)).eq(param()));

        let mut delete = Query::delete();
        delete.from_table(Ident(table)).and_where(key_is());
        let mut delete_if_version = delete.clone();
        delete_if_version.and_where(Expr::col(Ident(VERSION_COLUMN)).eq(param()));

        let mut select_all = Query::select();
        select_all
            .columns(all.iter().copied())
            .from(Ident(table))
            .order_by(Ident(key), Order::Asc);

        let insert = insert.build_any(builder).0;
        let update_if_version = update_if_version.build_any(builder).0;
        let delete_if_version = delete_if_version.build_any(builder).0;
        let sqlite = if dialect == Dialect::Sqlite {
            SqliteStatements::new(&insert, &update_if_version, &delete_if_version)
        } else {
            SqliteStatements::default()
        };
        Self {
            select: select.build_any(builder).0,
            select_for_update: select_for_update.build_any(builder).0,
            insert,
            upsert: upsert.build_any(builder).0,
            update: update.build_any(builder).0,
            delete: delete.build_any(builder).0,
            delete_if_version,
            select_all: select_all.build_any(builder).0,
            sqlite,
        }
    }
}
