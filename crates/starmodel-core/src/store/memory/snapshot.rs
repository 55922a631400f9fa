//! The snapshot file: every record as JSON, written atomically (temporary file,
//! fsync, rename) so a crash mid-write leaves the previous snapshot intact.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::store::{Record, StoreError};
use crate::{EntityId, EntityKey};

const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    records: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    entity: String,
    id: EntityId,
    version: u64,
    value: serde_json::Value,
}

fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The records in `path`; none when the file does not exist yet.
pub(super) fn read(path: &Path) -> Result<Vec<(EntityKey, Record)>, StoreError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(path, e)),
    };
    let snapshot: Snapshot = serde_json::from_slice(&bytes).map_err(|e| {
        StoreError::Corrupt(format!("snapshot `{}` does not parse: {e}", path.display()))
    })?;
    if snapshot.format != FORMAT {
        return Err(StoreError::Corrupt(format!(
            "snapshot `{}` has format {}, expected {FORMAT}",
            path.display(),
            snapshot.format
        )));
    }
    Ok(snapshot
        .records
        .into_iter()
        .map(|e| {
            let record = Record {
                version: e.version,
                value: e.value,
            };
            (EntityKey::new(e.entity, e.id), record)
        })
        .collect())
}

/// Replaces `path` with these records.
pub(super) fn write(path: &Path, records: &[(EntityKey, Record)]) -> Result<(), StoreError> {
    let snapshot = Snapshot {
        format: FORMAT,
        records: records
            .iter()
            .map(|(k, r)| Entry {
                entity: k.entity.to_string(),
                id: k.id.clone(),
                version: r.version,
                value: r.value.clone(),
            })
            .collect(),
    };
    let json = serde_json::to_vec(&snapshot)
        .map_err(|e| StoreError::Corrupt(format!("snapshot does not serialize: {e}")))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    }
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp).map_err(|e| io_error(&tmp, e))?;
    file.write_all(&json).map_err(|e| io_error(&tmp, e))?;
    file.sync_all().map_err(|e| io_error(&tmp, e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, e))
}
