//! [`Pages`]: one entity's instances read a page at a time.

use crate::EntityId;
use crate::store::{ListQuery, Record, Store, StoreError};

/// How many instances are read per page unless told otherwise.
pub(super) const PAGE_SIZE: usize = 500;

/// Reads one entity's instances a page at a time, in the store's id order.
pub(super) struct Pages<'a> {
    store: &'a dyn Store,
    entity: &'a str,
    query: ListQuery,
    done: bool,
}

impl<'a> Pages<'a> {
    pub(super) fn new(store: &'a dyn Store, entity: &'a str, page_size: usize) -> Self {
        Pages {
            store,
            entity,
            query: ListQuery {
                limit: Some(page_size.max(1)),
                ..ListQuery::default()
            },
            done: false,
        }
    }

    pub(super) async fn next(&mut self) -> Result<Option<Vec<(EntityId, Record)>>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let page = self.store.query(self.entity, &self.query).await?;
        self.done = page.next.is_none() || page.items.is_empty();
        self.query.cursor = page.next;
        Ok((!page.items.is_empty()).then_some(page.items))
    }
}
