//! A bot with its standard rooms and a declarer, for end-to-end tests of incidents, with
//! readers of what Element would show: room state, pinned summary, headlines.

use std::path::Path;

use anyhow::{bail, Context, Result};
use matrix_sdk::ruma::{OwnedRoomId, RoomId, UserId};
use serde_json::Value;

use crate::{
    bot::BotProcess,
    client::{body, is_reaction, is_thread_reply, TestUser},
    servers::shared as servers,
    wait::wait_for,
};

/// A bot with its standard rooms, and Alice, who has joined triage, announcements and the space.
#[derive(Debug)]
pub struct Desk {
    /// The bot.
    pub bot: BotProcess,
    /// The declarer.
    pub alice: TestUser,
    /// The triage room.
    pub triage: OwnedRoomId,
    /// The announcements room.
    pub announcements: OwnedRoomId,
    /// The Incidents space.
    pub space: OwnedRoomId,
}

impl Desk {
    pub async fn new(binary: &Path, extra_config: &str) -> Result<Self> {
        let hs = &servers().first;
        let mut bot = BotProcess::new(binary, hs, extra_config).await?;
        bot.start().await?;
        let alice = TestUser::register(hs, "alice").await?;
        Self::around(bot, alice).await
    }

    /// The desk of a running `bot`, Alice (on its server) joining its rooms.
    pub async fn around(bot: BotProcess, alice: TestUser) -> Result<Self> {
        let server = alice.user_id.server_name().to_owned();
        let alias = |room: &str| format!("#{}-{room}:{server}", bot.rooms_prefix);
        let triage = alice.join(&alias("triage")).await?;
        let announcements = alice.join(&alias("announce")).await?;
        let space = alice.join(&alias("incidents")).await?;
        Ok(Self {
            bot,
            alice,
            triage,
            announcements,
            space,
        })
    }

    pub fn bot_id(&self) -> &UserId {
        <&UserId>::try_from(self.bot.user_id.as_str()).expect("valid bot user ID")
    }

    /// `user` sends `command` in `room`; waits for the bot's `key` reaction and its threaded
    /// answer, and returns the answer's text.
    pub async fn command(
        &self,
        user: &TestUser,
        room: &RoomId,
        command: &str,
        key: &str,
    ) -> Result<String> {
        let event_id = user.send_text(room, command).await?.to_string();
        self.answer(user, room, &event_id, command, key).await
    }

    /// Sends `command` as `user`'s reply to `to` in `room`, as Element does; waits for the
    /// bot's `key` on it and returns the answer.
    pub async fn reply_command(
        &self,
        user: &TestUser,
        room: &RoomId,
        to: &str,
        command: &str,
        key: &str,
    ) -> Result<String> {
        let event_id = user.reply(room, to, command).await?.to_string();
        self.answer(user, room, &event_id, command, key).await
    }

    /// The bot's `key` on the command `event_id` and its answer in the thread.
    async fn answer(
        &self,
        user: &TestUser,
        room: &RoomId,
        event_id: &str,
        command: &str,
        key: &str,
    ) -> Result<String> {
        let bot = self.bot_id();
        user.wait_for_event(room, &format!("{key} on `{command}`"), |event| {
            is_reaction(event, bot, event_id, key)
        })
        .await
        .with_context(|| self.bot.log())?;
        let answer = user
            .wait_for_event(room, &format!("the answer to `{command}`"), |event| {
                is_thread_reply(event, bot, event_id)
            })
            .await
            .with_context(|| self.bot.log())?;
        Ok(body(&answer).to_owned())
    }

    /// Waits for the bot's ❓ on `message` (a reaction refused, not a command) and its threaded
    /// reason; returns the reason.
    pub async fn refusal(&self, user: &TestUser, room: &RoomId, message: &str) -> Result<String> {
        let bot = self.bot_id();
        user.wait_for_event(room, "❓ on the message", |event| {
            is_reaction(event, bot, message, "❓")
        })
        .await
        .with_context(|| self.bot.log())?;
        let reason = user
            .wait_for_event(room, "the reason", |event| {
                is_thread_reply(event, bot, message)
            })
            .await?;
        Ok(body(&reason).to_owned())
    }

    /// Declares an incident from triage as Alice, joins its room, and returns it.
    pub async fn declare(&self, arguments: &str) -> Result<Incident> {
        let answer = self
            .command(
                &self.alice,
                &self.triage,
                &format!("!inc declare {arguments}"),
                "✅",
            )
            .await?;
        let alias = answer
            .split(['[', ']', '(', ')'])
            .find(|part| part.starts_with("#inc-"))
            .with_context(|| format!("no room alias in the answer: {answer}"))?
            .to_owned();
        let room = self.alice.join(&alias).await?;
        Ok(Incident { room, alias })
    }

    /// Alice pages `who` into the incident `room` (✅ awaited), and they join it.
    pub async fn page_in(&self, room: &RoomId, who: &TestUser) -> Result<()> {
        let page = format!("!inc page {}", who.user_id);
        self.command(&self.alice, room, &page, "✅").await?;
        who.join(room.as_str()).await?;
        Ok(())
    }

    /// The bot's messages in `room` that are not edits, reactions or answers in threads.
    pub fn bot_posts(&self, user: &TestUser, room: &RoomId) -> Vec<Value> {
        user.events(room)
            .into_iter()
            .filter(|event| {
                event["type"] == "m.room.message" && event["sender"] == self.bot_id().as_str()
            })
            .filter(|event| event["content"]["m.relates_to"].is_null())
            .collect()
    }

    /// The text of the headline of `incident` in announcements, as last edited.
    pub async fn headline(&self, number: &str) -> Result<String> {
        let posts = wait_for(&format!("the headline of {number}"), || async {
            let posts: Vec<Value> = self
                .bot_posts(&self.alice, &self.announcements)
                .into_iter()
                .filter(|event| body(event).contains(&format!("{number} ·")))
                .collect();
            (!posts.is_empty()).then_some(posts)
        })
        .await?;
        if posts.len() != 1 {
            bail!("{} headlines for {number}: {posts:?}", posts.len());
        }
        let id = posts[0]["event_id"].as_str().context("headline ID")?;
        self.alice
            .current_body(&self.announcements, id)
            .context("headline text")
    }
}

/// A declared incident Alice has joined.
#[derive(Debug)]
pub struct Incident {
    /// Its room.
    pub room: OwnedRoomId,
    /// The room's alias.
    pub alias: String,
}

/// Waits until `probe` holds of what `user` sees, so edits and state have arrived.
pub async fn eventually(what: &str, mut probe: impl FnMut() -> bool) -> Result<()> {
    wait_for(what, || {
        let held = probe();
        async move { held.then_some(()) }
    })
    .await
}

/// Reads with `read` until what it reads satisfies `holds` (the bot brings rooms in step just
/// after it answers), and returns it; the last reading is in the error.
pub async fn until<T, F, Fut>(what: &str, read: F, holds: impl Fn(&T) -> bool) -> Result<T>
where
    T: std::fmt::Debug,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let last = std::sync::Mutex::new(None);
    wait_for(what, || async {
        let value = read().await.ok()?;
        if holds(&value) {
            return Some(value);
        }
        *last.lock().unwrap_or_else(|poison| poison.into_inner()) = Some(format!("{value:?}"));
        None
    })
    .await
    .with_context(|| format!("last read: {:?}", last.lock().ok()))
}

pub async fn topic(user: &TestUser, room: &RoomId) -> Result<String> {
    let topic = user
        .state(room, "m.room.topic", "")
        .await?
        .context("no topic")?;
    Ok(topic["topic"].as_str().unwrap_or_default().to_owned())
}

pub async fn name(user: &TestUser, room: &RoomId) -> Result<String> {
    let name = user
        .state(room, "m.room.name", "")
        .await?
        .context("no name")?;
    Ok(name["name"].as_str().unwrap_or_default().to_owned())
}

/// The room's `org.brigade.incident` state, its `timeline` read from the room's timeline pages
/// (`org.brigade.incident.timeline`, state keys `0`, `1`, …) when there are any.
pub async fn incident_state(user: &TestUser, room: &RoomId) -> Result<Value> {
    let mut state = user
        .state(room, "org.brigade.incident", "")
        .await?
        .context("no org.brigade.incident state")?;
    let pages = timeline_pages(user, room).await?;
    if !pages.is_empty() {
        let entries: Vec<Value> = pages
            .iter()
            .filter_map(|page| page["entries"].as_array())
            .flatten()
            .cloned()
            .collect();
        state["timeline"] = Value::from(entries);
    }
    Ok(state)
}

/// The room's timeline pages, in order, as the homeserver has them.
pub async fn timeline_pages(user: &TestUser, room: &RoomId) -> Result<Vec<Value>> {
    let mut pages = Vec::new();
    while let Some(page) = user
        .state(
            room,
            "org.brigade.incident.timeline",
            &pages.len().to_string(),
        )
        .await?
    {
        pages.push(page);
    }
    Ok(pages)
}

pub async fn level(user: &TestUser, room: &RoomId, who: &UserId) -> Result<i64> {
    let levels = user
        .state(room, "m.room.power_levels", "")
        .await?
        .context("no power levels")?;
    Ok(levels["users"][who.as_str()].as_i64().unwrap_or(0))
}

/// The pinned summary's event ID, and its text as last edited.
pub async fn summary(user: &TestUser, room: &RoomId) -> Result<(String, String)> {
    let pinned = until(
        "the summary to be pinned",
        || async { user.state(room, "m.room.pinned_events", "").await },
        Option::is_some,
    )
    .await?
    .context("nothing pinned")?;
    let id = pinned["pinned"][0]
        .as_str()
        .context("no pinned event")?
        .to_owned();
    let text = wait_for("the summary to arrive", || async {
        if let Some(text) = user.current_body(room, &id) {
            return Some(text);
        }
        // Sent before this user's server joined the room (over federation it has only the
        // state then): read back as Element does, which makes the server fetch the history.
        let joined = user.client.get_room(room)?;
        let page = joined
            .messages(matrix_sdk::room::MessagesOptions::backward())
            .await
            .ok()?;
        page.chunk.iter().find_map(|event| {
            let event: Value = event.raw().deserialize_as().ok()?;
            (event["event_id"] == id.as_str())
                .then(|| event["content"]["body"].as_str().map(str::to_owned))
                .flatten()
        })
    })
    .await?;
    Ok((id, text))
}
