//! A message that may be a command: checked against the store and its age, run, answered, and
//! recorded as handled after its answer is sent.

use brigade_core::store::{Outcome, StoreError};
use matrix_sdk::{
    ruma::events::room::message::{
        MessageType, OriginalSyncRoomMessageEvent, Relation, TextMessageEventContent,
    },
    Room,
};
use tracing::{info, instrument, warn};

use super::{
    alerts,
    bot::Bot,
    change::Change,
    dispatch,
    error::{self, ActionError},
    once::{self, Claim},
    reply,
};
use crate::{
    commands::{self, Answer},
    metrics::CommandOutcome,
};

/// Why a command could not be finished; it will be looked at again at the next start.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The answer could not be sent.
    #[error("cannot send the answer: {0}")]
    Send(#[from] matrix_sdk::Error),
    /// The command could not be carried out; it is taken up again at the next start.
    #[error(transparent)]
    Action(#[from] ActionError),
}

/// The command text with each mention pill replaced by the user ID it links to. Element puts
/// a pill's display name in the plain body and the link in the HTML, so when the HTML has
/// pills the text is taken from the HTML: links to users become their IDs, other tags go,
/// entities are decoded. `!inc lead` then works with a pill as well as with a typed `@name`.
fn with_mentioned_ids(text: &TextMessageEventContent) -> String {
    const LINK: &str = "<a href=\"https://matrix.to/#/";
    let Some(html) = text
        .formatted
        .as_ref()
        .map(|formatted| formatted.body.as_str())
        .filter(|html| html.contains(LINK))
    else {
        return text.body.clone();
    };
    let mut plain = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        plain.push_str(&rest[..start]);
        rest = &rest[start..];
        let Some(end) = rest.find('>') else {
            break;
        };
        let tag = &rest[..=end];
        rest = &rest[end + 1..];
        if let Some(target) = tag.strip_prefix(LINK) {
            let user = target.split(['"', '?', '/']).next().unwrap_or_default();
            if user.starts_with('@') {
                // The link's text is the display name: the ID stands in for it.
                plain.push_str(user);
                rest = rest.find("</a>").map_or("", |close| &rest[close + 4..]);
                continue;
            }
        }
        if tag.starts_with("<br") || tag.starts_with("<p") || tag.starts_with("</p") {
            plain.push(' ');
        }
    }
    plain.push_str(rest);
    plain
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// What a message was to the command path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// A command (handled now or before), or an edit of one.
    Command,
    /// Anything else: people talking.
    Chat,
}

/// Handles `message` if it is a command the bot has not handled yet.
#[instrument(skip_all, fields(room = %room.room_id(), event_id = %message.event_id, sender = %message.sender))]
pub async fn handle(
    bot: &Bot,
    room: &Room,
    message: &OriginalSyncRoomMessageEvent,
) -> Result<Seen, CommandError> {
    // Notices are what bots say (never commands); an edit of a command does not run it again.
    let started = std::time::Instant::now();
    let MessageType::Text(text) = &message.content.msgtype else {
        return Ok(Seen::Chat);
    };
    if matches!(message.content.relates_to, Some(Relation::Replacement(_))) {
        return Ok(Seen::Command);
    }
    let body = with_mentioned_ids(text);
    let Some(parsed) = commands::parse(&body, message.sender.server_name()) else {
        return Ok(Seen::Chat);
    };
    // The bridge answers its own commands in its routes' rooms.
    if matches!(parsed, Err(commands::ParseError::Bridge(_))) && alerts::bridge_room(bot, room) {
        return Ok(Seen::Command);
    }
    fail::fail_point!("command-received", |_| super::bot::crash());
    let name = parsed.as_ref().map_or("unknown", commands::Command::name);
    match once::claim(bot, &message.event_id, message.origin_server_ts).await? {
        Claim::Handled => return Ok(Seen::Command),
        Claim::Stale { age } => {
            info!(
                command = name,
                age_seconds = age.as_secs(),
                "command older than commands.max_age: not run"
            );
            bot.metrics.command(name, CommandOutcome::Stale);
            return Ok(Seen::Command);
        }
        Claim::Run { resuming: true } => {
            info!(command = name, "finishing a command a crash interrupted");
        }
        Claim::Run { resuming: false } => {}
    }

    let change = Change::for_message(bot, room, message);
    let answer = match dispatch::run(&change, parsed).await {
        Ok(answer) => answer,
        Err(error) => match error.refusal() {
            Some(refusal) => {
                warn!(command = name, %error, "the homeserver refused part of a command");
                Answer::Refused(refusal)
            }
            None => return Err(error.into()),
        },
    };
    fail::fail_point!("command-before-answer", |_| super::bot::crash());
    let answered = reply::answer(room, message, &answer, bot.config.commands.threads).await;
    // Bring the room in step with what the command changed, if anything (a no-op otherwise),
    // after the answer, so the answer does not wait behind the room's updates.
    bot.publisher.publish(room.room_id());
    if let Err(error) = answered {
        // A 4xx answer is for good (the bot may no longer post here): record it, or every
        // restart would try again. Anything else (network, 5xx) stays `Started`, so the next
        // start finishes it.
        bot.metrics.command(name, CommandOutcome::Failed);
        if error::for_good(&error) {
            once::record(
                bot,
                &message.event_id,
                message.origin_server_ts,
                Outcome::Ignored,
            )
            .await?;
        }
        return Err(error.into());
    }
    fail::fail_point!("command-after-answer", |_| super::bot::crash());
    let (outcome, counted) = match answer {
        Answer::Done(_) => (Outcome::Done, CommandOutcome::Ok),
        Answer::Refused(_) => (Outcome::Refused, CommandOutcome::Refused),
    };
    bot.metrics.command(name, counted);
    let elapsed_ms = started.elapsed().as_millis();
    info!(command = name, outcome = ?outcome, elapsed_ms, "command handled");
    once::record(bot, &message.event_id, message.origin_server_ts, outcome).await?;
    Ok(Seen::Command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_pills_become_user_ids() {
        let pill = TextMessageEventContent::html(
            "!inc role scribe Sam Smith",
            "!inc role scribe <a href=\"https://matrix.to/#/@sam:example.org\">Sam Smith</a>",
        );
        assert_eq!(
            with_mentioned_ids(&pill),
            "!inc role scribe @sam:example.org"
        );
        let typed = TextMessageEventContent::plain("!inc lead @bob");
        assert_eq!(with_mentioned_ids(&typed), "!inc lead @bob");
    }
}
