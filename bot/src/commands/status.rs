//! `!inc status <status> [note]`

use brigade_core::incident::Status;

use super::{args, Command, CommandInfo, ParseError};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "status",
    arguments: "<investigating|identified|monitoring|resolved> [note]",
    summary: "change the status (in an incident room)",
};

pub(super) fn parse(rest: &str) -> Result<Command, ParseError> {
    let (word, note) = args::split_word(rest);
    let Some(word) = word else {
        return Err(args::usage(&INFO));
    };
    let to: Status = word.parse().map_err(args::invalid)?;
    if !Status::SETTABLE.contains(&to) {
        return Err(ParseError::Invalid(format!(
            "`{to}` is not set with status: {}",
            if to == Status::Closed {
                "use `!inc close` once resolved"
            } else {
                "use investigating, identified, monitoring or resolved"
            }
        )));
    }
    if let Some(note) = note {
        args::not_too_long(note)?;
    }
    Ok(Command::Status {
        to,
        note: note.map(str::to_owned),
    })
}
