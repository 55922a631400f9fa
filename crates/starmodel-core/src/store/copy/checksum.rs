//! [`Checksum`]: what one entity's data hashes to, the same on every store.

use std::fmt;

use serde_json::{Number, Value};
use sha2::{Digest, Sha256};

use super::pages::{PAGE_SIZE, Pages};
use crate::EntityId;
use crate::store::{Store, StoreError};

/// What one entity's data hashes to: how many instances and a SHA-256.
///
/// The hash covers every instance's id and value, **not** its version: two stores
/// holding the same data agree even when their write histories differ (the
/// versions of a [`copy`](super::copy) are checked separately, record by record).
///
/// How it is computed, so that any tool can recompute it:
/// 1. each instance is encoded as the JSON array `[id, value]` in canonical form:
///    no whitespace, object keys sorted by their bytes, strings escaped as
///    `serde_json` does, and numbers written one way per value — a number with an
///    integral value (whether stored as `1` or `1.0`) as a plain integer (`1`;
///    negative zero as `-0`, so a store that drops its sign is caught), any other
///    as Rust's shortest round-trip exponent form (`1.5e0`, `1e-7`);
/// 2. each encoding is hashed with SHA-256;
/// 3. the instances are ordered by the bytes of their id (not by the store's own
///    order, which may follow a collation or numeric ids) and their digests
///    hashed, in that order, into the final SHA-256, written as lowercase hex.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use starmodel_core::store::copy::checksum;
/// use starmodel_core::{EntityKey, MemoryStore, Mutation, Store};
///
/// let store = MemoryStore::new();
/// let key = EntityKey::new("todo", "1");
/// let value = serde_json::json!({"id": "1", "title": "milk"});
/// store.update(&key, &mut |_| Mutation::Put(value.clone())).await.unwrap();
/// let sum = checksum(&store, "todo").await.unwrap();
/// assert_eq!(sum.count, 1);
/// assert_eq!(sum.sha256.len(), 64);
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checksum {
    /// How many instances.
    pub count: u64,
    /// The SHA-256 described above, lowercase hex.
    pub sha256: String,
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} instances, sha256 {}", self.count, self.sha256)
    }
}

/// The checksum of every instance of `entity` in `store` (see [`Checksum`]).
pub async fn checksum(store: &dyn Store, entity: &str) -> Result<Checksum, StoreError> {
    let mut digests = Vec::new();
    let mut pages = Pages::new(store, entity, PAGE_SIZE);
    while let Some(page) = pages.next().await? {
        digests.extend(page.into_iter().map(|(id, r)| {
            let digest = digest(&id, &r.value);
            (id, digest)
        }));
    }
    Ok(combine(digests))
}

/// The SHA-256 of one instance's canonical `[id, value]`.
pub(super) fn digest(id: &EntityId, value: &Value) -> [u8; 32] {
    let mut out = Vec::with_capacity(128);
    out.push(b'[');
    write_string(&mut out, id.as_str());
    out.push(b',');
    write_canonical(&mut out, value);
    out.push(b']');
    Sha256::digest(&out).into()
}

pub(super) fn combine(mut digests: Vec<(EntityId, [u8; 32])>) -> Checksum {
    digests.sort_unstable_by(|a, b| a.0.as_str().as_bytes().cmp(b.0.as_str().as_bytes()));
    let mut hasher = Sha256::new();
    for (_, d) in &digests {
        hasher.update(d);
    }
    let sha256 = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Checksum {
        count: digests.len() as u64,
        sha256,
    }
}

pub(super) fn write_canonical(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => out.extend_from_slice(canonical_number(n).as_bytes()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Sorted here rather than trusting the map: serde_json keeps insertion
            // order when any crate in the build turns on `preserve_order`.
            let mut fields: Vec<(&String, &Value)> = map.iter().collect();
            fields.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, v)) in fields.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, k);
                out.push(b':');
                write_canonical(out, v);
            }
            out.push(b'}');
        }
    }
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    // Writing a `str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// One text per numeric value: integral values as integers (`-0` for negative
/// zero), others in Rust's shortest round-trip exponent form.
fn canonical_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    // Every integral f64 below 2^127 in magnitude converts to i128 exactly.
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    if f == 0.0 && f.is_sign_negative() {
        return "-0".to_owned();
    }
    if f.is_finite() && f.fract() == 0.0 && f.abs() < LIMIT {
        return (f as i128).to_string();
    }
    format!("{f:e}")
}
