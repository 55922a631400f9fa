//! What an application adds to every page the shell ([`page`](crate::page))
//! renders: elements in the head (stylesheets, scripts, meta tags) and a layout
//! around the body (a nav bar, a footer). Set once with
//! [`StarModel::layout`](crate::StarModel::layout).

use std::sync::Arc;

use maud::{Markup, html};

/// The application's additions to the page shell.
///
/// ```
/// use maud::html;
/// use starmodel_axum::view::Layout;
/// let layout = Layout::new()
///     .stylesheet("/static/app.css")
///     .body(|page| html! { nav { a href="/" { "Home" } } (page) });
/// # let _ = layout;
/// ```
#[derive(Clone, Default)]
pub struct Layout {
    head: Vec<Markup>,
    /// Stylesheets of the static folder, by name, linked at their hashed URL.
    assets: Vec<String>,
    body: Option<Arc<dyn Fn(Markup) -> Markup + Send + Sync>>,
}

impl std::fmt::Debug for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layout")
            .field("head", &self.head.len())
            .field("body", &self.body.is_some())
            .finish()
    }
}

impl Layout {
    /// Adds nothing: StarModel's shell as it is.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `markup` to every page's head, after StarModel's own stylesheet (so
    /// its rules win) and before the Datastar bundle.
    pub fn head(mut self, markup: Markup) -> Self {
        self.head.push(markup);
        self
    }

    /// Adds a stylesheet link to every page's head.
    pub fn stylesheet(self, href: &str) -> Self {
        self.head(html! { link rel="stylesheet" href=(href); })
    }

    /// Links the static folder's stylesheet `name` (`app.css`; see
    /// [`StarModel::static_dir`](crate::StarModel::static_dir)) on every page, at
    /// its content-hashed URL.
    pub fn stylesheet_asset(mut self, name: &str) -> Self {
        self.assets.push(name.to_owned());
        self
    }

    /// Wraps every page's body in `wrap` (which gets what the handler rendered).
    pub fn body(mut self, wrap: impl Fn(Markup) -> Markup + Send + Sync + 'static) -> Self {
        self.body = Some(Arc::new(wrap));
        self
    }

    pub(crate) fn head_elements(&self) -> Vec<Markup> {
        let mut head = self.head.clone();
        for name in &self.assets {
            head.push(html! { link rel="stylesheet" href=(crate::asset(name)); });
        }
        head
    }

    pub(crate) fn wrap(&self, body: Markup) -> Markup {
        match &self.body {
            Some(wrap) => wrap(body),
            None => body,
        }
    }
}
