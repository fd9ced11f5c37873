//! The one dispatch: a parsed command runs where its [`CommandInfo`] says it may run, by whom it
//! says, through the executor of its kind. A command that changes an incident is decided by its
//! pure decision (in `crate::commands`) and carried out by [`Change::carry_out`]; those with more
//! I/O of their own have an executor in [`super::exec`].
//!
//! [`CommandInfo`]: crate::commands::CommandInfo

use brigade_core::{incident::Role, record::IncidentRecord};
use matrix_sdk::ruma::{events::room::power_levels::UserPowerLevel, UserId};

use super::{bot::Bot, change::Change, error::ActionError, exec, lookup, names, partners};
use crate::{
    commands::{
        self, decide, may_direct, may_speak, Answer, Command, ParseError, Refusal, Scope, Who,
        COMMANDS,
    },
    oncall,
};

/// Runs `parsed`, sent as the change's cause. A refusal comes back as an answer; an error only
/// when trying again may go through.
pub async fn run(
    change: &Change<'_>,
    parsed: Result<Command, ParseError>,
) -> Result<Answer, ActionError> {
    let bot = change.bot;
    if let Some(record) = partners::incident_of(bot, change.room.room_id()).await? {
        return Ok(in_shared_room(change, &record, parsed).await);
    }
    if !bot.config.access.allows(change.sender) {
        let servers: Vec<String> = bot
            .config
            .access
            .allowed_servers
            .iter()
            .map(ToString::to_string)
            .collect();
        return Ok(Answer::refused(format!(
            "Brigade takes commands from users of {} only",
            servers.join(", ")
        )));
    }
    let command = match parsed {
        Ok(command) => command,
        Err(error) => return Ok(Answer::refused(error.to_string())),
    };
    let result = match command.info().scope {
        Scope::Anywhere => anywhere(change, command).await,
        Scope::Incident => match bot.store.incident(change.room.room_id()).await? {
            Some(record) => in_incident(change, record, command).await,
            None => Ok(not_an_incident_room(&command)),
        },
    };
    match result {
        Err(ActionError::Refused(refusal)) => Ok(Answer::Refused(refusal)),
        other => other,
    }
}

/// The commands that run anywhere.
async fn anywhere(change: &Change<'_>, command: Command) -> Result<Answer, ActionError> {
    let bot = change.bot;
    match command {
        Command::Help { topic } => Ok(commands::help(topic.as_deref())),
        Command::Declare(args) => exec::declare::run(change, args).await,
        Command::List { all } => exec::list::run(bot, change.sender, all).await,
        Command::OnCall(team) => {
            let now = oncall::timestamp(bot.clock.now_millis());
            let people = oncall::people(&bot.config.oncall, now);
            let names = names::of_anyone(change.room, people.iter().map(|user| &**user)).await;
            Ok(
                match crate::escalation::answer(&bot.config, team.as_deref(), now, &names) {
                    Ok(text) => Answer::done(text),
                    Err(refusal) => Answer::refused(refusal),
                },
            )
        }
        Command::Forward(args) => exec::forward::run(change, args).await,
        Command::Cover(args) => exec::cover::run(change, args).await,
        Command::Notify(args) => exec::notify::run(change, args).await,
        other => Ok(not_an_incident_room(&other)),
    }
}

fn not_an_incident_room(command: &Command) -> Answer {
    Answer::refused(format!(
        "`!inc {}` works in an incident room, and this is not one; `!inc list` links them",
        command.name()
    ))
}

/// The commands that act on the incident of the room they are sent in, `record`.
async fn in_incident(
    change: &Change<'_>,
    record: IncidentRecord,
    command: Command,
) -> Result<Answer, ActionError> {
    // Finishing a command a crash interrupted after its change was stored: answer the same.
    if let Some(applied) = record.applied(change.cause) {
        return Ok(Answer::Done(Some(
            applied.answer.clone().unwrap_or_default(),
        )));
    }
    // Everyone the incident names, the sender and whom the command names, by name.
    let names = names::of_incident(
        change.room,
        &record,
        std::iter::once(change.sender).chain(command.person()),
    )
    .await;
    // The commander directs without their level being read, and speaks as comms does.
    let commander = record.incident.commanded_by(change.sender);
    let comms = record.incident.roles.get(&Role::Comms) == Some(&change.sender.to_owned());
    match command.who() {
        Who::Directors if !commander => {
            let level = level(change, change.sender).await?;
            may_direct(&record, change.sender, level, command.name(), &names)?;
        }
        Who::Spokespeople if !commander && !comms => {
            let level = level(change, change.sender).await?;
            may_speak(&record, change.sender, level, command.name(), &names)?;
        }
        _ => {}
    }
    let (bot, asked) = (change.bot, change.asked());
    let brigade = &bot.config.matrix.user_id;
    match command {
        Command::Status { to, note } => {
            change
                .carry_out(decide::status(&record, to, note, asked)?)
                .await
        }
        Command::Reopen => change.carry_out(decide::reopen(&record, asked)?).await,
        Command::Sev(severity) => {
            change
                .carry_out(decide::sev(&record, severity, asked)?)
                .await
        }
        Command::Lead(user) => {
            let joined = lookup::is_joined(change.room, &user).await?;
            let decided = decide::lead(&record, &user, joined, brigade, asked, &names)?;
            change.carry_out(decided).await
        }
        Command::Role(role, user) => {
            let joined = lookup::is_joined(change.room, &user).await?;
            let decided = decide::role(&record, role, &user, joined, brigade, asked, &names)?;
            change.carry_out(decided).await
        }
        Command::Update(text) => {
            change
                .carry_out(decide::update(&record, text, asked)?)
                .await
        }
        Command::PublicUpdate(text) => {
            change
                .carry_out(decide::update_public(&record, text, asked)?)
                .await
        }
        Command::Affects(args) if args.component.is_none() => Ok(Answer::done(
            decide::affects_listing(&record, &bot.config.status)?,
        )),
        Command::Affects(args) => {
            let decided = decide::affects(&record, args, &bot.config.status, asked)?;
            change.carry_out(decided).await
        }
        Command::Public(args) => change.carry_out(decide::public(&record, args)?).await,
        Command::Summary(text) => change.carry_out(decide::summary(&record, text)?).await,
        Command::Followup(args) => exec::followup::run(change, &record, args).await,
        Command::Page(targets) => exec::page::run(change, record, &targets).await,
        Command::Ack => change.carry_out(decide::ack(&record, asked)?).await,
        Command::Escalate => change.carry_out(decide::escalate(&record, asked)?).await,
        Command::Timeline => Ok(Answer::done(
            exec::postmortem::timeline(bot, change.room, &record).await,
        )),
        Command::Private => exec::private::run(change, &record).await,
        Command::Share(args) => exec::share::run(change, record, args).await,
        Command::Postmortem => exec::postmortem::draft(change, &record).await,
        Command::Transcript => exec::transcript::run(change, &record).await,
        Command::Close => exec::close::run(change, &record).await,
        Command::Call => exec::call::run(change, &record).await,
        Command::Widget(on) => {
            super::widgets::set_panel(bot, change.room, on).await?;
            Ok(Answer::done(if on {
                "The incident panel is back in this room's top bar."
            } else {
                "The incident panel is out of this room; `!inc widget on` brings it back."
            }))
        }
        other => anywhere(change, other).await,
    }
}

/// `user`'s power level in the change's room.
async fn level(change: &Change<'_>, user: &UserId) -> Result<i64, ActionError> {
    Ok(match change.room.get_user_power_level(user).await? {
        UserPowerLevel::Int(level) => level.into(),
        _ => i64::MAX,
    })
}

/// A command in the room an incident shares with partners: read-only commands, for everyone in
/// it; the incident itself is run from its own room.
async fn in_shared_room(
    change: &Change<'_>,
    record: &IncidentRecord,
    parsed: Result<Command, ParseError>,
) -> Answer {
    let (bot, sender) = (change.bot, change.sender);
    let command = match parsed {
        Ok(command) => command,
        Err(error) => return Answer::refused(error.to_string()),
    };
    let name = command.name();
    if !command.info().in_shared_room {
        return Answer::Refused(not_for_the_shared_room(bot, record, sender, name));
    }
    match command {
        Command::Timeline => {
            Answer::done(exec::postmortem::timeline(bot, change.room, &record.shared_view()).await)
        }
        Command::Help { topic } => commands::help(topic.as_deref()),
        _ => Answer::refused(format!(
            "`!inc {name}` is not for the shared room; run it in the incident room"
        )),
    }
}

/// Why `user` may not run `command` in a shared room, saying where to go instead.
fn not_for_the_shared_room(
    bot: &Bot,
    record: &IncidentRecord,
    user: &UserId,
    command: &str,
) -> Refusal {
    let allowed: Vec<String> = COMMANDS
        .iter()
        .filter(|info| info.in_shared_room)
        .map(|info| format!("`!inc {}`", info.name))
        .collect();
    Refusal::new(if bot.config.access.allows(user) {
        format!(
            "this is the room shared with partners; run `!inc {command}` in the incident room {}. Here: {}",
            crate::render::permalink(&record.alias),
            allowed.join(", ")
        )
    } else {
        format!(
            "you take part as a partner ({}): partners may use {} here; {} is run by its commander",
            partners::partner_name(bot, user.server_name()),
            allowed.join(", "),
            record.incident.number
        )
    })
}
