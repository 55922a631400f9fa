use maud::Render;
use starmodel_core::Entity;

use crate::live::namespaced_json;

/// Rewrites the JSON escape `\\` (one backslash in a string) as `\u005c`.
///
/// Datastar evaluates `data-signals` as a JavaScript expression after splitting
/// it into statements with a regex that misreads a string ending in a
/// backslash: `{"a":"x\\","b":";y"}` would break the page. The `\u005c` form
/// means the same string and leaves no backslash before a closing quote.
fn attribute_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut chars = json.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push_str("\\u005c"),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Renders an entity as an empty element whose `data-signals` holds its state
/// under its namespace (`{"counter": {"count": 3}}`). The page's live stream
/// sees the namespace among the signals it is sent and keeps it up to date.
///
/// `#[derive(Entity)]` calls this from its `maud::Render` impl, so a view writes
/// `(counter)`.
///
/// ```
/// use starmodel_core::{Entity, EntityId, Schema, Scope, StoreKind};
/// #[derive(Default, serde::Serialize, serde::Deserialize)]
/// struct Counter { count: i64 }
/// impl starmodel_core::entity::Hooks for Counter {}
/// impl Entity for Counter {
///     const NAME: &'static str = "counter";
///     const SCOPE: Scope = Scope::Global;
///     const STORE: StoreKind = StoreKind::Memory;
///     fn schema() -> &'static Schema {
///         static S: Schema = Schema::new("counter", &[]);
///         &S
///     }
///     fn initial(_: &EntityId) -> Option<Self> { Some(Self::default()) }
/// }
/// let mut html = String::new();
/// starmodel_axum::view::render_entity(&Counter { count: 3 }, &mut html);
/// assert_eq!(
///     html,
///     r#"<div hidden data-starmodel-entity="counter" data-signals="{&quot;counter&quot;:{&quot;count&quot;:3}}"></div>"#
/// );
/// ```
pub fn render_entity<E: Entity>(entity: &E, buffer: &mut String) {
    let state = serde_json::to_value(entity).unwrap_or_else(|e| {
        tracing::error!(entity = E::NAME, error = %e, "entity does not serialize");
        serde_json::Value::Object(serde_json::Map::new())
    });
    let signals = attribute_safe(&namespaced_json(E::NAME, &state));
    maud::html! {
        div hidden data-starmodel-entity=(E::NAME) data-signals=(signals) {}
    }
    .render_to(buffer);
}

#[cfg(test)]
mod tests {
    use super::attribute_safe;

    #[test]
    fn backslashes_in_strings_become_unicode_escapes() {
        let json = serde_json::json!({"a": "x\\", "b": "say \"hi\"\n", "c": "\\\""}).to_string();
        let safe = attribute_safe(&json);
        assert!(!safe.contains("\\\\"), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back.to_string(), json);
    }
}
