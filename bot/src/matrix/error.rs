//! What can go wrong while acting on an event, and the one decision made of it: refused for
//! good (tell people, record the event as settled) or worth another try (leave it unfinished,
//! so it is taken up again). A decision's [`Refusal`] travels as [`ActionError::Refused`], so
//! executors use `?` on decisions and I/O alike and one place turns either into an answer.

use brigade_core::store::StoreError;
use matrix_sdk::ruma::{OwnedRoomAliasId, OwnedRoomId};

use super::rooms::RoomsError;
use crate::{commands::Refusal, keys::KeyError};

/// Why an action could not be finished; unless [`ActionError::refusal`] says it was refused
/// for good, the event stays unfinished and is taken up again.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The homeserver failed or refused.
    #[error("homeserver: {0}")]
    Matrix(#[from] matrix_sdk::Error),
    /// The homeserver failed or refused a plain request.
    #[error("homeserver: {0}")]
    Http(#[from] matrix_sdk::HttpError),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Content could not be serialized.
    #[error("cannot serialize: {0}")]
    Json(#[from] serde_json::Error),
    /// The incident's alias belongs to a room the bot did not make for this incident.
    #[error("the room alias {0} is taken; an administrator can free it")]
    AliasTaken(OwnedRoomAliasId),
    /// The incident's room is not known to the bot's client yet.
    #[error("the room {0} is not known yet")]
    UnknownRoom(OwnedRoomId),
    /// The incident's alias would not be a valid alias (a very long server name).
    #[error("no valid room alias can be made for this incident: {0}")]
    InvalidAlias(String),
    /// A standing room could not be found or made.
    #[error(transparent)]
    Rooms(#[from] RoomsError),
    /// A value could not be kept in the store.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// What was asked for is refused: nothing changed, and asking again changes nothing.
    #[error("{0}")]
    Refused(Refusal),
}

impl From<Refusal> for ActionError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl ActionError {
    /// What to tell people when the homeserver refused for good (a 4xx: trying again would be
    /// refused again). `None` for failures worth another try (network, 5xx, the store).
    pub fn refusal(&self) -> Option<Refusal> {
        let api = match self {
            Self::Matrix(error) => error.as_client_api_error(),
            Self::Http(error) => error.as_client_api_error(),
            Self::Refused(refusal) => return Some(refusal.clone()),
            Self::AliasTaken(_) | Self::InvalidAlias(_) => {
                return Some(Refusal::new(self.to_string()))
            }
            Self::Store(_)
            | Self::Key(_)
            | Self::Json(_)
            | Self::UnknownRoom(_)
            | Self::Rooms(_) => None,
        }?;
        refused_for_good(api).then(|| Refusal::new(format!("the homeserver refused: {api}")))
    }
}

/// Whether the homeserver refused `error`'s request for good.
pub fn for_good(error: &matrix_sdk::Error) -> bool {
    error.as_client_api_error().is_some_and(refused_for_good)
}

/// A 4xx other than "too many requests" or "request timeout", which would be answered the same
/// however often it is asked again.
fn refused_for_good(api: &matrix_sdk::ruma::api::error::Error) -> bool {
    use matrix_sdk::reqwest::StatusCode;
    let status = api.status_code;
    status.is_client_error()
        && status != StatusCode::TOO_MANY_REQUESTS
        && status != StatusCode::REQUEST_TIMEOUT
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::{
        api::error::{Error, ErrorBody},
        owned_room_alias_id, owned_room_id,
    };

    use super::*;

    fn answered(status: u16) -> Error {
        Error::new(
            reqwest::StatusCode::from_u16(status).expect("a status"),
            ErrorBody::Json(serde_json::json!({})),
        )
    }

    #[test]
    fn a_4xx_is_refused_for_good_and_the_rest_is_tried_again() {
        assert!(refused_for_good(&answered(403)));
        assert!(refused_for_good(&answered(400)));
        assert!(!refused_for_good(&answered(429)), "too many requests");
        assert!(!refused_for_good(&answered(408)), "request timeout");
        assert!(!refused_for_good(&answered(502)), "the homeserver fails");
        assert!(ActionError::UnknownRoom(owned_room_id!("!r:example.org"))
            .refusal()
            .is_none());
        let taken = ActionError::AliasTaken(owned_room_alias_id!("#inc:example.org"));
        assert!(taken
            .refusal()
            .is_some_and(|refusal| refusal.text.contains("is taken")));
    }
}
