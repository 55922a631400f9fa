//! The upstream comparison rules: events split on blank lines; fields split on the first
//! `:` and trimmed; `event`, `id` and `retry` exact; data lines grouped by their first word,
//! each group exact and in order, except `elements`, compared as HTML with sorted
//! attributes; the order between groups does not matter.

use std::collections::BTreeMap;

#[derive(Debug, Default, PartialEq, Eq)]
struct SseEvent {
    event: Option<String>,
    id: Option<String>,
    retry: Option<String>,
    data: BTreeMap<String, Vec<String>>,
}

/// Panics with a readable diff when `actual` does not match `expected` under the rules.
pub(crate) fn assert_same_events(case: &str, expected: &str, actual: &str) {
    let expected_events =
        parse_events(expected).unwrap_or_else(|err| panic!("{case}: expected: {err}"));
    let actual_events = parse_events(actual).unwrap_or_else(|err| panic!("{case}: actual: {err}"));
    assert_eq!(
        expected_events, actual_events,
        "{case}: events differ\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

fn parse_events(text: &str) -> Result<Vec<SseEvent>, String> {
    text.split("\n\n")
        .filter(|chunk| !chunk.trim().is_empty())
        .map(parse_event)
        .collect()
}

fn parse_event(chunk: &str) -> Result<SseEvent, String> {
    let mut event = SseEvent::default();
    for line in chunk.lines().filter(|line| !line.is_empty()) {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.trim().to_owned();
        let slot = match field {
            "event" => &mut event.event,
            "id" => &mut event.id,
            "retry" => &mut event.retry,
            "data" => {
                let (key, rest) = value.split_once(' ').unwrap_or((&value, ""));
                let group = event.data.entry(key.to_owned()).or_default();
                group.push(rest.to_owned());
                continue;
            }
            other => return Err(format!("unknown field `{other}` in {chunk:?}")),
        };
        if slot.replace(value).is_some() {
            return Err(format!("repeated field `{field}` in {chunk:?}"));
        }
    }
    if let Some(elements) = event.data.get_mut("elements") {
        *elements = vec![normalize_html(&elements.join("\n"))];
    }
    Ok(event)
}

/// Rewrites every start tag with its attributes sorted and double-quoted.
pub(crate) fn normalize_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let starts_tag = rest[1..].starts_with(|c: char| c.is_ascii_alphabetic());
        match starts_tag.then(|| normalize_tag(rest)).flatten() {
            Some((tag, len)) => {
                out.push_str(&tag);
                rest = &rest[len..];
            }
            None => {
                out.push('<');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Normalises the start tag at the beginning of `text`, returning it and its length.
fn normalize_tag(text: &str) -> Option<(String, usize)> {
    let bytes = text.as_bytes();
    let is_space = |i: usize| bytes[i].is_ascii_whitespace();
    let name_end = |mut i: usize| {
        while i < bytes.len() && !is_space(i) && !matches!(bytes[i], b'>' | b'/' | b'=') {
            i += 1;
        }
        i
    };
    let end = name_end(1);
    let name = &text[1..end];
    let mut i = end;
    let mut attributes = Vec::new();
    let mut self_closing = false;
    loop {
        while i < bytes.len() && is_space(i) {
            i += 1;
        }
        match bytes.get(i)? {
            b'>' => break,
            b'/' => {
                self_closing = true;
                i += 1;
                continue;
            }
            _ => {}
        }
        let start = i;
        i = name_end(i).max(i + 1);
        let attribute = text[start..i].to_owned();
        while i < bytes.len() && is_space(i) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            attributes.push((attribute, None));
            continue;
        }
        i += 1;
        while i < bytes.len() && is_space(i) {
            i += 1;
        }
        let value = match bytes.get(i)? {
            quote @ (b'"' | b'\'') => {
                let close = i + 1 + text[i + 1..].find(char::from(*quote))?;
                let value = &text[i + 1..close];
                i = close + 1;
                value
            }
            _ => {
                let start = i;
                while i < bytes.len() && !is_space(i) && bytes[i] != b'>' {
                    i += 1;
                }
                &text[start..i]
            }
        };
        attributes.push((attribute, Some(value.to_owned())));
    }
    attributes.sort();
    let mut tag = format!("<{name}");
    for (attribute, value) in attributes {
        tag.push(' ');
        tag.push_str(&attribute);
        if let Some(value) = value {
            tag.push_str(&format!("=\"{value}\""));
        }
    }
    tag.push_str(if self_closing { "/>" } else { ">" });
    Some((tag, i + 1))
}
