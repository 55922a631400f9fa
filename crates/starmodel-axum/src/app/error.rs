//! Why an application could not be built or served.

use std::path::PathBuf;

use starmodel_core::StoreError;

/// Why an application could not be built. Its `Debug` is its sentence, so a
/// `main` returning `Result<_, BuildError>` prints what went wrong, not a struct.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The static folder cannot be read.
    #[error(transparent)]
    Static(#[from] crate::static_files::StaticError),
    /// `StarModel::prefix` was given something that is no URL path.
    #[error(
        "`{prefix}` cannot be the application's prefix: write a path such as `/app` \
         (starting with `/`, letters, digits and `-_.~` only)"
    )]
    Prefix {
        /// What was given.
        prefix: String,
    },
    /// An entity asks for a store the application does not have.
    #[error(
        "entity `{entity}` uses store `{store}`, which this application has not configured: \
         {fix}"
    )]
    MissingStore {
        /// The entity.
        entity: &'static str,
        /// The store kind it asked for.
        store: &'static str,
        /// How to give it one.
        fix: &'static str,
    },
    /// An entity asks for a capability nothing mounted provides.
    #[error("entity `{entity}` is marked `#[entity({capability})]`, but {fix}")]
    NotMounted {
        /// The entity.
        entity: &'static str,
        /// The attribute (`api`).
        capability: &'static str,
        /// What to add.
        fix: &'static str,
    },
    /// A live view's name cannot be an element id.
    #[error("live view `{name}` cannot be an element id: use ASCII letters, digits, `-` and `_`")]
    ViewName {
        /// The name.
        name: &'static str,
    },
    /// Two live views share a name.
    #[error("two live views are named `{name}`")]
    DuplicateView {
        /// The name.
        name: &'static str,
    },
    /// A live view follows an entity the application does not register.
    #[error(
        "live view `{view}` follows entity `{entity}`, which is not registered: \
         add `.entity::<..>()` for it"
    )]
    ViewEntity {
        /// The view.
        view: &'static str,
        /// The entity.
        entity: &'static str,
    },
    /// The session secret is shorter than 32 bytes.
    #[error("session secret: it has {len} bytes; at least 32 are needed")]
    SecretTooShort {
        /// Its length.
        len: usize,
    },
    /// The session secret file cannot be read or created.
    #[error("session secret: `{}`: {source}", path.display())]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// Several instances share a bus but no secret.
    #[error(
        "session secret: instances sharing a bus must sign sessions with one secret \
         (a random one per instance would end a session at every switch): \
         set {}, `secret` or `secret_file`",
        crate::SECRET_ENV
    )]
    SecretNotShared,
    /// `STARMODEL_DATASTAR_JS` names a file that cannot be used.
    #[error(transparent)]
    Datastar(#[from] crate::assets::BundleError),
    /// The memory store could not load its snapshot.
    #[error(transparent)]
    Memory(#[from] StoreError),
    /// A store refused an entity (a SQL store: a type it cannot map).
    #[error("store of entity `{entity}`: {source}")]
    Store {
        /// The entity.
        entity: &'static str,
        /// What the store said.
        #[source]
        source: StoreError,
    },
    /// Building needs a Tokio runtime for its background tasks.
    #[error("StarModel::build must run inside a Tokio runtime")]
    NoRuntime,
}

/// Why serving stopped with an error (`Debug` prints its sentence, like
/// [`BuildError`]).
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The application could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A store could not get ready (a SQL store's migrations failed).
    #[error("store not ready: {0}")]
    Prepare(#[from] StoreError),
    /// Binding or serving failed.
    #[error("server i/o failed: {0}")]
    Io(#[from] std::io::Error),
}

/// `Debug` as the sentence `Display` gives: what `main` prints for an `Err`.
macro_rules! debug_as_display {
    ($($ty:ty),*) => {$(
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(self, f)
            }
        }
    )*};
}
debug_as_display!(BuildError, ServeError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_debug_as_their_sentence() {
        let e = BuildError::SecretTooShort { len: 3 };
        assert_eq!(
            format!("{e:?}"),
            "session secret: it has 3 bytes; at least 32 are needed"
        );
        let e = ServeError::from(BuildError::NoRuntime);
        assert_eq!(
            format!("{e:?}"),
            "StarModel::build must run inside a Tokio runtime"
        );
    }
}
