//! The guides, one module each: the same text as the `docs/*.md` files of the
//! repository, included here so that every example in them is compiled (and,
//! unless marked `no_run`, run) as a doctest.
//!
//! | guide | what it covers |
//! |---|---|
//! | [`entities`] | defining entities: scopes, stores, every `#[entity(..)]` option, field types and their columns |
//! | [`events`] | `#[event]` methods: parameters, return values, actions, errors, the HTTP endpoint, patch modes |
//! | [`live_views`] | pages, entity signals, live views and record views, the live stream, several servers |
//! | [`records`] | record entities, the SQL store (SQLite, PostgreSQL, MySQL), migrations, reads through the `App` handle, data copy |
//! | [`api`] | the JSON API: mounting it, routes, filters, sorting, cursors, errors, the OpenAPI document |

#[doc = include_str!("../../../docs/entities.md")]
pub mod entities {}

#[doc = include_str!("../../../docs/events.md")]
pub mod events {}

#[doc = include_str!("../../../docs/live-views.md")]
pub mod live_views {}

#[doc = include_str!("../../../docs/records.md")]
pub mod records {}

#[doc = include_str!("../../../docs/api.md")]
pub mod api {}

// The README's examples are doctests too, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
mod readme {}
