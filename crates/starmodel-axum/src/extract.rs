//! Entities as axum extractors: `async fn index(counter: Counter) -> Markup`.

use axum::http::request::Parts;
use starmodel_core::entity::GLOBAL_ID;
use starmodel_core::{DispatchError, Entity, EntityId, Scope};

use crate::App;
use crate::app::{decode, not_registered};
use crate::rejection::{ErrorResponse, NotServed, Rejection};
use crate::session::SessionSlot;

/// Loads the request's instance of `E`: the session's own for session scope, the
/// shared one for global scope. `#[derive(Entity)]` implements
/// `FromRequestParts` with this.
pub async fn extract_entity<E: Entity>(parts: &Parts) -> Result<E, ErrorResponse> {
    let not_served = |why: String| ErrorResponse::from(Rejection::from(NotServed(why)));
    let app = parts.extensions.get::<App>().ok_or_else(|| {
        not_served(format!(
            "`{}` cannot be extracted here: the route is not served by the StarModel router",
            E::NAME
        ))
    })?;
    let id = match E::SCOPE {
        Scope::Session => SessionSlot::of(parts)
            .ok_or_else(|| not_served("no session on the request".into()))?
            .session()
            .id()
            .clone(),
        Scope::Global => EntityId::new(GLOBAL_ID),
        Scope::Record => {
            return Err(not_served(format!(
                "`{}` is a record entity: load it by id, not as an extractor",
                E::NAME
            )));
        }
    };
    // An entity the application does not register is the application's mistake
    // (a 500 naming the fix), not a missing page; found on the failure path only.
    let record = match app.dispatcher().state(E::NAME, &id).await {
        Ok(record) => record,
        Err(DispatchError::UnknownEntity(_)) => return Err(not_registered::<E>()),
        Err(e) => return Err(e.into()),
    };
    decode(record.value)
}
