//! `#[derive(Entity)]`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, Type, spanned::Spanned};

struct Options {
    name: String,
    scope: TokenStream,
    record: bool,
    store: TokenStream,
    api: bool,
    api_writes: bool,
    /// `#[entity(hooks)]`: the app implements `Hooks` itself.
    hooks: bool,
}

/// What `#[entity(...)]` says about one field.
#[derive(Default)]
struct FieldOptions {
    id: bool,
    unique: bool,
    index: bool,
    text: bool,
    rules: Vec<TokenStream>,
    renamed_from: Option<String>,
    server: bool,
}

/// `HTTPCounter2D` -> `http_counter2_d`: a word starts at an upper-case letter that
/// follows a lower-case letter or digit, or that precedes a lower-case letter.
fn snake_case(ident: &str) -> String {
    let chars: Vec<char> = ident.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn container_options(input: &DeriveInput) -> syn::Result<Options> {
    let mut name = snake_case(&input.ident.to_string());
    let mut scope = quote!(Session);
    let mut record = false;
    let mut store = quote!(Memory);
    let mut api = false;
    let mut api_writes = false;
    let mut hooks = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("entity")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("hooks") {
                hooks = true;
                return Ok(());
            }
            if meta.path.is_ident("api") {
                api = true;
                api_writes = true;
                if meta.input.peek(syn::Token![=]) {
                    let value: syn::LitStr = meta.value()?.parse()?;
                    match value.value().as_str() {
                        "events" => api_writes = false,
                        "all" => {}
                        _ => {
                            return Err(syn::Error::new(
                                value.span(),
                                "unknown `api` option: expected `api` (reads and every write), \
                                 `api = \"all\"` (the same) or `api = \"events\"` (reads and the \
                                 entity's events, no raw create, replace, patch or delete)",
                            ));
                        }
                    }
                }
                return Ok(());
            }
            if meta.path.is_ident("admin") {
                return Err(meta.error(
                    "the generated admin is not built yet (see the roadmap in the starmodel docs)",
                ));
            }
            let (key, value) = crate::event_attr::string_option(&meta)?;
            let v = value.value();
            match key.as_str() {
                "name" => {
                    if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        return Err(syn::Error::new(
                            value.span(),
                            "an entity name uses only ASCII letters, digits and `_`",
                        ));
                    }
                    name = v;
                }
                "scope" => {
                    scope = match v.as_str() {
                        "session" => quote!(Session),
                        "global" => quote!(Global),
                        "record" => {
                            record = true;
                            quote!(Record)
                        }
                        _ => {
                            return Err(syn::Error::new(
                                value.span(),
                                "unknown scope: expected \"session\", \"global\" or \"record\"",
                            ));
                        }
                    }
                }
                "store" => {
                    store = match v.as_str() {
                        "memory" => quote!(Memory),
                        "sql" => quote!(Sql),
                        "redis" | "custom" => {
                            let store = if v == "redis" {
                                "the Redis store is"
                            } else {
                                "a custom store is"
                            };
                            return Err(syn::Error::new(
                                value.span(),
                                format!(
                                    "{store} not built yet (see the roadmap in the starmodel docs); \
                                     use store = \"memory\" or \"sql\""
                                ),
                            ));
                        }
                        _ => {
                            return Err(syn::Error::new(
                                value.span(),
                                "unknown store: expected \"memory\" or \"sql\"",
                            ));
                        }
                    }
                }
                _ => {
                    return Err(meta.error(
                        "unknown entity option: expected `name`, `scope`, `store`, `api`, `hooks` or `admin`",
                    ));
                }
            }
            Ok(())
        })?;
    }
    Ok(Options {
        name,
        scope,
        record,
        store,
        api,
        api_writes,
        hooks,
    })
}

/// Where a field's name is (its type for an unnamed field).
fn name_span(field: &syn::Field) -> proc_macro2::Span {
    field
        .ident
        .as_ref()
        .map_or_else(|| field.span(), syn::Ident::span)
}

/// The last path segment of a type and, for `Option<T>`, whether it was wrapped.
pub(crate) fn field_type(ty: &Type) -> (TokenStream, bool) {
    let Type::Path(path) = ty else {
        return (quote!(Json), false);
    };
    let Some(last) = path.path.segments.last() else {
        return (quote!(Json), false);
    };
    if last.ident == "Option"
        && let syn::PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
    {
        return (field_type(inner).0, true);
    }
    let kind = match last.ident.to_string().as_str() {
        "i8" | "i16" | "i32" | "i64" | "isize" | "u8" | "u16" | "u32" | "u64" | "usize" => {
            quote!(Integer)
        }
        "f32" | "f64" => quote!(Float),
        "String" | "str" | "char" => quote!(Text),
        "bool" => quote!(Bool),
        "Uuid" => quote!(Uuid),
        "DateTime" | "NaiveDateTime" | "NaiveDate" | "NaiveTime" | "OffsetDateTime"
        | "PrimitiveDateTime" | "Date" | "Time" | "SystemTime" => quote!(DateTime),
        _ => quote!(Json),
    };
    (kind, false)
}

/// `min = 1, max = 200` inside `length(...)` or `range(...)`.
fn bounds(meta: &syn::meta::ParseNestedMeta<'_>, float: bool) -> syn::Result<TokenStream> {
    let (mut min, mut max) = (
        quote!(::core::option::Option::None),
        quote!(::core::option::Option::None),
    );
    meta.parse_nested_meta(|inner| {
        let lit: syn::Lit = inner.value()?.parse()?;
        let value = match (&lit, float) {
            (syn::Lit::Int(i), false) => {
                let v: u64 = i.base10_parse()?;
                quote!(::core::option::Option::Some(#v))
            }
            (syn::Lit::Int(i), true) => {
                let v: f64 = i.base10_parse()?;
                quote!(::core::option::Option::Some(#v))
            }
            (syn::Lit::Float(f), true) => {
                let v: f64 = f.base10_parse()?;
                quote!(::core::option::Option::Some(#v))
            }
            _ => {
                return Err(syn::Error::new(
                    lit.span(),
                    if float {
                        "expected a number"
                    } else {
                        "expected a whole number"
                    },
                ));
            }
        };
        if inner.path.is_ident("min") {
            min = value;
        } else if inner.path.is_ident("max") {
            max = value;
        } else {
            return Err(inner.error("expected `min` or `max`"));
        }
        Ok(())
    })?;
    Ok(quote!({ min: #min, max: #max }))
}

fn field_options(field: &syn::Field) -> syn::Result<FieldOptions> {
    let mut opts = FieldOptions::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("entity")) {
        attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
            match key.as_str() {
                "id" => opts.id = true,
                "unique" => opts.unique = true,
                "index" => opts.index = true,
                "text" => opts.text = true,
                "server" => opts.server = true,
                "renamed_from" => {
                    let (_, lit) = crate::event_attr::string_option(&meta)?;
                    opts.renamed_from = Some(lit.value());
                }
                "validate" => meta.parse_nested_meta(|rule| {
                    if rule.path.is_ident("length") {
                        let b = bounds(&rule, false)?;
                        opts.rules.push(quote!(::starmodel::__private::Rule::Length #b));
                    } else if rule.path.is_ident("range") {
                        let b = bounds(&rule, true)?;
                        opts.rules.push(quote!(::starmodel::__private::Rule::Range #b));
                    } else if rule.path.is_ident("email") {
                        opts.rules.push(quote!(::starmodel::__private::Rule::Email));
                    } else {
                        return Err(rule.error(
                            "unknown rule: expected `length(min = .., max = ..)`, `range(min = .., max = ..)` or `email`",
                        ));
                    }
                    Ok(())
                })?,
                _ => {
                    return Err(meta.error(
                        "unknown field option: expected `id`, `unique`, `index`, `text`, `server`, `validate(...)` or `renamed_from = \"...\"`",
                    ));
                }
            }
            Ok(())
        })?;
    }
    Ok(opts)
}

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "an entity cannot be generic: its name is its route and signal namespace",
        ));
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            ident.span(),
            "`#[derive(Entity)]` works on structs with named fields",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        let span = match &data.fields {
            Fields::Unit => ident.span(),
            other => other.span(),
        };
        return Err(syn::Error::new(
            span,
            "`#[derive(Entity)]` works on structs with named fields",
        ));
    };
    let opts = container_options(input)?;
    let name = &opts.name;
    let scope = &opts.scope;
    let store = &opts.store;
    let api = opts.api;
    let api_writes = opts.api_writes;
    let vis = &input.vis;

    let mut schema_fields = Vec::new();
    let mut signal_fields = Vec::new();
    let mut signal_values = Vec::new();
    let mut ids = Vec::new();
    let mut server_defaults = Vec::new();
    for field in &named.named {
        let Some(fident) = field.ident.as_ref() else {
            continue;
        };
        let fname = fident.to_string();
        let fname = fname.strip_prefix("r#").unwrap_or(&fname).to_owned();
        let (kind, nullable) = field_type(&field.ty);
        let fopts = field_options(field)?;
        let kind = if fopts.text { quote!(Text) } else { kind };
        let id = fopts.id;
        if id {
            ids.push(field);
        }
        let (unique, index, rules) = (fopts.unique || id, fopts.index, &fopts.rules);
        let renamed_from = match &fopts.renamed_from {
            Some(old) => quote!(::core::option::Option::Some(#old)),
            None => quote!(::core::option::Option::None),
        };
        let ty = &field.ty;
        let rust_type = quote!(#ty).to_string().replace(' ', "");
        let server = fopts.server;
        if server {
            server_defaults.push(quote! {
                map.insert(
                    ::std::string::String::from(#fname),
                    ::starmodel::__private::serde_json::to_value(
                        <#ty as ::core::default::Default>::default(),
                    )
                    .unwrap_or(::starmodel::__private::serde_json::Value::Null),
                );
            });
        }
        schema_fields.push(quote! {
            ::starmodel::__private::Field {
                name: #fname,
                rust_type: #rust_type,
                ty: ::starmodel::__private::FieldType::#kind,
                nullable: #nullable,
                id: #id,
                unique: #unique,
                index: #index,
                validate: &[#(#rules),*],
                renamed_from: #renamed_from,
                server: #server,
            }
        });
        let path = format!("{name}.{fname}");
        let doc = format!("The `{path}` signal.");
        signal_fields.push(quote! { #[doc = #doc] pub #fident: ::starmodel::__private::SignalRef });
        signal_values.push(quote! { #fident: ::starmodel::__private::SignalRef::new(#path) });
    }
    if ids.len() > 1 {
        return Err(syn::Error::new(
            name_span(ids[1]),
            "only one field can be `#[entity(id)]`",
        ));
    }
    if opts.api && !opts.record {
        return Err(syn::Error::new(
            ident.span(),
            "`api` serves record entities (`scope = \"record\"`): a session or global entity has no id to put in `/api/{entity}/{id}`",
        ));
    }
    if opts.record && ids.is_empty() {
        return Err(syn::Error::new(
            ident.span(),
            "a record entity needs an `#[entity(id)]` field",
        ));
    }
    if !opts.record && !ids.is_empty() {
        return Err(syn::Error::new(
            name_span(ids[0]),
            "`#[entity(id)]` is for `scope = \"record\"` entities; session and global ones are identified by their scope",
        ));
    }
    let initial = if opts.record {
        quote!(::core::option::Option::None)
    } else {
        quote!(::core::option::Option::Some(
            <Self as ::core::default::Default>::default()
        ))
    };
    let extractor = if opts.record {
        quote!()
    } else {
        quote! {
            impl<S: ::core::marker::Send + ::core::marker::Sync>
                ::starmodel::__private::axum::extract::FromRequestParts<S> for #ident
            {
                type Rejection = ::starmodel::__private::ErrorResponse;

                async fn from_request_parts(
                    parts: &mut ::starmodel::__private::axum::http::request::Parts,
                    _state: &S,
                ) -> ::core::result::Result<Self, Self::Rejection> {
                    ::starmodel::__private::extract_entity::<Self>(parts).await
                }
            }
        }
    };
    let actions = format_ident!("{}Actions", ident);
    let actions_doc = format!(
        "Typed Datastar actions firing [`{ident}`]'s events (methods come from `#[events]`)."
    );
    let create_actions = format_ident!("{}CreateActions", ident);
    let create_doc = format!(
        "Typed Datastar actions firing [`{ident}`]'s create events (functions without `self` in `#[events]`)."
    );
    // Non-record entities get the struct too, hidden: a create event on them then
    // fails only with `#[events]`' own message, not a missing type.
    let hidden = if opts.record {
        quote!()
    } else {
        quote!(#[doc(hidden)])
    };
    let create_struct = quote! {
        #[doc = #create_doc]
        #hidden
        #[derive(Debug, Clone)]
        #[allow(dead_code)]
        #vis struct #create_actions {
            base: ::std::string::String,
        }

        impl #create_actions {
            #[doc(hidden)]
            #[allow(dead_code)]
            #vis fn __starmodel_base(&self) -> &str {
                &self.base
            }
        }
    };
    let constructor = if opts.record {
        quote! {
            /// Typed Datastar actions firing the events of the record `id`.
            #[allow(dead_code)]
            #vis fn action(id: impl ::std::fmt::Display) -> #actions {
                #actions { base: ::starmodel::__private::record_route_base::<Self>(&id) }
            }

            /// Typed Datastar actions firing the events that create a record.
            #[allow(dead_code)]
            #vis fn create() -> #create_actions {
                #create_actions { base: ::starmodel::__private::route_base::<Self>() }
            }

            /// The record `id`, if it exists, read through the application handle
            /// (the built app, or the `App` extractor in a handler).
            #[allow(dead_code)]
            #vis async fn find(
                app: &::starmodel::__private::App,
                id: impl ::std::fmt::Display,
            ) -> ::core::result::Result<::core::option::Option<Self>, ::starmodel::__private::ErrorResponse> {
                app.find::<Self>(id).await
            }

            /// The records `query` selects, and the cursor of the next page.
            #[allow(dead_code)]
            #vis async fn list(
                app: &::starmodel::__private::App,
                query: &::starmodel::__private::ListQuery,
            ) -> ::core::result::Result<::starmodel::__private::Listed<Self>, ::starmodel::__private::ErrorResponse> {
                app.list::<Self>(query).await
            }

            /// Every record, ordered by id.
            #[allow(dead_code)]
            #vis async fn all(
                app: &::starmodel::__private::App,
            ) -> ::core::result::Result<::std::vec::Vec<Self>, ::starmodel::__private::ErrorResponse> {
                app.all::<Self>().await
            }
        }
    } else {
        quote! {
            /// Typed Datastar actions firing this entity's events, for `data-on:*`
            /// attributes.
            #[allow(dead_code)]
            #vis fn action() -> #actions {
                #actions { base: ::starmodel::__private::route_base::<Self>() }
            }
        }
    };
    // Records are shown through live views, not as one signal namespace each.
    let render = if opts.record {
        quote!()
    } else {
        quote! {
            impl ::starmodel::__private::maud::Render for #ident {
                fn render_to(&self, buffer: &mut ::std::string::String) {
                    ::starmodel::__private::render_entity(self, buffer);
                }
            }
        }
    };
    let hooks = if opts.hooks {
        quote!()
    } else {
        quote!(impl ::starmodel::__private::Hooks for #ident {})
    };
    let server_defaults = if server_defaults.is_empty() {
        quote!()
    } else {
        quote! {
            fn server_defaults() -> ::starmodel::__private::serde_json::Map<
                ::std::string::String,
                ::starmodel::__private::serde_json::Value,
            > {
                let mut map = ::starmodel::__private::serde_json::Map::new();
                #(#server_defaults)*
                map
            }
        }
    };
    let signals = format_ident!("{}Signals", ident);
    let signals_doc = format!("The signal names of [`{ident}`]'s fields.");

    Ok(quote! {
        impl ::starmodel::__private::Entity for #ident {
            const NAME: &'static str = #name;
            const SCOPE: ::starmodel::__private::Scope = ::starmodel::__private::Scope::#scope;
            const STORE: ::starmodel::__private::StoreKind = ::starmodel::__private::StoreKind::#store;

            fn schema() -> &'static ::starmodel::__private::Schema {
                static SCHEMA: ::starmodel::__private::Schema = ::starmodel::__private::Schema {
                    name: #name,
                    fields: &[#(#schema_fields),*],
                    api: #api,
                    api_writes: #api_writes,
                    // `#[entity(admin)]` is refused until the generated admin exists.
                    admin: false,
                };
                &SCHEMA
            }

            fn initial(_id: &::starmodel::__private::EntityId) -> ::core::option::Option<Self> {
                #initial
            }

            #server_defaults
        }

        #hooks

        #[doc = #actions_doc]
        #[derive(Debug, Clone)]
        #vis struct #actions {
            base: ::std::string::String,
        }

        impl #actions {
            #[doc(hidden)]
            #[allow(dead_code)]
            #vis fn __starmodel_base(&self) -> &str {
                &self.base
            }
        }

        #create_struct

        #[doc = #signals_doc]
        #[derive(Debug, Clone, Copy)]
        #vis struct #signals {
            #(#signal_fields,)*
        }

        impl #ident {
            #constructor

            /// The Datastar signal of each field, namespaced by the entity's name.
            #[allow(dead_code)]
            #vis const fn signal() -> #signals {
                #signals { #(#signal_values,)* }
            }
        }

        #extractor

        #render
    })
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn names_become_snake_case() {
        for (input, expected) in [
            ("Counter", "counter"),
            ("GlobalCounter", "global_counter"),
            ("HTTPCounter2D", "http_counter2_d"),
            ("TodoV2", "todo_v2"),
        ] {
            assert_eq!(snake_case(input), expected, "{input:?}");
        }
    }
}
