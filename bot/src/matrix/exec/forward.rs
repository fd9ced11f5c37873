//! `!inc forward …`: a room's own forwarding rules (SPEC §8), listed, added and removed by its
//! moderators. A rule that would loop back, or an emoji that means something to Brigade
//! already, is refused.

use brigade_core::levels::MODERATOR_LEVEL;
use matrix_sdk::{
    ruma::{events::room::power_levels::UserPowerLevel, Int, RoomId, UserId},
    Room,
};
use tracing::warn;

use super::super::{
    bot::Bot,
    change::Change,
    error::ActionError,
    forward::{applies, room_rules, targets},
    lookup,
};
use crate::{
    commands::{Answer, ForwardArgs, Refusal},
    config::{builtin_reaction, normal_emoji},
    keys::{self, KeyError, RoomRule},
};

/// `!inc forward …` in `room`.
pub async fn run(change: &Change<'_>, args: ForwardArgs) -> Result<Answer, ActionError> {
    let (bot, room, sender) = (change.bot, change.room, change.sender);
    let (emoji, to) = match args {
        ForwardArgs::List => {
            let rules = room_rules(bot, room.room_id()).await?;
            return Ok(Answer::Done(Some(list(bot, room, &rules))));
        }
        ForwardArgs::Remove(emoji) => {
            let emoji = normal_emoji(&emoji);
            if !may_change(room, sender).await? {
                return Ok(refused_level());
            }
            let mut rules = rules_to_change(bot, room.room_id()).await?;
            let before = rules.len();
            rules.retain(|rule| rule.emoji != emoji);
            if rules.len() == before {
                return Ok(Answer::refused(format!(
                    "this room has no rule for {emoji}; `!inc forward list` shows them"
                )));
            }
            save(bot, room.room_id(), &rules).await?;
            return Ok(Answer::Done(Some(format!(
                "{emoji} no longer forwards from here"
            ))));
        }
        ForwardArgs::Add { emoji, to } => (normal_emoji(&emoji), to),
    };
    if !may_change(room, sender).await? {
        return Ok(refused_level());
    }
    if builtin_reaction(&emoji, &bot.config.incidents) {
        return Ok(Answer::refused(format!(
            "{emoji} already means something to Brigade; pick another emoji"
        )));
    }
    let Some(target) = lookup::joined(&bot.client, &to).await? else {
        return Ok(Answer::refused(format!(
            "{to} is not a room Brigade is in: check the name, or invite Brigade there first"
        )));
    };
    if target.room_id() == room.room_id() {
        return Ok(Answer::refused("a room cannot forward to itself"));
    }
    if targets(bot, &target, &emoji).await?.iter().any(|back| {
        back.as_str() == room.room_id().as_str()
            || room
                .canonical_alias()
                .is_some_and(|alias| alias.as_str() == back.as_str())
    }) {
        return Ok(Answer::refused(format!(
            "{to} already forwards {emoji} here: the two rules would loop"
        )));
    }
    let mut rules = rules_to_change(bot, room.room_id()).await?;
    let rule = RoomRule {
        emoji: emoji.clone(),
        to: target.room_id().to_owned(),
    };
    if !rules.contains(&rule) {
        rules.push(rule);
        save(bot, room.room_id(), &rules).await?;
    }
    Ok(Answer::Done(Some(format!(
        "{emoji} on a message here now forwards it to {to}"
    ))))
}

/// The room's rules, to be changed and written back: rules this version cannot read are
/// refused here rather than written over.
async fn rules_to_change(bot: &Bot, room_id: &RoomId) -> Result<Vec<RoomRule>, ActionError> {
    match keys::forward_rules(room_id)
        .get_to_change(bot.store.as_ref())
        .await
    {
        Ok(rules) => Ok(rules.unwrap_or_default()),
        Err(KeyError::Unreadable(key)) => {
            warn!(%key, "this room's forwarding rules are unreadable: not changed");
            Err(Refusal::new(
                "this room's forwarding rules are stored in a form this version of Brigade cannot read; nothing changed (the bot's log says which)",
            )
            .into())
        }
        Err(error) => Err(error.into()),
    }
}

async fn save(bot: &Bot, room_id: &RoomId, rules: &[RoomRule]) -> Result<(), ActionError> {
    keys::forward_rules(room_id)
        .set(bot.store.as_ref(), &rules.to_vec())
        .await?;
    Ok(())
}

/// Whether `sender` may change `room`'s rules: moderators and up.
async fn may_change(room: &Room, sender: &UserId) -> Result<bool, ActionError> {
    let level = room.get_user_power_level(sender).await?;
    Ok(level >= UserPowerLevel::Int(Int::new_saturating(MODERATOR_LEVEL)))
}

fn refused_level() -> Answer {
    Answer::refused(format!(
        "only moderators (power level {MODERATOR_LEVEL} or more) may change this room's forwarding rules"
    ))
}

fn list(bot: &Bot, room: &Room, rules: &[RoomRule]) -> String {
    let mut lines: Vec<String> = rules
        .iter()
        .map(|rule| format!("- {} → {} (this room's rule)", rule.emoji, rule.to))
        .collect();
    for rule in &bot.config.forward {
        if applies(rule, room) {
            lines.push(format!("- {} → {} (configured)", rule.emoji, rule.to));
        }
    }
    if lines.is_empty() {
        return "No forwarding rules here. `!inc forward <emoji> <#room>` adds one.".to_owned();
    }
    format!("**Forwarding rules**\n\n{}", lines.join("\n"))
}
