//! Who joins an incident room's Element Call (SPEC §16): each person's first call membership
//! (`org.matrix.msc3401.call.member`) since the last call was put in the room (or since the
//! incident began, for a call started in Element) is a timeline entry.

use matrix_sdk::{
    ruma::{events::AnySyncTimelineEvent, serde::Raw, EventId, UserId},
    Room,
};
use serde_json::Value;
use tracing::info;

use super::{bot::Bot, change::Change, error::ActionError};

pub use brigade_core::events::CALL_MEMBER;

/// Acts on a call membership `raw`, sent by `sender` at `sent` in `room`.
pub async fn membership(
    bot: &Bot,
    room: &Room,
    raw: &Raw<AnySyncTimelineEvent>,
    (cause, sender, sent): (&EventId, &UserId, u64),
) -> Result<(), ActionError> {
    let content = raw
        .get_field::<Value>("content")
        .ok()
        .flatten()
        .unwrap_or_default();
    if !joins(&content) {
        return Ok(());
    }
    let Some(record) = bot.store.incident(room.room_id()).await? else {
        return Ok(());
    };
    let mut next = record.clone();
    if !next.incident.call_joined(sent, sender) {
        return Ok(());
    }
    let change = Change {
        bot,
        room,
        cause,
        sender,
        sent,
        about: None,
    };
    change.commit(next, None).await?;
    bot.publisher.publish(room.room_id());
    info!(incident = %record.incident.number, %sender, "joined the call");
    Ok(())
}

/// Whether a membership's content says its sender is in the call: one session (MSC4143's
/// form, what Element Call sends) or a list of them (MSC3401's first form). Leaving empties it.
fn joins(content: &Value) -> bool {
    match content.get("memberships") {
        Some(memberships) => memberships.as_array().is_some_and(|list| !list.is_empty()),
        None => content
            .as_object()
            .is_some_and(|session| session.contains_key("application")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_session_or_a_list_of_them_joins_and_an_empty_membership_leaves() {
        assert!(joins(&json!({
            "application": "m.call",
            "call_id": "",
            "scope": "m.room",
            "device_id": "ABCDEF",
            "focus_active": { "type": "livekit", "focus_selection": "oldest_membership" },
            "foci_preferred": [],
        })));
        assert!(joins(
            &json!({ "memberships": [{ "application": "m.call", "call_id": "" }] })
        ));
        assert!(!joins(&json!({})));
        assert!(!joins(&json!({ "memberships": [] })));
        assert!(!joins(&json!({ "device_id": "ABCDEF" })));
    }
}
