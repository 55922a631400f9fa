//! The application builder: entities and routes in, an `axum::Router` (or a
//! running server) out.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::MethodRouter;
use maud::Markup;
use starmodel_core::{
    Bus, Dispatcher, Entity, EntityType, Events, ListQuery, MemoryStore, NodeId, Registry, Scope,
    Store, StoreError, StoreKind,
};
use tokio::net::{TcpListener, ToSocketAddrs};

use crate::context::AppContext;
use crate::live::{LiveHub, ViewDef, Views, spawn_bus_listener};
use crate::routes;
use crate::session::{SessionKeys, random_bytes, secret_from_file};
use crate::view::DatastarBundle;

/// How long the default memory store keeps an instance nobody touches (global
/// and record entities are exempt).
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// How many instances the default memory store holds before evicting the least
/// recently used (global and record entities are exempt).
pub const DEFAULT_CAPACITY: usize = 1_000_000;

/// The environment variable holding the session-signing secret (32+ bytes).
pub const SECRET_ENV: &str = "STARMODEL_SECRET";

/// Why an application could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// An entity asks for a store the application does not have.
    #[error(
        "entity `{entity}` uses store `{store}`, which this application has not configured: \
         give it with `sql_store` (for `sql`) or register the entity with `entity_with_store`"
    )]
    MissingStore {
        /// The entity.
        entity: &'static str,
        /// The store it asked for.
        store: &'static str,
    },
    /// A live view is misnamed, named twice or follows an unregistered entity.
    #[error("live view: {0}")]
    View(String),
    /// The session secret is too short or unreadable.
    #[error("session secret: {0}")]
    Secret(String),
    /// `STARMODEL_DATASTAR_JS` names a file that cannot be used.
    #[error("{0}")]
    Datastar(String),
    /// The memory store could not load its snapshot.
    #[error(transparent)]
    Memory(#[from] StoreError),
    /// A store refused an entity (a SQL store: a type it cannot map).
    #[error("store of entity `{entity}`: {source}")]
    Store {
        /// The entity.
        entity: &'static str,
        /// What the store said.
        #[source]
        source: StoreError,
    },
    /// The entity uses something this version cannot serve yet.
    #[error("entity `{entity}` cannot be served: {what} are not supported yet")]
    Unsupported {
        /// The entity.
        entity: &'static str,
        /// What is missing.
        what: &'static str,
    },
    /// Building needs a Tokio runtime for its background tasks.
    #[error("StarModel::build must run inside a Tokio runtime")]
    NoRuntime,
}

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The application could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A store could not get ready (a SQL store's migrations failed).
    #[error("store not ready: {0}")]
    Prepare(#[from] StoreError),
    /// Binding or serving failed.
    #[error("server i/o failed: {0}")]
    Io(#[from] std::io::Error),
}

type EntityFactory =
    Box<dyn FnOnce(&MemoryStore, Option<&Arc<dyn Store>>) -> Result<EntityType, BuildError> + Send>;

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
    sql: Option<Arc<dyn Store>>,
    views: Vec<ViewDef>,
    bus: Option<Arc<dyn Bus>>,
    routes: Router,
    fallback: bool,
    secret: Option<Secret>,
    secure_cookies: bool,
    body_limit: usize,
    heartbeat: Duration,
    bundle: Option<DatastarBundle>,
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
            sql: None,
            views: Vec::new(),
            bus: None,
            routes: Router::new(),
            fallback: true,
            secret: None,
            secure_cookies: false,
            body_limit: 1024 * 1024,
            heartbeat: Duration::from_secs(15),
            bundle: None,
        }
    }

    /// Registers entity `E`, kept in the store its `#[entity(store = ...)]` names.
    pub fn entity<E: Events>(mut self) -> Self {
        self.entities.push(Box::new(
            |memory: &MemoryStore, sql: Option<&Arc<dyn Store>>| match (E::STORE, sql) {
                (StoreKind::Memory, _) => Ok(EntityType::of::<E>(Arc::new(memory.clone()))),
                (StoreKind::Sql, Some(sql)) => Ok(EntityType::of::<E>(sql.clone())),
                (other, _) => Err(BuildError::MissingStore {
                    entity: E::NAME,
                    store: match other {
                        StoreKind::Sql => "sql",
                        StoreKind::Redis => "redis",
                        _ => "custom",
                    },
                }),
            },
        ));
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
    /// `starmodel_sql::SqlStore`, or any other [`Store`]).
    pub fn sql_store(mut self, store: Arc<dyn Store>) -> Self {
        self.sql = Some(store);
        self
    }

    /// Registers entity `E` kept in `store`, whatever its attribute says.
    pub fn entity_with_store<E: Events>(mut self, store: Arc<dyn Store>) -> Self {
        self.entities.push(Box::new(
            move |_: &MemoryStore, _: Option<&Arc<dyn Store>>| Ok(EntityType::of::<E>(store)),
        ));
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
            Some(Secret::File(path)) => secret_from_file(&path)
                .map_err(|e| BuildError::Secret(format!("`{}`: {e}", path.display())))?,
            None => match std::env::var(SECRET_ENV) {
                Ok(s) if !s.is_empty() => s.into_bytes(),
                _ if shared => {
                    return Err(BuildError::Secret(format!(
                        "instances sharing a bus must sign sessions with one secret \
                         (a random one per instance would end a session at every switch): \
                         set {SECRET_ENV}, `secret` or `secret_file`"
                    )));
                }
                _ => {
                    tracing::warn!(
                        "no session secret configured ({SECRET_ENV} or secret_file): \
                         sessions end when the process does"
                    );
                    let mut b = vec![0u8; 32];
                    random_bytes(&mut b);
                    b
                }
            },
        };
        if bytes.len() < 32 {
            return Err(BuildError::Secret(format!(
                "it has {} bytes; at least 32 are needed",
                bytes.len()
            )));
        }
        Ok(bytes)
    }

    /// Builds the application. Must run inside a Tokio runtime (it starts the
    /// memory store's and the bus's background tasks).
    pub fn build(self) -> Result<App, BuildError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(BuildError::NoRuntime);
        }
        let memory = match self.memory {
            Some(m) => m,
            // Session instances of visitors who never come back must not pile up
            // forever; global and record ones are pinned below.
            None => MemoryStore::builder()
                .ttl(DEFAULT_SESSION_TTL)
                .capacity(DEFAULT_CAPACITY)
                .build()?,
        };
        memory.start_background();
        let mut registry = Registry::new();
        let mut stores: Vec<Arc<dyn Store>> = vec![Arc::new(memory.clone())];
        for factory in self.entities {
            let ty = factory(&memory, self.sql.as_ref())?;
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
                return Err(BuildError::View(format!(
                    "`{}` cannot be an element id: use ASCII letters, digits, `-` and `_`",
                    view.name
                )));
            }
            if self.views[..i].iter().any(|v| v.name == view.name) {
                return Err(BuildError::View(format!(
                    "two live views are named `{}`",
                    view.name
                )));
            }
            if registry.get(view.entity).is_none() {
                return Err(BuildError::View(format!(
                    "live view `{}` follows entity `{}`, which is not registered",
                    view.name, view.entity
                )));
            }
        }
        let secret = Self::secret_bytes(self.secret, self.bus.is_some())?;
        let bundle = match self.bundle {
            Some(b) => b,
            None => DatastarBundle::from_env().map_err(BuildError::Datastar)?,
        };

        // Without a bus this node is the only one: changes need no publishing
        // beyond the live hub.
        let dispatcher = Arc::new(Dispatcher::new(registry, self.bus, NodeId::random()));
        let hub = Arc::new(LiveHub::with_views(Views::new(self.views)));
        hub.views.set_dispatcher(&dispatcher);
        dispatcher.observe(hub.clone());
        if dispatcher.bus().is_some() {
            spawn_bus_listener(Arc::downgrade(&hub), Arc::downgrade(&dispatcher));
        }

        let ctx = Arc::new(AppContext {
            dispatcher,
            hub,
            sessions: SessionKeys::new(&secret, self.secure_cookies),
            body_limit: self.body_limit,
            heartbeat: self.heartbeat,
            shutdown: tokio::sync::watch::channel(false).0,
            stores,
            bundle: Arc::new(bundle),
            writes: tokio_util::task::TaskTracker::new(),
        });
        // StarModel's own routes resolve the session themselves; the session layer
        // serves the application's routes (extractors, `Session`).
        let layer_ctx = ctx.clone();
        let user_routes = self
            .routes
            .layer(axum::middleware::from_fn(move |req, next| {
                routes::session_layer(layer_ctx.clone(), req, next)
            }));
        let mut router = routes::routes(&ctx).merge(user_routes);
        if self.fallback {
            router = router.fallback(routes::not_found);
        }
        Ok(App { router, ctx })
    }

    /// Builds the application and serves it on `addr` until Ctrl-C or SIGTERM,
    /// then shuts down gracefully: live streams end (browsers reconnect to the
    /// next server), requests in flight finish, stores are flushed.
    pub async fn serve(self, addr: impl ToSocketAddrs) -> Result<(), ServeError> {
        let app = self.build()?;
        let listener = TcpListener::bind(addr).await?;
        tracing::info!("listening on http://{}", listener.local_addr()?);
        app.serve_with_shutdown(listener, shutdown_signal()).await
    }
}

fn same_store(a: &Arc<dyn Store>, b: &Arc<dyn Store>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
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
    tracing::info!("shutting down");
}

/// A built application: its router and the handle to shut it down.
#[derive(Clone)]
pub struct App {
    router: Router,
    ctx: Arc<AppContext>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

impl App {
    /// The router, to serve or to nest in a larger axum application.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Readies every store (a SQL store applies its start-up migrations). Serving
    /// calls it; call it yourself before serving [`router`](Self::router).
    pub async fn prepare(&self) -> Result<(), StoreError> {
        for store in &self.ctx.stores {
            store.prepare().await?;
        }
        Ok(())
    }

    /// Ends every live stream, waits for the writes under way (up to 30 s) and
    /// flushes the stores (memory snapshots).
    pub async fn shutdown(&self) {
        self.ctx.begin_shutdown();
        self.ctx.finish_writes().await;
        self.ctx.flush_stores().await;
    }

    /// Readies the stores ([`prepare`](Self::prepare)), then serves on `listener`
    /// until `signal` resolves, then shuts down gracefully.
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        self.prepare().await?;
        let ctx = self.ctx.clone();
        // `into_make_service` shares one routing table between connections (serving
        // the `Router` itself copies it for each, about 2 KiB per live stream).
        let served = axum::serve(listener, self.router.into_make_service())
            .with_graceful_shutdown(async move {
                signal.await;
                ctx.begin_shutdown();
                // Save now: draining connections may take a while, and a second
                // signal or a crash during it must not lose the state.
                ctx.flush_stores().await;
            })
            .await;
        // Connections are closed; writes whose clients left before may still run.
        self.ctx.finish_writes().await;
        self.ctx.flush_stores().await;
        served.map_err(ServeError::from)
    }
}
