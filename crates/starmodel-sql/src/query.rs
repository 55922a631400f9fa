//! A [`ListQuery`] as one `SELECT`: filters in `WHERE`, the sort then the key in
//! `ORDER BY`, the page in `LIMIT`/`OFFSET`; the same answers as the memory store's
//! [`query::apply`](starmodel_core::store::query::apply).

use sea_query::{Cond, Expr, NullOrdering, Order, Query, SimpleExpr, Values};
use serde_json::Value;
use starmodel_core::store::query::cursor_offset;
use starmodel_core::{FilterOp, ListQuery, StoreError};

use crate::ddl::VERSION_COLUMN;
use crate::dialect::{ColumnKind, Dialect, Ident};
use crate::table::TableInfo;
use crate::value;

/// A query ready to run: its SQL and parameters, and where its page starts.
#[derive(Debug)]
pub(crate) struct Select {
    pub(crate) sql: String,
    pub(crate) values: Values,
    /// Position of the first row returned.
    pub(crate) start: usize,
    /// The page size asked for; one row more is fetched to know if more follow.
    pub(crate) limit: Option<usize>,
}

/// The column a query names, checked against the schema.
fn column(table: &TableInfo, name: &str) -> Result<(Ident, ColumnKind, bool), StoreError> {
    let field = table.schema.field(name).ok_or_else(|| {
        StoreError::BadQuery(format!("`{}` has no field `{name}`", table.schema.name))
    })?;
    let kind = ColumnKind::of(field);
    if kind == ColumnKind::Json {
        return Err(StoreError::BadQuery(format!(
            "`{name}` holds JSON and cannot be filtered or sorted on"
        )));
    }
    Ok((Ident(field.name), kind, field.nullable))
}

/// A filter value for a column of `kind`: numbers compare with integer columns even
/// when fractional, as they do in memory.
fn operand(
    kind: ColumnKind,
    dialect: Dialect,
    field: &str,
    value: &Value,
) -> Result<SimpleExpr, StoreError> {
    let v = match (kind, value) {
        (ColumnKind::Integer, Value::Number(n)) if n.as_i64().is_none() => {
            value::to_sql(ColumnKind::Float, dialect, field, value)?
        }
        _ => value::to_sql(kind, dialect, field, value)?,
    };
    Ok(Expr::val(v).into())
}

fn condition(
    table: &TableInfo,
    field: &str,
    op: FilterOp,
    value: &Value,
) -> Result<SimpleExpr, StoreError> {
    let (col, kind, nullable) = column(table, field)?;
    let c = || Expr::col(col);
    if value.is_null() {
        // In memory, null sorts before everything and equals only itself.
        return Ok(match op {
            FilterOp::Eq => c().is_null(),
            FilterOp::Ne | FilterOp::Gt | FilterOp::Ge => c().is_not_null(),
            _ => Expr::val(1).eq(0),
        });
    }
    let v = operand(kind, table.dialect, field, value)?;
    Ok(match op {
        FilterOp::Eq => c().eq(v),
        FilterOp::Ne if nullable => c().ne(v).or(c().is_null()),
        FilterOp::Ne => c().ne(v),
        FilterOp::Lt => c().lt(v),
        FilterOp::Le => c().lte(v),
        FilterOp::Gt => c().gt(v),
        FilterOp::Ge => c().gte(v),
        _ => {
            return Err(StoreError::BadQuery(format!(
                "filter on `{field}`: unsupported comparison"
            )));
        }
    })
}

/// Builds the `SELECT` answering `query` on `table`.
pub(crate) fn select(table: &TableInfo, query: &ListQuery) -> Result<Select, StoreError> {
    let mut stmt = Query::select();
    stmt.columns(table.columns.iter().map(|c| Ident(c.name)))
        .column(Ident(VERSION_COLUMN))
        .from(Ident(table.schema.name));
    let mut all = Cond::all();
    for filter in &query.filters {
        all = all.add(condition(table, &filter.field, filter.op, &filter.value)?);
    }
    stmt.cond_where(all);
    let postgres = table.dialect == Dialect::Postgres;
    for sort in &query.sort {
        let (col, _, _) = column(table, &sort.field)?;
        let (order, nulls) = if sort.descending {
            (Order::Desc, NullOrdering::Last)
        } else {
            (Order::Asc, NullOrdering::First)
        };
        // SQLite and MySQL already sort NULL first ascending; PostgreSQL last.
        if postgres {
            stmt.order_by_with_nulls(col, order, nulls);
        } else {
            stmt.order_by(col, order);
        }
    }
    stmt.order_by(Ident(table.key), Order::Asc);
    let start = match &query.cursor {
        Some(cursor) => cursor_offset(cursor)
            .ok_or_else(|| StoreError::BadQuery(format!("`{cursor}` is not a cursor")))?,
        None => query.offset,
    };
    match query.limit {
        Some(limit) => {
            stmt.limit(u64::try_from(limit.saturating_add(1)).unwrap_or(u64::MAX));
        }
        // MySQL has no OFFSET without LIMIT.
        None if start > 0 => {
            stmt.limit(i64::MAX as u64);
        }
        None => {}
    }
    if start > 0 {
        stmt.offset(start as u64);
    }
    let (sql, values) = stmt.build_any(table.dialect.query_builder());
    Ok(Select {
        sql,
        values,
        start,
        limit: query.limit,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use starmodel_core::entity::{Field, FieldType, Schema};
    use starmodel_core::{Filter, Sort};

    use super::*;

    static FIELDS: [Field; 3] = [
        Field::new("id", "String", FieldType::Text).id().unique(),
        Field::new("order", "Option<i64>", FieldType::Integer).nullable(),
        Field::new("tags", "Vec<String>", FieldType::Json),
    ];
    static SCHEMA: Schema = Schema::new("group", &FIELDS);

    fn filter(field: &str, op: FilterOp, value: Value) -> ListQuery {
        ListQuery {
            filters: vec![Filter {
                field: field.into(),
                op,
                value,
            }],
            ..ListQuery::default()
        }
    }

    #[test]
    fn postgres_select_quotes_binds_and_orders_nulls_first() {
        let table = TableInfo::new(&SCHEMA, Dialect::Postgres);
        let q = ListQuery {
            sort: vec![Sort {
                field: "order".into(),
                descending: false,
            }],
            limit: Some(2),
            cursor: Some("o4".into()),
            ..filter("order", FilterOp::Ne, json!(3))
        };
        let mut q = q;
        q.filters.push(Filter {
            field: "id".into(),
            op: FilterOp::Ge,
            value: json!("b"),
        });
        let s = select(&table, &q).unwrap();
        assert_eq!(
            s.sql,
            r#"SELECT "id", "order", "tags", "_version" FROM "group" WHERE ("order" <> $1 OR "order" IS NULL) AND "id" >= $2 ORDER BY "order" ASC NULLS FIRST, "id" ASC LIMIT $3 OFFSET $4"#
        );
        assert_eq!(s.values.0.len(), 4);
        assert_eq!((s.start, s.limit), (4, Some(2)));
    }

    #[test]
    fn wrong_fields_and_types_are_bad_queries() {
        let table = TableInfo::new(&SCHEMA, Dialect::Sqlite);
        for q in [
            filter("nope", FilterOp::Eq, json!(1)),
            filter("order", FilterOp::Eq, json!("three")),
            filter("tags", FilterOp::Eq, json!("a")),
            ListQuery {
                cursor: Some("garbage".into()),
                ..ListQuery::default()
            },
        ] {
            let e = select(&table, &q).unwrap_err();
            assert!(matches!(e, StoreError::BadQuery(_)), "{q:?}: {e}");
        }
    }

    #[test]
    fn null_filters_follow_memory_semantics() {
        let table = TableInfo::new(&SCHEMA, Dialect::Sqlite);
        let sql = |op| {
            select(&table, &filter("order", op, Value::Null))
                .unwrap()
                .sql
        };
        assert!(sql(FilterOp::Eq).ends_with(r#"WHERE "order" IS NULL ORDER BY "id" ASC"#));
        assert!(sql(FilterOp::Gt).contains(r#""order" IS NOT NULL"#));
        assert!(sql(FilterOp::Lt).contains("WHERE ? = ?"));
    }
}
