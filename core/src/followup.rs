//! Follow-ups (SPEC §3, §16): action items for after the incident, each with an owner and a due
//! date when given, and the ticket the bridge opened for it in a tracker, open or closed there.
//!
//! Each is a timeline entry; its ticket and the ticket's changes are entries too, naming the
//! follow-up by its number (from 1, in the order they were recorded), so nothing is edited in
//! place and the room's state tells the whole story.

use ruma::{OwnedUserId, UserId};

use crate::{
    incident::Incident,
    record::IncidentRecord,
    timeline::{Entry, Happening},
};

/// A follow-up as it stands: what, whose, by when, and its ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followup<'a> {
    /// Its number in the incident, from 1.
    pub number: usize,
    /// The entry that recorded it (when and by whom).
    pub entry: &'a Entry,
    /// What is to be done.
    pub text: &'a str,
    /// Who will do it.
    pub owner: Option<&'a OwnedUserId>,
    /// By when.
    pub due: Option<jiff::civil::Date>,
    /// Its ticket, once the bridge opened one.
    pub ticket: Option<Ticket<'a>>,
}

/// A follow-up's ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket<'a> {
    /// The tracker, as the bridge names it.
    pub tracker: &'a str,
    /// How the tracker names it.
    pub key: &'a str,
    /// Its page.
    pub url: &'a str,
    /// Whether it is closed in the tracker: the follow-up is done.
    pub closed: bool,
}

impl Followup<'_> {
    /// Whether it is done: its ticket is closed.
    pub fn done(&self) -> bool {
        self.ticket.as_ref().is_some_and(|ticket| ticket.closed)
    }
}

impl Incident {
    /// Records a follow-up: work for after the incident. Returns its number.
    pub fn add_followup(
        &mut self,
        (text, owner, due): (String, Option<OwnedUserId>, Option<jiff::civil::Date>),
        now: u64,
        by: &UserId,
    ) -> usize {
        self.log(now, by, Happening::Followup { text, owner, due });
        self.followup_count()
    }

    /// Records the ticket opened for follow-up `number`; false (nothing changes) when there is
    /// no such follow-up or it has its ticket already.
    pub fn ticket_opened(
        &mut self,
        number: usize,
        (tracker, key, url): (String, String, String),
        now: u64,
        by: &UserId,
    ) -> bool {
        let has_ticket = self.timeline.iter().any(|entry| {
            matches!(&entry.what, Happening::Ticket { followup, .. } if *followup == number)
        });
        if has_ticket || number == 0 || number > self.followup_count() {
            return false;
        }
        self.log(
            now,
            by,
            Happening::Ticket {
                followup: number,
                tracker,
                key,
                url,
            },
        );
        true
    }

    /// Records that follow-up `number`'s ticket was closed or reopened (by `by_name` in the
    /// tracker); false (nothing changes) when it has no ticket or is so already.
    pub fn ticket_changed(
        &mut self,
        number: usize,
        closed: bool,
        by_name: Option<String>,
        (now, by): (u64, &UserId),
    ) -> bool {
        let state = self
            .timeline
            .iter()
            .fold(None, |state, entry| match &entry.what {
                Happening::Ticket { followup, .. } if *followup == number => Some(false),
                Happening::TicketState {
                    followup, closed, ..
                } if *followup == number => state.map(|_| *closed),
                _ => state,
            });
        if state.is_none_or(|now_closed| now_closed == closed) {
            return false;
        }
        self.log(
            now,
            by,
            Happening::TicketState {
                followup: number,
                closed,
                by_name,
            },
        );
        true
    }

    fn followup_count(&self) -> usize {
        self.timeline
            .iter()
            .filter(|entry| matches!(entry.what, Happening::Followup { .. }))
            .count()
    }
}

impl IncidentRecord {
    /// The follow-ups past their due date on `today` (UTC), not done, whose owner is not
    /// reminded yet today.
    pub fn overdue(&self, today: jiff::civil::Date) -> Vec<Followup<'_>> {
        self.followups()
            .into_iter()
            .filter(|followup| {
                followup.owner.is_some()
                    && followup.due.is_some_and(|due| due < today)
                    && !followup.done()
                    && self.followups_reminded.get(&followup.number) != Some(&today)
            })
            .collect()
    }

    /// The follow-ups, oldest first, each with its ticket as it stands.
    pub fn followups(&self) -> Vec<Followup<'_>> {
        let timeline = &self.incident.timeline;
        let mut followups: Vec<Followup<'_>> = timeline
            .iter()
            .filter_map(|entry| match &entry.what {
                Happening::Followup { text, owner, due } => Some((entry, text, owner, *due)),
                _ => None,
            })
            .enumerate()
            .map(|(index, (entry, text, owner, due))| Followup {
                number: index + 1,
                entry,
                text,
                owner: owner.as_ref(),
                due,
                ticket: None,
            })
            .collect();
        for entry in timeline {
            match &entry.what {
                Happening::Ticket {
                    followup,
                    tracker,
                    key,
                    url,
                } => {
                    if let Some(followup) = followups.get_mut(followup.wrapping_sub(1)) {
                        followup.ticket.get_or_insert(Ticket {
                            tracker,
                            key,
                            url,
                            closed: false,
                        });
                    }
                }
                Happening::TicketState {
                    followup, closed, ..
                } => {
                    if let Some(ticket) = followups
                        .get_mut(followup.wrapping_sub(1))
                        .and_then(|followup| followup.ticket.as_mut())
                    {
                        ticket.closed = *closed;
                    }
                }
                _ => {}
            }
        }
        followups
    }
}

#[cfg(test)]
mod tests {
    use ruma::user_id;

    use crate::{kinds::Severity, testing};

    #[test]
    fn a_follow_up_gets_one_ticket_closed_and_reopened_in_order() {
        let mut record = testing::record(1, "Disk full", Severity::Sev2, 1_000);
        let alice = user_id!("@alice:example.org");
        let bridge = user_id!("@alert_bridge:example.org");
        let incident = &mut record.incident;
        let due = jiff::civil::date(2026, 12, 15);
        assert_eq!(
            incident.add_followup(("Buy disks".to_owned(), None, Some(due)), 2_000, alice),
            1
        );
        assert_eq!(
            incident.add_followup(("Alert at 90%".to_owned(), None, None), 2_100, alice),
            2
        );
        let ticket = |key: &str| {
            (
                "github".to_owned(),
                key.to_owned(),
                format!("https://github.example/{key}"),
            )
        };
        assert!(
            !incident.ticket_changed(2, true, None, (2_150, bridge)),
            "no ticket yet"
        );
        assert!(incident.ticket_opened(2, ticket("acme/app#7"), 2_200, bridge));
        assert!(
            !incident.ticket_opened(2, ticket("acme/app#8"), 2_300, bridge),
            "one ticket each"
        );
        assert!(
            !incident.ticket_opened(3, ticket("acme/app#9"), 2_300, bridge),
            "no third"
        );
        assert!(!incident.ticket_opened(0, ticket("acme/app#9"), 2_300, bridge));
        assert!(
            !incident.ticket_changed(2, false, None, (2_350, bridge)),
            "open already"
        );
        assert!(incident.ticket_changed(2, true, Some("octocat".to_owned()), (2_400, bridge)));
        assert!(
            !incident.ticket_changed(2, true, None, (2_450, bridge)),
            "closed already"
        );

        let followups = record.followups();
        assert_eq!(followups.len(), 2);
        assert_eq!(followups[0].due, Some(due));
        assert_eq!(followups[0].ticket, None);
        assert!(!followups[0].done());
        let ticket = followups[1].ticket.as_ref().expect("a ticket");
        assert_eq!((ticket.key, ticket.closed), ("acme/app#7", true));
        assert!(followups[1].done());

        assert!(record
            .incident
            .ticket_changed(2, false, None, (2_500, bridge)));
        assert!(!record.followups()[1].done(), "reopened");
    }

    #[test]
    fn an_owned_follow_up_past_its_day_and_not_done_is_overdue_once_a_day() {
        let mut record = testing::record(1, "Disk full", Severity::Sev2, 1_000);
        let alice = user_id!("@alice:example.org");
        let bob = ruma::owned_user_id!("@bob:example.org");
        let due = jiff::civil::date(2026, 12, 15);
        let incident = &mut record.incident;
        incident.add_followup(("Owned".to_owned(), Some(bob.clone()), Some(due)), 1, alice);
        incident.add_followup(("Nobody's".to_owned(), None, Some(due)), 2, alice);
        incident.add_followup(("Undated".to_owned(), Some(bob.clone()), None), 3, alice);
        incident.add_followup(("Done".to_owned(), Some(bob), Some(due)), 4, alice);
        let ticket = (
            "github".to_owned(),
            "a/b#1".to_owned(),
            "https://x/1".to_owned(),
        );
        assert!(incident.ticket_opened(4, ticket, 5, alice));
        assert!(incident.ticket_changed(4, true, None, (6, alice)));
        let numbers = |record: &crate::record::IncidentRecord, today| {
            record
                .overdue(today)
                .iter()
                .map(|followup| followup.number)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            numbers(&record, due),
            Vec::<usize>::new(),
            "due today: not yet"
        );
        let next_day = jiff::civil::date(2026, 12, 16);
        assert_eq!(numbers(&record, next_day), vec![1]);
        record.followups_reminded.insert(1, next_day);
        assert_eq!(
            numbers(&record, next_day),
            Vec::<usize>::new(),
            "once that day"
        );
        assert_eq!(numbers(&record, jiff::civil::date(2026, 12, 17)), vec![1]);
    }
}
