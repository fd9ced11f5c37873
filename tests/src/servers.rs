//! The two federating homeservers a test binary shares (127.0.0.1 and 127.0.0.2), started on
//! first use and stopped by their watchdogs when the binary exits. Each test registers its own
//! bot and people, so tests run side by side without sharing state.

use std::{net::Ipv4Addr, sync::OnceLock};

use crate::synapse::{Homeserver, Options};

/// The pair of homeservers.
#[derive(Debug)]
pub struct Servers {
    /// 127.0.0.1: the bot's homeserver.
    pub first: Homeserver,
    /// 127.0.0.2: a partner's homeserver.
    pub second: Homeserver,
}

/// A third homeserver (127.0.0.3), for tests that need a server outside every room's ACL;
/// started on first use.
pub fn third() -> &'static Homeserver {
    static THIRD: OnceLock<Homeserver> = OnceLock::new();
    THIRD.get_or_init(|| {
        Homeserver::start(Options::federating(Ipv4Addr::new(127, 0, 0, 3)))
            .expect("third homeserver")
    })
}

/// The homeservers of this test binary, started in parallel on first use.
pub fn shared() -> &'static Servers {
    static SERVERS: OnceLock<Servers> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let second = std::thread::spawn(|| {
            Homeserver::start(Options::federating(Ipv4Addr::new(127, 0, 0, 2)))
        });
        let first =
            Homeserver::start(Options::federating(Ipv4Addr::LOCALHOST)).expect("first homeserver");
        let second = second
            .join()
            .expect("second homeserver thread")
            .expect("second homeserver");
        Servers { first, second }
    })
}
