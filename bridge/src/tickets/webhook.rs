//! `POST /tickets/<tracker>`: a tracker's signed webhook saying a ticket was closed or
//! reopened. The follow-up's record changes (unless the delivery is older than what it holds),
//! durably, before the tracker is answered; the room is told by the tickets' worker. A ticket
//! whose making the bridge has not recorded yet (its answer lost) is found by its marker, and
//! recorded from the delivery.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde_json::json;
use tracing::{info, warn};

use super::github;
use crate::{bridge::Bridge, config::TrackerKind, refusal::refusal, store::tickets::Ticket};

/// The trackers' webhooks.
pub fn routes() -> Router<Arc<Bridge>> {
    Router::new().route("/tickets/{name}", post(receive))
}

async fn receive(
    State(bridge): State<Arc<Bridge>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(tracker) = bridge.config.tickets.tracker(&name) else {
        return refusal(StatusCode::NOT_FOUND, format!("no tracker named `{name}`"));
    };
    let Some(secret) = &tracker.webhook_secret else {
        return refusal(
            StatusCode::NOT_FOUND,
            format!("tracker `{name}` takes no webhooks: set its `webhook_secret`"),
        );
    };
    let limit = bridge.config.webhooks.max_body_bytes;
    let Ok(body) = axum::body::to_bytes(body, limit).await else {
        return refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is over webhooks.max_body_bytes ({limit} bytes), or was cut off"),
        );
    };
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let read = match tracker.kind {
        TrackerKind::Github => github::webhook(
            tracker,
            secret.expose(),
            (header("x-github-event"), header("x-hub-signature-256")),
            &body,
        ),
    };
    let change = match read {
        Ok(Some(change)) => change,
        Ok(None) => return answer(StatusCode::OK, "nothing for the bridge"),
        Err(github::Unread::Unsigned(why)) => {
            warn!(tracker = %name, %why, "a tracker's webhook refused");
            return refusal(StatusCode::UNAUTHORIZED, why);
        }
        Err(github::Unread::Malformed(why)) => return refusal(StatusCode::BAD_REQUEST, why),
    };
    // By its key, or, when its making is not recorded yet, by its marker.
    let found = match bridge.store.ticket_by_key(&name, &change.key) {
        Ok(None) => match &change.marked {
            Some(event) => bridge.store.ticket(event),
            None => Ok(None),
        },
        found => found,
    };
    let record = match found {
        Ok(Some(record)) if record.tracker == name => record,
        Ok(_) => return answer(StatusCode::OK, "not a follow-up's ticket"),
        Err(error) => return refusal(StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
    };
    let web =
        url::Url::parse(&change.url).is_ok_and(|url| matches!(url.scheme(), "https" | "http"));
    let mut changed = false;
    let updated = bridge
        .store
        .update_ticket(&record.followup_event, |record| {
            if record.ticket.is_none() && web {
                record.ticket = Some(Ticket {
                    key: change.key.clone(),
                    id: change.id.clone(),
                    url: change.url.clone(),
                    closed: change.closed,
                    by_name: change.by_name.clone(),
                    changed_at: change.at.clone(),
                });
                record.refused = None;
                changed = true;
                return;
            }
            let Some(ticket) = record.ticket.as_mut() else {
                return;
            };
            // RFC 3339 times in UTC, as trackers write them, compare as text.
            let older =
                matches!((&ticket.changed_at, &change.at), (Some(held), Some(at)) if at < held);
            if older {
                return;
            }
            if change.at.is_some() {
                ticket.changed_at.clone_from(&change.at);
            }
            if ticket.closed != change.closed {
                ticket.closed = change.closed;
                ticket.by_name.clone_from(&change.by_name);
                changed = true;
            }
        })
        .await;
    if let Err(error) = updated {
        return refusal(StatusCode::SERVICE_UNAVAILABLE, error.to_string());
    }
    if !changed {
        return answer(StatusCode::OK, "nothing changes");
    }
    info!(tracker = %name, key = %change.key, closed = change.closed, "a ticket changed in its tracker");
    bridge.tickets.notify_one();
    answer(StatusCode::ACCEPTED, "taken")
}

fn answer(status: StatusCode, what: &str) -> Response {
    (status, Json(json!({ "status": what }))).into_response()
}
