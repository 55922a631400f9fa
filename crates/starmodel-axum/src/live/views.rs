//! Live views: server-rendered fragments that follow an entity's records.
//!
//! Two kinds are registered with the application:
//!
//! - a **list view** (`StarModel::live_view`): a name (the fragment's element id),
//!   the entity it follows, the query that picks its records and a function
//!   rendering them; any change of the entity renders it again;
//! - a **record view** (`StarModel::live_record`): a function rendering one
//!   record; a page shows it for one or more ids (element id `{name}-{id}`), and
//!   a change of that record renders it again.
//!
//! A view is rendered **once** per burst of changes and the resulting
//! `datastar-patch-elements` event goes to every page showing it, through the
//! same coalescing `watch` channels as entity states. Renders after changes run
//! one at a time per view; every rendering carries the generation it was started
//! at and replaces the channel's only when newer, so a slow render never
//! overwrites a newer one. A page opening its stream gets the rendering in the
//! channel when it is current, and renders it only when not. Pages tell their live stream what they show with signals the view's
//! element carries: `{"starmodel": {"views": {"todos": true}}}` and
//! `{"starmodel": {"records": {"todo-card": {"<id>": true}}}}`.

use starmodel_core::event::with_url_prefix;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock, Weak};

use maud::{Markup, PreEscaped, html};
use serde_json::json;
use starmodel_core::{DispatchError, Dispatcher, Entity, EntityId, EventError, ListQuery};
use starmodel_datastar::{DatastarEvent, PatchElements};
use tokio::sync::watch;

use super::{Frame, Latest};

type Rendered = Pin<Box<dyn Future<Output = Result<String, DispatchError>> + Send>>;

type Receiver = watch::Receiver<Latest>;

/// Renders a list view's records: loads them, returns the fragment's inner HTML.
type ListRenderFn = Arc<dyn Fn(Arc<Dispatcher>) -> Rendered + Send + Sync>;

/// Renders one record of a record view (empty when the record does not exist).
type RecordRenderFn = Arc<dyn Fn(Arc<Dispatcher>, EntityId) -> Rendered + Send + Sync>;

enum Render {
    List(ListRenderFn),
    Record(RecordRenderFn),
}

/// A registered view.
pub(crate) struct ViewDef {
    pub(crate) name: &'static str,
    pub(crate) entity: &'static str,
    render: Render,
}

fn corrupt<E: Entity>(e: &serde_json::Error) -> DispatchError {
    DispatchError::Event(EventError::Corrupt {
        entity: E::NAME.to_owned(),
        reason: e.to_string(),
    })
}

fn entity_type<E: Entity>(
    dispatcher: &Dispatcher,
) -> Result<&Arc<starmodel_core::EntityType>, DispatchError> {
    dispatcher
        .registry()
        .get(E::NAME)
        .ok_or_else(|| DispatchError::UnknownEntity(E::NAME.to_owned()))
}

impl ViewDef {
    /// A list view of the records of `E` that `query` selects, drawn by `render`.
    pub(crate) fn list<E: Entity>(
        name: &'static str,
        query: ListQuery,
        render: fn(&[E]) -> Markup,
    ) -> Self {
        let query = Arc::new(query);
        let render: ListRenderFn = Arc::new(move |dispatcher: Arc<Dispatcher>| {
            let query = query.clone();
            Box::pin(async move {
                let page = dispatcher
                    .query(entity_type::<E>(&dispatcher)?, &query)
                    .await?;
                let records = page
                    .items
                    .into_iter()
                    .map(|(_, r)| E::deserialize(r.value))
                    .collect::<Result<Vec<E>, _>>()
                    .map_err(|e| corrupt::<E>(&e))?;
                Ok(render(&records).into_string())
            })
        });
        Self {
            name,
            entity: E::NAME,
            render: Render::List(render),
        }
    }

    /// A record view of `E`: one record drawn by `render`.
    pub(crate) fn record<E: Entity>(name: &'static str, render: fn(&E) -> Markup) -> Self {
        let render: RecordRenderFn = Arc::new(move |dispatcher: Arc<Dispatcher>, id| {
            Box::pin(async move {
                let ty = entity_type::<E>(&dispatcher)?;
                let Some(record) = ty.store().load(&ty.key(id)).await? else {
                    return Ok(String::new());
                };
                let entity = E::deserialize(record.value).map_err(|e| corrupt::<E>(&e))?;
                Ok(render(&entity).into_string())
            })
        });
        Self {
            name,
            entity: E::NAME,
            render: Render::Record(render),
        }
    }
}

/// One rendered fragment and the channel carrying it to the pages showing it.
struct ViewState {
    /// The fragment's element id.
    element: String,
    /// The `data-signals` JSON that registers it with the page's live stream.
    signals: String,
    entity: &'static str,
    render: ListRenderFn,
    tx: watch::Sender<Latest>,
    /// Bumped on every change of what the view shows.
    generation: AtomicU64,
    /// A render task runs.
    rendering: AtomicBool,
}

impl ViewState {
    fn new(element: String, signals: String, entity: &'static str, render: ListRenderFn) -> Self {
        Self {
            element,
            signals,
            entity,
            render,
            tx: watch::channel(None).0,
            generation: AtomicU64::new(1),
            rendering: AtomicBool::new(false),
        }
    }

    /// The fragment around `inner`: its element id and the signal telling the
    /// page's live stream to follow it.
    fn wrap(&self, inner: &str) -> Markup {
        html! { div id=(self.element) "data-signals"=(self.signals) { (PreEscaped(inner)) } }
    }
}

/// Every registered view and the channels of the record views pages show.
#[derive(Default)]
pub(crate) struct Views {
    lists: HashMap<&'static str, Arc<ViewState>>,
    records: HashMap<&'static str, (&'static str, RecordRenderFn)>,
    /// Record view channels by view name and record id, while pages show them.
    shown: RwLock<HashMap<(&'static str, EntityId), Arc<ViewState>>>,
    dispatcher: OnceLock<Weak<Dispatcher>>,
    /// The application's mount path, put in front of the actions views render.
    prefix: Option<Arc<str>>,
}

impl Views {
    pub(crate) fn new(defs: Vec<ViewDef>, prefix: Option<Arc<str>>) -> Self {
        let mut views = Self {
            prefix,
            ..Self::default()
        };
        for def in defs {
            match def.render {
                Render::List(render) => {
                    let signals = json!({"starmodel": {"views": {def.name: true}}}).to_string();
                    let state = ViewState::new(def.name.to_owned(), signals, def.entity, render);
                    views.lists.insert(def.name, Arc::new(state));
                }
                Render::Record(render) => {
                    views.records.insert(def.name, (def.entity, render));
                }
            }
        }
        views
    }

    pub(crate) fn set_dispatcher(&self, dispatcher: &Arc<Dispatcher>) {
        let _ = self.dispatcher.set(Arc::downgrade(dispatcher));
    }

    fn dispatcher(&self) -> Option<Arc<Dispatcher>> {
        self.dispatcher.get().and_then(Weak::upgrade)
    }

    /// A fresh state of record view `name` for record `id`.
    fn record_state(&self, name: &str, id: &EntityId) -> Option<(&'static str, ViewState)> {
        let (&name, (entity, render)) = self.records.get_key_value(name)?;
        let (render, bound) = (render.clone(), id.clone());
        let signals = json!({"starmodel": {"records": {name: {id.as_str(): true}}}}).to_string();
        let state = ViewState::new(
            format!("{name}-{id}"),
            signals,
            entity,
            Arc::new(move |d| render(d, bound.clone())),
        );
        Some((name, state))
    }

    /// The state of list view `name`, or of record view `name` for `id` (created
    /// on first use), with a receiver of its frames; `None` for an unknown view.
    /// The receiver is taken under the lock that forgets unwatched record views,
    /// so a view cannot be forgotten between its creation and its first viewer.
    fn watch(&self, name: &str, id: Option<&EntityId>) -> Option<(Arc<ViewState>, Receiver)> {
        let Some(id) = id else {
            let state = self.lists.get(name)?.clone();
            let rx = state.tx.subscribe();
            return Some((state, rx));
        };
        let (name, fresh) = self.record_state(name, id)?;
        let mut shown = self.shown.write().unwrap_or_else(PoisonError::into_inner);
        // Forget the channels nobody watches any more.
        shown.retain(|_, s| s.tx.receiver_count() > 0);
        let state = shown
            .entry((name, id.clone()))
            .or_insert_with(|| Arc::new(fresh))
            .clone();
        let rx = state.tx.subscribe();
        Some((state, rx))
    }

    /// Renders list view `name` (or record view `name` for `id`) now, for a page
    /// being served, in its element.
    pub(crate) async fn render_now(
        &self,
        name: &str,
        id: Option<&EntityId>,
        dispatcher: Arc<Dispatcher>,
    ) -> Option<Result<Markup, DispatchError>> {
        let state = match id {
            None => self.lists.get(name)?.clone(),
            // Not registered as shown: the page's stream does that.
            Some(id) => Arc::new(self.record_state(name, id)?.1),
        };
        Some(
            with_url_prefix(self.prefix.as_ref(), (state.render)(dispatcher))
                .await
                .map(|inner| state.wrap(&inner)),
        )
    }

    /// A receiver of the frames of list view `name` (or record view `name` for
    /// `id`), holding the current rendering: the page's stream starts from the
    /// current records. A view rendered since the last change is not rendered
    /// again. `None` for an unknown view.
    pub(crate) async fn subscribe(
        &self,
        name: &str,
        id: Option<&EntityId>,
    ) -> Option<Result<Receiver, DispatchError>> {
        let (state, rx) = self.watch(name, id)?;
        let generation = state.generation.load(Ordering::SeqCst);
        let current = state
            .tx
            .borrow()
            .as_ref()
            .is_some_and(|f| f.version >= generation);
        if current {
            return Some(Ok(rx));
        }
        let dispatcher = self.dispatcher()?;
        Some(
            render_into(&state, dispatcher, generation, self.prefix.clone())
                .await
                .map(|()| rx),
        )
    }

    /// Instance `id` of `entity` changed (`None`: anything may have): the views
    /// showing it render again, once per burst of changes, if anybody watches.
    pub(crate) fn changed(&self, entity: &str, id: Option<&EntityId>) {
        // Every commit comes here: an application without views pays nothing.
        if self.lists.is_empty() && self.records.is_empty() {
            return;
        }
        let Some(dispatcher) = self.dispatcher() else {
            return;
        };
        for view in self.lists.values().filter(|v| v.entity == entity) {
            schedule(view, &dispatcher, self.prefix.as_ref());
        }
        let shown = self.shown.read().unwrap_or_else(PoisonError::into_inner);
        for ((_, shown_id), view) in &*shown {
            if view.entity == entity && id.is_none_or(|id| id == shown_id) {
                schedule(view, &dispatcher, self.prefix.as_ref());
            }
        }
    }

    /// Every view anybody watches renders again (after missed bus messages).
    pub(crate) fn refresh_all(&self) {
        let mut entities: Vec<&'static str> = self.lists.values().map(|v| v.entity).collect();
        entities.extend(self.records.values().map(|(entity, _)| *entity));
        entities.dedup();
        for entity in entities {
            self.changed(entity, None);
        }
    }

    /// Wakes every view's streams (shutdown: they see the hub closed and end).
    pub(crate) fn close(&self) {
        for view in self.lists.values() {
            view.tx.send_replace(None);
        }
        for view in self
            .shown
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            view.tx.send_replace(None);
        }
    }
}

/// Renders `view` again soon, unless nobody watches it; a burst of changes
/// while it renders ends in one more render.
fn schedule(view: &Arc<ViewState>, dispatcher: &Arc<Dispatcher>, prefix: Option<&Arc<str>>) {
    view.generation.fetch_add(1, Ordering::SeqCst);
    if view.tx.receiver_count() == 0 || view.rendering.swap(true, Ordering::SeqCst) {
        // Nobody to tell, or the running task sees the new generation.
        return;
    }
    let (view, dispatcher, prefix) = (view.clone(), dispatcher.clone(), prefix.cloned());
    tokio::spawn(async move {
        loop {
            let generation = view.generation.load(Ordering::SeqCst);
            if let Err(e) = render_into(&view, dispatcher.clone(), generation, prefix.clone()).await
            {
                tracing::warn!(view = view.element, error = %e, "live view render failed");
            }
            view.rendering.store(false, Ordering::SeqCst);
            // A change that came in while rendering, and found the flag still
            // set, is ours to render.
            if view.generation.load(Ordering::SeqCst) == generation
                || view.rendering.swap(true, Ordering::SeqCst)
            {
                return;
            }
        }
    });
}

/// Renders `view` as of `generation` and offers the frame: it replaces the
/// channel's value only when newer.
async fn render_into(
    view: &ViewState,
    dispatcher: Arc<Dispatcher>,
    generation: u64,
    prefix: Option<Arc<str>>,
) -> Result<(), DispatchError> {
    let inner = with_url_prefix(prefix.as_ref(), (view.render)(dispatcher)).await?;
    let html = view.wrap(&inner).into_string();
    let bytes = match PatchElements::new(html).to_bytes() {
        Ok(bytes) => bytes,
        Err(e) => {
            // Markup from maud holds no bare line breaks the encoder refuses;
            // should it, the pages keep their last good rendering.
            tracing::error!(view = view.element, error = %e, "live view could not be encoded");
            return Ok(());
        }
    };
    let frame = Frame {
        version: generation,
        bytes,
        state: Arc::new(serde_json::Value::Null),
    };
    view.tx.send_if_modified(|current| {
        if current.as_ref().is_some_and(|f| f.version >= generation) {
            return false;
        }
        *current = Some(frame);
        true
    });
    Ok(())
}
