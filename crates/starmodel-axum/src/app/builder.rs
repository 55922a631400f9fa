//! The application builder: entities, stores, mounts and routes in, an [`App`]
//! (or a running server) out.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::MethodRouter;
use maud::Markup;
use starmodel_core::{
    Bus, Dispatcher, Entity, EntityType, Events, ListQuery, MemoryStore, NodeId, Registry, Scope,
    Store, StoreKind,
};
use tokio::net::{TcpListener, ToSocketAddrs};

use super::mount::Mount;
use super::{App, AppContext, BuildError, ServeError};
use crate::announce::{Level, announce};
use crate::assets::DatastarBundle;
use crate::layout::Layout;
use crate::live::{LiveHub, ViewDef, Views, spawn_bus_listener};
use crate::session::{SessionKeys, random_bytes, secret_from_file};

/// How long the default memory store keeps an instance nobody touches (global
/// and record entities are exempt).
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// How many instances the default memory store holds before evicting the least
/// recently used (global and record entities are exempt).
pub const DEFAULT_CAPACITY: usize = 1_000_000;

/// The environment variable holding the session-signing secret (32+ bytes).
pub const SECRET_ENV: &str = "STARMODEL_SECRET";

/// The stores the builder was given, by the kind entities name.
type Stores = HashMap<StoreKind, Arc<dyn Store>>;

type EntityFactory = Box<dyn FnOnce(&Stores) -> Result<EntityType, BuildError> + Send>;

enum Secret {
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// Builds a StarModel application.
///
/// ```no_run
/// use starmodel_axum::StarModel;
/// # async fn run() -> Result<(), starmodel_axum::ServeError> {
/// StarModel::new()
///     // .entity::<Counter>()
///     .route("/", axum::routing::get(|| async { "hello" }))
///     .serve("127.0.0.1:5001")
///     .await
/// # }
/// ```
pub struct StarModel {
    entities: Vec<EntityFactory>,
    memory: Option<MemoryStore>,
    stores: Stores,
    mounts: Vec<Arc<dyn Mount>>,
    views: Vec<ViewDef>,
    bus: Option<Arc<dyn Bus>>,
    routes: Router,
    fallback: bool,
    secret: Option<Secret>,
    secure_cookies: bool,
    body_limit: usize,
    heartbeat: Duration,
    bundle: Option<DatastarBundle>,
    layout: Layout,
    states: http::Extensions,
    prefix: Option<String>,
    static_dir: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    event_timeout: Duration,
    reactions: super::reactions::ReactionSet,
}

impl Default for StarModel {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for StarModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StarModel")
            .field("entities", &self.entities.len())
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

impl StarModel {
    /// An application with no entities, a memory store (instances idle for
    /// [`DEFAULT_SESSION_TTL`] expire, at most [`DEFAULT_CAPACITY`] are kept; global
    /// and record entities are exempt from both), no bus (one instance), a 1 MiB body limit
    /// and a 15 s stream heartbeat.
    pub fn new() -> Self {
        Self {
            entities: Vec::new(),
            memory: None,
            stores: HashMap::new(),
            mounts: Vec::new(),
            views: Vec::new(),
            bus: None,
            routes: Router::new(),
            fallback: true,
            secret: None,
            secure_cookies: false,
            body_limit: 1024 * 1024,
            heartbeat: Duration::from_secs(15),
            bundle: None,
            layout: Layout::new(),
            states: http::Extensions::new(),
            prefix: None,
            static_dir: None,
            data_dir: None,
            event_timeout: starmodel_core::app::DEFAULT_EVENT_TIMEOUT,
            reactions: super::reactions::ReactionSet::default(),
        }
    }

    /// Runs `f` after every committed change of an `E` (created, changed,
    /// deleted), at least once: the change and a note to run `f` are written in
    /// one transaction, and the note is removed only when `f` returned `Ok`. A
    /// failed or interrupted reaction runs again (every 5 s while serving, and at
    /// the next start), so `f` may see one change more than once: do its work
    /// once per [`Reaction::key`](starmodel_core::app::reaction::Reaction::key).
    /// `f` gets the instance's state as it is when it runs.
    ///
    /// ```
    /// use starmodel_axum::StarModel;
    /// # use starmodel_core::{Entity, EntityId, Schema, Scope, StoreKind, entity::Hooks};
    /// # #[derive(serde::Serialize, serde::Deserialize)] struct Note { title: String }
    /// # impl Hooks for Note {}
    /// # impl Entity for Note {
    /// #     const NAME: &'static str = "note"; const SCOPE: Scope = Scope::Record;
    /// #     const STORE: StoreKind = StoreKind::Memory;
    /// #     fn schema() -> &'static Schema { static S: Schema = Schema::new("note", &[]); &S }
    /// #     fn initial(_: &EntityId) -> Option<Self> { None }
    /// # }
    /// let app = StarModel::new().reaction::<Note, _, _>("log", |_app, change| async move {
    ///     println!("note {} is now {:?}", change.id, change.entity.map(|n| n.title));
    ///     Ok(())
    /// });
    /// # let _ = app;
    /// ```
    pub fn reaction<E, F, Fut>(mut self, name: &'static str, f: F) -> Self
    where
        E: Entity,
        F: Fn(App, starmodel_core::app::reaction::Reaction<E>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        self.reactions.add::<E, F, Fut>(name, f);
        self
    }

    /// How long an `async` event may run (default 30 s): one that takes longer
    /// changes nothing and answers 503.
    pub fn event_timeout(mut self, timeout: Duration) -> Self {
        self.event_timeout = timeout;
        self
    }

    /// Keeps the application's own state in folder `dir` (created if missing), so
    /// that a restart loses nothing: the memory store's snapshot
    /// (`memory.json`, written every 5 s and on shutdown: session entities
    /// survive a restart) and the session secret (`secret`: sessions stay
    /// signed in). A memory store or secret given to the builder wins over these.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Serves the files of folder `dir` under `/static/`, each at a content-hashed
    /// URL cached for a year; pages name them with [`asset`](crate::asset)
    /// (`asset("app.css")`) or [`Layout::stylesheet_asset`](crate::view::Layout::stylesheet_asset).
    /// The folder is read once, when the application is built.
    pub fn static_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.static_dir = Some(dir.into());
        self
    }

    /// Serves the whole application under `prefix` (`/app`): its pages, events,
    /// live stream, Datastar bundle and API, and every action its pages render
    /// (`@post('/app/counter/increment')`). Merge [`App::router`](crate::App::router)
    /// into the larger axum router as it is (it carries the prefix); do not nest
    /// it again.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use axum::{Router, routing::get};
    /// let app = starmodel_axum::StarModel::new().prefix("/app").build().unwrap();
    /// let site: Router = Router::new()
    ///     .route("/", get(|| async { "the rest of the site" }))
    ///     .merge(app.router());
    /// # let _ = site; }
    /// ```
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = Some(prefix.to_owned());
        self
    }

    /// Gives events a value of type `T`: an event parameter of type
    /// [`State<T>`](crate::State) receives a clone of it (wrap big or shared values
    /// in an `Arc`). A second value of one type replaces the first.
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.states.insert(crate::State(value));
        self
    }

    /// Registers entity `E`, kept in the store of the kind its
    /// `#[entity(store = ...)]` names ([`store`](Self::store)).
    pub fn entity<E: Events>(mut self) -> Self {
        self.entities.push(Box::new(|stores: &Stores| {
            match stores.get(&E::STORE) {
                Some(store) => Ok(EntityType::of::<E>(store.clone())),
                None => Err(BuildError::MissingStore {
                    entity: E::NAME,
                    store: E::STORE.as_str(),
                    fix: match E::STORE {
                        StoreKind::Sql => "give it with `sql_store` (or `store(StoreKind::Sql, ..)`)",
                        _ => "give it with `store(kind, ..)`, or register the entity with `entity_with_store`",
                    },
                }),
            }
        }));
        self
    }

    /// Registers a live view: a fragment with element id `name` showing every
    /// record of `E` (ordered by id) as `render` draws them. Put it in a page with
    /// [`live_view`](crate::live_view)`(name)`; whenever a record of `E` changes
    /// it is rendered once and sent to every page showing it.
    pub fn live_view<E: Entity>(self, name: &'static str, render: fn(&[E]) -> Markup) -> Self {
        self.live_view_with(name, ListQuery::default(), render)
    }

    /// Like [`live_view`](Self::live_view), showing the records `query` selects.
    pub fn live_view_with<E: Entity>(
        mut self,
        name: &'static str,
        query: ListQuery,
        render: fn(&[E]) -> Markup,
    ) -> Self {
        self.views.push(ViewDef::list::<E>(name, query, render));
        self
    }

    /// Registers a record view: one record of `E` as `render` draws it, in an
    /// element with id `{name}-{id}`. Put it in a page with
    /// [`live_record`](crate::live_record)`(name, id)`; whenever that record
    /// changes it is rendered once and sent to every page showing it (a deleted
    /// record leaves the element empty).
    pub fn live_record<E: Entity>(mut self, name: &'static str, render: fn(&E) -> Markup) -> Self {
        self.views.push(ViewDef::record::<E>(name, render));
        self
    }

    /// The store for entities marked `#[entity(store = "sql")]` (a
    /// `starmodel_sql::SqlStore`, or any other [`Store`]): `store(StoreKind::Sql, store)`.
    pub fn sql_store(self, store: Arc<dyn Store>) -> Self {
        self.store(StoreKind::Sql, store)
    }

    /// The store for entities of this kind (`#[entity(store = "...")]`). Every
    /// kind plugs in the same way; `memory` defaults to the application's
    /// [`MemoryStore`](Self::memory_store).
    pub fn store(mut self, kind: StoreKind, store: Arc<dyn Store>) -> Self {
        self.stores.insert(kind, store);
        self
    }

    /// Registers entity `E` kept in `store`, whatever its attribute says.
    pub fn entity_with_store<E: Events>(mut self, store: Arc<dyn Store>) -> Self {
        self.entities
            .push(Box::new(move |_: &Stores| Ok(EntityType::of::<E>(store))));
        self
    }

    /// Mounts a capability: its routes join the application's behind the request
    /// pipeline with the policy it asks for (the JSON API: `starmodel_api::JsonApi`).
    pub fn mount(mut self, mount: impl Mount) -> Self {
        self.mounts.push(Arc::new(mount));
        self
    }

    /// Uses this memory store for memory entities (to set TTL, capacity or a
    /// snapshot file, or to share one store between two applications). Global
    /// and record entities are [pinned](MemoryStore::pin) in it.
    pub fn memory_store(mut self, store: MemoryStore) -> Self {
        self.memory = Some(store);
        self
    }

    /// Publishes changes on this bus so other application instances sharing the
    /// store see them (default: none, a single instance). Two apps in one process
    /// can share a [`LocalBus`](starmodel_core::LocalBus).
    pub fn bus(mut self, bus: Arc<dyn Bus>) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Adds a route, as `axum::Router::route` does.
    pub fn route(mut self, path: &str, method_router: MethodRouter) -> Self {
        self.routes = self.routes.route(path, method_router);
        self
    }

    /// Merges an existing router (its own state already provided).
    pub fn merge(mut self, router: Router) -> Self {
        self.routes = self.routes.merge(router);
        self
    }

    /// Keeps axum's empty 404 instead of StarModel's JSON 404 (for a router whose
    /// own fallback is merged in).
    pub fn without_fallback(mut self) -> Self {
        self.fallback = false;
        self
    }

    /// Signs session cookies with this secret (at least 32 bytes). Without one,
    /// `STARMODEL_SECRET` is used, else a random secret that dies with the process.
    pub fn secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.secret = Some(Secret::Bytes(secret.into()));
        self
    }

    /// Reads the session secret from `path`, creating it on first start, so
    /// sessions survive restarts.
    pub fn secret_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.secret = Some(Secret::File(path.into()));
        self
    }

    /// Marks the session cookie `Secure` (set this behind HTTPS).
    pub fn secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }

    /// The largest event request body accepted (default 1 MiB); larger is 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// What every page rendered with [`page`](crate::page) adds to StarModel's
    /// shell: stylesheets and other head elements, a layout around the body.
    ///
    /// ```
    /// use maud::html;
    /// use starmodel_axum::{StarModel, view::Layout};
    /// let app = StarModel::new().layout(
    ///     Layout::new()
    ///         .stylesheet("/static/app.css")
    ///         .body(|page| html! { nav { a href="/" { "Home" } } (page) }),
    /// );
    /// # let _ = app;
    /// ```
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// Where pages load Datastar from (default: `STARMODEL_DATASTAR_JS` if set,
    /// else the CDN). A [`DatastarBundle::Local`] is served by this application.
    pub fn datastar_bundle(mut self, bundle: DatastarBundle) -> Self {
        self.bundle = Some(bundle);
        self
    }

    /// How often an idle live stream sends a comment to keep proxies from closing it.
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every.max(Duration::from_millis(10));
        self
    }

    fn secret_bytes(secret: Option<Secret>, shared: bool) -> Result<Vec<u8>, BuildError> {
        let bytes = match secret {
            Some(Secret::Bytes(b)) => b,
            Some(Secret::File(path)) => match secret_from_file(&path) {
                Ok(bytes) => bytes,
                Err(source) => return Err(BuildError::SecretFile { path, source }),
            },
            None => match std::env::var(SECRET_ENV) {
                Ok(s) if !s.is_empty() => s.into_bytes(),
                _ if shared => return Err(BuildError::SecretNotShared),
                _ => {
                    announce(
                        Level::Warn,
                        format_args!(
                            "no session secret configured ({SECRET_ENV} or secret_file): \
                             sessions end when the process does"
                        ),
                    );
                    let mut b = vec![0u8; 32];
                    random_bytes(&mut b);
                    b
                }
            },
        };
        if bytes.len() < 32 {
            return Err(BuildError::SecretTooShort { len: bytes.len() });
        }
        Ok(bytes)
    }

    /// Builds the application. Must run inside a Tokio runtime (it starts the
    /// memory store's and the bus's background tasks).
    pub fn build(mut self) -> Result<App, BuildError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(BuildError::NoRuntime);
        }
        super::options::create_data_dir(self.data_dir.as_deref())?;
        let secret = self.secret.or_else(|| {
            self.data_dir
                .as_ref()
                .map(|dir| Secret::File(dir.join("secret")))
        });
        let memory = match self.memory {
            Some(m) => m,
            // Session instances of visitors who never come back must not pile up
            // forever; global and record ones are pinned below.
            None => {
                let mut memory = MemoryStore::builder()
                    .ttl(DEFAULT_SESSION_TTL)
                    .capacity(DEFAULT_CAPACITY);
                if let Some(dir) = &self.data_dir {
                    memory = memory.snapshot(dir.join("memory.json"));
                }
                memory.build()?
            }
        };
        memory.start_background();
        let mut kinds = self.stores;
        kinds.insert(StoreKind::Memory, Arc::new(memory.clone()));
        let mut registry = Registry::new();
        let mut stores: Vec<Arc<dyn Store>> = vec![Arc::new(memory.clone())];
        for factory in self.entities {
            let mut ty = factory(&kinds)?;
            if !self.reactions.is_empty() {
                let wrapped = self.reactions.wrap(ty.store());
                ty = ty.with_store(wrapped);
            }
            ty.store()
                .attach(ty.schema())
                .map_err(|e| BuildError::Store {
                    entity: ty.name(),
                    source: e,
                })?;
            // Only sessions come and go: shared and record instances are data,
            // never expired nor evicted.
            if matches!(ty.scope(), Scope::Global | Scope::Record) {
                memory.pin(ty.name());
            }
            if !stores.iter().any(|s| same_store(s, ty.store())) {
                stores.push(ty.store().clone());
            }
            registry.insert(ty);
        }
        for (i, view) in self.views.iter().enumerate() {
            let valid = !view.name.is_empty()
                && view
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid {
                return Err(BuildError::ViewName { name: view.name });
            }
            if self.views[..i].iter().any(|v| v.name == view.name) {
                return Err(BuildError::DuplicateView { name: view.name });
            }
            if registry.get(view.entity).is_none() {
                return Err(BuildError::ViewEntity {
                    view: view.name,
                    entity: view.entity,
                });
            }
        }
        for ty in registry.iter() {
            for (capability, flagged) in [("api", ty.schema().api)] {
                if flagged && !self.mounts.iter().any(|m| m.serves(capability)) {
                    return Err(BuildError::NotMounted {
                        entity: ty.name(),
                        capability,
                        fix: "the JSON API is not mounted: add `.mount(starmodel::api::JsonApi)` \
                              (feature `api`)",
                    });
                }
            }
        }
        starmodel_core::app::outbox::attach(&registry, !self.reactions.is_empty()).map_err(
            |e| BuildError::Store {
                entity: starmodel_core::app::outbox::OUTBOX,
                source: e,
            },
        )?;
        let secret = Self::secret_bytes(secret, self.bus.is_some())?;
        let bundle = match self.bundle {
            Some(b) => b,
            None => DatastarBundle::from_env()?,
        };

        // Without a bus this node is the only one: changes need no publishing
        // beyond the live hub.
        let dispatcher = Arc::new(
            Dispatcher::new(registry, self.bus, NodeId::random())
                .with_event_timeout(self.event_timeout)
                .with_reactions(self.reactions.take()),
        );
        let prefix = super::options::prefix(self.prefix.as_deref())?;
        let static_files = match &self.static_dir {
            Some(dir) => crate::static_files::StaticFiles::read(dir)?,
            None => crate::static_files::StaticFiles::default(),
        };
        let hub = Arc::new(LiveHub::with_views(Views::new(self.views, prefix.clone())));
        hub.views.set_dispatcher(&dispatcher);
        dispatcher.observe(hub.clone());
        if dispatcher.bus().is_some() {
            spawn_bus_listener(Arc::downgrade(&hub), Arc::downgrade(&dispatcher));
        }

        let ctx = Arc::new(AppContext {
            dispatcher,
            hub,
            sessions: Arc::new(SessionKeys::new(&secret, self.secure_cookies)),
            body_limit: self.body_limit,
            heartbeat: self.heartbeat,
            shutdown: tokio::sync::watch::channel(false).0,
            stores,
            bundle: Arc::new(bundle),
            layout: Arc::new(self.layout),
            writes: tokio_util::task::TaskTracker::new(),
            user_routes: self.routes,
            mounts: self.mounts,
            fallback: self.fallback,
            states: self.states,
            prefix,
            static_files: Arc::new(static_files),
        });
        self.reactions.start(&ctx, &ctx.dispatcher);
        Ok(App::from_context(ctx))
    }

    /// Builds the application and serves it on `addr` until Ctrl-C or SIGTERM,
    /// then shuts down gracefully: live streams end (browsers reconnect to the
    /// next server), requests in flight finish, stores are flushed.
    pub async fn serve(self, addr: impl ToSocketAddrs) -> Result<(), ServeError> {
        let app = self.build()?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        announce(Level::Info, format_args!("listening on http://{addr}"));
        app.serve_with_shutdown(listener, shutdown_signal()).await
    }
}

fn same_store(a: &Arc<dyn Store>, b: &Arc<dyn Store>) -> bool {
    starmodel_core::store::same_store(&**a, &**b)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    announce(Level::Info, format_args!("shutting down"));
}
