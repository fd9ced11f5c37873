//! Where an alert's episode is shown, decided once: in a message of its own while its room has
//! had fewer than `webhooks.burst_after` new alert messages in the last minute and no burst of
//! its route is open; otherwise counted in its route's burst message. Alerts that ask the bot
//! to declare always get their own. Pure: the time comes in, in milliseconds of a monotonic clock.

use std::{
    collections::{HashMap, VecDeque},
    time::Duration,
};

use brigade_core::clock::millis;
use ruma::{OwnedRoomId, RoomId};

use super::routes::Route;
use crate::store::AlertRecord;

/// How long a room's share of alert messages lasts, and how long a burst stays open after its
/// last alert.
pub const WINDOW: Duration = Duration::from_secs(60);

/// What the placement remembers between passes (in memory: after a restart a room may get up
/// to `burst_after` more messages of their own, and a new burst).
#[derive(Debug, Default)]
pub struct Placer {
    /// When each room was given its latest alert messages, within [`WINDOW`].
    posted: HashMap<OwnedRoomId, VecDeque<u64>>,
    /// The burst each route collects into, and when it last took an alert.
    open: HashMap<Route, (u64, u64)>,
}

/// Where a route's fresh alerts go.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Placed {
    /// In messages of their own.
    pub own: Vec<AlertRecord>,
    /// In the route's burst.
    pub burst: Vec<AlertRecord>,
    /// The open burst they join; `None` with alerts in `burst` means a new one.
    pub open: Option<u64>,
}

impl Placer {
    /// Places `records`, the fresh alerts of `route` going to `room_id`, at `now`; `urgent`
    /// says which ask the bot to declare.
    pub fn place(
        &mut self,
        route: &Route,
        room_id: &RoomId,
        records: Vec<AlertRecord>,
        urgent: impl Fn(&AlertRecord) -> bool,
        burst_after: usize,
        now: u64,
    ) -> Placed {
        let posted = self.posted.entry(room_id.to_owned()).or_default();
        while posted
            .front()
            .is_some_and(|at| now.saturating_sub(*at) >= millis(WINDOW))
        {
            posted.pop_front();
        }
        let open = self
            .open
            .get(route)
            .filter(|(_, last)| now.saturating_sub(*last) < millis(WINDOW))
            .map(|(id, _)| *id);
        let (mut own, mut rest): (Vec<_>, Vec<_>) = records.into_iter().partition(urgent);
        let allowance = if open.is_some() {
            0
        } else {
            burst_after.saturating_sub(posted.len() + own.len())
        };
        let burst = rest.split_off(allowance.min(rest.len()));
        own.extend(rest);
        posted.extend(std::iter::repeat_n(now, own.len()));
        Placed { own, burst, open }
    }

    /// `route`'s alerts collect into burst `id` from `now` on.
    pub fn collect_into(&mut self, route: &Route, id: u64, now: u64) {
        self.open.insert(route.clone(), (id, now));
    }
}

#[cfg(test)]
mod tests {
    use ruma::room_id;

    use super::*;
    use crate::{alert::AlertStatus, alert::Source};

    fn alerts(
        count: usize,
        severity: Option<brigade_core::incident::Severity>,
    ) -> Vec<AlertRecord> {
        (0..count)
            .map(|n| AlertRecord {
                source: Source::Generic,
                route: "prod".to_owned(),
                fingerprint: format!("f{n}"),
                title: "Disk full".to_owned(),
                severity,
                body: String::new(),
                link: None,
                component: None,
                impact: None,
                status: AlertStatus::Firing,
                count: 1,
                first_seen: 1,
                last_seen: 1,
                version: 1,
                shown: 0,
                event_id: None,
                placement: None,
                ended: Vec::new(),
            })
            .collect()
    }

    fn route() -> Route {
        (Source::Generic, "prod".to_owned())
    }

    const SEV1: Option<brigade_core::incident::Severity> =
        Some(brigade_core::incident::Severity::Sev1);

    #[test]
    fn a_room_gets_its_share_of_messages_and_the_rest_is_one_burst() {
        let mut placer = Placer::default();
        let room = room_id!("!r:example.org");
        let placed = placer.place(&route(), room, alerts(3, None), |_| false, 10, 0);
        assert_eq!((placed.own.len(), placed.burst.len()), (3, 0));
        let placed = placer.place(&route(), room, alerts(12, None), |_| false, 10, 1_000);
        assert_eq!(
            (placed.own.len(), placed.burst.len(), placed.open),
            (7, 5, None)
        );
        placer.collect_into(&route(), 9, 1_000);
        let placed = placer.place(&route(), room, alerts(2, None), |_| false, 10, 2_000);
        assert_eq!(
            (placed.own.len(), placed.burst.len(), placed.open),
            (0, 2, Some(9))
        );
    }

    #[test]
    fn alerts_that_declare_always_get_their_own_message() {
        let mut placer = Placer::default();
        let room = room_id!("!r:example.org");
        placer.collect_into(&route(), 9, 0);
        let urgent = |record: &AlertRecord| record.severity == SEV1;
        let placed = placer.place(&route(), room, alerts(3, SEV1), urgent, 10, 1_000);
        assert_eq!((placed.own.len(), placed.burst.len()), (3, 0));
    }

    #[test]
    fn the_share_and_the_open_burst_last_a_minute() {
        let mut placer = Placer::default();
        let room = room_id!("!r:example.org");
        placer.place(&route(), room, alerts(10, None), |_| false, 10, 0);
        placer.collect_into(&route(), 9, 0);
        let placed = placer.place(&route(), room, alerts(1, None), |_| false, 10, 59_999);
        assert_eq!(placed.open, Some(9));
        let placed = placer.place(&route(), room, alerts(1, None), |_| false, 10, 60_000);
        assert_eq!((placed.own.len(), placed.open), (1, None), "a minute later");
    }
}
