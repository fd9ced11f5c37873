//! `!inc help [command]`: what the bot can do.

use super::{
    decision::Answer,
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "help",
    arguments: "[command]",
    summary: "list the commands, or explain one",
    scope: Scope::Anywhere,
    who: Who::Anyone,
    in_shared_room: true,
};

pub(super) fn parse(arguments: &[&str]) -> Result<Option<String>, ParseError> {
    match arguments {
        [] => Ok(None),
        [topic] => Ok(Some((*topic).to_owned())),
        _ => Err(ParseError::Usage {
            usage: INFO.usage(),
        }),
    }
}

/// The answer to `!inc help [topic]`, about `commands`.
pub(super) fn run(topic: Option<&str>, commands: &[CommandInfo]) -> Answer {
    let Some(topic) = topic else {
        let mut text = String::from("**Brigade commands**\n\n");
        for info in commands {
            text.push_str(&format!("- `{}`: {}\n", info.usage(), info.summary));
        }
        text.push_str("\n`!incident` works as well as `!inc`.");
        return Answer::Done(Some(text));
    };
    // People often type the prefix again: `!inc help !inc help`.
    let name = topic.trim_start_matches('!');
    match commands
        .iter()
        .find(|info| info.name.eq_ignore_ascii_case(name))
    {
        Some(info) => Answer::Done(Some(format!("`{}`: {}", info.usage(), info.summary))),
        None => Answer::refused(format!(
            "there is no command `{name}`; `!inc help` lists them"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::COMMANDS;

    #[test]
    fn help_lists_every_command() {
        let Answer::Done(Some(text)) = run(None, COMMANDS) else {
            panic!("help answers with text")
        };
        for info in COMMANDS {
            assert!(text.contains(&info.usage()), "{text}");
        }
    }

    #[test]
    fn help_on_one_command_gives_its_usage() {
        assert_eq!(
            run(Some("help"), COMMANDS),
            Answer::Done(Some(
                "`!inc help [command]`: list the commands, or explain one".into()
            ))
        );
    }

    #[test]
    fn help_on_an_unknown_command_is_refused() {
        assert!(
            matches!(run(Some("frobnicate"), COMMANDS), Answer::Refused(refusal) if refusal.text.contains("frobnicate"))
        );
    }

    #[test]
    fn help_takes_at_most_one_argument() {
        assert!(matches!(parse(&["a", "b"]), Err(ParseError::Usage { .. })));
    }
}
