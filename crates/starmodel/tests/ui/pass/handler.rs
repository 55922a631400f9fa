//! A generated handler end to end: parameters from the request, the method's
//! effect on the state, its output and its errors.

use starmodel::core::event::Changes;
use starmodel::core::{EventError, EventInput, EventOutput, ParamError};
use starmodel::prelude::*;

include!("../shared/counter.rs");
counter! {
    reset
    #[event]
    fn set(&mut self, value: i64) -> Result<(), String> {
        if value < 0 {
            return Err(format!("{value} is negative"));
        }
        self.count = value;
        Ok(())
    }
}

fn query(pairs: &[(&str, &str)]) -> EventInput {
    EventInput::new(Counter::NAME).with_query(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    )
}

fn main() {
    let events = Counter::events();
    let increment = events[0].handler.as_update().expect("an update event");
    let reset = events[1].handler.as_update().expect("an update event");
    let set = events[2].handler.as_update().expect("an update event");
    let mut counter = Counter::default();

    let output = increment(&mut counter, &query(&[("amount", "5")]), &mut Changes::default());
    assert_eq!(output, Ok(EventOutput::Signals));
    assert_eq!((counter.count, counter.update_count), (5, 1));

    // An absent `Option` parameter is `None`.
    let output = increment(&mut counter, &query(&[]), &mut Changes::default());
    assert_eq!(output, Ok(EventOutput::Signals));
    assert_eq!((counter.count, counter.update_count), (6, 2));

    // Signals fill parameters too, namespaced ones first.
    let signals = EventInput::new(Counter::NAME)
        .with_signals(serde_json::json!({"counter": {"amount": 10}, "amount": 99}));
    assert_eq!(increment(&mut counter, &signals, &mut Changes::default()), Ok(EventOutput::Signals));
    assert_eq!(counter.count, 16);

    // Markup returned by the event becomes the output.
    let output = reset(&mut counter, &query(&[]), &mut Changes::default());
    assert_eq!(
        output,
        Ok(EventOutput::Elements(
            "<p id=\"status\">Reset.</p>".to_owned()
        ))
    );
    assert_eq!((counter.count, counter.update_count), (0, 4));

    // A mistyped value names the field and leaves the state alone.
    let err = increment(&mut counter, &query(&[("amount", "ten")]), &mut Changes::default()).unwrap_err();
    let EventError::Param(param) = &err else {
        panic!("expected a parameter error, got {err:?}");
    };
    assert!(matches!(param, ParamError::Invalid { .. }), "{param:?}");
    assert_eq!(param.field(), "amount");
    assert!(
        err.to_string()
            .starts_with("invalid value for parameter `amount`"),
        "{err}"
    );
    assert_eq!(err.status(), 422);
    assert_eq!((counter.count, counter.update_count), (0, 4));

    // A missing required parameter names it too.
    let err = set(&mut counter, &query(&[]), &mut Changes::default()).unwrap_err();
    assert_eq!(
        err,
        EventError::Param(ParamError::Missing {
            field: "value".to_owned()
        })
    );
    assert_eq!(err.to_string(), "missing parameter `value`");

    // `Err` from the event is a rejection carrying its text.
    let err = set(&mut counter, &query(&[("value", "-2")]), &mut Changes::default()).unwrap_err();
    assert_eq!(err, EventError::Rejected("-2 is negative".to_owned()));
    assert_eq!(err.status(), 422);
    assert_eq!(counter.count, 0);

    assert_eq!(
        set(&mut counter, &query(&[("value", "7")]), &mut Changes::default()),
        Ok(EventOutput::Signals)
    );
    assert_eq!(counter.count, 7);
}
