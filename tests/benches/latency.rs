//! How quickly the bot answers, next to what the homeserver itself takes, in the same run.
//!
//! `cargo bench -p brigade-tests --bench latency` (add `--profile dev` for a quick debug build).
//! One Synapse, the bot as its own process, two people in a room:
//! - one hop: Alice sends a message, until Bob's sync has it (one send, one sync hop);
//! - echo: Alice sends, Bob's client reacts as soon as its sync has the message, until Alice's
//!   sync has the reaction: the path any bot's answer takes, with no work in between;
//! - ✅: Alice sends `!inc help`, until her sync has the bot's ✅ (the bot's sync, its store
//!   record, its send, and Alice's sync);
//! - answer: the same command, until the threaded answer arrives;
//! - declare: `!inc declare` in triage, until Alice's sync has the ✅ the bot sends once the
//!   room is complete (summary posted and pinned, room in the space, headline posted), next to
//!   Alice's own bare `createRoom` with the same content (name, topic, alias, power levels,
//!   initial state, an invite), and next to the same work done by a client: that `createRoom`,
//!   then a message posted and pinned in it while another is posted elsewhere (the headline);
//!   the bot's path adds a command's hop and its ✅'s hop to that work, so "declare / (echo +
//!   same work)" is what the bot itself costs (its ✅ comes once the room is complete, which the
//!   bench then checks: "pinned + headline" adds those checks' requests);
//! - status: `!inc status` in the incident room (room name, topic, state, summary and
//!   headline edits), until its ✅ is seen, next to the echo.
//!
//! - share: with a partner's homeserver started beside ours, `!inc share` in an incident room,
//!   until the partner's user (invited by it) has joined the shared room over federation and
//!   reads its summary; next to a bare federated join of a room prepared the same way (a
//!   message posted and pinned, the partner invited), until that message is read.
//!
//! Then the bot's resident memory after it has idled.

#![recursion_limit = "256"]

use std::{
    net::Ipv4Addr,
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use brigade_bot::{config::AccessConfig, matrix::open::room_request};
use brigade_core::incident::{Declaration, Incident, IncidentNumber, Severity};
use brigade_tests::{
    bench::{one_hop, report, rounds, Scene, WARM_UP},
    bot::BotProcess,
    client::{is_reaction, is_thread_reply, TestUser},
    synapse::{Homeserver, Options},
    wait::wait_for,
};
use matrix_sdk::ruma::{
    api::client::room::create_room::v3::Request as CreateRoomRequest,
    events::{
        reaction::ReactionEventContent,
        relation::Annotation,
        room::{message::RoomMessageEventContent, pinned_events::RoomPinnedEventsEventContent},
    },
    OwnedRoomId, RoomAliasId, RoomId, RoomVersionId, UserId,
};

fn main() -> Result<()> {
    tokio::runtime::Runtime::new()?.block_on(bench())
}

async fn bench() -> Result<()> {
    let Scene {
        hs,
        mut bot,
        bot_id,
        alice,
        bob,
    } = Scene::start(Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))).await?;
    let room = alice.create_room("Bench", &[&bot_id, &bob.user_id]).await?;
    bob.client.join_room_by_id(&room).await?;
    alice.wait_for_membership(&room, &bot_id, "join").await?;
    alice
        .wait_for_membership(&room, &bob.user_id, "join")
        .await?;

    let bob_room = bob.client.get_room(&room).context("bob is in the room")?;
    let mut baseline = Vec::new();
    let mut echo = Vec::new();
    let mut reaction = Vec::new();
    let mut answer = Vec::new();
    for round in 0..WARM_UP + rounds(50) {
        let plain = one_hop(&alice, &bob, &room, &format!("ping {round}")).await?;

        let started = Instant::now();
        let id = alice.send_text(&room, &format!("echo {round}")).await?;
        let key = id.to_string();
        bob.wait_for_event(&room, "the echo", |event| event["event_id"] == key.as_str())
            .await?;
        let thumbs_up = ReactionEventContent::new(Annotation::new(id, "👍".to_owned()));
        bob_room.send(thumbs_up).await?;
        alice
            .wait_for_event(&room, "the echo reaction", |event| {
                is_reaction(event, &bob.user_id, &key, "👍")
            })
            .await?;
        let echoed = started.elapsed();

        let started = Instant::now();
        let id = alice.send_text(&room, "!inc help").await?.to_string();
        alice
            .wait_for_event(&room, "✅", |event| is_reaction(event, &bot_id, &id, "✅"))
            .await?;
        let checked = started.elapsed();
        alice
            .wait_for_event(&room, "the answer", |event| {
                is_thread_reply(event, &bot_id, &id)
            })
            .await?;
        let answered = started.elapsed();

        if round >= WARM_UP {
            baseline.push(plain);
            echo.push(echoed);
            reaction.push(checked);
            answer.push(answered);
        }
    }

    let incidents = incident_rounds(&hs, &bot, &alice, &bob, &room).await?;

    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss = bot.rss_kib();
    let mut forwarded = forward_rounds(&bot, &alice, &room).await?;
    let partner_hs = tokio::task::spawn_blocking(|| {
        Homeserver::start(Options::federating(Ipv4Addr::new(127, 0, 0, 2)))
    })
    .await??;
    let (mut bare_joins, mut shares) = share_rounds(&hs, &partner_hs, &bot, &alice).await?;
    let timeline = timeline_rounds(&hs, &mut bot, &alice, &bob).await?;

    println!(
        "Brigade latency, {} rounds ({} for declarations) after {WARM_UP} warm-up, one Synapse on this machine",
        rounds(50),
        rounds(20)
    );
    println!("{:<44} {:>8} {:>8} {:>8}", "", "median", "p90", "max");
    let one_hop = report("homeserver: send -> other client's sync", &mut baseline);
    let echoed = report("homeserver: echo (send -> react -> seen)", &mut echo);
    let checked = report("bot: `!inc help` -> ✅ seen", &mut reaction);
    report("bot: `!inc help` -> threaded answer seen", &mut answer);
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "median ✅ / echo: {:.2}x   median ✅ / one hop: {:.2}x",
        ratio(checked, echoed),
        ratio(checked, one_hop)
    );
    let Incidents {
        mut create,
        mut same_work,
        mut declare,
        mut acknowledged,
        mut status,
        mut encrypted_status,
    } = incidents;
    let created = report("homeserver: bare createRoom (same content)", &mut create);
    let worked = report(
        "homeserver: createRoom, post + pin, headline",
        &mut same_work,
    );
    let complete = report("bot: `!inc declare` -> ✅ seen", &mut acknowledged);
    let declared = report("bot: `!inc declare` -> pinned + headline", &mut declare);
    let changed = report("bot: `!inc status` -> ✅ seen", &mut status);
    let encrypted = report(
        "bot: `!inc status` -> ✅ seen, encrypted room",
        &mut encrypted_status,
    );
    println!(
        "median declare / createRoom: {:.2}x   declare ✅ / (echo + same work): {:.2}x   median status ✅ / echo: {:.2}x",
        ratio(declared, created),
        ratio(complete, echoed + worked),
        ratio(changed, echoed)
    );
    println!(
        "median status ✅ encrypted / open room: {:.2}x (the cost of end-to-end encryption)",
        ratio(encrypted, changed)
    );
    let Timeline {
        mut flag,
        postmortem,
        rebuilt_ms,
    } = timeline;
    let flagged = report("bot: 📌 -> stored, bot's 📌 seen", &mut flag);
    let copied = report("bot: 📝 -> copy seen in the target room", &mut forwarded);
    println!(
        "median forward / echo: {:.2}x   median forward / one hop: {:.2}x",
        ratio(copied, echoed),
        ratio(copied, one_hop)
    );
    println!(
        "median 📌 / echo: {:.2}x   median 📌 / one hop: {:.2}x",
        ratio(flagged, echoed),
        ratio(flagged, one_hop)
    );
    println!(
        "`!inc postmortem`, {LONG_MESSAGES} messages and {LONG_FLAGS} flags -> report seen: {:.1} ms ({:.1}x one hop)",
        postmortem.as_secs_f64() * 1000.0,
        ratio(postmortem, one_hop)
    );
    let joined = report(
        "partner: bare federated join -> summary read",
        &mut bare_joins,
    );
    let shared = report(
        "bot: `!inc share` -> partner joined, summary read",
        &mut shares,
    );
    println!(
        "median share / bare federated join: {:.2}x",
        ratio(shared, joined)
    );
    match rebuilt_ms {
        Some(ms) => {
            println!("the same incident rebuilt from its room after the store is wiped: {ms} ms")
        }
        None => println!("the same incident rebuilt from its room: not found in the log"),
    }
    match rss {
        Some(kib) => println!(
            "bot resident memory after 5 s idle: {:.1} MiB",
            kib as f64 / 1024.0
        ),
        None => println!("bot resident memory: unavailable"),
    }
    bot.terminate().await?;
    Ok(())
}

/// `!inc forward 📝` from `source` to a new room, then a message reacted to with 📝 until its
/// copy is seen in the target, round after round.
async fn forward_rounds(
    bot: &BotProcess,
    alice: &TestUser,
    source: &RoomId,
) -> Result<Vec<Duration>> {
    let bot_id = UserId::parse(&bot.user_id)?;
    let target = alice.create_room("Forward target", &[&bot_id]).await?;
    alice.wait_for_membership(&target, &bot_id, "join").await?;
    let id = alice
        .send_text(source, &format!("!inc forward 📝 {target}"))
        .await?
        .to_string();
    alice
        .wait_for_event(source, "the rule's ✅", |event| {
            is_reaction(event, &bot_id, &id, "✅")
        })
        .await?;
    let mut samples = Vec::new();
    for round in 0..WARM_UP + rounds(20) {
        let text = format!("forward me {round}");
        let message = alice.send_text(source, &text).await?;
        let started = Instant::now();
        alice.react(source, message.as_str(), "📝").await?;
        alice
            .wait_for_event(&target, "the copy", |event| {
                event["content"]["body"]
                    .as_str()
                    .is_some_and(|body| body.ends_with(&text))
            })
            .await?;
        if round >= WARM_UP {
            samples.push(started.elapsed());
        }
    }
    Ok(samples)
}

/// Bare federated joins of prepared rooms next to `!inc share`, each until the partner's user
/// reads the summary; a new partner user every round, as a partner comes fresh.
async fn share_rounds(
    hs: &Homeserver,
    partner_hs: &Homeserver,
    bot: &BotProcess,
    alice: &TestUser,
) -> Result<(Vec<Duration>, Vec<Duration>)> {
    let bot_id = UserId::parse(&bot.user_id)?;
    let triage = alice
        .join(&format!("#{}-triage:{}", bot.rooms_prefix, hs.server_name))
        .await?;
    let mut bare = Vec::new();
    let mut shared = Vec::new();
    for round in 0..WARM_UP + rounds(10) {
        let carol = TestUser::register(partner_hs, "carol").await?;
        let prepared = alice
            .create_room(&format!("Prepared {round}"), &[&carol.user_id])
            .await?;
        let room = alice
            .client
            .get_room(&prepared)
            .context("the prepared room")?;
        let posted = room
            .send(RoomMessageEventContent::notice_plain("summary"))
            .await?
            .response
            .event_id;
        room.send_state_event(RoomPinnedEventsEventContent::new(vec![posted]))
            .await?;
        let started = Instant::now();
        carol.join(prepared.as_str()).await?;
        seen_by(&carol, &prepared, "summary").await?;
        let joined = started.elapsed();

        let incident =
            declare_and_join(alice, &bot_id, &triage, &format!("Shared bench {round}")).await?;
        let started = Instant::now();
        alice
            .send_text(
                &incident,
                &format!("!inc share {} {}", partner_hs.server_name, carol.user_id),
            )
            .await?;
        let invited = wait_for("the partner's invitation", || async {
            carol
                .client
                .invited_rooms()
                .into_iter()
                .map(|room| room.room_id().to_owned())
                .find(|room| *room != prepared)
        })
        .await?;
        carol.join(invited.as_str()).await?;
        seen_by(&carol, &invited, "shared between").await?;
        let share = started.elapsed();
        if round >= WARM_UP {
            bare.push(joined);
            shared.push(share);
        }
    }
    Ok((bare, shared))
}

/// Declares an incident with `arguments` from `triage` as Alice (not timed), waits for the
/// answer, and joins the incident's room.
async fn declare_and_join(
    alice: &TestUser,
    bot_id: &UserId,
    triage: &RoomId,
    arguments: &str,
) -> Result<OwnedRoomId> {
    let id = alice
        .send_text(triage, &format!("!inc declare {arguments}"))
        .await?
        .to_string();
    let answer = alice
        .wait_for_event(triage, "the declaration's answer", |event| {
            is_thread_reply(event, bot_id, &id)
        })
        .await?;
    let alias = answer["content"]["body"]
        .as_str()
        .unwrap_or_default()
        .split(['[', ']', '(', ')'])
        .find(|part| part.starts_with("#inc-"))
        .with_context(|| format!("no alias in the answer: {answer}"))?
        .to_owned();
    alice.join(&alias).await
}

/// Waits until `user` reads a message containing `text` in `room`: from sync, or read back
/// from the room's history (which a server that joined over federation fetches then).
async fn seen_by(user: &TestUser, room: &RoomId, text: &str) -> Result<()> {
    wait_for(&format!("`{text}` to be read"), || async {
        let synced = user.events(room).iter().any(|event| {
            event["content"]["body"]
                .as_str()
                .is_some_and(|body| body.contains(text))
        });
        if synced {
            return Some(());
        }
        let page = user
            .client
            .get_room(room)?
            .messages(matrix_sdk::room::MessagesOptions::backward())
            .await
            .ok()?;
        page.chunk
            .iter()
            .filter_map(|event| {
                event
                    .raw()
                    .get_field::<serde_json::Value>("content")
                    .ok()
                    .flatten()
            })
            .any(|content| {
                content["body"]
                    .as_str()
                    .is_some_and(|body| body.contains(text))
            })
            .then_some(())
    })
    .await
}

/// The incident of the postmortem measurement: this many messages, this many flagged.
const LONG_MESSAGES: usize = 1000;
const LONG_FLAGS: usize = 100;

struct Timeline {
    flag: Vec<Duration>,
    postmortem: Duration,
    rebuilt_ms: Option<u64>,
}

/// 📌 on messages, until the bot's own 📌 (its acknowledgement) is seen; then `!inc
/// postmortem` in an incident of [`LONG_MESSAGES`] messages and [`LONG_FLAGS`] flags; then the
/// bot loses its store and rebuilds that incident from the room at its next start.
async fn timeline_rounds(
    hs: &Homeserver,
    bot: &mut BotProcess,
    alice: &TestUser,
    bob: &TestUser,
) -> Result<Timeline> {
    let bot_id = UserId::parse(&bot.user_id)?;
    let triage = alice
        .join(&format!("#{}-triage:{}", bot.rooms_prefix, hs.server_name))
        .await?;
    let room = declare_and_join(alice, &bot_id, &triage, "Long incident --sev 3").await?;
    alice
        .send_text(&room, &format!("!inc page {}", bob.user_id))
        .await?;
    bob.join(room.as_str()).await?;

    let mut messages = Vec::with_capacity(LONG_MESSAGES);
    for number in 0..LONG_MESSAGES {
        messages.push(bob.send_text(&room, &format!("log line {number}")).await?);
    }
    let mut flag = Vec::new();
    let step = LONG_MESSAGES / LONG_FLAGS;
    for message in messages.iter().step_by(step).take(LONG_FLAGS) {
        let started = Instant::now();
        alice.react(&room, message.as_str(), "📌").await?;
        alice
            .wait_for_event(&room, "the bot's 📌", |event| {
                is_reaction(event, &bot_id, message.as_str(), "📌")
            })
            .await?;
        flag.push(started.elapsed());
        // Measured one at a time, as people flag.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let started = Instant::now();
    alice.send_text(&room, "!inc postmortem").await?;
    alice
        .wait_for_event(&room, "the postmortem", |event| {
            event["sender"] == bot_id.as_str()
                && event["content"]["body"]
                    .as_str()
                    .is_some_and(|body| body.starts_with("# Postmortem draft"))
        })
        .await?;
    let postmortem = started.elapsed();

    bot.terminate().await?;
    bot.wipe_store()?;
    bot.start().await?;
    // The rebuild runs after the first sync, which is when the bot reports healthy.
    let rebuilt_ms = wait_for("the long incident's rebuild in the log", || async {
        without_colours(&bot.last_log())
            .lines()
            .filter(|line| {
                line.contains("incident rebuilt from its room")
                    && line.contains(&format!("flags={LONG_FLAGS}"))
            })
            .find_map(|line| {
                line.split_whitespace()
                    .find_map(|field| field.strip_prefix("elapsed_ms="))
                    .and_then(|ms| ms.parse().ok())
            })
    })
    .await
    .ok();
    Ok(Timeline {
        flag,
        postmortem,
        rebuilt_ms,
    })
}

/// `text` without ANSI colour sequences (`ESC [ … m`).
fn without_colours(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

struct Incidents {
    create: Vec<Duration>,
    same_work: Vec<Duration>,
    declare: Vec<Duration>,
    acknowledged: Vec<Duration>,
    status: Vec<Duration>,
    encrypted_status: Vec<Duration>,
}

/// Declarations next to bare `createRoom`s, then status changes in one incident room and in
/// one private (end-to-end encrypted) incident room.
async fn incident_rounds(
    hs: &Homeserver,
    bot: &BotProcess,
    alice: &TestUser,
    bob: &TestUser,
    elsewhere: &RoomId,
) -> Result<Incidents> {
    let bot_id = UserId::parse(&bot.user_id)?;
    let alias = |room: &str| format!("#{}-{room}:{}", bot.rooms_prefix, hs.server_name);
    let triage = alice.join(&alias("triage")).await?;
    let announcements = alice.join(&alias("announce")).await?;
    let mut create = Vec::new();
    let mut same_work = Vec::new();
    let mut declare = Vec::new();
    let mut acknowledged = Vec::new();
    let mut first_answer = None;
    let space = alice
        .client
        .resolve_room_alias(<&RoomAliasId>::try_from(alias("incidents").as_str())?)
        .await?
        .room_id;
    let version = alice
        .client
        .homeserver_capabilities()
        .room_versions()
        .await?
        .default;
    for round in 0..WARM_UP + rounds(20) {
        let request = bare_room(round, alice, &bob.user_id, &space, &version)?;
        let started = Instant::now();
        alice.client.create_room(request).await?;
        let created = started.elapsed();

        let request = bare_room(round + 10_000, alice, &bob.user_id, &space, &version)?;
        let started = Instant::now();
        let summary = async {
            let room = alice.client.create_room(request).await?;
            let posted = room
                .send(RoomMessageEventContent::notice_plain("summary"))
                .await?
                .response
                .event_id;
            room.send_state_event(RoomPinnedEventsEventContent::new(vec![posted]))
                .await?;
            anyhow::Ok(())
        };
        let headline = alice.send_text(elsewhere, "headline");
        tokio::try_join!(summary, headline)?;
        let worked = started.elapsed();

        let started = Instant::now();
        let title = format!("Bench incident {round}");
        let command = format!("!inc declare {title} --sev 2");
        let id = alice.send_text(&triage, &command).await?.to_string();
        alice
            .wait_for_event(&triage, "the declaration's ✅", |event| {
                is_reaction(event, &bot_id, &id, "✅")
            })
            .await?;
        let checked = started.elapsed();
        // Complete: the headline is in announcements and the summary is pinned.
        let headline = alice
            .wait_for_event(&announcements, "the headline", |event| {
                event["sender"] == bot_id.as_str()
                    && event["content"]["body"]
                        .as_str()
                        .is_some_and(|body| body.contains(&format!("· {title}]")))
            })
            .await?;
        let body = headline["content"]["body"].as_str().unwrap_or_default();
        let incident_alias = body
            .split(['(', ')'])
            .find_map(|part| part.strip_prefix("https://matrix.to/#/"))
            .context("no link in the headline")?;
        let room = alice
            .client
            .resolve_room_alias(<&RoomAliasId>::try_from(incident_alias)?)
            .await?
            .room_id;
        wait_for("the summary to be pinned", || async {
            let state = hs
                .admin_get(&format!("/v1/rooms/{room}/state"))
                .await
                .ok()?;
            state["state"]
                .as_array()?
                .iter()
                .any(|event| {
                    event["type"] == "m.room.pinned_events"
                        && event["content"]["pinned"]
                            .as_array()
                            .is_some_and(|pinned| !pinned.is_empty())
                })
                .then_some(())
        })
        .await?;
        let declared = started.elapsed();
        if first_answer.is_none() {
            let answer = alice
                .wait_for_event(&triage, "the declaration's answer", |event| {
                    is_thread_reply(event, &bot_id, &id)
                })
                .await?;
            first_answer = Some(
                answer["content"]["body"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        if round >= WARM_UP {
            create.push(created);
            same_work.push(worked);
            declare.push(declared);
            acknowledged.push(checked);
        }
    }

    let answer = first_answer.unwrap_or_default();
    let incident_alias = answer
        .split(['[', ']', '(', ')'])
        .find(|part| part.starts_with("#inc-"))
        .with_context(|| format!("no alias in {answer}"))?
        .to_owned();
    let room = alice.join(&incident_alias).await?;
    let status = status_rounds(alice, &bot_id, &room).await?;

    // The same commands in a private incident's end-to-end encrypted room.
    let private =
        declare_and_join(alice, &bot_id, &triage, "Bench private incident --private").await?;
    alice
        .wait_for_event(&private, "the private summary", |event| {
            event["sender"] == bot_id.as_str() && event["type"] == "m.room.message"
        })
        .await?;
    let encrypted_status = status_rounds(alice, &bot_id, &private).await?;
    Ok(Incidents {
        create,
        same_work,
        declare,
        acknowledged,
        status,
        encrypted_status,
    })
}

/// `!inc status` back and forth in `room`, each measured from sending to the bot's ✅ seen.
async fn status_rounds(alice: &TestUser, bot_id: &UserId, room: &RoomId) -> Result<Vec<Duration>> {
    let mut status = Vec::new();
    for round in 0..WARM_UP + rounds(50) {
        let to = if round % 2 == 0 {
            "identified"
        } else {
            "investigating"
        };
        let started = Instant::now();
        let id = alice
            .send_text(room, &format!("!inc status {to}"))
            .await?
            .to_string();
        alice
            .wait_for_event(room, "the status ✅", |event| {
                is_reaction(event, bot_id, &id, "✅")
            })
            .await?;
        if round >= WARM_UP {
            status.push(started.elapsed());
        }
        // Measured in a quiet room: the summary shows this change before the next command.
        wait_for("the summary edit", || async {
            let events = alice.events(room);
            let edits: Vec<&str> = events
                .iter()
                .filter_map(|event| event["content"]["m.new_content"]["body"].as_str())
                .collect();
            (edits.len() > round && edits.last()?.contains(&format!("**Status** {to}")))
                .then_some(())
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(status)
}

/// The `createRoom` a declaration makes (the bot's own builder), made by Alice with Bob as the
/// commander.
fn bare_room(
    round: usize,
    alice: &TestUser,
    commander: &UserId,
    space: &RoomId,
    version: &RoomVersionId,
) -> Result<CreateRoomRequest> {
    let declaration = Declaration {
        title: format!("Bare room {round}"),
        severity: Severity::Sev2,
        kind: "operations".to_owned(),
        private: false,
        declarer: commander.to_owned(),
        commander: Some(commander.to_owned()),
        started: None,
        alert: None,
        affects: None,
    };
    let incident = Incident::declare(IncidentNumber(round as u64), declaration, 0)?;
    let alias = RoomAliasId::parse(format!(
        "#bare-{round}-{}:{}",
        brigade_tests::synapse::random_string(8).to_lowercase(),
        alice.user_id.server_name()
    ))?;
    Ok(room_request(
        &incident,
        &brigade_bot::names::Names::new(),
        &alias,
        space,
        &alice.user_id,
        &AccessConfig {
            allowed_servers: vec![alice.user_id.server_name().to_owned()],
            allow_ip_literals: true,
        },
        version,
    )?)
}
