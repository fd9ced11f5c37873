//! `!inc widget off|on`

use super::{
    args,
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "widget",
    arguments: "off|on",
    summary: "take the incident panel out of this room's top bar, or put it back",
    scope: Scope::Incident,
    who: Who::Directors,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<bool, ParseError> {
    match rest.trim().to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(args::usage(&INFO)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_and_off_only() {
        assert_eq!(parse("on"), Ok(true));
        assert_eq!(parse(" OFF "), Ok(false));
        assert!(parse("").is_err());
        assert!(parse("maybe").is_err());
    }
}
