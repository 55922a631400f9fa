//! The builder's side of reactions ([`StarModel::reaction`](super::StarModel::reaction)):
//! collects them, wraps the stores of their entities so that every change also
//! writes its reactions' outbox entries, and delivers the entries committed.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, OnceLock, Weak};

use starmodel_core::app::outbox::Entry;
use starmodel_core::app::reaction::{self, Reacting, Reaction, Reactions};
use starmodel_core::{Dispatcher, Entity, Store};
use tokio::sync::mpsc;

use super::{App, AppContext};

type Fresh = (Arc<dyn Store>, Entry);

/// The reactions given to the builder.
#[derive(Default)]
pub(crate) struct ReactionSet {
    reactions: Reactions,
    /// The built application, for the reactions' `App` argument.
    app: Arc<OnceLock<Weak<AppContext>>>,
    /// Stores wrapped so far, by identity.
    wrapped: Vec<(usize, Arc<dyn Store>)>,
    channel: Option<(mpsc::UnboundedSender<Fresh>, mpsc::UnboundedReceiver<Fresh>)>,
}

impl ReactionSet {
    pub(crate) fn add<E, F, Fut>(&mut self, name: &'static str, f: F)
    where
        E: Entity,
        F: Fn(App, Reaction<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let (app, f) = (self.app.clone(), Arc::new(f));
        let erased = reaction::erase::<E, _, _>(move |r| {
            let app = app.get().and_then(Weak::upgrade).map(App::from_context);
            let f = f.clone();
            async move {
                match app {
                    Some(app) => f(app, r).await,
                    None => Err("the application has shut down".to_owned()),
                }
            }
        });
        self.reactions
            .entry(E::NAME)
            .or_default()
            .push((name, erased));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.reactions.is_empty()
    }

    /// `store`, wrapped (once per store) when there are reactions.
    pub(crate) fn wrap(&mut self, store: &Arc<dyn Store>) -> Arc<dyn Store> {
        if self.reactions.is_empty() {
            return store.clone();
        }
        if let Some((_, wrapped)) = self.wrapped.iter().find(|(id, _)| *id == store.identity()) {
            return wrapped.clone();
        }
        let names: HashMap<&'static str, Vec<&'static str>> = self
            .reactions
            .iter()
            .map(|(entity, all)| (*entity, all.iter().map(|(n, _)| *n).collect()))
            .collect();
        let sender = self
            .channel
            .get_or_insert_with(mpsc::unbounded_channel)
            .0
            .clone();
        let wrapped: Arc<dyn Store> =
            Arc::new(Reacting::new(store.clone(), Arc::new(names), sender));
        self.wrapped.push((store.identity(), wrapped.clone()));
        wrapped
    }

    /// Hands the reactions to `dispatcher`.
    pub(crate) fn take(&mut self) -> Reactions {
        std::mem::take(&mut self.reactions)
    }

    /// Once the application exists: its handle for the reactions, and the task
    /// delivering the entries just committed.
    pub(crate) fn start(self, ctx: &Arc<AppContext>, dispatcher: &Arc<Dispatcher>) {
        let _ = self.app.set(Arc::downgrade(ctx));
        let Some((_, mut fresh)) = self.channel else {
            return;
        };
        let dispatcher = Arc::downgrade(dispatcher);
        tokio::spawn(async move {
            while let Some((store, entry)) = fresh.recv().await {
                let Some(dispatcher) = dispatcher.upgrade() else {
                    return;
                };
                let (id, origin) = (entry.id.clone(), entry.origin.clone());
                if let Err(e) = dispatcher.deliver(&store, entry).await {
                    tracing::warn!(entry = %id, %origin, error = %e, "a reaction failed; it runs again later");
                }
            }
        });
    }
}
