//! Rooms shared with partner organisations (SPEC §7), apart from `!inc share` itself: which
//! incident a shared room belongs to, what a partner is called, the standing rooms of
//! `[[partners]]`, and invitations that wait for a partner's server without holding anything
//! up.
//!
//! Invitations to users of other servers (partners, and people paged from elsewhere) go
//! through a queue of their own, kept in the store: a server that does not answer delays only
//! its own invitations, which are tried again until they go through, or given up (logged)
//! after a week, once the room's incident is closed, or once the bot has left the room.

use std::time::Duration;

use brigade_core::{incident::Status, record::IncidentRecord};
use matrix_sdk::{
    ruma::{OwnedRoomId, OwnedUserId, RoomAliasId, RoomId, ServerName},
    Room, RoomState,
};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{
    bot::Bot,
    error::{self, ActionError},
    room_state::server_acl,
    rooms,
};
use crate::{
    config::Partner,
    keys::{self, Pending, PendingInvites},
};

/// How long one invitation may wait on a partner's server before it is tried again later.
const INVITE_TIMEOUT: Duration = Duration::from_secs(15);
const RETRY_FIRST: Duration = Duration::from_secs(2);
const RETRY_MAX: Duration = Duration::from_secs(60);
/// How long an invitation is tried before it is given up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The incident `room_id` is the shared partner room of, if it is one.
pub async fn incident_of(
    bot: &Bot,
    room_id: &RoomId,
) -> Result<Option<IncidentRecord>, ActionError> {
    let Some(incident_room) = keys::shared_room(room_id).get(bot.store.as_ref()).await? else {
        return Ok(None);
    };
    Ok(bot.store.incident(&incident_room).await?)
}

/// Records `shared` as the room `incident_room`'s incident shares with partners.
pub async fn remember(
    bot: &Bot,
    shared: &RoomId,
    incident_room: &RoomId,
) -> Result<(), ActionError> {
    keys::shared_room(shared)
        .set(bot.store.as_ref(), &incident_room.to_owned())
        .await?;
    Ok(())
}

/// A `matrix.to` link to a room without an alias.
pub fn link(room_id: &RoomId, via: &ServerName) -> String {
    format!("https://matrix.to/#/{room_id}?via={via}")
}

/// What people call `server`: its `[[partners]]` name, or the server itself.
pub fn partner_name(bot: &Bot, server: &ServerName) -> String {
    bot.config
        .partners
        .iter()
        .find(|partner| partner.server == server)
        .map_or_else(|| server.to_string(), |partner| partner.name.clone())
}

/// Partner invitations still waiting, by room.
pub async fn pending(bot: &Bot) -> Result<PendingInvites, ActionError> {
    Ok(keys::pending_invitations()
        .get(bot.store.as_ref())
        .await?
        .unwrap_or_default())
}

async fn save_pending(bot: &Bot, invites: &PendingInvites) -> Result<(), ActionError> {
    keys::pending_invitations()
        .set(bot.store.as_ref(), invites)
        .await?;
    Ok(())
}

/// Queues invitations of `users` to `room_id` and wakes the inviter. The caller holds the
/// records lock (the worker does).
pub async fn queue_invites(
    bot: &Bot,
    room_id: &RoomId,
    users: &[OwnedUserId],
) -> Result<(), ActionError> {
    if users.is_empty() {
        return Ok(());
    }
    let mut invites = pending(bot).await?;
    let waiting = invites.entry(room_id.to_owned()).or_default();
    for user in users {
        if !waiting.iter().any(|pending| pending.user == *user) {
            waiting.push(Pending {
                user: user.clone(),
                error: None,
                since_millis: Some(bot.clock.now_millis()),
            });
        }
    }
    save_pending(bot, &invites).await?;
    bot.invitations.notify_one();
    Ok(())
}

/// Sets up the standing rooms of `[[partners]]`, then sends queued invitations until
/// `shutdown`, trying again with backoff while any wait.
pub async fn run(bot: &Bot, shutdown: CancellationToken) {
    let mut wait = RETRY_FIRST;
    let mut standing_done = bot.config.partners.is_empty();
    loop {
        if !standing_done {
            match standing(bot).await {
                Ok(()) => standing_done = true,
                Err(error) => warn!(%error, "cannot set up the partners' standing rooms yet"),
            }
        }
        let left = match invite_round(bot).await {
            Ok(left) => left,
            Err(error) => {
                warn!(%error, "cannot send queued invitations yet");
                true
            }
        };
        let pause = if left || !standing_done {
            let pause = wait;
            wait = (wait * 2).min(RETRY_MAX);
            pause
        } else {
            wait = RETRY_FIRST;
            Duration::from_secs(3600)
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = bot.invitations.notified() => wait = RETRY_FIRST,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Tries every queued invitation once; true when some still wait.
async fn invite_round(bot: &Bot) -> Result<bool, ActionError> {
    let invites = pending(bot).await?;
    let mut done: Vec<(OwnedRoomId, OwnedUserId)> = Vec::new();
    let mut failed: Vec<(OwnedRoomId, OwnedUserId, String)> = Vec::new();
    let now = bot.clock.now_millis();
    for (room_id, waiting) in &invites {
        let Some(room) = bot.client.get_room(room_id) else {
            continue;
        };
        if let Some(reason) = no_longer_wanted(bot, &room).await? {
            for pending in waiting {
                warn!(%room_id, user = %pending.user, reason, "queued invitation given up");
                done.push((room_id.clone(), pending.user.clone()));
            }
            continue;
        }
        for pending in waiting {
            let user = &pending.user;
            if waited_too_long(pending, now) {
                warn!(%room_id, %user, error = pending.error.as_deref(), "queued invitation given up after a week of tries");
                done.push((room_id.clone(), user.clone()));
                continue;
            }
            match tokio::time::timeout(INVITE_TIMEOUT, room.invite_user_by_id(user)).await {
                Ok(Ok(())) => {
                    info!(%room_id, %user, "invited from the queue");
                    done.push((room_id.clone(), user.clone()));
                }
                Ok(Err(refused)) if error::for_good(&refused) => {
                    // Already in the room, or refused for good: nothing to wait for.
                    warn!(%room_id, %user, error = %refused, "queued invitation refused; not tried again");
                    done.push((room_id.clone(), user.clone()));
                }
                Ok(Err(error)) => failed.push((room_id.clone(), user.clone(), error.to_string())),
                Err(_) => failed.push((
                    room_id.clone(),
                    user.clone(),
                    format!(
                        "{} did not answer within {} s",
                        user.server_name(),
                        INVITE_TIMEOUT.as_secs()
                    ),
                )),
            }
        }
    }
    if done.is_empty() && failed.is_empty() {
        return Ok(false);
    }
    // Written back under the records lock: a share may have queued more meanwhile.
    let _records = bot.records.lock().await;
    let mut invites = pending(bot).await?;
    for (room_id, user) in done {
        if let Some(waiting) = invites.get_mut(&room_id) {
            waiting.retain(|pending| pending.user != user);
        }
    }
    for (room_id, user, error) in failed {
        if let Some(pending) = invites
            .get_mut(&room_id)
            .and_then(|waiting| waiting.iter_mut().find(|pending| pending.user == user))
        {
            pending.error = Some(error);
        }
    }
    invites.retain(|_, waiting| !waiting.is_empty());
    let left = !invites.is_empty();
    save_pending(bot, &invites).await?;
    Ok(left)
}

/// Whether `pending` was queued more than [`GIVE_UP_AFTER`] before `now` (one queued before
/// invitations were dated waits on).
fn waited_too_long(pending: &Pending, now: u64) -> bool {
    pending
        .since_millis
        .is_some_and(|since| now.saturating_sub(since) > brigade_core::clock::millis(GIVE_UP_AFTER))
}

/// Why invitations to `room` are no longer wanted, if they are not: the bot left it, or its
/// incident (the room's own, or the one it is shared for) is closed.
async fn no_longer_wanted(bot: &Bot, room: &Room) -> Result<Option<&'static str>, ActionError> {
    if room.state() == RoomState::Left {
        return Ok(Some("Brigade is no longer in the room"));
    }
    let room_id = room.room_id();
    let incident = match bot.store.incident(room_id).await? {
        Some(record) => Some(record),
        None => incident_of(bot, room_id).await?,
    };
    let closed = incident.is_some_and(|record| record.incident.status == Status::Closed);
    Ok(closed.then_some("its incident is closed"))
}

/// Finds or creates each `[[partners]]` standing room and queues its contacts' invitations.
async fn standing(bot: &Bot) -> Result<(), ActionError> {
    for partner in &bot.config.partners {
        let room = standing_room(bot, partner).await?;
        let _records = bot.records.lock().await;
        queue_new_contacts(bot, &room, partner).await?;
    }
    Ok(())
}

async fn standing_room(bot: &Bot, partner: &Partner) -> Result<Room, ActionError> {
    let own = bot.config.matrix.user_id.server_name();
    let alias = RoomAliasId::parse(format!("#{}:{own}", partner.alias))
        .map_err(|error| ActionError::InvalidAlias(error.to_string()))?;
    let name = format!("🤝 {}", partner.name);
    let topic = format!(
        "Standing room shared with {} ({}); only what is said here is shared",
        partner.name, partner.server
    );
    let acl = server_acl(
        own,
        std::slice::from_ref(&partner.server),
        bot.config.access.allow_ip_literals,
    );
    Ok(rooms::ensure_standing(&bot.client, &alias, &name, &topic, &acl).await?)
}

/// Queues the invitations of contacts the room has not had yet (a restart does not invite
/// anyone twice, and someone who left is not pulled back).
async fn queue_new_contacts(bot: &Bot, room: &Room, partner: &Partner) -> Result<(), ActionError> {
    let key = keys::partner_invited(room.room_id());
    let mut invited: Vec<OwnedUserId> = key.get(bot.store.as_ref()).await?.unwrap_or_default();
    let new: Vec<OwnedUserId> = partner
        .contacts
        .iter()
        .filter(|contact| !invited.contains(contact))
        .cloned()
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    queue_invites(bot, room.room_id(), &new).await?;
    invited.extend(new);
    key.set(bot.store.as_ref(), &invited).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::owned_user_id;

    use super::*;

    #[test]
    fn an_invitation_is_given_up_after_a_week_of_tries() {
        let queued = |since_millis| Pending {
            user: owned_user_id!("@ops:partner.example"),
            error: Some("partner.example did not answer within 15 s".to_owned()),
            since_millis,
        };
        let week = brigade_core::clock::millis(GIVE_UP_AFTER);
        let now = 10 * week;
        assert!(!waited_too_long(&queued(Some(now - week)), now));
        assert!(waited_too_long(&queued(Some(now - week - 1)), now));
        assert!(!waited_too_long(&queued(Some(now + 5)), now), "dated ahead");
        assert!(!waited_too_long(&queued(None), now), "undated");
    }
}
