//! Shared rooms with partner organisations (SPEC §7): `!inc share`, the standing rooms of
//! `[[partners]]`, and invitations that wait for a partner's server without holding anything
//! up.
//!
//! A shared room is federated, invitation only, and fenced by a server ACL that admits this
//! server and the named partners' alone. Partners sit at level 0, which they cannot raise.
//! Nothing flows between the incident room and the shared room unless someone forwards it
//! (📤). Invitations to partner users go through a queue of their own, kept in the store: a
//! partner's server that does not answer delays only its own invitations, which are tried
//! again until they go through.

use std::{collections::BTreeMap, time::Duration};

use brigade_core::incident::{IncidentError, IncidentRecord};
use matrix_sdk::{
    ruma::{
        api::client::room::create_room::v3::{Request as CreateRoomRequest, RoomPreset},
        serde::Raw,
        OwnedRoomId, OwnedServerName, OwnedUserId, RoomAliasId, RoomId, ServerName, UserId,
    },
    Room,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{
    incident::{
        level_users, raw_events, state, ActionError, Change, BOT_LEVEL, COMMANDER_LEVEL, ROLE_LEVEL,
    },
    reply::refused_for_good,
    rooms, Bot,
};
use crate::{commands::ShareArgs, config::Partner, render};

/// Invitations not yet accepted by the partner's server, by room.
const PENDING_KEY: &str = "shared.pending";
/// How long one invitation may wait on a partner's server before it is tried again later.
const INVITE_TIMEOUT: Duration = Duration::from_secs(15);
const RETRY_FIRST: Duration = Duration::from_secs(2);
const RETRY_MAX: Duration = Duration::from_secs(60);

fn shared_key(room_id: &RoomId) -> String {
    format!("shared.room.{room_id}")
}

/// The incident `room_id` is the shared partner room of, if it is one.
pub async fn incident_of(
    bot: &Bot,
    room_id: &RoomId,
) -> Result<Option<IncidentRecord>, ActionError> {
    let Some(bytes) = bot.store.meta(&shared_key(room_id)).await? else {
        return Ok(None);
    };
    let Ok(incident_room) = RoomId::parse(String::from_utf8_lossy(&bytes).as_ref()) else {
        return Ok(None);
    };
    Ok(bot.store.incident(&incident_room).await?)
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

/// `🤝 INC-N · Acme, Globex · Title`.
fn room_name(bot: &Bot, record: &IncidentRecord) -> String {
    let incident = &record.incident;
    let partners: Vec<String> = incident
        .shared
        .iter()
        .flat_map(|shared| &shared.servers)
        .map(|server| partner_name(bot, server))
        .collect();
    format!(
        "🤝 {} · {} · {}",
        incident.number,
        partners.join(", "),
        incident.title
    )
}

/// `!inc share [<server> [@user…]]`, changing `next` (stored by the caller). Returns the answer,
/// or why nothing changed.
pub async fn command(
    change: &Change<'_>,
    next: &mut IncidentRecord,
    args: ShareArgs,
) -> Result<Result<String, String>, ActionError> {
    let bot = change.bot;
    let Some(server) = args.server else {
        return Ok(Ok(status(bot, next).await?));
    };
    if next.incident.private {
        return Ok(Err(IncidentError::PrivateNotShared.to_string()));
    }
    let own = bot.config.matrix.user_id.server_name();
    if server == own || bot.config.access.allowed_servers.contains(&server) {
        return Ok(Err(format!(
            "{server} is one of ours: its people join the incident room itself (`!inc page`); share with a partner organisation's server"
        )));
    }
    let room = match &next.incident.shared {
        Some(shared) => known(bot, &shared.room_id)?,
        None => create_room(change, next, &server).await?,
    };
    let added = match next.incident.share(
        room.room_id().to_owned(),
        server.clone(),
        change.sent,
        change.sender,
    ) {
        Ok(added) => added,
        Err(error) => return Ok(Err(error.to_string())),
    };
    if added {
        let servers = &next
            .incident
            .shared
            .as_ref()
            .map(|shared| shared.servers.clone());
        set_acl(bot, &room, servers.as_deref().unwrap_or_default()).await?;
        room.set_name(room_name(bot, next)).await?;
    }
    bot.store
        .set_meta(
            &shared_key(room.room_id()),
            next.room_id.as_str().as_bytes(),
        )
        .await?;
    queue_invites(bot, room.room_id(), &args.users).await?;
    let name = partner_name(bot, &server);
    let invited = if args.users.is_empty() {
        format!(" Invite {name}'s people with `!inc share {server} @name`.")
    } else {
        let users: Vec<String> = args.users.iter().map(ToString::to_string).collect();
        format!(
            " Invitations to {} go out now; `!inc share` says if any still wait for {server}.",
            users.join(", ")
        )
    };
    let again = if added {
        ""
    } else {
        " (already shared with it)"
    };
    Ok(Ok(format!(
        "Shared with **{name}**{again} in [the shared room]({}): {server}'s people take part at level 0 and see only what is said there; forward a message there with 📤.{invited}",
        link(room.room_id(), own)
    )))
}

fn known(bot: &Bot, room_id: &RoomId) -> Result<Room, ActionError> {
    bot.client
        .get_room(room_id)
        .ok_or_else(|| ActionError::UnknownRoom(room_id.to_owned()))
}

/// The shared room of `record`, made for its first partner `server`: federated, invitation
/// only, fenced by a server ACL, partners at level 0; the commander invited. A share a crash
/// interrupted finds the room it made (kept under the command's event).
async fn create_room(
    change: &Change<'_>,
    record: &IncidentRecord,
    server: &ServerName,
) -> Result<Room, ActionError> {
    let bot = change.bot;
    let made_key = format!("share.{}", change.cause);
    if let Some(bytes) = bot.store.meta(&made_key).await? {
        if let Ok(room_id) = RoomId::parse(String::from_utf8_lossy(&bytes).as_ref()) {
            return known(bot, &room_id);
        }
    }
    let own = bot.config.matrix.user_id.server_name();
    let incident = &record.incident;
    let partner = partner_name(bot, server);
    let mut request = CreateRoomRequest::new();
    request.name = Some(format!(
        "🤝 {} · {partner} · {}",
        incident.number, incident.title
    ));
    request.topic = Some(format!(
        "{} shared with {partner}. Only what is said here is shared; the incident room stays ours.",
        incident.number
    ));
    request.preset = Some(RoomPreset::PrivateChat);
    request.room_version = Some(bot.room_version.clone());
    request.invite = vec![incident.commander.clone()];
    request.power_level_content_override =
        Some(Raw::new(&levels(bot, &incident.commander))?.cast_unchecked());
    request.initial_state = raw_events(&[
        state("m.room.join_rules", json!({ "join_rule": "invite" })),
        state(
            "m.room.history_visibility",
            json!({ "history_visibility": "shared" }),
        ),
        rooms::server_acl(
            own,
            &[server.to_owned()],
            bot.config.access.allow_ip_literals,
        ),
    ])?;
    let room = bot.client.create_room(request).await?;
    bot.store
        .set_meta(&made_key, room.room_id().as_str().as_bytes())
        .await?;
    info!(incident = %incident.number, room_id = %room.room_id(), %server, "shared room created");
    Ok(room)
}

/// Levels in a shared room: the commander 100, everyone else 0; changing levels, the ACL or
/// the room's name takes more than a partner can ever have.
fn levels(bot: &Bot, commander: &UserId) -> serde_json::Value {
    json!({
        "users": level_users(commander, &bot.config.matrix.user_id, &bot.room_version),
        "users_default": 0,
        "events_default": 0,
        "state_default": ROLE_LEVEL,
        "invite": ROLE_LEVEL,
        "kick": ROLE_LEVEL,
        "ban": ROLE_LEVEL,
        "redact": ROLE_LEVEL,
        "events": {
            "m.room.power_levels": COMMANDER_LEVEL,
            "m.room.server_acl": COMMANDER_LEVEL,
            "m.room.name": COMMANDER_LEVEL,
            "m.room.encryption": COMMANDER_LEVEL,
            "m.room.history_visibility": COMMANDER_LEVEL,
            "m.room.tombstone": BOT_LEVEL,
        },
    })
}

/// Admits this server and `partners` to `room`, and no one else.
async fn set_acl(bot: &Bot, room: &Room, partners: &[OwnedServerName]) -> Result<(), ActionError> {
    let own = bot.config.matrix.user_id.server_name();
    let acl = rooms::server_acl(own, partners, bot.config.access.allow_ip_literals);
    room.send_state_event_raw("m.room.server_acl", "", acl["content"].clone())
        .await?;
    Ok(())
}

/// An invitation waiting for a partner's server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Pending {
    user: OwnedUserId,
    /// Why the last try failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

type PendingInvites = BTreeMap<OwnedRoomId, Vec<Pending>>;

async fn pending(bot: &Bot) -> Result<PendingInvites, ActionError> {
    Ok(match bot.store.meta(PENDING_KEY).await? {
        Some(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        None => PendingInvites::new(),
    })
}

async fn save_pending(bot: &Bot, invites: &PendingInvites) -> Result<(), ActionError> {
    bot.store
        .set_meta(PENDING_KEY, &serde_json::to_vec(invites)?)
        .await?;
    Ok(())
}

/// Queues invitations of `users` to `room_id` and wakes the inviter. The caller holds the
/// records lock (the worker does).
async fn queue_invites(
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
            });
        }
    }
    save_pending(bot, &invites).await?;
    bot.invitations.notify_one();
    Ok(())
}

/// What `!inc share` alone says: the shared room, its partners, and invitations that wait.
async fn status(bot: &Bot, record: &IncidentRecord) -> Result<String, ActionError> {
    let Some(shared) = &record.incident.shared else {
        return Ok(format!(
            "{} is not shared; `!inc share partner.example @ops` shares it with a partner organisation",
            record.incident.number
        ));
    };
    let own = bot.config.matrix.user_id.server_name();
    let partners: Vec<String> = shared
        .servers
        .iter()
        .map(|server| format!("{} ({server})", partner_name(bot, server)))
        .collect();
    let mut text = format!(
        "Shared with {} in [the shared room]({}).",
        partners.join(", "),
        link(&shared.room_id, own)
    );
    let invites = pending(bot).await?;
    let waiting = invites.get(&shared.room_id).cloned().unwrap_or_default();
    if waiting.is_empty() {
        text.push_str(" No invitation is waiting.");
    } else {
        text.push_str("\n\nInvitations still waiting for the partner's server:");
        for pending in waiting {
            let why = pending.error.as_deref().unwrap_or("not tried yet");
            text.push_str(&format!("\n- {}: {why}", pending.user));
        }
    }
    Ok(text)
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
                warn!(%error, "cannot send partner invitations yet");
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
    for (room_id, waiting) in &invites {
        let Some(room) = bot.client.get_room(room_id) else {
            continue;
        };
        for pending in waiting {
            let user = &pending.user;
            match tokio::time::timeout(INVITE_TIMEOUT, room.invite_user_by_id(user)).await {
                Ok(Ok(())) => {
                    info!(%room_id, %user, "partner invited");
                    done.push((room_id.clone(), user.clone()));
                }
                Ok(Err(error)) if error.as_client_api_error().is_some_and(refused_for_good) => {
                    // Already in the room, or refused for good: nothing to wait for.
                    warn!(%room_id, %user, %error, "partner invitation refused; not tried again");
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
    let acl = rooms::server_acl(
        own,
        std::slice::from_ref(&partner.server),
        bot.config.access.allow_ip_literals,
    );
    Ok(rooms::ensure_standing(&bot.client, &alias, &name, &topic, &acl).await?)
}

/// Queues the invitations of contacts the room has not had yet (a restart does not invite
/// anyone twice, and someone who left is not pulled back).
async fn queue_new_contacts(bot: &Bot, room: &Room, partner: &Partner) -> Result<(), ActionError> {
    let key = format!("partner.invited.{}", room.room_id());
    let mut invited: Vec<OwnedUserId> = match bot.store.meta(&key).await? {
        Some(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        None => Vec::new(),
    };
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
    bot.store
        .set_meta(&key, &serde_json::to_vec(&invited)?)
        .await?;
    Ok(())
}

/// Whether `user` may run `command` in a shared room: read-only commands only, for partners
/// and for our own people alike (the incident is run from its own room). The refusal says
/// where to go instead.
pub fn refusal_in_shared_room(
    bot: &Bot,
    record: &IncidentRecord,
    user: &UserId,
    command: &str,
) -> Option<String> {
    if READ_ONLY.contains(&command) {
        return None;
    }
    let allowed: Vec<String> = READ_ONLY
        .iter()
        .map(|name| format!("`!inc {name}`"))
        .collect();
    Some(if bot.config.access.allows(user) {
        format!(
            "this is the room shared with partners; run `!inc {command}` in the incident room {}. Here: {}",
            render::permalink(&record.alias),
            allowed.join(", ")
        )
    } else {
        format!(
            "{user} takes part as a partner ({}): partners may use {} here; {} is run by its commander",
            partner_name(bot, user.server_name()),
            allowed.join(", "),
            record.incident.number
        )
    })
}

/// The commands anyone in a shared room may use.
const READ_ONLY: [&str; 2] = ["timeline", "help"];
