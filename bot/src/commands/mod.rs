//! The chat grammar: `!inc <command> [arguments]` (or `!incident …`), one file per command.
//!
//! Parsing touches no network: a message becomes a [`Command`] or a [`ParseError`] that says
//! what would work. Each command's file holds its parser, its [`CommandInfo`] (usage, where it
//! runs, who runs it) and, for a command that changes an incident, its decision: a pure
//! function from the stored record to a [`Decided`] change or a [`Refusal`]. The Matrix layer
//! carries decisions out and turns their [`Answer`] into a ✅ or ❓ reaction and a threaded
//! reply.

mod ack;
mod affects;
mod args;
mod call;
mod close;
mod cover;
mod decision;
mod declare;
mod escalate;
mod followup;
mod forward;
mod help;
mod info;
mod lead;
mod list;
mod notify;
mod oncall;
mod page;
mod postmortem;
mod private;
mod public;
mod reopen;
mod role;
mod sev;
mod share;
mod silence;
mod status;
mod summary;
mod timeline;
mod transcript;
mod update;
mod widget;

use brigade_core::incident::{Role, Severity, Status};
use matrix_sdk::ruma::{OwnedUserId, ServerName, UserId};

pub use affects::AffectsArgs;
pub use call::Call;
pub use cover::{CoverArgs, Covered};
pub use decision::{may_direct, may_speak, Answer, Asked, Decided, Refusal};
pub use declare::DeclareArgs;
pub use followup::{FollowupArgs, FollowupDecided, TicketAsked};
pub use forward::ForwardArgs;
pub use info::{CommandInfo, ParseError, Scope, Who, PREFIXES};
pub use notify::NotifyArgs;
pub use page::{PageTarget, Paged, Paging};
pub use public::PublicArgs;
pub use share::ShareArgs;

/// The commands' decisions, by command.
pub mod decide {
    pub use super::{
        ack::decide as ack, ack::stopped as escalations_stopped, affects::decide as affects,
        affects::listing as affects_listing, call::decide as call, call::started as call_started,
        close::decide as close, cover::decide as cover, declare::decide as declare,
        declare::from_report, escalate::decide as escalate, followup::decide as followup,
        lead::decide as lead, list::shown as list, page::level_targets, page::paging as page,
        page::people as page_people, page::targets as page_targets, private::decide as private,
        private::moved as private_moved, public::decide as public, reopen::decide as reopen,
        role::decide as role, sev::decide as sev, share::decide as share, status::decide as status,
        summary::decide as summary, update::decide as update,
        update::decide_public as update_public,
    };
}

/// Every command this version of the bot runs, in the order help lists them.
pub const COMMANDS: &[CommandInfo] = &[
    declare::INFO,
    list::INFO,
    oncall::INFO,
    cover::INFO,
    notify::INFO,
    status::INFO,
    sev::INFO,
    lead::INFO,
    role::INFO,
    page::INFO,
    ack::INFO,
    escalate::INFO,
    update::INFO,
    affects::INFO,
    public::INFO,
    summary::INFO,
    timeline::INFO,
    followup::INFO,
    forward::INFO,
    share::INFO,
    postmortem::INFO,
    transcript::INFO,
    private::INFO,
    close::INFO,
    reopen::INFO,
    widget::INFO,
    call::INFO,
    silence::INFO,
    help::INFO,
];

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `!inc help [command]`
    Help {
        /// The command to explain; every command when absent.
        topic: Option<String>,
    },
    /// `!inc declare <title> [--sev N] [--type T] [--private] [--started HH:MM]`
    Declare(DeclareArgs),
    /// `!inc list [--all]`
    List {
        /// Closed and resolved incidents too.
        all: bool,
    },
    /// `!inc oncall [team]`
    OnCall(Option<String>),
    /// `!inc status <status> [note]`
    Status {
        /// The new status.
        to: Status,
        /// What changed, posted as an update.
        note: Option<String>,
    },
    /// `!inc sev <1-4>`
    Sev(Severity),
    /// `!inc lead @user`
    Lead(OwnedUserId),
    /// `!inc role <role> @user`
    Role(Role, OwnedUserId),
    /// `!inc page <group|policy|oncall:team|@user>…`
    Page(Vec<PageTarget>),
    /// `!inc ack`
    Ack,
    /// `!inc escalate`
    Escalate,
    /// `!inc update <text>`
    Update(String),
    /// `!inc update --public <text>`
    PublicUpdate(String),
    /// `!inc affects [<component> [impact]]`
    Affects(AffectsArgs),
    /// `!inc public off|on|title <text>`
    Public(PublicArgs),
    /// `!inc summary <text>`
    Summary(String),
    /// `!inc timeline`
    Timeline,
    /// `!inc followup <text> [--owner @user] [--due YYYY-MM-DD] [--ticket <tracker>|none]`
    Followup(FollowupArgs),
    /// `!inc forward …`
    Forward(ForwardArgs),
    /// `!inc share [<server> [@user…]]`
    Share(ShareArgs),
    /// `!inc postmortem`
    Postmortem,
    /// `!inc transcript`
    Transcript,
    /// `!inc private`
    Private,
    /// `!inc close`
    Close,
    /// `!inc reopen`
    Reopen,
    /// `!inc widget off|on`
    Widget(bool),
    /// `!inc call`
    Call,
    /// `!inc cover <@user|me> [for 2h] [team]`
    Cover(CoverArgs),
    /// `!inc notify [email <address>|off]`
    Notify(NotifyArgs),
}

impl Command {
    /// What the command is: its name, usage, where it runs and who runs it.
    pub fn info(&self) -> &'static CommandInfo {
        match self {
            Self::Help { .. } => &help::INFO,
            Self::Declare(_) => &declare::INFO,
            Self::List { .. } => &list::INFO,
            Self::OnCall(_) => &oncall::INFO,
            Self::Status { .. } => &status::INFO,
            Self::Sev(_) => &sev::INFO,
            Self::Lead(_) => &lead::INFO,
            Self::Role(..) => &role::INFO,
            Self::Page(_) => &page::INFO,
            Self::Ack => &ack::INFO,
            Self::Escalate => &escalate::INFO,
            Self::Update(_) | Self::PublicUpdate(_) => &update::INFO,
            Self::Affects(_) => &affects::INFO,
            Self::Public(_) => &public::INFO,
            Self::Summary(_) => &summary::INFO,
            Self::Timeline => &timeline::INFO,
            Self::Followup(_) => &followup::INFO,
            Self::Forward(_) => &forward::INFO,
            Self::Share(_) => &share::INFO,
            Self::Postmortem => &postmortem::INFO,
            Self::Transcript => &transcript::INFO,
            Self::Private => &private::INFO,
            Self::Close => &close::INFO,
            Self::Reopen => &reopen::INFO,
            Self::Widget(_) => &widget::INFO,
            Self::Call => &call::INFO,
            Self::Cover(_) => &cover::INFO,
            Self::Notify(_) => &notify::INFO,
        }
    }

    /// The command's name, as counted in metrics.
    pub fn name(&self) -> &'static str {
        self.info().name
    }

    /// Who may run this command: as its [`CommandInfo`] says, except that `!inc share` and
    /// `!inc affects` alone only read, which anyone may, and a public update speaks for the
    /// incident.
    pub fn who(&self) -> Who {
        match self {
            Self::Share(ShareArgs { server: None, .. })
            | Self::Affects(AffectsArgs {
                component: None, ..
            }) => Who::Anyone,
            Self::PublicUpdate(_) => Who::Spokespeople,
            other => other.info().who,
        }
    }

    /// The person the command names (`!inc lead`, `!inc role`, a follow-up's owner), whose
    /// name its answer shows.
    pub fn person(&self) -> Option<&UserId> {
        match self {
            Self::Lead(user) | Self::Role(_, user) => Some(user),
            Self::Cover(CoverArgs {
                who: Some(user), ..
            }) => Some(user),
            Self::Followup(FollowupArgs {
                owner: Some(owner), ..
            }) => Some(owner),
            _ => None,
        }
    }
}

/// The answer to `!inc help [topic]`.
pub fn help(topic: Option<&str>) -> Answer {
    help::run(topic, COMMANDS)
}

/// Parses a message body; `@name` means a user of `server` (the sender's). `None` when the
/// message is not addressed to the bot at all.
pub fn parse(body: &str, server: &ServerName) -> Option<Result<Command, ParseError>> {
    let rest = strip_prefix(body.trim())?.trim_start();
    let (name, arguments) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if name.is_empty() {
        return Some(Err(ParseError::Empty));
    }
    let words = || arguments.split_whitespace().collect::<Vec<_>>();
    Some(match name.to_lowercase().as_str() {
        "help" => help::parse(&words()).map(|topic| Command::Help { topic }),
        "declare" => declare::parse(arguments).map(Command::Declare),
        "list" => list::parse(arguments).map(|all| Command::List { all }),
        "oncall" | "on-call" => oncall::parse(arguments).map(Command::OnCall),
        "cover" => cover::parse(arguments, server).map(Command::Cover),
        "notify" => notify::parse(arguments).map(Command::Notify),
        "status" => status::parse(arguments).map(|(to, note)| Command::Status { to, note }),
        "sev" | "severity" => sev::parse(arguments).map(Command::Sev),
        "lead" => lead::parse(arguments, server).map(Command::Lead),
        "role" => role::parse(arguments, server).map(|(role, user)| Command::Role(role, user)),
        "page" => page::parse(arguments, server).map(Command::Page),
        "ack" | "acknowledge" => ack::parse(arguments).map(|()| Command::Ack),
        "escalate" => escalate::parse(arguments).map(|()| Command::Escalate),
        "update" => update::parse(arguments).map(|(text, public)| match public {
            true => Command::PublicUpdate(text),
            false => Command::Update(text),
        }),
        "affects" => affects::parse(arguments).map(Command::Affects),
        "public" => public::parse(arguments).map(Command::Public),
        "summary" => summary::parse(arguments).map(Command::Summary),
        "timeline" => timeline::parse(arguments).map(|()| Command::Timeline),
        "followup" | "follow-up" => followup::parse(arguments, server).map(Command::Followup),
        "forward" => forward::parse(arguments).map(Command::Forward),
        "share" => share::parse(arguments).map(Command::Share),
        "postmortem" => postmortem::parse(arguments).map(|()| Command::Postmortem),
        "transcript" => transcript::parse(arguments).map(|()| Command::Transcript),
        "private" => private::parse(arguments).map(|()| Command::Private),
        "close" => close::parse(arguments).map(|()| Command::Close),
        "reopen" => reopen::parse(arguments).map(|()| Command::Reopen),
        "widget" => widget::parse(arguments).map(Command::Widget),
        "call" => call::parse(arguments).map(|()| Command::Call),
        "silence" | "unsilence" => Err(silence::elsewhere()),
        _ => Err(ParseError::Unknown(name.to_owned())),
    })
}

/// The text after `!inc` or `!incident`, if the body starts with one of them as a whole word.
fn strip_prefix(body: &str) -> Option<&str> {
    // The longer prefix first: `!incident` also starts with `!inc`.
    let mut prefixes = PREFIXES;
    prefixes.sort_by_key(|prefix| std::cmp::Reverse(prefix.len()));
    prefixes.iter().find_map(|prefix| {
        let rest = body
            .get(..prefix.len())
            .filter(|head| head.eq_ignore_ascii_case(prefix))?;
        let rest = &body[rest.len()..];
        (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some(rest)
    })
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::{owned_user_id, server_name};

    use super::*;

    fn parsed(body: &str) -> Result<Command, ParseError> {
        parse(body, server_name!("example.org")).expect("addressed to the bot")
    }

    fn refusal(body: &str) -> String {
        parsed(body).expect_err(body).to_string()
    }

    #[test]
    fn declare_takes_options_anywhere_and_the_rest_as_title() {
        assert_eq!(
            parsed("!inc declare Checkout  latency --sev 2 --type=security --started 09:40 in EU"),
            Ok(Command::Declare(DeclareArgs {
                title: "Checkout latency in EU".to_owned(),
                severity: Some(Severity::Sev2),
                kind: Some("security".to_owned()),
                private: false,
                started: Some((9, 40)),
                from_report: false,
            }))
        );
        assert!(matches!(
            parsed("!inc declare DNS --private"),
            Ok(Command::Declare(DeclareArgs { private: true, .. }))
        ));
    }

    #[test]
    fn malformed_declarations_say_what_would_work() {
        assert!(refusal("!inc declare").contains("needs a title"));
        assert!(refusal("!inc declare --sev 2").contains("needs a title"));
        assert!(refusal("!inc declare x --sev 7").contains("unknown severity `7`"));
        assert!(refusal("!inc declare x --sev").contains("`--sev` needs a value"));
        assert!(refusal("!inc declare x --started 25:00").contains("use HH:MM"));
        assert!(refusal("!inc declare x --colour red").contains("unknown option `--colour`"));
    }

    #[test]
    fn status_takes_a_settable_status_and_an_optional_note() {
        assert_eq!(
            parsed("!inc status Monitoring  rolled back the deploy"),
            Ok(Command::Status {
                to: Status::Monitoring,
                note: Some("rolled back the deploy".to_owned())
            })
        );
        assert!(refusal("!inc status closed").contains("!inc close"));
        assert!(refusal("!inc status fixed").contains("unknown status `fixed`"));
        assert!(refusal("!inc status").contains("usage"));
    }

    #[test]
    fn people_are_named_in_full_or_by_local_name() {
        assert_eq!(
            parsed("!inc lead @bob"),
            Ok(Command::Lead(owned_user_id!("@bob:example.org")))
        );
        assert_eq!(
            parsed("!inc role scribe @sam:other.example"),
            Ok(Command::Role(
                Role::Scribe,
                owned_user_id!("@sam:other.example")
            ))
        );
        assert!(refusal("!inc lead bob").contains("not a user"));
        assert!(refusal("!inc role boss @bob").contains("unknown role `boss`"));
        assert_eq!(
            parsed("!inc page dba @bob dba"),
            Ok(Command::Page(vec![
                PageTarget::Named("dba".to_owned()),
                PageTarget::User(owned_user_id!("@bob:example.org")),
            ]))
        );
        assert!(refusal("!inc page").contains("usage"));
        assert_eq!(
            parsed("!inc page oncall:db"),
            Ok(Command::Page(vec![PageTarget::OnCall("db".to_owned())]))
        );
        assert!(refusal("!inc page oncall:").contains("needs a team"));
        assert_eq!(parsed("!inc oncall"), Ok(Command::OnCall(None)));
        assert_eq!(
            parsed("!inc oncall db"),
            Ok(Command::OnCall(Some("db".to_owned())))
        );
        assert!(refusal("!inc oncall db web").contains("usage"));
    }

    #[test]
    fn the_other_commands_parse() {
        assert_eq!(parsed("!inc sev SEV1"), Ok(Command::Sev(Severity::Sev1)));
        assert_eq!(
            parsed("!inc update  DB failover done "),
            Ok(Command::Update("DB failover done".to_owned()))
        );
        assert!(refusal("!inc summary").contains("usage"));
        let long = format!("!inc update {}", "x".repeat(2001));
        assert!(refusal(&long).contains("at most 2000 fit"));
        assert_eq!(parsed("!inc list --all"), Ok(Command::List { all: true }));
        assert_eq!(parsed("!inc reopen"), Ok(Command::Reopen));
        assert!(refusal("!inc reopen now").contains("usage"));
        assert_eq!(parsed("!inc timeline"), Ok(Command::Timeline));
        assert_eq!(
            parsed("!inc forward list"),
            Ok(Command::Forward(ForwardArgs::List))
        );
        assert!(matches!(
            parsed("!inc forward 📝 #postmortems:example.org"),
            Ok(Command::Forward(ForwardArgs::Add { .. }))
        ));
        assert!(refusal("!inc forward 📝 postmortems").contains("is not a room"));
        assert!(refusal("!inc forward").contains("usage"));
        assert_eq!(parsed("!inc postmortem"), Ok(Command::Postmortem));
        assert_eq!(parsed("!inc private"), Ok(Command::Private));
        assert!(refusal("!inc close please").contains("usage: `!inc close`"));
        assert_eq!(
            parsed("!inc followup add a disk alert --owner @bob"),
            Ok(Command::Followup(FollowupArgs {
                text: "add a disk alert".to_owned(),
                owner: Some(owned_user_id!("@bob:example.org")),
                due: None,
                ticket: TicketAsked::Default,
            }))
        );
        assert!(refusal("!inc followup --owner @bob").contains("usage"));
        assert!(refusal("!inc followup x --owner").contains("`--owner` needs @user"));
        assert!(refusal("!inc followup x --owner bob").contains("not a user"));
        assert!(refusal("!inc followup x --ticket").contains("`--ticket` needs <tracker>"));
    }

    #[test]
    fn plain_messages_are_not_commands() {
        assert_eq!(
            parse("the database is on fire", server_name!("example.org")),
            None
        );
        assert_eq!(parse("!income report", server_name!("example.org")), None);
        assert_eq!(
            parse("please run !inc help", server_name!("example.org")),
            None
        );
    }

    #[test]
    fn both_prefixes_work_in_any_case() {
        let help = Some(Ok(Command::Help { topic: None }));
        assert_eq!(parse("!inc help", server_name!("example.org")), help);
        assert_eq!(parse("!incident help", server_name!("example.org")), help);
        assert_eq!(parse("  !INC   HELP  ", server_name!("example.org")), help);
    }

    #[test]
    fn prefix_alone_asks_which_command() {
        assert_eq!(
            parse("!inc", server_name!("example.org")),
            Some(Err(ParseError::Empty))
        );
        assert_eq!(
            parse("!incident   ", server_name!("example.org")),
            Some(Err(ParseError::Empty))
        );
    }

    #[test]
    fn unknown_command_points_at_help() {
        let error = parse("!inc frobnicate now", server_name!("example.org"))
            .expect("addressed")
            .expect_err("unknown");
        assert_eq!(error, ParseError::Unknown("frobnicate".to_owned()));
        assert!(error.to_string().contains("!inc help"));
    }
}
