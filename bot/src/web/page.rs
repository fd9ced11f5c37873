//! The frame every page shares: the document, the header with who is signed in, the sign-in
//! card, and the headers that keep pages private (no caching of pages that hold a CSRF value,
//! a content security policy that allows nothing from elsewhere).

use std::sync::Arc;

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use matrix_sdk::ruma::{OwnedUserId, UserId};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;

use super::{assets, session::Session};
use crate::{
    config::WebConfig,
    desk::{Avatar, Desk},
    render::format_utc,
};

/// Brigade's mark, a flame, inline so that no emoji font is needed and nothing is fetched.
const LOGO: &str = "<svg viewBox=\"0 0 24 24\" aria-hidden=\"true\"><path d=\"M12 2c1 4 6 6 6 12a6 6 0 0 1-12 0c0-3 2-5 3-7 0 2 1 3 2 3 0-3 0-5 1-8z\"/></svg>";

/// `?theme=light|dark`, as Element passes its theme to widgets; otherwise the browser's.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Follow the browser.
    #[default]
    Auto,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

/// The query every page understands.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageQuery {
    /// The colour scheme.
    #[serde(default)]
    pub theme: Theme,
}

/// The pages the header links to: path and name.
const PAGES: [(&str, &str); 3] = [
    ("/report", "Report a problem"),
    ("/dashboard", "Dashboard"),
    ("/status/internal", "Status"),
];

/// A whole page at `path`: `body` under the header.
pub fn document(
    title: &str,
    path: &str,
    theme: Theme,
    viewer: Option<&Session>,
    body: Markup,
) -> Markup {
    let theme = match theme {
        Theme::Auto => None,
        Theme::Light => Some("light"),
        Theme::Dark => Some("dark"),
    };
    html! {
        (DOCTYPE)
        html lang="en" data-theme=[theme] {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Brigade" }
                link rel="stylesheet" href=(assets::url("brigade.css"));
            }
            body {
                header.bar {
                    span.brand { (PreEscaped(LOGO)) "Brigade" }
                    nav.pages aria-label="Brigade's pages" {
                        @for (href, name) in PAGES {
                            a href=(href) aria-current=[(href == path).then_some("page")] { (name) }
                        }
                    }
                    @if let Some(viewer) = viewer {
                        div.who {
                            (face(&viewer.name, viewer.avatar.as_deref()))
                            span title=(viewer.user_id) { "Signed in as " strong { (viewer.name) } }
                            form method="post" action="/session/end" {
                                input type="hidden" name="csrf" value=(viewer.csrf);
                                button.quiet type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main class=[(path != "/report").then_some("wide")] { (body) }
                script src=(assets::url("local-time.js")) defer {}
                script src=(assets::url("widget.js")) defer {}
            }
        }
    }
}

/// A person's avatar circle: their picture, or the first letter of their `name`.
pub fn face(name: &str, avatar: Option<&Avatar>) -> Markup {
    html! {
        span.avatar aria-hidden="true" {
            @match avatar {
                Some(avatar) => img src=(avatar.data_url()) alt="";,
                None => (initial(name)),
            }
        }
    }
}

/// A person as the pages name them: their avatar circle and their name.
pub fn person(name: &str, avatar: Option<&Avatar>) -> Markup {
    html! { span.person { (face(name, avatar)) (name) } }
}

/// The people a page names, each looked up once: their display name and avatar, or their
/// Matrix ID while the bot cannot say.
#[derive(Debug, Default)]
pub struct People(Vec<(OwnedUserId, Option<String>, Option<Arc<Avatar>>)>);

impl People {
    /// Looks up `users` through `desk` (nobody before the bot has connected).
    pub async fn of(desk: Option<&Arc<dyn Desk>>, users: &[OwnedUserId]) -> Self {
        let mut people = Self::default();
        let Some(desk) = desk else {
            return people;
        };
        for user in users {
            if !people.0.iter().any(|(known, _, _)| known == user) {
                let name = desk.display_name(user).await;
                let avatar = desk.avatar(user).await;
                people.0.push((user.clone(), name, avatar));
            }
        }
        people
    }

    /// `user` as the pages show a person.
    pub fn person(&self, user: &UserId) -> Markup {
        let known = self.0.iter().find(|(known, _, _)| known == user);
        let name = known
            .and_then(|(_, name, _)| name.clone())
            .unwrap_or_else(|| user.to_string());
        person(&name, known.and_then(|(_, _, avatar)| avatar.as_deref()))
    }

    /// An incident's commander as the pages show them, or that nobody is in command.
    pub fn commander(&self, commander: Option<&UserId>) -> Markup {
        match commander {
            Some(user) => self.person(user),
            None => nobody(),
        }
    }
}

/// What stands for the commander of an incident nobody commands.
pub fn nobody() -> Markup {
    html! { span.empty { "Nobody yet" } }
}

/// A moment, in UTC; local-time.js shows it in the reader's time zone.
pub fn when(millis: u64) -> Markup {
    html! { time datetime=(format_utc(millis, "%Y-%m-%dT%H:%M:%SZ")) { (format_utc(millis, "%Y-%m-%d %H:%M UTC")) } }
}

/// The page `title` at `path` for someone not signed in: what it is (`lead`), and the
/// sign-in card saying why it needs one.
pub fn signed_out(
    web: &WebConfig,
    title: &str,
    path: &str,
    theme: Theme,
    lead: &str,
    why: &str,
) -> Response {
    let body = html! {
        h1 { (title) }
        p.lead { (lead) }
        (signin(web, why))
    };
    secure(
        document(title, path, theme, None, body).into_response(),
        web,
    )
}

/// The page `title` at `path` when the store cannot be read: try again in a moment.
pub fn unavailable(title: &str, path: &str, theme: Theme, viewer: &Session) -> Response {
    let body = html! {
        h1 { (title) }
        div.card.alert role="alert" { p { "Brigade cannot read its incidents just now; reload in a moment." } }
    };
    let page = document(title, path, theme, Some(viewer), body);
    (StatusCode::SERVICE_UNAVAILABLE, page).into_response()
}

/// The first letter of a name, for the avatar circle.
fn initial(name: &str) -> String {
    name.trim_start_matches('@')
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default()
}

/// The sign-in card: the person signs in to their homeserver, whose token Brigade checks.
pub fn signin(web: &WebConfig, why: &str) -> Markup {
    html! {
        section.card aria-labelledby="signin-title" {
            h2 #signin-title { "Sign in with your Matrix account" }
            p.hint { (why) " Your password goes only to your homeserver; Brigade receives a \
                token from it that proves who you are, and nothing else." }
            noscript { p.error { "Signing in needs JavaScript. Everything after it works without." } }
            // Shown by signin.js, which alone submits it (to the homeserver, never as a query).
            form #signin method="post" action="/session" hidden {
                label for="user" { "Matrix ID or username" }
                input #user type="text" name="user" autocomplete="username" required
                    placeholder="@you:example.org";
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                label for="homeserver" { "Homeserver" span.hint { "Where you sign in to Element." } }
                // The only ones the page may reach (`connect-src`); a full ID picks its own.
                select #homeserver name="homeserver" {
                    @for homeserver in &web.homeservers {
                        option value=(homeserver.url.as_str().trim_end_matches('/'))
                            data-server=(homeserver.server) {
                            (homeserver.server)
                        }
                    }
                }
                button type="submit" { "Sign in" }
                p #signin-status role="status" aria-live="polite" {}
            }
        }
        script src=(assets::url("signin.js")) defer {}
    }
}

/// The security headers of every page: nothing from elsewhere, but the homeservers people sign
/// in to (`web.homeservers`), which the sign-in reaches. Pages may be framed (as Element shows a widget) by
/// `web.element_origins`, or by any site when none are set: framed by another site, a page
/// never gets the SameSite=Strict session cookie, so nothing can be done in a visitor's name
/// by framing it, but a site posing as Element could sign the frame in as someone else, which
/// naming the origins prevents.
pub fn secure(mut response: Response, web: &WebConfig) -> Response {
    let homeservers: Vec<String> = web
        .homeservers
        .iter()
        .map(|homeserver| homeserver.url.origin().ascii_serialization())
        .collect();
    let homeservers = homeservers.join(" ");
    let framers = if web.element_origins.is_empty() {
        "*".to_owned()
    } else {
        format!("'self' {}", web.element_origins.join(" "))
    };
    let policy = format!(
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
         connect-src 'self' {homeservers}; form-action 'self'; base-uri 'none'; \
         frame-ancestors {framers}"
    );
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store".to_owned()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (header::REFERRER_POLICY, "no-referrer".to_owned()),
        (header::CONTENT_SECURITY_POLICY, policy),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.entry(name).or_insert(value);
        }
    }
    response
}
