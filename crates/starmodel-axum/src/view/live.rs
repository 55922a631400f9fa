//! Live views in pages: [`live_view`] and [`live_record`] render a registered
//! view as it is now, in the element the page's live stream keeps current.

use maud::Markup;
use starmodel_core::EntityId;

use crate::app::current_app;
use crate::rejection::{ErrorResponse, NotServed, Rejection};

fn not_served(why: String) -> ErrorResponse {
    Rejection::from(NotServed(why)).into()
}

fn outside(what: &str) -> ErrorResponse {
    not_served(format!(
        "{what} works only inside a page handler of a StarModel application (a route of the application's own router, or of a `Mount` whose policy has `pages: true`)"
    ))
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
        Some(result) => Ok(result?),
        None => Err(not_served(format!(
            "no live view `{name}`: register it with `StarModel::live_view`"
        ))),
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
        Some(result) => Ok(result?),
        None => Err(not_served(format!(
            "no record view `{name}`: register it with `StarModel::live_record`"
        ))),
    }
}
