//! What the request pipeline does for one group of routes: which requests must be
//! same-site, which run to completion, whether pages are rendered. Plain data,
//! chosen by the adapter for its own routes and by every [`Mount`](crate::Mount)
//! for its routes; the [pipeline](crate::pipeline) applies it.

use http::Method;

/// Which requests a part of the pipeline applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Methods {
    /// None.
    None,
    /// Every method but the safe ones (`GET`, `HEAD`, `OPTIONS`, `TRACE`). A
    /// safe method a route does not serve answers 405 from any site.
    Unsafe,
    /// Every method (events change state whatever their method).
    All,
}

impl Methods {
    pub(crate) fn cover(self, method: &Method) -> bool {
        match self {
            Methods::None => false,
            Methods::Unsafe => !method.is_safe(),
            Methods::All => true,
        }
    }
}

/// What the pipeline does for one group of routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// Which requests must come from this site's pages (or from no browser).
    pub same_site: Methods,
    /// What a refused cross-site request was, and how to send it instead
    /// (`None` when [`same_site`](Policy::same_site) covers no method).
    pub refusal: Option<(&'static str, &'static str)>,
    /// Which requests run to completion even when their client leaves.
    pub to_completion: Methods,
    /// Whether handlers run with the application as the current one (pages,
    /// `live_view`, the Datastar bundle's URL).
    pub pages: bool,
}

impl Policy {
    /// StarModel's event routes: every request same-site and run to completion.
    pub const EVENTS: Policy = Policy {
        same_site: Methods::All,
        refusal: Some((
            "event request",
            "send `Datastar-Request: true` from a same-origin page",
        )),
        to_completion: Methods::All,
        pages: false,
    };

    /// Routes that read freely and write like events (the JSON API).
    pub const fn writes(what: &'static str, hint: &'static str) -> Policy {
        Policy {
            same_site: Methods::Unsafe,
            refusal: Some((what, hint)),
            to_completion: Methods::Unsafe,
            pages: false,
        }
    }

    /// Pages and the application's own routes: sessions, no write policy.
    pub const PAGES: Policy = Policy {
        same_site: Methods::None,
        refusal: None,
        to_completion: Methods::None,
        pages: true,
    };

    /// The live stream: sessions only.
    pub(crate) const STREAM: Policy = Policy {
        pages: false,
        ..Policy::PAGES
    };
}
