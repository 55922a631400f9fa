//! Entities as axum extractors: `async fn index(counter: Counter) -> Markup`.

use std::sync::Arc;

use axum::http::request::Parts;
use http::StatusCode;
use starmodel_core::entity::GLOBAL_ID;
use starmodel_core::{Entity, EntityId, Scope};

use crate::context::AppContext;
use crate::error::ErrorResponse;
use crate::session::Session;

/// Loads the request's instance of `E`: the session's own for session scope, the
/// shared one for global scope. `#[derive(Entity)]` implements
/// `FromRequestParts` with this.
pub async fn extract_entity<E: Entity>(parts: &Parts) -> Result<E, ErrorResponse> {
    let ctx = parts.extensions.get::<Arc<AppContext>>().ok_or_else(|| {
        ErrorResponse::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "`{}` cannot be extracted here: the route is not served by the StarModel router",
                E::NAME
            ),
        )
    })?;
    let id = match E::SCOPE {
        Scope::Session => parts
            .extensions
            .get::<Session>()
            .map(|s| s.id().clone())
            .ok_or_else(|| {
                ErrorResponse::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "no session on the request",
                )
            })?,
        Scope::Global => EntityId::new(GLOBAL_ID),
        Scope::Record => {
            return Err(ErrorResponse::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "`{}` is a record entity: load it by id, not as an extractor",
                    E::NAME
                ),
            ));
        }
    };
    let record = ctx
        .dispatcher
        .state(E::NAME, &id)
        .await
        .map_err(|e| ErrorResponse::from_dispatch(&e))?;
    E::deserialize(&record.value).map_err(|e| {
        ErrorResponse::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("stored state of `{}` does not match its type: {e}", E::NAME),
        )
    })
}
