//! The homeserver's client-server API, as the application service sees it: the few things the
//! bridge asks of it, behind [`Homeserver`], so that the outbox is tested against a fake one.
//! [`HttpHomeserver`] makes them ruma's typed requests over reqwest, each acting as one of the
//! bridge's virtual users.

use std::borrow::Cow;

use async_trait::async_trait;
use brigade_core::secret::Secret;
use ruma::{
    api::{
        auth_scheme::SendAccessToken,
        client::{
            account::register::{self, LoginType},
            alias::get_alias,
            filter::RoomEventFilter,
            membership::join_room_by_id_or_alias,
            message::{get_message_events, send_message_event},
            profile::set_profile_field,
            room::create_room::{self, v3::RoomPreset},
            state::get_state_event_for_key,
        },
        error::FromHttpResponseError,
        AppserviceUserIdentity, IncomingResponse, MatrixVersion, OutgoingRequest,
        OutgoingRequestAppserviceExt, SupportedVersions,
    },
    events::{MessageLikeEventType, StateEventType},
    profile::ProfileFieldValue,
    serde::Raw,
    OwnedEventId, OwnedRoomId, OwnedRoomOrAliasId, OwnedUserId, RoomAliasId, RoomId, TransactionId,
    UserId,
};
use url::Url;

/// Why a request to the homeserver failed.
#[derive(Debug, thiserror::Error)]
pub enum HomeserverError {
    /// The request could not be built (a bug, or an unusable homeserver URL).
    #[error("cannot build the request: {0}")]
    Build(String),
    /// The homeserver could not be reached, or did not answer in time.
    #[error("homeserver unreachable: {0}")]
    Unreachable(#[from] reqwest::Error),
    /// The homeserver answered with an error.
    #[error("homeserver answered {status}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Its `errcode` and `error`, or the body.
        message: String,
    },
}

impl HomeserverError {
    /// Whether asking again would be answered the same: a 4xx other than 429 and 408.
    pub fn for_good(&self) -> bool {
        matches!(self, Self::Refused { status, .. } if (400..500).contains(status) && *status != 429 && *status != 408)
    }

    /// The Matrix error code, if the homeserver gave one.
    pub fn errcode(&self) -> Option<&str> {
        match self {
            Self::Refused { message, .. } => message.split(':').next(),
            _ => None,
        }
    }
}

/// A room a virtual user creates: invite-only, with an alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoom {
    /// The alias's localpart.
    pub alias: String,
    /// Its name.
    pub name: String,
    /// Its topic.
    pub topic: String,
    /// Who is invited.
    pub invite: Vec<OwnedUserId>,
}

/// A message a virtual user sent, as the homeserver keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    /// Its event ID.
    pub event_id: OwnedEventId,
    /// Its content.
    pub content: serde_json::Value,
}

/// How many of a room's messages one look back reads at most, newest first.
pub const LOOK_BACK_MESSAGES: usize = 500;
/// How many pages of 100 one look back reads at most (the homeserver may filter a page empty).
const LOOK_BACK_PAGES: usize = 20;

/// What the bridge asks of its homeserver, each as a virtual user.
#[async_trait]
pub trait Homeserver: Send + Sync + std::fmt::Debug {
    /// Asks the homeserver to call the bridge back: it answers only once it reaches the bridge.
    async fn ping(&self, appservice_id: &str) -> Result<(), HomeserverError>;
    /// Registers `user` (a user registered before is fine).
    async fn register(&self, user: &UserId) -> Result<(), HomeserverError>;
    /// Sets `user`'s display name.
    async fn set_display_name(&self, user: &UserId, name: &str) -> Result<(), HomeserverError>;
    /// The room `alias` names, looked up as `user`; `None` when there is none.
    async fn resolve_alias(
        &self,
        user: &UserId,
        alias: &RoomAliasId,
    ) -> Result<Option<OwnedRoomId>, HomeserverError>;
    /// Creates `room` as `user`.
    async fn create_room(
        &self,
        user: &UserId,
        room: NewRoom,
    ) -> Result<OwnedRoomId, HomeserverError>;
    /// Joins `user` to `room`.
    async fn join(
        &self,
        user: &UserId,
        room: &OwnedRoomOrAliasId,
    ) -> Result<OwnedRoomId, HomeserverError>;
    /// Sends `content` (an `m.room.message`) to `room` as `user` under `txn_id`: the same
    /// transaction sent again is one message.
    async fn send_message(
        &self,
        user: &UserId,
        room: &RoomId,
        txn_id: &TransactionId,
        content: serde_json::Value,
    ) -> Result<OwnedEventId, HomeserverError>;
    /// The `m.room.message`s `user` sent in `room` since `since` (milliseconds since the Unix
    /// epoch, by the homeserver's clock), newest first, at most [`LOOK_BACK_MESSAGES`].
    async fn posted_since(
        &self,
        user: &UserId,
        room: &RoomId,
        since: u64,
    ) -> Result<Vec<Posted>, HomeserverError>;
    /// `of`'s power level in `room`, read as `user`.
    async fn power_level(
        &self,
        user: &UserId,
        room: &RoomId,
        of: &UserId,
    ) -> Result<i64, HomeserverError>;
    /// The latest events of `event_type` that `sender` sent in `room`, read as `reader`,
    /// newest first: at most a hundred.
    async fn recent_events(
        &self,
        reader: &UserId,
        room: &RoomId,
        (sender, event_type): (&UserId, &str),
    ) -> Result<Vec<serde_json::Value>, HomeserverError>;
}

/// The homeserver over HTTP.
#[derive(Debug, Clone)]
pub struct HttpHomeserver {
    http: reqwest::Client,
    base: String,
    as_token: Secret,
    versions: SupportedVersions,
}

impl HttpHomeserver {
    /// The homeserver at `url`, reached with `as_token`.
    pub fn new(url: &Url, as_token: Secret) -> Result<Self, HomeserverError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        let versions = SupportedVersions {
            versions: [MatrixVersion::V1_1, MatrixVersion::V1_7].into(),
            features: Default::default(),
        };
        Ok(Self {
            http,
            base: url.as_str().trim_end_matches('/').to_owned(),
            as_token,
            versions,
        })
    }

    /// The matrix versions requests are built for.
    pub fn versions(&self) -> Cow<'_, SupportedVersions> {
        Cow::Borrowed(&self.versions)
    }

    /// `POST /_matrix/client/v1/appservice/{id}/ping`, authenticated as the application service.
    async fn post_ping(&self, appservice_id: &str) -> Result<(), HomeserverError> {
        let url = format!(
            "{}/_matrix/client/v1/appservice/{appservice_id}/ping",
            self.base
        );
        let response = self
            .http
            .post(url)
            .bearer_auth(self.as_token.expose())
            .json(&serde_json::json!({}))
            .send()
            .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(HomeserverError::Refused {
            status: status.as_u16(),
            message: body.chars().take(200).collect(),
        })
    }

    /// Sends `request` as the virtual user `as_user` (the bridge's own user when `None`).
    async fn send<R>(
        &self,
        request: R,
        as_user: Option<&UserId>,
        path: <R::PathBuilder as ruma::api::path_builder::PathBuilder>::Input<'_>,
    ) -> Result<R::IncomingResponse, HomeserverError>
    where
        R: OutgoingRequest,
        for<'a> R::Authentication:
            ruma::api::auth_scheme::AuthScheme<Input<'a> = SendAccessToken<'a>>,
    {
        let identity = match as_user {
            Some(user) => AppserviceUserIdentity::new(user),
            None => AppserviceUserIdentity::default(),
        };
        let request = request
            .try_into_http_request_with_identity::<Vec<u8>>(
                &self.base,
                SendAccessToken::Always(self.as_token.expose()),
                identity,
                path,
            )
            .map_err(|error| HomeserverError::Build(error.to_string()))?;
        let request = reqwest::Request::try_from(request)?;
        let response = self.http.execute(request).await?;
        let status = response.status();
        let mut builder = http::Response::builder().status(status);
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let body = response.bytes().await?.to_vec();
        if !status.is_success() {
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let message = match (json["errcode"].as_str(), json["error"].as_str()) {
                (Some(code), Some(text)) => format!("{code}: {text}"),
                (Some(code), None) => code.to_owned(),
                _ => String::from_utf8_lossy(&body).chars().take(200).collect(),
            };
            return Err(HomeserverError::Refused {
                status: status.as_u16(),
                message,
            });
        }
        let response = builder
            .body(body)
            .map_err(|error| HomeserverError::Build(error.to_string()))?;
        R::IncomingResponse::try_from_http_response(response).map_err(
            |error: FromHttpResponseError<R::EndpointError>| HomeserverError::Refused {
                status: status.as_u16(),
                message: format!("unreadable answer: {error}"),
            },
        )
    }
}

#[async_trait]
impl Homeserver for HttpHomeserver {
    async fn ping(&self, appservice_id: &str) -> Result<(), HomeserverError> {
        self.post_ping(appservice_id).await
    }

    async fn register(&self, user: &UserId) -> Result<(), HomeserverError> {
        let mut request = register::v3::Request::new();
        request.username = Some(user.localpart().to_owned());
        request.login_type = Some(LoginType::ApplicationService);
        request.inhibit_login = true;
        match self.send(request, None, self.versions()).await {
            Ok(_) => Ok(()),
            Err(error) if error.errcode() == Some("M_USER_IN_USE") => Ok(()),
            Err(error) => Err(error),
        }
    }

    async fn set_display_name(&self, user: &UserId, name: &str) -> Result<(), HomeserverError> {
        let request = set_profile_field::v3::Request::new(
            user.to_owned(),
            ProfileFieldValue::DisplayName(name.to_owned()),
        );
        self.send(request, Some(user), self.versions()).await?;
        Ok(())
    }

    async fn resolve_alias(
        &self,
        user: &UserId,
        alias: &RoomAliasId,
    ) -> Result<Option<OwnedRoomId>, HomeserverError> {
        let request = get_alias::v3::Request::new(alias.to_owned());
        match self.send(request, Some(user), self.versions()).await {
            Ok(found) => Ok(Some(found.room_id)),
            Err(error) if error.errcode() == Some("M_NOT_FOUND") => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn create_room(
        &self,
        user: &UserId,
        room: NewRoom,
    ) -> Result<OwnedRoomId, HomeserverError> {
        let mut request = create_room::v3::Request::new();
        request.room_alias_name = Some(room.alias);
        request.name = Some(room.name);
        request.topic = Some(room.topic);
        request.preset = Some(RoomPreset::PrivateChat);
        request.invite = room.invite;
        Ok(self
            .send(request, Some(user), self.versions())
            .await?
            .room_id)
    }

    async fn join(
        &self,
        user: &UserId,
        room: &OwnedRoomOrAliasId,
    ) -> Result<OwnedRoomId, HomeserverError> {
        let request = join_room_by_id_or_alias::v3::Request::new(room.clone());
        Ok(self
            .send(request, Some(user), self.versions())
            .await?
            .room_id)
    }

    async fn send_message(
        &self,
        user: &UserId,
        room: &RoomId,
        txn_id: &TransactionId,
        content: serde_json::Value,
    ) -> Result<OwnedEventId, HomeserverError> {
        let raw = Raw::new(&content)
            .map_err(|error| HomeserverError::Build(error.to_string()))?
            .cast_unchecked();
        let request = send_message_event::v3::Request::new_raw(
            room.to_owned(),
            txn_id.to_owned(),
            MessageLikeEventType::RoomMessage,
            raw,
        );
        Ok(self
            .send(request, Some(user), self.versions())
            .await?
            .event_id)
    }

    async fn posted_since(
        &self,
        user: &UserId,
        room: &RoomId,
        since: u64,
    ) -> Result<Vec<Posted>, HomeserverError> {
        let mut filter = RoomEventFilter::default();
        filter.senders = Some(vec![user.to_owned()]);
        filter.types = Some(vec![MessageLikeEventType::RoomMessage.to_string()]);
        let mut posted = Vec::new();
        let mut from = None;
        for _ in 0..LOOK_BACK_PAGES {
            let mut request = get_message_events::v3::Request::backward(room.to_owned());
            request.from = from;
            request.limit = ruma::uint!(100);
            request.filter = filter.clone();
            let page = self.send(request, Some(user), self.versions()).await?;
            for event in &page.chunk {
                let event: serde_json::Value = event
                    .deserialize_as()
                    .map_err(|error| HomeserverError::Build(error.to_string()))?;
                if event["origin_server_ts"].as_u64().unwrap_or_default() < since {
                    return Ok(posted);
                }
                let Some(event_id) = event["event_id"]
                    .as_str()
                    .and_then(|id| OwnedEventId::try_from(id).ok())
                else {
                    continue;
                };
                if event["sender"] == user.as_str() {
                    posted.push(Posted {
                        event_id,
                        content: event["content"].clone(),
                    });
                }
                if posted.len() >= LOOK_BACK_MESSAGES {
                    return Ok(posted);
                }
            }
            match page.end {
                Some(end) => from = Some(end),
                None => break,
            }
        }
        Ok(posted)
    }

    async fn power_level(
        &self,
        user: &UserId,
        room: &RoomId,
        of: &UserId,
    ) -> Result<i64, HomeserverError> {
        let request = get_state_event_for_key::v3::Request::new(
            room.to_owned(),
            StateEventType::RoomPowerLevels,
            String::new(),
        );
        let answer = self.send(request, Some(user), self.versions()).await?;
        let levels: serde_json::Value = serde_json::from_str(answer.event_or_content.get())
            .map_err(|error| HomeserverError::Build(error.to_string()))?;
        let level = |value: &serde_json::Value| {
            value
                .as_i64()
                .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
        };
        Ok(level(&levels["users"][of.as_str()])
            .or_else(|| level(&levels["users_default"]))
            .unwrap_or(0))
    }

    async fn recent_events(
        &self,
        reader: &UserId,
        room: &RoomId,
        (sender, event_type): (&UserId, &str),
    ) -> Result<Vec<serde_json::Value>, HomeserverError> {
        let mut filter = RoomEventFilter::default();
        filter.senders = Some(vec![sender.to_owned()]);
        filter.types = Some(vec![event_type.to_owned()]);
        let mut request = get_message_events::v3::Request::backward(room.to_owned());
        request.limit = ruma::uint!(100);
        request.filter = filter;
        let page = self.send(request, Some(reader), self.versions()).await?;
        page.chunk
            .iter()
            .map(|event| {
                event
                    .deserialize_as::<serde_json::Value>()
                    .map_err(|error| HomeserverError::Build(error.to_string()))
            })
            .filter(|event| {
                event.as_ref().map_or(true, |event| {
                    event["sender"] == sender.as_str() && event["type"] == event_type
                })
            })
            .collect()
    }
}
