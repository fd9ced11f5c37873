//! What the web pages ask of the Matrix layer, behind a trait so the pages never touch the
//! client (and their handlers are tested with a recording fake).

use std::fmt;

use brigade_core::incident::{Severity, Status};
use matrix_sdk::ruma::{OwnedRoomId, RoomId, UserId};

use crate::filing::{Filed, Report};

/// Why something asked of the Matrix layer could not be done (refusals are not errors).
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// The homeserver refused or could not be reached.
    #[error("the homeserver did not take it: {0}")]
    Matrix(String),
}

/// What the incident panel's buttons do: each is what a command or a reaction does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// 👀 on the summary.
    Acknowledge,
    /// 🚑 on the summary.
    TakeCommand,
    /// `!inc status <to> [note]`
    Status {
        /// The new status.
        to: Status,
        /// What changed.
        note: Option<String>,
    },
    /// `!inc sev <n>`
    Severity(Severity),
    /// `!inc update <text>`
    Update(String),
}

/// What came of an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acted {
    /// Done, saying this.
    Done(String),
    /// Refused, for this reason (exactly when the command would be).
    Refused(String),
}

/// Where reports are filed, people looked up and memberships read: the Matrix layer.
#[async_trait::async_trait]
pub trait Desk: Send + Sync + fmt::Debug {
    /// Which of `rooms` `user_id` is joined to, as the bot reads the rooms' state.
    async fn joined(&self, user_id: &UserId, rooms: &[OwnedRoomId]) -> Vec<OwnedRoomId>;

    /// The display name of `user_id`, if they set one.
    async fn display_name(&self, user_id: &UserId) -> Option<String>;

    /// Carries out `action` in the incident room `room_id` as `user_id`, with the rules of the
    /// command (or reaction) it stands for. `key` names this press of the button: the same key
    /// acts once.
    async fn act(
        &self,
        room_id: &RoomId,
        user_id: &UserId,
        action: &Action,
        key: &str,
    ) -> Result<Acted, DeskError>;

    /// Posts `report` in triage (or private triage) and DMs the reporter. `key` names this
    /// submission: the same key files once, however often it is sent.
    async fn file(&self, report: &Report, key: &str) -> Result<Filed, DeskError>;
}
