//! What a command decides, before anything is carried out: the answer people read, or the
//! change to an incident's record with what must happen in the room for it.
//!
//! Decisions take the stored record, the sender, the time and the facts the Matrix layer read
//! (a power level, whether someone is in the room), and touch nothing: the Matrix layer carries
//! a [`Decided`] change out, so each decision is tested without a homeserver.

use brigade_core::{
    incident::{IncidentError, Role, Update},
    levels::MODERATOR_LEVEL,
    record::IncidentRecord,
};
use matrix_sdk::ruma::{OwnedUserId, UserId};

use crate::{names::Names, render};

/// What the bot says back to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Done: ✅, and the text (Markdown) in the thread when there is one.
    Done(Option<String>),
    /// Refused or malformed: ❓ and a one-line reason that says what would work.
    Refused(Refusal),
}

impl Answer {
    /// Done, saying `text`.
    pub fn done(text: impl Into<String>) -> Self {
        Self::Done(Some(text.into()))
    }

    /// Refused, saying why.
    pub fn refused(text: impl Into<String>) -> Self {
        Self::Refused(Refusal::new(text))
    }
}

/// Why a command, a reaction or a forward changes nothing: the one line people read after ❓,
/// which says what would work, and a short label for metrics and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What people read.
    pub text: String,
    /// What kind of refusal it is, as a metric label.
    pub label: &'static str,
}

impl Refusal {
    /// A refusal people read as `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            label: "refused",
        }
    }

    /// A refusal with a metric label of its own.
    pub fn labelled(label: &'static str, text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            label,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<IncidentError> for Refusal {
    fn from(error: IncidentError) -> Self {
        Self::new(error.to_string())
    }
}

impl From<Refusal> for Answer {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

/// A change to one incident, decided: the record it leaves, the answer, and what the room must
/// show of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// The record after the change (not yet stored).
    pub next: IncidentRecord,
    /// What the bot answers.
    pub answer: String,
    /// A status update to post in the room (already in `next`'s updates).
    pub update: Option<Update>,
    /// Whether the update is on the status page too.
    pub public: bool,
    /// People whose power levels must follow their roles now.
    pub levels: Vec<OwnedUserId>,
}

/// Who asked for a change, and when (by the homeserver's clock, from their message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asked<'a> {
    /// The sender.
    pub by: &'a UserId,
    /// When they sent it, in milliseconds since the Unix epoch.
    pub at: u64,
}

impl Decided {
    /// A change that needs nothing in the room but the answer.
    pub fn new(next: IncidentRecord, answer: impl Into<String>) -> Self {
        Self {
            next,
            answer: answer.into(),
            update: None,
            public: false,
            levels: Vec::new(),
        }
    }

    /// The change with a status update to post: `text`, by whoever asked.
    pub fn with_update(self, text: String, asked: Asked<'_>) -> Result<Self, Refusal> {
        self.posting(text, asked, false)
    }

    /// The change with an update for the public: posted in the room as any update, and on the
    /// status page.
    pub fn with_public_update(self, text: String, asked: Asked<'_>) -> Result<Self, Refusal> {
        self.posting(text, asked, true)
    }

    fn posting(mut self, text: String, asked: Asked<'_>, public: bool) -> Result<Self, Refusal> {
        let update = Update {
            at: asked.at,
            author: asked.by.to_owned(),
            text,
        };
        let incident = &mut self.next.incident;
        if public {
            incident.add_public_update(update.clone())?;
        } else {
            incident.add_update(update.clone())?;
        }
        self.update = Some(update);
        self.public = public;
        Ok(self)
    }
}

/// Refuses `user` for a role: Brigade itself, or someone not `joined` to the room.
pub(super) fn a_person(user: &UserId, joined: bool, brigade: &UserId) -> Result<(), Refusal> {
    if user == brigade {
        return Err(Refusal::new(
            "Brigade runs the room; roles are for people in it",
        ));
    }
    if !joined {
        return Err(Refusal::new(format!(
            "{user} is not in this room; page them first with `!inc page {user}`"
        )));
    }
    Ok(())
}

/// Whether `sender` may speak for `record`'s incident in public at their power `level`: its
/// commander, whoever has its comms role, or a moderator (50 and up).
pub fn may_speak(
    record: &IncidentRecord,
    sender: &UserId,
    level: i64,
    command: &str,
    names: &Names,
) -> Result<(), Refusal> {
    let comms = record.incident.roles.get(&Role::Comms);
    if record.incident.commanded_by(sender)
        || comms.is_some_and(|comms| comms == sender)
        || level >= MODERATOR_LEVEL
    {
        return Ok(());
    }
    let comms = match comms {
        Some(comms) => format!(", comms ({})", names.pill(comms)),
        None => String::new(),
    };
    Err(Refusal::new(format!(
        "only the commander ({}){comms} or a moderator (power level {MODERATOR_LEVEL} or more) may use `!inc {command}`: it speaks for the incident in public",
        render::commander(&record.incident, names)
    )))
}

/// Whether `sender` may direct `record`'s incident at their power `level`: its commander, or a
/// moderator (50 and up).
/// `command` names what was asked for, in the refusal; `names` name the commander.
pub fn may_direct(
    record: &IncidentRecord,
    sender: &UserId,
    level: i64,
    command: &str,
    names: &Names,
) -> Result<(), Refusal> {
    if record.incident.commanded_by(sender) || level >= MODERATOR_LEVEL {
        return Ok(());
    }
    Err(Refusal::new(format!(
        "only the commander ({}) or a moderator (power level {MODERATOR_LEVEL} or more) may use `!inc {command}`",
        render::commander(&record.incident, names)
    )))
}

#[cfg(test)]
mod tests {
    use brigade_core::{incident::Severity, testing};
    use matrix_sdk::ruma::user_id;

    use super::*;

    #[test]
    fn the_commander_comms_and_moderators_speak_in_public_and_no_one_else() {
        let mut record = testing::record(1, "DNS", Severity::Sev2, 1_000);
        let carol = user_id!("@carol:example.org");
        record.incident.roles.insert(Role::Comms, carol.to_owned());
        let names = Names::new();
        let speaks = |who: &UserId, level| may_speak(&record, who, level, "update", &names);
        assert!(
            speaks(user_id!("@alice:example.org"), 0).is_ok(),
            "the commander"
        );
        assert!(speaks(carol, 0).is_ok(), "comms");
        assert!(speaks(user_id!("@mod:example.org"), MODERATOR_LEVEL).is_ok());
        let refused = speaks(user_id!("@dan:example.org"), 0).expect_err("refused");
        assert!(refused.text.contains("comms"), "{refused}");
    }

    #[test]
    fn the_commander_and_moderators_direct_and_others_are_refused() {
        let record = testing::record(1, "DNS", Severity::Sev2, 1_000);
        let commander = record.incident.commander.clone().expect("a commander");
        assert_eq!(
            may_direct(&record, &commander, 0, "sev", &Names::new()),
            Ok(())
        );
        assert_eq!(
            may_direct(
                &record,
                user_id!("@mod:example.org"),
                50,
                "sev",
                &Names::new()
            ),
            Ok(())
        );
        let refused = may_direct(
            &record,
            user_id!("@bob:example.org"),
            49,
            "sev",
            &Names::new(),
        )
        .expect_err("level 49");
        assert!(refused.text.contains("only the commander"), "{refused}");
    }

    #[test]
    fn roles_are_for_people_in_the_room() {
        let brigade = user_id!("@brigade:example.org");
        let bob = user_id!("@bob:example.org");
        assert!(a_person(brigade, true, brigade).is_err());
        let away = a_person(bob, false, brigade).expect_err("not joined");
        assert!(away.text.contains("page them first"), "{away}");
        assert_eq!(a_person(bob, true, brigade), Ok(()));
    }

    #[test]
    fn an_update_is_kept_and_posted_unless_the_incident_is_closed() {
        let record = testing::record(1, "DNS", Severity::Sev2, 1_000);
        let asked = Asked {
            by: user_id!("@bob:example.org"),
            at: 2_000,
        };
        let decided = Decided::new(record.clone(), "ok")
            .with_update("rolled back".to_owned(), asked)
            .expect("updated");
        assert_eq!(decided.next.incident.updates().len(), 1);
        assert_eq!(
            decided.update.map(|update| update.text),
            Some("rolled back".to_owned())
        );
        let mut closed = record;
        closed.incident.status = brigade_core::incident::Status::Closed;
        let refused = Decided::new(closed, "ok").with_update("too late".to_owned(), asked);
        assert!(refused.is_err(), "a closed incident takes no update");
    }
}
