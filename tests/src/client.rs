//! A person in the tests: a matrix-sdk client that syncs in the background and keeps every
//! timeline event it sees, so tests can wait for what the bot does.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{bail, Context, Result};
use brigade_core::sync::lock;
use matrix_sdk::{
    attachment::AttachmentConfig,
    config::SyncSettings,
    ruma::{
        api::client::room::create_room::v3::Request as CreateRoomRequest,
        events::{
            reaction::ReactionEventContent,
            relation::Annotation,
            room::message::{ReplacementMetadata, RoomMessageEventContent},
        },
        serde::Raw,
        EventId, OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, RoomOrAliasId, UserId,
    },
    Client,
};
use serde_json::Value;
use tokio::{sync::Notify, task::JoinHandle};

use crate::{
    synapse::Homeserver,
    wait::{wait_for, DEADLINE},
};

type Timeline = Arc<Mutex<HashMap<OwnedRoomId, Vec<Value>>>>;

/// A logged-in user whose client syncs until dropped.
#[derive(Debug)]
pub struct TestUser {
    /// The client.
    pub client: Client,
    /// The user's ID.
    pub user_id: OwnedUserId,
    /// The user's password, for signing in elsewhere (the web pages).
    pub password: String,
    /// The display name, as Brigade should name them: `Alice 3k9x2a` for `@alice-3k9x2a:…`
    /// (registered here), or the profile's (or the localpart) for a user logged in.
    pub name: String,
    timeline: Timeline,
    /// Woken after each sync response is stored, so waiting costs no polling delay.
    arrived: Arc<Notify>,
    sync: JoinHandle<()>,
}

impl Drop for TestUser {
    fn drop(&mut self) {
        self.sync.abort();
    }
}

impl TestUser {
    /// Registers `localpart` (with a random suffix, so tests never share users) and logs in.
    pub async fn register(homeserver: &Homeserver, localpart: &str) -> Result<Self> {
        let localpart = format!(
            "{localpart}-{}",
            crate::synapse::random_string(6).to_lowercase()
        );
        let password = crate::synapse::random_string(16);
        homeserver.register(&localpart, &password, false).await?;
        let mut user = Self::login(homeserver, &localpart, &password).await?;
        // A name unlike the ID, so a test sees which of the two Brigade shows.
        let name = match localpart.split_once('-') {
            Some((base, suffix)) => {
                let mut base = base.to_owned();
                base[..1].make_ascii_uppercase();
                format!("{base} {suffix}")
            }
            None => localpart.clone(),
        };
        user.client.account().set_display_name(Some(&name)).await?;
        user.name = name;
        Ok(user)
    }

    /// Logs in an existing user.
    pub async fn login(homeserver: &Homeserver, localpart: &str, password: &str) -> Result<Self> {
        Self::login_at(&homeserver.url, localpart, password).await
    }

    /// Logs in an existing user of the homeserver at `url`, one this harness did not start.
    pub async fn login_at(url: &str, localpart: &str, password: &str) -> Result<Self> {
        let client = Client::builder().homeserver_url(url).build().await?;
        client
            .matrix_auth()
            .login_username(localpart, password)
            .send()
            .await?;
        client.sync_once(SyncSettings::default()).await?;
        let user_id = client
            .user_id()
            .context("logged in without a user ID")?
            .to_owned();
        let name = client
            .account()
            .get_display_name()
            .await?
            .unwrap_or_else(|| user_id.localpart().to_owned());
        let timeline: Timeline = Arc::default();
        let arrived = Arc::new(Notify::new());
        let sync = tokio::spawn({
            let client = client.clone();
            let timeline = timeline.clone();
            let arrived = arrived.clone();
            async move {
                // A loop of its own rather than `Client::sync`, which sleeps a second between
                // syncs that come less than a second apart and would blur every measurement.
                // Errors (a homeserver outage) are retried, as a real client would.
                let mut settings = SyncSettings::default().timeout(Duration::from_secs(5));
                loop {
                    let Ok(response) = client.sync_once(settings.clone()).await else {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    };
                    settings = settings.token(response.next_batch.clone());
                    let mut timeline = lock(&timeline);
                    for (room_id, update) in response.rooms.joined {
                        let events = timeline.entry(room_id).or_default();
                        for event in update.timeline.events {
                            if let Ok(value) = event.raw().deserialize_as::<Value>() {
                                events.push(value);
                            }
                        }
                    }
                    drop(timeline);
                    arrived.notify_waiters();
                }
            }
        });
        Ok(Self {
            client,
            user_id,
            password: password.to_owned(),
            name,
            timeline,
            arrived,
            sync,
        })
    }

    /// Creates a private room inviting `invite`, and returns its ID.
    pub async fn create_room(&self, name: &str, invite: &[&UserId]) -> Result<OwnedRoomId> {
        let mut request = CreateRoomRequest::new();
        request.name = Some(name.to_owned());
        request.invite = invite.iter().map(|user| (*user).to_owned()).collect();
        Ok(self.client.create_room(request).await?.room_id().to_owned())
    }

    /// Creates a private room with `alias_localpart`, the given initial state events (each
    /// `{"type", "state_key", "content"}`) and `invite`d users, and returns its ID.
    pub async fn create_room_with_state(
        &self,
        name: &str,
        alias_localpart: &str,
        initial_state: &[Value],
        invite: &[&UserId],
    ) -> Result<OwnedRoomId> {
        let mut request = CreateRoomRequest::new();
        request.name = Some(name.to_owned());
        request.room_alias_name = Some(alias_localpart.to_owned());
        request.invite = invite.iter().map(|user| (*user).to_owned()).collect();
        request.initial_state = initial_state
            .iter()
            .map(|event| Raw::new(event).map(Raw::cast_unchecked))
            .collect::<Result<_, _>>()?;
        Ok(self.client.create_room(request).await?.room_id().to_owned())
    }

    /// Sends a plain text message and returns its event ID.
    pub async fn send_text(&self, room_id: &RoomId, body: &str) -> Result<OwnedEventId> {
        let room = self.client.get_room(room_id).context("not in that room")?;
        Ok(room
            .send(RoomMessageEventContent::text_plain(body))
            .await?
            .response
            .event_id)
    }

    /// Joins a room by ID or alias (waiting for an invitation to arrive first, if need be) and
    /// returns its ID.
    pub async fn join(&self, room: &str) -> Result<OwnedRoomId> {
        let room = RoomOrAliasId::parse(room)?;
        let last_error = Mutex::new(None);
        let joined = wait_for(&format!("joining {room}"), || async {
            match self.client.join_room_by_id_or_alias(&room, &[]).await {
                Ok(joined) => Some(joined),
                Err(error) => {
                    *last_error
                        .lock()
                        .unwrap_or_else(|poison| poison.into_inner()) = Some(error.to_string());
                    None
                }
            }
        })
        .await
        .with_context(|| format!("last error: {:?}", last_error.lock().ok()))?;
        Ok(joined.room_id().to_owned())
    }

    /// Reacts to `event_id` with `key`; returns the reaction's ID.
    pub async fn react(&self, room_id: &RoomId, event_id: &str, key: &str) -> Result<OwnedEventId> {
        let room = self.client.get_room(room_id).context("not in that room")?;
        let content =
            ReactionEventContent::new(Annotation::new(EventId::parse(event_id)?, key.to_owned()));
        Ok(room.send(content).await?.response.event_id)
    }

    /// Redacts `event_id` (a message, a reaction) in `room_id`.
    pub async fn redact(&self, room_id: &RoomId, event_id: &str) -> Result<()> {
        let room = self.client.get_room(room_id).context("not in that room")?;
        room.redact(&EventId::parse(event_id)?, None, None).await?;
        Ok(())
    }

    /// Replies to `event_id` with `body`, as Element does (`m.in_reply_to`).
    pub async fn reply(
        &self,
        room_id: &RoomId,
        event_id: &str,
        body: &str,
    ) -> Result<OwnedEventId> {
        let room = self.client.get_room(room_id).context("not in that room")?;
        let content = serde_json::json!({
            "msgtype": "m.text",
            "body": body,
            "m.relates_to": { "m.in_reply_to": { "event_id": event_id } },
        });
        Ok(room
            .send_raw("m.room.message", content)
            .await?
            .response
            .event_id)
    }

    /// Edits the text message `event_id` to say `body`, as Element does (`m.replace`).
    pub async fn edit(&self, room_id: &RoomId, event_id: &str, body: &str) -> Result<()> {
        let room = self.client.get_room(room_id).context("not in that room")?;
        let edit = RoomMessageEventContent::text_plain(body)
            .make_replacement(ReplacementMetadata::new(EventId::parse(event_id)?, None));
        room.send(edit).await?;
        Ok(())
    }

    /// Uploads `data` as the file `name` in `room_id`; returns the message's ID.
    pub async fn send_file(
        &self,
        room_id: &RoomId,
        name: &str,
        data: &[u8],
    ) -> Result<OwnedEventId> {
        let room = self.client.get_room(room_id).context("not in that room")?;
        let sent = room
            .send_attachment(
                name,
                &mime::TEXT_PLAIN_UTF_8,
                data.to_vec(),
                AttachmentConfig::new(),
            )
            .await?;
        Ok(sent.event_id)
    }

    /// The room's current state event of `event_type` and `state_key`, asked of the
    /// homeserver (not this client's cache), as its content.
    pub async fn state(
        &self,
        room_id: &RoomId,
        event_type: &str,
        state_key: &str,
    ) -> Result<Option<Value>> {
        let homeserver = self.client.homeserver();
        let url = format!(
            "{}_matrix/client/v3/rooms/{room_id}/state/{event_type}/{state_key}",
            homeserver
        );
        let token = self.client.access_token().context("no access token")?;
        let response = reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .send()
            .await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = response.error_for_status()?;
        Ok(Some(response.json().await?))
    }

    /// The text of message `event_id` as last edited (`m.new_content` of the latest edit this
    /// user has seen), or as sent.
    pub fn current_body(&self, room_id: &RoomId, event_id: &str) -> Option<String> {
        self.current_content(room_id, event_id)?["body"]
            .as_str()
            .map(str::to_owned)
    }

    /// The content of message `event_id` as its latest edit this user has seen leaves it.
    pub fn current_content(&self, room_id: &RoomId, event_id: &str) -> Option<Value> {
        current_content(&self.events(room_id), event_id)
    }

    /// The content of the file at `source` (decrypted when it is an encrypted file).
    pub async fn download(
        &self,
        source: matrix_sdk::ruma::events::room::MediaSource,
    ) -> Result<Vec<u8>> {
        let request = matrix_sdk::media::MediaRequestParameters {
            source,
            format: matrix_sdk::media::MediaFormat::File,
        };
        Ok(self
            .client
            .media()
            .get_media_content(&request, false)
            .await?)
    }

    /// The answer to a GET of the client-server API at `path` (after `_matrix/client/`) as
    /// this user, read as JSON.
    pub async fn get(&self, path: &str) -> Result<Value> {
        let token = self.client.access_token().context("no access token")?;
        let url = self
            .client
            .homeserver()
            .join(&format!("_matrix/client/{path}"))?;
        Ok(reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// Every event of `room_id` from its start, oldest first, read back from the homeserver
    /// (`/messages`): unlike [`Self::events`], nothing a busy sync left out is missing.
    pub async fn history(&self, room_id: &RoomId) -> Result<Vec<Value>> {
        let room = self
            .client
            .get_room(room_id)
            .context("a room this user is not in")?;
        let mut events = Vec::new();
        let mut from: Option<String> = None;
        loop {
            let mut options = matrix_sdk::room::MessagesOptions::backward().from(from.as_deref());
            options.limit = 500u32.into();
            let page = room.messages(options).await?;
            for event in &page.chunk {
                events.push(event.raw().deserialize_as::<Value>()?);
            }
            if page.chunk.is_empty() || page.end.is_none() {
                break;
            }
            from = page.end;
        }
        events.reverse();
        Ok(events)
    }

    /// Every timeline event this user has seen in `room_id`, as JSON.
    pub fn events(&self, room_id: &RoomId) -> Vec<Value> {
        lock(&self.timeline)
            .get(room_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until an event in `room_id` matches `predicate`, and returns it. Wakes as soon as
    /// the sync response carrying it is stored.
    pub async fn wait_for_event(
        &self,
        room_id: &RoomId,
        what: &str,
        predicate: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            // Registered before looking, so an arrival between the look and the wait counts.
            let arrived = self.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let found = lock(&self.timeline)
                .get(room_id)
                .and_then(|events| events.iter().find(|event| predicate(event)).cloned());
            if let Some(event) = found {
                return Ok(event);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                bail!("gave up after {} s waiting for {what}", DEADLINE.as_secs());
            }
        }
    }

    /// Waits until `user` has joined `room_id`, as this user's homeserver sees it.
    pub async fn wait_for_membership(
        &self,
        room_id: &RoomId,
        user: &UserId,
        membership: &str,
    ) -> Result<()> {
        let what = format!("{user} to be {membership} in {room_id}");
        wait_for(&what, || async {
            let room = self.client.get_room(room_id)?;
            let member = room.get_member_no_sync(user).await.ok()??;
            (member.membership().as_str() == membership).then_some(())
        })
        .await
    }
}

/// The content of message `event_id` among `events` as its latest edit leaves it.
pub fn current_content(events: &[Value], event_id: &str) -> Option<Value> {
    let edit = events.iter().rev().find(|event| {
        event["content"]["m.relates_to"]["rel_type"] == "m.replace"
            && event["content"]["m.relates_to"]["event_id"] == event_id
    });
    if let Some(edit) = edit {
        return Some(edit["content"]["m.new_content"].clone());
    }
    events
        .iter()
        .find(|event| event["event_id"] == event_id)
        .map(|event| event["content"].clone())
}

/// Whether `event` is a reaction by `sender` with `key` on `target`.
pub fn is_reaction(event: &Value, sender: &UserId, target: &str, key: &str) -> bool {
    event["type"] == "m.reaction"
        && event["sender"] == sender.as_str()
        && event["content"]["m.relates_to"]["event_id"] == target
        && event["content"]["m.relates_to"]["key"] == key
}

/// Whether `event` is a message by `sender` in the thread rooted at `root`.
pub fn is_thread_reply(event: &Value, sender: &UserId, root: &str) -> bool {
    event["type"] == "m.room.message"
        && event["sender"] == sender.as_str()
        && event["content"]["m.relates_to"]["rel_type"] == "m.thread"
        && event["content"]["m.relates_to"]["event_id"] == root
}

/// The body of a message event.
pub fn body(event: &Value) -> &str {
    event["content"]["body"].as_str().unwrap_or_default()
}
