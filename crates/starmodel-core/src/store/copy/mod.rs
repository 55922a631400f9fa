//! Copying data between stores (memory snapshot, SQL, …), verified by counts and
//! checksums.
//!
//! [`copy`] reads the source one page at a time, writes each instance to the target
//! with [`Store::import`] (value and version exactly as read), and then compares
//! the [`checksum`](fn@checksum) of both sides. It is idempotent (an instance the target already
//! holds with the same value and version is not written again) and safe to rerun
//! after an interruption: the rerun skips what was copied and writes the rest.
//! Instances the target holds but the source has not are only deleted when asked
//! ([`CopyOptions::prune`]); otherwise the copy fails and says so.
//!
//! The copy is meant for a quiescent source (a deploy step, the CLI): writes to
//! either side while it runs make the verification fail rather than pass silently.

mod checksum;
mod pages;

use std::collections::HashMap;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

pub use checksum::{Checksum, checksum};

use super::{Mutation, Store, StoreError};
use crate::{EntityId, EntityKey};
use checksum::digest;
use pages::{PAGE_SIZE, Pages};

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
            page_size: PAGE_SIZE,
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

#[cfg(test)]
mod tests;
