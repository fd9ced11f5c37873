//! `!inc share` (SPEC §7): a room shared with partner organisations for one incident,
//! federated, invitation only, and fenced by a server ACL that admits this server and the named
//! partners' alone. Partners sit at level 0, which they cannot raise. Nothing flows between the
//! incident room and the shared room unless someone forwards it (📤).

use brigade_core::{
    levels::{BOT_LEVEL, COMMANDER_LEVEL, MODERATOR_LEVEL},
    record::IncidentRecord,
};
use matrix_sdk::{
    ruma::{
        api::client::room::create_room::v3::{Request as CreateRoomRequest, RoomPreset},
        serde::Raw,
        OwnedServerName, ServerName, UserId,
    },
    Room,
};
use serde_json::json;
use tracing::info;

use super::super::{
    bot::Bot,
    change::Change,
    error::ActionError,
    lookup,
    partners::{self, link, partner_name},
    room_state::{level_users, raw_events, server_acl, state},
};
use crate::{
    commands::{decide, Answer, ShareArgs},
    keys,
};

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

/// `!inc share [<server> [@user…]]` on `record`'s incident: alone, what it is shared with;
/// with a server, the shared room made or widened, the change stored with its answer.
pub async fn run(
    change: &Change<'_>,
    record: IncidentRecord,
    args: ShareArgs,
) -> Result<Answer, ActionError> {
    let bot = change.bot;
    let Some(server) = args.server else {
        return Ok(Answer::done(status(bot, &record).await?));
    };
    let own = bot.config.matrix.user_id.server_name();
    decide::share(&record, &server, own, &bot.config.access.allowed_servers)?;
    let mut next = record.clone();
    let room = match &next.incident.shared {
        Some(shared) => lookup::known(&bot.client, &shared.room_id)?,
        None => create_room(change, &next, &server).await?,
    };
    let added = next
        .incident
        .share(
            room.room_id().to_owned(),
            server.clone(),
            change.sent,
            change.sender,
        )
        .map_err(crate::commands::Refusal::from)?;
    if added {
        let servers = &next
            .incident
            .shared
            .as_ref()
            .map(|shared| shared.servers.clone());
        set_acl(bot, &room, servers.as_deref().unwrap_or_default()).await?;
        room.set_name(room_name(bot, &next)).await?;
    }
    partners::remember(bot, room.room_id(), &next.room_id).await?;
    partners::queue_invites(bot, room.room_id(), &args.users).await?;
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
    let answer = format!(
        "Shared with **{name}**{again} in [the shared room]({}): {server}'s people take part at level 0 and see only what is said there; forward a message there with 📤.{invited}",
        link(room.room_id(), own)
    );
    if next != record {
        change.commit(next, Some(answer.clone())).await?;
    }
    Ok(Answer::done(answer))
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
    let made = keys::share_made(change.cause);
    if let Some(room_id) = made.get(bot.store.as_ref()).await? {
        return lookup::known(&bot.client, &room_id);
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
    // Whoever shares an incident nobody commands holds the shared room.
    let commander = incident.commander.as_deref().unwrap_or(change.sender);
    request.invite = vec![commander.to_owned()];
    request.power_level_content_override =
        Some(Raw::new(&levels(bot, commander))?.cast_unchecked());
    request.initial_state = raw_events(&[
        state("m.room.join_rules", json!({ "join_rule": "invite" })),
        state(
            "m.room.history_visibility",
            json!({ "history_visibility": "shared" }),
        ),
        server_acl(
            own,
            &[server.to_owned()],
            bot.config.access.allow_ip_literals,
        ),
    ])?;
    let room = bot.client.create_room(request).await?;
    made.set(bot.store.as_ref(), &room.room_id().to_owned())
        .await?;
    info!(incident = %incident.number, room_id = %room.room_id(), %server, "shared room created");
    Ok(room)
}

/// Levels in a shared room: the commander 100, everyone else 0; changing levels, the ACL or
/// the room's name takes more than a partner can ever have.
fn levels(bot: &Bot, commander: &UserId) -> serde_json::Value {
    json!({
        "users": level_users(Some(commander), &bot.config.matrix.user_id, &bot.room_version),
        "users_default": 0,
        "events_default": 0,
        "state_default": MODERATOR_LEVEL,
        "invite": MODERATOR_LEVEL,
        "kick": MODERATOR_LEVEL,
        "ban": MODERATOR_LEVEL,
        "redact": MODERATOR_LEVEL,
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
    let acl = server_acl(own, partners, bot.config.access.allow_ip_literals);
    room.send_state_event_raw("m.room.server_acl", "", acl["content"].clone())
        .await?;
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
    let invites = partners::pending(bot).await?;
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
