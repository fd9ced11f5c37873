//! What the web pages ask of the Matrix layer, behind a trait so the pages never touch the
//! client (and their handlers are tested with a recording fake).

use std::fmt;

use matrix_sdk::ruma::{OwnedRoomId, UserId};

use crate::filing::{Filed, Report};

/// Why a report could not be filed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The homeserver refused or could not be reached.
    #[error("the homeserver did not take the report: {0}")]
    Matrix(String),
}

/// Where reports are filed, people looked up and memberships read: the Matrix layer.
#[async_trait::async_trait]
pub trait Desk: Send + Sync + fmt::Debug {
    /// Which of `rooms` `user_id` is joined to, as the bot reads the rooms' state.
    async fn joined(&self, user_id: &UserId, rooms: &[OwnedRoomId]) -> Vec<OwnedRoomId>;

    /// The display name of `user_id`, if they set one.
    async fn display_name(&self, user_id: &UserId) -> Option<String>;

    /// Posts `report` in triage (or private triage) and DMs the reporter. `key` names this
    /// submission: the same key files once, however often it is sent.
    async fn file(&self, report: &Report, key: &str) -> Result<Filed, FileError>;
}
