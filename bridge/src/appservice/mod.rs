//! The application service API the homeserver calls (`/_matrix/app/v1/…`), each request
//! authenticated by the homeserver's `hs_token` (compared in constant time): transactions, user
//! and alias queries, and the ping.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post, put},
    Json, Router,
};
use ruma::api::IncomingRequest;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::{
    alert::Source, bridge::Bridge, outbox::virtual_user, refusal::refusal, silence, tickets,
};

/// The largest transaction taken: Synapse sends up to 100 events of up to 64 KiB and 100
/// ephemeral ones, and retries a refused transaction for ever.
pub const MAX_TRANSACTION_BYTES: usize = 16 * 1024 * 1024;

/// The application service's endpoints.
pub fn routes() -> Router<Arc<Bridge>> {
    Router::new()
        .route("/_matrix/app/v1/transactions/{txn_id}", put(transaction))
        .route("/_matrix/app/v1/users/{user_id}", get(user_query))
        .route("/_matrix/app/v1/rooms/{alias}", get(alias_query))
        .route("/_matrix/app/v1/ping", post(ping))
}

/// The refusal of a request that does not carry the homeserver's `hs_token`.
fn not_from_homeserver(bridge: &Bridge, headers: &HeaderMap) -> Option<Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match token {
        None => Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({ "errcode": "M_UNAUTHORIZED", "error": "no hs_token" })),
            )
                .into_response(),
        ),
        Some(token)
            if bool::from(
                token
                    .as_bytes()
                    .ct_eq(bridge.config.appservice.hs_token.expose().as_bytes()),
            ) =>
        {
            None
        }
        Some(_) => Some(
            (
                StatusCode::FORBIDDEN,
                Json(json!({ "errcode": "M_FORBIDDEN", "error": "wrong hs_token" })),
            )
                .into_response(),
        ),
    }
}

/// `PUT /_matrix/app/v1/transactions/{txnId}`: read, acted on, acknowledged. The bridge acts on
/// silence commands in its routes' rooms (`crate::silence`), on the bot's follow-ups and its
/// invitations to incident rooms (`crate::tickets`), and on invitations of its virtual users:
/// a route whose room refused it is tried again at once.
/// Events are acted on once by event ID (Synapse retries a transaction, and restarts its IDs
/// at 1), so a replayed transaction is answered the same and changes nothing.
async fn transaction(
    State(bridge): State<Arc<Bridge>>,
    Path(txn_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = not_from_homeserver(&bridge, &headers) {
        return refusal;
    }
    let Transaction {
        invitations,
        messages,
        followups,
    } = match read(&txn_id, body.to_vec()) {
        Ok(transaction) => transaction,
        Err(error) => return refusal(StatusCode::BAD_REQUEST, error),
    };
    for message in &messages {
        // Not acknowledged: the homeserver sends it again, and it is finished then.
        if let Err(error) = silence::handle(&bridge, message).await {
            tracing::warn!(%error, event_id = %message.event_id, "a silence command is not finished");
            return refusal(StatusCode::SERVICE_UNAVAILABLE, error.to_string());
        }
    }
    for followup in followups {
        // Not acknowledged: the homeserver sends it again, and it is kept then.
        if let Err(error) = tickets::take(&bridge, followup).await {
            return refusal(StatusCode::INTERNAL_SERVER_ERROR, error.to_string());
        }
    }
    for Invitation {
        event_id,
        invited,
        inviter,
        room_id,
    } in invitations
    {
        if tickets::invited_by_the_bot(&bridge, (&invited, &inviter)) {
            // Not acknowledged: the homeserver sends it again, and it is joined then.
            if let Err(error) = tickets::join(&bridge, &room_id).await {
                return refusal(StatusCode::SERVICE_UNAVAILABLE, error.to_string());
            }
            continue;
        }
        let ours = Source::ALL.iter().any(|source| {
            virtual_user(&bridge, *source).is_ok_and(|user| user.as_str() == invited)
        });
        if !ours {
            continue;
        }
        match bridge
            .store
            .first_time(&event_id, bridge.clock.now_millis())
            .await
        {
            Ok(false) => {}
            Ok(true) => {
                tracing::info!(%invited, "a virtual user is invited: held routes are tried again");
                bridge
                    .retry_held
                    .store(true, std::sync::atomic::Ordering::Release);
                bridge.outbox.notify_one();
            }
            // Not acknowledged: the homeserver sends it again.
            Err(error) => return refusal(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
        }
    }
    (StatusCode::OK, Json(json!({}))).into_response()
}

/// What the bridge acts on in a transaction.
#[derive(Debug, Default)]
pub struct Transaction {
    /// The invitations, in order.
    pub invitations: Vec<Invitation>,
    /// The text messages that may be commands of the bridge's, in order.
    pub messages: Vec<silence::Message>,
    /// The follow-ups whose tickets are asked for, in order.
    pub followups: Vec<tickets::FollowupEvent>,
}

/// Someone invited to a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// The invite's event ID.
    pub event_id: String,
    /// Who is invited.
    pub invited: String,
    /// Who invited them.
    pub inviter: String,
    /// The room.
    pub room_id: String,
}

/// What the body of transaction `txn_id` holds for the bridge, or why it is not an appservice
/// transaction.
pub fn read(txn_id: &str, body: Vec<u8>) -> Result<Transaction, String> {
    let request = http::Request::builder()
        .method(http::Method::PUT)
        .uri(format!("/_matrix/app/v1/transactions/{txn_id}"))
        .body(body)
        .map_err(|_| "unreadable request".to_owned())?;
    let transaction =
        ruma::api::appservice::event::push_events::v1::Request::try_from_http_request(
            request,
            &[txn_id],
        )
        .map_err(|error| format!("not an appservice transaction: {error}"))?;
    tracing::debug!(%txn_id, events = transaction.events.len(), "transaction from the homeserver");
    Ok(Transaction {
        invitations: transaction.events.iter().filter_map(invitation).collect(),
        messages: transaction.events.iter().filter_map(command).collect(),
        followups: transaction
            .events
            .iter()
            .filter_map(|event| tickets::followup(&event.deserialize_as().ok()?))
            .collect(),
    })
}

/// A text message that may be one of the bridge's commands (`!inc silence`, `!inc unsilence`).
fn command(event: &ruma::serde::Raw<ruma::events::AnyTimelineEvent>) -> Option<silence::Message> {
    let event: serde_json::Value = event.deserialize_as().ok()?;
    let content = &event["content"];
    if event["type"] != "m.room.message" || content["msgtype"] != "m.text" {
        return None;
    }
    // An edit does not run a command again.
    if content["m.relates_to"]["rel_type"] == "m.replace" {
        return None;
    }
    let body = content["body"].as_str()?;
    silence::parse(body).map(drop)?;
    Some(silence::Message {
        event_id: event["event_id"].as_str()?.to_owned(),
        room_id: ruma::OwnedRoomId::try_from(event["room_id"].as_str()?).ok()?,
        sender: ruma::OwnedUserId::try_from(event["sender"].as_str()?).ok()?,
        body: body.to_owned(),
    })
}

/// The invitation `event` is, if it is one.
fn invitation(event: &ruma::serde::Raw<ruma::events::AnyTimelineEvent>) -> Option<Invitation> {
    let event: serde_json::Value = event.deserialize_as().ok()?;
    if event["type"] != "m.room.member" || event["content"]["membership"] != "invite" {
        return None;
    }
    let text = |key: &str| event[key].as_str().map(str::to_owned);
    Some(Invitation {
        event_id: text("event_id")?,
        invited: text("state_key")?,
        inviter: text("sender")?,
        room_id: text("room_id")?,
    })
}

/// `GET /_matrix/app/v1/users/{userId}`: the virtual users of configured sources exist.
async fn user_query(
    State(bridge): State<Arc<Bridge>>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = not_from_homeserver(&bridge, &headers) {
        return refusal;
    }
    let known =
        bridge.config.hooks.iter().any(|hook| {
            virtual_user(&bridge, hook.source).is_ok_and(|user| user.as_str() == user_id)
        });
    if known {
        (StatusCode::OK, Json(json!({}))).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({ "errcode": "M_NOT_FOUND", "error": "no such alert source" })),
        )
            .into_response()
    }
}

/// `GET /_matrix/app/v1/rooms/{alias}`: the bridge makes its rooms itself, on demand of none.
async fn alias_query(State(bridge): State<Arc<Bridge>>, headers: HeaderMap) -> Response {
    if let Some(refusal) = not_from_homeserver(&bridge, &headers) {
        return refusal;
    }
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "errcode": "M_NOT_FOUND", "error": "the bridge creates no rooms on demand" })),
    )
        .into_response()
}

/// `POST /_matrix/app/v1/ping`: the homeserver checking it reaches the bridge.
async fn ping(State(bridge): State<Arc<Bridge>>, headers: HeaderMap) -> Response {
    if let Some(refusal) = not_from_homeserver(&bridge, &headers) {
        return refusal;
    }
    (StatusCode::OK, Json(json!({}))).into_response()
}
