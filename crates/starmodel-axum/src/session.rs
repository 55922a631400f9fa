//! Sessions: a random id in a signed, HttpOnly, SameSite=Lax cookie.
//!
//! Nothing is stored per session: the id only keys the session-scope entities.
//! The cookie value is `<id>.<hex HMAC-SHA256 of the id>`; a cookie whose tag does
//! not verify is ignored and a new session starts.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue};
use sha2::Sha256;
use starmodel_core::EntityId;

use crate::rejection::NotServed;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "starmodel_session";

const ID_BYTES: usize = 16;

/// The signing key and cookie attributes.
#[derive(Clone)]
pub(crate) struct SessionKeys {
    mac: Hmac<Sha256>,
    secure: bool,
}

/// The current request's session, available as an extractor in StarModel routes.
///
/// ```
/// use starmodel_axum::Session;
/// async fn whoami(session: Session) -> String {
///     format!("session {}", session.id())
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    id: EntityId,
    fresh: bool,
}

impl Session {
    /// The session's id (the key of its session-scope entities).
    pub fn id(&self) -> &EntityId {
        &self.id
    }

    /// `true` when this request started the session (the response sets the cookie).
    pub fn is_new(&self) -> bool {
        self.fresh
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = NotServed;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        SessionSlot::of(parts)
            .map(|slot| slot.session())
            .ok_or_else(|| {
                NotServed("no session: this route is not served by the StarModel router".into())
            })
    }
}

/// The session of one request, resolved once and only when something asks for
/// it: the request pipeline puts it in the request's extensions, handlers and
/// extractors read it, and after the response the pipeline sets the cookie of a
/// session the request started. Nothing else reads or sets the cookie.
pub(crate) struct SessionSlot {
    keys: Arc<SessionKeys>,
    /// The verified id of the request's cookie, if it has one.
    existing: Option<EntityId>,
    /// A session this request started.
    started: OnceLock<EntityId>,
}

impl SessionSlot {
    /// Verifies the request's session cookie (no new session yet).
    pub(crate) fn new(keys: &Arc<SessionKeys>, headers: &HeaderMap) -> Arc<Self> {
        Arc::new(Self {
            existing: keys.verified_id(headers).map(EntityId::new),
            keys: keys.clone(),
            started: OnceLock::new(),
        })
    }

    /// The slot the pipeline put on this request.
    pub(crate) fn of(parts: &Parts) -> Option<&Arc<SessionSlot>> {
        parts.extensions.get::<Arc<SessionSlot>>()
    }

    /// The request's session: its cookie's, or one it starts now.
    pub(crate) fn session(&self) -> Session {
        match &self.existing {
            Some(id) => Session {
                id: id.clone(),
                fresh: false,
            },
            None => Session {
                id: self.started.get_or_init(|| self.keys.new_id()).clone(),
                fresh: true,
            },
        }
    }

    /// The `Set-Cookie` value the response needs: for a session the request
    /// started, and for every page (`renew`), so that the cookie's Max-Age counts
    /// from the last visit rather than the first.
    pub(crate) fn cookie(&self, renew: bool) -> Option<HeaderValue> {
        if let Some(id) = self.started.get() {
            return Some(self.keys.set_cookie(id));
        }
        renew.then(|| self.keys.set_cookie(self.session().id()))
    }
}

/// Fills `out` with random bytes from the operating system.
pub(crate) fn random_bytes(out: &mut [u8]) {
    if let Err(e) = getrandom::fill(out) {
        // Without an OS random source no session can be safe; refusing to serve is
        // better than predictable ids.
        panic!("the operating system's random source failed: {e}");
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl SessionKeys {
    pub(crate) fn new(secret: &[u8], secure: bool) -> Self {
        Self {
            mac: Hmac::new_from_slice(secret).expect("HMAC takes keys of any length"),
            secure,
        }
    }

    fn tag(&self, id: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// The session of a request: the cookie's verified id, or a new one.
    #[cfg(test)]
    fn session(&self, headers: &HeaderMap) -> Session {
        match self.verified_id(headers) {
            Some(id) => Session {
                id: EntityId::new(id),
                fresh: false,
            },
            None => Session {
                id: self.new_id(),
                fresh: true,
            },
        }
    }

    /// A new random session id.
    fn new_id(&self) -> EntityId {
        let mut bytes = [0u8; ID_BYTES];
        random_bytes(&mut bytes);
        EntityId::new(hex(&bytes))
    }

    fn verified_id<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('='))
            .find_map(|value| {
                let (id, tag) = value.split_once('.')?;
                if id.len() != ID_BYTES * 2 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                let tag = decode_tag(tag)?;
                let mut mac = self.mac.clone();
                mac.update(id.as_bytes());
                mac.verify_slice(&tag).ok().map(|()| id)
            })
    }

    /// The `Set-Cookie` value for a new session.
    pub(crate) fn set_cookie(&self, id: &EntityId) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let value = format!(
            "{COOKIE_NAME}={id}.{}; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000{secure}",
            self.tag(id.as_str())
        );
        HeaderValue::from_str(&value).expect("hex ids and tags are valid header text")
    }
}

/// Decodes a hex HMAC-SHA256 tag (64 digits) without allocating.
fn decode_tag(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut tag = [0u8; 32];
    for (i, byte) in tag.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(tag)
}

/// Reads the signing secret from `path`, creating it (32 random bytes, owner-only)
/// when it does not exist, so sessions survive restarts.
pub(crate) fn secret_from_file(path: &Path) -> std::io::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.len() >= 32 => return Ok(bytes),
        Ok(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("secret file `{}` holds fewer than 32 bytes", path.display()),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut secret = vec![0u8; 32];
    random_bytes(&mut secret);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    std::io::Write::write_all(&mut file, &secret)?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        h
    }

    #[test]
    fn a_signed_cookie_round_trips() {
        let keys = SessionKeys::new(b"0123456789abcdef0123456789abcdef", false);
        let fresh = keys.session(&HeaderMap::new());
        assert!(fresh.is_new());
        let set = keys.set_cookie(fresh.id());
        let set = set.to_str().unwrap();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"));
        let pair = set.split(';').next().unwrap();
        let again = keys.session(&headers(&format!("other=1; {pair}")));
        assert!(!again.is_new());
        assert_eq!(again.id(), fresh.id());
    }

    #[test]
    fn forged_or_foreign_cookies_start_a_new_session() {
        let keys = SessionKeys::new(b"0123456789abcdef0123456789abcdef", false);
        let other = SessionKeys::new(b"another secret, another app.....", false);
        let id = keys.session(&HeaderMap::new()).id().clone();
        let foreign = other.set_cookie(&id);
        let pair = foreign
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        assert!(keys.session(&headers(&pair)).is_new());
        let forged = format!("{COOKIE_NAME}={id}.00");
        assert!(keys.session(&headers(&forged)).is_new());
        assert!(
            keys.session(&headers(&format!("{COOKIE_NAME}=garbage")))
                .is_new()
        );
    }

    #[test]
    fn secret_file_is_created_once() {
        let dir = std::env::temp_dir().join(format!("sm-secret-{}", std::process::id()));
        let path = dir.join("secret");
        let first = secret_from_file(&path).unwrap();
        let second = secret_from_file(&path).unwrap();
        assert_eq!(first, second);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
