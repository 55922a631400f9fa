//! Start-up and shutdown messages: through `tracing` when the application
//! installed a subscriber, else on stderr, so that `serve` says where it listens
//! and what it warns about even in an app that set up no logging.

use std::fmt::Arguments;

/// How much a message matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Info,
    Warn,
}

/// Says `message` at `level`.
pub(crate) fn announce(level: Level, message: Arguments<'_>) {
    if tracing::dispatcher::has_been_set() {
        match level {
            Level::Info => tracing::info!("{message}"),
            Level::Warn => tracing::warn!("{message}"),
        }
    } else {
        eprintln!("{}", stderr_line(level, message));
    }
}

/// The line written to stderr when there is no subscriber.
fn stderr_line(level: Level, message: Arguments<'_>) -> String {
    match level {
        Level::Info => format!("starmodel: {message}"),
        Level::Warn => format!("starmodel: warning: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_lines_name_the_framework_and_warnings() {
        let addr = "127.0.0.1:3000";
        assert_eq!(
            stderr_line(Level::Info, format_args!("listening on http://{addr}")),
            "starmodel: listening on http://127.0.0.1:3000"
        );
        assert_eq!(
            stderr_line(Level::Warn, format_args!("no secret")),
            "starmodel: warning: no secret"
        );
    }
}
