//! `!inc cover <@user|me> [for 2h] [team]`: someone on call for a team instead of its
//! rotation, for a while, as an override of the configuration would put them.

use std::time::Duration;

use brigade_core::oncall::{Override, Rotation};
use jiff::Timestamp;
use matrix_sdk::ruma::{OwnedUserId, ServerName, UserId};

use super::{
    args,
    decision::Refusal,
    info::{CommandInfo, ParseError, Scope, Who},
    page::unknown_team,
};
use crate::{config::Config, names::Names, oncall};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "cover",
    arguments: "<@user|me> [for 2h] [team]",
    summary: "put someone on call for a team instead of its rotation, for a while (the rest of the shift unless said); for the team's members and whoever is on call for it",
    scope: Scope::Anywhere,
    who: Who::Anyone,
    in_shared_room: false,
};

/// The longest cover taken from chat: longer ones belong in the configuration's overrides.
const LONGEST: Duration = Duration::from_secs(14 * 24 * 3600);

/// What `!inc cover` was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverArgs {
    /// Who covers; the sender when `None` (`me`).
    pub who: Option<OwnedUserId>,
    /// For how long; the rest of the current shift when `None`.
    pub lasting: Option<Duration>,
    /// For which team; the one the sender (or else the one who covers) is in, when `None`.
    pub team: Option<String>,
}

pub(super) fn parse(rest: &str, server: &ServerName) -> Result<CoverArgs, ParseError> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let Some((first, mut rest)) = words.split_first() else {
        return Err(args::usage(&INFO));
    };
    let who = match *first {
        "me" => None,
        word => Some(args::user(word, server)?),
    };
    let mut lasting = None;
    if let ["for", duration, more @ ..] = rest {
        let parsed = humantime_serde::re::humantime::parse_duration(duration).map_err(|_| {
            ParseError::Invalid(format!(
                "`{duration}` is not a duration such as `2h` or `30m`"
            ))
        })?;
        if parsed.is_zero() || parsed > LONGEST {
            return Err(ParseError::Invalid(format!(
                "`{duration}`: a cover lasts more than nothing and two weeks at most; longer ones go in the configuration's overrides"
            )));
        }
        lasting = Some(parsed);
        rest = more;
    }
    let team = match rest {
        [] => None,
        [team] => Some((*team).to_owned()),
        _ => return Err(args::usage(&INFO)),
    };
    Ok(CoverArgs { who, lasting, team })
}

/// A cover decided: the team's rotation, the cover to put in it, and the answer.
#[derive(Debug)]
pub struct Covered<'a> {
    /// The team's rotation.
    pub rotation: &'a Rotation,
    /// The cover.
    pub cover: Override,
    /// What the bot says.
    pub answer: String,
}

/// What `!inc cover` by `sender` at `now` does, or why it does nothing. People are named by
/// `names`.
pub fn decide<'a>(
    args: &CoverArgs,
    sender: &UserId,
    config: &'a Config,
    now: Timestamp,
    names: &Names,
) -> Result<Covered<'a>, Refusal> {
    let who = args.who.as_deref().unwrap_or(sender);
    // Whoever is on call is invited where pages go, private incidents included.
    if !config.access.allows(who) || who.as_str() == config.matrix.user_id.as_str() {
        return Err(Refusal::new(format!(
            "{} cannot be on call: only people of the servers Brigade takes commands from can",
            names.pill(who)
        )));
    }
    let rotation = team(args, sender, who, config, now)?;
    let on_call = rotation.on_call(now);
    let current = on_call.as_ref().map(|on_call| &*on_call.who);
    if !rotation.takes_turns(sender) && current != Some(sender) {
        return Err(Refusal::new(format!(
            "only the members of **{}**'s rotation, or whoever is on call for it, put someone else on call",
            rotation.team()
        )));
    }
    let until = match (args.lasting, &on_call) {
        (Some(lasting), _) => jiff::SignedDuration::try_from(lasting)
            .ok()
            .and_then(|lasting| now.checked_add(lasting).ok())
            .unwrap_or(now),
        (None, Some(on_call)) => on_call.until,
        (None, None) => {
            return Err(Refusal::new(format!(
                "nobody is on call for **{}** now, so there is no shift to cover: say for how long (`for 2h`)",
                rotation.team()
            )))
        }
    };
    if current == Some(who) && args.lasting.is_none() {
        return Err(Refusal::new(format!(
            "{} is on call for **{}** already, until {}",
            names.pill(who),
            rotation.team(),
            oncall::local(rotation, until)
        )));
    }
    let instead = match current.filter(|current| *current != who) {
        Some(current) => format!(" instead of {}", names.pill(current)),
        None => String::new(),
    };
    let answer = format!(
        "🛡️ {} is on call for **{}**{instead} until {}, set by {}.",
        names.pill(who),
        rotation.team(),
        oncall::local(rotation, until),
        names.pill(sender)
    );
    Ok(Covered {
        rotation,
        cover: Override {
            who: who.to_owned(),
            from: now,
            until,
        },
        answer,
    })
}

/// The team `args` name; or the one team the sender is on call for, or else takes turns in;
/// or else the one `who` takes turns in.
fn team<'a>(
    args: &CoverArgs,
    sender: &UserId,
    who: &UserId,
    config: &'a Config,
    now: Timestamp,
) -> Result<&'a Rotation, Refusal> {
    if config.oncall.is_empty() {
        return Err(Refusal::new(
            "no on-call rotations are configured ([[oncall]] in the bot's configuration)",
        ));
    }
    if let Some(team) = &args.team {
        return config
            .rotation(team)
            .ok_or_else(|| unknown_team(config, team));
    }
    let rotations = || config.oncall.iter();
    let only = |holds: &dyn Fn(&Rotation) -> bool| {
        let found: Vec<&'a Rotation> = rotations().filter(|rotation| holds(rotation)).collect();
        match found.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    };
    let on_call = |rotation: &Rotation| rotation.on_call(now).is_some_and(|on| on.who == sender);
    only(&on_call)
        .or_else(|| only(&|rotation| rotation.takes_turns(sender)))
        .or_else(|| only(&|rotation| rotation.takes_turns(who)))
        .ok_or_else(|| {
            let teams: Vec<&str> = rotations().map(Rotation::team).collect();
            Refusal::new(format!(
                "which team? Name it: `!inc cover @name for 2h <team>` (teams: {})",
                teams.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::{server_name, user_id};

    use super::*;

    fn parsed(rest: &str) -> Result<CoverArgs, ParseError> {
        parse(rest, server_name!("example.org"))
    }

    #[test]
    fn a_person_a_duration_and_a_team_in_that_order() {
        assert_eq!(
            parsed("@carl for 2h db"),
            Ok(CoverArgs {
                who: Some(user_id!("@carl:example.org").to_owned()),
                lasting: Some(Duration::from_secs(7200)),
                team: Some("db".to_owned()),
            })
        );
        assert_eq!(
            parsed("me"),
            Ok(CoverArgs {
                who: None,
                lasting: None,
                team: None
            })
        );
        for (rest, expected) in [
            ("", "usage"),
            ("carl", "is not a user"),
            ("me for soon", "is not a duration"),
            ("me for 30d", "two weeks at most"),
            ("me for 0s", "more than nothing"),
            ("me db web", "usage"),
        ] {
            let error = parsed(rest).expect_err(rest).to_string();
            assert!(error.contains(expected), "{rest}: {error}");
        }
    }

    const TEAMS: &str = "[[oncall]]\nteam = \"db\"\nmembers = [\"@dora:example.org\", \"@dan:example.org\"]\nstart = \"2026-01-05T08:00:00Z\"\nshift_hours = 168\n\
                         [[oncall]]\nteam = \"web\"\nmembers = [\"@wes:example.org\"]\nstart = \"2026-01-05T08:00:00Z\"\nshift_hours = 168\n";

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a time")
    }

    #[test]
    fn a_member_or_the_on_call_puts_someone_on_call_for_the_rest_of_the_shift_or_a_while() {
        let config = Config::for_tests(TEAMS);
        let now = at("2026-01-06T12:00:00Z");
        let names = Names::new();
        let dora = user_id!("@dora:example.org");
        let args = |who: Option<&str>, lasting, team: Option<&str>| CoverArgs {
            who: who.map(|who| UserId::parse(who).expect("a user")),
            lasting,
            team: team.map(str::to_owned),
        };
        // Dora is on call for db: Carl covers the rest of her shift.
        let covered = decide(
            &args(Some("@carl:example.org"), None, None),
            dora,
            &config,
            now,
            &names,
        )
        .expect("covered");
        assert_eq!(covered.rotation.team(), "db");
        assert_eq!(covered.cover.until, at("2026-01-12T08:00:00Z"));
        assert!(covered.answer.contains("instead of"), "{}", covered.answer);
        // Dan (a member) takes two hours of web? Not his team: refused; of db: fine.
        let dan = user_id!("@dan:example.org");
        let refused = decide(&args(None, None, Some("web")), dan, &config, now, &names)
            .expect_err("not a web member");
        assert!(refused.text.contains("only the members"), "{refused}");
        let covered = decide(
            &args(None, Some(Duration::from_secs(7200)), None),
            dan,
            &config,
            now,
            &names,
        )
        .expect("his own team");
        assert_eq!(covered.cover.until, at("2026-01-06T14:00:00Z"));
        // A stranger, an unknown team, someone on call already.
        let stranger = user_id!("@eve:example.org");
        assert!(decide(
            &args(None, None, Some("db")),
            stranger,
            &config,
            now,
            &names
        )
        .expect_err("a stranger")
        .text
        .contains("only the members"));
        assert!(
            decide(&args(None, None, Some("dns")), dora, &config, now, &names)
                .expect_err("unknown")
                .text
                .contains("no on-call team `dns`")
        );
        assert!(decide(&args(None, None, None), dora, &config, now, &names)
            .expect_err("already")
            .text
            .contains("already"));
        // Pages reach whoever is on call: never someone of a server Brigade does not serve,
        // nor the bot.
        for outsider in ["@mallory:evil.example", "@brigade:example.org"] {
            let refused = decide(
                &args(Some(outsider), None, None),
                dora,
                &config,
                now,
                &names,
            )
            .expect_err(outsider);
            assert!(refused.text.contains("cannot be on call"), "{refused}");
        }
    }
}
