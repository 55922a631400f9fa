//! Reading records through the [`App`] handle: `Todo::find(&app, id)`,
//! `Todo::list(&app, &query)`, `Todo::all(&app)` (generated for record
//! entities), in a handler, a test, a background task or a command.

use starmodel_core::{Entity, EntityType, ListQuery};

use super::App;
use crate::rejection::{ErrorResponse, Internal, NotServed, Rejection};

/// One page of records and the cursor of the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<E> {
    /// The records, in the query's order.
    pub items: Vec<E>,
    /// Pass as [`ListQuery::cursor`] for the next page; `None` on the last.
    pub next: Option<String>,
}

/// `value` as an `E`; stored state that does not fit its type is a 500.
pub(crate) fn decode<E: Entity>(value: serde_json::Value) -> Result<E, ErrorResponse> {
    E::deserialize(value).map_err(|e| {
        Rejection::from(Internal(format!(
            "stored state of `{}` does not match its type: {e}",
            E::NAME
        )))
        .into()
    })
}

/// The 500 for `E` used by an application that does not register it: the
/// application's mistake, named with its fix.
pub(crate) fn not_registered<E: Entity>() -> ErrorResponse {
    Rejection::from(NotServed(format!(
        "entity `{}` is not registered with this application: add `.entity::<{}>()`",
        E::NAME,
        std::any::type_name::<E>()
            .rsplit("::")
            .next()
            .unwrap_or(E::NAME)
    )))
    .into()
}

impl App {
    /// The registered type of `E`; a 500 naming the entity when it is not.
    pub(crate) fn entity_type<E: Entity>(&self) -> Result<&EntityType, ErrorResponse> {
        self.ctx
            .dispatcher
            .registry()
            .get(E::NAME)
            .map(|ty| &**ty)
            .ok_or_else(not_registered::<E>)
    }

    /// The record `id` of `E`, if it exists. Generated as `Todo::find(&app, id)`
    /// for record entities; it needs no running server. The id is read as the
    /// routes read it (`6F96…` and `6f96…` are one UUID); one that cannot be an
    /// id of `E` finds nothing.
    pub async fn find<E: Entity>(
        &self,
        id: impl std::fmt::Display,
    ) -> Result<Option<E>, ErrorResponse> {
        let ty = self.entity_type::<E>()?;
        let Some(id) = ty.canonical_id(&id.to_string()) else {
            return Ok(None);
        };
        let record = ty
            .store()
            .load(&ty.key(id))
            .await
            .map_err(|e| ErrorResponse::from(starmodel_core::DispatchError::from(e)))?;
        record.map(|r| decode(r.value)).transpose()
    }

    /// The records of `E` that `query` selects.
    pub async fn list<E: Entity>(&self, query: &ListQuery) -> Result<Listed<E>, ErrorResponse> {
        let ty = self.entity_type::<E>()?;
        let page = self.ctx.dispatcher.query(ty, query).await?;
        Ok(Listed {
            items: page
                .items
                .into_iter()
                .map(|(_, r)| decode(r.value))
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }

    /// Every record of `E`, ordered by id: page after page until the store has no
    /// next one (or returns an empty page).
    pub async fn all<E: Entity>(&self) -> Result<Vec<E>, ErrorResponse> {
        let mut query = ListQuery::default();
        let mut all = Vec::new();
        loop {
            let page = self.list::<E>(&query).await?;
            let empty = page.items.is_empty();
            all.extend(page.items);
            match page.next {
                Some(next) if !empty => query.cursor = Some(next),
                _ => return Ok(all),
            }
        }
    }
}
