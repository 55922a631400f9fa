//! The options of one `#[event(...)]` attribute.

use proc_macro2::Span;
use syn::{Attribute, LitStr};

/// Datastar's patch modes: the attribute's spelling and the `ElementPatchMode` variant.
const MODES: [(&str, &str); 8] = [
    ("outer", "Outer"),
    ("inner", "Inner"),
    ("remove", "Remove"),
    ("replace", "Replace"),
    ("prepend", "Prepend"),
    ("append", "Append"),
    ("before", "Before"),
    ("after", "After"),
];

pub(crate) struct EventOptions {
    pub(crate) name: Option<(String, Span)>,
    pub(crate) method: String,
    pub(crate) selector: Option<String>,
    /// The spelling and the `ElementPatchMode` variant.
    pub(crate) mode: Option<(&'static str, &'static str)>,
    /// `#[event(internal)]`: no route, run only by other events.
    pub(crate) internal: bool,
}

/// The name and text value of one `key = "value"` attribute option.
pub(crate) fn string_option(
    meta: &syn::meta::ParseNestedMeta<'_>,
) -> syn::Result<(String, LitStr)> {
    let key = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    Ok((key, meta.value()?.parse()?))
}

/// `true` for `#[event]` and `#[starmodel::event]`.
pub(crate) fn is_event_attr(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "event")
}

pub(crate) fn parse(attr: &Attribute) -> syn::Result<EventOptions> {
    let mut opts = EventOptions {
        name: None,
        method: "post".to_owned(),
        selector: None,
        mode: None,
        internal: false,
    };
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return Ok(opts);
    }
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("internal") {
            opts.internal = true;
            return Ok(());
        }
        let (key, lit) = string_option(&meta)?;
        let value = lit.value();
        match key.as_str() {
            "name" => {
                if value.is_empty()
                    || !value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(syn::Error::new(
                        lit.span(),
                        "an event name uses only ASCII letters, digits, `_` and `-`",
                    ));
                }
                opts.name = Some((value, lit.span()));
            }
            "method" => {
                let lower = value.to_ascii_lowercase();
                if !["get", "post", "put", "patch", "delete"].contains(&lower.as_str()) {
                    return Err(syn::Error::new(
                        lit.span(),
                        "unknown method: expected \"get\", \"post\", \"put\", \"patch\" or \"delete\"",
                    ));
                }
                opts.method = lower;
            }
            "selector" => {
                if value.contains(['\r', '\n']) {
                    return Err(syn::Error::new(lit.span(), "a selector cannot hold a line break"));
                }
                opts.selector = Some(value);
            }
            "mode" => {
                let Some(&mode) = MODES.iter().find(|(spelling, _)| *spelling == value) else {
                    let names: Vec<&str> = MODES.iter().map(|(spelling, _)| *spelling).collect();
                    return Err(syn::Error::new(
                        lit.span(),
                        format!("unknown patch mode: expected one of {}", names.join(", ")),
                    ));
                };
                opts.mode = Some(mode);
            }
            _ => {
                return Err(meta.error(
                    "unknown event option: expected `name`, `method`, `selector`, `mode` or `internal`",
                ));
            }
        }
        Ok(())
    })?;
    if let (Some((mode, _)), None) = (opts.mode, &opts.selector)
        && mode != "outer"
        && mode != "replace"
    {
        return Err(syn::Error::new_spanned(
            attr,
            format!(
                "patch mode `{mode}` needs a `selector`: only `outer` and `replace` \
                 can find their target by the returned element's id"
            ),
        ));
    }
    Ok(opts)
}
