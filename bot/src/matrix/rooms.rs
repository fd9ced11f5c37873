//! The standard rooms (SPEC §2): the Incidents space, triage, announcements and postmortems,
//! the archive, a sub-space closed incidents move to, and the private triage room for reports
//! of private types.
//!
//! Each is found by its alias; only a missing one is created, so a restart (or a second start
//! racing the first) never makes duplicates. Announcements are read-only except for moderators.
//! Each room is a child of the space and names the space as its parent.

use matrix_sdk::{
    ruma::{
        api::{
            client::room::{
                create_room::{
                    v3::{CreationContent, Request as CreateRoomRequest, RoomPreset},
                    RoomPowerLevelsContentOverride,
                },
                Visibility,
            },
            error::ErrorKind,
        },
        events::{
            space::{child::SpaceChildEventContent, parent::SpaceParentEventContent},
            StateEventType,
        },
        int,
        room::RoomType,
        serde::Raw,
        OwnedRoomAliasId, OwnedRoomId, RoomAliasId, ServerName,
    },
    Client, Room, RoomState,
};
use tracing::info;

use super::{owner, room_state::server_acl};
use crate::config::Config;

/// The standard rooms, by ID.
#[derive(Debug, Clone)]
pub struct StandardRooms {
    /// The Incidents space.
    pub space: OwnedRoomId,
    /// Where reports land.
    pub triage: OwnedRoomId,
    /// One headline per incident.
    pub announcements: OwnedRoomId,
    /// Finished reports.
    pub postmortems: OwnedRoomId,
    /// Where closed incidents go: a space inside the Incidents space.
    pub archive: OwnedRoomId,
    /// Where reports of private types land: invitation only, encrypted.
    pub private_triage: OwnedRoomId,
    /// Where the status page's public updates are announced (`status.room`), if anywhere.
    pub status: Option<OwnedRoomId>,
}

/// Why the standard rooms could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RoomsError {
    /// A configured alias is not a valid alias on the bot's server.
    #[error("{key}: `{localpart}` does not make a valid room alias: {source}")]
    Alias {
        /// The setting that names the alias (`rooms.triage`, `[[partners]] alias`).
        key: &'static str,
        /// The configured localpart.
        localpart: String,
        /// Why it is invalid.
        source: matrix_sdk::IdParseError,
    },
    /// The homeserver refused to create, join or link a room.
    #[error("{what} {alias}: {source}")]
    Matrix {
        /// What was being done.
        what: &'static str,
        /// The room's alias.
        alias: OwnedRoomAliasId,
        /// The homeserver's answer.
        source: Box<matrix_sdk::Error>,
    },
    /// The alias points to a room that is not the bot's: someone else made it and holds
    /// power there the bot does not.
    #[error(
        "{key}: {alias} is a room {creator} made, where the bot is not at the top level; give \
         the bot the highest power level there, move the alias to a room the bot made (or \
         remove it, and the bot makes one), or set {key} to another alias"
    )]
    NotOurs {
        /// The setting that names the alias (`rooms.triage`, `[[partners]] alias`).
        key: &'static str,
        /// The room's alias.
        alias: OwnedRoomAliasId,
        /// Who made it.
        creator: String,
    },
}

struct Spec<'a> {
    key: &'static str,
    name: &'a str,
    topic: &'a str,
    read_only: bool,
    space: bool,
    /// Invitation only, and only moderators invite (a partner's standing room).
    invite_only: bool,
    /// End-to-end encrypted from its creation.
    encrypted: bool,
    /// For anyone: listed in the room directory, readable without joining, open to every
    /// server.
    public: bool,
}

const SPACE: Spec = Spec {
    key: "rooms.space",
    name: "Incidents",
    topic: "Every incident room, with triage, announcements and postmortems",
    read_only: false,
    space: true,
    invite_only: false,
    encrypted: false,
    public: false,
};
const TRIAGE: Spec = Spec {
    key: "rooms.triage",
    name: "Incident triage",
    topic: "Where problems are reported and incidents declared",
    read_only: false,
    space: false,
    invite_only: false,
    encrypted: false,
    public: false,
};
const PRIVATE_TRIAGE: Spec = Spec {
    key: "rooms.private_triage",
    name: "Private incident triage",
    topic: "Reports of security problems: only the people invited see them",
    read_only: false,
    space: false,
    invite_only: true,
    encrypted: true,
    public: false,
};
const ANNOUNCEMENTS: Spec = Spec {
    key: "rooms.announcements",
    name: "Incident announcements",
    topic: "One headline per incident, kept up to date by Brigade",
    read_only: true,
    space: false,
    invite_only: false,
    encrypted: false,
    public: false,
};
const POSTMORTEMS: Spec = Spec {
    key: "rooms.postmortems",
    name: "Postmortems",
    topic: "Finished incident reports",
    read_only: false,
    space: false,
    invite_only: false,
    encrypted: false,
    public: false,
};
const ARCHIVE: Spec = Spec {
    key: "rooms.archive",
    name: "Incident archive",
    topic: "Closed incidents: read-only, history kept",
    read_only: true,
    space: true,
    invite_only: false,
    encrypted: false,
    public: false,
};

/// Finds or creates every standard room on the bot's server and links them to the space; and
/// the status page's public room where `status.room` names one, outside the space.
pub async fn ensure(client: &Client, config: &Config) -> Result<StandardRooms, RoomsError> {
    let server = config.matrix.user_id.server_name();
    let access = &config.access;
    let acl = server_acl(server, &access.allowed_servers, access.allow_ip_literals);
    let status = match &config.status.room {
        Some(localpart) => {
            let topic = format!(
                "Public updates from {}status/, posted by Brigade",
                config.web.public_url
            );
            let spec = Spec {
                key: "status.room",
                name: &config.status.title,
                topic: &topic,
                read_only: true,
                space: false,
                invite_only: false,
                encrypted: false,
                public: true,
            };
            let alias = alias(server, &spec, localpart)?;
            let room = ensure_room(client, &alias, &spec, &acl).await?;
            Some(room.room_id().to_owned())
        }
        None => None,
    };
    let config = &config.rooms;
    let space_alias = alias(server, &SPACE, &config.space)?;
    let space = ensure_room(client, &space_alias, &SPACE, &acl).await?;
    let child = |spec: &'static Spec<'static>, localpart: &str| {
        let space = space.clone();
        let alias = alias(server, spec, localpart);
        let acl = &acl;
        async move {
            let alias = alias?;
            let room = ensure_room(client, &alias, spec, acl).await?;
            link(&space, &room, server, &alias).await?;
            Ok::<_, RoomsError>(room.room_id().to_owned())
        }
    };
    let triage = child(&TRIAGE, &config.triage).await?;
    let announcements = child(&ANNOUNCEMENTS, &config.announcements).await?;
    let postmortems = child(&POSTMORTEMS, &config.postmortems).await?;
    let archive = child(&ARCHIVE, &config.archive).await?;
    let private_triage = child(&PRIVATE_TRIAGE, &config.private_triage).await?;
    Ok(StandardRooms {
        space: space.room_id().to_owned(),
        triage,
        announcements,
        postmortems,
        archive,
        private_triage,
        status,
    })
}

fn alias(
    server: &ServerName,
    spec: &Spec<'_>,
    localpart: &str,
) -> Result<OwnedRoomAliasId, RoomsError> {
    RoomAliasId::parse(format!("#{localpart}:{server}")).map_err(|source| RoomsError::Alias {
        key: spec.key,
        localpart: localpart.to_owned(),
        source,
    })
}

/// `room` if it is the bot's ([`ours`]); otherwise the bot leaves it again, and says why.
async fn owned(
    client: &Client,
    room: Room,
    alias: &RoomAliasId,
    spec: &Spec<'_>,
) -> Result<Room, RoomsError> {
    match ours(client, &room, alias, spec).await {
        Ok(()) => Ok(room),
        Err(refused @ RoomsError::NotOurs { .. }) => {
            if let Err(error) = room.leave().await {
                tracing::warn!(%alias, %error, "could not leave a room that is not the bot's");
            }
            Err(refused)
        }
        Err(error) => Err(error),
    }
}

/// Whether the standard room `room` is the bot's ([`owner::other_creator`]).
async fn ours(
    client: &Client,
    room: &Room,
    alias: &RoomAliasId,
    spec: &Spec<'_>,
) -> Result<(), RoomsError> {
    let creator = owner::other_creator(client, room)
        .await
        .map_err(|error| failed("reading the state of", alias)(error.into()))?;
    match creator {
        None => Ok(()),
        Some(creator) => Err(RoomsError::NotOurs {
            key: spec.key,
            alias: alias.to_owned(),
            creator,
        }),
    }
}

fn failed(what: &'static str, alias: &RoomAliasId) -> impl FnOnce(matrix_sdk::Error) -> RoomsError {
    let alias = alias.to_owned();
    move |source| RoomsError::Matrix {
        what,
        alias,
        source: Box::new(source),
    }
}

async fn ensure_room(
    client: &Client,
    alias: &RoomAliasId,
    spec: &Spec<'_>,
    acl: &serde_json::Value,
) -> Result<Room, RoomsError> {
    match client.resolve_room_alias(alias).await {
        Ok(found) => {
            let joined = client
                .get_room(&found.room_id)
                .filter(|room| room.state() == RoomState::Joined);
            let room = match joined {
                Some(room) => room,
                None => {
                    let room = client
                        .join_room_by_id(&found.room_id)
                        .await
                        .map_err(failed("joining", alias))?;
                    info!(%alias, room_id = %room.room_id(), "joined an existing standard room");
                    room
                }
            };
            return owned(client, room, alias, spec).await;
        }
        Err(error) if matches!(error.client_api_error_kind(), Some(ErrorKind::NotFound)) => {}
        Err(error) => return Err(failed("looking up", alias)(error.into())),
    }

    let mut request = CreateRoomRequest::new();
    request.name = Some(spec.name.to_owned());
    request.topic = Some(spec.topic.to_owned());
    request.room_alias_name = Some(alias.alias().to_owned());
    request.preset = Some(if spec.invite_only {
        RoomPreset::PrivateChat
    } else {
        RoomPreset::PublicChat
    });
    let raw = |value: &serde_json::Value| {
        Raw::new(value)
            .map(Raw::cast_unchecked)
            .map_err(|error| failed("creating", alias)(error.into()))
    };
    if spec.public {
        request.visibility = Visibility::Public;
        let readable = serde_json::json!({
            "type": "m.room.history_visibility", "state_key": "",
            "content": {"history_visibility": "world_readable"},
        });
        request.initial_state = vec![raw(&readable)?];
    } else {
        request.visibility = Visibility::Private;
        request.initial_state = vec![raw(acl)?];
    }
    if spec.encrypted {
        let encryption = serde_json::json!({
            "type": "m.room.encryption", "state_key": "",
            "content": {"algorithm": "m.megolm.v1.aes-sha2"},
        });
        request.initial_state.push(raw(&encryption)?);
    }
    if spec.space {
        let mut creation = CreationContent::new();
        creation.room_type = Some(RoomType::Space);
        request.creation_content =
            Some(Raw::new(&creation).map_err(|error| failed("creating", alias)(error.into()))?);
    }
    if spec.read_only || spec.invite_only {
        let mut levels = RoomPowerLevelsContentOverride::default();
        if spec.read_only {
            // Everyone reads; only moderators (50) and up post.
            levels.events_default = Some(int!(50));
        }
        if spec.invite_only {
            // Everyone talks at 0; inviting and room settings take a moderator.
            levels.invite = Some(int!(50));
            levels.state_default = Some(int!(50));
        }
        request.power_level_content_override =
            Some(Raw::new(&levels).map_err(|error| failed("creating", alias)(error.into()))?);
    }
    match client.create_room(request).await {
        Ok(room) => {
            info!(%alias, room_id = %room.room_id(), "created a standard room");
            Ok(room)
        }
        // Another start of this bot created it in between: use that one.
        Err(error) if alias_taken(&error) => {
            let found = client
                .resolve_room_alias(alias)
                .await
                .map_err(|error| failed("looking up", alias)(error.into()))?;
            let room = client
                .join_room_by_id(&found.room_id)
                .await
                .map_err(failed("joining", alias))?;
            owned(client, room, alias, spec).await
        }
        Err(error) => Err(failed("creating", alias)(error)),
    }
}

/// Finds or creates the standing room of a partner organisation (`[[partners]]`): invitation
/// only, fenced by `acl`, outside the Incidents space.
pub async fn ensure_standing(
    client: &Client,
    alias: &RoomAliasId,
    name: &str,
    topic: &str,
    acl: &serde_json::Value,
) -> Result<Room, RoomsError> {
    let spec = Spec {
        key: "[[partners]] alias",
        name,
        topic,
        read_only: false,
        space: false,
        invite_only: true,
        encrypted: false,
        public: false,
    };
    ensure_room(client, alias, &spec, acl).await
}

/// Whether `createRoom` was refused because its alias is taken: `M_ROOM_IN_USE`, or a 409
/// when another `createRoom` took the alias between Synapse's check and its own taking of it.
pub fn alias_taken(error: &matrix_sdk::Error) -> bool {
    matches!(error.client_api_error_kind(), Some(ErrorKind::RoomInUse))
        || error
            .as_client_api_error()
            .is_some_and(|error| error.status_code.as_u16() == 409)
}

/// Adds `room` to `space` (`m.space.child`) and names the space in it (`m.space.parent`),
/// unless already done.
async fn link(
    space: &Room,
    room: &Room,
    server: &ServerName,
    alias: &RoomAliasId,
) -> Result<(), RoomsError> {
    let via = vec![server.to_owned()];
    let child = space
        .get_state_event(StateEventType::SpaceChild, room.room_id().as_str())
        .await;
    if child
        .map_err(failed("linking to the space", alias))?
        .is_none()
    {
        space
            .send_state_event_for_key(room.room_id(), SpaceChildEventContent::new(via.clone()))
            .await
            .map_err(failed("linking to the space", alias))?;
    }
    let parent = room
        .get_state_event(StateEventType::SpaceParent, space.room_id().as_str())
        .await;
    if parent
        .map_err(failed("linking to the space", alias))?
        .is_none()
    {
        let mut parent = SpaceParentEventContent::new(via);
        parent.canonical = true;
        room.send_state_event_for_key(space.room_id(), parent)
            .await
            .map_err(failed("linking to the space", alias))?;
    }
    Ok(())
}
