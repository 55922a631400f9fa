//! Reading records in views: `Todo::find(id)`, `Todo::list(query)`, `Todo::all()`
//! (generated for record entities) and [`live_view`], inside the handlers of a
//! StarModel application's routes.

use http::StatusCode;
use maud::Markup;
use starmodel_core::{DispatchError, Entity, EntityId, EntityType, ListQuery};

use crate::context::current_app;
use crate::error::ErrorResponse;

/// One page of records and the cursor of the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<E> {
    /// The records, in the query's order.
    pub items: Vec<E>,
    /// Pass as [`ListQuery::cursor`] for the next page; `None` on the last.
    pub next: Option<String>,
}

fn outside(what: &str) -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("{what} works only inside a handler of a StarModel application's routes"),
    )
}

fn decode<E: Entity>(value: serde_json::Value) -> Result<E, ErrorResponse> {
    E::deserialize(value).map_err(|e| {
        ErrorResponse::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("stored state of `{}` does not match its type: {e}", E::NAME),
        )
    })
}

async fn with_type<E: Entity, R>(
    f: impl AsyncFnOnce(&starmodel_core::Dispatcher, &EntityType) -> Result<R, DispatchError>,
) -> Result<R, ErrorResponse> {
    let ctx = current_app().ok_or_else(|| outside("reading records"))?;
    let ty = ctx.dispatcher.registry().get(E::NAME).ok_or_else(|| {
        ErrorResponse::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "entity `{}` is not registered with this application",
                E::NAME
            ),
        )
    })?;
    f(&ctx.dispatcher, ty)
        .await
        .map_err(|e| ErrorResponse::from_dispatch(&e))
}

/// The record `id` of `E`, if it exists.
pub async fn find<E: Entity>(id: impl std::fmt::Display) -> Result<Option<E>, ErrorResponse> {
    let id = EntityId::new(id.to_string());
    let record = with_type::<E, _>(async |_, ty| Ok(ty.store().load(&ty.key(id)).await?)).await?;
    record.map(|r| decode(r.value)).transpose()
}

/// The records of `E` that `query` selects.
pub async fn list<E: Entity>(query: &ListQuery) -> Result<Listed<E>, ErrorResponse> {
    let page = with_type::<E, _>(async |d, ty| d.query(ty, query).await).await?;
    Ok(Listed {
        items: page
            .items
            .into_iter()
            .map(|(_, r)| decode(r.value))
            .collect::<Result<_, _>>()?,
        next: page.next,
    })
}

/// Renders the live view `name` as it is now, in its element: put it in the page,
/// and the page's live stream keeps it current.
pub async fn live_view(name: &str) -> Result<Markup, ErrorResponse> {
    let ctx = current_app().ok_or_else(|| outside("`live_view`"))?;
    match ctx
        .hub
        .views
        .render_now(name, None, ctx.dispatcher.clone())
        .await
    {
        Some(result) => result.map_err(|e| ErrorResponse::from_dispatch(&e)),
        None => Err(ErrorResponse::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("no live view `{name}`: register it with `StarModel::live_view`"),
        )),
    }
}

/// Renders record `id` through the record view `name` as it is now, in its element
/// (id `{name}-{id}`; empty when the record does not exist): put it in the page,
/// and the page's live stream keeps it current.
pub async fn live_record(name: &str, id: impl std::fmt::Display) -> Result<Markup, ErrorResponse> {
    let ctx = current_app().ok_or_else(|| outside("`live_record`"))?;
    let id = EntityId::new(id.to_string());
    match ctx
        .hub
        .views
        .render_now(name, Some(&id), ctx.dispatcher.clone())
        .await
    {
        Some(result) => result.map_err(|e| ErrorResponse::from_dispatch(&e)),
        None => Err(ErrorResponse::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("no record view `{name}`: register it with `StarModel::live_record`"),
        )),
    }
}
