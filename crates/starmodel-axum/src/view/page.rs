use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::app::current_app;
use crate::assets::{DatastarBundle, with_current};
use crate::layout::Layout;
use crate::rejection::{ERROR_ELEMENT_ID, ERROR_HEADER};

/// The path of the page-level live stream.
pub const STREAM_PATH: &str = "/_starmodel/stream";

const STYLE: &str = include_str!("style.css");

/// How long an error stays on screen unless dismissed first (a page may set
/// `data-hide-after` in milliseconds on the error element).
const ERROR_SHOWN_MS: u32 = 10_000;

/// The small glue StarModel ships beside Datastar (ours, not Datastar's):
/// - Datastar v1.0.4 drops the body of non-200 responses, so errors travel in the
///   `starmodel-error` header too; this shows them in `#starmodel-error`, with a
///   dismiss button (or Escape), until dismissed or for [`ERROR_SHOWN_MS`]; a
///   later success does not hide an earlier error.
/// - A refused action puts the control that sent it back to what the server
///   last rendered (an input's `value` attribute, a checkbox's `checked`), so a
///   rejected edit does not linger out of sync with the other tabs.
/// - A form marked `data-starmodel-reset` is cleared (and its bound signals with
///   it) when its action succeeded, and kept as typed when it was refused or
///   when it was changed while the action ran (the next entry is not lost).
/// - While the live stream is retrying, the page says it is offline.
fn glue() -> String {
    format!(
        r#"(()=>{{const f=window.fetch,d=document,b=()=>d.documentElement.classList;
const box=()=>d.getElementById("{ERROR_ELEMENT_ID}");let timer;
const hide=()=>{{const e=box();if(e)e.hidden=true}};
const show=(m,s)=>{{const e=box();if(!e)return;const t=d.createElement("span"),x=d.createElement("button");
t.textContent=m;x.type="button";x.className="starmodel-dismiss";x.setAttribute("aria-label","Dismiss");
x.textContent="\u00d7";x.onclick=hide;e.replaceChildren(t,x);e.dataset.status=s;e.hidden=false;
clearTimeout(timer);timer=setTimeout(hide,Number(e.dataset.hideAfter)||{ERROR_SHOWN_MS})}};
window.fetch=async(...a)=>{{const r=await f(...a),m=r.headers.get("{ERROR_HEADER}");
const live=String(a[0]&&a[0].url||a[0]).includes("{STREAM_PATH}");
if(live&&r.ok)b().remove("starmodel-offline");
if(!r.ok&&m)show(decodeURIComponent(m),r.status);return r}};
d.addEventListener("keydown",ev=>{{if(ev.key==="Escape")hide()}});
const failed=new WeakSet();
const revert=el=>{{if(el.type==="checkbox"||el.type==="radio")el.checked=el.defaultChecked;
else if(el instanceof HTMLSelectElement){{for(const o of el.options)o.selected=o.defaultSelected}}
else if("defaultValue" in el)el.value=el.defaultValue}};
const sent=new WeakMap(),values=form=>JSON.stringify([...form.elements].map(i=>i.value));
const resets=el=>el instanceof HTMLFormElement&&el.hasAttribute("data-starmodel-reset");
const clear=form=>{{form.reset();for(const i of form.elements)i.dispatchEvent(new Event("input",{{bubbles:true}}))}};
d.addEventListener("datastar-fetch",ev=>{{const t=ev.detail&&ev.detail.type,el=ev.detail&&ev.detail.el;if(!el)return;
if(el.id==="starmodel-live"){{if(t==="retrying"||t==="retries-failed")b().add("starmodel-offline");return}}
if(t==="started"){{failed.delete(el);if(resets(el))sent.set(el,values(el))}}
else if(t==="error"){{failed.add(el);revert(el)}}
else if(t==="finished"&&!failed.has(el)&&resets(el)&&sent.get(el)===values(el))clear(el)}})}})();"#
    )
}

/// `path` (`/todos`) as a link of the application serving the current page: with
/// its prefix when it is mounted under one (`/app/todos`).
///
/// ```
/// assert_eq!(starmodel_axum::view::href("/todos"), "/todos");
/// ```
pub fn href(path: &str) -> String {
    format!("{}{path}", starmodel_core::event::url_prefix())
}

/// The element that opens the page's one live stream. Put it after every entity
/// on the page (the [`page`] shell does); the stream reads which entities the
/// page shows from the signals the browser sends with it.
///
/// It reconnects forever with backoff, and on every (re)connection the server
/// first sends the full current state.
pub fn live_stream() -> Markup {
    let prefix = starmodel_core::event::url_prefix();
    let init = format!(
        "@get('{prefix}{STREAM_PATH}', {{retry: 'always', retryMaxCount: Infinity, retryMaxWait: 10000}})"
    );
    html! { div #starmodel-live hidden "data-init"=(init) {} }
}

/// A complete HTML page titled "StarModel" around `body`: see [`page_titled`].
pub fn page(body: Markup) -> Markup {
    page_titled("StarModel", body)
}

/// A complete HTML page: the Datastar bundle (CDN with SRI, or the local copy
/// from `STARMODEL_DATASTAR_JS`), StarModel's stylesheet and glue, what the
/// application's [`Layout`](crate::view::Layout) adds, `body`, an error area and
/// the live stream.
///
/// ```
/// use maud::html;
/// let page = starmodel_axum::page_titled("Hello", html! { h1 { "Hello" } }).into_string();
/// assert!(page.starts_with("<!DOCTYPE html>"));
/// assert!(page.contains("<title>Hello</title>"));
/// assert!(page.contains("id=\"starmodel-live\""));
/// ```
pub fn page_titled(title: &str, body: Markup) -> Markup {
    let layout = current_app().map(|app| app.layout.clone());
    let head = layout
        .as_deref()
        .map(Layout::head_elements)
        .unwrap_or_default();
    let body = match &layout {
        Some(layout) => layout.wrap(body),
        None => body,
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                // An empty icon: no /favicon.ico request and its 404 in the console.
                link rel="icon" href="data:,";
                style { (PreEscaped(STYLE)) }
                script { (PreEscaped(glue())) }
                @for element in head { (element) }
                (with_current(|bundle| match bundle {
                    DatastarBundle::Cdn => html! {
                        script type="module" src=(super::DATASTAR_CDN_URL)
                            integrity=(super::DATASTAR_SRI) crossorigin="anonymous" {}
                    },
                    local => html! {
                        script type="module"
                            src={ (starmodel_core::event::url_prefix()) (local.url()) } {}
                    },
                }))
            }
            body {
                div .starmodel-offline-banner role="status" { "Connection lost — reconnecting…" }
                main .sm-page { (body) }
                div #(ERROR_ELEMENT_ID) role="alert" hidden {}
                (live_stream())
            }
        }
    }
}
