//! `#[events]`: event handlers, the `Events` impl and typed action builders.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{FnArg, ImplItem, ItemImpl, Pat, Type, spanned::Spanned};

use crate::event_attr::{self, EventOptions};

struct Param {
    ident: syn::Ident,
    name: String,
    ty: Type,
    source: Source,
}

/// Where a parameter's value comes from.
#[derive(Clone, Copy, PartialEq)]
enum Source {
    /// The request's path, query, signals or form, by name.
    Request,
    /// `&mut Changes`: the event's changes to other entities.
    Changes,
    /// Injected by type from what the web adapter put in the input: headers, the
    /// client's address, the session, the `App`, application state.
    Injected,
}

/// The types injected into events by type, by their last path segment.
const INJECTED: [&str; 5] = ["HeaderMap", "ClientAddr", "Session", "App", "State"];

fn source(ty: &Type) -> Source {
    let last = |p: &syn::TypePath| p.path.segments.last().map(|s| s.ident.to_string());
    match ty {
        Type::Reference(r) if r.mutability.is_some() => match &*r.elem {
            Type::Path(p) if last(p).as_deref() == Some("Changes") => Source::Changes,
            _ => Source::Request,
        },
        Type::Path(p) if last(p).is_some_and(|l| INJECTED.contains(&l.as_str())) => {
            Source::Injected
        }
        _ => Source::Request,
    }
}

struct Event {
    /// `async fn`.
    asynchronous: bool,
    method_ident: syn::Ident,
    name: String,
    opts: EventOptions,
    params: Vec<Param>,
    /// No `self`: the event creates a record.
    create: bool,
}

fn check_param_type(ty: &Type) -> syn::Result<()> {
    match ty {
        Type::Reference(r) => Err(syn::Error::new_spanned(
            r,
            "an event parameter must be an owned type (it is decoded from the request): \
             use `String` instead of `&str`, `Vec<T>` instead of `&[T]`",
        )),
        Type::ImplTrait(t) => Err(syn::Error::new_spanned(
            t,
            "an event parameter needs a concrete type, not `impl Trait`",
        )),
        Type::Infer(t) => Err(syn::Error::new_spanned(
            t,
            "an event parameter needs a type",
        )),
        Type::Path(p) => {
            for segment in &p.path.segments {
                if let syn::PathArguments::AngleBracketed(args) = &segment.arguments {
                    for arg in &args.args {
                        if let syn::GenericArgument::Type(inner) = arg {
                            check_param_type(inner)?;
                        }
                    }
                }
            }
            Ok(())
        }
        Type::Tuple(t) => t.elems.iter().try_for_each(check_param_type),
        Type::Array(a) => check_param_type(&a.elem),
        Type::Paren(p) => check_param_type(&p.elem),
        _ => Ok(()),
    }
}

/// The associated functions the derive generates on an entity type; an event
/// method of the same name would clash with one of them (E0592).
const RESERVED: [&str; 5] = ["action", "create", "find", "list", "all"];

fn parse_event(method: &mut syn::ImplItemFn, index: usize) -> syn::Result<Event> {
    let attr = method.attrs.remove(index);
    let opts = event_attr::parse(&attr)?;
    let sig = &method.sig;
    let ident = sig.ident.to_string();
    if RESERVED.contains(&ident.as_str()) {
        return Err(syn::Error::new(
            sig.ident.span(),
            format!(
                "an event method cannot be named `{ident}`: `#[derive(Entity)]` generates \
                 `{ident}` on the entity type (one of `action`, `create`, `find`, `list`, `all`); \
                 rename the method and keep the event's name with `#[event(name = \"{ident}\")]`"
            ),
        ));
    }
    let asynchronous = sig.asyncness.is_some();
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "an event cannot be generic: its parameters are decoded from the request",
        ));
    }
    let create = match sig.inputs.first() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() => false,
        Some(FnArg::Receiver(r)) => {
            return Err(syn::Error::new(
                r.span(),
                "an event takes `&mut self` (or `&self`), not `self` by value",
            ));
        }
        _ => true,
    };
    let mut params = Vec::new();
    for arg in sig.inputs.iter().skip(usize::from(!create)) {
        let FnArg::Typed(pt) = arg else { continue };
        let Pat::Ident(pi) = &*pt.pat else {
            return Err(syn::Error::new_spanned(
                &pt.pat,
                "an event parameter must be a plain name: its name is the request field it is read from",
            ));
        };
        let source = source(&pt.ty);
        if source == Source::Request {
            check_param_type(&pt.ty)?;
        }
        let name = pi.ident.to_string();
        params.push(Param {
            ident: pi.ident.clone(),
            name: name.strip_prefix("r#").unwrap_or(&name).to_owned(),
            ty: (*pt.ty).clone(),
            source,
        });
    }
    if let Some(asyncness) = sig.asyncness {
        if create {
            return Err(syn::Error::new(
                asyncness.span(),
                "a create event cannot be async (yet): make it a plain `fn`, or create the \
                 record with a plain event and fill it in with an async one",
            ));
        }
        if params.iter().any(|p| p.source == Source::Changes) {
            return Err(syn::Error::new(
                asyncness.span(),
                "an async event cannot take `&mut Changes` (yet): fire the changes from a plain event",
            ));
        }
    }
    let name = opts
        .name
        .as_ref()
        .map_or_else(|| sig.ident.to_string(), |(n, _)| n.clone());
    Ok(Event {
        asynchronous,
        method_ident: sig.ident.clone(),
        name,
        opts,
        params,
        create,
    })
}

fn type_ident(self_ty: &Type) -> syn::Result<syn::Ident> {
    if let Type::Path(p) = self_ty
        && let Some(last) = p.path.segments.last()
    {
        return Ok(last.ident.clone());
    }
    Err(syn::Error::new(
        self_ty.span(),
        "`#[events]` goes on an `impl` of an entity struct",
    ))
}

pub(crate) fn expand(args: TokenStream, mut item: ItemImpl) -> syn::Result<TokenStream> {
    if !args.is_empty() {
        return Err(syn::Error::new_spanned(
            args,
            "`#[events]` takes no options",
        ));
    }
    if let Some((_, path, _)) = &item.trait_ {
        return Err(syn::Error::new(
            path.span(),
            "`#[events]` goes on an inherent `impl`, not a trait impl",
        ));
    }
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &item.generics,
            "`#[events]` cannot be used on a generic impl",
        ));
    }
    let self_ty = (*item.self_ty).clone();
    let ident = type_ident(&self_ty)?;

    let mut events: Vec<Event> = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            continue;
        };
        let found: Vec<usize> = method
            .attrs
            .iter()
            .enumerate()
            .filter(|(_, a)| event_attr::is_event_attr(a))
            .map(|(i, _)| i)
            .collect();
        match found.as_slice() {
            [] => continue,
            [index] => {
                let event = parse_event(method, *index)?;
                let span = event
                    .opts
                    .name
                    .as_ref()
                    .map_or_else(|| method.sig.ident.span(), |(_, s)| *s);
                if let Some(first) = events.iter().find(|e| e.name == event.name) {
                    return Err(syn::Error::new(
                        span,
                        format!(
                            "duplicate event `{}`: `{}` has that name already; \
                             give one of them another `name = \"...\"`",
                            event.name, first.method_ident
                        ),
                    ));
                }
                spans.push(method.sig.ident.span());
                events.push(event);
            }
            [_, second, ..] => {
                return Err(syn::Error::new_spanned(
                    &method.attrs[*second],
                    "a method can carry `#[event]` only once",
                ));
            }
        }
    }

    let mut handlers = Vec::new();
    let mut defs = Vec::new();
    let mut builders = Vec::new();
    let mut create_builders = Vec::new();
    let mut creates_check = Vec::new();
    for (event, span) in events.iter().zip(&spans) {
        let method = &event.method_ident;
        let handler = format_ident!("__starmodel_event_{}", method);
        // Interpolated, not written inside `quote_spanned!`: a local written there
        // takes the hygiene of the span it is given, and a parameter's type may
        // come from another macro than the `#[events]` attribute (one wrapping it).
        let input = format_ident!("__starmodel_input");
        let changes = format_ident!("__starmodel_changes");
        let extracts = event.params.iter().map(|p| {
            let (pident, pname, pty) = (&p.ident, &p.name, &p.ty);
            match p.source {
                Source::Request => quote_spanned! {pty.span()=>
                    let #pident: #pty = ::starmodel::__private::param::<#pty>(#input, #pname)?;
                },
                Source::Changes => quote! { let #pident: #pty = &mut *#changes; },
                Source::Injected => quote_spanned! {pty.span()=>
                    let #pident: #pty = ::starmodel::__private::inject::<#pty>(#input)?;
                },
            }
        });
        let args = event.params.iter().map(|p| &p.ident);
        let fires = event.params.iter().any(|p| p.source == Source::Changes);
        let injects = event.params.iter().any(|p| p.source == Source::Injected);
        let internal = event.opts.internal;
        if event.asynchronous {
            handlers.push(quote_spanned! {*span=>
                fn #handler<'a>(
                    __starmodel_this: &'a mut #self_ty,
                    #input: &'a ::starmodel::__private::EventInput,
                ) -> ::starmodel::__private::EventFuture<'a> {
                    ::std::boxed::Box::pin(async move {
                        let _ = #input;
                        #(#extracts)*
                        ::starmodel::__private::IntoEventOutput::into_event_output(
                            <#self_ty>::#method(__starmodel_this, #(#args),*).await
                        )
                    })
                }
            });
        } else if event.create {
            handlers.push(quote_spanned! {*span=>
                fn #handler(
                    #input: &::starmodel::__private::EventInput,
                    #changes: &mut ::starmodel::__private::Changes,
                ) -> ::core::result::Result<#self_ty, ::starmodel::__private::EventError> {
                    let _ = (#input, &#changes);
                    #(#extracts)*
                    ::starmodel::__private::IntoCreated::<#self_ty>::into_created(
                        <#self_ty>::#method(#(#args),*)
                    )
                }
            });
        } else {
            handlers.push(quote_spanned! {*span=>
                fn #handler(
                    __starmodel_this: &mut #self_ty,
                    #input: &::starmodel::__private::EventInput,
                    #changes: &mut ::starmodel::__private::Changes,
                ) -> ::core::result::Result<::starmodel::__private::EventOutput, ::starmodel::__private::EventError> {
                    let _ = (#input, &#changes);
                    #(#extracts)*
                    ::starmodel::__private::IntoEventOutput::into_event_output(
                        <#self_ty>::#method(__starmodel_this, #(#args),*)
                    )
                }
            });
        }
        let (kind, handler_variant) = if event.create {
            (quote!(Create), quote!(Create))
        } else if event.asynchronous {
            (quote!(Update), quote!(UpdateAsync))
        } else {
            (quote!(Update), quote!(Update))
        };
        let asynchronous = event.asynchronous;
        if event.create {
            let message = format!(
                "`{}` has no `self`, so it creates a record: only `scope = \"record\"` entities have create events",
                event.method_ident
            );
            creates_check.push(quote_spanned! {*span=>
                const _: () = ::core::assert!(
                    ::core::matches!(
                        <#self_ty as ::starmodel::__private::Entity>::SCOPE,
                        ::starmodel::__private::Scope::Record
                    ),
                    #message
                );
            });
        }
        let name = &event.name;
        let method_variant = match event.opts.method.as_str() {
            "get" => quote!(Get),
            "put" => quote!(Put),
            "patch" => quote!(Patch),
            "delete" => quote!(Delete),
            _ => quote!(Post),
        };
        let request_params = || event.params.iter().filter(|p| p.source == Source::Request);
        let param_names = request_params().map(|p| &p.name);
        let param_kinds = request_params().map(|p| {
            let (ty, nullable) = crate::entity::field_type(&p.ty);
            let ty_tokens = &p.ty;
            let rust_type = quote!(#ty_tokens).to_string().replace(' ', "");
            quote! {
                ::starmodel::__private::ParamKind {
                    rust_type: #rust_type,
                    ty: ::starmodel::__private::FieldType::#ty,
                    nullable: #nullable,
                }
            }
        });
        let selector = match &event.opts.selector {
            Some(s) => quote!(::core::option::Option::Some(#s)),
            None => quote!(::core::option::Option::None),
        };
        let mode = match event.opts.mode {
            Some((_, variant)) => {
                let variant = format_ident!("{variant}");
                quote!(::core::option::Option::Some(
                    ::starmodel::__private::ElementPatchMode::#variant
                ))
            }
            None => quote!(::core::option::Option::None),
        };
        defs.push(quote! {
            ::starmodel::__private::EventDef {
                spec: ::starmodel::__private::EventSpec {
                    name: #name,
                    method: ::starmodel::__private::EventMethod::#method_variant,
                    params: &[#(#param_names),*],
                    param_kinds: &[#(#param_kinds),*],
                    selector: #selector,
                    mode: #mode,
                    kind: ::starmodel::__private::EventKind::#kind,
                    internal: #internal,
                    fires: #fires,
                    asynchronous: #asynchronous,
                    injects: #injects,
                },
                handler: ::starmodel::__private::Handler::#handler_variant(#handler),
            }
        });
        let builder_params = request_params().map(|p| {
            let (pident, pty) = (&p.ident, &p.ty);
            quote!(#pident: impl ::starmodel::__private::ActionArg<#pty>)
        });
        let action = format_ident!("__starmodel_action");
        let builder_args = request_params().map(|p| {
            let (pident, pname, pty) = (&p.ident, &p.name, &p.ty);
            quote_spanned! {pty.span()=>
                let #action = ::starmodel::__private::ActionArg::<#pty>::add_arg(#pident, #action, #pname);
            }
        });
        let doc = format!("Fires the `{name}` event.");
        let builder_ident = format_ident!("{}", method);
        let target = if event.create {
            &mut create_builders
        } else {
            &mut builders
        };
        target.push(quote! {
            #[doc = #doc]
            #[allow(clippy::needless_pass_by_value, clippy::too_many_arguments)]
            pub fn #builder_ident(&self, #(#builder_params),*) -> ::starmodel::__private::Action {
                let #action = ::starmodel::__private::Action::new(
                    ::starmodel::__private::EventMethod::#method_variant,
                    ::std::format!("{}/{}", self.__starmodel_base(), #name),
                );
                #(#builder_args)*
                #action
            }
        });
    }

    // `Counter` -> `CounterActions`, `super::Counter` -> `super::CounterActions`:
    // the derive defines it beside the struct.
    let mut actions = self_ty.clone();
    if let Type::Path(p) = &mut actions
        && let Some(last) = p.path.segments.last_mut()
    {
        last.ident = format_ident!("{}Actions", ident);
    }
    let mut create_actions = self_ty.clone();
    if let Type::Path(p) = &mut create_actions
        && let Some(last) = p.path.segments.last_mut()
    {
        last.ident = format_ident!("{}CreateActions", ident);
    }
    let create_impl = if create_builders.is_empty() {
        quote!()
    } else {
        quote! {
            impl #create_actions {
                #(#create_builders)*
            }
        }
    };
    Ok(quote! {
        #item

        impl ::starmodel::__private::Events for #self_ty {
            fn events() -> &'static [::starmodel::__private::EventDef<Self>] {
                #(#handlers)*
                static EVENTS: &[::starmodel::__private::EventDef<#self_ty>] = &[#(#defs),*];
                EVENTS
            }
        }

        impl #actions {
            #(#builders)*
        }

        #create_impl

        #(#creates_check)*
    })
}
