//! Where the Datastar bundle comes from: the official CDN with Subresource
//! Integrity (the default), or a local copy (named by `STARMODEL_DATASTAR_JS` or
//! given to the builder), served by the application under a content-hashed URL
//! with immutable caching.
//!
//! Each application has its own; pages find it through a task-local the
//! pipeline sets around page routes.

use std::path::Path;

use crate::announce::{Level, announce};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

/// The pinned Datastar v1.0.4 bundle on the official CDN.
pub const DATASTAR_CDN_URL: &str =
    "https://cdn.jsdelivr.net/gh/starfederation/datastar@1.0.4/bundles/datastar.js";

/// The Subresource Integrity hash of [`DATASTAR_CDN_URL`].
pub const DATASTAR_SRI: &str =
    "sha384-twbOvafhSBQ0rJDNPzJdUw6DRvthVgAVfSIG1BQVmCiNO7Qh2zeVn7T5qstgjJ9q";

/// The environment variable naming a local copy of the bundle.
pub const DATASTAR_JS_ENV: &str = "STARMODEL_DATASTAR_JS";

/// A Datastar bundle file that cannot be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}`{}` cannot be read: {source}", if *.from_env { "STARMODEL_DATASTAR_JS: " } else { "" }, .path.display())]
pub struct BundleError {
    /// The file.
    pub path: std::path::PathBuf,
    /// Whether `STARMODEL_DATASTAR_JS` named it.
    pub from_env: bool,
    /// What the file system said.
    #[source]
    pub source: std::sync::Arc<std::io::Error>,
}

/// How pages load Datastar.
#[derive(Debug, Clone)]
pub enum DatastarBundle {
    /// From the CDN, checked by the browser against [`DATASTAR_SRI`].
    Cdn,
    /// Served by the application itself.
    Local {
        /// The content-hashed URL, `/_starmodel/datastar-<hash>.js`.
        url: String,
        /// The file's bytes.
        bytes: Bytes,
    },
}

impl DatastarBundle {
    /// Reads the bundle configuration from `STARMODEL_DATASTAR_JS`.
    ///
    /// A variable naming a file that cannot be read is an error, so a typo does
    /// not silently fall back to a CDN the machine may not reach.
    pub fn from_env() -> Result<Self, BundleError> {
        match std::env::var_os(DATASTAR_JS_ENV) {
            None => Ok(Self::Cdn),
            Some(path) if path.is_empty() => Ok(Self::Cdn),
            Some(path) => Self::from_file(path.as_ref()).map_err(|e| BundleError {
                from_env: true,
                ..e
            }),
        }
    }

    /// A local bundle read from `path`.
    pub fn from_file(path: &Path) -> Result<Self, BundleError> {
        let bytes = std::fs::read(path).map_err(|source| BundleError {
            path: path.to_owned(),
            from_env: false,
            source: std::sync::Arc::new(source),
        })?;
        if !bytes.starts_with(b"// Datastar v1.0.4") {
            announce(
                Level::Warn,
                format_args!(
                    "`{}` does not start with `// Datastar v1.0.4`; StarModel speaks the v1.0.4 protocol",
                    path.display()
                ),
            );
        }
        Ok(Self::local(Bytes::from(bytes)))
    }

    /// A local bundle with these bytes.
    pub fn local(bytes: Bytes) -> Self {
        let digest = Sha256::digest(&bytes);
        let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self::Local {
            url: format!("/_starmodel/datastar-{hash}.js"),
            bytes,
        }
    }

    /// The `<script>` tag's `src`.
    pub fn url(&self) -> &str {
        match self {
            Self::Cdn => DATASTAR_CDN_URL,
            Self::Local { url, .. } => url,
        }
    }
}

tokio::task_local! {
    static CURRENT: Arc<DatastarBundle>;
}

/// Runs `f` with `bundle` as the bundle pages rendered inside it load.
pub(crate) async fn with_bundle<F: Future>(bundle: Arc<DatastarBundle>, f: F) -> F::Output {
    CURRENT.scope(bundle, f).await
}

/// Calls `f` with the bundle of the application serving this request; outside
/// any application (a page rendered in a unit test), the one the environment
/// names.
pub(crate) fn with_current<R>(f: impl FnOnce(&DatastarBundle) -> R) -> R {
    static FROM_ENV: OnceLock<DatastarBundle> = OnceLock::new();
    let mut f = Some(f);
    if let Ok(r) = CURRENT.try_with(|b| (f.take().expect("called once"))(b)) {
        return r;
    }
    let bundle = FROM_ENV.get_or_init(|| {
        DatastarBundle::from_env().unwrap_or_else(|e| {
            tracing::error!("{e}; pages load Datastar from the CDN");
            DatastarBundle::Cdn
        })
    });
    (f.take().expect("called once"))(bundle)
}

/// Answers a local bundle's hashed URL.
pub(crate) fn serve_bundle(bundle: &DatastarBundle) -> Response {
    match bundle {
        DatastarBundle::Local { bytes, .. } => {
            let mut r = Response::new(Body::from(bytes.clone()));
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            r
        }
        DatastarBundle::Cdn => (StatusCode::NOT_FOUND, "no local Datastar bundle").into_response(),
    }
}
