//! What a notification about an unacknowledged page says, whatever carries it: written once
//! per person and step from the record, so that every channel tells the same. A private
//! incident's title and alias stay out of it.

use std::time::Duration;

use brigade_core::{
    clock::millis,
    record::{Escalation, IncidentRecord},
};
use matrix_sdk::ruma::{OwnedUserId, UserId};
use sha2::{Digest, Sha256};

use crate::{config::Config, render, report};

/// One notification about one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageNotice {
    /// Names it: the same for every try, so that a receiver sees a retry as the same one.
    pub id: String,
    /// Who it is for.
    pub user: OwnedUserId,
    /// `INC-4`.
    pub incident: String,
    /// `SEV1`.
    pub severity: String,
    /// The incident's title, unless it is private.
    pub title: Option<String>,
    /// The policy that paged.
    pub policy: String,
    /// The level, from 1.
    pub level: usize,
    /// How many levels the policy has.
    pub levels: usize,
    /// How long the page has gone unacknowledged in Matrix, in words (`1m 30s`), if at all.
    pub unacknowledged_for: Option<String>,
    /// The link that acknowledges.
    pub ack_url: String,
    /// The incident room, for Element.
    pub room_url: String,
}

impl PageNotice {
    /// `[Brigade] INC-4 (SEV1): Database down`, or without the title when private.
    pub fn subject(&self) -> String {
        let (incident, severity) = (&self.incident, &self.severity);
        match &self.title {
            Some(title) => format!("[Brigade] {incident} ({severity}): {title}"),
            None => format!("[Brigade] {incident} ({severity}, private) needs you"),
        }
    }

    /// `INC-4 · SEV1 · Database down`, or `… · a private incident`.
    pub fn heading(&self) -> String {
        let what = self.title.as_deref().unwrap_or("a private incident");
        format!("{} · {} · {what}", self.incident, self.severity)
    }

    /// Why they are told: `You were paged by escalation policy db (level 1 of 2), and nobody
    /// has acknowledged it in Matrix for 2m.`
    pub fn why(&self) -> String {
        let unacknowledged = match &self.unacknowledged_for {
            Some(time) => format!("nobody has acknowledged it in Matrix for {time}"),
            None => "nobody has acknowledged it in Matrix yet".to_owned(),
        };
        format!(
            "You were paged by escalation policy {} (level {} of {}), and {unacknowledged}.",
            self.policy, self.level, self.levels
        )
    }

    /// The whole of it in one short text, for a text message or a call's voice.
    pub fn short(&self) -> String {
        let what = match &self.title {
            Some(title) => format!("{} ({}) {title}", self.incident, self.severity),
            None => format!("{} ({}, private)", self.incident, self.severity),
        };
        let time = self
            .unacknowledged_for
            .as_deref()
            .map_or(String::new(), |time| format!(" for {time}"));
        format!(
            "Brigade: {what} needs you; unacknowledged in Matrix{time}. Acknowledge: {}",
            self.ack_url
        )
    }
}

/// The notification to `user` about `escalation`'s page in `record`'s incident at `now`, with
/// the link `ack_url` that acknowledges it.
pub fn page_notice(
    config: &Config,
    record: &IncidentRecord,
    escalation: &Escalation,
    (user, now): (&UserId, u64),
    ack_url: &str,
) -> PageNotice {
    let incident = &record.incident;
    let policy = config.policy(&escalation.policy);
    let levels = policy.map_or(1, |policy| policy.levels.len());
    let after = policy.map_or(Duration::ZERO, |policy| {
        policy.level(escalation.level).notify_after
    });
    // How long since the page, to the second: a retry tells the time it has been.
    let waited = escalation.notify_at.map_or(after, |due| {
        let paged = due.saturating_sub(millis(after));
        Duration::from_secs(now.saturating_sub(paged) / 1000)
    });
    let room_url = if incident.private {
        format!("https://matrix.to/#/{}", record.room_id)
    } else {
        render::permalink(&record.alias)
    };
    PageNotice {
        id: id(escalation, user),
        user: user.to_owned(),
        incident: incident.number.to_string(),
        severity: incident.severity.to_string(),
        title: (!incident.private).then(|| incident.title.clone()),
        policy: escalation.policy.clone(),
        level: escalation.level + 1,
        levels,
        unacknowledged_for: (!waited.is_zero()).then(|| exact(waited)),
        ack_url: ack_url.to_owned(),
        room_url,
    }
}

/// `duration` to the second: `1m 30s`, where [`report::duration`] would round to `1m`.
fn exact(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds >= 60 && !seconds.is_multiple_of(60) && seconds < 3600 {
        format!("{}m {:02}s", seconds / 60, seconds % 60)
    } else {
        report::duration(millis(duration))
    }
}

/// Names the notification to `user` about `escalation`'s current step: the same every time it
/// is sent (and the same on every channel, each of which has its own receiver).
pub fn id(escalation: &Escalation, user: &UserId) -> String {
    let digest = Sha256::digest(format!(
        "{}\u{0}{}\u{0}{}\u{0}{user}",
        escalation.cause, escalation.policy, escalation.steps
    ));
    hex::encode(&digest[..16])
}

#[cfg(test)]
pub(crate) mod tests {
    use brigade_core::{incident::Severity, testing};
    use matrix_sdk::ruma::{owned_event_id, user_id};

    use super::*;

    /// Dan's notice about INC-4, "Leaked keys at Acme", private or not.
    pub(crate) fn notice(private: bool) -> PageNotice {
        let config = Config::for_tests("");
        let mut record = testing::record(4, "Leaked keys at Acme", Severity::Sev1, 1_000);
        record.incident.private = private;
        let dan = user_id!("@dan:example.org");
        page_notice(&config, &record, &escalation(), (dan, 0), "https://b/ack/t")
    }

    fn escalation() -> Escalation {
        Escalation {
            policy: "db".to_owned(),
            cause: owned_event_id!("$page:example.org"),
            level: 0,
            repeats: 0,
            steps: 1,
            due: 0,
            pages: Vec::new(),
            hurried_by: None,
            notify_at: None,
            notices: Vec::new(),
        }
    }

    #[test]
    fn a_private_incidents_notice_names_no_title_and_no_alias() {
        let config = Config::for_tests(
            "[[escalation]]\nname = \"db\"\n[[escalation.levels]]\npage = [\"@dan:example.org\"]\nwait = \"5m\"\nnotify_after = \"90s\"\n",
        );
        let dan = user_id!("@dan:example.org");
        let mut record = testing::record(4, "Leaked keys at Acme", Severity::Sev1, 1_000);
        let notice = page_notice(&config, &record, &escalation(), (dan, 0), "https://b/ack/t");
        assert_eq!(
            notice.subject(),
            "[Brigade] INC-4 (SEV1): Leaked keys at Acme"
        );
        assert_eq!(
            notice.why(),
            "You were paged by escalation policy db (level 1 of 1), and nobody has acknowledged it in Matrix for 1m 30s."
        );
        assert_eq!(
            notice.short(),
            "Brigade: INC-4 (SEV1) Leaked keys at Acme needs you; unacknowledged in Matrix for 1m 30s. Acknowledge: https://b/ack/t"
        );
        record.incident.private = true;
        let notice = page_notice(&config, &record, &escalation(), (dan, 0), "https://b/ack/t");
        assert_eq!(
            notice.subject(),
            "[Brigade] INC-4 (SEV1, private) needs you"
        );
        for text in [
            notice.subject(),
            notice.heading(),
            notice.short(),
            notice.room_url,
        ] {
            assert!(
                !text.contains("Leaked") && !text.contains(record.alias.as_str()),
                "{text}"
            );
        }
    }

    #[test]
    fn a_retry_tells_how_long_it_has_been() {
        let config = Config::for_tests(
            "[[escalation]]\nname = \"db\"\n[[escalation.levels]]\npage = [\"@dan:example.org\"]\nwait = \"1h\"\nnotify_after = \"90s\"\n",
        );
        let record = testing::record(4, "DNS", Severity::Sev1, 1_000);
        let mut paged = escalation();
        // Paged at 10 s; due 90 s later; sent again ten minutes after the page.
        paged.notify_at = Some(100_000);
        let dan = user_id!("@dan:example.org");
        let at = |now| page_notice(&config, &record, &paged, (dan, now), "https://b/ack/t");
        assert_eq!(at(100_400).unacknowledged_for.as_deref(), Some("1m 30s"));
        assert_eq!(at(610_000).unacknowledged_for.as_deref(), Some("10m"));
    }

    #[test]
    fn each_step_and_person_has_its_own_id() {
        let dan = user_id!("@dan:example.org");
        let first = escalation();
        let mut next = escalation();
        next.steps = 2;
        assert_ne!(id(&first, dan), id(&next, dan), "another step, another id");
        assert_ne!(id(&first, dan), id(&first, user_id!("@dora:example.org")));
        assert_eq!(id(&first, dan), id(&escalation(), dan), "the same again");
    }
}
