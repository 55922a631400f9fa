use serde_json::{Value, json};

use super::checksum::{combine, write_canonical};
use super::*;
use crate::MemoryStore;
use crate::store::Record;
use crate::store::testing::{HookedImports, ImportBudget};

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

#[tokio::test]
async fn an_interrupted_copy_completes_when_rerun() {
    let from = filled(300).await;
    // Imports fail once `budget` of them succeeded.
    let budget = ImportBudget::new(123);
    let to = HookedImports::new(MemoryStore::new(), budget.hook("connection lost"));
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
    assert_eq!(to.list(ENTITY).await.unwrap().len(), 123);

    budget.set(usize::MAX);
    let report = copy(&from, &to, &[ENTITY], options(50)).await.unwrap();
    let e = &report.entities[0];
    assert_eq!((e.count, e.copied, e.unchanged), (300, 177, 123));
    assert_eq!(e.checksum, checksum(&from, ENTITY).await.unwrap());
}

#[tokio::test]
async fn a_store_that_alters_values_fails_verification() {
    // Rounds every float it imports, like a column with too little precision.
    let lossy = HookedImports::new(MemoryStore::new(), |record: &Record| {
        let mut record = record.clone();
        if let Some(r) = record.value.get("ratio").and_then(Value::as_f64) {
            record.value["ratio"] = json!(r.round());
        }
        Ok(record)
    });
    let from = filled(10).await;
    let err = copy(&from, &lossy, &[ENTITY], options(4))
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
