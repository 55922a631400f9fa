//! Checks of builder options that the build applies: the prefix, the data folder.

use std::path::Path;
use std::sync::Arc;

use super::BuildError;

/// The application's prefix as given to `StarModel::prefix`, checked: `None`
/// for none (or `/`), else a path without a trailing `/`.
pub(super) fn prefix(given: Option<&str>) -> Result<Option<Arc<str>>, BuildError> {
    match given.map(|p| p.trim_end_matches('/')) {
        None | Some("") => Ok(None),
        Some(p) => {
            let valid = p.starts_with('/')
                && !p.contains("//")
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b));
            if valid {
                Ok(Some(Arc::from(p)))
            } else {
                Err(BuildError::Prefix {
                    prefix: p.to_owned(),
                })
            }
        }
    }
}

/// Creates the data folder, if one was given.
pub(super) fn create_data_dir(dir: Option<&Path>) -> Result<(), BuildError> {
    let Some(dir) = dir else { return Ok(()) };
    std::fs::create_dir_all(dir).map_err(|source| {
        BuildError::Memory(starmodel_core::StoreError::Io {
            path: dir.display().to_string(),
            source,
        })
    })
}
