//! `!inc notify [email <address>|off]`, in a direct message with the bot: how the sender is
//! reached outside Matrix when a page of theirs goes unacknowledged.

use lettre::Address;

use super::info::{CommandInfo, ParseError, Scope, Who};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "notify",
    arguments: "[email <address>|off]",
    summary: "in a direct message with the bot: be emailed at this address when a page of yours goes unacknowledged, or not at all; alone, how you are reached",
    scope: Scope::Anywhere,
    who: Who::Anyone,
    in_shared_room: false,
};

/// What `!inc notify` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyArgs {
    /// How the sender is reached now.
    Show,
    /// By email at this address.
    Email(Address),
    /// Not outside Matrix.
    Off,
}

pub(super) fn parse(rest: &str) -> Result<NotifyArgs, ParseError> {
    match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
        [] => Ok(NotifyArgs::Show),
        ["off"] => Ok(NotifyArgs::Off),
        ["email", address] => address.parse().map(NotifyArgs::Email).map_err(|_| {
            ParseError::Invalid(format!(
                "`{address}` is not an email address such as `dan@example.org`"
            ))
        }),
        ["ntfy" | "webhook", ..] => Err(ParseError::Invalid(
            "only email is sent outside Matrix in this version: `!inc notify email <address>`"
                .to_owned(),
        )),
        _ => Err(ParseError::Usage {
            usage: INFO.usage(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_off_or_nothing() {
        assert_eq!(parse(""), Ok(NotifyArgs::Show));
        assert_eq!(parse("off"), Ok(NotifyArgs::Off));
        assert_eq!(
            parse("email dan@example.org"),
            Ok(NotifyArgs::Email(
                "dan@example.org".parse().expect("an address")
            ))
        );
        for (rest, expected) in [
            ("email dan", "is not an email address"),
            ("email <dan@example.org>", "is not an email address"),
            ("ntfy https://ntfy.sh/x", "only email"),
            ("sms 123", "usage"),
        ] {
            let error = parse(rest).expect_err(rest).to_string();
            assert!(error.contains(expected), "{rest}: {error}");
        }
    }
}
