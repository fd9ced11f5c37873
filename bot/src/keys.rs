//! Every small named value the bot keeps in its store (the store's `meta`), in one place: its
//! key, its encoding and its type, read and written only through [`Key`].
//!
//! The keys and encodings are those the first release wrote, unchanged: a store written by an
//! earlier version reads the same (pinned by the tests below, byte for byte). A renamed key or
//! a changed encoding would lose state on upgrade silently; change one only with a migration
//! at start and a test that opens a store written the old way.
//!
//! | key | value | encoding |
//! |---|---|---|
//! | `sync.checkpoint_millis` | time up to which every event is handled | decimal |
//! | `declare.<event>` | the incident number a declaration took | decimal |
//! | `published.<room>` | the version (and incident) a room was last brought in step with | JSON |
//! | `alert.<source/route/fingerprint>` | the incident declared for the alert's last episode | `<room or -> <episode>` |
//! | `alert.resolved.<source/route/fingerprint>` | the episode whose resolution was told | decimal |
//! | `share.<event>` | the shared room a share made | room ID |
//! | `shared.room.<shared room>` | the incident room it belongs to | room ID |
//! | `shared.pending` | invitations of other servers' users still waiting (partners, paged people), by room | JSON |
//! | `partner.invited.<room>` | contacts of a standing room invited once | JSON |
//! | `forward.rules.<room>` | the room's own forwarding rules | JSON |
//! | `forward.done.<message/emoji/target>` | the copy a forward made | event ID |
//! | `oncall.shift.<team>` | the shift last announced (`<who>\0<until>`, or empty) | text |
//! | `profile.avatar_sha256` | the avatar file last uploaded | hex |
//! | `status_room.<room>` | how far the status room was told of the incident | JSON |
//! | `decrypt.held` | events held until their room keys arrive | JSON |
//! | `postmortem.owed` | final postmortems not yet in `[postmortems] git`, by room | JSON |

use std::{collections::BTreeMap, fmt, marker::PhantomData, str::FromStr};

use brigade_core::{
    incident::Incident,
    record::Channel,
    store::{Store, StoreError},
};
use matrix_sdk::ruma::{
    events::AnySyncTimelineEvent, serde::Raw, EventId, OwnedEventId, OwnedRoomId, OwnedUserId,
    RoomId,
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tracing::warn;

use crate::filing::Report;

/// How a value is written.
pub trait Encoding<T> {
    /// The bytes of `value`.
    fn encode(value: &T) -> Result<Vec<u8>, serde_json::Error>;
    /// The value of `bytes`, if they are one.
    fn decode(bytes: &[u8]) -> Option<T>;
}

/// UTF-8 text: `Display` out, `FromStr` in.
#[derive(Debug)]
pub struct Text;

impl<T: fmt::Display + FromStr> Encoding<T> for Text {
    fn encode(value: &T) -> Result<Vec<u8>, serde_json::Error> {
        Ok(value.to_string().into_bytes())
    }

    fn decode(bytes: &[u8]) -> Option<T> {
        std::str::from_utf8(bytes).ok()?.parse().ok()
    }
}

/// JSON.
#[derive(Debug)]
pub struct Json;

impl<T: Serialize + DeserializeOwned> Encoding<T> for Json {
    fn encode(value: &T) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(value)
    }

    fn decode(bytes: &[u8]) -> Option<T> {
        serde_json::from_slice(bytes).ok()
    }
}

/// Why a value could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The value could not be encoded.
    #[error("cannot encode a stored value: {0}")]
    Encode(#[from] serde_json::Error),
    /// A stored value this version cannot read, where taking it as unset would write over it.
    #[error("the stored value `{0}` cannot be read by this version")]
    Unreadable(String),
}

/// One named value of type `T`, written in encoding `E`.
pub struct Key<T, E> {
    name: String,
    kind: PhantomData<fn() -> (T, E)>,
}

impl<T, E> fmt::Debug for Key<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Key").field(&self.name).finish()
    }
}

impl<T, E: Encoding<T>> Key<T, E> {
    fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind: PhantomData,
        }
    }

    /// The key as stored.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value, if set. A value this version cannot read is logged and taken as unset.
    pub async fn get(&self, store: &dyn Store) -> Result<Option<T>, StoreError> {
        let Some(bytes) = store.meta(&self.name).await? else {
            return Ok(None);
        };
        let value = E::decode(&bytes);
        if value.is_none() {
            warn!(key = %self.name, "a stored value is unreadable; taken as unset");
        }
        Ok(value)
    }

    /// The value, if set, for a change that writes it back: one this version cannot read is
    /// an error here, so that it is not written over.
    pub async fn get_to_change(&self, store: &dyn Store) -> Result<Option<T>, KeyError> {
        let Some(bytes) = store.meta(&self.name).await? else {
            return Ok(None);
        };
        E::decode(&bytes)
            .map(Some)
            .ok_or_else(|| KeyError::Unreadable(self.name.clone()))
    }

    /// Whether a value is set, readable or not.
    pub async fn is_set(&self, store: &dyn Store) -> Result<bool, StoreError> {
        Ok(store.meta(&self.name).await?.is_some())
    }

    /// Sets the value; durable when this returns.
    pub async fn set(&self, store: &dyn Store, value: &T) -> Result<(), KeyError> {
        store.set_meta(&self.name, &E::encode(value)?).await?;
        Ok(())
    }
}

/// The bot's secret (hex), made at its first start: acknowledge links are signed with it, and
/// call conferences' names derived from it.
pub fn ack_key() -> Key<String, Text> {
    Key::new("ack_link.key")
}

/// How `user` asked, in a direct message with the bot (`!inc notify`), to be reached outside
/// Matrix; ahead of `[[notify.people]]`.
pub fn notify_setting(user: &matrix_sdk::ruma::UserId) -> Key<NotifySetting, Json> {
    Key::new(format!("notify.person.{user}"))
}

/// How someone asked, in a direct message (`!inc notify`), to be reached outside Matrix: each
/// channel theirs to set, the configuration's where they said nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredSetting")]
pub struct NotifySetting {
    /// Email.
    #[serde(default, skip_serializing_if = "Choice::is_unset")]
    pub email: Choice,
    /// ntfy.
    #[serde(default, skip_serializing_if = "Choice::is_unset")]
    pub ntfy: Choice,
    /// The phone, through the SMS or voice gateway.
    #[serde(default, skip_serializing_if = "Choice::is_unset")]
    pub phone: Choice,
}

/// What someone said of one channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    /// Nothing: the configuration's address, if any.
    #[default]
    Unset,
    /// Not on this channel, whatever the configuration says.
    Off,
    /// At this address (checked when set, and again when used).
    At(String),
}

impl Choice {
    fn is_unset(&self) -> bool {
        matches!(self, Self::Unset)
    }
}

impl NotifySetting {
    /// What was said of `channel`.
    pub fn choice(&self, channel: Channel) -> &Choice {
        match channel {
            Channel::Email => &self.email,
            Channel::Ntfy => &self.ntfy,
            Channel::Phone => &self.phone,
        }
    }

    /// Says `choice` of `channel`.
    pub fn set(&mut self, channel: Channel, choice: Choice) {
        match channel {
            Channel::Email => self.email = choice,
            Channel::Ntfy => self.ntfy = choice,
            Channel::Phone => self.phone = choice,
        }
    }
}

/// A setting as stored: by channel, or as the first version kept it (email or off).
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredSetting {
    Channels {
        #[serde(default)]
        email: Choice,
        #[serde(default)]
        ntfy: Choice,
        #[serde(default)]
        phone: Choice,
    },
    First(FirstSetting),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FirstSetting {
    Email(String),
    Off,
}

impl From<StoredSetting> for NotifySetting {
    fn from(stored: StoredSetting) -> Self {
        match stored {
            StoredSetting::Channels { email, ntfy, phone } => Self { email, ntfy, phone },
            StoredSetting::First(FirstSetting::Email(address)) => Self {
                email: Choice::At(address),
                ..Self::default()
            },
            StoredSetting::First(FirstSetting::Off) => Self {
                email: Choice::Off,
                ntfy: Choice::Off,
                phone: Choice::Off,
            },
        }
    }
}

/// The covers taken in chat (`!inc cover`) that have not ended, every team's.
pub fn covers() -> Key<Vec<Cover>, Json> {
    Key::new("oncall.covers")
}

/// A cover as kept: who is on call for a team, from when until when (milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cover {
    /// The team.
    pub team: String,
    /// Who covers.
    pub who: OwnedUserId,
    /// From when.
    pub from: u64,
    /// Until when (exclusive).
    pub until: u64,
}

/// An acknowledge link that has acted (by [`crate::ack_link::used_id`]), and what it did.
pub fn ack_used(id: &str) -> Key<AckUsed, Json> {
    Key::new(format!("ack_link.used.{id}"))
}

/// What an acknowledge link did when it was followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckUsed {
    /// When (milliseconds since the epoch).
    pub at: u64,
    /// What Brigade answered.
    pub said: String,
}

/// The time (milliseconds since the epoch) up to which every event is handled.
pub fn checkpoint() -> Key<u64, Text> {
    Key::new("sync.checkpoint_millis")
}

/// The incident number the declaration `cause` took.
pub fn declared(cause: &EventId) -> Key<u64, Text> {
    Key::new(format!("declare.{cause}"))
}

/// The values kept for the event `cause` alone, for finishing its work after a crash: they go
/// when its record is forgotten.
pub fn of_event(cause: &EventId) -> [String; 3] {
    [
        declared(cause).name,
        declared_alias(cause).name,
        share_made(cause).name,
    ]
}

/// The unguessable alias suffix the declaration `cause` falls back on when every predictable
/// alias of its incident is held by someone else.
pub fn declared_alias(cause: &EventId) -> Key<String, Text> {
    Key::new(format!("declare.alias.{cause}"))
}

/// What `room` was last brought in step with.
pub fn published(room: &RoomId) -> Key<Published, Json> {
    Key::new(format!("published.{room}"))
}

/// The incident declared for the last episode of the alert `identity`.
pub fn alert_declared(identity: &str) -> Key<AlertDeclared, Text> {
    Key::new(format!("alert.{identity}"))
}

/// The episode of the alert `identity` whose resolution its incident was told of.
pub fn alert_resolved(identity: &str) -> Key<u64, Text> {
    Key::new(format!("alert.resolved.{identity}"))
}

/// The shared room the share `cause` made.
pub fn share_made(cause: &EventId) -> Key<OwnedRoomId, Text> {
    Key::new(format!("share.{cause}"))
}

/// The report the bot filed as the message `event` (in triage or private triage), and what
/// became of it. Only reports recorded here are declared: a message that merely carries a
/// report's fields (a forward, a copy) is not one.
pub fn report(event: &EventId) -> Key<FiledReport, Json> {
    Key::new(format!("report.{event}"))
}

/// The bot's DM with `user`, where report receipts go.
pub fn dm(user: &matrix_sdk::ruma::UserId) -> Key<OwnedRoomId, Text> {
    Key::new(format!("dm.{user}"))
}

/// The incident room the shared room `shared` belongs to.
pub fn shared_room(shared: &RoomId) -> Key<OwnedRoomId, Text> {
    Key::new(format!("shared.room.{shared}"))
}

/// Partner invitations still waiting, by room.
pub fn pending_invitations() -> Key<PendingInvites, Json> {
    Key::new("shared.pending")
}

/// The contacts of the standing room `room` invited once.
pub fn partner_invited(room: &RoomId) -> Key<Vec<OwnedUserId>, Json> {
    Key::new(format!("partner.invited.{room}"))
}

/// The forwarding rules `room` made with `!inc forward`.
pub fn forward_rules(room: &RoomId) -> Key<Vec<RoomRule>, Json> {
    Key::new(format!("forward.rules.{room}"))
}

/// The copy a forward made, by message, emoji and target (`forward`).
pub fn forwarded(forward: &str) -> Key<OwnedEventId, Text> {
    Key::new(format!("forward.done.{forward}"))
}

/// The shift of `team` last announced: `<who>\0<until>`, empty while nobody is on call.
pub fn handoff_shift(team: &str) -> Key<String, Text> {
    Key::new(format!("oncall.shift.{team}"))
}

/// The events held until they can be decrypted.
pub fn undecrypted() -> Key<Vec<HeldEvent>, Json> {
    Key::new("decrypt.held")
}

/// The SHA-256 (hex) of the avatar file last uploaded.
pub fn avatar() -> Key<String, Text> {
    Key::new("profile.avatar_sha256")
}

/// How far the status room (`status.room`) was told of the incident in `room`.
pub fn status_room_told(room: &RoomId) -> Key<StatusRoomTold, Json> {
    Key::new(format!("status_room.{room}"))
}

/// The final postmortems owed to the postmortem repository (`[postmortems] git`), by room.
pub fn postmortems_owed() -> Key<BTreeMap<OwnedRoomId, OwedPostmortem>, Json> {
    Key::new("postmortem.owed")
}

/// A postmortem owed to the repository, kept until it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwedPostmortem {
    /// `INC-7`, for the commit message and the room.
    pub number: String,
    /// Its path in the repository.
    pub path: String,
    /// The file.
    pub document: String,
    /// Whether the room was told that committing it failed.
    #[serde(default)]
    pub failure_told: bool,
}

/// How far the status room was told of an incident.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRoomTold {
    /// The timeline entries before this one were announced, or passed over as nothing the
    /// page shows.
    pub seen: usize,
    /// Whether anything was announced: once it was, what follows is told even when the page
    /// no longer lists the incident (its last component operational again).
    pub told: bool,
}

/// A report filed in a triage room, and its incident once declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiledReport {
    /// What was reported.
    pub report: Report,
    /// The event (a 🚑 or `!inc declare --from-report`) that declares it: a declaration a
    /// crash interrupted is finished by the same event, and nobody else declares it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaring: Option<OwnedEventId>,
    /// The number of the incident it became.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<u64>,
}

/// What a room was last brought in step with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// The record's version.
    pub version: u64,
    /// The incident as shown.
    pub incident: Incident,
    /// Whether the room holds the timeline in pages (`org.brigade.incident.timeline`); rooms
    /// of the first release hold it in the incident's own state, until their next change
    /// writes every page.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub timeline_paged: bool,
}

/// The incident declared for an alert's episode: its room, or none when the bot said why it
/// could not declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDeclared {
    /// The incident's room.
    pub room: Option<OwnedRoomId>,
    /// The episode (when it began firing).
    pub episode: u64,
}

impl fmt::Display for AlertDeclared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.room {
            Some(room) => write!(f, "{room} {}", self.episode),
            None => write!(f, "- {}", self.episode),
        }
    }
}

impl FromStr for AlertDeclared {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let (room, episode) = text.split_once(' ').ok_or(())?;
        Ok(Self {
            room: OwnedRoomId::try_from(room).ok(),
            episode: episode.parse().map_err(|_| ())?,
        })
    }
}

/// An invitation waiting for a partner's server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// Who is invited.
    pub user: OwnedUserId,
    /// Why the last try failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it was queued (milliseconds since the Unix epoch); none in stores from before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_millis: Option<u64>,
}

/// Waiting invitations, by room.
pub type PendingInvites = BTreeMap<OwnedRoomId, Vec<Pending>>;

/// An event held until it can be decrypted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeldEvent {
    /// Its room.
    pub room_id: OwnedRoomId,
    /// Its ID.
    pub event_id: OwnedEventId,
    /// When it says it was sent (milliseconds since the Unix epoch).
    pub sent_millis: u64,
    /// The encrypted event as the homeserver sent it.
    pub event: Raw<AnySyncTimelineEvent>,
}

/// A rule made with `!inc forward`, kept per room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRule {
    /// The emoji that forwards.
    pub emoji: String,
    /// Where to.
    pub to: OwnedRoomId,
}

#[cfg(test)]
mod tests {
    use brigade_core::{incident::Severity, store::EngineStore, testing};
    use matrix_sdk::ruma::{event_id, owned_event_id, owned_room_id, owned_user_id, room_id};

    use super::*;

    /// Sets every key through its accessor and reads it back.
    async fn every_key_round_trips(store: &dyn Store) {
        let room = owned_room_id!("!room:example.org");
        let cause = event_id!("$cause");
        checkpoint().set(store, &42).await.expect("set");
        assert_eq!(checkpoint().get(store).await.expect("read"), Some(42));
        declared(cause).set(store, &7).await.expect("set");
        ack_key().set(store, &"00ff".to_owned()).await.expect("set");
        assert_eq!(
            ack_key().get(store).await.expect("read").as_deref(),
            Some("00ff")
        );
        let used = AckUsed {
            at: 5,
            said: "INC-1 acknowledged".to_owned(),
        };
        ack_used("abc").set(store, &used).await.expect("set");
        assert_eq!(ack_used("abc").get(store).await.expect("read"), Some(used));
        assert_eq!(declared(cause).get(store).await.expect("read"), Some(7));
        let filed = FiledReport {
            report: Report {
                kind: "operations".to_owned(),
                summary: "Checkout is slow".to_owned(),
                urgency: crate::filing::Urgency::Day,
                details: String::new(),
                reporter: matrix_sdk::ruma::owned_user_id!("@rita:example.org"),
            },
            declaring: Some(cause.to_owned()),
            incident: Some(7),
        };
        let event = event_id!("$report");
        report(event).set(store, &filed).await.expect("set");
        assert_eq!(report(event).get(store).await.expect("read"), Some(filed));
        let shown = Published {
            version: 3,
            incident: testing::record(1, "DNS", Severity::Sev2, 1_000).incident,
            timeline_paged: true,
        };
        published(&room).set(store, &shown).await.expect("set");
        assert_eq!(
            published(&room).get(store).await.expect("read"),
            Some(shown)
        );
        for declared in [
            AlertDeclared {
                room: Some(room.clone()),
                episode: 9,
            },
            AlertDeclared {
                room: None,
                episode: 10,
            },
        ] {
            alert_declared("am/prod/f")
                .set(store, &declared)
                .await
                .expect("set");
            assert_eq!(
                alert_declared("am/prod/f").get(store).await.expect("read"),
                Some(declared)
            );
        }
        alert_resolved("am/prod/f")
            .set(store, &9)
            .await
            .expect("set");
        assert_eq!(
            alert_resolved("am/prod/f").get(store).await.expect("read"),
            Some(9)
        );
        share_made(cause).set(store, &room).await.expect("set");
        assert_eq!(
            share_made(cause).get(store).await.expect("read"),
            Some(room.clone())
        );
        shared_room(&room).set(store, &room).await.expect("set");
        assert_eq!(
            shared_room(&room).get(store).await.expect("read"),
            Some(room.clone())
        );
        let waiting = PendingInvites::from([(
            room.clone(),
            vec![Pending {
                user: owned_user_id!("@ops:partner.example"),
                error: Some("timed out".to_owned()),
                since_millis: Some(5),
            }],
        )]);
        pending_invitations()
            .set(store, &waiting)
            .await
            .expect("set");
        assert_eq!(
            pending_invitations().get(store).await.expect("read"),
            Some(waiting)
        );
        let contacts = vec![owned_user_id!("@ops:partner.example")];
        partner_invited(&room)
            .set(store, &contacts)
            .await
            .expect("set");
        assert_eq!(
            partner_invited(&room).get(store).await.expect("read"),
            Some(contacts)
        );
        let rules = vec![RoomRule {
            emoji: "📝".to_owned(),
            to: room.clone(),
        }];
        forward_rules(&room).set(store, &rules).await.expect("set");
        assert_eq!(
            forward_rules(&room).get(store).await.expect("read"),
            Some(rules)
        );
        let copy = owned_event_id!("$copy");
        forwarded("$m\u{0}📝\u{0}!t")
            .set(store, &copy)
            .await
            .expect("set");
        assert_eq!(
            forwarded("$m\u{0}📝\u{0}!t")
                .get(store)
                .await
                .expect("read"),
            Some(copy)
        );
        for shift in ["@dan:example.org\u{0}2026-12-01T09:00:00Z", ""] {
            handoff_shift("db")
                .set(store, &shift.to_owned())
                .await
                .expect("set");
            assert_eq!(
                handoff_shift("db")
                    .get(store)
                    .await
                    .expect("read")
                    .as_deref(),
                Some(shift)
            );
        }
        let held = vec![HeldEvent {
            room_id: room.clone(),
            event_id: owned_event_id!("$held"),
            sent_millis: 5,
            event: Raw::from_json_string(r#"{"type":"m.room.encrypted","content":{}}"#.to_owned())
                .expect("JSON"),
        }];
        undecrypted().set(store, &held).await.expect("set");
        let read = undecrypted().get(store).await.expect("read").expect("set");
        assert_eq!(
            serde_json::to_value(&read).expect("JSON"),
            serde_json::to_value(&held).expect("JSON")
        );
        avatar().set(store, &"ab12".to_owned()).await.expect("set");
        assert_eq!(
            avatar().get(store).await.expect("read").as_deref(),
            Some("ab12")
        );
        let told = StatusRoomTold {
            seen: 4,
            told: true,
        };
        status_room_told(&room)
            .set(store, &told)
            .await
            .expect("set");
        assert_eq!(
            status_room_told(&room).get(store).await.expect("read"),
            Some(told)
        );
        let postmortem = BTreeMap::from([(
            room.clone(),
            OwedPostmortem {
                number: "INC-7".to_owned(),
                path: "2026/11/INC-7-disk-full.md".to_owned(),
                document: "---\nincident: \"INC-7\"\n---\n".to_owned(),
                failure_told: true,
            },
        )]);
        postmortems_owed()
            .set(store, &postmortem)
            .await
            .expect("set");
        assert_eq!(
            postmortems_owed().get(store).await.expect("read"),
            Some(postmortem)
        );
    }

    #[tokio::test]
    async fn every_key_round_trips_in_memory_and_in_sled() {
        every_key_round_trips(&EngineStore::in_memory()).await;
        let dir = tempfile::tempdir().expect("a directory");
        every_key_round_trips(&EngineStore::open(dir.path()).expect("opened")).await;
    }

    /// What the first release wrote, byte for byte, reads the same now.
    #[tokio::test]
    async fn values_written_by_the_first_release_read_the_same() {
        let store = EngineStore::in_memory();
        let incident = testing::record(1, "DNS", Severity::Sev2, 1_000).incident;
        let published_bytes = format!(
            "{{\"version\":3,\"incident\":{}}}",
            serde_json::to_string(&incident).expect("serialized")
        );
        let written: [(&str, &[u8]); 14] = [
            ("published.!room:example.org", published_bytes.as_bytes()),
            ("alert.resolved.am/prod/f", b"1764580000000"),
            ("share.$cause", b"!shared:example.org"),
            (
                "partner.invited.!standing:example.org",
                br#"["@ops:partner.example"]"#,
            ),
            ("forward.done.$m\u{0}x\u{0}!t", b"$copy"),
            (
                "oncall.shift.db",
                "@dan:example.org\u{0}2026-12-01T09:00:00Z".as_bytes(),
            ),
            ("profile.avatar_sha256", b"ab12"),
            ("sync.checkpoint_millis", b"1764580000000"),
            ("declare.$cause", b"12"),
            ("alert.am/prod/f", b"!room:example.org 1764580000000"),
            ("alert.am/prod/g", b"- 1764580000001"),
            ("shared.room.!shared:example.org", b"!room:example.org"),
            (
                "shared.pending",
                br#"{"!shared:example.org":[{"user":"@ops:partner.example"}]}"#,
            ),
            (
                "forward.rules.!room:example.org",
                "[{\"emoji\":\"📝\",\"to\":\"!pm:example.org\"}]".as_bytes(),
            ),
        ];
        for (key, value) in written {
            store.set_meta(key, value).await.expect("written");
        }
        assert_eq!(
            checkpoint().get(&store).await.expect("read"),
            Some(1_764_580_000_000)
        );
        assert_eq!(
            declared(event_id!("$cause"))
                .get(&store)
                .await
                .expect("read"),
            Some(12)
        );
        let declared = alert_declared("am/prod/f").get(&store).await.expect("read");
        assert_eq!(
            declared,
            Some(AlertDeclared {
                room: Some(owned_room_id!("!room:example.org")),
                episode: 1_764_580_000_000
            })
        );
        let refused = alert_declared("am/prod/g").get(&store).await.expect("read");
        assert_eq!(refused.map(|declared| declared.room), Some(None));
        assert_eq!(
            shared_room(room_id!("!shared:example.org"))
                .get(&store)
                .await
                .expect("read"),
            Some(owned_room_id!("!room:example.org"))
        );
        let waiting = pending_invitations()
            .get(&store)
            .await
            .expect("read")
            .expect("set");
        assert_eq!(
            waiting[room_id!("!shared:example.org")][0].user,
            "@ops:partner.example"
        );
        let rules = forward_rules(room_id!("!room:example.org"))
            .get(&store)
            .await
            .expect("read");
        assert_eq!(
            rules.map(|rules| rules[0].to.clone()),
            Some(owned_room_id!("!pm:example.org"))
        );
        let shown = published(room_id!("!room:example.org"))
            .get(&store)
            .await
            .expect("read");
        assert_eq!(
            shown,
            Some(Published {
                version: 3,
                incident,
                timeline_paged: false,
            })
        );
        assert_eq!(
            alert_resolved("am/prod/f").get(&store).await.expect("read"),
            Some(1_764_580_000_000)
        );
        assert_eq!(
            share_made(event_id!("$cause"))
                .get(&store)
                .await
                .expect("read"),
            Some(owned_room_id!("!shared:example.org"))
        );
        assert_eq!(
            partner_invited(room_id!("!standing:example.org"))
                .get(&store)
                .await
                .expect("read"),
            Some(vec![owned_user_id!("@ops:partner.example")])
        );
        assert_eq!(
            forwarded("$m\u{0}x\u{0}!t")
                .get(&store)
                .await
                .expect("read"),
            Some(owned_event_id!("$copy"))
        );
        assert_eq!(
            handoff_shift("db")
                .get(&store)
                .await
                .expect("read")
                .as_deref(),
            Some("@dan:example.org\u{0}2026-12-01T09:00:00Z")
        );
        assert_eq!(
            avatar().get(&store).await.expect("read").as_deref(),
            Some("ab12")
        );
        // And what is written now is what was written then, byte for byte.
        published(room_id!("!room:example.org"))
            .set(
                &store,
                &Published {
                    version: 3,
                    incident: testing::record(1, "DNS", Severity::Sev2, 1_000).incident,
                    timeline_paged: false,
                },
            )
            .await
            .expect("set");
        assert_eq!(
            store
                .meta("published.!room:example.org")
                .await
                .expect("read"),
            Some(published_bytes.into_bytes())
        );
        share_made(event_id!("$cause"))
            .set(&store, &owned_room_id!("!shared:example.org"))
            .await
            .expect("set");
        assert_eq!(
            store.meta("share.$cause").await.expect("read"),
            Some(b"!shared:example.org".to_vec())
        );
        handoff_shift("db")
            .set(&store, &"@dan:example.org\u{0}x".to_owned())
            .await
            .expect("set");
        assert_eq!(
            store.meta("oncall.shift.db").await.expect("read"),
            Some("@dan:example.org\u{0}x".as_bytes().to_vec())
        );
        checkpoint().set(&store, &5).await.expect("set");
        assert_eq!(
            store.meta("sync.checkpoint_millis").await.expect("read"),
            Some(b"5".to_vec())
        );
        alert_declared("x")
            .set(
                &store,
                &AlertDeclared {
                    room: None,
                    episode: 3,
                },
            )
            .await
            .expect("set");
        assert_eq!(
            store.meta("alert.x").await.expect("read"),
            Some(b"- 3".to_vec())
        );
    }

    #[tokio::test]
    async fn an_unreadable_value_is_taken_as_unset() {
        let store = EngineStore::in_memory();
        store
            .set_meta("declare.$cause", b"twelve")
            .await
            .expect("written");
        assert_eq!(
            declared(event_id!("$cause"))
                .get(&store)
                .await
                .expect("read"),
            None
        );
    }

    #[tokio::test]
    async fn an_unreadable_value_read_to_be_changed_is_an_error_and_stays() {
        let store = EngineStore::in_memory();
        let rules = forward_rules(room_id!("!room:example.org"));
        store
            .set_meta(rules.name(), b"[{\"emoji\": 7}]")
            .await
            .expect("written");
        let read = rules.get_to_change(&store).await;
        assert!(
            matches!(&read, Err(KeyError::Unreadable(key)) if key == rules.name()),
            "{read:?}"
        );
        assert_eq!(
            store.meta(rules.name()).await.expect("read").as_deref(),
            Some(&b"[{\"emoji\": 7}]"[..])
        );
        rules.set(&store, &Vec::new()).await.expect("set");
        assert_eq!(
            rules.get_to_change(&store).await.expect("readable"),
            Some(Vec::new())
        );
    }

    #[test]
    fn notify_settings_of_the_first_version_read_as_channels() {
        let read = |json: &str| serde_json::from_str::<NotifySetting>(json).expect(json);
        let first = read(r#"{"email":"dan@example.org"}"#);
        assert_eq!(first.email, Choice::At("dan@example.org".to_owned()));
        assert_eq!(first.ntfy, Choice::Unset);
        let off = read(r#""off""#);
        assert!(Channel::ALL
            .iter()
            .all(|&channel| off.choice(channel) == &Choice::Off));
        let mut now = NotifySetting::default();
        now.set(Channel::Ntfy, Choice::At("dan-pages".to_owned()));
        now.set(Channel::Email, Choice::Off);
        now.set(Channel::Phone, Choice::At("+442079460958".to_owned()));
        let json = serde_json::to_string(&now).expect("serializes");
        assert_eq!(
            json,
            r#"{"email":"off","ntfy":{"at":"dan-pages"},"phone":{"at":"+442079460958"}}"#
        );
        assert_eq!(read(&json), now);
        assert_eq!(read("{}"), NotifySetting::default());
    }
}
