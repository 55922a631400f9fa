//! Copying data between stores (memory snapshot, SQL, …), verified by counts and
//! checksums.
//!
//! [`copy`] reads the source one page at a time, writes each instance to the target
//! with [`Store::import`] (value and version exactly as read), and then compares
//! the [`checksum`] of both sides. It is idempotent (an instance the target already
//! holds with the same value and version is not written again) and safe to rerun
//! after an interruption: the rerun skips what was copied and writes the rest.
//! Instances the target holds but the source has not are only deleted when asked
//! ([`CopyOptions::prune`]); otherwise the copy fails and says so.
//!
//! The copy is meant for a quiescent source (a deploy step, the CLI): writes to
//! either side while it runs make the verification fail rather than pass silently.

use std::collections::HashMap;
use std::fmt;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde_json::{Number, Value};
use sha2::{Digest, Sha256};

use super::{ListQuery, Mutation, Record, Store, StoreError};
use crate::{EntityId, EntityKey};

/// What one entity's data hashes to: how many instances and a SHA-256.
///
/// The hash covers every instance's id and value, **not** its version: two stores
/// holding the same data agree even when their write histories differ (the
/// versions of a [`copy`] are checked separately, record by record).
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

/// How [`copy`] treats the target.
///
/// ```
/// use starmodel_core::store::copy::CopyOptions;
/// let options = CopyOptions { prune: true, ..CopyOptions::default() };
/// assert_eq!(options.page_size, 500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyOptions {
    /// Delete instances the target holds but the source has not. Off by default:
    /// the copy then fails with [`CopyError::Extra`] instead of deleting anything.
    pub prune: bool,
    /// How many instances are read per page (default 500): bounds the memory the
    /// copy holds besides one id and digest per instance.
    pub page_size: usize,
    /// How many imports run at once (default 8): a server database takes them on
    /// separate connections.
    pub concurrency: usize,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            prune: false,
            page_size: 500,
            concurrency: 8,
        }
    }
}

/// What [`copy`] did, entity by entity, in the order asked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopyReport {
    /// One entry per entity copied.
    pub entities: Vec<EntityCopy>,
}

/// What [`copy`] did for one entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityCopy {
    /// The entity's name.
    pub entity: String,
    /// Instances in the source (and, verified, in the target).
    pub count: u64,
    /// Instances written to the target.
    pub copied: u64,
    /// Instances the target held already with the same value and version.
    pub unchanged: u64,
    /// Instances deleted from the target because the source has not them.
    pub pruned: u64,
    /// The checksum both sides agree on.
    pub checksum: Checksum,
}

/// A copy failed; rerunning it after fixing the cause completes it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CopyError {
    /// Reading or writing one of the stores failed.
    #[error("copying `{entity}` failed: {source}")]
    Store {
        /// The entity being copied.
        entity: String,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// The target holds instances the source has not, and pruning was not asked.
    #[error(
        "the target holds {count} instances of `{entity}` that the source has not; \
         copy with prune to delete them"
    )]
    Extra {
        /// The entity.
        entity: String,
        /// How many such instances.
        count: u64,
        /// Up to ten of their ids.
        sample: Vec<EntityId>,
    },
    /// After the copy, the target's data differs from the source's (a writer was
    /// busy on either side, or a store does not keep some value exactly).
    #[error("`{entity}` differs after the copy: source has {from}, target has {to}")]
    Mismatch {
        /// The entity.
        entity: String,
        /// The source's checksum.
        from: Checksum,
        /// The target's checksum.
        to: Checksum,
    },
}

/// The checksum of every instance of `entity` in `store` (see [`Checksum`]).
pub async fn checksum(store: &dyn Store, entity: &str) -> Result<Checksum, StoreError> {
    let mut digests = Vec::new();
    let mut pages = Pages::new(store, entity, CopyOptions::default().page_size);
    while let Some(page) = pages.next().await? {
        digests.extend(page.into_iter().map(|(id, r)| {
            let digest = digest(&id, &r.value);
            (id, digest)
        }));
    }
    Ok(combine(digests))
}

/// Copies every instance of `entities` from `from` to `to`, then verifies that
/// both hold the same data (counts and checksums).
///
/// Both stores must know the entities already ([`Store::attach`] and
/// [`Store::prepare`] for a SQL store). Versions are kept, so a copied instance
/// continues its history in the target.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use starmodel_core::store::copy::{copy, CopyOptions};
/// use starmodel_core::{EntityKey, MemoryStore, Mutation, Store};
///
/// let (from, to) = (MemoryStore::new(), MemoryStore::new());
/// let key = EntityKey::new("todo", "1");
/// let value = serde_json::json!({"id": "1", "title": "milk"});
/// from.update(&key, &mut |_| Mutation::Put(value.clone())).await.unwrap();
///
/// let report = copy(&from, &to, &["todo"], CopyOptions::default()).await.unwrap();
/// assert_eq!(report.entities[0].copied, 1);
/// let again = copy(&from, &to, &["todo"], CopyOptions::default()).await.unwrap();
/// assert_eq!(again.entities[0].unchanged, 1);
/// # });
/// ```
pub async fn copy(
    from: &dyn Store,
    to: &dyn Store,
    entities: &[&str],
    options: CopyOptions,
) -> Result<CopyReport, CopyError> {
    let mut report = CopyReport::default();
    for entity in entities {
        report
            .entities
            .push(copy_entity(from, to, entity, options).await?);
    }
    Ok(report)
}

async fn copy_entity(
    from: &dyn Store,
    to: &dyn Store,
    entity: &str,
    options: CopyOptions,
) -> Result<EntityCopy, CopyError> {
    let failed = |source| CopyError::Store {
        entity: entity.to_owned(),
        source,
    };
    // What the target holds, by id: compared with each source instance to skip
    // unchanged ones; whatever is left at the end is absent from the source.
    let mut held: HashMap<EntityId, (u64, [u8; 32])> = HashMap::new();
    let mut pages = Pages::new(to, entity, options.page_size);
    while let Some(page) = pages.next().await.map_err(failed)? {
        for (id, record) in page {
            let digest = digest(&id, &record.value);
            held.insert(id, (record.version, digest));
        }
    }

    let (mut count, mut copied, mut unchanged) = (0, 0, 0);
    let mut pages = Pages::new(from, entity, options.page_size);
    while let Some(page) = pages.next().await.map_err(failed)? {
        let mut writes = Vec::new();
        for (id, record) in page {
            count += 1;
            let same = held
                .remove(&id)
                .is_some_and(|h| h == (record.version, digest(&id, &record.value)));
            if same {
                unchanged += 1;
            } else {
                writes.push((EntityKey::new(entity, id), record));
            }
        }
        // Each import stands alone, so a failure leaves whole instances behind and
        // the rerun writes the rest. After a failure no import starts, and those
        // under way finish rather than being dropped halfway.
        let mut queue = writes.iter();
        let mut running = FuturesUnordered::new();
        let mut error = None;
        loop {
            while error.is_none() && running.len() < options.concurrency.max(1) {
                let Some((key, record)) = queue.next() else {
                    break;
                };
                running.push(to.import(key, record));
            }
            match running.next().await {
                Some(Ok(())) => copied += 1,
                Some(Err(e)) => {
                    error.get_or_insert(e);
                }
                None => break,
            }
        }
        if let Some(e) = error {
            return Err(failed(e));
        }
    }

    let mut extra: Vec<EntityId> = held.into_keys().collect();
    extra.sort();
    let mut pruned = 0;
    if options.prune {
        for id in extra.drain(..) {
            let key = EntityKey::new(entity, id);
            to.update(&key, &mut |_| Mutation::Delete)
                .await
                .map_err(failed)?;
            pruned += 1;
        }
    } else if !extra.is_empty() {
        return Err(CopyError::Extra {
            entity: entity.to_owned(),
            count: extra.len() as u64,
            sample: extra.into_iter().take(10).collect(),
        });
    }

    let source = checksum(from, entity).await.map_err(failed)?;
    let target = checksum(to, entity).await.map_err(failed)?;
    if source != target {
        return Err(CopyError::Mismatch {
            entity: entity.to_owned(),
            from: source,
            to: target,
        });
    }
    Ok(EntityCopy {
        entity: entity.to_owned(),
        count,
        copied,
        unchanged,
        pruned,
        checksum: source,
    })
}

/// Reads one entity's instances a page at a time, in the store's id order.
struct Pages<'a> {
    store: &'a dyn Store,
    entity: &'a str,
    query: ListQuery,
    done: bool,
}

impl<'a> Pages<'a> {
    fn new(store: &'a dyn Store, entity: &'a str, page_size: usize) -> Self {
        Pages {
            store,
            entity,
            query: ListQuery {
                limit: Some(page_size.max(1)),
                ..ListQuery::default()
            },
            done: false,
        }
    }

    async fn next(&mut self) -> Result<Option<Vec<(EntityId, Record)>>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let page = self.store.query(self.entity, &self.query).await?;
        self.done = page.next.is_none() || page.items.is_empty();
        self.query.cursor = page.next;
        Ok((!page.items.is_empty()).then_some(page.items))
    }
}

/// The SHA-256 of one instance's canonical `[id, value]`.
fn digest(id: &EntityId, value: &Value) -> [u8; 32] {
    let mut out = Vec::with_capacity(128);
    out.push(b'[');
    write_string(&mut out, id.as_str());
    out.push(b',');
    write_canonical(&mut out, value);
    out.push(b']');
    Sha256::digest(&out).into()
}

fn combine(mut digests: Vec<(EntityId, [u8; 32])>) -> Checksum {
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

fn write_canonical(out: &mut Vec<u8>, value: &Value) {
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use serde_json::json;

    use super::*;
    use crate::MemoryStore;
    use crate::store::{UpdateFn, UpdateOutcome};

    const ENTITY: &str = "item";

    /// Floats whose text takes 17 digits or an extreme exponent to read back.
    const FLOATS: [f64; 9] = [
        47.376_948_999_999_996,
        0.1 + 0.2,
        1.0 / 3.0,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        2.225_073_858_507_201e-308,
        9_007_199_254_740_993.0,
        -123_456_789.123_456_78,
    ];

    fn value(i: usize) -> Value {
        json!({
            "id": format!("{i:04}"),
            "n": i,
            "ratio": i as f64 / 8.0,
            "float": FLOATS[i % FLOATS.len()],
            "name": format!("item «{i}» \"quoted\""),
            "tags": {"even": i % 2 == 0, "list": [i, null]},
        })
    }

    async fn filled(n: usize) -> MemoryStore {
        let store = MemoryStore::new();
        for i in 0..n {
            let key = EntityKey::new(ENTITY, format!("{i:04}"));
            let record = Record {
                version: (i % 5 + 1) as u64,
                value: value(i),
            };
            store.import(&key, &record).await.unwrap();
        }
        store
    }

    fn options(page_size: usize) -> CopyOptions {
        CopyOptions {
            page_size,
            ..CopyOptions::default()
        }
    }

    #[test]
    fn numbers_have_one_text_per_value() {
        let text = |v: Value| {
            let mut out = Vec::new();
            write_canonical(&mut out, &v);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(text(json!(1.0)), "1");
        assert_eq!(text(json!(1)), "1");
        assert_eq!(text(json!(0.0)), "0");
        assert_eq!(text(json!(-0.0)), "-0");
        assert_eq!(text(json!(1.5)), "1.5e0");
        assert_eq!(text(json!(1e16)), "10000000000000000");
        assert_eq!(text(json!(1e300)), "1e300");
        assert_eq!(text(json!(0.1)), "1e-1");
        assert_eq!(text(json!(u64::MAX)), u64::MAX.to_string());
        assert_eq!(text(json!(i64::MIN)), i64::MIN.to_string());
        assert_eq!(
            text(json!({"b": 1, "a": [true, null, "x\"y"]})),
            r#"{"a":[true,null,"x\"y"],"b":1}"#
        );
    }

    #[tokio::test]
    async fn checksum_ignores_versions_and_store_order_but_not_data() {
        let a = filled(20).await;
        let b = MemoryStore::new();
        // Written in reverse and with other versions: same data, same checksum.
        for i in (0..20).rev() {
            let key = EntityKey::new(ENTITY, format!("{i:04}"));
            let record = Record {
                version: 99,
                value: value(i),
            };
            b.import(&key, &record).await.unwrap();
        }
        let sum = checksum(&a, ENTITY).await.unwrap();
        assert_eq!(sum.count, 20);
        assert_eq!(sum, checksum(&b, ENTITY).await.unwrap());

        let mut changed = value(7);
        changed["ratio"] = json!(0.875_000_000_000_001);
        let record = Record {
            version: 1,
            value: changed,
        };
        b.import(&EntityKey::new(ENTITY, "0007"), &record)
            .await
            .unwrap();
        let other = checksum(&b, ENTITY).await.unwrap();
        assert_eq!(other.count, 20);
        assert_ne!(sum.sha256, other.sha256);
        assert_eq!(
            checksum(&MemoryStore::new(), ENTITY).await.unwrap(),
            combine(Vec::new())
        );
    }

    #[tokio::test]
    async fn copy_preserves_every_instance_and_is_idempotent() {
        let from = filled(1234).await;
        let to = MemoryStore::new();
        let report = copy(&from, &to, &[ENTITY], options(100)).await.unwrap();
        let e = &report.entities[0];
        assert_eq!(
            (e.count, e.copied, e.unchanged, e.pruned),
            (1234, 1234, 0, 0)
        );
        assert_eq!(e.checksum, checksum(&from, ENTITY).await.unwrap());
        assert_eq!(
            from.list(ENTITY).await.unwrap(),
            to.list(ENTITY).await.unwrap()
        );

        let again = copy(&from, &to, &[ENTITY], options(100)).await.unwrap();
        let e2 = &again.entities[0];
        assert_eq!((e2.count, e2.copied, e2.unchanged), (1234, 0, 1234));
        assert_eq!(e2.checksum, e.checksum);
    }

    #[tokio::test]
    async fn a_changed_value_or_version_is_copied_again() {
        let from = filled(10).await;
        let to = MemoryStore::new();
        copy(&from, &to, &[ENTITY], options(3)).await.unwrap();
        let key = EntityKey::new(ENTITY, "0003");
        from.update(&key, &mut |_| Mutation::Put(json!({"id": "0003", "n": -1})))
            .await
            .unwrap();
        // Same value, other version: still rewritten, so histories agree.
        let key = EntityKey::new(ENTITY, "0004");
        let mut record = from.load(&key).await.unwrap().unwrap();
        record.version += 10;
        from.import(&key, &record).await.unwrap();

        let report = copy(&from, &to, &[ENTITY], options(3)).await.unwrap();
        let e = &report.entities[0];
        assert_eq!((e.copied, e.unchanged), (2, 8));
        assert_eq!(to.load(&key).await.unwrap(), Some(record));
    }

    #[tokio::test]
    async fn extra_target_instances_fail_unless_pruned() {
        let from = filled(10).await;
        let to = filled(12).await;
        let err = copy(&from, &to, &[ENTITY], options(4)).await.unwrap_err();
        match &err {
            CopyError::Extra { count, sample, .. } => {
                assert_eq!(*count, 2);
                assert_eq!(sample, &[EntityId::new("0010"), EntityId::new("0011")]);
            }
            other => panic!("expected Extra, got {other:?}"),
        }
        assert!(err.to_string().contains("copy with prune"), "{err}");
        assert_eq!(to.list(ENTITY).await.unwrap().len(), 12, "nothing deleted");

        let options = CopyOptions {
            prune: true,
            page_size: 4,
            ..CopyOptions::default()
        };
        let report = copy(&from, &to, &[ENTITY], options).await.unwrap();
        let e = &report.entities[0];
        assert_eq!((e.count, e.copied, e.unchanged, e.pruned), (10, 0, 10, 2));
        assert_eq!(to.list(ENTITY).await.unwrap().len(), 10);
    }

    #[tokio::test]
    async fn other_entities_are_left_alone() {
        let from = filled(5).await;
        let to = MemoryStore::new();
        let other = EntityKey::new("other", "x");
        let record = Record {
            version: 1,
            value: json!({"x": 1}),
        };
        to.import(&other, &record).await.unwrap();
        let options = CopyOptions {
            prune: true,
            ..CopyOptions::default()
        };
        copy(&from, &to, &[ENTITY, "empty"], options).await.unwrap();
        assert_eq!(to.load(&other).await.unwrap(), Some(record));
    }

    /// A memory store whose imports fail once `budget` of them succeeded.
    struct Failing {
        inner: MemoryStore,
        budget: AtomicUsize,
    }

    #[async_trait]
    impl Store for Failing {
        async fn load(&self, key: &EntityKey) -> Result<Option<Record>, StoreError> {
            self.inner.load(key).await
        }

        async fn update(
            &self,
            key: &EntityKey,
            f: &mut UpdateFn<'_>,
        ) -> Result<UpdateOutcome, StoreError> {
            self.inner.update(key, f).await
        }

        async fn list(&self, entity: &str) -> Result<Vec<(EntityId, Record)>, StoreError> {
            self.inner.list(entity).await
        }

        async fn import(&self, key: &EntityKey, record: &Record) -> Result<(), StoreError> {
            let taken = self
                .budget
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1));
            if taken.is_err() {
                return Err(StoreError::Unavailable("connection lost".into()));
            }
            self.inner.import(key, record).await
        }
    }

    #[tokio::test]
    async fn an_interrupted_copy_completes_when_rerun() {
        let from = filled(300).await;
        let to = Failing {
            inner: MemoryStore::new(),
            budget: AtomicUsize::new(123),
        };
        let err = copy(&from, &to, &[ENTITY], options(50)).await.unwrap_err();
        assert!(
            matches!(
                &err,
                CopyError::Store {
                    source: StoreError::Unavailable(_),
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(to.inner.list(ENTITY).await.unwrap().len(), 123);

        to.budget.store(usize::MAX, Ordering::SeqCst);
        let report = copy(&from, &to, &[ENTITY], options(50)).await.unwrap();
        let e = &report.entities[0];
        assert_eq!((e.count, e.copied, e.unchanged), (300, 177, 123));
        assert_eq!(e.checksum, checksum(&from, ENTITY).await.unwrap());
    }

    #[tokio::test]
    async fn a_store_that_alters_values_fails_verification() {
        /// Rounds every float it imports, like a column with too little precision.
        struct Lossy(MemoryStore);

        #[async_trait]
        impl Store for Lossy {
            async fn load(&self, key: &EntityKey) -> Result<Option<Record>, StoreError> {
                self.0.load(key).await
            }
            async fn update(
                &self,
                key: &EntityKey,
                f: &mut UpdateFn<'_>,
            ) -> Result<UpdateOutcome, StoreError> {
                self.0.update(key, f).await
            }
            async fn list(&self, entity: &str) -> Result<Vec<(EntityId, Record)>, StoreError> {
                self.0.list(entity).await
            }
            async fn import(&self, key: &EntityKey, record: &Record) -> Result<(), StoreError> {
                let mut record = record.clone();
                if let Some(r) = record.value.get("ratio").and_then(Value::as_f64) {
                    record.value["ratio"] = json!(r.round());
                }
                self.0.import(key, &record).await
            }
        }

        let from = filled(10).await;
        let err = copy(&from, &Lossy(MemoryStore::new()), &[ENTITY], options(4))
            .await
            .unwrap_err();
        let CopyError::Mismatch { from: f, to: t, .. } = &err else {
            panic!("expected Mismatch, got {err:?}");
        };
        assert_eq!((f.count, t.count), (10, 10));
        assert_ne!(f.sha256, t.sha256);
    }

    #[tokio::test]
    async fn a_memory_snapshot_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshot.json");
        let from = filled(500).await;
        let expected = checksum(&from, ENTITY).await.unwrap();
        {
            let snap = MemoryStore::builder().snapshot(&path).build().unwrap();
            let report = copy(&from, &snap, &[ENTITY], options(64)).await.unwrap();
            assert_eq!(report.entities[0].checksum, expected);
            snap.flush().await.unwrap();
        }
        let restored = MemoryStore::builder().snapshot(&path).build().unwrap();
        assert_eq!(checksum(&restored, ENTITY).await.unwrap(), expected);
        let back = MemoryStore::new();
        let report = copy(&restored, &back, &[ENTITY], options(64))
            .await
            .unwrap();
        assert_eq!(report.entities[0].checksum, expected);
        assert_eq!(
            from.list(ENTITY).await.unwrap(),
            back.list(ENTITY).await.unwrap()
        );
    }
}
