//! Signed-in pages: a short-lived session for a verified Matrix user, carried by an HttpOnly,
//! SameSite=Strict cookie on standalone pages, or by an `Authorization: Bearer` header in a
//! widget (a widget lives in Element's frame, where a strict cookie is never sent).
//!
//! Sessions live in memory: a restart signs everyone out, which costs one more sign-in and
//! keeps no credential on disk. Tokens are 32 random bytes; only their SHA-256 is kept, so the
//! map cannot be used to sign in even if it is read.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::http::{header, HeaderMap};
use brigade_core::{
    clock::{millis, Clock},
    sync::lock,
};
use matrix_sdk::ruma::OwnedUserId;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::desk::Avatar;

/// The cookie that carries a standalone page's session.
pub const COOKIE: &str = "brigade_session";
/// At most this many sessions at once; the one closest to expiry makes room for a new one.
const MAX_SESSIONS: usize = 10_000;
/// At most this many per person (their browsers and widgets), so that no one can fill the
/// map and sign everyone else out: their own oldest makes room.
const MAX_PER_USER: usize = 20;

/// A verified person, signed in until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who signed in, as their homeserver vouched.
    pub user_id: OwnedUserId,
    /// Their display name when they signed in (their user ID if they have none).
    pub name: String,
    /// Their avatar when they signed in, if they have one.
    pub avatar: Option<Arc<Avatar>>,
    /// The value a cookie-carried form post must repeat (it is in the page, not in the cookie).
    pub csrf: String,
    /// When it ends, in milliseconds since the epoch.
    pub expires_at: u64,
}

/// How a request carried its session: the cookie needs a CSRF check on posts, the header not
/// (no other site can make a browser send it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// `Cookie: brigade_session=…`
    Cookie,
    /// `Authorization: Bearer …`
    Bearer,
}

/// The open sessions.
#[derive(Debug)]
pub struct Sessions {
    clock: Arc<dyn Clock>,
    lifetime: Duration,
    open: Mutex<HashMap<[u8; 32], Session>>,
}

impl Sessions {
    /// No sessions yet; each lasts `lifetime`.
    pub fn new(clock: Arc<dyn Clock>, lifetime: Duration) -> Self {
        Self {
            clock,
            lifetime,
            open: Mutex::default(),
        }
    }

    /// How long a session lasts.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Opens a session for `user_id`, called `name`; returns its token (given to the browser
    /// once) and it.
    pub fn open(
        &self,
        user_id: OwnedUserId,
        name: String,
        avatar: Option<Arc<Avatar>>,
    ) -> (String, Session) {
        let token = random_hex();
        let now = self.clock.now_millis();
        let session = Session {
            user_id,
            name,
            avatar,
            csrf: random_hex(),
            expires_at: now.saturating_add(millis(self.lifetime)),
        };
        let mut open = lock(&self.open);
        open.retain(|_, session| session.expires_at > now);
        let theirs = open
            .values()
            .filter(|other| other.user_id == session.user_id)
            .count();
        let full = if theirs >= MAX_PER_USER {
            Some(&session.user_id)
        } else if open.len() >= MAX_SESSIONS {
            None
        } else {
            open.insert(digest(&token), session.clone());
            return (token, session);
        };
        let soonest = open
            .iter()
            .filter(|(_, other)| full.is_none_or(|user| &other.user_id == user))
            .min_by_key(|(_, other)| other.expires_at)
            .map(|(key, _)| *key);
        if let Some(key) = soonest {
            open.remove(&key);
        }
        open.insert(digest(&token), session.clone());
        (token, session)
    }

    /// The live session of `token`, if any.
    pub fn get(&self, token: &str) -> Option<Session> {
        let key = digest(token);
        let mut open = lock(&self.open);
        match open.get(&key) {
            Some(session) if session.expires_at > self.clock.now_millis() => Some(session.clone()),
            Some(_) => {
                open.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends the session of `token`.
    pub fn close(&self, token: &str) {
        lock(&self.open).remove(&digest(token));
    }

    /// The session a request carries, and how.
    pub fn of_request(&self, headers: &HeaderMap) -> Option<(String, Session, Carrier)> {
        let (token, carrier) = token(headers)?;
        let session = self.get(&token)?;
        Some((token, session, carrier))
    }

    /// The `Set-Cookie` value that gives the browser `token`.
    pub fn cookie(&self, token: &str, secure: bool) -> String {
        let secure = if secure { "; Secure" } else { "" };
        format!(
            "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            self.lifetime.as_secs()
        )
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn removal(secure: bool) -> String {
        let secure = if secure { "; Secure" } else { "" };
        format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
    }
}

/// The session token a request carries: a bearer header first, then the cookie.
fn token(headers: &HeaderMap) -> Option<(String, Carrier)> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let bearer = value.to_str().ok()?.strip_prefix("Bearer ")?.trim();
        return Some((bearer.to_owned(), Carrier::Bearer));
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE && !value.is_empty()).then(|| (value.to_owned(), Carrier::Cookie))
        })
}

/// Whether a post carrying `session` by `carrier` came from Brigade's own page: a bearer header
/// always does (no other site can make a browser send it); a cookie only with the page's CSRF
/// value `csrf` and not from another site (`Sec-Fetch-Site`, where the browser sends it).
pub fn from_our_page(headers: &HeaderMap, session: &Session, carrier: Carrier, csrf: &str) -> bool {
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes() == b"cross-site");
    carrier == Carrier::Bearer || (!cross_site && csrf_matches(session, csrf))
}

/// Whether `key` is a form's key as the pages make them ([`random_hex`]).
pub fn is_form_key(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `given` is the session's CSRF value, compared in constant time.
pub fn csrf_matches(session: &Session, given: &str) -> bool {
    let (a, b) = (session.csrf.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// 32 random bytes, in hex.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use brigade_core::clock::TestClock;
    use matrix_sdk::ruma::user_id;

    use super::*;

    fn sessions(clock: Arc<TestClock>) -> Sessions {
        Sessions::new(clock, Duration::from_secs(3600))
    }

    #[test]
    fn a_session_ends_with_its_lifetime() {
        let clock = Arc::new(TestClock::at_millis(1_000));
        let sessions = sessions(clock.clone());
        let (token, session) = sessions.open(
            user_id!("@ana:example.org").to_owned(),
            "Ana".to_owned(),
            None,
        );
        assert_eq!(sessions.get(&token), Some(session));
        clock.advance(Duration::from_secs(3599));
        assert!(sessions.get(&token).is_some());
        clock.advance(Duration::from_secs(1));
        assert_eq!(sessions.get(&token), None);
    }

    #[test]
    fn a_closed_or_unknown_token_has_no_session() {
        let sessions = sessions(Arc::new(TestClock::at_millis(1)));
        let (token, _) = sessions.open(
            user_id!("@ana:example.org").to_owned(),
            "Ana".to_owned(),
            None,
        );
        assert!(sessions.get("not-a-token").is_none());
        sessions.close(&token);
        assert!(sessions.get(&token).is_none());
    }

    #[test]
    fn the_bearer_header_comes_before_the_cookie() {
        let sessions = sessions(Arc::new(TestClock::at_millis(1)));
        let (cookie, _) = sessions.open(
            user_id!("@ana:example.org").to_owned(),
            "Ana".to_owned(),
            None,
        );
        let (bearer, _) = sessions.open(
            user_id!("@ben:example.org").to_owned(),
            "Ana".to_owned(),
            None,
        );
        let mut headers = HeaderMap::new();
        let value = format!("theme=dark; {COOKIE}={cookie}");
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&value).expect("value"),
        );
        let (_, session, carrier) = sessions.of_request(&headers).expect("cookie session");
        assert_eq!(
            (session.user_id.as_str(), carrier),
            ("@ana:example.org", Carrier::Cookie)
        );
        let value = format!("Bearer {bearer}");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&value).expect("value"),
        );
        let (_, session, carrier) = sessions.of_request(&headers).expect("bearer session");
        assert_eq!(
            (session.user_id.as_str(), carrier),
            ("@ben:example.org", Carrier::Bearer)
        );
    }

    #[test]
    fn the_cookie_is_http_only_and_strict() {
        let sessions = sessions(Arc::new(TestClock::at_millis(1)));
        let cookie = sessions.cookie("abc", true);
        for part in [
            "HttpOnly",
            "SameSite=Strict",
            "Max-Age=3600",
            "Secure",
            "Path=/",
        ] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!sessions.cookie("abc", false).contains("Secure"));
    }

    #[test]
    fn csrf_values_must_match_exactly() {
        let sessions = sessions(Arc::new(TestClock::at_millis(1)));
        let (_, session) = sessions.open(
            user_id!("@ana:example.org").to_owned(),
            "Ana".to_owned(),
            None,
        );
        assert!(csrf_matches(&session, &session.csrf.clone()));
        assert!(!csrf_matches(&session, ""));
        assert!(!csrf_matches(&session, &session.csrf[1..]));
    }

    #[test]
    fn one_person_cannot_sign_out_another_by_signing_in_often() {
        let clock = Arc::new(TestClock::at_millis(1));
        let sessions = sessions(clock.clone());
        let (ana, _) = sessions.open(
            user_id!("@ana:example.org").to_owned(),
            "Ana".to_owned(),
            None,
        );
        let (first, _) = sessions.open(
            user_id!("@mallory:example.org").to_owned(),
            "M".to_owned(),
            None,
        );
        for _ in 0..MAX_SESSIONS {
            clock.advance(Duration::from_millis(1));
            sessions.open(
                user_id!("@mallory:example.org").to_owned(),
                "M".to_owned(),
                None,
            );
        }
        assert!(sessions.get(&ana).is_some());
        assert!(sessions.get(&first).is_none());
        assert_eq!(lock(&sessions.open).len(), MAX_PER_USER + 1);
    }

    #[test]
    fn the_oldest_session_makes_room_when_full() {
        let clock = Arc::new(TestClock::at_millis(1));
        let sessions = sessions(clock.clone());
        let (first, _) = sessions.open(
            user_id!("@ana:example.org").to_owned(),
            "Ana".to_owned(),
            None,
        );
        clock.advance(Duration::from_millis(1));
        for n in 1..MAX_SESSIONS {
            let user = matrix_sdk::ruma::UserId::parse(format!("@u{n}:example.org")).expect("id");
            sessions.open(user, "U".to_owned(), None);
        }
        assert!(sessions.get(&first).is_some());
        sessions.open(
            user_id!("@cy:example.org").to_owned(),
            "Ana".to_owned(),
            None,
        );
        assert!(sessions.get(&first).is_none());
    }
}
