//! What the tickets' parts pass each other: a ticket to make, a tracker's change, a tracker's
//! failure, a follow-up read from the homeserver.

use brigade_core::events::FollowupContent;
use ruma::{OwnedRoomId, OwnedUserId};

/// A ticket to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    /// Its title.
    pub title: String,
    /// Its body (Markdown), ending with the follow-up's marker.
    pub body: String,
    /// The tracker's account of the follow-up's owner, when configured.
    pub assignee: Option<String>,
}

/// A ticket closed or reopened, as a tracker's webhook says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerChange {
    /// The ticket's key.
    pub key: String,
    /// Closed, or open again.
    pub closed: bool,
    /// Who did it, as the tracker names them.
    pub by_name: Option<String>,
    /// When, by the tracker (RFC 3339).
    pub at: Option<String>,
    /// The ticket's ID in the tracker's API.
    pub id: String,
    /// The ticket's page.
    pub url: String,
    /// The follow-up event its marker names, if its body still has the marker: a ticket
    /// whose making the bridge has not recorded yet is found by it.
    pub marked: Option<String>,
}

/// Why a tracker did not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackerError {
    /// For good: a bad token, a repository that is not there, a request it will not take.
    #[error("{0}")]
    Refused(String),
    /// For now: unreachable, failing, rate limited.
    #[error("{0}")]
    Unavailable(String),
}

/// A follow-up event read from the homeserver.
#[derive(Debug, Clone)]
pub struct FollowupEvent {
    /// Its ID.
    pub event_id: String,
    /// Its room.
    pub room_id: OwnedRoomId,
    /// Who sent it.
    pub sender: OwnedUserId,
    /// What it says.
    pub content: FollowupContent,
}
