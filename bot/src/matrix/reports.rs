//! The Matrix side of the web pages ([`Desk`]): memberships, names and avatars for the pages,
//! the panel's buttons (in `panel`), and reports from the form (SPEC §10), carried into Matrix: the report in triage (or, for a
//! private type, in the private triage room) and a receipt in the reporter's DM with the bot.
//!
//! Both messages carry transaction IDs derived from the reporter and the form's key, so a
//! form sent twice (a double click, a reload, a retry after a timeout) is posted once.

use std::sync::Arc;

use async_trait::async_trait;
use matrix_sdk::{
    ruma::{
        events::{
            room::{member::MembershipState, message::RoomMessageEventContent},
            Mentions,
        },
        EventId, OwnedRoomId, RoomId, UserId,
    },
    Room,
};
use tracing::{info, warn};

use super::{bot::Bot, lookup, panel::failed, profiles::Profiles, reply::transaction_id};
use crate::{
    desk::{Acted, Action, Avatar, Desk, DeskError},
    filing::{Filed, Report, REPORT_KEY},
    keys::{self, FiledReport},
    names::Names,
};

/// The Matrix side of the web pages.
#[derive(Debug)]
pub struct MatrixDesk {
    bot: Arc<Bot>,
    /// Display names and avatars, as the pages show them.
    profiles: Profiles,
    /// Held while a DM is found or made, so two reports at once open one DM.
    dms: tokio::sync::Mutex<()>,
}

impl MatrixDesk {
    /// The desk of `bot`.
    pub fn new(bot: Arc<Bot>) -> Self {
        Self {
            bot,
            profiles: Profiles::default(),
            dms: tokio::sync::Mutex::default(),
        }
    }

    fn joined(&self, room_id: &RoomId) -> Result<Room, DeskError> {
        self.bot
            .client
            .get_room(room_id)
            .ok_or_else(|| DeskError::Matrix(format!("the bot is not in {room_id}")))
    }

    /// The bot's DM with `user_id`: the one it recorded, one the homeserver marks as direct,
    /// or a new one (encrypted, `user_id` invited).
    async fn dm(&self, user_id: &UserId) -> Result<Room, DeskError> {
        let _finding = self.dms.lock().await;
        let key = keys::dm(user_id);
        let recorded = key
            .get(self.bot.store.as_ref())
            .await
            .ok()
            .flatten()
            .and_then(|room_id| self.bot.client.get_room(&room_id))
            .filter(|room| room.state() == matrix_sdk::RoomState::Joined);
        let room = match recorded.or_else(|| self.bot.client.get_dm_room(user_id)) {
            Some(room) => room,
            None => {
                let room = self.bot.client.create_dm(user_id).await.map_err(failed)?;
                info!(%user_id, room_id = %room.room_id(), "opened a DM for a report's receipt");
                room
            }
        };
        if let Err(error) = key
            .set(self.bot.store.as_ref(), &room.room_id().to_owned())
            .await
        {
            warn!(%error, "cannot record a DM room");
        }
        Ok(room)
    }
}

#[async_trait]
impl Desk for MatrixDesk {
    async fn joined(&self, user_id: &UserId, rooms: &[OwnedRoomId]) -> Vec<OwnedRoomId> {
        let mut joined = Vec::new();
        for room_id in rooms {
            let Some(room) = self.bot.client.get_room(room_id) else {
                continue;
            };
            match lookup::is_joined(&room, user_id).await {
                Ok(true) => joined.push(room_id.clone()),
                Ok(false) => {}
                Err(error) => warn!(%room_id, %error, "cannot read a membership for a page"),
            }
        }
        joined
    }

    async fn act(
        &self,
        room_id: &RoomId,
        user_id: &UserId,
        action: &Action,
        key: &str,
    ) -> Result<Acted, DeskError> {
        let press = (key, super::panel::Origin::Panel);
        super::panel::act(&self.bot, room_id, user_id, action, press).await
    }

    async fn acknowledge_by_link(
        &self,
        (room_id, page): (&RoomId, &EventId),
        user_id: &UserId,
        key: &str,
    ) -> Result<Acted, DeskError> {
        let press = (key, super::panel::Origin::Link(page));
        super::panel::act(&self.bot, room_id, user_id, &Action::Acknowledge, press).await
    }

    async fn display_name(&self, user_id: &UserId) -> Option<String> {
        self.profiles.display_name(&self.bot, user_id).await
    }

    async fn avatar(&self, user_id: &UserId) -> Option<Arc<Avatar>> {
        self.profiles.avatar(&self.bot, user_id).await
    }

    async fn file(&self, report: &Report, key: &str) -> Result<Filed, DeskError> {
        let private = report.private(&self.bot.config.incidents);
        let rooms = &self.bot.rooms;
        let room = self.joined(if private {
            &rooms.private_triage
        } else {
            &rooms.triage
        })?;
        // Tidied as every name Brigade shows (no control or direction characters).
        let mut names = Names::new();
        if let Some(name) = self.display_name(&report.reporter).await {
            names.insert(report.reporter.clone(), &name, false);
        }
        let (plain, html) = report.triage_message(&names.name(&report.reporter));
        let mut content = serde_json::to_value(
            RoomMessageEventContent::text_html(plain, html).add_mentions(Mentions::new()),
        )
        .map_err(failed)?;
        content[REPORT_KEY] = serde_json::to_value(report).map_err(failed)?;
        let source = format!("{}\u{0}{key}", report.reporter);
        let sent = room
            .send_raw("m.room.message", content)
            .with_transaction_id(&transaction_id(&source, "report"))
            .await
            .map_err(failed)?;
        // Recorded before anything says it was filed: only recorded reports are declared. A
        // form sent again is the same event: what became of it is kept.
        let recorded = keys::report(&sent.response.event_id);
        let store = self.bot.store.as_ref();
        if recorded.get(store).await.map_err(failed)?.is_none() {
            let filed = FiledReport {
                report: report.clone(),
                declaring: None,
                incident: None,
            };
            recorded.set(store, &filed).await.map_err(failed)?;
        }
        let via = self.bot.config.matrix.user_id.server_name();
        let filed = Filed {
            room_id: room.room_id().to_owned(),
            link: format!(
                "https://matrix.to/#/{}/{}?via={via}",
                room.room_id(),
                sent.response.event_id
            ),
            event_id: sent.response.event_id,
            private,
        };
        // The report is filed; a receipt that cannot be sent is logged, not a failure.
        let receipt = async {
            let dm = self.dm(&report.reporter).await?;
            let (plain, html) = report.receipt(&filed);
            dm.send(RoomMessageEventContent::notice_html(plain, html).add_mentions(Mentions::new()))
                .with_transaction_id(transaction_id(&source, "report-receipt"))
                .await
                .map_err(failed)
        };
        if let Err(error) = receipt.await {
            warn!(user_id = %report.reporter, %error, "a report's receipt could not be sent");
        }
        Ok(filed)
    }
}

/// Invites the `rooms.private_triage_group` to the private triage room: whoever of it is
/// neither joined nor invited yet (a member added to the group since the last start).
pub async fn invite_private_triagers(bot: &Bot) {
    let Some(group) = bot
        .config
        .rooms
        .private_triage_group
        .as_deref()
        .and_then(|name| bot.config.group(name))
    else {
        warn!("rooms.private_triage_group is not set: reports of private types reach nobody until someone is invited to the private triage room");
        return;
    };
    let Some(room) = bot.client.get_room(&bot.rooms.private_triage) else {
        return;
    };
    for user_id in &group.members {
        let present = match room.get_member_no_sync(user_id).await {
            Ok(Some(member)) => matches!(
                member.membership(),
                MembershipState::Join | MembershipState::Invite
            ),
            Ok(None) => false,
            Err(error) => {
                warn!(%user_id, %error, "cannot read a private triager's membership");
                continue;
            }
        };
        if present {
            continue;
        }
        match room.invite_user_by_id(user_id).await {
            Ok(()) => info!(%user_id, "invited to the private triage room"),
            Err(error) => warn!(%user_id, %error, "cannot invite to the private triage room"),
        }
    }
}
