//! What the web pages ask of the Matrix layer, behind a trait so the pages never touch the
//! client (and their handlers are tested with a recording fake).

use std::{fmt, sync::Arc};

use base64::Engine;
use brigade_core::incident::{Severity, Status};
use matrix_sdk::ruma::{EventId, OwnedRoomId, RoomId, UserId};

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

/// A person's picture for the pages: a small thumbnail of their Matrix avatar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avatar {
    /// Its type, as its first bytes say.
    pub mime: &'static str,
    /// The image.
    pub bytes: Vec<u8>,
}

impl Avatar {
    /// The most of a thumbnail the pages carry (a 64 px thumbnail takes a few KiB).
    pub const MAX_BYTES: usize = 16 * 1024;

    /// `bytes` as an avatar if they are a PNG, JPEG, GIF or WebP image of at most
    /// [`Self::MAX_BYTES`]: whatever else a server sends is not shown.
    pub fn recognise(bytes: Vec<u8>) -> Option<Self> {
        let mime = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            "image/gif"
        } else if bytes.len() > 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            "image/webp"
        } else {
            return None;
        };
        (bytes.len() <= Self::MAX_BYTES).then_some(Self { mime, bytes })
    }

    /// A `data:` URL of it: the page carries the picture, so showing it is no request of its
    /// own (which, in Element's frame, would not carry the session).
    pub fn data_url(&self) -> String {
        format!(
            "data:{};base64,{}",
            self.mime,
            base64::engine::general_purpose::STANDARD.encode(&self.bytes)
        )
    }
}

/// Where reports are filed, people looked up and memberships read: the Matrix layer.
#[async_trait::async_trait]
pub trait Desk: Send + Sync + fmt::Debug {
    /// Which of `rooms` `user_id` is joined to, as the bot reads the rooms' state.
    async fn joined(&self, user_id: &UserId, rooms: &[OwnedRoomId]) -> Vec<OwnedRoomId>;

    /// The display name of `user_id`, if they set one.
    async fn display_name(&self, user_id: &UserId) -> Option<String>;

    /// A thumbnail of `user_id`'s avatar, if they set one and it is an image.
    async fn avatar(&self, user_id: &UserId) -> Option<Arc<Avatar>>;

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

    /// Acknowledges the page `page` in `room_id` as `user_id`, as 👀 on it would: they followed
    /// an acknowledge link the bot sent them (and may only be invited to the room). `key` names
    /// the link: it acts once.
    async fn acknowledge_by_link(
        &self,
        (room_id, page): (&RoomId, &EventId),
        user_id: &UserId,
        key: &str,
    ) -> Result<Acted, DeskError>;

    /// Posts `report` in triage (or private triage) and DMs the reporter. `key` names this
    /// submission: the same key files once, however often it is sent.
    async fn file(&self, report: &Report, key: &str) -> Result<Filed, DeskError>;
}
