//! `!inc notify [email <address>|ntfy <topic>|phone <number>|<channel> off|off]`, in a direct
//! message with the bot: how the sender is reached outside Matrix when a page of theirs goes
//! unacknowledged.

use brigade_core::record::Channel;
use lettre::Address;

use super::info::{CommandInfo, ParseError, Scope, Who};
use crate::reach::{self, Target};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "notify",
    arguments: "[email <address>|ntfy <topic>|phone <number>|<channel> off|off]",
    summary: "in a direct message with the bot: be reached this way when a page of yours goes unacknowledged, or no longer; alone, how you are reached",
    scope: Scope::Anywhere,
    who: Who::Anyone,
    in_shared_room: false,
};

/// What `!inc notify` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyArgs {
    /// How the sender is reached now.
    Show,
    /// On `channel` at `to`, or not on it when `None`. An ntfy topic is as written: only the
    /// configuration says which server's it must be.
    Set {
        /// Which channel.
        channel: Channel,
        /// The address, topic or number.
        to: Option<Target>,
    },
    /// Not outside Matrix at all.
    Off,
}

pub(super) fn parse(rest: &str) -> Result<NotifyArgs, ParseError> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let channel = match words.first() {
        None => return Ok(NotifyArgs::Show),
        Some(&"off") if words.len() == 1 => return Ok(NotifyArgs::Off),
        Some(&"webhook" | &"sms") => return Err(ParseError::Invalid(
            "the SMS and voice gateway calls a phone number: `!inc notify phone +44 20 7946 0958`"
                .to_owned(),
        )),
        Some(word) => Channel::ALL
            .into_iter()
            .find(|channel| channel.name() == *word)
            .ok_or_else(|| ParseError::Usage {
                usage: INFO.usage(),
            })?,
    };
    let to = match (channel, &words[1..]) {
        (_, ["off"]) => None,
        (Channel::Email, [address]) => {
            Some(Target::Email(address.parse::<Address>().map_err(|_| {
                ParseError::Invalid(format!(
                    "`{address}` is not an email address such as `dan@example.org`"
                ))
            })?))
        }
        (Channel::Ntfy, [topic]) => Some(Target::Ntfy((*topic).to_owned())),
        (Channel::Phone, number @ [_, ..]) => Some(Target::Phone(
            reach::phone(&number.join(" ")).map_err(ParseError::Invalid)?,
        )),
        _ => {
            return Err(ParseError::Usage {
                usage: INFO.usage(),
            })
        }
    };
    Ok(NotifyArgs::Set { channel, to })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_channel_an_address_or_off() {
        let set = |channel, to| NotifyArgs::Set { channel, to };
        let dan = "dan@example.org".parse().expect("an address");
        let topic = Target::Ntfy("dan-pages".to_owned());
        let number = Target::Phone("+442079460958".to_owned());
        assert_eq!(parse(""), Ok(NotifyArgs::Show));
        assert_eq!(parse("off"), Ok(NotifyArgs::Off));
        for (rest, expected) in [
            (
                "email dan@example.org",
                set(Channel::Email, Some(Target::Email(dan))),
            ),
            ("email off", set(Channel::Email, None)),
            ("ntfy dan-pages", set(Channel::Ntfy, Some(topic))),
            ("ntfy off", set(Channel::Ntfy, None)),
            ("phone +44 20 7946 0958", set(Channel::Phone, Some(number))),
            ("phone off", set(Channel::Phone, None)),
        ] {
            assert_eq!(parse(rest), Ok(expected), "{rest}");
        }
        for (rest, expected) in [
            ("email dan", "is not an email address"),
            ("email <dan@example.org>", "is not an email address"),
            ("phone 020 7946 0958", "international form"),
            ("webhook https://x", "calls a phone number"),
            ("ntfy", "usage"),
            ("ntfy a b", "usage"),
            ("email", "usage"),
            ("pager 123", "usage"),
        ] {
            let error = parse(rest).expect_err(rest).to_string();
            assert!(error.contains(expected), "{rest}: {error}");
        }
    }
}
