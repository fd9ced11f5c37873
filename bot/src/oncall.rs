//! "Who is on call?": the answer to `!inc oncall [team]` and to the same question in plain
//! words in a direct message. Pure: the time and the rotations come in.

use brigade_core::oncall::Rotation;
use jiff::Timestamp;
use matrix_sdk::ruma::OwnedUserId;

use crate::names::Names;

/// `millis` since the epoch as a [`Timestamp`] (the epoch itself if out of range).
pub fn timestamp(millis: u64) -> Timestamp {
    i64::try_from(millis)
        .ok()
        .and_then(|millis| Timestamp::from_millisecond(millis).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Whether `text` asks who is on call (in English or French), and for which team if it names
/// one: `names` pairs each word that names a team (its name, or a keyword of a route to its
/// on-call) with the team. `None` when it is not that question.
pub fn question<'a>(
    text: &str,
    names: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<Option<String>> {
    let text = text
        .to_lowercase()
        .replace(['’', '\''], " ")
        .replace(|c: char| !c.is_alphanumeric() && c != ' ', " ");
    let words: Vec<&str> = text.split_whitespace().collect();
    let phrase = words.join(" ");
    const ASKS: [&str; 6] = [
        "who is on call",
        "who s on call",
        "whos on call",
        "who is oncall",
        "qui est d astreinte",
        "qui est de garde",
    ];
    if !ASKS.iter().any(|ask| phrase.contains(ask)) {
        return None;
    }
    let team = names
        .into_iter()
        .find(|(name, _)| words.iter().any(|word| word.eq_ignore_ascii_case(name)))
        .map(|(_, team)| team.to_owned());
    Some(team)
}

/// Who is on call at `now`, and next, in any of `rotations`: the people [`answer`] names.
pub fn people(rotations: &[Rotation], now: Timestamp) -> Vec<OwnedUserId> {
    rotations
        .iter()
        .filter_map(|rotation| rotation.on_call(now))
        .flat_map(|on_call| std::iter::once(on_call.who).chain(on_call.next))
        .collect()
}

/// The answer for `team` (every team when `None`) at `now`, or why there is none; people are
/// named by `names`.
pub fn answer(
    rotations: &[Rotation],
    team: Option<&str>,
    now: Timestamp,
    names: &Names,
) -> Result<String, String> {
    if rotations.is_empty() {
        return Err(
            "no on-call rotations are configured ([[oncall]] in the bot's configuration)"
                .to_owned(),
        );
    }
    let chosen: Vec<&Rotation> = match team {
        Some(team) => {
            let found = rotations
                .iter()
                .find(|rotation| rotation.team().eq_ignore_ascii_case(team));
            match found {
                Some(rotation) => vec![rotation],
                None => {
                    let known: Vec<&str> = rotations.iter().map(Rotation::team).collect();
                    return Err(format!(
                        "no on-call team `{team}`: teams are {}",
                        known.join(", ")
                    ));
                }
            }
        }
        None => rotations.iter().collect(),
    };
    let lines: Vec<String> = chosen
        .iter()
        .map(|rotation| {
            let Some(on_call) = rotation.on_call(now) else {
                let next = rotation.next_start(now).map_or_else(
                    || "no shift is planned".to_owned(),
                    |start| format!("the next shift begins {}", local(rotation, start)),
                );
                return format!("📟 **{}**: nobody is on call now; {next}", rotation.team());
            };
            let how = if on_call.overridden {
                " (override)"
            } else {
                ""
            };
            let next = on_call
                .next
                .map_or_else(|| "nobody".to_owned(), |next| names.pill(&next));
            format!(
                "📟 **{}**: {}{how} until {}; then {next}",
                rotation.team(),
                names.pill(&on_call.who),
                local(rotation, on_call.until)
            )
        })
        .collect();
    Ok(lines.join("  \n"))
}

/// `at` in the rotation's time zone: `Sun 2026-11-29 09:00 CET`.
pub fn local(rotation: &Rotation, at: Timestamp) -> String {
    at.to_zoned_datetime(rotation.zone().clone())
        .strftime("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use brigade_core::oncall::Override;
    use jiff::tz::TimeZone;
    use matrix_sdk::ruma::owned_user_id;

    use super::*;

    fn rotations() -> Vec<Rotation> {
        let db = Rotation::new(
            "db",
            vec![
                owned_user_id!("@dan:example.org"),
                owned_user_id!("@dora:example.org"),
            ],
            "2026-01-05T08:00:00Z".parse().expect("time"),
            168,
            TimeZone::get("Europe/Paris").expect("zone"),
            vec![Override {
                who: owned_user_id!("@olga:example.org"),
                from: "2026-11-28T08:00:00Z".parse().expect("time"),
                until: "2026-11-29T08:00:00Z".parse().expect("time"),
            }],
        )
        .expect("valid");
        vec![db]
    }

    #[test]
    fn the_question_is_understood_in_english_and_french() {
        let teams = [("db", "db"), ("web", "web"), ("database", "db")];
        assert_eq!(question("who is on call?", teams), Some(None));
        assert_eq!(
            question("Who's on call for DB?", teams),
            Some(Some("db".to_owned()))
        );
        assert_eq!(
            question("whos on call web", teams),
            Some(Some("web".to_owned()))
        );
        assert_eq!(question("Qui est d'astreinte ?", teams), Some(None));
        assert_eq!(
            question("qui est d’astreinte pour db", teams),
            Some(Some("db".to_owned()))
        );
        assert_eq!(
            question("who is on call for the database?", teams),
            Some(Some("db".to_owned())),
            "a route's keyword names its team"
        );
        assert_eq!(question("the database is on fire", teams), None);
        assert_eq!(question("call me", teams), None);
    }

    #[test]
    fn the_answer_names_who_until_when_and_who_is_next() {
        let now: Timestamp = "2026-11-28T12:00:00Z".parse().expect("time");
        let mut names = Names::new();
        names.insert(owned_user_id!("@olga:example.org"), "Olga", false);
        let text = answer(&rotations(), Some("DB"), now, &names).expect("an answer");
        assert_eq!(
            crate::names::plain(&text),
            "📟 **db**: Olga (override) until Sun 2026-11-29 09:00 CET; then @dan:example.org"
        );
        assert!(answer(&rotations(), Some("web"), now, &Names::new())
            .expect_err("unknown")
            .contains("no on-call team `web`: teams are db"));
        assert!(answer(&[], None, now, &Names::new())
            .expect_err("none")
            .contains("no on-call rotations"));
    }
}
