//! Macros for StarModel: `#[derive(Entity)]`, `#[events]` and `#[event]`.
//!
//! Use them through the `starmodel` crate (`use starmodel::prelude::*`); the code
//! they generate names `::starmodel::__private` paths.

mod entity;
mod event_attr;
mod events;

use proc_macro::TokenStream;

/// Makes a struct an entity: schema metadata, typed signal names
/// (`Counter::signal().count`) and, for session and global entities, an axum
/// extractor and a `maud::Render` impl that puts the entity's state on the page
/// as namespaced Datastar signals; for record entities, `Todo::action(id)`,
/// `Todo::create()` and the reads `Todo::find(&app, id)`, `Todo::list(&app,
/// &query)` and `Todo::all(&app)`.
///
/// ```ignore
/// // Not compiled here (a proc-macro crate cannot use its own macros in its
/// // doctests); the same code is tested in the `starmodel` crate's guide.
/// use starmodel::prelude::*;
///
/// #[derive(Entity, Clone, Serialize, Deserialize)]
/// #[entity(store = "sql", scope = "record", api)]
/// pub struct Todo {
///     #[entity(id)]
///     pub id: uuid::Uuid,
///     #[entity(validate(length(min = 1, max = 200)), index)]
///     pub title: String,
///     pub done: bool,
/// }
/// ```
///
/// The struct needs named fields, no generic parameters, and serde's
/// `Serialize` and `Deserialize`; session and global entities also `Default`.
/// The full guide is `starmodel::guide::entities` (`docs/entities.md`).
///
/// # Struct options: `#[entity(..)]` on the struct
///
/// | option | effect |
/// |---|---|
/// | `scope = "session"` | one instance per browser session (the default) |
/// | `scope = "global"` | one instance shared by everybody |
/// | `scope = "record"` | many instances, identified by the `#[entity(id)]` field |
/// | `store = "memory"` | kept in the application's memory store (the default) |
/// | `store = "sql"` | kept in the application's SQL store, one typed column per field |
/// | `store = "redis"` | not built yet: a compile error naming the missing Redis store |
/// | `store = "custom"` | not built yet: a compile error naming what is missing (register any store with `StarModel::entity_with_store` instead) |
/// | `name = "..."` | the entity's name (URL segment, signal namespace, table) instead of the struct's name in snake case; ASCII letters, digits, `_` |
/// | `api` | served by the JSON API under `/api/{name}` (record entities only; the app mounts `starmodel::api::JsonApi`): reads, raw writes and the update events |
/// | `api = "events"` | the same without raw create, replace, patch and delete: every API write runs one of the entity's events |
/// | `admin` | not built yet: a compile error naming the missing admin |
///
/// # Field options: `#[entity(..)]` on a field
///
/// | option | effect |
/// |---|---|
/// | `id` | the record's primary key: exactly one on a record entity, none on others; implies `unique` |
/// | `unique` | no two records share the value (409 `"<field> is taken"` on every store) |
/// | `index` | an index on the column, for filters and sorting |
/// | `text` | kept as text whatever the type (unit-only enums serialized as their variant name) |
/// | `validate(length(min = 1, max = 200))` | text length in characters (or items of a list), inclusive, either bound optional |
/// | `validate(range(min = 0, max = 10))` | a number's bounds, inclusive, either optional |
/// | `validate(email)` | text shaped like an e-mail address |
/// | `renamed_from = "old"` | the field used to be called `old`: the migration renames the column, keeping its data |
///
/// Options combine: `#[entity(unique, validate(email))]`.
///
/// # Field types and their columns
///
/// A field's kind comes from its type's last path segment as written;
/// `Option<T>` is `T`, nullable. The SQL store's column type per engine:
///
/// | Rust type | kind | SQLite | PostgreSQL | MySQL / MariaDB |
/// |---|---|---|---|---|
/// | `i8` … `i64`, `isize`, `u8` … `u64`, `usize` | integer | `BIGINT` | `BIGINT` | `BIGINT` |
/// | `f32`, `f64` | float | `REAL` | `DOUBLE PRECISION` | `DOUBLE` |
/// | `String`, `char`, `#[entity(text)]` | text | `TEXT` | `TEXT COLLATE "C"` | `VARCHAR(n)` or `TEXT` |
/// | `bool` | bool | `INTEGER` (0/1) | `BOOLEAN` | `BOOLEAN` |
/// | `Uuid` | uuid | `TEXT` | `UUID` | `CHAR(36)` |
/// | chrono `DateTime<Tz>` | timestamp, UTC | `TEXT` | `TIMESTAMPTZ` | `DATETIME(6)` |
/// | chrono `NaiveDateTime`, `NaiveDate`, `NaiveTime`; `time` types | date/time, kept as serde's text | `TEXT` | `TEXT COLLATE "C"` | `VARCHAR(n)` or `TEXT` |
/// | `SystemTime` | date/time, kept as serde's JSON | `TEXT` | `JSONB` | `JSON` |
/// | anything else (`Vec<T>`, maps, structs, enums with data, `serde_json::Value`) | JSON | `TEXT` | `JSONB` | `JSON` |
///
/// Only chrono's `DateTime` is a timestamp column today. MySQL text is a
/// `VARCHAR` of its `length(max)` when it is the id, unique or indexed (255
/// without a maximum, at most 768) or when its maximum is at most 255, else
/// `TEXT`.
#[proc_macro_derive(Entity, attributes(entity))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    entity::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Turns the `#[event]` methods of an entity's impl block into endpoints, with
/// typed parameter extraction and typed action builders (`Counter::action()`).
#[proc_macro_attribute]
pub fn events(args: TokenStream, input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::ItemImpl);
    events::expand(args.into(), input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Marks a method of an `#[events]` impl block as an event. Options:
/// `method = "get" | "post" | "put" | "patch" | "delete"`, `name = "..."`,
/// `selector = "#id"`, `mode = "outer" | "inner" | ...`.
///
/// On its own, outside `#[events]`, it is an error.
#[proc_macro_attribute]
pub fn event(_args: TokenStream, input: TokenStream) -> TokenStream {
    let message = if syn::parse::<syn::ItemFn>(input.clone()).is_ok() {
        "events are methods of an entity: move this function into an \
         `#[events] impl YourEntity { ... }` block and give it `&mut self`"
    } else {
        "`#[event]` only works on a method inside an `#[events]` impl block: \
         put `#[events]` on the `impl` that holds this method"
    };
    let input: proc_macro2::TokenStream = input.into();
    let error = syn::Error::new(proc_macro2::Span::call_site(), message).into_compile_error();
    quote::quote!(#error #input).into()
}
