//! `!inc notify`: each person's own ways to be reached outside Matrix, kept in the store ahead
//! of `[[notify.people]]`, set only in a direct message (an address stays out of shared rooms).

use brigade_core::record::Channel;
use tracing::info;

use super::super::{ask, change::Change, error::ActionError, notify};
use crate::{
    commands::{Answer, NotifyArgs},
    config::NotifyConfig,
    keys::{self, Choice},
    reach::{self, Target},
};

/// Sets or shows how the sender is reached.
pub async fn run(change: &Change<'_>, args: NotifyArgs) -> Result<Answer, ActionError> {
    let bot = change.bot;
    if !ask::is_direct(bot, change.room).await? {
        return Ok(Answer::refused(
            "`!inc notify` works in a direct message with the bot, so that your address stays out of shared rooms",
        ));
    }
    let notify = &bot.config.notify;
    let key = keys::notify_setting(change.sender);
    let mut setting = key.get(bot.store.as_ref()).await?.unwrap_or_default();
    let text = match args {
        NotifyArgs::Show => {
            let targets = notify::targets(bot, change.sender).await?;
            if targets.is_empty() {
                format!("You are reached in Matrix only. {}", offer(notify))
            } else {
                let lines: Vec<String> = targets
                    .iter()
                    .map(|target| describe(notify, target))
                    .collect();
                format!(
                    "A page of yours left unacknowledged reaches you:\n{}\n`!inc notify <channel> off` or `!inc notify off` stops it.",
                    lines.join("\n")
                )
            }
        }
        NotifyArgs::Set { channel, to: None } => {
            setting.set(channel, Choice::Off);
            key.set(bot.store.as_ref(), &setting).await?;
            info!(user = %change.sender, channel = channel.name(), "turned a channel off");
            format!(
                "You are no longer reached by {} outside Matrix, whatever the configuration says.",
                channel.name()
            )
        }
        NotifyArgs::Set {
            channel,
            to: Some(asked),
        } => {
            let target = match (asked, &notify.ntfy) {
                (Target::Ntfy(topic), Some(ntfy)) => match reach::ntfy_topic(&ntfy.url, &topic) {
                    Ok(topic) => Target::Ntfy(topic),
                    Err(reason) => return Ok(Answer::refused(reason)),
                },
                (Target::Ntfy(_), None) => {
                    return Ok(Answer::refused(
                        "this bot pushes to no ntfy server (`[notify.ntfy]` is not configured)",
                    ))
                }
                (other, _) => other,
            };
            let stored = match &target {
                Target::Email(address) => address.to_string(),
                Target::Ntfy(topic) => topic.clone(),
                Target::Phone(number) => number.clone(),
            };
            setting.set(channel, Choice::At(stored));
            key.set(bot.store.as_ref(), &setting).await?;
            info!(user = %change.sender, channel = channel.name(), "set where to be notified");
            let more = if notify.configures(channel) {
                ""
            } else {
                " This bot sends nothing that way yet (its `[notify]` does not configure it)."
            };
            format!(
                "A page of yours left unacknowledged will reach you: {}.{more}",
                describe(notify, &target)
            )
        }
        NotifyArgs::Off => {
            for channel in Channel::ALL {
                setting.set(channel, Choice::Off);
            }
            key.set(bot.store.as_ref(), &setting).await?;
            info!(user = %change.sender, "turned notifications outside Matrix off");
            "You are reached in Matrix only from now on, whatever the configuration says."
                .to_owned()
        }
    };
    Ok(Answer::done(text))
}

/// One way someone is reached, in words.
fn describe(notify: &NotifyConfig, target: &Target) -> String {
    match (target, &notify.ntfy) {
        (Target::Email(address), _) => format!("📧 email to {address}"),
        (Target::Ntfy(topic), Some(ntfy)) => format!(
            "📱 ntfy push to {} (subscribe to it in the ntfy app)",
            reach::ntfy_url(&ntfy.url, topic)
        ),
        (Target::Ntfy(topic), None) => format!("📱 ntfy push to the topic {topic}"),
        (Target::Phone(number), _) => {
            format!("☎️ the SMS or voice gateway, at {number}")
        }
    }
}

/// What the sender could set, from what this bot sends.
fn offer(notify: &NotifyConfig) -> String {
    let ways: Vec<&str> = [
        (notify.email.is_some(), "`email <address>`"),
        (notify.ntfy.is_some(), "`ntfy <topic>`"),
        (notify.webhook.is_some(), "`phone <number>`"),
    ]
    .into_iter()
    .filter_map(|(configured, way)| configured.then_some(way))
    .collect();
    if ways.is_empty() {
        "This bot sends nothing outside Matrix.".to_owned()
    } else {
        format!("`!inc notify` with {} adds a way.", ways.join(" or "))
    }
}
