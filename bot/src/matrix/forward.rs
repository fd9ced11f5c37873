//! Forwarding by reaction (SPEC §8): a message reacted to with a rule's emoji is copied to the
//! rule's room, once per message and target however many react, with a line naming its author,
//! room and time and a link back. The leak guard checks the rooms' current state first.
//!
//! Rules come from `[[forward]]` (every room whose alias or ID matches `from`) and from
//! `!inc forward` in a room (stored per room). A copy carries `org.brigade.forwarded`, and a
//! copy is never forwarded again, so two rules that point at each other cannot ping-pong.

use brigade_core::{
    events::FORWARDED_KEY as FORWARDED,
    forward::{self as guard, Access, Leak, RoomFacts},
};
use matrix_sdk::{
    room::RoomMember,
    ruma::{
        events::{
            reaction::{OriginalSyncReactionEvent, ReactionEventContent},
            relation::{Annotation, Thread},
            room::message::{Relation, RoomMessageEventContent},
            MessageLikeEventType,
        },
        room::JoinRule,
        EventId, OwnedEventId, OwnedRoomOrAliasId, RoomId, RoomOrAliasId, UserId,
    },
    Room, RoomMemberships,
};
use serde_json::{json, Value};
use tracing::{debug, info};

use super::{
    bot::Bot,
    error::{self, ActionError},
    lookup::{self, is_joined},
    names,
    reply::{notice, transaction_id},
};
use crate::{
    commands::Refusal,
    config::{normal_emoji, ForwardRule},
    keys::{self, RoomRule},
    render,
};

/// 📤: to the incident's shared partner room.
const SHARE: &str = "📤";

/// The rules `room_id` made with `!inc forward`.
pub async fn room_rules(bot: &Bot, room_id: &RoomId) -> Result<Vec<RoomRule>, ActionError> {
    Ok(keys::forward_rules(room_id)
        .get(bot.store.as_ref())
        .await?
        .unwrap_or_default())
}

/// Where `emoji` in `room` forwards to: the room's own rules, then the configured ones whose
/// `from` matches the room's ID or one of its aliases.
pub async fn targets(
    bot: &Bot,
    room: &Room,
    emoji: &str,
) -> Result<Vec<OwnedRoomOrAliasId>, ActionError> {
    let mut targets: Vec<OwnedRoomOrAliasId> = room_rules(bot, room.room_id())
        .await?
        .into_iter()
        .filter(|rule| rule.emoji == emoji)
        .map(|rule| rule.to.into())
        .collect();
    for rule in &bot.config.forward {
        if rule.emoji == emoji && applies(rule, room) && !targets.contains(&rule.to) {
            targets.push(rule.to.clone());
        }
    }
    Ok(targets)
}

/// Whether a configured rule applies in `room`: no `from`, or a pattern that matches the
/// room's ID or one of its aliases.
pub fn applies(rule: &ForwardRule, room: &Room) -> bool {
    let mut names = vec![room.room_id().to_string()];
    names.extend(room.canonical_alias().map(|alias| alias.to_string()));
    names.extend(room.alt_aliases().iter().map(ToString::to_string));
    rule.from.is_empty()
        || rule
            .from
            .iter()
            .any(|pattern| names.iter().any(|name| guard::matches(pattern, name)))
}

/// Forwards the message `reaction` is on, if its emoji forwards anything in `room`. False
/// when the emoji means nothing here.
pub async fn reacted(
    bot: &Bot,
    room: &Room,
    reaction: &OriginalSyncReactionEvent,
) -> Result<bool, ActionError> {
    let emoji = normal_emoji(&reaction.content.relates_to.key);
    let targets = if emoji == SHARE {
        // To the incident's shared partner room.
        let Some(record) = bot.store.incident(room.room_id()).await? else {
            return Ok(false);
        };
        let Some(shared) = record.incident.shared else {
            let key = format!("{}\u{0}{SHARE}", reaction.content.relates_to.event_id);
            let text = "this incident is not shared with partners (`!inc share partner.example`), so 📤 has nowhere to forward to";
            bot.metrics.forward("no_partner_room");
            refuse(room, reaction, &key, text).await?;
            return Ok(true);
        };
        vec![shared.room_id.into()]
    } else {
        targets(bot, room, &emoji).await?
    };
    if targets.is_empty() {
        return Ok(false);
    }
    if !bot.config.access.allows(&reaction.sender) {
        debug!("a forwarding reaction by a user of a server that is not allowed: ignored");
        return Ok(true);
    }
    let message_id = &reaction.content.relates_to.event_id;
    let event = match room.event(message_id, None).await {
        Ok(event) => event,
        Err(error) if error::for_good(&error) => {
            info!(%message_id, %error, "a forwarding reaction on an event the bot cannot see: skipped");
            return Ok(true);
        }
        Err(error) => return Err(error.into()),
    };
    let message: Value = event.raw().deserialize_as()?;
    if message["type"] != "m.room.message" || !message["content"]["msgtype"].is_string() {
        debug!(%message_id, "a forwarding reaction on something that is not a message: skipped");
        return Ok(true);
    }
    if !message["content"][FORWARDED].is_null() {
        info!(%message_id, "a forwarded copy is not forwarded again");
        return Ok(true);
    }
    for target in targets {
        let key = format!("{message_id}\u{0}{emoji}\u{0}{target}");
        let done = keys::forwarded(&key);
        if done.is_set(bot.store.as_ref()).await? {
            continue;
        }
        match forward(bot, room, reaction, &message, &target, &key, emoji == SHARE).await {
            Ok(copy) => {
                done.set(bot.store.as_ref(), &copy).await?;
                bot.metrics.forward("done");
                info!(%message_id, %target, "forwarded");
            }
            Err(ActionError::Refused(refusal)) => {
                bot.metrics.forward(refusal.label);
                refuse(room, reaction, &key, &refusal.text).await?;
                info!(%message_id, %target, reason = refusal.label, "forward refused");
            }
            Err(error) => return Err(error),
        }
    }
    Ok(true)
}

/// Why a copy was not made: a metric label and what people read.
fn refusal(label: &'static str, text: String) -> Result<OwnedEventId, ActionError> {
    Err(ActionError::Refused(Refusal::labelled(label, text)))
}

/// Copies `message` to `target` and returns the copy's event ID; when the leak guard or the
/// target says no, [`ActionError::Refused`] with a metric label says why.
async fn forward(
    bot: &Bot,
    room: &Room,
    reaction: &OriginalSyncReactionEvent,
    message: &Value,
    target: &RoomOrAliasId,
    key: &str,
    to_partners: bool,
) -> Result<OwnedEventId, ActionError> {
    let Some(to) = lookup::joined(&bot.client, target).await? else {
        return refusal(
            "target_unknown",
            format!("Brigade is not in {target}: invite it there first"),
        );
    };
    let sender = &reaction.sender;
    if !is_joined(&to, sender).await? {
        return refusal(
            "reactor_not_in_target",
            format!("you are not in {target}, so Brigade does not post there for you"),
        );
    }
    let levels = to.power_levels().await.map_err(matrix_sdk::Error::from)?;
    if !levels.user_can_send_message(sender, MessageLikeEventType::RoomMessage) {
        return refusal(
            "reactor_cannot_post",
            format!("you may not post in {target}"),
        );
    }
    match guard::leak(&facts(room).await?, &facts(&to).await?) {
        // 📤 is the one way to tell the incident's partners something: that they are not in
        // the incident room is the point.
        Some(Leak::Members(_)) if to_partners => {}
        Some(leak) => return refusal("leak", format!("not forwarded to {target}: {leak}")),
        None => {}
    }

    let message_id = message["event_id"].as_str().unwrap_or_default();
    let author = message["sender"].as_str().unwrap_or_default();
    let at = message["origin_server_ts"].as_u64().unwrap_or_default();
    let source = room
        .canonical_alias()
        .map_or_else(|| room.room_id().to_string(), |alias| alias.to_string());
    let link = format!(
        "https://matrix.to/#/{}/{message_id}?via={}",
        room.room_id(),
        bot.config.matrix.user_id.server_name()
    );
    let author = UserId::parse(author).ok();
    let names = names::of(room, author.as_deref()).await;
    let author = author.map_or_else(String::new, |author| names.pill(&author));
    let mut header = format!(
        "↪️ Forwarded from {source}: {author}, {} ([original]({link}))",
        render::date_time(at)
    );
    // A reply goes with the message it answers, quoted.
    if let Some(parent) = message["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
        .as_str()
        .and_then(|parent| EventId::parse(parent).ok())
    {
        if let Ok(parent) = room.event(&parent, None).await {
            let parent: Value = parent.raw().deserialize_as()?;
            let quoted = parent["content"]["body"]
                .as_str()
                .unwrap_or_default()
                .lines()
                .map(|line| format!("> {}", render::escape(line)))
                .collect::<Vec<_>>()
                .join("\n");
            let sender = parent["sender"]
                .as_str()
                .and_then(|sender| UserId::parse(sender).ok());
            let names = names::of(room, sender.as_deref()).await;
            let sender = sender.map_or_else(String::new, |sender| names.pill(&sender));
            header.push_str(&format!("\n\nIn reply to {sender}:\n{quoted}\n"));
        }
    }
    let marker = json!({ "room_id": room.room_id(), "event_id": message_id });
    let mut original = message["content"].clone();
    if let Some(content) = original.as_object_mut() {
        // The message itself: not a reply or a thread message in the target, and pinging nobody.
        content.remove("m.relates_to");
        content.remove("m.new_content");
        content.insert("m.mentions".to_owned(), json!({}));
        content.insert(FORWARDED.to_owned(), marker.clone());
    }
    let text = matches!(
        original["msgtype"].as_str(),
        Some("m.text" | "m.notice" | "m.emote")
    );
    let copy = if text {
        let body = original["body"].as_str().unwrap_or_default().to_owned();
        let html = original["formatted_body"].as_str().map_or_else(
            || render::html_escape(&body).replace('\n', "<br>"),
            ToOwned::to_owned,
        );
        let head = serde_json::to_value(RoomMessageEventContent::text_markdown(&header))?;
        let head_html = head["formatted_body"]
            .as_str()
            .map_or_else(|| render::html_escape(&header), ToOwned::to_owned);
        original["body"] = json!(format!("{}\n\n{body}", crate::names::plain(&header)));
        original["format"] = json!("org.matrix.custom.html");
        original["formatted_body"] = json!(format!("{head_html}<br>{html}"));
        original
    } else {
        // A file or an image: the header first, then the media as it was (an `mxc://` URL
        // displays in any room).
        let mut head = serde_json::to_value(notice(&header))?;
        head[FORWARDED] = marker;
        to.send_raw("m.room.message", head)
            .with_transaction_id(&transaction_id(key, "forward-header"))
            .await?;
        original
    };
    let sent = to
        .send_raw("m.room.message", copy)
        .with_transaction_id(&transaction_id(key, "forward"))
        .await?;
    Ok(sent.response.event_id)
}

/// What the leak guard reads of a room.
async fn facts(room: &Room) -> Result<RoomFacts, ActionError> {
    let encrypted = room.latest_encryption_state().await?.is_encrypted();
    let federated = room.create_content().is_none_or(|create| create.federate);
    // No join rule in the state means `invite` (the spec's default).
    let join_rule = room.join_rule().unwrap_or(JoinRule::Invite);
    let access = Access::of(&join_rule, &room.history_visibility_or_default());
    let ids = |members: Vec<RoomMember>| {
        members
            .iter()
            .map(|member| member.user_id().to_owned())
            .collect()
    };
    Ok(RoomFacts {
        encrypted,
        federated,
        access,
        joined: ids(room.members(RoomMemberships::JOIN).await?),
        invited: ids(room.members(RoomMemberships::INVITE).await?),
    })
}

/// ❓ on the message and the reason in a thread on it; once per message and target.
async fn refuse(
    room: &Room,
    reaction: &OriginalSyncReactionEvent,
    key: &str,
    text: &str,
) -> Result<(), ActionError> {
    let message_id = reaction.content.relates_to.event_id.clone();
    let mark = ReactionEventContent::new(Annotation::new(message_id.clone(), "❓".to_owned()));
    room.send(mark)
        .with_transaction_id(transaction_id(key, "forward-refused-mark"))
        .await
        .map(drop)
        .or_else(|error| {
            // Already marked (another refusal of the same message): fine.
            if error::for_good(&error) {
                Ok(())
            } else {
                Err(ActionError::from(error))
            }
        })?;
    let mut answer = notice(text);
    answer.relates_to = Some(Relation::Thread(Thread::plain(
        message_id.clone(),
        message_id,
    )));
    room.send(answer)
        .with_transaction_id(transaction_id(
            &format!("{key}\u{0}{}", reaction.event_id),
            "forward-refused",
        ))
        .await?;
    Ok(())
}
