//! `!inc help [command]`: what the bot can do.

use super::{find, Answer, Command, CommandInfo, ParseError, COMMANDS};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "help",
    arguments: "[command]",
    summary: "list the commands, or explain one",
};

pub(super) fn parse(arguments: &[&str]) -> Result<Command, ParseError> {
    match arguments {
        [] => Ok(Command::Help { topic: None }),
        [topic] => Ok(Command::Help {
            topic: Some((*topic).to_owned()),
        }),
        _ => Err(ParseError::Usage {
            usage: INFO.usage(),
        }),
    }
}

pub(super) fn run(topic: Option<&str>) -> Answer {
    let Some(topic) = topic else {
        let mut text = String::from("**Brigade commands**\n\n");
        for info in COMMANDS {
            text.push_str(&format!("- `{}`: {}\n", info.usage(), info.summary));
        }
        text.push_str("\n`!incident` works as well as `!inc`.");
        return Answer::Done(Some(text));
    };
    // People often type the prefix again: `!inc help !inc help`.
    let name = topic.trim_start_matches('!');
    match find(name) {
        Some(info) => Answer::Done(Some(format!("`{}`: {}", info.usage(), info.summary))),
        None => Answer::Refused(format!(
            "there is no command `{name}`; `!inc help` lists them"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_command() {
        let Answer::Done(Some(text)) = run(None) else {
            panic!("help answers with text")
        };
        for info in COMMANDS {
            assert!(text.contains(&info.usage()), "{text}");
        }
    }

    #[test]
    fn help_on_one_command_gives_its_usage() {
        assert_eq!(
            run(Some("help")),
            Answer::Done(Some(
                "`!inc help [command]`: list the commands, or explain one".into()
            ))
        );
    }

    #[test]
    fn help_on_an_unknown_command_is_refused() {
        assert!(
            matches!(run(Some("frobnicate")), Answer::Refused(reason) if reason.contains("frobnicate"))
        );
    }

    #[test]
    fn help_takes_at_most_one_argument() {
        assert!(matches!(parse(&["a", "b"]), Err(ParseError::Usage { .. })));
    }
}
