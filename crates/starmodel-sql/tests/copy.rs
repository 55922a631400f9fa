//! Data copies between stores (`starmodel_core::store::copy`) over real databases:
//! memory → SQLite → PostgreSQL → MySQL → memory with every field type, each hop
//! verified by counts and checksums; pruning and an interrupted copy on each
//! backend; what does not survive a server database, pinned down.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use starmodel::prelude::*;
use starmodel_core::store::copy::{Checksum, CopyError, CopyOptions, checksum, copy};
use starmodel_core::store::testing::{HookedImports, ImportBudget};
use starmodel_core::{EntityId, EntityKey, MemoryStore, Mutation, Record, Store, StoreError};
use support::{BACKENDS, Backend, TestDb, fresh};

on_every_backend!(
    prune_deletes_only_when_asked,
    an_interrupted_copy_into_sql_completes_when_rerun,
    odd_values_are_kept_exactly_or_the_copy_fails,
);

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Place {
    pub city: String,
    pub zip: Option<String>,
    pub coords: [f64; 2],
}

/// Every field type, nullable and not.
#[derive(Entity, Clone, Debug, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "record")]
pub struct Specimen {
    #[entity(id)]
    pub id: String,
    #[entity(index)]
    pub n: i64,
    pub ratio: f64,
    #[entity(index)]
    pub name: String,
    pub body: String,
    pub flag: bool,
    pub tag: uuid::Uuid,
    pub at: DateTime<Utc>,
    pub day: NaiveDate,
    pub place: Place,
    pub meta: Value,
    pub maybe_n: Option<i64>,
    pub maybe_ratio: Option<f64>,
    pub maybe_name: Option<String>,
    pub maybe_flag: Option<bool>,
    pub maybe_tag: Option<uuid::Uuid>,
    pub maybe_at: Option<DateTime<Utc>>,
    pub maybe_place: Option<Place>,
}

#[events]
impl Specimen {}

/// A session-scope entity: kept under a `_id` key column, not a field.
#[derive(Entity, Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[entity(store = "sql", scope = "session")]
pub struct Basket {
    pub items: Vec<String>,
    pub total: f64,
}

#[events]
impl Basket {}

const SPECIMENS: usize = 1000;
const BASKETS: usize = 50;

fn entities() -> [&'static str; 2] {
    [Specimen::schema().name, Basket::schema().name]
}

/// Floats that stress formatting and precision (negative zero is left to
/// `odd_values_…`: SQLite and MariaDB drop its sign).
const FLOATS: [f64; 12] = [
    0.0,
    47.376_948_999_999_996,
    1.0,
    -1.5,
    0.1 + 0.2,
    1.0 / 3.0,
    f64::MAX,
    f64::MIN,
    f64::MIN_POSITIVE,
    5e-324,
    1e20,
    -123_456_789.123_456_78,
];

const TEXTS: [&str; 10] = [
    "",
    "plain",
    "it's \"quoted\" and `ticked`",
    "back\\slash, 100% _like_",
    "line\nbreak\ttab\r",
    "ünïcødé Zürich Ελληνικά 日本語",
    "emoji 🦀🚀 and a ZWJ 👩‍👩‍👧",
    "rtl עברית العربية",
    "'; DROP TABLE specimen; --",
    "  padded both sides  ",
];

fn specimen(i: usize) -> Specimen {
    let base: DateTime<Utc> = "2024-02-29T12:34:56.789012Z".parse().unwrap();
    let at = match i % 97 {
        0 => "1000-01-01T00:00:00Z".parse().unwrap(),
        1 => "9999-12-31T23:59:59.999999Z".parse().unwrap(),
        2 => "1969-12-31T23:59:59.999999Z".parse().unwrap(),
        _ => base + Duration::microseconds(i as i64 * 86_400_123_457) - Duration::days(20_000),
    };
    let n = match i {
        0 => i64::MIN,
        1 => i64::MAX,
        _ => (i as i64 - 500) * 1_000_000_007,
    };
    let name = format!("{} #{i}", TEXTS[i % TEXTS.len()]);
    // Long text at i = 7: 63,000 bytes, just under MySQL's `TEXT` (65,535 bytes).
    let body = if i == 7 {
        "long ✓ ".repeat(7000)
    } else {
        TEXTS[(i + 2) % TEXTS.len()].to_owned()
    };
    // Mostly plain ids; some upper-case and non-ASCII ones, which sort apart in
    // byte order and in a case-insensitive or locale collation.
    let id = match i % 10 {
        3 => format!("S{i:04}"),
        6 => format!("ß{i:04}"),
        9 => format!("é-{i}"),
        _ => format!("s{i:04}"),
    };
    let some = i % 3 != 0;
    Specimen {
        id,
        n,
        ratio: FLOATS[i % FLOATS.len()] * if i % 24 < 12 { 1.0 } else { 0.75 },
        name: name.clone(),
        body,
        flag: i % 2 == 0,
        tag: uuid::Uuid::from_u128(0x0123_4567_89ab_4cde_8f01_0000_0000_0000 ^ (i as u128 * 7919)),
        at,
        day: NaiveDate::from_ymd_opt(
            1900 + (i % 200) as i32,
            1 + (i % 12) as u32,
            1 + (i % 28) as u32,
        )
        .unwrap(),
        place: Place {
            city: TEXTS[(i + 5) % TEXTS.len()].to_owned(),
            zip: (i % 2 == 1).then(|| format!("{:05}", i * 7)),
            coords: [47.376_886 + i as f64 * 1e-6, -8.541_694],
        },
        meta: json!({
            "i": i,
            "one": 1.0,
            "big": u64::MAX - i as u64,
            "neg": i64::MIN + i as i64,
            "float": FLOATS[(i + 3) % FLOATS.len()],
            "list": [1, "two", null, {"deep": {"deeper": [true, false, i]}}],
            "ünï": "✓ \"q\"",
            "empty_object": {},
            "empty_list": [],
            "text": TEXTS[(i + 1) % TEXTS.len()],
        }),
        maybe_n: some.then_some(i as i64),
        maybe_ratio: some.then_some(i as f64 / 7.0),
        maybe_name: some.then(|| name.chars().rev().take(40).collect()),
        maybe_flag: some.then_some(i % 4 == 0),
        maybe_tag: some.then(uuid::Uuid::nil),
        maybe_at: some.then(|| base + Duration::seconds(i as i64 * 3_600)),
        maybe_place: (i % 5 == 0).then(|| Place {
            city: "Genève".into(),
            zip: None,
            coords: [0.0, -1e-9],
        }),
    }
}

/// The source: specimens and baskets with assorted versions (a copy keeps them).
async fn source() -> MemoryStore {
    let store = MemoryStore::new();
    for i in 0..SPECIMENS {
        let s = specimen(i);
        let key = EntityKey::new(Specimen::schema().name, s.id.clone());
        let record = Record {
            version: 1 + (i % 13) as u64,
            value: serde_json::to_value(&s).unwrap(),
        };
        store.import(&key, &record).await.unwrap();
    }
    for i in 0..BASKETS {
        let basket = Basket {
            items: (0..i % 4).map(|k| format!("item {k} of {i}")).collect(),
            total: i as f64 * 9.99,
        };
        let key = EntityKey::new(Basket::schema().name, format!("session-{i:08x}"));
        let record = Record {
            version: 1,
            value: serde_json::to_value(&basket).unwrap(),
        };
        store.import(&key, &record).await.unwrap();
    }
    store
}

/// A fresh store on `backend` with both entities' tables, or `None` when skipped.
async fn sql(backend: Backend) -> Option<TestDb> {
    let db = fresh(backend).await?;
    db.store.attach(Specimen::schema()).unwrap();
    db.store.attach(Basket::schema()).unwrap();
    db.store.prepare().await.unwrap();
    Some(db)
}

async fn checksums(store: &dyn Store) -> Vec<Checksum> {
    let mut out = Vec::new();
    for entity in entities() {
        out.push(checksum(store, entity).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_to_sqlite_to_postgres_to_mysql_and_back_keeps_every_instance() {
    let first = source().await;
    let expected = checksums(&first).await;
    assert_eq!(expected[0].count, SPECIMENS as u64);
    assert_eq!(expected[1].count, BASKETS as u64);

    let mut dbs = Vec::new();
    for backend in BACKENDS {
        if let Some(db) = sql(backend).await {
            dbs.push(db);
        }
    }
    let last = MemoryStore::new();
    let mut hops: Vec<(String, &dyn Store)> = vec![("memory".into(), &first)];
    for db in &dbs {
        hops.push((format!("{:?}", db.backend), &*db.store));
    }
    hops.push(("memory".into(), &last));

    let total = (SPECIMENS + BASKETS) as f64;
    for pair in hops.windows(2) {
        let ((from_name, from), (to_name, to)) = (&pair[0], &pair[1]);
        let started = Instant::now();
        let report = copy(*from, *to, &entities(), CopyOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{from_name} → {to_name}: {e}"));
        let took = started.elapsed();
        for (e, sum) in report.entities.iter().zip(&expected) {
            assert_eq!(
                (e.count, e.copied, e.unchanged, e.pruned),
                (sum.count, sum.count, 0, 0)
            );
            assert_eq!(&e.checksum, sum, "{from_name} → {to_name}: {}", e.entity);
        }
        assert_eq!(
            checksums(*to).await,
            expected,
            "{to_name} holds the same data"
        );

        let started = Instant::now();
        let again = copy(*from, *to, &entities(), CopyOptions::default())
            .await
            .unwrap();
        let rerun = started.elapsed();
        for (e, sum) in again.entities.iter().zip(&expected) {
            assert_eq!((e.count, e.copied, e.unchanged), (sum.count, 0, sum.count));
        }
        eprintln!(
            "copy {from_name} → {to_name}: {total} records in {took:.2?} ({:.0} records/s); \
             rerun (no-op) in {rerun:.2?} ({:.0} records/s)",
            total / took.as_secs_f64(),
            total / rerun.as_secs_f64(),
        );
    }

    // Beyond the checksums: the very same JSON, versions, and Rust values.
    for entity in entities() {
        assert_eq!(
            first.list(entity).await.unwrap(),
            last.list(entity).await.unwrap(),
            "{entity}: values and versions after the round trip"
        );
    }
    let mut originals: HashMap<String, Specimen> = (0..SPECIMENS)
        .map(specimen)
        .map(|s| (s.id.clone(), s))
        .collect();
    for (id, record) in last.list(Specimen::schema().name).await.unwrap() {
        let back: Specimen = serde_json::from_value(record.value).unwrap();
        assert_eq!(Some(back), originals.remove(id.as_str()));
    }
    assert!(originals.is_empty());
}

async fn prune_deletes_only_when_asked(backend: Backend) {
    let Some(db) = sql(backend).await else {
        return;
    };
    let from = source().await;
    let entity = Specimen::schema().name;
    copy(&from, &*db.store, &entities(), CopyOptions::default())
        .await
        .unwrap();

    // The source loses two instances and changes one.
    for id in ["s0010", "s0020"] {
        from.update(&EntityKey::new(entity, id), &mut |_| Mutation::Delete)
            .await
            .unwrap();
    }
    let changed = EntityKey::new(entity, "s0011");
    let mut s = specimen(11);
    s.name = "renamed".into();
    let value = serde_json::to_value(&s).unwrap();
    from.update(&changed, &mut |_| Mutation::Put(value.clone()))
        .await
        .unwrap();

    let err = copy(&from, &*db.store, &[entity], CopyOptions::default())
        .await
        .unwrap_err();
    let CopyError::Extra { count, sample, .. } = &err else {
        panic!("expected Extra, got {err:?}");
    };
    assert_eq!(*count, 2);
    assert_eq!(sample, &[EntityId::new("s0010"), EntityId::new("s0020")]);
    assert!(err.to_string().contains("prune"), "{err}");
    assert_eq!(
        db.store.list(entity).await.unwrap().len(),
        SPECIMENS,
        "nothing deleted without prune"
    );
    // The changed instance was written all the same (the copy goes on, then refuses).
    assert_eq!(db.store.load(&changed).await.unwrap().unwrap().value, value);

    let prune = CopyOptions {
        prune: true,
        ..CopyOptions::default()
    };
    let report = copy(&from, &*db.store, &[entity], prune).await.unwrap();
    let e = &report.entities[0];
    let n = SPECIMENS as u64 - 2;
    assert_eq!((e.count, e.copied, e.unchanged, e.pruned), (n, 0, n, 2));
    assert_eq!(e.checksum, checksum(&from, entity).await.unwrap());
    assert_eq!(db.store.list(entity).await.unwrap().len(), SPECIMENS - 2);
}

async fn an_interrupted_copy_into_sql_completes_when_rerun(backend: Backend) {
    let Some(db) = sql(backend).await else {
        return;
    };
    let from = source().await;
    let budget = ImportBudget::new(617);
    let to = HookedImports::new((*db.store).clone(), budget.hook("connection reset"));
    let err = copy(&from, &to, &entities(), CopyOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CopyError::Store { entity, source: StoreError::Unavailable(m) }
            if entity == Specimen::schema().name && m == "connection reset"),
        "{err:?}"
    );
    // Imports under way when one failed were let finish: exactly the budget.
    assert_eq!(
        db.store.list(Specimen::schema().name).await.unwrap().len(),
        617
    );

    budget.set(usize::MAX);
    let report = copy(&from, &to, &entities(), CopyOptions::default())
        .await
        .unwrap();
    let (specimens, baskets) = (&report.entities[0], &report.entities[1]);
    assert_eq!(
        (specimens.count, specimens.copied, specimens.unchanged),
        (SPECIMENS as u64, SPECIMENS as u64 - 617, 617)
    );
    assert_eq!((baskets.copied, baskets.unchanged), (BASKETS as u64, 0));
    assert_eq!(checksums(&*db.store).await, checksums(&from).await);
}

/// What one backend does with a value it may not hold.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Copied, and the target holds exactly the source's JSON.
    Kept,
    /// Copied, but the verification found the target's data different.
    Mismatch,
    /// A store refused a read or write.
    Refused,
}

/// Copies `records` alone into `to` (pruning what an earlier case left) and says
/// what became of them. A copy that succeeds with other data is a test failure.
async fn outcome(to: &dyn Store, records: &[Specimen]) -> Outcome {
    let from = MemoryStore::new();
    let entity = Specimen::schema().name;
    for s in records {
        let key = EntityKey::new(entity, s.id.clone());
        let record = Record {
            version: 1,
            value: serde_json::to_value(s).unwrap(),
        };
        from.import(&key, &record).await.unwrap();
    }
    let prune = CopyOptions {
        prune: true,
        ..CopyOptions::default()
    };
    match copy(&from, to, &[entity], prune).await {
        Ok(_) => {
            assert_eq!(
                from.list(entity).await.unwrap(),
                to.list(entity).await.unwrap()
            );
            Outcome::Kept
        }
        Err(CopyError::Mismatch { .. }) => Outcome::Mismatch,
        Err(e) => {
            eprintln!("refused: {e}");
            Outcome::Refused
        }
    }
}

/// Values some backend cannot hold as given: each is kept exactly or the copy
/// fails, never a silent change. Which one, per backend, is pinned down here.
async fn odd_values_are_kept_exactly_or_the_copy_fails(backend: Backend) {
    let Some(db) = sql(backend).await else {
        return;
    };
    let to = &*db.store;
    let with = |id: &str, f: &dyn Fn(&mut Specimen)| {
        let mut s = specimen(42);
        s.id = id.to_owned();
        f(&mut s);
        s
    };

    let nanos = with("nanos", &|s| {
        s.at = "2024-05-01T10:00:00.123456789Z".parse().unwrap()
    });
    let huge = with("huge", &|s| s.body = "x".repeat(70_000));
    let nul_text = with("nul", &|s| s.body = "a\0b".into());
    let nul_json = with("nul-json", &|s| s.meta = json!({"k": "a\0b"}));
    let negative_zero = with("minus-zero", &|s| s.meta = json!([-0.0]));
    let float_zero = with("float-minus-zero", &|s| s.ratio = -0.0);
    let cased = [with("Case", &|_| ()), with("case", &|_| ())];
    let padded = [with("pad", &|_| ()), with("pad ", &|_| ())];

    use Outcome::{Kept, Mismatch, Refused};
    let (sqlite, postgres, mysql) = (
        backend == Backend::Sqlite,
        backend == Backend::Postgres,
        backend == Backend::MySql,
    );
    // PostgreSQL and MySQL keep microseconds.
    let expected = if sqlite { Kept } else { Mismatch };
    assert_eq!(outcome(to, &[nanos]).await, expected, "nanoseconds");
    // Unbounded text is `TEXT` on MySQL: 65,535 bytes (refused as invalid).
    let expected = if mysql { Refused } else { Kept };
    assert_eq!(outcome(to, &[huge]).await, expected, "text over 64 KiB");
    // PostgreSQL text and JSONB cannot hold U+0000.
    let expected = if postgres { Refused } else { Kept };
    assert_eq!(outcome(to, &[nul_text]).await, expected, "NUL in text");
    assert_eq!(outcome(to, &[nul_json]).await, expected, "NUL in JSON");
    // Negative zero loses its sign in JSONB (numeric has none), and in SQLite
    // `REAL` and MariaDB `DOUBLE` columns.
    let expected = if postgres { Mismatch } else { Kept };
    assert_eq!(
        outcome(to, &[negative_zero]).await,
        expected,
        "-0.0 in JSON"
    );
    let expected = if postgres { Kept } else { Mismatch };
    assert_eq!(
        outcome(to, &[float_zero]).await,
        expected,
        "-0.0 in a float"
    );
    assert_eq!(outcome(to, &cased).await, Kept, "ids differing in case");
    // MariaDB tables are `utf8mb4_nopad_bin`: `pad` and `pad ` are two keys.
    assert_eq!(
        outcome(to, &padded).await,
        Kept,
        "ids differing in trailing space"
    );
}
