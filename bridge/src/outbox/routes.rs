//! Each route's room, once its virtual user is in it, and the routes held back because their
//! room refused the bridge: tried again later, waiting longer each time, or at once when one of
//! the bridge's users is invited somewhere. Pure: the time comes in, in milliseconds of a monotonic clock.

use std::{collections::HashMap, time::Duration};

use brigade_core::clock::millis;
use ruma::OwnedRoomId;

use crate::alert::Source;

/// A route: its source and name.
pub type Route = (Source, String);

/// The first wait of a route held back.
const STUCK_FIRST: Duration = Duration::from_secs(5);
/// The longest a route whose room refuses the bridge waits before trying again.
const STUCK_MAX: Duration = Duration::from_secs(300);

/// What the outbox knows of its routes between passes.
#[derive(Debug, Default)]
pub struct Routes {
    /// Each route's room, once its virtual user is in it.
    rooms: HashMap<Route, OwnedRoomId>,
    /// Routes held back: until when (milliseconds), and the wait after.
    stuck: HashMap<Route, (u64, Duration)>,
}

impl Routes {
    /// The room of `route`, once prepared.
    pub fn room(&self, route: &Route) -> Option<&OwnedRoomId> {
        self.rooms.get(route)
    }

    /// `route`'s virtual user is in `room_id`: its alerts go there.
    pub fn ready(&mut self, route: &Route, room_id: OwnedRoomId) {
        self.stuck.remove(route);
        self.rooms.insert(route.clone(), room_id);
    }

    /// Whether `route` waits at `now`.
    pub fn held(&self, route: &Route, now: u64) -> bool {
        self.stuck.get(route).is_some_and(|(until, _)| now < *until)
    }

    /// Holds `route`'s alerts back (they stay in the outbox), waiting longer each time; returns
    /// the wait.
    pub fn hold(&mut self, route: &Route, now: u64) -> Duration {
        let wait = self
            .stuck
            .get(route)
            .map_or(STUCK_FIRST, |(_, wait)| (*wait * 2).min(STUCK_MAX));
        self.stuck
            .insert(route.clone(), (now.saturating_add(millis(wait)), wait));
        self.rooms.remove(route);
        wait
    }

    /// How long until `route` is tried again (`first` when it is not held).
    pub fn wait(&self, route: &Route, now: u64, first: Duration) -> Duration {
        self.stuck.get(route).map_or(first, |(until, _)| {
            Duration::from_millis(until.saturating_sub(now))
        })
    }

    /// Every held route is tried at `now`; each keeps its wait, so a route refused again
    /// waits longer.
    pub fn retry_all(&mut self, now: u64) {
        for (until, _) in self.stuck.values_mut() {
            *until = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use ruma::owned_room_id;

    use super::*;

    fn route() -> Route {
        (Source::Generic, "prod".to_owned())
    }

    #[test]
    fn a_refused_route_waits_longer_each_time_up_to_five_minutes() {
        let mut routes = Routes::default();
        let waits: Vec<u64> = (0..9).map(|_| routes.hold(&route(), 0).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert!(routes.held(&route(), 299_999));
        assert!(!routes.held(&route(), 300_000));
        assert_eq!(
            routes.wait(&route(), 200_000, Duration::ZERO),
            Duration::from_secs(100)
        );
    }

    #[test]
    fn an_invitation_tries_held_routes_at_once_and_keeps_their_wait() {
        let mut routes = Routes::default();
        routes.hold(&route(), 1_000);
        assert!(routes.held(&route(), 2_000));
        routes.retry_all(2_000);
        assert!(!routes.held(&route(), 2_000));
        assert_eq!(
            routes.hold(&route(), 2_000),
            Duration::from_secs(10),
            "refused again"
        );
    }

    #[test]
    fn a_ready_route_is_no_longer_held() {
        let mut routes = Routes::default();
        routes.hold(&route(), 0);
        routes.ready(&route(), owned_room_id!("!r:example.org"));
        assert!(!routes.held(&route(), 0));
        assert!(routes.room(&route()).is_some());
        assert_eq!(
            routes.wait(&route(), 0, Duration::from_millis(500)),
            Duration::from_millis(500)
        );
    }
}
