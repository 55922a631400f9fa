//! Capabilities that plug into an application: the JSON API (`starmodel-api`),
//! and the admin, auth pages and others to come.
//!
//! A [`Mount`] gives routes built from the [`App`] handle (its entity types,
//! dispatcher and limits, all public) and the [`Policy`] the request pipeline
//! applies to them. It depends on this crate's public seams only: the pipeline
//! ([`read_body`](crate::pipeline::read_body),
//! [`same_site`](crate::pipeline::same_site)), the typed
//! [rejections](crate::rejection) and the `App`.

use axum::Router;

use crate::App;
use crate::policy::Policy;

/// A capability mounted on an application with
/// [`StarModel::mount`](crate::StarModel::mount).
///
/// ```
/// use axum::{Router, routing::get};
/// use starmodel_axum::{App, Mount, StarModel, pipeline::Policy};
///
/// struct Health;
///
/// impl Mount for Health {
///     fn routes(&self, app: &App) -> Router {
///         let entities = app.registry().iter().count();
///         Router::new().route("/health", get(move || async move { format!("{entities} entities") }))
///     }
///     fn policy(&self) -> Policy {
///         Policy::writes("health write", "send it without browser headers")
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let app = StarModel::new().mount(Health).build().unwrap();
/// # let _ = app.router();
/// # }
/// ```
pub trait Mount: Send + Sync + 'static {
    /// The routes, built once per [`App::router`] call.
    fn routes(&self, app: &App) -> Router;

    /// What the request pipeline does for these routes.
    fn policy(&self) -> Policy;

    /// Whether it serves entities marked with this `#[entity(..)]` capability
    /// (`"api"`): building refuses an entity whose capability nothing serves.
    fn serves(&self, capability: &str) -> bool {
        let _ = capability;
        false
    }
}
