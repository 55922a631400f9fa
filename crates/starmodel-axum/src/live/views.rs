//! Live views: server-rendered fragments that follow an entity's records.
//!
//! A view is registered once with the application (`StarModel::live_view`): a
//! name (the fragment's element id), the entity it follows, the query that picks
//! its records, and a function rendering those records. When any record of the
//! entity changes, the view is rendered **once** and the resulting
//! `datastar-patch-elements` event goes to every page showing it, through the
//! same coalescing `watch` channels as entity states. Renders are serialized per
//! view and ordered by a generation counter, so a slow render never overwrites a
//! newer one.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use maud::{Markup, PreEscaped, html};
use starmodel_core::{DispatchError, Dispatcher, Entity, ListQuery};
use starmodel_datastar::{DatastarEvent, PatchElements};
use tokio::sync::watch;

use super::{Frame, Latest};

/// Renders a view's records: loads them through the dispatcher, returns the
/// fragment's inner HTML.
pub(crate) type RenderFn = Arc<
    dyn Fn(Arc<Dispatcher>) -> Pin<Box<dyn Future<Output = Result<String, DispatchError>> + Send>>
        + Send
        + Sync,
>;

/// A registered view.
pub(crate) struct ViewDef {
    pub(crate) name: &'static str,
    pub(crate) entity: &'static str,
    pub(crate) render: RenderFn,
}

impl ViewDef {
    /// A view of the records of `E` that `query` selects, rendered by `render`.
    pub(crate) fn of<E: Entity>(
        name: &'static str,
        query: ListQuery,
        render: fn(&[E]) -> Markup,
    ) -> Self {
        let query = Arc::new(query);
        Self {
            name,
            entity: E::NAME,
            render: Arc::new(move |dispatcher: Arc<Dispatcher>| {
                let query = query.clone();
                Box::pin(async move {
                    let ty = dispatcher
                        .registry()
                        .get(E::NAME)
                        .ok_or_else(|| DispatchError::UnknownEntity(E::NAME.to_owned()))?;
                    let page = dispatcher.query(ty, &query).await?;
                    let records = page
                        .items
                        .into_iter()
                        .map(|(_, r)| E::deserialize(r.value))
                        .collect::<Result<Vec<E>, _>>()
                        .map_err(|e| {
                            DispatchError::Event(starmodel_core::EventError::Corrupt {
                                entity: E::NAME.to_owned(),
                                reason: e.to_string(),
                            })
                        })?;
                    Ok(render(&records).into_string())
                })
            }),
        }
    }
}

/// Wraps a view's inner HTML in its element: the id the patches target, and the
/// signal telling the page's live stream to follow the view.
pub(crate) fn wrap(name: &str, inner: &str) -> Markup {
    let signals = serde_json::json!({ "starmodel": { "views": { name: true } } }).to_string();
    html! { div id=(name) "data-signals"=(signals) { (PreEscaped(inner)) } }
}

struct ViewState {
    def: ViewDef,
    tx: watch::Sender<Latest>,
    /// Bumped on every change of the entity.
    generation: AtomicU64,
    /// A render task runs.
    rendering: AtomicBool,
}

/// Every registered view and its channel.
#[derive(Default)]
pub(crate) struct Views {
    views: HashMap<&'static str, Arc<ViewState>>,
    dispatcher: OnceLock<Weak<Dispatcher>>,
}

impl Views {
    pub(crate) fn new(defs: Vec<ViewDef>) -> Self {
        let views = defs
            .into_iter()
            .map(|def| {
                (
                    def.name,
                    Arc::new(ViewState {
                        def,
                        tx: watch::channel(None).0,
                        generation: AtomicU64::new(1),
                        rendering: AtomicBool::new(false),
                    }),
                )
            })
            .collect();
        Self {
            views,
            dispatcher: OnceLock::new(),
        }
    }

    pub(crate) fn set_dispatcher(&self, dispatcher: &Arc<Dispatcher>) {
        let _ = self.dispatcher.set(Arc::downgrade(dispatcher));
    }

    /// Renders view `name` now (for a page being served), wrapped in its element.
    pub(crate) async fn render_now(
        &self,
        name: &str,
        dispatcher: Arc<Dispatcher>,
    ) -> Option<Result<Markup, DispatchError>> {
        let view = self.views.get(name)?;
        Some(
            (view.def.render)(dispatcher)
                .await
                .map(|inner| wrap(name, &inner)),
        )
    }

    /// A receiver of view `name`'s frames, rendered fresh first (the page's stream
    /// starts from the current records).
    pub(crate) async fn subscribe(
        &self,
        name: &str,
    ) -> Option<Result<watch::Receiver<Latest>, DispatchError>> {
        let view = self.views.get(name)?.clone();
        let rx = view.tx.subscribe();
        let dispatcher = self.dispatcher.get()?.upgrade()?;
        let generation = view.generation.load(Ordering::SeqCst);
        Some(
            render_into(&view, dispatcher, generation)
                .await
                .map(|()| rx),
        )
    }

    /// An instance of `entity` changed: views following it render again, once
    /// per burst of changes, if anybody watches them.
    pub(crate) fn changed(&self, entity: &str) {
        for view in self.views.values().filter(|v| v.def.entity == entity) {
            view.generation.fetch_add(1, Ordering::SeqCst);
            if view.tx.receiver_count() == 0 {
                continue;
            }
            if view.rendering.swap(true, Ordering::SeqCst) {
                // The running task sees the new generation and renders again.
                continue;
            }
            let Some(dispatcher) = self.dispatcher.get().and_then(Weak::upgrade) else {
                view.rendering.store(false, Ordering::SeqCst);
                return;
            };
            let view = view.clone();
            tokio::spawn(async move {
                loop {
                    let generation = view.generation.load(Ordering::SeqCst);
                    if let Err(e) = render_into(&view, dispatcher.clone(), generation).await {
                        tracing::warn!(view = view.def.name, error = %e, "live view render failed");
                    }
                    view.rendering.store(false, Ordering::SeqCst);
                    // A change that came in while rendering, and found the flag
                    // still set, is ours to render.
                    if view.generation.load(Ordering::SeqCst) == generation
                        || view.rendering.swap(true, Ordering::SeqCst)
                    {
                        return;
                    }
                }
            });
        }
    }

    /// Every view anybody watches renders again (after missed bus messages).
    pub(crate) fn refresh_all(&self) {
        let entities: Vec<&'static str> = self.views.values().map(|v| v.def.entity).collect();
        for entity in entities {
            self.changed(entity);
        }
    }

    /// Ends every view's streams (shutdown).
    pub(crate) fn close(&self) {
        for view in self.views.values() {
            view.tx.send_replace(None);
        }
    }
}

/// Renders `view` as of `generation` and offers the frame: it replaces the
/// channel's value only when newer.
async fn render_into(
    view: &ViewState,
    dispatcher: Arc<Dispatcher>,
    generation: u64,
) -> Result<(), DispatchError> {
    let inner = (view.def.render)(dispatcher).await?;
    let html = wrap(view.def.name, &inner).into_string();
    let bytes = PatchElements::new(html).to_bytes().unwrap_or_default();
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
