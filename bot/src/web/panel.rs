//! `/incident/{room}` (SPEC §10): the live incident, for the people in its room (as a page,
//! and as the room's widget): severity, status, roles, the current understanding, the
//! timeline with its durations, follow-ups, and buttons that do what the commands do, as the
//! signed-in person and refused exactly when the command would be.

use std::{collections::HashMap, sync::Arc};

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Form,
};
use brigade_core::{
    incident::{Role, Severity, Status},
    record::IncidentRecord,
};
use matrix_sdk::ruma::{events::room::message::FormattedBody, OwnedRoomId, OwnedUserId, RoomId};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;
use tracing::{info, warn};

use super::{
    page::{self, document, secure, signin, PageQuery, Theme},
    session::{from_our_page, is_form_key, random_hex, Session},
    state::WebState,
};
use crate::{
    desk::{Acted, Action, Avatar, Desk},
    names::Names,
    report::{self, duration, Links},
};

/// What a button posts.
#[derive(Debug, Default, Deserialize)]
pub struct ActionPost {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    text: String,
}

impl ActionPost {
    /// The action the form asks for, or why it asks for none.
    fn action(&self) -> Result<Action, String> {
        let optional = |text: &str| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
        match self.action.as_str() {
            "acknowledge" => Ok(Action::Acknowledge),
            "take_command" => Ok(Action::TakeCommand),
            "status" => Ok(Action::Status {
                to: self
                    .status
                    .parse::<Status>()
                    .ok()
                    .filter(|status| Status::SETTABLE.contains(status))
                    .ok_or("status: choose investigating, identified, monitoring or resolved")?,
                note: optional(&self.note),
            }),
            "severity" => Ok(Action::Severity(
                self.severity
                    .parse::<Severity>()
                    .map_err(|_| "severity: choose SEV1, SEV2, SEV3 or SEV4")?,
            )),
            "update" => optional(&self.text)
                .map(Action::Update)
                .ok_or_else(|| "update: write what changed".to_owned()),
            _ => Err("the form asked for nothing Brigade knows".to_owned()),
        }
    }
}

/// What the page says above the incident after a button, and the answer's status: 403 for
/// what the command would refuse, 422 for a form that asks for nothing valid, 502 or 503 when
/// Brigade or the homeserver could not do it.
enum Outcome {
    Done(String),
    Refused(StatusCode, String),
}

/// `GET /incident/{room}`
pub async fn show(
    State(state): State<WebState>,
    Path(room): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let session = state
        .sessions
        .of_request(&headers)
        .map(|(_, session, _)| session);
    let page = panel(
        &state,
        &room,
        query.theme,
        session.as_ref(),
        None,
        StatusCode::OK,
    )
    .await;
    secure(page, &state.config.web)
}

/// `POST /incident/{room}`
pub async fn act(
    State(state): State<WebState>,
    Path(room): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
    Form(post): Form<ActionPost>,
) -> Response {
    let theme = query.theme;
    let Some((_, session, carrier)) = state.sessions.of_request(&headers) else {
        let page = panel(&state, &room, theme, None, None, StatusCode::UNAUTHORIZED).await;
        return secure(page, &state.config.web);
    };
    let refused = |status, why: &str| Some(Outcome::Refused(status, why.to_owned()));
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let outcome = if !from_our_page(&headers, &session, carrier, &post.csrf) {
        refused(
            StatusCode::FORBIDDEN,
            "this form did not come from Brigade's page (or the page is too old): nothing was done",
        )
    } else if !is_form_key(&post.key) {
        refused(invalid, "the form is incomplete: reload the panel")
    } else {
        match (post.action(), RoomId::parse(&room), state.desk.get()) {
            (Err(why), _, _) => refused(invalid, &why),
            (_, Err(_), _) => None,
            (_, _, None) => refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "Brigade is still starting; try again in a moment",
            ),
            (Ok(action), Ok(room_id), Some(desk)) => {
                match desk
                    .act(&room_id, &session.user_id, &action, &post.key)
                    .await
                {
                    Ok(Acted::Done(said)) => {
                        info!(user_id = %session.user_id, %room_id, ?action, "done from the incident panel");
                        Some(Outcome::Done(said))
                    }
                    Ok(Acted::Refused(why)) => Some(Outcome::Refused(StatusCode::FORBIDDEN, why)),
                    Err(error) => {
                        warn!(user_id = %session.user_id, %room_id, ?error, "an incident panel action failed");
                        Some(Outcome::Refused(
                            StatusCode::BAD_GATEWAY,
                            format!("{error}; try again"),
                        ))
                    }
                }
            }
        }
    };
    let status = match &outcome {
        Some(Outcome::Refused(status, _)) => *status,
        _ => StatusCode::OK,
    };
    let page = panel(&state, &room, theme, Some(&session), outcome, status).await;
    secure(page, &state.config.web)
}

/// The panel of `room` for `session`, or the page that says why there is none.
async fn panel(
    state: &WebState,
    room: &str,
    theme: Theme,
    session: Option<&Session>,
    outcome: Option<Outcome>,
    status: StatusCode,
) -> Response {
    let path = format!("/incident/{room}");
    let frame = |status: StatusCode, body: Markup| {
        (status, document("Incident", &path, theme, session, body)).into_response()
    };
    let Some(session) = session else {
        let why = if status == StatusCode::UNAUTHORIZED {
            "Your session has ended, so nothing was done: sign in again."
        } else {
            "The panel shows an incident to the people in its room."
        };
        return frame(
            status,
            html! { h1 { "Incident" } (signin(&state.config.web, why)) },
        );
    };
    let absent = |text: &str| {
        frame(
            StatusCode::NOT_FOUND,
            html! { h1 { "No such incident" } div.card.alert { p { (text) } } },
        )
    };
    let Ok(room_id) = RoomId::parse(room) else {
        return absent("That is not a room ID.");
    };
    let Some(desk) = state.desk.get() else {
        return frame(
            StatusCode::SERVICE_UNAVAILABLE,
            html! { h1 { "Incident" } div.card.alert { p { "Brigade is still starting; reload in a moment." } } },
        );
    };
    // Membership first: whether a room holds an incident is no outsider's business either.
    if desk
        .joined(&session.user_id, std::slice::from_ref(&room_id))
        .await
        .is_empty()
    {
        return frame(
            StatusCode::FORBIDDEN,
            html! {
                h1 { "Not yours to see" }
                div.card.alert { p { "Only the people in an incident's room see its panel. If you should be there, ask its commander to invite you." } }
            },
        );
    }
    let record = match state.store.incident(&room_id).await {
        Ok(Some(record)) => record,
        Ok(None) => return absent("Brigade runs no incident in that room."),
        Err(error) => {
            warn!(%error, "cannot read an incident for its panel");
            return frame(
                StatusCode::SERVICE_UNAVAILABLE,
                html! { h1 { "Incident" } div.card.alert { p { "Brigade cannot read the incident just now; reload in a moment." } } },
            );
        }
    };
    let people = people(desk.as_ref(), &record).await;
    let body = incident(state, &record, &room_id, session, &people, outcome);
    let title = format!("{} · {}", record.incident.number, record.incident.title);
    (status, document(&title, &path, theme, Some(session), body)).into_response()
}

/// Everyone the incident names, by name, and the avatars of those who hold a role.
struct People {
    names: Names,
    avatars: HashMap<OwnedUserId, Arc<Avatar>>,
}

async fn people(desk: &dyn Desk, record: &IncidentRecord) -> People {
    let mut names = Names::new();
    for user in record.people() {
        if let Some(name) = desk.display_name(user).await {
            names.insert(user.to_owned(), &name, false);
        }
    }
    let incident = &record.incident;
    let mut avatars = HashMap::new();
    for user in incident.commander.iter().chain(incident.roles.values()) {
        if let Some(avatar) = desk.avatar(user).await {
            avatars.insert(user.clone(), avatar);
        }
    }
    People { names, avatars }
}

fn incident(
    state: &WebState,
    record: &IncidentRecord,
    room_id: &OwnedRoomId,
    session: &Session,
    people: &People,
    outcome: Option<Outcome>,
) -> Markup {
    let incident = &record.incident;
    let names = &people.names;
    let name = |user: &OwnedUserId| names.name(user);
    let person = |user: &OwnedUserId| {
        page::person(
            &names.name(user),
            people.avatars.get(user).map(|avatar| &**avatar),
        )
    };
    let durations = incident.timestamps.durations();
    let links = Links {
        room: room_id,
        via: state.config.matrix.user_id.server_name(),
    };
    let timeline = FormattedBody::markdown(report::timeline(record, links, names))
        .map(|formatted| formatted.body)
        .unwrap_or_default();
    let open = incident.status.is_open();
    let form = |action: &str, content: Markup| -> Markup {
        html! {
            form.action method="post" {
                input type="hidden" name="csrf" value=(session.csrf);
                input type="hidden" name="key" value=(random_hex());
                input type="hidden" name="action" value=(action);
                (content)
            }
        }
    };
    html! {
        h1 {
            span class={ "sev sev-" (incident.severity.level()) } { (incident.severity) } " "
            (incident.number) " · " (incident.title)
            @if incident.private { " 🔒" }
        }
        p.lead { span.status { (incident.status) } " · " (incident.kind) " · declared "
            time datetime=(crate::render::format_utc(incident.timestamps.declared, "%Y-%m-%dT%H:%M:%SZ")) { (crate::render::date_time(incident.timestamps.declared)) } }
        @match outcome {
            Some(Outcome::Done(said)) => div.card.notice role="status" { p { "Done: " (said) } },
            Some(Outcome::Refused(_, why)) => div.card.alert role="alert" { p.error { "Not done: " (why) } },
            None => {},
        }
        div.grid {
            section.card aria-labelledby="roles-title" {
                h2 #roles-title { "Roles" }
                table { tbody {
                    tr { th { "🚑 Commander" } td { @match &incident.commander { Some(user) => (person(user)), None => (page::nobody()) } } }
                    @for role in Role::ALL {
                        tr { th { (role) } td { @match incident.roles.get(&role) { Some(user) => (person(user)), None => "—" } } }
                    }
                } }
            }
            section.card aria-labelledby="summary-title" {
                h2 #summary-title { "Current understanding" }
                p { @if incident.summary.is_empty() { span.empty { "Not written yet: " code { "!inc summary" } } } @else { (incident.summary) } }
                table { tbody {
                    tr { th { "Time to acknowledge" } td.num { (durations.to_acknowledge.map_or("—".to_owned(), duration)) } }
                    tr { th { "Time to mitigate" } td.num { (durations.to_mitigate.map_or("—".to_owned(), duration)) } }
                    tr { th { "Time to resolve" } td.num { (durations.to_resolve.map_or("—".to_owned(), duration)) } }
                } }
            }
        }
        @if incident.status != Status::Closed {
            section.card aria-labelledby="actions-title" {
                h2 #actions-title { "Act" }
                div.actions {
                    @if incident.timestamps.acknowledged.is_none() {
                        (form("acknowledge", html! { button #acknowledge type="submit" { "👀 Acknowledge" } }))
                    }
                    @if !incident.commanded_by(&session.user_id) {
                        (form("take_command", html! { button #take-command type="submit" { "🚑 Take command" } }))
                    }
                }
                (form("status", html! {
                    label for="status" { "Status" }
                    select #status name="status" {
                        @for status in Status::SETTABLE {
                            option value=(status) selected[status == incident.status] { (status) }
                        }
                    }
                    label for="note" { "Note" span.hint { "Optional: what changed, posted as an update." } }
                    input #note type="text" name="note";
                    button #set-status type="submit" { "Set status" }
                }))
                @if open {
                    (form("severity", html! {
                        label for="severity" { "Severity" }
                        select #severity name="severity" {
                            @for severity in Severity::ALL {
                                option value=(severity) selected[severity == incident.severity] { (severity) }
                            }
                        }
                        button #set-severity type="submit" { "Set severity" }
                    }))
                }
                (form("update", html! {
                    label for="update" { "Update" span.hint { "Posted in the room and on the headline." } }
                    textarea #update name="text" {}
                    button #post-update type="submit" { "Post the update" }
                }))
            }
        }
        section.card.timeline aria-labelledby="timeline-title" {
            h2 #timeline-title { "Timeline" }
            (PreEscaped(timeline))
        }
        section.card aria-labelledby="followups-title" {
            h2 #followups-title { "Follow-ups" }
            @let followups = record.followups();
            @if followups.is_empty() { p.empty { "None yet: " code { "!inc followup <text>" } } } @else {
                ul { @for followup in &followups { li {
                    @if followup.done() { "✅ " }
                    (followup.text)
                    @if let Some(owner) = followup.owner { " — " (name(owner)) }
                    @if let Some(due) = followup.due { " · due " (due.to_string()) }
                    @if let Some(ticket) = &followup.ticket {
                        " · "
                        @if let Some(url) = crate::markdown::web_url(ticket.url) {
                            a href=(url) rel="noopener noreferrer" { (ticket.key) }
                        } @else { (ticket.key) }
                    }
                } } }
            }
        }
    }
}
