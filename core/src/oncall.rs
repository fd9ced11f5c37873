//! On-call rotations: who is on call for a team at a given time, until when, and who is next.
//!
//! A rotation hands over every `shift_hours` from its first handoff, in member order. Shifts
//! that are whole days hand over at the same wall-clock time in the team's time zone, across
//! daylight-saving changes (a weekly 09:00 Paris handoff stays at 09:00); other shifts are
//! counted in absolute hours. Overrides put someone else on call for a while; covers, taken in
//! chat while the bot runs (`!inc cover`), come before them.

use std::sync::{Arc, PoisonError, RwLock};

use jiff::{tz::TimeZone, SignedDuration, Span, Timestamp, ZonedDateTime};
use ruma::{OwnedUserId, UserId};

/// The longest shift: a (leap) year.
const MAX_SHIFT_HOURS: u32 = 24 * 366;

/// Someone on call instead of the rotation for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// Who is on call.
    pub who: OwnedUserId,
    /// From when.
    pub from: Timestamp,
    /// Until when (exclusive).
    pub until: Timestamp,
}

/// Why a rotation cannot be used. The messages name what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RotationError {
    /// No members.
    #[error("team `{0}` has nobody in its rotation")]
    Empty(String),
    /// A shift of zero hours, or of more than a year.
    #[error("team `{0}`: shift_hours must be from 1 to 8784 (a year)")]
    ZeroShift(String),
    /// An override that ends before it starts.
    #[error("team `{team}`: the override for {who} ends before it starts")]
    Backwards {
        /// The team.
        team: String,
        /// The override's person.
        who: OwnedUserId,
    },
    /// Two overrides at the same time.
    #[error("team `{team}`: the overrides for {first} and {second} overlap")]
    Overlap {
        /// The team.
        team: String,
        /// One override's person.
        first: OwnedUserId,
        /// The other's.
        second: OwnedUserId,
    },
}

/// A team's rotation.
#[derive(Debug, Clone)]
pub struct Rotation {
    team: String,
    schedule: Schedule,
    overrides: Vec<Override>,
    /// Covers taken in chat, in order, shared by every copy of the rotation.
    covers: Arc<RwLock<Vec<Override>>>,
}

/// Where the shifts come from.
#[derive(Debug, Clone)]
enum Schedule {
    /// Members in turn, from a first handoff, every `shift_hours`.
    Cycle {
        members: Vec<OwnedUserId>,
        start: ZonedDateTime,
        shift_hours: u32,
    },
    /// Shifts as listed (from an iCalendar file), in order; gaps have nobody on call.
    Listed {
        shifts: Vec<Override>,
        zone: TimeZone,
    },
}

/// Who is on call at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnCall {
    /// Who.
    pub who: OwnedUserId,
    /// Until when.
    pub until: Timestamp,
    /// Whether an override put them there.
    pub overridden: bool,
    /// Who takes over at `until`, if anyone.
    pub next: Option<OwnedUserId>,
}

impl Rotation {
    /// A rotation of `members` from the first handoff `start`, every `shift_hours`, handing
    /// over in `zone`, with `overrides`.
    pub fn new(
        team: &str,
        members: Vec<OwnedUserId>,
        start: Timestamp,
        shift_hours: u32,
        zone: TimeZone,
        overrides: Vec<Override>,
    ) -> Result<Self, RotationError> {
        if members.is_empty() {
            return Err(RotationError::Empty(team.to_owned()));
        }
        if shift_hours == 0 || shift_hours > MAX_SHIFT_HOURS {
            return Err(RotationError::ZeroShift(team.to_owned()));
        }
        let schedule = Schedule::Cycle {
            members,
            start: start.to_zoned_datetime(zone),
            shift_hours,
        };
        Ok(Self {
            team: team.to_owned(),
            schedule,
            overrides: in_order(team, overrides)?,
            covers: Arc::default(),
        })
    }

    /// A rotation of the listed `shifts` (each a person and a time), shown in `zone`, with
    /// `overrides`. Between shifts nobody is on call.
    pub fn listed(
        team: &str,
        shifts: Vec<Override>,
        zone: TimeZone,
        overrides: Vec<Override>,
    ) -> Result<Self, RotationError> {
        if shifts.is_empty() {
            return Err(RotationError::Empty(team.to_owned()));
        }
        Ok(Self {
            team: team.to_owned(),
            schedule: Schedule::Listed {
                shifts: in_order(team, shifts)?,
                zone,
            },
            overrides: in_order(team, overrides)?,
            covers: Arc::default(),
        })
    }

    /// The team's name.
    pub fn team(&self) -> &str {
        &self.team
    }

    /// The team's time zone.
    pub fn zone(&self) -> &TimeZone {
        match &self.schedule {
            Schedule::Cycle { start, .. } => start.time_zone(),
            Schedule::Listed { zone, .. } => zone,
        }
    }

    /// Who the schedule (without overrides) has on call at `at`, and until when.
    fn scheduled(&self, at: Timestamp) -> Option<(&OwnedUserId, Timestamp)> {
        match &self.schedule {
            Schedule::Cycle {
                members,
                start,
                shift_hours,
            } => {
                let cycle = Cycle {
                    start,
                    shift_hours: *shift_hours,
                };
                let n = cycle.shift(at);
                let len = i64::try_from(members.len()).unwrap_or(i64::MAX);
                let index = usize::try_from(n.rem_euclid(len)).unwrap_or(0);
                Some((&members[index], cycle.handoff(n + 1)))
            }
            Schedule::Listed { shifts, .. } => shifts
                .iter()
                .find(|shift| shift.from <= at && at < shift.until)
                .map(|shift| (&shift.who, shift.until)),
        }
    }

    /// Who is on call at `at` (covers first, then overrides), and until when: the end of
    /// their cover, override or shift, or the start of one that cuts it short.
    fn who(&self, at: Timestamp) -> Option<(OwnedUserId, Timestamp, bool)> {
        let covers = self.covers.read().unwrap_or_else(PoisonError::into_inner);
        let starts = || {
            covers
                .iter()
                .chain(&self.overrides)
                .map(|o| o.from)
                .filter(move |from| at < *from)
        };
        let cut = |end: Timestamp| starts().filter(|from| *from < end).min().unwrap_or(end);
        if let Some(active) = covers.iter().find(|o| o.from <= at && at < o.until) {
            return Some((active.who.clone(), active.until, true));
        }
        if let Some(active) = self.overrides.iter().find(|o| o.from <= at && at < o.until) {
            return Some((active.who.clone(), cut(active.until), true));
        }
        let (who, end) = self.scheduled(at)?;
        Some((who.clone(), cut(end), false))
    }

    /// Puts `cover` ahead of the schedule and the overrides; the covers it overlaps end.
    pub fn cover(&self, cover: Override) {
        let mut covers = self.covers.write().unwrap_or_else(PoisonError::into_inner);
        covers.retain(|o| o.until <= cover.from || cover.until <= o.from);
        covers.push(cover);
        covers.sort_by_key(|o| o.from);
    }

    /// The covers that have not ended by `now`, forgetting the rest.
    pub fn covers(&self, now: Timestamp) -> Vec<Override> {
        let mut covers = self.covers.write().unwrap_or_else(PoisonError::into_inner);
        covers.retain(|o| now < o.until);
        covers.clone()
    }

    /// Whether `user` takes turns in the rotation (its members, or a listed shift's people).
    pub fn takes_turns(&self, user: &UserId) -> bool {
        match &self.schedule {
            Schedule::Cycle { members, .. } => members.iter().any(|member| member == user),
            Schedule::Listed { shifts, .. } => shifts.iter().any(|shift| shift.who == user),
        }
    }

    /// Who is on call at `at`, until when, and who is next; `None` when nobody is.
    pub fn on_call(&self, at: Timestamp) -> Option<OnCall> {
        let (who, until, overridden) = self.who(at)?;
        let next = self.who(until).map(|(next, _, _)| next);
        Some(OnCall {
            who,
            until,
            overridden,
            next,
        })
    }

    /// When someone is next on call after `at`, when nobody is at `at`.
    pub fn next_start(&self, at: Timestamp) -> Option<Timestamp> {
        let listed = match &self.schedule {
            Schedule::Listed { shifts, .. } => shifts.as_slice(),
            Schedule::Cycle { .. } => &[],
        };
        let covers = self.covers.read().unwrap_or_else(PoisonError::into_inner);
        listed
            .iter()
            .chain(&self.overrides)
            .chain(covers.iter())
            .map(|shift| shift.from)
            .filter(|from| *from > at)
            .min()
    }
}

/// `windows` sorted by start, refused when one ends before it starts or two overlap.
fn in_order(team: &str, mut windows: Vec<Override>) -> Result<Vec<Override>, RotationError> {
    if let Some(backwards) = windows.iter().find(|o| o.until <= o.from) {
        return Err(RotationError::Backwards {
            team: team.to_owned(),
            who: backwards.who.clone(),
        });
    }
    windows.sort_by_key(|o| o.from);
    if let Some(pair) = windows.windows(2).find(|pair| pair[1].from < pair[0].until) {
        return Err(RotationError::Overlap {
            team: team.to_owned(),
            first: pair[0].who.clone(),
            second: pair[1].who.clone(),
        });
    }
    Ok(windows)
}

/// The handoff arithmetic of a cycling rotation.
struct Cycle<'a> {
    start: &'a ZonedDateTime,
    shift_hours: u32,
}

impl Cycle<'_> {
    /// The `n`-th handoff (0 is the first; negative ones came before it).
    fn handoff(&self, n: i64) -> Timestamp {
        let hours = i64::from(self.shift_hours);
        if hours % 24 == 0 || 24 % hours == 0 {
            // Shifts that tile the day: the same wall-clock times in the zone, whatever the
            // offset does (a 12-hour rota stays at 08:00 and 20:00 across daylight saving).
            let total = n * hours;
            let span = Span::new()
                .days(total.div_euclid(24))
                .hours(total.rem_euclid(24));
            let civil = self.start.datetime().checked_add(span);
            if let Ok(zoned) =
                civil.and_then(|civil| civil.to_zoned_datetime(self.start.time_zone().clone()))
            {
                return zoned.timestamp();
            }
        }
        let elapsed = SignedDuration::from_hours(n * hours);
        self.start
            .timestamp()
            .checked_add(elapsed)
            .unwrap_or(self.start.timestamp())
    }

    /// The shift `at` falls in: the largest `n` whose handoff is not after `at`.
    fn shift(&self, at: Timestamp) -> i64 {
        let length = i64::from(self.shift_hours) * 3600;
        let elapsed = at.as_second() - self.start.timestamp().as_second();
        let mut n = elapsed.div_euclid(length);
        // Daylight saving moves a handoff by an hour or so: step to the right shift (bounded,
        // so a handoff that cannot be computed never loops forever).
        for _ in 0..48 {
            if self.handoff(n + 1) <= at {
                n += 1;
            } else if self.handoff(n) > at {
                n -= 1;
            } else {
                break;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use ruma::owned_user_id;

    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a timestamp")
    }

    fn paris() -> TimeZone {
        TimeZone::get("Europe/Paris").expect("the bundled time zone database")
    }

    fn weekly(overrides: Vec<Override>) -> Rotation {
        Rotation::new(
            "db",
            vec![
                owned_user_id!("@dan:example.org"),
                owned_user_id!("@dora:example.org"),
            ],
            at("2026-01-05T08:00:00Z"), // Monday 09:00 in Paris (winter time)
            168,
            paris(),
            overrides,
        )
        .expect("a valid rotation")
    }

    #[test]
    fn members_take_turns_shift_by_shift() {
        let rotation = weekly(Vec::new());
        let now = rotation
            .on_call(at("2026-01-06T12:00:00Z"))
            .expect("someone on call");
        assert_eq!(now.who, owned_user_id!("@dan:example.org"));
        assert_eq!(now.until, at("2026-01-12T08:00:00Z"));
        assert_eq!(now.next, Some(owned_user_id!("@dora:example.org")));
        let later = rotation
            .on_call(at("2026-01-13T12:00:00Z"))
            .expect("someone on call");
        assert_eq!(later.who, owned_user_id!("@dora:example.org"));
        // Before the first handoff the rotation runs backwards.
        let before = rotation
            .on_call(at("2026-01-01T00:00:00Z"))
            .expect("someone on call");
        assert_eq!(before.who, owned_user_id!("@dora:example.org"));
    }

    #[test]
    fn weekly_handoffs_keep_their_local_time_across_daylight_saving() {
        let rotation = weekly(Vec::new());
        // Summer time in Paris began on 2026-03-29: 09:00 local is 07:00 UTC.
        let now = rotation
            .on_call(at("2026-03-31T12:00:00Z"))
            .expect("someone on call");
        assert_eq!(now.until, at("2026-04-06T07:00:00Z"));
        // Monday 2026-03-30 07:30 UTC is 09:30 in Paris: the new shift has begun.
        let after = rotation
            .on_call(at("2026-03-30T07:30:00Z"))
            .expect("someone on call");
        let before = rotation
            .on_call(at("2026-03-30T06:30:00Z"))
            .expect("someone on call");
        assert_ne!(after.who, before.who);
    }

    #[test]
    fn an_override_takes_over_and_cuts_the_shift_short() {
        let dora = owned_user_id!("@dora:example.org");
        let rotation = weekly(vec![Override {
            who: owned_user_id!("@olga:example.org"),
            from: at("2026-01-07T08:00:00Z"),
            until: at("2026-01-08T08:00:00Z"),
        }]);
        let before = rotation
            .on_call(at("2026-01-06T12:00:00Z"))
            .expect("someone on call");
        assert_eq!(before.until, at("2026-01-07T08:00:00Z"), "cut short");
        assert_eq!(before.next, Some(owned_user_id!("@olga:example.org")));
        let during = rotation
            .on_call(at("2026-01-07T12:00:00Z"))
            .expect("someone on call");
        assert_eq!(during.who, owned_user_id!("@olga:example.org"));
        assert!(during.overridden);
        assert_eq!(during.until, at("2026-01-08T08:00:00Z"));
        assert_eq!(during.next, Some(owned_user_id!("@dan:example.org")));
        // An override across a handoff: the rotation resumes with whoever's shift it is then.
        let rotation = weekly(vec![Override {
            who: owned_user_id!("@olga:example.org"),
            from: at("2026-01-11T08:00:00Z"),
            until: at("2026-01-13T08:00:00Z"),
        }]);
        assert_eq!(
            rotation
                .on_call(at("2026-01-12T12:00:00Z"))
                .expect("someone on call")
                .next,
            Some(dora)
        );
    }

    #[test]
    fn a_cover_comes_before_overrides_for_every_copy_and_ends_the_covers_it_overlaps() {
        let olga = owned_user_id!("@olga:example.org");
        let carl = owned_user_id!("@carl:example.org");
        let rotation = weekly(vec![Override {
            who: olga.clone(),
            from: at("2026-01-07T08:00:00Z"),
            until: at("2026-01-08T08:00:00Z"),
        }]);
        let copy = rotation.clone();
        let cover = |who: &OwnedUserId, from: &str, until: &str| Override {
            who: who.clone(),
            from: at(from),
            until: at(until),
        };
        rotation.cover(cover(&carl, "2026-01-07T10:00:00Z", "2026-01-07T12:00:00Z"));
        let during = copy
            .on_call(at("2026-01-07T11:00:00Z"))
            .expect("someone on call");
        assert_eq!(
            (&during.who, during.overridden),
            (&carl, true),
            "the copy sees it"
        );
        assert_eq!(during.until, at("2026-01-07T12:00:00Z"));
        assert_eq!(during.next, Some(olga.clone()), "the override resumes");
        let before = copy
            .on_call(at("2026-01-07T09:00:00Z"))
            .expect("someone on call");
        assert_eq!(before.who, olga);
        assert_eq!(before.until, at("2026-01-07T10:00:00Z"), "cut by the cover");
        assert!(rotation.takes_turns(ruma::user_id!("@dora:example.org")));
        assert!(!rotation.takes_turns(&carl));

        // A newer cover replaces the one it overlaps; ended ones are forgotten.
        let dora = owned_user_id!("@dora:example.org");
        rotation.cover(cover(&dora, "2026-01-07T11:00:00Z", "2026-01-07T13:00:00Z"));
        rotation.cover(cover(&carl, "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"));
        assert_eq!(
            rotation.covers(at("2026-01-06T00:00:00Z")),
            [cover(&dora, "2026-01-07T11:00:00Z", "2026-01-07T13:00:00Z")]
        );
    }

    #[test]
    fn twelve_hour_shifts_keep_their_local_times_across_daylight_saving() {
        let rotation = Rotation::new(
            "ops",
            vec![
                owned_user_id!("@day:example.org"),
                owned_user_id!("@night:example.org"),
            ],
            at("2026-03-27T07:00:00Z"), // Friday 08:00 in Paris, winter time
            12,
            paris(),
            Vec::new(),
        )
        .expect("valid");
        // Monday 2026-03-30, summer time: 07:00 local is 05:00 UTC; the day shift starts at
        // 08:00 local, 06:00 UTC.
        let night = rotation
            .on_call(at("2026-03-30T05:00:00Z"))
            .expect("someone on call");
        assert_eq!(night.who, owned_user_id!("@night:example.org"));
        assert_eq!(night.until, at("2026-03-30T06:00:00Z"));
    }

    #[test]
    fn shifts_that_do_not_tile_the_day_count_absolute_hours() {
        let rotation = Rotation::new(
            "ops",
            vec![
                owned_user_id!("@a:example.org"),
                owned_user_id!("@b:example.org"),
                owned_user_id!("@c:example.org"),
            ],
            at("2026-03-29T00:00:00Z"),
            5,
            paris(),
            Vec::new(),
        )
        .expect("valid");
        // Shifts 00–05, 05–10, 10–15 UTC, across the change to summer time at 01:00 UTC.
        let now = rotation
            .on_call(at("2026-03-29T13:00:00Z"))
            .expect("someone on call");
        assert_eq!(now.who, owned_user_id!("@c:example.org"));
        assert_eq!(now.until, at("2026-03-29T15:00:00Z"));
        assert_eq!(now.next, Some(owned_user_id!("@a:example.org")));
    }

    #[test]
    fn unusable_rotations_are_refused_with_the_reason() {
        let refused = |members: Vec<OwnedUserId>, hours, overrides| {
            Rotation::new(
                "db",
                members,
                at("2026-01-05T08:00:00Z"),
                hours,
                paris(),
                overrides,
            )
            .expect_err("refused")
            .to_string()
        };
        let dan = || vec![owned_user_id!("@dan:example.org")];
        assert!(refused(Vec::new(), 168, Vec::new()).contains("nobody in its rotation"));
        assert!(refused(dan(), 0, Vec::new()).contains("from 1 to 8784"));
        assert!(refused(dan(), 10_000, Vec::new()).contains("from 1 to 8784"));
        let window = |who: &str, from: &str, until: &str| Override {
            who: OwnedUserId::try_from(who).expect("a user ID"),
            from: at(from),
            until: at(until),
        };
        assert!(refused(
            dan(),
            168,
            vec![window(
                "@x:e.org",
                "2026-01-02T00:00:00Z",
                "2026-01-01T00:00:00Z"
            )]
        )
        .contains("ends before it starts"));
        assert!(refused(
            dan(),
            168,
            vec![
                window("@x:e.org", "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z"),
                window("@y:e.org", "2026-01-02T00:00:00Z", "2026-01-04T00:00:00Z"),
            ]
        )
        .contains("overlap"));
    }

    #[test]
    fn listed_shifts_leave_gaps_with_nobody_on_call() {
        let shift = |who: &str, from: &str, until: &str| Override {
            who: OwnedUserId::try_from(who).expect("a user ID"),
            from: at(from),
            until: at(until),
        };
        let rotation = Rotation::listed(
            "db",
            vec![
                shift("@b:e.org", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"),
                shift("@a:e.org", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
                shift("@c:e.org", "2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z"),
            ],
            TimeZone::UTC,
            Vec::new(),
        )
        .expect("valid");
        let now = rotation
            .on_call(at("2026-01-01T12:00:00Z"))
            .expect("someone on call");
        assert_eq!(now.who, owned_user_id!("@a:e.org"));
        assert_eq!(now.next, Some(owned_user_id!("@b:e.org")));
        let last = rotation
            .on_call(at("2026-01-02T12:00:00Z"))
            .expect("someone on call");
        assert_eq!(last.next, None, "a gap follows");
        assert_eq!(rotation.on_call(at("2026-01-04T00:00:00Z")), None);
        assert_eq!(
            rotation.next_start(at("2026-01-04T00:00:00Z")),
            Some(at("2026-01-05T00:00:00Z"))
        );
    }
}
