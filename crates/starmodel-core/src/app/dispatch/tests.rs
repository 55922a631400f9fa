//! The dispatcher's unit of work on a memory store: runs, rollbacks, panics, commits.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::*;
use crate::event::{EventDef, EventMethod, EventSpec, Events, IntoEventOutput};
use crate::{Entity, LocalBus, MemoryStore, Schema, Scope, StoreKind};

#[derive(Default, Serialize, Deserialize)]
struct Tally {
    total: i64,
}

impl crate::entity::Hooks for Tally {}

impl Entity for Tally {
    const NAME: &'static str = "tally";
    const SCOPE: Scope = Scope::Global;
    const STORE: StoreKind = StoreKind::Memory;
    fn schema() -> &'static Schema {
        static SCHEMA: Schema = Schema::new("tally", &[]);
        &SCHEMA
    }
    fn initial(_: &EntityId) -> Option<Self> {
        Some(Self::default())
    }
}

fn add(t: &mut Tally, input: &EventInput, _: &mut Changes) -> Result<EventOutput, EventError> {
    let amount: Option<i64> = input.param("amount")?;
    t.total += amount.unwrap_or(1);
    ().into_event_output()
}

fn explode(t: &mut Tally, _: &EventInput, _: &mut Changes) -> Result<EventOutput, EventError> {
    t.total = -1;
    panic!("kaboom");
}

const fn spec(name: &'static str) -> EventSpec {
    EventSpec {
        param_kinds: &[],
        name,
        method: EventMethod::Post,
        params: &[],
        selector: None,
        mode: None,
        kind: crate::EventKind::Update,
        internal: false,
        fires: false,
        asynchronous: false,
        injects: false,
    }
}

impl Events for Tally {
    fn events() -> &'static [EventDef<Self>] {
        static EVENTS: &[EventDef<Tally>] = &[
            EventDef {
                spec: spec("add"),
                handler: crate::Handler::Update(add),
            },
            EventDef {
                spec: spec("explode"),
                handler: crate::Handler::Update(explode),
            },
        ];
        EVENTS
    }
}

#[derive(Default)]
struct Seen(Mutex<Vec<(String, u64)>>);

impl CommitObserver for Seen {
    fn committed(&self, key: &EntityKey, record: Option<&Record>) {
        self.0
            .lock()
            .unwrap()
            .push((key.to_string(), record.map_or(0, |r| r.version)));
    }
}

fn dispatcher(bus: Option<Arc<dyn Bus>>) -> (Dispatcher, Arc<Seen>) {
    let mut registry = Registry::new();
    registry.insert(EntityType::of::<Tally>(Arc::new(MemoryStore::new())));
    let d = Dispatcher::new(registry, bus, NodeId::random());
    let seen = Arc::new(Seen::default());
    d.observe(seen.clone());
    (d, seen)
}

fn global() -> EntityId {
    EntityId::new(crate::entity::GLOBAL_ID)
}

#[tokio::test]
async fn an_untouched_instance_is_its_initial_state_at_version_0() {
    let (d, seen) = dispatcher(None);
    let record = d.state("tally", &global()).await.unwrap();
    assert_eq!(
        (record.version, record.value["total"].as_i64()),
        (0, Some(0))
    );
    assert!(seen.0.lock().unwrap().is_empty(), "reading commits nothing");
}

#[tokio::test]
async fn a_successful_event_is_written_then_observed_then_published() {
    let bus = Arc::new(LocalBus::new());
    let mut changes = bus.subscribe();
    let (d, seen) = dispatcher(Some(bus));
    let input = EventInput::new("tally").with_query([("amount".to_owned(), "5".to_owned())]);
    let outcome = d.dispatch("tally", "add", global(), &input).await.unwrap();
    assert_eq!(outcome.record.expect("written").value["total"], 5);
    assert_eq!(*seen.0.lock().unwrap(), [("tally:global".to_owned(), 1)]);
    let crate::BusEvent::Changed(change) =
        futures_util::StreamExt::next(&mut changes).await.unwrap()
    else {
        panic!("a change on the bus");
    };
    assert_eq!((&*change.entity, change.version), ("tally", 1));
}

#[tokio::test]
async fn failed_events_change_and_publish_nothing() {
    let (d, seen) = dispatcher(None);
    let input = EventInput::new("tally");
    d.dispatch("tally", "add", global(), &input).await.unwrap();

    let panicked = d
        .dispatch("tally", "explode", global(), &input)
        .await
        .unwrap_err();
    assert_eq!(panicked.to_string(), "event `explode` panicked: kaboom");
    assert_eq!(panicked.status(), http::StatusCode::INTERNAL_SERVER_ERROR);

    let bad = EventInput::new("tally").with_query([("amount".to_owned(), "x".to_owned())]);
    let invalid = d
        .dispatch("tally", "add", global(), &bad)
        .await
        .unwrap_err();
    assert_eq!(invalid.field(), Some("amount"));

    let unknown = d
        .dispatch("tally", "nope", global(), &input)
        .await
        .unwrap_err();
    assert_eq!(unknown.status(), http::StatusCode::NOT_FOUND);
    let missing = d
        .dispatch("nobody", "add", global(), &input)
        .await
        .unwrap_err();
    assert_eq!(missing.to_string(), "unknown entity `nobody`");

    let state = d.state("tally", &global()).await.unwrap();
    assert_eq!((state.version, state.value["total"].as_i64()), (1, Some(1)));
    assert_eq!(
        seen.0.lock().unwrap().len(),
        1,
        "only the success was observed"
    );
}
