//! End-to-end: the bot alive against real Synapse homeservers.
//!
//! On the two homeservers the test binary shares (127.0.0.1 and 127.0.0.2, federating); each
//! test registers its own bot and people, so tests run side by side without sharing state.

use std::{net::Ipv4Addr, path::Path, process::Command, time::Duration};

use anyhow::{ensure, Context, Result};
use brigade_tests::{
    bot::BotProcess,
    client::{body, is_reaction, is_thread_reply, TestUser},
    synapse::{Homeserver, Options},
    wait::wait_for,
};
use matrix_sdk::{
    deserialized_responses::RawAnySyncOrStrippedState,
    ruma::{
        api::{
            client::profile::{AvatarUrl, DisplayName},
            error::ErrorKind,
        },
        events::{room::message::RoomMessageEventContent, StateEventType},
        OwnedRoomId, RoomAliasId, UserId,
    },
};
use serde_json::Value;

use brigade_tests::servers::{shared as servers, Servers};

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

/// A started bot and a person in a room with it.
struct Scene {
    bot: BotProcess,
    alice: TestUser,
    room: OwnedRoomId,
}

async fn scene(extra_config: &str) -> Result<Scene> {
    let hs = &servers().first;
    let mut bot = BotProcess::new(bot_binary(), hs, extra_config).await?;
    bot.start().await?;
    let alice = TestUser::register(hs, "alice").await?;
    let bot_id = UserId::parse(&bot.user_id)?;
    let room = alice.create_room("Brigade test", &[&bot_id]).await?;
    alice
        .wait_for_membership(&room, &bot_id, "join")
        .await
        .with_context(|| bot.log())?;
    Ok(Scene { bot, alice, room })
}

impl Scene {
    fn bot_id(&self) -> &UserId {
        <&UserId>::try_from(self.bot.user_id.as_str()).expect("valid bot user ID")
    }

    /// Sends `command` and waits for the bot's reaction `key` on it; returns the command's ID.
    async fn command(&self, command: &str, key: &str) -> Result<String> {
        let event_id = self.alice.send_text(&self.room, command).await?.to_string();
        self.wait_for_reaction(&event_id, key).await?;
        Ok(event_id)
    }

    async fn wait_for_reaction(&self, event_id: &str, key: &str) -> Result<Value> {
        let bot = self.bot_id();
        self.alice
            .wait_for_event(&self.room, &format!("{key} on {event_id}"), |event| {
                is_reaction(event, bot, event_id, key)
            })
            .await
            .with_context(|| self.bot.log())
    }

    async fn wait_for_thread_reply(&self, event_id: &str) -> Result<Value> {
        let bot = self.bot_id();
        self.alice
            .wait_for_event(
                &self.room,
                &format!("a threaded answer to {event_id}"),
                |event| is_thread_reply(event, bot, event_id),
            )
            .await
            .with_context(|| self.bot.log())
    }

    /// How many reactions and threaded answers the bot has posted on `event_id`.
    fn answers_to(&self, event_id: &str) -> (usize, usize) {
        let bot = self.bot_id();
        let events = self.alice.events(&self.room);
        let reactions = events
            .iter()
            .filter(|event| event["type"] == "m.reaction" && event["sender"] == bot.as_str())
            .filter(|event| event["content"]["m.relates_to"]["event_id"] == event_id)
            .count();
        let replies = events
            .iter()
            .filter(|event| is_thread_reply(event, bot, event_id))
            .count();
        (reactions, replies)
    }
}

#[tokio::test]
async fn help_is_answered_in_a_thread_with_a_check_mark() -> Result<()> {
    let scene = scene("").await?;
    let help = scene.command("!inc help", "✅").await?;
    let answer = scene.wait_for_thread_reply(&help).await?;
    assert!(body(&answer).contains("!inc help [command]"), "{answer}");
    assert_eq!(answer["content"]["msgtype"], "m.notice", "{answer}");

    let one = scene.command("!incident help help", "✅").await?;
    let answer = scene.wait_for_thread_reply(&one).await?;
    assert!(body(&answer).contains("list the commands"), "{answer}");
    Ok(())
}

#[tokio::test]
async fn unknown_command_gets_a_question_mark_and_points_at_help() -> Result<()> {
    let scene = scene("").await?;
    let unknown = scene.command("!inc frobnicate", "❓").await?;
    let answer = scene.wait_for_thread_reply(&unknown).await?;
    assert!(body(&answer).contains("frobnicate"), "{answer}");
    assert!(body(&answer).contains("!inc help"), "{answer}");

    let malformed = scene.command("!inc help a b", "❓").await?;
    let answer = scene.wait_for_thread_reply(&malformed).await?;
    assert!(body(&answer).contains("usage"), "{answer}");

    // Plain conversation gets nothing: after a later command is answered, the chat has no reaction.
    let chat = scene
        .alice
        .send_text(&scene.room, "the database is slow")
        .await?
        .to_string();
    scene.command("!inc help", "✅").await?;
    assert_eq!(scene.answers_to(&chat), (0, 0));
    Ok(())
}

#[tokio::test]
async fn answers_as_replies_when_threads_are_off() -> Result<()> {
    let scene = scene("[commands]\nthreads = false").await?;
    let help = scene.command("!inc help", "✅").await?;
    let bot = scene.bot_id();
    let answer = scene
        .alice
        .wait_for_event(&scene.room, "a reply to help", |event| {
            event["sender"] == bot.as_str()
                && event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == help.as_str()
        })
        .await?;
    assert_ne!(
        answer["content"]["m.relates_to"]["rel_type"], "m.thread",
        "{answer}"
    );
    Ok(())
}

#[tokio::test]
async fn invite_from_a_server_that_is_not_allowed_is_declined() -> Result<()> {
    let Servers { first, second } = servers();
    let mut bot = BotProcess::new(bot_binary(), first, "").await?;
    bot.start().await?;
    let bot_id = UserId::parse(&bot.user_id)?;

    let mallory = TestUser::register(second, "mallory").await?;
    let room = mallory.create_room("From elsewhere", &[&bot_id]).await?;
    // The bot declines at once, so "invite" may never be seen here: "leave" can only follow it.
    mallory
        .wait_for_membership(&room, &bot_id, "leave")
        .await
        .with_context(|| bot.log())?;
    assert!(bot.log().contains("invite declined"), "{}", bot.log());

    // The same bot accepts an invite from its own server.
    let alice = TestUser::register(first, "alice").await?;
    let room = alice.create_room("At home", &[&bot_id]).await?;
    alice
        .wait_for_membership(&room, &bot_id, "join")
        .await
        .with_context(|| bot.log())?;
    Ok(())
}

#[tokio::test]
async fn invites_from_an_allowed_remote_server_are_accepted() -> Result<()> {
    let Servers { first, second } = servers();
    let extra = format!(
        "[access]\nallowed_servers = [\"{}\", \"{}\"]",
        first.server_name, second.server_name
    );
    let mut bot = BotProcess::new(bot_binary(), first, &extra).await?;
    bot.start().await?;
    let bot_id = UserId::parse(&bot.user_id)?;
    let partner = TestUser::register(second, "partner").await?;
    let room = partner.create_room("Partner room", &[&bot_id]).await?;
    partner
        .wait_for_membership(&room, &bot_id, "join")
        .await
        .with_context(|| bot.log())?;
    Ok(())
}

#[tokio::test]
async fn restart_after_kill_answers_missed_commands_once_and_keeps_the_device() -> Result<()> {
    let mut scene = scene("").await?;
    let before = scene.command("!inc help", "✅").await?;
    scene.wait_for_thread_reply(&before).await?;
    // Shared-secret registration made a device too; what matters is the bot's own, and that
    // no restart adds one.
    let devices = bot_devices(&scene.bot.user_id).await?;
    let session: Value =
        serde_json::from_slice(&std::fs::read(scene.bot.dir.join("data/session.json"))?)?;
    let own_device = session["session"]["device_id"]
        .as_str()
        .context("device in session")?;
    assert!(
        devices.iter().any(|device| device == own_device),
        "{devices:?} lacks {own_device}"
    );

    scene.bot.kill()?;
    let while_down = scene
        .alice
        .send_text(&scene.room, "!inc help help")
        .await?
        .to_string();
    scene.bot.start().await?;
    scene.wait_for_reaction(&while_down, "✅").await?;
    scene.wait_for_thread_reply(&while_down).await?;

    // A live command after the restart: once it is answered, anything the restart would have
    // answered twice has been answered too.
    let after = scene.command("!inc help", "✅").await?;
    scene.wait_for_thread_reply(&after).await?;
    // Kill again straight away and restart once more, to catch anything replayed from the
    // catch-up window rather than from sync.
    scene.bot.kill()?;
    scene.bot.start().await?;
    let last = scene.command("!inc help", "✅").await?;
    scene.wait_for_thread_reply(&last).await?;

    for event_id in [&before, &while_down, &after] {
        assert_eq!(
            scene.answers_to(event_id),
            (1, 1),
            "answers to {event_id}\n{}",
            scene.bot.log()
        );
    }
    assert_eq!(
        bot_devices(&scene.bot.user_id).await?,
        devices,
        "a restart must not create a device"
    );

    let status = scene.bot.terminate().await?;
    assert!(
        status.success(),
        "SIGTERM should stop the bot cleanly: {status}\n{}",
        scene.bot.log()
    );
    Ok(())
}

/// Every path under `dir` whose mode lets anyone but its owner in.
fn readable_by_others(dir: &Path) -> Result<Vec<String>> {
    use std::os::unix::fs::PermissionsExt;
    let mut open = Vec::new();
    let metadata = std::fs::symlink_metadata(dir)?;
    if metadata.permissions().mode() & 0o077 != 0 && !metadata.file_type().is_symlink() {
        open.push(format!(
            "{} {:o}",
            dir.display(),
            metadata.permissions().mode() & 0o777
        ));
    }
    if metadata.is_dir() {
        for entry in std::fs::read_dir(dir)? {
            open.extend(readable_by_others(&entry?.path())?);
        }
    }
    Ok(open)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bots_storage_is_its_users_alone() -> Result<()> {
    let mut scene = scene("").await?;
    let storage = scene.bot.dir.join("data");
    let asked = scene.command("!inc help", "✅").await?;
    scene.wait_for_thread_reply(&asked).await?;
    ensure!(storage.join("session.json").exists(), "a session was kept");
    let open = readable_by_others(&storage)?;
    ensure!(open.is_empty(), "readable by others: {open:?}");

    // Opened up by hand, say by a restore from a backup: made private again at the next start.
    scene.bot.terminate().await?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&storage, std::fs::Permissions::from_mode(0o755))?;
        std::fs::set_permissions(
            storage.join("session.json"),
            std::fs::Permissions::from_mode(0o644),
        )?;
    }
    scene.bot.start().await?;
    let open = readable_by_others(&storage)?;
    ensure!(
        open.is_empty(),
        "readable by others after a start: {open:?}"
    );
    Ok(())
}

/// Crashes the bot at `failpoint` while it handles a command, waits `downtime`, restarts it,
/// and returns the command's event ID once a later command has been answered.
async fn crash_during_a_command(
    scene: &mut Scene,
    failpoint: &str,
    downtime: Duration,
) -> Result<String> {
    scene.bot.terminate().await?;
    scene
        .bot
        .start_with_env(&[("FAILPOINTS", &format!("{failpoint}=return"))])
        .await?;
    let command = scene
        .alice
        .send_text(&scene.room, "!inc help")
        .await?
        .to_string();
    let status = scene.bot.wait_exit().await?;
    assert_eq!(
        status.code(),
        Some(137),
        "the failpoint should have crashed the bot\n{}",
        scene.bot.log()
    );
    tokio::time::sleep(downtime).await;
    scene.bot.start().await?;
    scene.wait_for_reaction(&command, "✅").await?;
    scene.wait_for_thread_reply(&command).await?;
    let later = scene.command("!inc help help", "✅").await?;
    scene.wait_for_thread_reply(&later).await?;
    Ok(command)
}

#[tokio::test]
async fn command_received_just_before_a_crash_is_answered_after_restart() -> Result<()> {
    // The sync token already covers the command, so only the catch-up can find it again.
    let mut scene = scene("").await?;
    let command = crash_during_a_command(&mut scene, "command-received", Duration::ZERO).await?;
    assert_eq!(scene.answers_to(&command), (1, 1), "{}", scene.bot.log());
    Ok(())
}

#[tokio::test]
async fn command_interrupted_before_its_answer_is_finished_even_past_max_age() -> Result<()> {
    // The bot had started on it: the delay is the bot's, so max_age does not apply.
    // max_age leaves the command sent after the restart room to arrive on a loaded CI machine
    // (2 s did not, once); the downtime is longer still.
    let mut scene = scene("[commands]\nmax_age = \"5s\"").await?;
    let downtime = Duration::from_secs(7);
    let command = crash_during_a_command(&mut scene, "command-before-answer", downtime).await?;
    assert_eq!(scene.answers_to(&command), (1, 1), "{}", scene.bot.log());
    assert!(scene
        .bot
        .last_log()
        .contains("finishing a command a crash interrupted"));
    Ok(())
}

#[tokio::test]
async fn command_answered_just_before_a_crash_is_not_answered_twice() -> Result<()> {
    let mut scene = scene("").await?;
    let command =
        crash_during_a_command(&mut scene, "command-after-answer", Duration::ZERO).await?;
    // The restarted bot did run it again (it was not recorded as handled), and the homeserver
    // took the resend as the same transaction.
    let rerun = scene.bot.last_log();
    assert!(
        rerun.contains(&command) && rerun.contains("command handled"),
        "{rerun}"
    );
    assert_eq!(scene.answers_to(&command), (1, 1), "{}", scene.bot.log());
    Ok(())
}

#[tokio::test]
async fn command_older_than_max_age_sent_while_down_is_not_run() -> Result<()> {
    let mut scene = scene("[commands]\nmax_age = \"2s\"").await?;
    let first = scene.command("!inc help", "✅").await?;
    scene.wait_for_thread_reply(&first).await?;
    scene.bot.kill()?;
    let stale = scene
        .alice
        .send_text(&scene.room, "!inc help")
        .await?
        .to_string();
    // Let it age past max_age before the bot comes back (this sets up the input; nothing is timed).
    tokio::time::sleep(Duration::from_secs(3)).await;
    scene.bot.start().await?;
    let fresh = scene.command("!inc help help", "✅").await?;
    scene.wait_for_thread_reply(&fresh).await?;
    assert_eq!(scene.answers_to(&stale), (0, 0), "{}", scene.bot.log());
    assert!(
        scene.bot.log().contains("older than commands.max_age"),
        "{}",
        scene.bot.log()
    );
    let (_, metrics) = scene.bot.get("/metrics").await?;
    assert!(
        metrics.contains(r#"brigade_commands_total{command="help",outcome="Stale"} 1"#),
        "{metrics}"
    );
    Ok(())
}

#[tokio::test]
async fn a_burst_larger_than_one_sync_is_read_back_and_each_command_answered_once() -> Result<()> {
    // The bot is frozen (SIGSTOP) while more commands arrive than one sync carries (100 per
    // room): its next sync is `limited`, and the bot reads back what it left out.
    const BURST: usize = 120;
    let scene = scene("").await?;
    scene.bot.pause()?;
    let mut commands = Vec::with_capacity(BURST);
    for _ in 0..BURST {
        commands.push(
            scene
                .alice
                .send_text(&scene.room, "!inc help help")
                .await?
                .to_string(),
        );
    }
    scene.bot.resume()?;
    for command in &commands {
        scene.wait_for_reaction(command, "✅").await?;
    }
    for command in &commands {
        assert_eq!(
            scene.answers_to(command).0,
            1,
            "{command}: {}",
            scene.bot.log()
        );
    }
    Ok(())
}

#[tokio::test]
async fn homeserver_outage_turns_healthz_unavailable_and_the_bot_recovers() -> Result<()> {
    // A homeserver of its own: the shared ones must stay up for the other tests.
    let mut hs =
        tokio::task::spawn_blocking(|| Homeserver::start(Options::federating(Ipv4Addr::LOCALHOST)))
            .await??;
    let mut bot = BotProcess::new(bot_binary(), &hs, "").await?;
    bot.start_with_env(&[("BRIGADE_HTTP__UNHEALTHY_AFTER", "2s")])
        .await?;
    let bot_id = UserId::parse(&bot.user_id)?;
    let alice = TestUser::register(&hs, "alice").await?;
    let room = alice.create_room("Outage", &[&bot_id]).await?;
    alice
        .wait_for_membership(&room, &bot_id, "join")
        .await
        .with_context(|| bot.log())?;

    hs.stop()?;
    let scene = Scene { bot, alice, room };
    wait_for("/healthz to report the outage", || async {
        let (status, body) = scene.bot.get("/healthz").await.ok()?;
        (status == 503 && body.contains("no successful sync")).then_some(())
    })
    .await?;

    // Blocks this test's runtime for the homeserver's start-up; the bot runs in its own process.
    hs.restart()?;
    let command = scene.command("!inc help", "✅").await?;
    scene.wait_for_thread_reply(&command).await?;
    let (status, body) = scene.bot.get("/healthz").await?;
    assert_eq!(status, 200, "{body}");
    Ok(())
}

#[tokio::test]
async fn healthz_and_metrics_answer() -> Result<()> {
    let scene = scene("").await?;
    scene.command("!inc help", "✅").await?;
    scene.command("!inc nope", "❓").await?;
    let (status, body) = scene.bot.get("/healthz").await?;
    assert_eq!(status, 200, "{body}");
    let bot = &scene.bot;
    let metrics = wait_for("metrics to count both commands", || async {
        let (_, metrics) = bot.get("/metrics").await.ok()?;
        (metrics.contains(r#"brigade_commands_total{command="help",outcome="Ok"} 1"#)
            && metrics.contains(r#"brigade_commands_total{command="unknown",outcome="Refused"} 1"#))
        .then_some(metrics)
    })
    .await?;
    assert!(metrics.contains("brigade_sync_lag_seconds "), "{metrics}");
    assert!(
        metrics.contains(r#"brigade_syncs_total{result="ok"}"#),
        "{metrics}"
    );
    Ok(())
}

#[tokio::test]
async fn display_name_and_avatar_are_set_from_the_configuration() -> Result<()> {
    let avatar = brigade_tests::synapse::workspace_root()
        .join("config")
        .join("brigade-avatar.png");
    let extra = format!(
        "[profile]\ndisplay_name = \"Incident Bot\"\navatar = \"{}\"",
        avatar.display()
    );
    let mut scene = scene(&extra).await?;
    let bot_id = scene.bot_id().to_owned();
    let profile = || async {
        let profile = scene
            .alice
            .client
            .account()
            .fetch_user_profile_of(&bot_id)
            .await
            .ok()?;
        let name: Option<String> = profile.get_static::<DisplayName>().ok()?;
        let avatar = profile.get_static::<AvatarUrl>().ok()?;
        Some((name, avatar))
    };
    let (name, first_avatar) = wait_for("the bot's profile", || async {
        profile()
            .await
            .filter(|(name, avatar)| name.as_deref() == Some("Incident Bot") && avatar.is_some())
    })
    .await?;
    assert_eq!(name.as_deref(), Some("Incident Bot"));

    // A restart with the same picture does not upload it again.
    scene.bot.kill()?;
    scene.bot.start().await?;
    scene.command("!inc help", "✅").await?;
    assert_eq!(profile().await.and_then(|(_, avatar)| avatar), first_avatar);
    assert!(
        !scene.bot.last_log().contains("avatar set"),
        "{}",
        scene.bot.last_log()
    );
    Ok(())
}

#[test]
fn check_config_names_an_unknown_key_and_exits_non_zero() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("bot.toml");
    std::fs::write(
        &config,
        "[matrix]\nhomeserver_url = \"http://127.0.0.1:8008\"\nuser_id = \"@brigade:example.org\"\n\
         password = \"x\"\npasword_file = \"typo\"\n[storage]\npath = \"data\"\n[http]\nlisten = \"127.0.0.1:9100\"\n",
    )?;
    let output = Command::new(bot_binary())
        .arg("--check-config")
        .arg("--config")
        .arg(&config)
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pasword_file"), "{stderr}");
    assert!(stderr.contains("bot.toml"), "{stderr}");

    let example = brigade_tests::synapse::workspace_root()
        .join("config")
        .join("bot.toml");
    let output = Command::new(bot_binary())
        .arg("--check-config")
        .arg("--config")
        .arg(&example)
        .output()?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// The bot user's devices, as the homeserver's admin API lists them.
async fn bot_devices(user_id: &str) -> Result<Vec<String>> {
    let response = servers()
        .first
        .admin_get(&format!("/v2/users/{user_id}/devices"))
        .await?;
    let mut devices: Vec<String> = response["devices"]
        .as_array()
        .context("no devices list")?
        .iter()
        .filter_map(|device| device["device_id"].as_str().map(str::to_owned))
        .collect();
    devices.sort();
    Ok(devices)
}

#[tokio::test]
async fn standard_rooms_are_created_once_and_found_again_after_a_restart() -> Result<()> {
    let mut scene = scene("").await?;
    let client = scene.alice.client.clone();
    let (prefix, server) = (
        scene.bot.rooms_prefix.clone(),
        servers().first.server_name.clone(),
    );
    let resolve = |room: &'static str| {
        let alias = RoomAliasId::parse(format!("#{prefix}-{room}:{server}"));
        let client = client.clone();
        async move { anyhow::Ok(client.resolve_room_alias(&alias?).await?.room_id) }
    };
    let space = resolve("incidents").await?;
    let children = [
        resolve("triage").await?,
        resolve("announce").await?,
        resolve("postmortems").await?,
    ];

    // Alice can join each of them and sees them in the space.
    let space_room = client.join_room_by_id(&space).await?;
    for child in &children {
        client.join_room_by_id(child).await?;
    }
    let create = wait_for("the space's state", || {
        state_json(&space_room, StateEventType::RoomCreate, "")
    })
    .await?;
    assert_eq!(create["content"]["type"], "m.space", "{create}");
    for child in &children {
        let what = format!("{child} in the space");
        wait_for(&what, || {
            state_json(&space_room, StateEventType::SpaceChild, child.as_str())
        })
        .await?;
    }

    // Announcements are read-only for people without a moderator's level.
    let announcements = client
        .get_room(&children[1])
        .context("joined announcements")?;
    let refused = announcements
        .send(RoomMessageEventContent::text_plain("hello"))
        .await;
    let kind = refused
        .err()
        .and_then(|error| error.client_api_error_kind().cloned());
    assert!(
        matches!(kind, Some(ErrorKind::Forbidden)),
        "a level-0 user must get M_FORBIDDEN in announcements, got {kind:?}"
    );
    // Triage is open for posting.
    scene
        .alice
        .send_text(&children[0], "the database is slow")
        .await?;

    // A restart finds the same rooms and creates none.
    let joined_before = joined_room_count(&scene.bot.user_id).await?;
    scene.bot.kill()?;
    scene.bot.start().await?;
    scene.command("!inc help", "✅").await?;
    assert_eq!(resolve("incidents").await?, space);
    assert_eq!(resolve("announce").await?, children[1]);
    assert_eq!(joined_room_count(&scene.bot.user_id).await?, joined_before);
    assert!(
        !scene.bot.last_log().contains("created a standard room"),
        "{}",
        scene.bot.last_log()
    );
    Ok(())
}

/// A state event of `room` as JSON, from this client's store.
async fn state_json(room: &matrix_sdk::Room, kind: StateEventType, key: &str) -> Option<Value> {
    match room.get_state_event(kind, key).await.ok()?? {
        RawAnySyncOrStrippedState::Sync(raw) => raw.deserialize_as().ok(),
        RawAnySyncOrStrippedState::Stripped(raw) => raw.deserialize_as().ok(),
    }
}

/// How many rooms the bot user is in, as the homeserver's admin API counts them.
async fn joined_room_count(user_id: &str) -> Result<usize> {
    let response = servers()
        .first
        .admin_get(&format!("/v1/users/{user_id}/joined_rooms"))
        .await?;
    Ok(response["joined_rooms"]
        .as_array()
        .context("no joined_rooms")?
        .len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standard_room_someone_else_made_first_is_refused_with_what_to_fix() -> Result<()> {
    let hs = &servers().first;
    let mut bot = BotProcess::new(bot_binary(), hs, "").await?;
    // Mallory takes the triage alias first, with a public room of hers the bot could join.
    let mallory = TestUser::register(hs, "mallory").await?;
    let mut request = matrix_sdk::ruma::api::client::room::create_room::v3::Request::new();
    request.room_alias_name = Some(format!("{}-triage", bot.rooms_prefix));
    request.preset =
        Some(matrix_sdk::ruma::api::client::room::create_room::v3::RoomPreset::PublicChat);
    mallory.client.create_room(request).await?;

    bot.spawn()?;
    let status = bot.wait_exit().await?;
    assert!(
        !status.success(),
        "the bot adopted Mallory's room: {}",
        bot.log()
    );
    let log = bot.last_log();
    assert!(
        log.contains("rooms.triage")
            && log.contains(mallory.user_id.as_str())
            && log.contains("give the bot the highest power level there"),
        "{log}"
    );
    Ok(())
}
