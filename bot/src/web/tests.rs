//! The pages' handlers through `router().oneshot(..)`: every refusal, and what a good post
//! hands to the desk. Token verification against a real homeserver is in the end-to-end tests.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
};
use brigade_core::{
    clock::{Clock, TestClock},
    sync::lock,
};
use http_body_util::BodyExt;
use matrix_sdk::ruma::{
    owned_event_id, owned_room_id, user_id, EventId, OwnedRoomId, OwnedUserId, RoomId, UserId,
};
use tower::ServiceExt;

use super::*;
use crate::{
    config::Config,
    desk::Desk,
    desk::{Acted, Action, Avatar, DeskError},
    filing::{Filed, Report},
    metrics::{Health, Metrics},
};

/// A desk that records what it is asked to file.
#[derive(Debug, Default)]
struct Recorder {
    filed: Mutex<Vec<(Report, String)>>,
    acted: Mutex<Vec<(OwnedUserId, Action)>>,
    linked: Mutex<Vec<(OwnedRoomId, OwnedUserId)>>,
}

#[async_trait::async_trait]
impl Desk for Recorder {
    async fn joined(&self, user_id: &UserId, rooms: &[OwnedRoomId]) -> Vec<OwnedRoomId> {
        if user_id == "@ana:example.org" {
            rooms.to_vec()
        } else {
            Vec::new()
        }
    }

    async fn act(
        &self,
        _: &RoomId,
        user_id: &UserId,
        action: &Action,
        _: &str,
    ) -> Result<Acted, DeskError> {
        lock(&self.acted).push((user_id.to_owned(), action.clone()));
        Ok(Acted::Done(format!("{action:?}")))
    }

    async fn acknowledge_by_link(
        &self,
        (room_id, _): (&RoomId, &EventId),
        user_id: &UserId,
        _: &str,
    ) -> Result<Acted, DeskError> {
        lock(&self.linked).push((room_id.to_owned(), user_id.to_owned()));
        Ok(Acted::Done("INC-1 acknowledged".to_owned()))
    }

    async fn display_name(&self, _: &UserId) -> Option<String> {
        Some("Ana".to_owned())
    }

    async fn avatar(&self, _: &UserId) -> Option<Arc<Avatar>> {
        Avatar::recognise(b"\x89PNG\r\n\x1a\nana".to_vec()).map(Arc::new)
    }

    async fn file(&self, report: &Report, key: &str) -> Result<Filed, DeskError> {
        lock(&self.filed).push((report.clone(), key.to_owned()));
        Ok(Filed {
            room_id: owned_room_id!("!triage:example.org"),
            event_id: owned_event_id!("$report"),
            link: "https://matrix.to/#/!triage:example.org/$report".to_owned(),
            private: report.kind == "security",
        })
    }
}

struct Pages {
    state: WebState,
    clock: Arc<TestClock>,
    desk: Arc<Recorder>,
}

impl Pages {
    fn new() -> Self {
        Self::with("")
    }

    /// Pages with `extra` configuration (TOML sections).
    fn with(extra: &str) -> Self {
        let clock = Arc::new(TestClock::at_millis(1_000_000));
        let state = WebState::new(
            Arc::new(Config::for_tests(extra)),
            Arc::new(Health::new(clock.clone())),
            Arc::new(Metrics::new()),
            Arc::new(brigade_core::store::EngineStore::in_memory()),
            clock.clone(),
        );
        let desk = Arc::new(Recorder::default());
        state.desk.set(desk.clone()).expect("a fresh desk slot");
        Self { state, clock, desk }
    }

    /// A session for Ana: its token and CSRF value.
    fn signed_in(&self) -> (String, String) {
        let (token, session) = self.state.sessions.open(
            user_id!("@ana:example.org").to_owned(),
            "Ana".to_owned(),
            None,
        );
        (token, session.csrf)
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let response = router(self.state.clone())
            .oneshot(request)
            .await
            .expect("response");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        (
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    async fn post_report(&self, cookie: Option<&str>, form: &str) -> (StatusCode, String) {
        let mut request = Request::post("/report")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(token) = cookie {
            request = request.header(header::COOKIE, format!("brigade_session={token}"));
        }
        let (status, _, body) = self
            .send(request.body(Body::from(form.to_owned())).expect("request"))
            .await;
        (status, body)
    }

    fn filed(&self) -> Vec<(Report, String)> {
        lock(&self.desk.filed).clone()
    }
}

const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn form(csrf: &str, fields: &str) -> String {
    format!("csrf={csrf}&key={KEY}&{fields}")
}

#[tokio::test]
async fn the_form_asks_a_stranger_to_sign_in_and_keeps_pages_private() {
    let pages = Pages::new();
    let (status, headers, body) = pages
        .send(
            Request::get("/report")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Sign in with your Matrix account"), "{body}");
    assert!(!body.contains("name=\"summary\""), "{body}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let policy = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(
        policy.contains("connect-src 'self' http://127.0.0.1:8008"),
        "{policy}"
    );
}

#[tokio::test]
async fn people_of_other_configured_homeservers_may_sign_in_there() {
    let pages = Pages::with(
        "[access]\nallowed_servers = [\"example.org\", \"partner.example\"]\n\
         [[web.homeservers]]\nserver = \"partner.example\"\nurl = \"https://matrix.partner.example\"\n",
    );
    let (_, headers, body) = pages
        .send(
            Request::get("/report")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    for option in [
        "<option value=\"http://127.0.0.1:8008\" data-server=\"example.org\">",
        "<option value=\"https://matrix.partner.example\" data-server=\"partner.example\">",
    ] {
        assert!(body.contains(option), "{option}: {body}");
    }
    let policy = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii");
    assert!(
        policy.contains("connect-src 'self' http://127.0.0.1:8008 https://matrix.partner.example;"),
        "{policy}"
    );
}

#[tokio::test]
async fn a_signed_in_person_gets_the_form_with_every_configured_type() {
    let pages = Pages::new();
    let (token, csrf) = pages.signed_in();
    let (status, _, body) = pages
        .send(
            Request::get("/report?theme=dark")
                .header(header::COOKIE, format!("brigade_session={token}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("data-theme=\"dark\""), "{body}");
    assert!(body.contains(&format!("value=\"{csrf}\"")), "{body}");
    for kind in [
        "operations",
        "security",
        "facilities",
        "product",
        "customer",
    ] {
        assert!(
            body.contains(&format!("<option value=\"{kind}\"")),
            "{kind}: {body}"
        );
    }
    for urgency in ["&lt; 1 hour", "&lt; 24 hours", "this week"] {
        assert!(body.contains(urgency), "{urgency}: {body}");
    }
    assert!(body.contains("Signed in as <strong>Ana</strong>"), "{body}");
}

#[tokio::test]
async fn a_good_report_is_filed_in_the_name_of_the_session_not_the_form() {
    let pages = Pages::new();
    let (token, csrf) = pages.signed_in();
    let fields = "type=operations&summary=Checkout+is+slow&urgency=hour&details=EU&reporter=%40mallory%3Aexample.org";
    let (status, body) = pages.post_report(Some(&token), &form(&csrf, fields)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Report filed"), "{body}");
    let filed = pages.filed();
    assert_eq!(filed.len(), 1);
    let (report, key) = &filed[0];
    assert_eq!(report.reporter, "@ana:example.org");
    assert_eq!(report.summary, "Checkout is slow");
    assert_eq!(key, KEY);
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named_and_nothing_filed() {
    let pages = Pages::new();
    let (token, csrf) = pages.signed_in();
    let long = "d".repeat(crate::filing::MAX_DETAILS + 1);
    for (fields, field) in [
        (
            "type=operations&summary=&urgency=hour".to_owned(),
            "summary",
        ),
        ("type=weather&summary=x&urgency=hour".to_owned(), "type"),
        (
            "type=operations&summary=x&urgency=soon".to_owned(),
            "urgency",
        ),
        (
            format!("type=operations&summary=x&urgency=hour&details={long}"),
            "details",
        ),
    ] {
        let (status, body) = pages.post_report(Some(&token), &form(&csrf, &fields)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(
            body.contains(&format!("id=\"{field}-error\"")),
            "{field}: {body}"
        );
        assert!(body.contains("Nothing was filed"), "{body}");
    }
    // What was typed is kept for the next try.
    let (_, body) = pages
        .post_report(
            Some(&token),
            &form(&csrf, "type=product&summary=kept+text&urgency=soon"),
        )
        .await;
    assert!(body.contains("value=\"kept text\""), "{body}");
    assert!(pages.filed().is_empty());
}

#[tokio::test]
async fn without_a_session_or_with_a_foreign_form_nothing_is_filed() {
    let pages = Pages::new();
    let fields = "type=operations&summary=x&urgency=hour";
    let (status, body) = pages.post_report(None, &form("", fields)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("Your session has ended"), "{body}");
    let (token, _) = pages.signed_in();
    let (status, _) = pages
        .post_report(Some(&token), &form("forged", fields))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = pages
        .post_report(Some("not-a-session"), &form("forged", fields))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(pages.filed().is_empty());
}

#[tokio::test]
async fn an_expired_session_files_nothing() {
    let pages = Pages::new();
    let (token, csrf) = pages.signed_in();
    pages
        .clock
        .advance(pages.state.sessions.lifetime() + Duration::from_secs(1));
    let (status, _) = pages
        .post_report(
            Some(&token),
            &form(&csrf, "type=operations&summary=x&urgency=hour"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(pages.filed().is_empty());
}

#[tokio::test]
async fn a_widget_posts_with_its_bearer_session_and_no_csrf_value() {
    let pages = Pages::new();
    let (token, _) = pages.signed_in();
    let request = Request::post("/report")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form(
            "",
            "type=security&summary=a+key+leaked&urgency=hour",
        )))
        .expect("request");
    let (status, _, body) = pages.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("the private triage room"), "{body}");
}

#[tokio::test]
async fn signing_in_takes_json_from_an_allowed_server_only() {
    let pages = Pages::new();
    let post = |content_type: &str, body: &str| {
        Request::post("/session")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_owned()))
            .expect("request")
    };
    let (status, _, body) = pages
        .send(post(
            "application/x-www-form-urlencoded",
            "matrix_server_name=example.org&access_token=x",
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, body) = pages
        .send(post(
            "application/json",
            r#"{"matrix_server_name":"elsewhere.example","access_token":"x"}"#,
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("elsewhere.example is not a server"), "{body}");
    let (status, _, body) = pages
        .send(post(
            "application/json",
            r#"{"matrix_server_name":"not a name!","access_token":"x"}"#,
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, _) = pages
        .send(
            Request::get("/session")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_out_needs_the_page_csrf_value_and_ends_the_session() {
    let pages = Pages::new();
    let (token, csrf) = pages.signed_in();
    let end = |csrf: &str| {
        Request::post("/session/end")
            .header(header::COOKIE, format!("brigade_session={token}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={csrf}")))
            .expect("request")
    };
    let (status, _, _) = pages.send(end("forged")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(pages.state.sessions.get(&token).is_some());
    let (status, headers, _) = pages.send(end(&csrf)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .contains("Max-Age=0"));
    assert!(pages.state.sessions.get(&token).is_none());
}

#[tokio::test]
async fn assets_have_their_types_and_are_cached() {
    let pages = Pages::new();
    let url = assets::url("brigade.css");
    assert!(url.starts_with("/assets/brigade.css?v="), "{url}");
    let (status, headers, body) = pages
        .send(Request::get(url).body(Body::empty()).expect("request"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(headers[header::CACHE_CONTROL]
        .to_str()
        .expect("ascii")
        .contains("immutable"));
    assert!(body.contains("prefers-color-scheme: dark"));
    let (status, _, _) = pages
        .send(
            Request::get("/assets/signin.js")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = pages
        .send(
            Request::get("/assets/../Cargo.toml")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_dashboard_lists_a_private_incident_to_its_members_only() {
    use brigade_core::{incident::Severity, testing::record};
    let pages = Pages::new();
    let now = pages.clock.now_millis();
    let mut open = record(1, "Checkout is slow", Severity::Sev2, now - 60_000);
    open.incident.timestamps.acknowledged = Some(now - 30_000);
    let mut private = record(2, "Leaked signing key", Severity::Sev1, now - 120_000);
    private.incident.private = true;
    private.room_id = owned_room_id!("!private:example.org");
    for record in [&open, &private] {
        pages
            .state
            .store
            .save_incident(record)
            .await
            .expect("saved");
    }
    let dashboard = |token: String| {
        Request::get("/dashboard")
            .header(header::COOKIE, format!("brigade_session={token}"))
            .body(Body::empty())
            .expect("request")
    };
    let (token, _) = pages.signed_in();
    let (status, _, body) = pages.send(dashboard(token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Checkout is slow") && body.contains("Leaked signing key"),
        "{body}"
    );
    let (token, _) = pages.state.sessions.open(
        user_id!("@ben:example.org").to_owned(),
        "Ben".to_owned(),
        None,
    );
    let (_, _, body) = pages.send(dashboard(token)).await;
    assert!(body.contains("Checkout is slow"), "{body}");
    assert!(
        !body.contains("Leaked") && !body.contains("INC-2<"),
        "{body}"
    );
    // Both count in the figures: two incidents, one of them SEV1.
    assert!(body.contains("2 incidents in all"), "{body}");
    assert!(
        body.contains("<td>SEV1</td><td class=\"num\">1</td>"),
        "{body}"
    );
}

#[tokio::test]
async fn the_dashboard_asks_a_stranger_to_sign_in() {
    let pages = Pages::new();
    let (status, _, body) = pages
        .send(
            Request::get("/dashboard")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Sign in with your Matrix account"), "{body}");
    assert!(!body.contains("Open incidents"), "{body}");
}

#[tokio::test]
async fn the_panel_is_for_the_people_in_the_room_and_acts_as_them() {
    use brigade_core::{
        incident::{Severity, Status},
        testing::record,
    };
    let pages = Pages::new();
    let mut private = record(7, "Leaked signing key", Severity::Sev1, 1_000);
    private.incident.private = true;
    pages
        .state
        .store
        .save_incident(&private)
        .await
        .expect("saved");
    let path = "/incident/!room:example.org";
    let get = |token: &str| {
        Request::get(path)
            .header(header::COOKIE, format!("brigade_session={token}"))
            .body(Body::empty())
            .expect("request")
    };
    let (ana, csrf) = pages.signed_in();
    let (status, _, body) = pages.send(get(&ana)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("INC-7 · Leaked signing key"), "{body}");
    assert!(body.contains("id=\"set-status\""), "{body}");
    // The commander by name, with the avatar the page carries.
    assert!(
        body.contains("<span class=\"person\"><span class=\"avatar\" aria-hidden=\"true\"><img src=\"data:image/png;base64,"),
        "{body}"
    );
    let (ben, _) = pages.state.sessions.open(
        user_id!("@ben:example.org").to_owned(),
        "Ben".to_owned(),
        None,
    );
    let (status, _, body) = pages.send(get(&ben)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        !body.contains("Leaked") && !body.contains("INC-7"),
        "{body}"
    );

    let post = |csrf: &str, fields: &str| {
        Request::post(path)
            .header(header::COOKIE, format!("brigade_session={ana}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={csrf}&key={KEY}&{fields}")))
            .expect("request")
    };
    for (fields, csrf, why) in [
        (
            "action=status&status=monitoring",
            "forged",
            "did not come from Brigade",
        ),
        (
            "action=status&status=closed",
            csrf.as_str(),
            "status: choose",
        ),
        (
            "action=severity&severity=9",
            csrf.as_str(),
            "severity: choose",
        ),
        ("action=update&text=+", csrf.as_str(), "update: write"),
        ("action=delete", csrf.as_str(), "asked for nothing"),
    ] {
        let (status, _, body) = pages.send(post(csrf, fields)).await;
        let expected = if csrf == "forged" {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(status, expected, "{fields}");
        assert!(body.contains(why), "{fields}: {body}");
    }
    assert!(lock(&pages.desk.acted).is_empty());
    let (status, _, body) = pages
        .send(post(
            &csrf,
            "action=status&status=monitoring&note=rolled+back",
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Done: "), "{body}");
    let acted = lock(&pages.desk.acted).clone();
    assert_eq!(
        acted,
        [(
            user_id!("@ana:example.org").to_owned(),
            Action::Status {
                to: Status::Monitoring,
                note: Some("rolled back".to_owned())
            }
        )]
    );
}

#[tokio::test]
async fn a_post_another_site_makes_is_refused_even_with_the_right_values() {
    let pages = Pages::new();
    let (token, csrf) = pages.signed_in();
    let request = Request::post("/report")
        .header(header::COOKIE, format!("brigade_session={token}"))
        .header("sec-fetch-site", "cross-site")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form(
            &csrf,
            "type=operations&summary=x&urgency=hour",
        )))
        .expect("request");
    let (status, _, _) = pages.send(request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(pages.filed().is_empty());
}

#[tokio::test]
async fn the_panel_tells_an_outsider_nothing_about_what_the_room_holds() {
    let pages = Pages::new();
    let (ben, _) = pages.state.sessions.open(
        user_id!("@ben:example.org").to_owned(),
        "Ben".to_owned(),
        None,
    );
    // No incident in this room, and Ben not in it: the same answer as for a private incident.
    let request = Request::get("/incident/!nothing:example.org")
        .header(header::COOKIE, format!("brigade_session={ben}"))
        .body(Body::empty())
        .expect("request");
    let (status, _, body) = pages.send(request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("Not yours to see"), "{body}");
}

#[tokio::test]
async fn only_the_named_element_may_frame_the_pages() {
    let frame_ancestors = |pages: Pages| async move {
        let (_, headers, _) = pages
            .send(
                Request::get("/report")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        let policy = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii")
            .to_owned();
        policy
            .split("; ")
            .find(|part| part.starts_with("frame-ancestors"))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    assert_eq!(frame_ancestors(Pages::new()).await, "frame-ancestors *");
    let named = Pages::with("[web]\nelement_origins = [\"https://element.example.org/\"]\n");
    assert_eq!(
        frame_ancestors(named).await,
        "frame-ancestors 'self' https://element.example.org"
    );
}

#[tokio::test]
async fn the_status_page_serves_its_own_files_only_and_none_before_they_are_written() {
    let directory = tempfile::tempdir().expect("a directory");
    let pages = Pages::with(&format!(
        "[status]\ndirectory = \"{}\"\n[[status.components]]\nname = \"Checkout\"\n",
        directory.path().display()
    ));
    let get = |path: &str| Request::get(path).body(Body::empty()).expect("request");
    let (status, headers, _) = pages.send(get("/status")).await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(headers[header::LOCATION], "/status/");
    let (status, _, _) = pages.send(get("/status/")).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "nothing written yet"
    );

    std::fs::write(directory.path().join("bot.toml"), "password = 1").expect("a stray file");
    let (written, _) =
        crate::status::writer::write(&pages.state.config, pages.state.store.as_ref(), 0)
            .await
            .expect("written");
    assert_eq!(written, crate::status::FILES.len());
    let (again, _) =
        crate::status::writer::write(&pages.state.config, pages.state.store.as_ref(), 0)
            .await
            .expect("written");
    assert_eq!(again, 0, "files that did not change are not written again");
    let (status, headers, body) = pages.send(get("/status/")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(headers[header::CACHE_CONTROL], "public, no-cache");
    assert!(body.contains("All systems operational"), "{body}");
    let (status, headers, _) = pages.send(get("/status/feed.atom")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/atom+xml; charset=utf-8"
    );
    for path in [
        "/status/bot.toml",
        "/status/..%2Fbot.toml",
        "/status/.index.html.partial",
    ] {
        let (status, _, _) = pages.send(get(path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn an_acknowledge_link_shows_what_it_does_acts_once_and_refuses_forgeries() {
    let pages = Pages::new();
    let store = pages.state.store.as_ref();
    let mut record = brigade_core::testing::record(
        7,
        "Replica lag",
        brigade_core::incident::Severity::Sev2,
        1_000,
    );
    record.incident.private = true;
    store.save_incident(&record).await.expect("saved");
    crate::ack_link::ensure_key(store)
        .await
        .expect("a key made");
    let key = crate::ack_link::key(store)
        .await
        .expect("readable")
        .expect("made");
    let link = crate::ack_link::AckLink {
        room: record.room_id.clone(),
        user: user_id!("@dan:example.org").to_owned(),
        policy: "db".to_owned(),
        page: owned_event_id!("$page"),
        expires: pages.clock.now_millis() + 60_000,
    };
    let token = link.sign(&key);
    let get = |path: String| Request::get(path).body(Body::empty()).expect("request");
    let post = |path: String| Request::post(path).body(Body::empty()).expect("request");

    let (status, headers, body) = pages.send(get(format!("/ack/{token}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("@dan:example.org") && body.contains("I'm on it"),
        "{body}"
    );
    assert!(
        body.contains("a private incident") && !body.contains("Replica lag"),
        "{body}"
    );
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    assert!(
        lock(&pages.desk.linked).is_empty(),
        "opening the link does nothing"
    );

    let (status, _, body) = pages.send(post(format!("/ack/{token}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("INC-1 acknowledged"), "{body}");
    let (status, _, body) = pages.send(post(format!("/ack/{token}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Already acknowledged"), "{body}");
    assert_eq!(
        lock(&pages.desk.linked).as_slice(),
        [(
            record.room_id.clone(),
            user_id!("@dan:example.org").to_owned()
        )],
        "once, as the person the link names"
    );

    let mut other = link.clone();
    other.user = user_id!("@mallory:example.org").to_owned();
    let forged = format!(
        "{}.{}",
        other
            .sign(b"not the key")
            .split_once('.')
            .expect("two parts")
            .0,
        token.split_once('.').expect("two parts").1
    );
    let (status, _, body) = pages.send(post(format!("/ack/{forged}"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("signature does not match"), "{body}");
    pages.clock.advance(Duration::from_secs(61));
    let late = crate::ack_link::AckLink {
        policy: "web".to_owned(),
        ..link
    }
    .sign(&key);
    let (status, _, body) = pages.send(get(format!("/ack/{late}"))).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(lock(&pages.desk.linked).len(), 1);
}
