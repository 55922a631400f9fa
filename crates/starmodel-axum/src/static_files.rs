//! A folder of static files (stylesheets, scripts, images, fonts) served under
//! content-hashed URLs: `static/app.css` is `/static/app.3f2a9c1b.css`, cached by
//! browsers for a year (`immutable`), and a changed file gets a new URL at the
//! next start. Pages name files with [`asset`] (or
//! [`Layout::stylesheet_asset`](crate::view::Layout::stylesheet_asset)), which
//! gives the current URL with the application's prefix.
//!
//! The folder is read when the application is built and kept in memory: restart
//! to serve changed files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

use crate::app::current_app;
use crate::rejection::{NotFound, Rejection};

/// The path static files are served under.
pub const STATIC_PATH: &str = "/static";

/// A static folder that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("the static folder `{}` cannot be read: {source}", .path.display())]
pub struct StaticError {
    /// The file or folder.
    pub path: PathBuf,
    /// What the file system said.
    #[source]
    pub source: std::io::Error,
}

struct File {
    bytes: Bytes,
    content_type: &'static str,
}

/// The files of one static folder, by hashed name and by name.
#[derive(Default)]
pub(crate) struct StaticFiles {
    /// `app.3f2a9c1b.css` -> the file.
    files: HashMap<String, File>,
    /// `app.css` -> `app.3f2a9c1b.css`.
    hashed: HashMap<String, String>,
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "html" => "text/html; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// `dir/app.css` with `bytes` -> `dir/app.<hash>.css`.
fn hashed_name(name: &str, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    let (dir, file) = name.rsplit_once('/').map_or(("", name), |(d, f)| (d, f));
    let file = match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{hash}.{ext}"),
        _ => format!("{file}.{hash}"),
    };
    if dir.is_empty() {
        file
    } else {
        format!("{dir}/{file}")
    }
}

impl StaticFiles {
    /// Reads every file under `dir` (sub-folders too; hidden files are left out).
    pub(crate) fn read(dir: &Path) -> Result<Self, StaticError> {
        let mut files = Self::default();
        files.add_dir(dir, "")?;
        Ok(files)
    }

    fn add_dir(&mut self, dir: &Path, under: &str) -> Result<(), StaticError> {
        let error = |source| StaticError {
            path: dir.to_owned(),
            source,
        };
        for entry in std::fs::read_dir(dir).map_err(error)? {
            let entry = entry.map_err(error)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let relative = if under.is_empty() {
                name
            } else {
                format!("{under}/{name}")
            };
            if path.is_dir() {
                self.add_dir(&path, &relative)?;
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|source| StaticError {
                path: path.clone(),
                source,
            })?;
            let hashed = hashed_name(&relative, &bytes);
            self.files.insert(
                hashed.clone(),
                File {
                    bytes: Bytes::from(bytes),
                    content_type: content_type(&relative),
                },
            );
            self.hashed.insert(relative, hashed);
        }
        Ok(())
    }

    /// The hashed name of file `name` (`app.css`), if the folder has it.
    pub(crate) fn hashed(&self, name: &str) -> Option<&str> {
        self.hashed
            .get(name.trim_start_matches('/'))
            .map(String::as_str)
    }

    /// Answers `GET /static/<hashed name>`.
    pub(crate) fn serve(&self, req: &Request) -> Response {
        let name = req
            .uri()
            .path()
            .rsplit_once(&format!("{STATIC_PATH}/"))
            .map_or("", |(_, name)| name);
        let Some(file) = self.files.get(name) else {
            return Rejection::from(NotFound::route(req.method(), req.uri().path()))
                .into_response();
        };
        let mut response = Response::new(Body::from(file.bytes.clone()));
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(file.content_type),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
        headers.insert(
            header::HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}

/// The URL of static file `name` (`app.css`, `img/logo.svg`) of the application
/// serving the current page: content-hashed, with the application's prefix
/// (`/app/static/app.3f2a9c1b.css`). A name the folder has not (or called
/// outside a page) gives the unhashed `/static/<name>` and logs a warning, so a
/// typo shows as a 404 in the browser's console.
pub fn asset(name: &str) -> String {
    let prefix = starmodel_core::event::url_prefix();
    let name = name.trim_start_matches('/');
    let hashed = current_app().and_then(|app| app.static_files.hashed(name).map(str::to_owned));
    match hashed {
        Some(hashed) => format!("{prefix}{STATIC_PATH}/{hashed}"),
        None => {
            tracing::warn!(name, "no such static file (see `StarModel::static_dir`)");
            format!("{prefix}{STATIC_PATH}/{name}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash() {
        let a = hashed_name("css/app.css", b"body{}");
        assert!(a.starts_with("css/app.") && a.ends_with(".css"), "{a}");
        assert_eq!(a.len(), "css/app..css".len() + 8);
        assert_ne!(a, hashed_name("css/app.css", b"body{color:red}"));
        assert!(hashed_name("LICENSE", b"x").starts_with("LICENSE."));
    }

    #[test]
    fn a_folder_is_read_with_its_sub_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("img")).unwrap();
        std::fs::write(dir.path().join("app.css"), "body{}").unwrap();
        std::fs::write(dir.path().join("img/logo.svg"), "<svg/>").unwrap();
        std::fs::write(dir.path().join(".hidden"), "x").unwrap();
        let files = StaticFiles::read(dir.path()).unwrap();
        let css = files.hashed("app.css").unwrap().to_owned();
        assert!(files.hashed("/img/logo.svg").is_some());
        assert!(files.hashed(".hidden").is_none());
        let req = Request::get(format!("/static/{css}"))
            .body(Body::empty())
            .unwrap();
        let res = files.serve(&req);
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "text/css; charset=utf-8"
        );
        assert!(
            res.headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let stale = Request::get("/static/app.00000000.css")
            .body(Body::empty())
            .unwrap();
        assert_eq!(files.serve(&stale).status(), StatusCode::NOT_FOUND);
    }
}
