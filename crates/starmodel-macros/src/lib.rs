//! Macros for StarModel: `#[derive(Entity)]`, `#[events]` and `#[event]`.
//!
//! Use them through the `starmodel` crate (`use starmodel::prelude::*`); the code
//! they generate names `::starmodel::__private` paths.

mod entity;
mod event_attr;
mod events;

use proc_macro::TokenStream;

/// Makes a struct an entity: schema metadata, typed signal names
/// (`Counter::signal().count`) and a `maud::Render` impl that puts the entity's
/// state on the page as namespaced Datastar signals.
///
/// Container options: `#[entity(scope = "session" | "global" | "record",
/// store = "memory" | "sql" | "redis" | "custom", name = "...")]`.
/// Field options: `#[entity(id)]` marks a record entity's primary key.
#[proc_macro_derive(Entity, attributes(entity))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    entity::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Turns the `#[event]` methods of an entity's impl block into endpoints, with
/// typed parameter extraction and typed action builders (`Counter::action()`).
#[proc_macro_attribute]
pub fn events(args: TokenStream, input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::ItemImpl);
    events::expand(args.into(), input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Marks a method of an `#[events]` impl block as an event. Options:
/// `method = "get" | "post" | "put" | "patch" | "delete"`, `name = "..."`,
/// `selector = "#id"`, `mode = "outer" | "inner" | ...`.
///
/// On its own, outside `#[events]`, it is an error.
#[proc_macro_attribute]
pub fn event(_args: TokenStream, input: TokenStream) -> TokenStream {
    let message = if syn::parse::<syn::ItemFn>(input.clone()).is_ok() {
        "events are methods of an entity: move this function into an \
         `#[events] impl YourEntity { ... }` block and give it `&mut self`"
    } else {
        "`#[event]` only works on a method inside an `#[events]` impl block: \
         put `#[events]` on the `impl` that holds this method"
    };
    let input: proc_macro2::TokenStream = input.into();
    let error = syn::Error::new(proc_macro2::Span::call_site(), message).into_compile_error();
    quote::quote!(#error #input).into()
}
