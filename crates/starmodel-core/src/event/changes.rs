//! [`Changes`]: what an event asks of *other* entities in its unit of work.
//!
//! An event takes `changes: &mut Changes` and fires other entities' events with
//! their typed action builders:
//!
//! ```text
//! #[event]
//! fn add(title: String, changes: &mut Changes) -> Result<Note, EventError> {
//!     changes.fire(NoteStats::action().note_added())?;
//!     Ok(Note::new(title))
//! }
//! ```
//!
//! The dispatcher runs those events after the event itself, inside the same unit
//! of work: on the same store they share one transaction (a failing one undoes
//! the first change); on another store they are written to an outbox in the first
//! transaction and applied to their store exactly once afterwards, also after a
//! crash between the two commits.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Action, EventError};

/// Another entity's event to run in this event's unit of work: which instance,
/// which event, and its arguments as the action builder encoded them. It is
/// plain data, so a change for another store can wait in an outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// The entity's name.
    pub entity: String,
    /// The instance's id: the record id, `global`, or empty for a session entity
    /// (which takes the session of the event that fired it).
    pub id: Option<String>,
    /// The event's name.
    pub event: String,
    /// The arguments, as query-string pairs.
    pub args: Vec<(String, String)>,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{}/{id}/{}", self.entity, self.event),
            None => write!(f, "{}/{}", self.entity, self.event),
        }
    }
}

/// The changes an event makes to other entities, run in its unit of work.
///
/// ```
/// use starmodel_core::{Action, EventMethod};
/// use starmodel_core::event::Changes;
/// let mut changes = Changes::default();
/// changes
///     .fire(Action::new(EventMethod::Post, "/stats/bump").arg("by", &2))
///     .unwrap();
/// let call = &changes.calls()[0];
/// assert_eq!((call.entity.as_str(), call.event.as_str()), ("stats", "bump"));
/// assert_eq!(call.args, [("by".to_owned(), "2".to_owned())]);
/// ```
#[derive(Debug, Default)]
pub struct Changes {
    calls: Vec<Call>,
}

impl Changes {
    /// Runs the event `action` names (built with its entity's typed builder,
    /// `Stats::action().bump(1)`) after this one, in the same unit of work.
    ///
    /// An action whose arguments the browser computes (`FromJs`) cannot run on
    /// the server: that is an error here. One left to `FromSignals` is missing
    /// when the event runs (a 422).
    pub fn fire(&mut self, action: Action) -> Result<(), EventError> {
        let call = parse(&action).ok_or_else(|| {
            EventError::Rejected(format!(
                "`{action}` cannot run as a change of this event: its arguments are \
                 computed in the browser, or it is no action of an entity's event"
            ))
        })?;
        self.calls.push(call);
        Ok(())
    }

    /// The events fired so far, in order.
    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    /// Takes the events fired so far.
    pub fn take(&mut self) -> Vec<Call> {
        std::mem::take(&mut self.calls)
    }

    /// `true` when no event was fired.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}

/// `/{entity}/{event}` or `/{entity}/{id}/{event}`, with its query, as the
/// generated builders write it.
fn parse(action: &Action) -> Option<Call> {
    if action.computed_in_browser() {
        return None;
    }
    let (path, query) = match action.app_url().split_once('?') {
        Some((path, query)) => (path, query),
        None => (action.app_url(), ""),
    };
    let segments: Vec<String> = path
        .strip_prefix('/')?
        .split('/')
        .map(decode)
        .collect::<Option<_>>()?;
    let (entity, id, event) = match segments.as_slice() {
        [entity, event] => (entity.clone(), None, event.clone()),
        [entity, id, event] => (entity.clone(), Some(id.clone()), event.clone()),
        _ => return None,
    };
    let args = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect::<Option<_>>()?;
    Some(Call {
        entity,
        id,
        event,
        args,
    })
}

/// Undoes [`percent_encode_into`](super::percent_encode_into); `None` for text
/// that is not UTF-8 once decoded.
fn decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventMethod;

    #[test]
    fn record_actions_keep_their_id_and_arguments() {
        let action = Action::new(EventMethod::Post, "/note/a%2Fb/pin")
            .arg("why", "it's 100%")
            .arg("n", &Some(3));
        let call = parse(&action).unwrap();
        assert_eq!(call.entity, "note");
        assert_eq!(call.id.as_deref(), Some("a/b"));
        assert_eq!(call.event, "pin");
        assert_eq!(
            call.args,
            [
                ("why".to_owned(), "it's 100%".to_owned()),
                ("n".to_owned(), "3".to_owned())
            ]
        );
        assert_eq!(call.to_string(), "note/a/b/pin");
    }

    #[test]
    fn browser_computed_arguments_are_refused() {
        let action =
            Action::new(EventMethod::Post, "/note/1/rename").arg_expr("title", "evt.target.value");
        let mut changes = Changes::default();
        let err = changes.fire(action).unwrap_err();
        assert!(err.to_string().contains("computed in the browser"), "{err}");
        assert!(changes.is_empty());
        assert!(parse(&Action::new(EventMethod::Post, "no-slash")).is_none());
    }
}
