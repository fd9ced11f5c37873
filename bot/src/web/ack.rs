//! `/ack/{token}` (SPEC §14): where a notification's acknowledge link lands. The token is the
//! proof of who follows it (`crate::ack_link`): no sign-in, and nothing taken from the URL but
//! what the bot signed. Opening the link only shows what it would acknowledge, so that a mail
//! scanner fetching it acknowledges nothing; the button acknowledges, once: a link that has
//! acted says what it did, however often it is followed again.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use brigade_core::record::IncidentRecord;
use maud::{html, Markup};
use tracing::error;

use super::{
    page::{document, secure, when, Theme},
    state::WebState,
};
use crate::{
    ack_link::{self, AckLink},
    desk::Acted,
    keys::{self, AckUsed},
};

const TITLE: &str = "Acknowledge a page";

/// `GET /ack/{token}`: what the link acknowledges, and the button.
pub async fn show(State(state): State<WebState>, Path(token): Path<String>) -> Response {
    let (link, record) = match read(&state, &token).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let body = html! {
        h1 { "Acknowledge " (record.incident.number) }
        section.card {
            (about(&record))
            p { "You, " strong { (link.user) } ", were paged by the escalation policy "
                strong { (link.policy) } "." }
            @if record.escalations.iter().any(|escalation| escalation.pages.contains(&link.page)) {
                p { "Nobody has acknowledged it yet: it goes on paging until someone does." }
            } @else {
                p { "It is no longer paging (someone acknowledged it, or it ran its course); \
                    acknowledging tells the room you are on it." }
            }
            p.hint { "Acknowledging tells the incident's room that you are on it and stops the \
                escalation, as 👀 on the page in Element does." }
            form method="post" {
                button #acknowledge type="submit" { "👀 I'm on it: acknowledge" }
            }
        }
    };
    respond(&state, StatusCode::OK, body)
}

/// `POST /ack/{token}`: acknowledges, once.
pub async fn acknowledge(State(state): State<WebState>, Path(token): Path<String>) -> Response {
    let (link, record) = match read(&state, &token).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let Some(desk) = state.desk.get() else {
        return failure(
            &state,
            StatusCode::SERVICE_UNAVAILABLE,
            "Brigade is starting: try again in a moment.",
        );
    };
    let id = ack_link::used_id(&token);
    let acted = desk
        .acknowledge_by_link((&link.room, &link.page), &link.user, &id)
        .await;
    match acted {
        Ok(Acted::Done(said)) => {
            let used = AckUsed {
                at: state.clock.now_millis(),
                said: said.clone(),
            };
            if let Err(error) = keys::ack_used(&id).set(state.store.as_ref(), &used).await {
                error!(%error, "cannot store that an acknowledge link was used");
            }
            let body = html! {
                h1 { "Acknowledged" }
                section.card role="status" {
                    (about(&record))
                    p.done { (said) }
                    p.hint { "The incident's room has been told. Join it in Element to help." }
                }
            };
            respond(&state, StatusCode::OK, body)
        }
        Ok(Acted::Refused(why)) => failure(
            &state,
            StatusCode::CONFLICT,
            &format!("Nothing was done: {why}."),
        ),
        Err(error) => {
            error!(%error, "an acknowledge link could not act");
            failure(
                &state,
                StatusCode::BAD_GATEWAY,
                "Brigade could not reach the homeserver just now: nothing was done. Try the link again in a moment.",
            )
        }
    }
}

/// The link's claims and its incident, or the page saying why there is nothing to do.
async fn read(state: &WebState, token: &str) -> Result<(AckLink, IncidentRecord), Response> {
    let store = state.store.as_ref();
    let unavailable = |why: &str| failure(state, StatusCode::SERVICE_UNAVAILABLE, why);
    let key = match ack_link::key(store).await {
        Ok(Some(key)) => key,
        Ok(None) => return Err(unavailable("Brigade is starting: try again in a moment.")),
        Err(error) => {
            error!(%error, "cannot read the acknowledge links' key");
            return Err(unavailable(
                "Brigade cannot read its store just now; try again in a moment.",
            ));
        }
    };
    let link = AckLink::verify(token, &key, state.clock.now_millis()).map_err(|why| {
        let status = match why {
            ack_link::LinkError::Expired => StatusCode::GONE,
            _ => StatusCode::BAD_REQUEST,
        };
        failure(
            state,
            status,
            &format!("{why}. To acknowledge, react 👀 on the page in Element."),
        )
    })?;
    if let Ok(Some(used)) = keys::ack_used(&ack_link::used_id(token)).get(store).await {
        let body = html! {
            h1 { "Already acknowledged" }
            section.card role="status" {
                p { "This link was used " (when(used.at)) ": " (used.said) }
            }
        };
        return Err(respond(state, StatusCode::OK, body));
    }
    match store.incident(&link.room).await {
        Ok(Some(record)) => Ok((link, record)),
        Ok(None) => Err(failure(
            state,
            StatusCode::NOT_FOUND,
            "This link's incident is not known to Brigade.",
        )),
        Err(error) => {
            error!(%error, "cannot read the incident of an acknowledge link");
            Err(failure(
                state,
                StatusCode::SERVICE_UNAVAILABLE,
                "Brigade cannot read its store just now; try again in a moment.",
            ))
        }
    }
}

/// The incident in one line; a private incident's title is not shown.
fn about(record: &IncidentRecord) -> Markup {
    let incident = &record.incident;
    html! {
        p.lead {
            strong { (incident.number) } " · " (incident.severity) " · "
            @if incident.private { em { "a private incident" } } @else { (incident.title) }
        }
    }
}

fn failure(state: &WebState, status: StatusCode, text: &str) -> Response {
    let body = html! {
        h1 { (TITLE) }
        div.card.alert role="alert" { p { (text) } }
    };
    respond(state, status, body)
}

fn respond(state: &WebState, status: StatusCode, body: Markup) -> Response {
    let page = document(TITLE, "/ack", Theme::Auto, None, body);
    secure((status, page).into_response(), &state.config.web)
}
