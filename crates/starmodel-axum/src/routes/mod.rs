//! StarModel's own routes: one per entity event, the page's live stream and the
//! local Datastar bundle. Each group passes through the request pipeline
//! ([`crate::pipeline`]) with its policy; this module only says which paths and
//! methods exist.

mod event;
mod stream;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter, any, on};
use starmodel_core::{EventKind, EventMethod, Scope};

use crate::App;
use crate::assets::{DatastarBundle, serve_bundle};
use crate::pipeline::{PipelineLayer, Policy};
use crate::rejection::{MethodNotAllowed, NotFound, Rejection};
use crate::view::STREAM_PATH;

/// A method router for `handler` on `methods`, whose other methods answer 405
/// naming `what` and listing `allow` (in the `Allow` header too).
///
/// ```
/// use axum::routing::MethodFilter;
/// let route = starmodel_axum::routes::only(
///     MethodFilter::GET.or(MethodFilter::HEAD),
///     "GET, HEAD",
///     "this path".into(),
///     || async { "hello" },
/// );
/// # let _: axum::routing::MethodRouter = route;
/// ```
pub fn only<H, T>(
    methods: MethodFilter,
    allow: &'static str,
    what: String,
    handler: H,
) -> MethodRouter
where
    H: Handler<T, ()>,
    T: 'static,
{
    on(methods, handler).fallback(move |req: Request| {
        let what = what.clone();
        async move {
            Rejection::from(MethodNotAllowed {
                what,
                method: req.method().clone(),
                allow,
            })
        }
    })
}

fn filter(method: EventMethod) -> (MethodFilter, &'static str) {
    match method {
        EventMethod::Get => (MethodFilter::GET, "GET"),
        EventMethod::Post => (MethodFilter::POST, "POST"),
        EventMethod::Put => (MethodFilter::PUT, "PUT"),
        EventMethod::Patch => (MethodFilter::PATCH, "PATCH"),
        EventMethod::Delete => (MethodFilter::DELETE, "DELETE"),
    }
}

/// StarModel's own routes for the entities of `app`: one per event (resolved at
/// start-up, so a request does no lookup), and per entity a catch-all that names
/// an unknown event.
pub(crate) fn routes(app: &App) -> Router {
    let mut events = Router::new();
    // Unknown events are 404 from any site: outside the events' same-site policy.
    let mut unknown_events = Router::new();
    for ty in app.registry().iter() {
        let name = ty.name();
        let prefix = match ty.scope() {
            Scope::Record => format!("/{name}/{{id}}"),
            Scope::Session | Scope::Global => format!("/{name}"),
        };
        for index in 0..ty.events().len() {
            let target = event::EventTarget {
                app: app.clone(),
                ty: ty.clone(),
                index,
            };
            let spec = ty.events()[index];
            if spec.internal {
                // Run only by other events (`Changes::fire`).
                continue;
            }
            // A create event has no record yet: `/todo/add`.
            let path = match spec.kind {
                EventKind::Create => format!("/{name}/{}", spec.name),
                EventKind::Update => format!("{prefix}/{}", spec.name),
            };
            let (methods, allow) = filter(spec.method);
            let what = format!("event `{}` of `{name}`", spec.name);
            let handler = move |req: Request| event::handle(target.clone(), req);
            events = events.route(&path, only(methods, allow, what, handler));
        }
        let unknown = move |req: Request| async move {
            let event = req.uri().path().rsplit('/').next().unwrap_or_default();
            Rejection::from(NotFound::event(name, event))
        };
        unknown_events = unknown_events.route(&format!("{prefix}/{{event}}"), any(unknown));
    }
    let events = events.layer(PipelineLayer::new(app, Policy::EVENTS));

    let stream_app = app.clone();
    let mut live = Router::new().route(
        STREAM_PATH,
        only(
            MethodFilter::GET.or(MethodFilter::HEAD),
            "GET, HEAD",
            "the live stream".into(),
            move |req: Request| stream::open(stream_app.clone(), req),
        ),
    );
    if let DatastarBundle::Local { url, .. } = &*app.context().bundle {
        let bundle = app.context().bundle.clone();
        live = live.route(
            url,
            only(
                MethodFilter::GET.or(MethodFilter::HEAD),
                "GET, HEAD",
                "the Datastar bundle".into(),
                move || async move { serve_bundle(&bundle) },
            ),
        );
    }
    let files = app.context().static_files.clone();
    live = live.route(
        &format!("{}/{{*file}}", crate::STATIC_PATH),
        only(
            MethodFilter::GET.or(MethodFilter::HEAD),
            "GET, HEAD",
            "static files".into(),
            move |req: Request| {
                let files = files.clone();
                async move { files.serve(&req) }
            },
        ),
    );
    events.merge(
        live.merge(unknown_events)
            .layer(PipelineLayer::new(app, Policy::STREAM)),
    )
}
