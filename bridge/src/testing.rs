//! For the bridge's unit tests: a configuration from text, a homeserver that keeps what it is
//! sent in memory and answers as Synapse does where the outbox relies on it, and a bridge over
//! both with a memory store and a test clock.

use std::{
    collections::{HashMap, HashSet},
    sync::{atomic::AtomicBool, Arc, Mutex},
    time::{Duration, UNIX_EPOCH},
};

use async_trait::async_trait;
use brigade_core::{clock::TestClock, sync::lock};
use figment::{
    providers::{Format, Toml},
    Figment,
};
use ruma::{
    OwnedEventId, OwnedRoomId, OwnedRoomOrAliasId, OwnedTransactionId, OwnedUserId, RoomAliasId,
    RoomId, TransactionId, UserId,
};

use crate::{
    bridge::Bridge,
    config::Config,
    homeserver::{Homeserver, HomeserverError, NewRoom, Posted, LOOK_BACK_MESSAGES},
    metrics::Metrics,
    store::Store,
};

/// The bridge's minimal configuration (SPEC §12).
pub const MINIMAL: &str = r#"
[homeserver]
url = "http://127.0.0.1:8008"
server_name = "example.org"
[appservice]
id = "brigade-bridge"
listen = "127.0.0.1:9200"
url = "http://127.0.0.1:9200"
as_token = "as-secret"
hs_token = "hs-secret"
[storage]
path = "data/bridge"
"#;

/// The bridge's minimal configuration followed by `extra` (routes, `[webhooks]`).
pub fn config(extra: &str) -> Config {
    let text = format!("{MINIMAL}{extra}\n");
    Config::from_figment(&Figment::from(Toml::string(&text))).expect("a valid test configuration")
}

/// A message the fake homeserver took.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// Who sent it.
    pub user: OwnedUserId,
    /// Where.
    pub room: OwnedRoomId,
    /// Its content.
    pub content: serde_json::Value,
    /// The event ID it got.
    pub event_id: OwnedEventId,
}

#[derive(Debug, Default)]
struct State {
    rooms: HashMap<String, OwnedRoomId>,
    joined: HashSet<(OwnedUserId, OwnedRoomId)>,
    transactions: HashMap<(OwnedUserId, OwnedTransactionId), OwnedEventId>,
    sent: Vec<Sent>,
    refusing: HashSet<OwnedRoomId>,
    down: bool,
    rejecting: Option<u16>,
    losing: bool,
    losing_threads: bool,
    failing_reads: Option<u16>,
    levels: HashMap<OwnedUserId, i64>,
}

/// A homeserver in memory: rooms by alias, joins, and messages with Synapse's idempotence (a
/// transaction ID sent again by the same user is answered with its first event).
#[derive(Debug, Default)]
pub struct FakeHomeserver {
    state: Mutex<State>,
}

impl FakeHomeserver {
    /// Every message taken, in order.
    pub fn sent(&self) -> Vec<Sent> {
        lock(&self.state).sent.clone()
    }

    /// Gives `user` the power `level` in every room.
    pub fn set_level(&self, user: &UserId, level: i64) {
        lock(&self.state).levels.insert(user.to_owned(), level);
    }

    /// While `down`, every request fails as an unreachable homeserver's would (worth a retry).
    pub fn set_down(&self, down: bool) {
        lock(&self.state).down = down;
    }

    /// `room` refuses the bridge's users (M_FORBIDDEN) until `refusing` is false.
    pub fn refuse(&self, room: &RoomId, refusing: bool) {
        let mut state = lock(&self.state);
        if refusing {
            state.refusing.insert(room.to_owned());
        } else {
            state.refusing.remove(room);
        }
    }

    /// While `losing`, every message is taken and then its answer lost, as when the connection
    /// breaks after the homeserver stored it: the sender must not know it was sent.
    pub fn lose_answers(&self, losing: bool) {
        lock(&self.state).losing = losing;
    }

    /// Like [`Self::lose_answers`], for messages in a thread only.
    pub fn lose_thread_answers(&self, losing: bool) {
        lock(&self.state).losing_threads = losing;
    }

    /// Forgets which transactions it took, as Synapse does on a restart (appservice users
    /// have no device, so their transaction IDs are kept in memory only).
    pub fn forget_transactions(&self) {
        lock(&self.state).transactions.clear();
    }

    /// While `status` is set, every read of a room's messages fails with it.
    pub fn fail_reads(&self, status: Option<u16>) {
        lock(&self.state).failing_reads = status;
    }

    /// While `status` is set, every message is refused with it (413: too large, say).
    pub fn reject_messages(&self, status: Option<u16>) {
        lock(&self.state).rejecting = status;
    }

    /// The room behind `alias`, once created.
    pub fn room(&self, alias: &str) -> Option<OwnedRoomId> {
        lock(&self.state).rooms.get(alias).cloned()
    }

    fn up(&self) -> Result<std::sync::MutexGuard<'_, State>, HomeserverError> {
        let state = lock(&self.state);
        if state.down {
            return Err(HomeserverError::Refused {
                status: 502,
                message: "bad gateway".to_owned(),
            });
        }
        Ok(state)
    }
}

fn forbidden() -> HomeserverError {
    HomeserverError::Refused {
        status: 403,
        message: "M_FORBIDDEN: not in the room".to_owned(),
    }
}

#[async_trait]
impl Homeserver for FakeHomeserver {
    async fn ping(&self, _: &str) -> Result<(), HomeserverError> {
        self.up().map(drop)
    }

    async fn register(&self, _: &UserId) -> Result<(), HomeserverError> {
        self.up().map(drop)
    }

    async fn set_display_name(&self, _: &UserId, _: &str) -> Result<(), HomeserverError> {
        self.up().map(drop)
    }

    async fn resolve_alias(
        &self,
        _: &UserId,
        alias: &RoomAliasId,
    ) -> Result<Option<OwnedRoomId>, HomeserverError> {
        Ok(self.up()?.rooms.get(alias.as_str()).cloned())
    }

    async fn create_room(
        &self,
        user: &UserId,
        room: NewRoom,
    ) -> Result<OwnedRoomId, HomeserverError> {
        let mut state = self.up()?;
        let alias = format!("#{}:example.org", room.alias);
        if state.rooms.contains_key(&alias) {
            return Err(HomeserverError::Refused {
                status: 400,
                message: "M_ROOM_IN_USE: taken".to_owned(),
            });
        }
        let room_id = OwnedRoomId::try_from(format!("!room{}:example.org", state.rooms.len()))
            .expect("a room ID");
        state.rooms.insert(alias, room_id.clone());
        state.joined.insert((user.to_owned(), room_id.clone()));
        Ok(room_id)
    }

    async fn join(
        &self,
        user: &UserId,
        room: &OwnedRoomOrAliasId,
    ) -> Result<OwnedRoomId, HomeserverError> {
        let mut state = self.up()?;
        let room_id = match <&RoomId>::try_from(&**room) {
            Ok(room_id) => room_id.to_owned(),
            Err(alias) => state.rooms.get(alias.as_str()).cloned().ok_or_else(|| {
                HomeserverError::Refused {
                    status: 404,
                    message: "M_NOT_FOUND: no such room".to_owned(),
                }
            })?,
        };
        if state.refusing.contains(&room_id) {
            return Err(forbidden());
        }
        state.joined.insert((user.to_owned(), room_id.clone()));
        Ok(room_id)
    }

    async fn send_message(
        &self,
        user: &UserId,
        room: &RoomId,
        txn_id: &TransactionId,
        content: serde_json::Value,
    ) -> Result<OwnedEventId, HomeserverError> {
        let mut state = self.up()?;
        if state.refusing.contains(room)
            || !state.joined.contains(&(user.to_owned(), room.to_owned()))
        {
            return Err(forbidden());
        }
        if let Some(status) = state.rejecting {
            return Err(HomeserverError::Refused {
                status,
                message: "M_TOO_LARGE: event too large".to_owned(),
            });
        }
        // The spec's 65,536 bytes for the whole event, of which the envelope takes some.
        if serde_json::to_vec(&content).map_or(0, |bytes| bytes.len()) > 65_000 {
            return Err(HomeserverError::Refused {
                status: 413,
                message: "M_TOO_LARGE: event too large".to_owned(),
            });
        }
        let key = (user.to_owned(), txn_id.to_owned());
        if let Some(event_id) = state.transactions.get(&key) {
            return Ok(event_id.clone());
        }
        let event_id =
            OwnedEventId::try_from(format!("$event{}", state.sent.len())).expect("an event ID");
        state.transactions.insert(key, event_id.clone());
        let threaded = content["m.relates_to"]["rel_type"] == "m.thread";
        state.sent.push(Sent {
            user: user.to_owned(),
            room: room.to_owned(),
            content,
            event_id: event_id.clone(),
        });
        if state.losing || (state.losing_threads && threaded) {
            return Err(HomeserverError::Refused {
                status: 504,
                message: "gateway timeout".to_owned(),
            });
        }
        Ok(event_id)
    }
    async fn posted_since(
        &self,
        user: &UserId,
        room: &RoomId,
        _since: u64,
    ) -> Result<Vec<Posted>, HomeserverError> {
        let state = self.up()?;
        if let Some(status) = state.failing_reads {
            return Err(HomeserverError::Refused {
                status,
                message: "M_UNRECOGNIZED: not now".to_owned(),
            });
        }
        Ok(state
            .sent
            .iter()
            .rev()
            .filter(|sent| sent.user == user && sent.room == room)
            .take(LOOK_BACK_MESSAGES)
            .map(|sent| Posted {
                event_id: sent.event_id.clone(),
                content: sent.content.clone(),
            })
            .collect())
    }

    async fn power_level(
        &self,
        _: &UserId,
        _: &RoomId,
        of: &UserId,
    ) -> Result<i64, HomeserverError> {
        Ok(self.up()?.levels.get(of).copied().unwrap_or(0))
    }

    async fn recent_events(
        &self,
        _: &UserId,
        _: &RoomId,
        _: (&UserId, &str),
    ) -> Result<Vec<serde_json::Value>, HomeserverError> {
        // The fake keeps messages only; the bridge's own tests send it no other events.
        drop(self.up()?);
        Ok(Vec::new())
    }
}

/// A bridge with `config`, a memory store, `homeserver` and a test clock at a fixed time.
pub fn bridge(config: Config, homeserver: Arc<FakeHomeserver>) -> (Arc<Bridge>, Arc<TestClock>) {
    let clock = Arc::new(TestClock::new(
        UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    ));
    let bridge = Bridge {
        config,
        store: Store::in_memory(),
        homeserver,
        metrics: Metrics::new(),
        clock: clock.clone(),
        outbox: tokio::sync::Notify::new(),
        tickets: tokio::sync::Notify::new(),
        ready: AtomicBool::new(false),
        retry_held: AtomicBool::new(false),
        http: reqwest::Client::new(),
    };
    (Arc::new(bridge), clock)
}
