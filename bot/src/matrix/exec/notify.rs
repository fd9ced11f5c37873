//! `!inc notify`: each person's own way to be reached outside Matrix, kept in the store ahead
//! of `[[notify.people]]`, set only in a direct message (an address stays out of shared rooms).

use tracing::info;

use super::super::{ask, change::Change, error::ActionError, notify};
use crate::{
    commands::{Answer, NotifyArgs},
    keys::{self, NotifySetting},
};

/// Sets or shows how the sender is reached.
pub async fn run(change: &Change<'_>, args: NotifyArgs) -> Result<Answer, ActionError> {
    let bot = change.bot;
    if !ask::is_direct(bot, change.room).await? {
        return Ok(Answer::refused(
            "`!inc notify` works in a direct message with the bot, so that your address stays out of shared rooms",
        ));
    }
    let key = keys::notify_setting(change.sender);
    let mailing = bot.config.notify.email.is_some();
    let text = match args {
        NotifyArgs::Show => match notify::address(bot, change.sender).await? {
            Some(address) if mailing => format!(
                "📧 A page of yours left unacknowledged is emailed to {address}. `!inc notify off` stops it."
            ),
            Some(address) => format!(
                "📧 Your address is {address}, but this bot sends no email (`[notify.email]` is not configured)."
            ),
            None => "📧 You are reached in Matrix only. `!inc notify email <address>` adds email.".to_owned(),
        },
        NotifyArgs::Email(address) => {
            key.set(bot.store.as_ref(), &NotifySetting::Email(address.to_string()))
                .await?;
            info!(user = %change.sender, "set an email address to be notified at");
            let more = if mailing {
                ""
            } else {
                " This bot sends no email yet (`[notify.email]` is not configured)."
            };
            format!("📧 A page of yours left unacknowledged will be emailed to {address}.{more}")
        }
        NotifyArgs::Off => {
            key.set(bot.store.as_ref(), &NotifySetting::Off).await?;
            info!(user = %change.sender, "turned notifications outside Matrix off");
            "📧 You are reached in Matrix only from now on, whatever the configuration says."
                .to_owned()
        }
    };
    Ok(Answer::done(text))
}
