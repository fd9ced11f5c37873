//! Incidents in Matrix: declaring one (its room in one `createRoom`) and changing it.
//!
//! A change is decided against the stored record and stored as a new version that remembers
//! the event that caused it and its answer; [`super::publish`] then brings the room's name,
//! topic, `org.brigade.incident` state, pinned summary and headline in step. A command a crash
//! interrupted is finished from the record: if its change is stored it is answered the same,
//! not applied again. Messages carry transaction IDs derived from the causing event, so a
//! resend is not posted twice.

use brigade_core::{
    incident::{
        Declaration, Incident, IncidentError, IncidentNumber, IncidentRecord, Status, Update,
    },
    store::StoreError,
    timeline::Happening,
};
use matrix_sdk::{
    ruma::{
        api::{
            client::{
                room::{
                    create_room::v3::{CreationContent, Request as CreateRoomRequest, RoomPreset},
                    Visibility,
                },
                state::get_state_event_for_key,
            },
            error::ErrorKind,
        },
        events::{
            room::{member::MembershipState, message::RoomMessageEventContent},
            Mentions, StateEventType,
        },
        serde::Raw,
        EventId, Int, MilliSecondsSinceUnixEpoch, OwnedRoomAliasId, OwnedUserId, RoomAliasId,
        RoomId, RoomVersionId, UserId,
    },
    Room, RoomState,
};
use serde_json::json;
use tracing::{info, warn};

use super::{
    postmortem, publish,
    reply::{notice, refused_for_good, transaction_id},
    Bot,
};
use crate::{
    commands::{self, Answer, Command, DeclareArgs, PageTarget, ShareArgs},
    config::AccessConfig,
    oncall, render,
};

/// The state event that mirrors the incident into its room.
pub const INCIDENT_STATE: &str = "org.brigade.incident";
/// Power levels of SPEC §6.
pub(super) const COMMANDER_LEVEL: i32 = 100;
pub(super) const ROLE_LEVEL: i32 = 50;
const RESPONDER_LEVEL: i32 = 0;
/// The bot's own level in rooms before version 12 (from 12 on, the creator is above all).
pub(super) const BOT_LEVEL: i32 = 150;
const DAY_MILLIS: u64 = 24 * 60 * 60 * 1000;

/// Why an action could not be finished; the event stays unfinished and is taken up again.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The homeserver failed or refused.
    #[error("homeserver: {0}")]
    Matrix(#[from] matrix_sdk::Error),
    /// The homeserver failed or refused a plain request.
    #[error("homeserver: {0}")]
    Http(#[from] matrix_sdk::HttpError),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Content could not be serialized.
    #[error("cannot serialize: {0}")]
    Json(#[from] serde_json::Error),
    /// The incident's alias belongs to a room the bot did not make for this incident.
    #[error("the room alias {0} is taken; an administrator can free it")]
    AliasTaken(OwnedRoomAliasId),
    /// The incident's room is not known to the bot's client yet.
    #[error("the room {0} is not known yet")]
    UnknownRoom(matrix_sdk::ruma::OwnedRoomId),
    /// The incident's alias would not be a valid alias (a very long server name).
    #[error("no valid room alias can be made for this incident: {0}")]
    InvalidAlias(String),
    /// A standing room could not be found or made.
    #[error(transparent)]
    Rooms(#[from] super::rooms::RoomsError),
}

impl ActionError {
    /// What to tell people when the homeserver refused for good (a 4xx): trying again would
    /// be refused again. `None` for failures worth another try (network, 5xx, the store).
    pub fn refusal(&self) -> Option<String> {
        let api = match self {
            Self::Matrix(error) => error.as_client_api_error(),
            Self::Http(error) => error.as_client_api_error(),
            Self::AliasTaken(_) | Self::InvalidAlias(_) => return Some(self.to_string()),
            Self::Store(_) | Self::Json(_) | Self::UnknownRoom(_) | Self::Rooms(_) => None,
        }?;
        refused_for_good(api).then(|| format!("the homeserver refused: {api}"))
    }
}

/// Why a command changes nothing: the one line after ❓.
pub(super) type Refusal = String;

/// Runs `command`, sent as `message` in `room`.
pub async fn run(
    bot: &Bot,
    room: &Room,
    cause: &EventId,
    sender: &UserId,
    sent: MilliSecondsSinceUnixEpoch,
    command: Command,
) -> Result<Answer, ActionError> {
    let sent = u64::from(sent.get());
    match command {
        Command::Help { topic } => Ok(commands::help(topic.as_deref())),
        Command::Declare(args) => declare(bot, cause, sender, sent, args).await,
        Command::List { all } => list(bot, sender, all).await,
        Command::Forward(args) => super::forward::command(bot, room, sender, args).await,
        Command::OnCall(team) => {
            let now = oncall::timestamp(bot.clock.now_millis());
            Ok(
                match oncall::answer(&bot.config.oncall, team.as_deref(), now) {
                    Ok(text) => Answer::Done(Some(text)),
                    Err(refusal) => Answer::Refused(refusal),
                },
            )
        }
        command => {
            let Some(record) = bot.store.incident(room.room_id()).await? else {
                return Ok(Answer::Refused(format!(
                    "`!inc {}` works in an incident room, and this is not one; `!inc list` links them",
                    command.name()
                )));
            };
            let change = Change {
                bot,
                room,
                cause,
                sender,
                sent,
            };
            Ok(match change.apply(record, command).await? {
                Ok(text) => Answer::Done(Some(text)),
                Err(refusal) => Answer::Refused(refusal),
            })
        }
    }
}

async fn declare(
    bot: &Bot,
    cause: &EventId,
    declarer: &UserId,
    sent: u64,
    args: DeclareArgs,
) -> Result<Answer, ActionError> {
    let config = &bot.config.incidents;
    let kind = match &args.kind {
        Some(kind) => match config.find_type(kind) {
            Some(kind) => kind.to_owned(),
            None => {
                return Ok(Answer::Refused(format!(
                    "unknown type `{kind}`: use {}",
                    config.types.join(", ")
                )))
            }
        },
        None => config.types[0].clone(),
    };
    let private = args.private || config.private_types.contains(&kind);
    let started = args.started.map(|(hours, minutes)| {
        // The given time on the day of the command, or the day before if that is still to come.
        let day = sent - sent % DAY_MILLIS;
        let at = day + (u64::from(hours) * 60 + u64::from(minutes)) * 60_000;
        if at > sent {
            at - DAY_MILLIS
        } else {
            at
        }
    });
    let declaration = Declaration {
        title: args.title,
        severity: args.severity.unwrap_or(config.default_severity),
        kind,
        private,
        declarer: declarer.to_owned(),
        started,
        alert: None,
    };
    let (record, room) = match open(bot, cause, declaration, sent).await? {
        Ok(opened) => opened,
        Err(refusal) => return Ok(Answer::Refused(refusal)),
    };
    // A title that calls for specialists: the suggestion is in the room when the declarer comes.
    super::ask::route(bot, &room, cause, declarer, sent, &record.incident.title).await?;

    let private = if record.incident.private {
        " It is private: end-to-end encrypted, on this server only, invitation only; its title and summary stay inside it."
    } else {
        ""
    };
    Ok(Answer::Done(Some(format!(
        "Declared **{}**: [{}]({}). You are in command and invited to the room.{private}",
        record.incident.number,
        record.alias,
        render::permalink(&record.alias)
    ))))
}

/// Opens a new incident for the command `cause`: its number, its room in one `createRoom`, its
/// record, and the room made complete (summary, headline, place in the space). A declaration a
/// crash interrupted is finished, not made twice.
pub(super) async fn open(
    bot: &Bot,
    cause: &EventId,
    declaration: Declaration,
    sent: u64,
) -> Result<Result<(IncidentRecord, Room), Refusal>, ActionError> {
    let (number, resuming) = incident_number(bot, cause).await?;
    let incident = match Incident::declare(number, declaration, sent) {
        Ok(incident) => incident,
        Err(error) => return Ok(Err(error.to_string())),
    };
    let server = bot.config.matrix.user_id.server_name();
    let alias = RoomAliasId::parse(format!(
        "#{}:{server}",
        incident.alias_localpart(&render::alias_date(sent))
    ))
    .map_err(|error| ActionError::InvalidAlias(error.to_string()))?;

    let creating = std::time::Instant::now();
    let room = create_room(bot, &incident, &alias, resuming).await?;
    let create_room_ms = creating.elapsed().as_millis();
    let record = match bot.store.incident(room.room_id()).await? {
        // Finishing a declaration a crash interrupted: the record may already be published.
        Some(record) => record,
        None => {
            let record = IncidentRecord::new(incident, room.room_id().to_owned(), alias);
            bot.store.save_incident(&record).await?;
            record
        }
    };
    fail::fail_point!("declare-after-room", |_| super::crash());
    // The summary (pinned), the headline and the room's place in the space, before the answer:
    // its ✅ says the room is complete. If the homeserver is not up to it now, the publisher
    // keeps trying while the answer goes out.
    if let Err(error) = publish::publish(bot, &record.room_id, publish::Records::Held).await {
        warn!(%error, "the new incident room is not complete yet; the publisher carries on");
        bot.publisher.publish(&record.room_id);
    }
    info!(incident = %record.incident.number, room_id = %record.room_id, create_room_ms, "incident declared");
    Ok(Ok((record, room)))
}

/// The number for the declaration `cause`: a new one the first time, the same one when a
/// declaration a crash interrupted is finished (then `true`), so its room is found again.
async fn incident_number(
    bot: &Bot,
    cause: &EventId,
) -> Result<(IncidentNumber, bool), ActionError> {
    let key = format!("declare.{cause}");
    if let Some(number) = bot
        .store
        .meta(&key)
        .await?
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.parse().ok())
    {
        return Ok((IncidentNumber(number), true));
    }
    let number = bot.store.next_incident_number().await?;
    bot.store
        .set_meta(&key, number.to_string().as_bytes())
        .await?;
    Ok((IncidentNumber(number), false))
}

/// The incident's room, in one `createRoom`; or, when `resuming`, the room an earlier try
/// made before a crash: the alias leads to it and its `org.brigade.incident` state carries
/// this incident's number. Anyone else's room behind the alias is refused, never adopted.
async fn create_room(
    bot: &Bot,
    incident: &Incident,
    alias: &RoomAliasId,
    resuming: bool,
) -> Result<Room, ActionError> {
    let request = room_request(
        incident,
        alias,
        &bot.rooms.space,
        &bot.config.matrix.user_id,
        &bot.config.access,
        &bot.room_version,
    )?;
    match bot.client.create_room(request).await {
        Ok(room) => Ok(room),
        Err(error)
            if resuming && matches!(error.client_api_error_kind(), Some(ErrorKind::RoomInUse)) =>
        {
            let taken = || ActionError::AliasTaken(alias.to_owned());
            let found = bot.client.resolve_room_alias(alias).await?;
            let request = get_state_event_for_key::v3::Request::new(
                found.room_id.clone(),
                StateEventType::from(INCIDENT_STATE),
                String::new(),
            );
            // Readable only by members: a room the bot is not in was not made by it.
            let state = bot.client.send(request).await.map_err(|_| taken())?;
            let number = serde_json::from_str::<serde_json::Value>(state.event_or_content.get())
                .ok()
                .and_then(|content| content["number"].as_u64());
            if number != Some(incident.number.0) {
                return Err(taken());
            }
            match bot.client.get_room(&found.room_id) {
                Some(room) if room.state() == RoomState::Joined => Ok(room),
                _ => Ok(bot.client.join_room_by_id(&found.room_id).await?),
            }
        }
        Err(error) if matches!(error.client_api_error_kind(), Some(ErrorKind::RoomInUse)) => {
            Err(ActionError::AliasTaken(alias.to_owned()))
        }
        Err(error) => Err(error.into()),
    }
}

/// The one `createRoom` of a declaration (SPEC §5): name, topic, alias, power levels (§6),
/// join rule (members of `space` join; others are invited), history visibility, the space
/// parent, the `org.brigade.incident` state, a server ACL admitting only `allowed` servers, and
/// the commander's invitation. `creator` is the bot; from room version 12 on it is above
/// everyone without being listed.
///
/// A private incident's room (§6) is end-to-end encrypted from its first event, never
/// federated, joined by invitation only (and only the commander invites), shows each member
/// only what was said after they joined, and stays out of the space; its state carries no
/// title or summary.
pub fn room_request(
    incident: &Incident,
    alias: &RoomAliasId,
    space: &RoomId,
    creator: &UserId,
    access: &AccessConfig,
    version: &RoomVersionId,
) -> Result<CreateRoomRequest, serde_json::Error> {
    let levels = json!({
        "users": level_users(&incident.commander, creator, version),
        "users_default": RESPONDER_LEVEL,
        "events_default": 0,
        "state_default": COMMANDER_LEVEL,
        "invite": if incident.private { COMMANDER_LEVEL } else { ROLE_LEVEL },
        "kick": COMMANDER_LEVEL,
        "ban": COMMANDER_LEVEL,
        "redact": ROLE_LEVEL,
        "events": {
            "m.room.name": COMMANDER_LEVEL,
            "m.room.power_levels": COMMANDER_LEVEL,
            "m.room.topic": ROLE_LEVEL,
            "m.room.pinned_events": ROLE_LEVEL,
            "m.room.history_visibility": COMMANDER_LEVEL,
            "m.room.tombstone": 150,
            // The room's durable record of the incident: Brigade's alone.
            INCIDENT_STATE: BOT_LEVEL,
        },
    });
    let server = creator.server_name();
    let mut initial_state = vec![
        state(INCIDENT_STATE, serde_json::to_value(incident.in_state())?),
        super::rooms::server_acl(server, &access.allowed_servers, access.allow_ip_literals),
    ];
    if incident.private {
        initial_state.extend([
            state("m.room.join_rules", json!({ "join_rule": "invite" })),
            state(
                "m.room.history_visibility",
                json!({ "history_visibility": "joined" }),
            ),
            state(
                "m.room.encryption",
                json!({ "algorithm": "m.megolm.v1.aes-sha2" }),
            ),
        ]);
    } else {
        initial_state.extend([
            // Members of the Incidents space join from the space; anyone else is invited.
            state(
                "m.room.join_rules",
                json!({
                    "join_rule": "restricted",
                    "allow": [{ "type": "m.room_membership", "room_id": space }],
                }),
            ),
            state(
                "m.room.history_visibility",
                json!({ "history_visibility": "shared" }),
            ),
            json!({
                "type": "m.space.parent",
                "state_key": space,
                "content": { "via": [server], "canonical": true },
            }),
        ]);
    }

    let mut request = CreateRoomRequest::new();
    request.name = Some(incident.room_name());
    request.topic = Some(incident.topic());
    request.room_alias_name = Some(alias.alias().to_owned());
    request.preset = Some(RoomPreset::PrivateChat);
    request.visibility = Visibility::Private;
    request.room_version = Some(version.clone());
    request.invite = vec![incident.commander.clone()];
    request.power_level_content_override = Some(Raw::new(&levels)?.cast_unchecked());
    if incident.private {
        // Fixed at creation: no other homeserver ever takes part in the room.
        let mut creation = CreationContent::new();
        creation.federate = false;
        request.creation_content = Some(Raw::new(&creation)?);
    }
    request.initial_state = raw_events(&initial_state)?;
    Ok(request)
}

/// The `users` of a new room's power levels: the commander at 100, and the bot (the room's
/// creator) written down above them before room version 12. From 12 on the creator is above
/// everyone without being listed, and refused in `users`.
pub(super) fn level_users(
    commander: &UserId,
    creator: &UserId,
    version: &RoomVersionId,
) -> serde_json::Map<String, serde_json::Value> {
    let mut users = serde_json::Map::new();
    users.insert(commander.to_string(), json!(COMMANDER_LEVEL));
    let creator_privileged = version
        .rules()
        .is_some_and(|rules| rules.authorization.explicitly_privilege_room_creators);
    if !creator_privileged {
        // Above the commander, as a version 12 creator is: a level can only be lowered by
        // someone above it, and the bot must be able to hand command over.
        users.insert(creator.to_string(), json!(BOT_LEVEL));
    }
    users
}

/// A state event with an empty state key, for `createRoom`'s `initial_state`.
pub(super) fn state(event_type: &str, content: serde_json::Value) -> serde_json::Value {
    json!({ "type": event_type, "state_key": "", "content": content })
}

/// `initial_state` events as `createRoom` takes them.
pub(super) fn raw_events<T>(
    events: &[serde_json::Value],
) -> Result<Vec<Raw<T>>, serde_json::Error> {
    events
        .iter()
        .map(|event| Raw::new(event).map(Raw::cast_unchecked))
        .collect()
}

/// `!inc list`: a private incident is listed only to its members, and without its title (the
/// list may be asked for in a room the incident's members do not share).
async fn list(bot: &Bot, asker: &UserId, all: bool) -> Result<Answer, ActionError> {
    let incidents = bot.store.incidents().await?;
    let mut shown = Vec::new();
    for record in incidents.iter().rev() {
        if !all && !record.incident.status.is_open() {
            continue;
        }
        if record.incident.private {
            let member = match bot.client.get_room(&record.room_id) {
                Some(room) => is_joined(&room, asker).await?,
                None => false,
            };
            if !member {
                continue;
            }
        }
        shown.push(render::list_line(record));
    }
    if shown.is_empty() {
        let none = if all {
            "No incidents yet."
        } else {
            "No open incidents. `!inc list --all` shows resolved and closed ones too."
        };
        return Ok(Answer::Done(Some(none.to_owned())));
    }
    let heading = if all {
        "All incidents"
    } else {
        "Open incidents"
    };
    Ok(Answer::Done(Some(format!(
        "**{heading}**\n\n{}",
        shown.join("\n")
    ))))
}

/// A change to one incident, caused by one event (a command or a reaction).
#[derive(Debug)]
pub struct Change<'a> {
    /// The bot.
    pub bot: &'a Bot,
    /// The incident's room.
    pub room: &'a Room,
    /// The event that causes the change: transaction IDs derive from it.
    pub cause: &'a EventId,
    /// Who caused it.
    pub sender: &'a UserId,
    /// When, by the homeserver's clock.
    pub sent: u64,
}

impl Change<'_> {
    /// Applies `command` to `record` and stores the change (the caller has the room published
    /// after answering). Returns the answer's text, or why nothing changed.
    async fn apply(
        &self,
        record: IncidentRecord,
        command: Command,
    ) -> Result<Result<String, Refusal>, ActionError> {
        // Finishing a command a crash interrupted after its change was stored: answer the same.
        if let Some(applied) = record.applied(self.cause) {
            return Ok(Ok(applied.answer.clone().unwrap_or_default()));
        }
        let name = command.name();
        let directs = matches!(
            command,
            Command::Sev(_)
                | Command::Lead(_)
                | Command::Role(..)
                | Command::Page(_)
                | Command::Private
                | Command::Share(ShareArgs {
                    server: Some(_),
                    ..
                })
                | Command::Close
        );
        if directs && !self.may_direct(&record.incident).await? {
            return Ok(Err(format!(
                "only the commander ({}) or a moderator (power level 50 or more) may use `!inc {name}`",
                record.incident.commander
            )));
        }
        let mut next = record.clone();
        let incident = &mut next.incident;
        let mut levels: Vec<OwnedUserId> = Vec::new();
        let mut update = None;
        let text = match command {
            Command::Status { to, note } => {
                let from = incident.status;
                if let Err(error) = incident.set_status(to, self.sent, self.sender) {
                    return Ok(Err(error.to_string()));
                }
                if let Some(note) = note {
                    update = Some(note);
                }
                format!("Status: {from} → {to}")
            }
            Command::Reopen => {
                if incident.status != Status::Resolved {
                    return Ok(Err(format!(
                        "only a resolved incident can be reopened; {} is {}",
                        incident.number, incident.status
                    )));
                }
                if let Err(error) =
                    incident.set_status(Status::Investigating, self.sent, self.sender)
                {
                    return Ok(Err(error.to_string()));
                }
                format!("Reopened: {} is investigating again", incident.number)
            }
            Command::Sev(severity) => {
                let from = incident.severity;
                if let Err(error) = incident.set_severity(severity, self.sent, self.sender) {
                    return Ok(Err(error.to_string()));
                }
                format!("Severity: {from} → {severity} {}", severity.emoji())
            }
            Command::Lead(user) => {
                if let Some(refusal) = self.not_a_person(&user).await? {
                    return Ok(Err(refusal));
                }
                let previous = match incident.set_commander(user.clone(), self.sent, self.sender) {
                    Ok(previous) => previous,
                    Err(error) => return Ok(Err(error.to_string())),
                };
                levels.extend([user.clone(), previous.clone()]);
                format!("🚑 {user} is now in command (was {previous})")
            }
            Command::Role(role, user) => {
                if let Some(refusal) = self.not_a_person(&user).await? {
                    return Ok(Err(refusal));
                }
                let previous = match incident.assign(role, user.clone(), self.sent, self.sender) {
                    Ok(previous) => previous,
                    Err(error) => return Ok(Err(error.to_string())),
                };
                levels.push(user.clone());
                levels.extend(previous.clone());
                match previous {
                    Some(previous) => format!("{role}: {user} (was {previous})"),
                    None => format!("{role}: {user}"),
                }
            }
            Command::Update(text) => {
                update = Some(text);
                if incident.private {
                    "Update posted here (a private incident's headline shows no updates)".to_owned()
                } else {
                    "Update posted here and on the headline".to_owned()
                }
            }
            Command::Summary(text) => {
                if incident.status == Status::Closed {
                    return Ok(Err(IncidentError::Closed.to_string()));
                }
                incident.summary = text;
                "Summary updated".to_owned()
            }
            Command::Page(targets) => {
                let Some(people) = self.page_targets(&targets) else {
                    return Ok(Err(self.unknown_groups(&targets)));
                };
                return self.page(next, &people, "page").await.map(Ok);
            }
            Command::Followup(args) => {
                let owner = match &args.owner {
                    Some(owner) => format!(" (owner {owner})"),
                    None => String::new(),
                };
                let answer = format!("Follow-up recorded{owner}: {}", render::escape(&args.text));
                incident.add_followup(args.text, args.owner, self.sent, self.sender);
                answer
            }
            Command::Timeline => return Ok(Ok(postmortem::timeline(self.bot, &record))),
            Command::Private => {
                if let Some(refusal) = not_to_be_made_private(incident) {
                    return Ok(Err(refusal));
                }
                let declaration = Declaration {
                    title: incident.title.clone(),
                    severity: incident.severity,
                    kind: incident.kind.clone(),
                    private: true,
                    declarer: incident.commander.clone(),
                    started: Some(
                        incident
                            .timestamps
                            .started
                            .unwrap_or(incident.timestamps.declared),
                    ),
                    alert: None,
                };
                let companion = match open(self.bot, self.cause, declaration, self.sent).await? {
                    Ok((companion, _)) => companion,
                    Err(refusal) => return Ok(Err(refusal)),
                };
                incident.continued_in = Some(companion.alias.clone());
                format!(
                    "{} continues in a new private room, **{}** ({}): end-to-end encrypted, on this server only, invitation only. The commander {} is invited there and invites whom they need; members see only what is said after they join. This room keeps the pointer, and nothing said here goes there.",
                    incident.number,
                    companion.incident.number,
                    companion.alias,
                    incident.commander
                )
            }
            Command::Share(args) => {
                let mut shared = next.clone();
                return match super::share::command(self, &mut shared, args).await? {
                    Ok(text) => {
                        if shared != next {
                            self.commit(shared, Some(text.clone())).await?;
                        }
                        Ok(Ok(text))
                    }
                    Err(refusal) => Ok(Err(refusal)),
                };
            }
            Command::Postmortem => return postmortem::draft(self, &record).await.map(Ok),
            Command::Close => return postmortem::close(self, record).await,
            Command::Help { .. }
            | Command::Declare(_)
            | Command::List { .. }
            | Command::OnCall(_)
            | Command::Forward(_) => {
                unreachable!("handled before an incident is looked up")
            }
        };
        if let Some(text) = update {
            let posted = Update {
                at: self.sent,
                author: self.sender.to_owned(),
                text,
            };
            if let Err(error) = next.incident.add_update(posted.clone()) {
                return Ok(Err(error.to_string()));
            }
            let message = format!(
                "📣 **Update on {}** ({}, {}): {}",
                next.incident.number,
                render::clock(posted.at),
                posted.author,
                render::escape(&posted.text)
            );
            self.room
                .send(notice(&message))
                .with_transaction_id(transaction_id(self.cause, "update"))
                .await?;
        }
        if !levels.is_empty() {
            self.set_levels(&next.incident, &levels).await?;
        }
        self.commit(next, Some(text.clone())).await?;
        Ok(Ok(text))
    }

    /// Whether the sender may direct the incident: its commander, or level 50 and up.
    async fn may_direct(&self, incident: &Incident) -> Result<bool, ActionError> {
        use matrix_sdk::ruma::events::room::power_levels::UserPowerLevel;
        if incident.commander == self.sender {
            return Ok(true);
        }
        let level = self.room.get_user_power_level(self.sender).await?;
        Ok(level >= UserPowerLevel::Int(Int::from(ROLE_LEVEL)))
    }

    /// A refusal when `user` cannot hold a role: Brigade itself, or someone not in the room.
    async fn not_a_person(&self, user: &UserId) -> Result<Option<Refusal>, ActionError> {
        if self.bot.config.matrix.user_id == user {
            return Ok(Some(
                "Brigade runs the room; roles are for people in it".to_owned(),
            ));
        }
        let joined = is_joined(self.room, user).await?;
        Ok((!joined).then(|| {
            format!("{user} is not in this room; page them first with `!inc page {user}`")
        }))
    }

    /// Sets the power level of each of `users` to what their roles give them (§6).
    pub async fn set_levels(
        &self,
        incident: &Incident,
        users: &[OwnedUserId],
    ) -> Result<(), ActionError> {
        let updates = users
            .iter()
            .map(|user| (user.as_ref(), level_of(incident, user)))
            .collect();
        self.room.update_power_levels(updates).await?;
        Ok(())
    }

    /// Stores `next` as a new version holding this change and its `answer`. The caller has
    /// the room published once it has answered, so the answer does not queue behind the
    /// room's updates at the homeserver.
    pub async fn commit(
        &self,
        mut next: IncidentRecord,
        answer: Option<String>,
    ) -> Result<(), ActionError> {
        next.next_version(self.cause, answer);
        self.bot.store.save_incident(&next).await?;
        Ok(())
    }

    /// The people `targets` name, or `None` when a group is unknown.
    pub(super) fn page_targets(
        &self,
        targets: &[PageTarget],
    ) -> Option<Vec<(OwnedUserId, Option<String>)>> {
        let mut people: Vec<(OwnedUserId, Option<String>)> = Vec::new();
        for target in targets {
            let found: Vec<(OwnedUserId, Option<String>)> = match target {
                PageTarget::User(user) => vec![(user.clone(), None)],
                PageTarget::OnCall(team) => {
                    let rotation = self.bot.config.rotation(team)?;
                    let now = oncall::timestamp(self.bot.clock.now_millis());
                    let on_call = rotation.on_call(now)?;
                    vec![(
                        on_call.who,
                        Some(format!("on call for {}", rotation.team())),
                    )]
                }
                PageTarget::Group(name) => {
                    let group = self
                        .bot
                        .config
                        .groups
                        .iter()
                        .find(|group| group.name.eq_ignore_ascii_case(name))?;
                    group
                        .members
                        .iter()
                        .map(|member| (member.clone(), Some(group.name.clone())))
                        .collect()
                }
            };
            for (user, group) in found {
                if !people.iter().any(|(known, _)| *known == user) {
                    people.push((user, group));
                }
            }
        }
        Some(people)
    }

    fn unknown_groups(&self, targets: &[PageTarget]) -> Refusal {
        let rotations = &self.bot.config.oncall;
        let unknown_team = targets.iter().find_map(|target| match target {
            PageTarget::OnCall(team)
                if !rotations
                    .iter()
                    .any(|rotation| rotation.team().eq_ignore_ascii_case(team)) =>
            {
                Some(team.as_str())
            }
            _ => None,
        });
        if let Some(team) = unknown_team {
            let teams: Vec<&str> = rotations.iter().map(|rotation| rotation.team()).collect();
            return if teams.is_empty() {
                format!("no on-call team `{team}`: no rotations are configured")
            } else {
                format!("no on-call team `{team}` (teams: {})", teams.join(", "))
            };
        }
        let now = oncall::timestamp(self.bot.clock.now_millis());
        let uncovered = rotations.iter().find(|rotation| {
            rotation.on_call(now).is_none()
                && targets.iter().any(|target| {
                    matches!(target, PageTarget::OnCall(team) if rotation.team().eq_ignore_ascii_case(team))
                })
        });
        if let Some(rotation) = uncovered {
            return format!(
                "nobody is on call for {} right now; page people with @name",
                rotation.team()
            );
        }
        let groups = &self.bot.config.groups;
        let unknown: Vec<&str> = targets
            .iter()
            .filter_map(|target| match target {
                PageTarget::Group(name)
                    if !groups
                        .iter()
                        .any(|group| group.name.eq_ignore_ascii_case(name)) =>
                {
                    Some(name.as_str())
                }
                _ => None,
            })
            .collect();
        let known = if groups.is_empty() {
            "no groups are configured; page people with @name".to_owned()
        } else {
            let names: Vec<&str> = groups.iter().map(|group| group.name.as_str()).collect();
            format!("groups: {}", names.join(", "))
        };
        format!("no group named `{}` ({known})", unknown.join("`, `"))
    }

    /// Invites `people` who are not in the room and mentions them all in one `m.text` message
    /// (`m.notice` never notifies), which 👀 acknowledges.
    pub(super) async fn page(
        &self,
        mut next: IncidentRecord,
        people: &[(OwnedUserId, Option<String>)],
        purpose: &str,
    ) -> Result<String, ActionError> {
        let mut not_invited = Vec::new();
        for (user, _) in people {
            let member = self.room.get_member(user).await?;
            let present = member.is_some_and(|member| {
                matches!(
                    member.membership(),
                    MembershipState::Join | MembershipState::Invite
                )
            });
            if present {
                continue;
            }
            if let Err(error) = self.room.invite_user_by_id(user).await {
                let permanent = error.as_client_api_error().is_some_and(refused_for_good);
                if !permanent {
                    return Err(error.into());
                }
                warn!(%user, %error, "could not invite a paged user");
                not_invited.push(user.to_string());
            }
        }
        let incident = &next.incident;
        let pills = |html: bool| -> String {
            people
                .iter()
                .map(|(user, group)| {
                    let name = if html {
                        render::pill_html(user)
                    } else {
                        user.to_string()
                    };
                    match group {
                        Some(group) => format!("{name} ({group})"),
                        None => name,
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let body = format!(
            "📟 {}: {} needs you: {}. React 👀 when you are on it.",
            incident.number,
            incident.title,
            pills(false)
        );
        let html = format!(
            "📟 <b>{}</b>: {} needs you: {}. React 👀 when you are on it.",
            incident.number,
            render::html_escape(&incident.title),
            pills(true)
        );
        let content = RoomMessageEventContent::text_html(body, html).add_mentions(
            Mentions::with_user_ids(people.iter().map(|(user, _)| user.clone())),
        );
        let sent = self
            .room
            .send(content)
            .with_transaction_id(transaction_id(self.cause, purpose))
            .await?;
        if !next.pages.contains(&sent.response.event_id) {
            next.pages.push(sent.response.event_id);
        }
        let paged = Happening::Paged {
            people: people.iter().map(|(user, _)| user.clone()).collect(),
        };
        next.incident.log(self.sent, self.sender, paged);
        let mut text = format!("Paged {}", pills(false));
        if !not_invited.is_empty() {
            text.push_str(&format!(
                "; could not invite {} (their server refused)",
                not_invited.join(", ")
            ));
        }
        self.commit(next, Some(text.clone())).await?;
        Ok(text)
    }
}

/// Whether `user` is joined to `room`, as the bot's client knows it.
pub(super) async fn is_joined(room: &Room, user: &UserId) -> Result<bool, ActionError> {
    let member = room.get_member(user).await?;
    Ok(member.is_some_and(|member| *member.membership() == MembershipState::Join))
}

/// Why `incident` cannot go on in a private room, if it cannot.
fn not_to_be_made_private(incident: &Incident) -> Option<Refusal> {
    if incident.private {
        return Some(format!("{} is private already", incident.number));
    }
    if let Some(room) = &incident.continued_in {
        return Some(format!(
            "{} already continues in the private room {room}",
            incident.number
        ));
    }
    (!incident.status.is_open()).then(|| {
        format!(
            "{} is {}; only an open incident moves to a private room",
            incident.number, incident.status
        )
    })
}

/// The power level `user`'s roles give them (§6).
fn level_of(incident: &Incident, user: &UserId) -> Int {
    let level = if incident.commander == user {
        COMMANDER_LEVEL
    } else if incident.has_role(user) {
        ROLE_LEVEL
    } else {
        RESPONDER_LEVEL
    };
    Int::from(level)
}
