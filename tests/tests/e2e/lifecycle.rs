//! End-to-end: an incident's life as Element users run it, against real Synapse homeservers:
//! declared from triage, changed by every lifecycle command and reaction, refused where it
//! should be, across bot restarts.

use std::path::Path;

use anyhow::{ensure, Context, Result};
use brigade_tests::{
    client::{body, is_reaction, is_thread_reply, TestUser},
    desk::{eventually, incident_state, level, name, summary, topic, until, Desk},
    servers::shared as servers,
    wait::wait_for,
};
use matrix_sdk::ruma::{RoomId, RoomOrAliasId};
use serde_json::Value;

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

/// A bot whose one group, `dba`, is `member`.
async fn desk_with_dba(member: &TestUser) -> Result<Desk> {
    Desk::new(
        bot_binary(),
        &format!(
            "[[groups]]\nname = \"dba\"\nmembers = [\"{}\"]\n",
            member.user_id
        ),
    )
    .await
}

/// `user` joins the incident room from the Incidents space, as Element offers.
async fn join_from_space(desk: &Desk, user: &TestUser, room: &RoomId) -> Result<()> {
    let hs = &servers().first;
    let space_alias = format!("#{}-incidents:{}", desk.bot.rooms_prefix, hs.server_name);
    user.join(&space_alias).await?;
    user.join(room.as_str()).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_incident_gets_its_room_and_headline_and_both_follow_every_change() -> Result<()>
{
    let hs = &servers().first;
    let desk = Desk::new(bot_binary(), "").await?;
    let alice = &desk.alice;

    // Declared from triage: the declarer is invited, and the room is complete.
    let inc = desk.declare("Checkout latency --sev 2").await?;
    assert!(
        inc.alias.starts_with("#inc-")
            && inc
                .alias
                .ends_with(&format!("-1-checkout-latency:{}", hs.server_name)),
        "{}",
        inc.alias
    );
    assert_eq!(
        name(alice, &inc.room).await?,
        "🔥 INC-1 · SEV2 · Checkout latency"
    );
    assert_eq!(
        topic(alice, &inc.room).await?,
        format!("🚑 {} · SEV2 · investigating", alice.name)
    );
    let state = incident_state(alice, &inc.room).await?;
    assert_eq!(state["number"], 1);
    assert_eq!(state["status"], "investigating");
    assert_eq!(state["severity"], "SEV2");
    assert_eq!(level(alice, &inc.room, &alice.user_id).await?, 100);
    let (summary_id, text) = summary(alice, &inc.room).await?;
    assert!(text.contains("INC-1 · Checkout latency"), "{text}");
    until(
        "the incident room in the space",
        || alice.state(&desk.space, "m.space.child", inc.room.as_str()),
        Option::is_some,
    )
    .await?;
    let parent = alice
        .state(&inc.room, "m.space.parent", desk.space.as_str())
        .await?;
    assert_eq!(parent.context("no space parent")?["canonical"], true);
    let headline = desk.headline("INC-1").await?;
    assert!(
        headline.starts_with("🔥 🌧️ **[INC-1 · SEV2 · Checkout latency](https://matrix.to/#/#inc-"),
        "{headline}"
    );

    // status, sev, summary, update: everything follows, by edits.
    let answer = desk
        .command(alice, &inc.room, "!inc status identified", "✅")
        .await?;
    assert!(answer.contains("investigating → identified"), "{answer}");
    until(
        "the topic to say identified",
        || topic(alice, &inc.room),
        |topic| topic.ends_with("SEV2 · identified"),
    )
    .await?;
    until(
        "the state to say identified",
        || incident_state(alice, &inc.room),
        |state| state["status"] == "identified",
    )
    .await?;
    eventually("the summary to say identified", || {
        alice
            .current_body(&inc.room, &summary_id)
            .is_some_and(|text| text.contains("**Status** identified"))
    })
    .await?;
    desk.command(alice, &inc.room, "!inc sev 1", "✅").await?;
    until(
        "the name to say SEV1",
        || name(alice, &inc.room),
        |name| name == "🔥 INC-1 · SEV1 · Checkout latency",
    )
    .await?;
    desk.command(
        alice,
        &inc.room,
        "!inc summary A bad deploy of the cart service",
        "✅",
    )
    .await?;
    until(
        "the topic to carry the summary",
        || topic(alice, &inc.room),
        |topic| topic.ends_with("SEV1 · identified · A bad deploy of the cart service"),
    )
    .await?;
    desk.command(alice, &inc.room, "!inc update Rolled back to 4.2", "✅")
        .await?;
    let headline = wait_for("the headline to carry the update", || async {
        desk.headline("INC-1")
            .await
            .ok()
            .filter(|text| text.contains("Rolled back to 4.2") && text.starts_with("🔥 ⛈️"))
    })
    .await?;
    assert!(headline.contains("identified"), "{headline}");
    assert!(
        desk.bot_posts(alice, &inc.room)
            .iter()
            .any(|post| body(post).contains("Update on INC-1")
                && body(post).contains("Rolled back to 4.2")),
        "the update is posted in the room"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_commands_say_why_and_change_nothing() -> Result<()> {
    let bob = TestUser::register(&servers().first, "bob").await?;
    let desk = desk_with_dba(&bob).await?;
    let alice = &desk.alice;
    let inc = desk.declare("Checkout latency --sev 2").await?;
    desk.command(alice, &inc.room, "!inc update Rolled back to 4.2", "✅")
        .await?;

    // Once the update is in the room's state, nothing else is on its way.
    let state = until(
        "the update in the state",
        || incident_state(alice, &inc.room),
        |state| updates(state) == 1,
    )
    .await?;
    let before = (topic(alice, &inc.room).await?, state);
    let refusals = [
        ("!inc lead @nobody", "not in this room"),
        (
            &format!("!inc lead {}", bob.user_id) as &str,
            "not in this room",
        ),
        ("!inc role boss @x", "unknown role `boss`"),
        ("!inc status fixed", "unknown status `fixed`"),
        ("!inc sev 9", "unknown severity `9`"),
        ("!inc page sre", "no group named `sre` (groups: dba)"),
        ("!inc reopen", "only a resolved incident can be reopened"),
    ];
    for (command, reason) in refusals {
        let answer = desk.command(alice, &inc.room, command, "❓").await?;
        assert!(answer.contains(reason), "{command}: {answer}");
    }
    let answer = desk
        .command(alice, &desk.triage, "!inc status resolved", "❓")
        .await?;
    assert!(answer.contains("works in an incident room"), "{answer}");
    for (command, reason) in [
        ("!inc declare", "needs a title"),
        ("!inc declare DNS --sev 7", "unknown severity `7`"),
        ("!inc declare DNS --type weather", "unknown type `weather`"),
    ] {
        let answer = desk.command(alice, &desk.triage, command, "❓").await?;
        assert!(answer.contains(reason), "{command}: {answer}");
    }
    assert_eq!(
        (
            topic(alice, &inc.room).await?,
            incident_state(alice, &inc.room).await?
        ),
        before,
        "refused commands changed the incident"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_a_group_invites_and_mentions_it_and_the_first_look_acknowledges_once() -> Result<()>
{
    let bob = TestUser::register(&servers().first, "bob").await?;
    let mut desk = desk_with_dba(&bob).await?;
    let alice = &desk.alice;
    let inc = desk.declare("Checkout latency --sev 2").await?;
    let (summary_id, _) = summary(alice, &inc.room).await?;

    // A restart before the page changes nothing.
    desk.bot.terminate().await?;
    desk.bot.start().await?;

    // Paging a group invites its members and mentions them; 👀 on the page acknowledges.
    let answer = desk
        .command(alice, &inc.room, "!inc page dba", "✅")
        .await?;
    assert!(answer.contains(bob.name.as_str()), "{answer}");
    let page = alice
        .wait_for_event(&inc.room, "the page", |event| {
            event["sender"] == desk.bot.user_id.as_str()
                && event["content"]["msgtype"] == "m.text"
                && body(event).contains("📟")
        })
        .await?;
    assert_eq!(
        page["content"]["m.mentions"]["user_ids"],
        serde_json::json!([bob.user_id.as_str()])
    );
    let invited = alice
        .state(&inc.room, "m.room.member", bob.user_id.as_str())
        .await?;
    assert_eq!(
        invited.context("bob has no membership")?["membership"],
        "invite"
    );
    bob.join(inc.room.as_str()).await?;
    let page_id = page["event_id"].as_str().context("page ID")?;
    bob.react(&inc.room, page_id, "👀").await?;
    let acknowledgement = alice
        .wait_for_event(&inc.room, "the acknowledgement", |event| {
            body(event).contains(&format!("👀 {} is looking into it", bob.name))
        })
        .await?;
    // Bob by name: a pill in the HTML, his name in the body, and nobody notified.
    let html = acknowledgement["content"]["formatted_body"]
        .as_str()
        .unwrap_or_default();
    assert!(
        html.contains(&format!(
            "<a href=\"https://matrix.to/#/{}\">{}</a> is looking into it",
            bob.user_id, bob.name
        )),
        "{acknowledgement}"
    );
    assert!(
        !body(&acknowledgement).contains(bob.user_id.as_str()),
        "{acknowledgement}"
    );
    assert_eq!(
        acknowledgement["content"]["m.mentions"],
        serde_json::json!({}),
        "{acknowledgement}"
    );
    let acknowledged = wait_for("acknowledged in the state", || async {
        let state = incident_state(alice, &inc.room).await.ok()?;
        state["timestamps"]["acknowledged"].as_u64()
    })
    .await?;

    // A second 👀 (by Alice, on the summary) changes nothing; a later command is the barrier.
    alice.react(&inc.room, &summary_id, "👀").await?;
    desk.command(alice, &inc.room, "!inc status identified", "✅")
        .await?;
    let state = incident_state(alice, &inc.room).await?;
    assert_eq!(state["timestamps"]["acknowledged"], acknowledged, "{state}");
    let acknowledgements = desk
        .bot_posts(alice, &inc.room)
        .iter()
        .filter(|post| body(post).contains("is looking into it"))
        .count();
    assert_eq!(acknowledgements, 1, "only the first 👀 acknowledges");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_passes_by_lead_and_by_ambulance_and_roles_follow_in_levels_and_timeline(
) -> Result<()> {
    let hs = &servers().first;
    let bob = TestUser::register(hs, "bob").await?;
    let carol = TestUser::register(hs, "carol").await?;
    let mut desk = Desk::new(bot_binary(), "").await?;
    let inc = desk.declare("Checkout latency --sev 2").await?;
    let alice = &desk.alice;
    let (summary_id, _) = summary(alice, &inc.room).await?;
    desk.command(alice, &inc.room, "!inc sev 1", "✅").await?;
    join_from_space(&desk, &bob, &inc.room).await?;

    // Only the commander or a moderator directs the incident.
    let answer = desk.command(&bob, &inc.room, "!inc sev 2", "❓").await?;
    assert!(
        answer.contains(&format!("only the commander ({})", alice.name)),
        "{answer}"
    );
    desk.command(
        alice,
        &inc.room,
        &format!("!inc role scribe {}", bob.user_id),
        "✅",
    )
    .await?;
    assert_eq!(level(alice, &inc.room, &bob.user_id).await?, 50);

    // Handing over lowers the old commander.
    desk.command(
        alice,
        &inc.room,
        &format!("!inc lead {}", bob.user_id),
        "✅",
    )
    .await?;
    assert_eq!(level(alice, &inc.room, &bob.user_id).await?, 100);
    assert_eq!(level(alice, &inc.room, &alice.user_id).await?, 0);
    until(
        "the topic to name Bob",
        || topic(alice, &inc.room),
        |topic| topic.starts_with(&format!("🚑 {} ·", bob.name)),
    )
    .await?;
    let answer = desk.command(alice, &inc.room, "!inc sev 3", "❓").await?;
    assert!(
        answer.contains(&format!("only the commander ({})", bob.name)),
        "{answer}"
    );

    desk.bot.kill()?;
    desk.bot.start().await?;

    // 🚑 on the summary: Carol takes command; Bob keeps his scribe level.
    // Carol was not invited: she joins from the space, as Element offers.
    join_from_space(&desk, &carol, &inc.room).await?;
    carol.react(&inc.room, &summary_id, "🚑").await?;
    alice
        .wait_for_event(&inc.room, "Carol taking command", |event| {
            body(event).contains(&format!("🚑 {} takes command of INC-1", carol.name))
        })
        .await?;
    assert_eq!(level(alice, &inc.room, &carol.user_id).await?, 100);
    assert_eq!(level(alice, &inc.room, &bob.user_id).await?, 50);

    // A role handed on leaves its last holder at 0; a moderator (50) directs the incident;
    // the bot never takes a role.
    desk.command(
        &carol,
        &inc.room,
        &format!("!inc role comms {}", alice.user_id),
        "✅",
    )
    .await?;
    assert_eq!(level(alice, &inc.room, &alice.user_id).await?, 50);
    desk.command(
        &carol,
        &inc.room,
        &format!("!inc role comms {}", carol.user_id),
        "✅",
    )
    .await?;
    assert_eq!(level(alice, &inc.room, &alice.user_id).await?, 0);
    assert_eq!(
        level(alice, &inc.room, &carol.user_id).await?,
        100,
        "still commander"
    );
    desk.command(&bob, &inc.room, "!inc sev 2", "✅").await?;
    // Every change of severity, role and command is in the timeline, in order, naming who.
    let timeline = desk
        .command(alice, &inc.room, "!inc timeline", "✅")
        .await?;
    let mut from = 0;
    for needle in [
        format!("Severity SEV2 → **SEV1** ({})", alice.name),
        format!("🎭 Role scribe to {} ({})", bob.name, alice.name),
        format!(
            "🚑 Command passed from {} to **{}** ({})",
            alice.name, bob.name, alice.name
        ),
        format!("🚑 Command passed from {} to **{}**", bob.name, carol.name),
        format!("🎭 Role comms to {} ({})", alice.name, carol.name),
        format!("🎭 Role comms to {} ({})", carol.name, carol.name),
        format!("Severity SEV1 → **SEV2** ({})", bob.name),
    ] {
        let found = timeline[from..].find(&needle);
        assert!(
            found.is_some(),
            "`{needle}` missing after {from} in:\n{timeline}"
        );
        from += found.unwrap_or_default() + needle.len();
    }
    let answer = desk
        .command(
            &carol,
            &inc.room,
            &format!("!inc role scribe {}", desk.bot.user_id),
            "❓",
        )
        .await?;
    assert!(answer.contains("roles are for people"), "{answer}");

    // Nothing was posted twice across the restart.
    let summaries = desk
        .bot_posts(alice, &inc.room)
        .iter()
        .filter(|post| body(post).contains("INC-1 · Checkout latency"))
        .count();
    assert_eq!(summaries, 1, "one summary, edited in place");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolved_incident_refuses_illegal_moves_reopens_and_is_listed_beside_the_next(
) -> Result<()> {
    let mut desk = Desk::new(bot_binary(), "").await?;
    let inc = desk.declare("Checkout latency --sev 2").await?;
    let alice = &desk.alice;

    // Resolved, an illegal move refused, reopened; a restart in between changes nothing.
    desk.command(
        alice,
        &inc.room,
        "!inc status resolved Cart is healthy again",
        "✅",
    )
    .await?;
    until(
        "the name to show resolved",
        || name(alice, &inc.room),
        |name| name == "✅ INC-1 · SEV2 · Checkout latency",
    )
    .await?;
    let answer = desk
        .command(alice, &inc.room, "!inc status identified", "❓")
        .await?;
    assert!(answer.contains("reopen it first"), "{answer}");
    until(
        "the state to say resolved",
        || incident_state(alice, &inc.room),
        |state| state["status"] == "resolved",
    )
    .await?;
    let headline = wait_for("the headline to show resolved", || async {
        desk.headline("INC-1")
            .await
            .ok()
            .filter(|text| text.starts_with("💧"))
    })
    .await?;
    assert!(headline.contains("Cart is healthy again"), "{headline}");
    desk.bot.terminate().await?;
    desk.bot.start().await?;
    desk.command(alice, &inc.room, "!inc reopen", "✅").await?;
    until(
        "the topic to say investigating",
        || topic(alice, &inc.room),
        |topic| topic.contains("· investigating"),
    )
    .await?;

    // A second incident gets the next number, its type and start time; `list` links both.
    let second = desk
        .declare("DNS flapping --type product --started 00:00")
        .await?;
    let state = incident_state(alice, &second.room).await?;
    assert_eq!(state["type"], "product");
    let declared = state["timestamps"]["declared"]
        .as_u64()
        .context("declared")?;
    let started = state["timestamps"]["started"].as_u64().context("started")?;
    assert!(
        started <= declared && declared - started < 24 * 3_600_000,
        "{state}"
    );
    assert_eq!(started % (24 * 3_600_000), 0, "midnight UTC: {state}");
    assert!(
        second.alias.contains("-2-dns-flapping:"),
        "{}",
        second.alias
    );
    let list = desk.command(alice, &desk.triage, "!inc list", "✅").await?;
    assert!(list.contains("INC-1") && list.contains("INC-2"), "{list}");
    desk.command(alice, &inc.room, "!inc status resolved", "✅")
        .await?;
    let list = desk.command(alice, &desk.triage, "!inc list", "✅").await?;
    assert!(!list.contains("INC-1") && list.contains("INC-2"), "{list}");
    let list = desk
        .command(alice, &desk.triage, "!inc list --all", "✅")
        .await?;
    assert!(list.contains("INC-1") && list.contains("INC-2"), "{list}");

    // Nothing was announced twice across the restart.
    assert_eq!(desk.bot_posts(alice, &desk.announcements).len(), 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_version_11_lists_the_bot_in_power_levels_and_handover_works() -> Result<()> {
    let hs = &servers().first;
    let bob = TestUser::register(hs, "bob").await?;
    let desk = Desk::new(
        bot_binary(),
        &format!(
            "[incidents]\nroom_version = \"11\"\ntake_command = \"sre\"\n\
         [[groups]]\nname = \"sre\"\nmembers = [\"{}\"]\n",
            bob.user_id
        ),
    )
    .await?;
    let alice = &desk.alice;
    // A private incident in a version 11 room too (its own test runs in version 12).
    let answer = desk
        .command(
            alice,
            &desk.triage,
            "!inc declare Leaked keys --type security",
            "✅",
        )
        .await?;
    assert!(answer.contains("It is private"), "{answer}");
    let inc = desk.declare("Payments queue stuck").await?;
    assert!(
        inc.alias.contains("-2-payments-queue-stuck:"),
        "{}",
        inc.alias
    );
    let create = alice
        .state(&inc.room, "m.room.create", "")
        .await?
        .context("no create event")?;
    assert_eq!(create["room_version"], "11");
    assert_eq!(level(alice, &inc.room, desk.bot_id()).await?, 150);
    assert_eq!(level(alice, &inc.room, &alice.user_id).await?, 100);
    // Only users of the bot's own server (the default `access.allowed_servers`) get in: a
    // user of the partner server is kept out of the space and the incident room by ACL.
    let acl = alice
        .state(&inc.room, "m.room.server_acl", "")
        .await?
        .context("no server ACL")?;
    assert_eq!(
        acl["allow"],
        serde_json::json!(["127.0.0.1", hs.server_name.as_str()])
    );
    let stranger = TestUser::register(&servers().second, "stranger").await?;
    let space_alias = format!("#{}-incidents:{}", desk.bot.rooms_prefix, hs.server_name);
    let refused = stranger
        .client
        .join_room_by_id_or_alias(<&RoomOrAliasId>::try_from(space_alias.as_str())?, &[])
        .await;
    assert!(
        refused.is_err(),
        "a user of another server joined the space"
    );
    // Default severity from the configuration: SEV3.
    assert!(topic(alice, &inc.room).await?.contains("· SEV3 ·"));

    // The commander's own message acknowledges nothing.
    alice
        .send_text(&inc.room, "checking the dashboards")
        .await?;
    bob.join(&space_alias).await?;
    bob.join(inc.room.as_str()).await?;
    desk.command(
        alice,
        &inc.room,
        &format!("!inc lead {}", bob.user_id),
        "✅",
    )
    .await?;
    let state = until(
        "the state to show Bob in command",
        || incident_state(alice, &inc.room),
        |state| state["commander"] == bob.user_id.as_str(),
    )
    .await?;
    assert!(state["timestamps"]["acknowledged"].is_null(), "{state}");
    assert_eq!(level(alice, &inc.room, &bob.user_id).await?, 100);
    assert_eq!(level(alice, &inc.room, &alice.user_id).await?, 0);
    assert_eq!(level(alice, &inc.room, desk.bot_id()).await?, 150);
    desk.command(&bob, &inc.room, "!inc sev 2", "✅").await?;
    until(
        "the name to say SEV2",
        || name(alice, &inc.room),
        |name| name == "🔥 INC-2 · SEV2 · Payments queue stuck",
    )
    .await?;
    // A responder's first message acknowledges the incident (SPEC §3).
    let said = alice
        .send_text(&inc.room, "the consumers are stuck on one partition")
        .await?;
    let state = until(
        "the first responder message to acknowledge",
        || incident_state(alice, &inc.room),
        |state| !state["timestamps"]["acknowledged"].is_null(),
    )
    .await?;
    let event = alice
        .wait_for_event(&inc.room, "Alice's message", |event| {
            event["event_id"] == said.as_str()
        })
        .await?;
    assert_eq!(
        state["timestamps"]["acknowledged"],
        event["origin_server_ts"]
    );

    // Only the `sre` group may take command with 🚑: Alice is refused and nothing changes.
    let (summary_id, _) = summary(alice, &inc.room).await?;
    alice.react(&inc.room, &summary_id, "🚑").await?;
    alice
        .wait_for_event(&inc.room, "the 🚑 refusal", |event| {
            body(event).contains("only members of the group `sre` may take command")
        })
        .await
        .with_context(|| desk.bot.log())?;
    assert_eq!(
        incident_state(alice, &inc.room).await?["commander"],
        bob.user_id.as_str()
    );
    assert_eq!(level(alice, &inc.room, &alice.user_id).await?, 0);
    Ok(())
}

/// The reminders the bot sent in `room`.
fn reminders(desk: &Desk, room: &RoomId) -> Vec<Value> {
    desk.bot_posts(&desk.alice, room)
        .into_iter()
        .filter(|post| body(post).starts_with("⏰"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commander_is_reminded_once_per_due_update() -> Result<()> {
    let desk = Desk::new(bot_binary(), "[reminders]\nsev2 = \"2s\"\n").await?;
    let alice = &desk.alice;
    let inc = desk.declare("Search is slow --sev 2").await?;

    let reminder = wait_for("a reminder", || async {
        reminders(&desk, &inc.room).into_iter().next()
    })
    .await?;
    assert_eq!(
        reminder["content"]["msgtype"], "m.text",
        "a notice would not notify"
    );
    assert_eq!(
        reminder["content"]["m.mentions"]["user_ids"],
        serde_json::json!([alice.user_id.as_str()])
    );
    assert!(body(&reminder).contains("a status update on INC-1 is due"));
    // No new update, so the due time has not moved: no second reminder.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(reminders(&desk, &inc.room).len(), 1);

    // An update moves the due time: one more reminder, 2 s later.
    desk.command(alice, &inc.room, "!inc update Reindexing", "✅")
        .await?;
    wait_for("a second reminder", || async {
        (reminders(&desk, &inc.room).len() == 2).then_some(())
    })
    .await?;
    // Mitigated: no more reminders.
    desk.command(alice, &inc.room, "!inc status monitoring", "✅")
        .await?;
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(reminders(&desk, &inc.room).len(), 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declaration_a_crash_interrupted_is_finished_once_after_restart() -> Result<()> {
    let mut desk = Desk::new(bot_binary(), "").await?;
    desk.bot.terminate().await?;
    desk.bot
        .start_with_env(&[("FAILPOINTS", "declare-after-room=return")])
        .await?;
    let command = desk
        .alice
        .send_text(&desk.triage, "!inc declare Login failures")
        .await?
        .to_string();
    let status = desk.bot.wait_exit().await?;
    assert_eq!(status.code(), Some(137), "{}", desk.bot.log());
    desk.bot.start().await?;

    let bot = desk.bot_id();
    let answer = desk
        .alice
        .wait_for_event(&desk.triage, "the declaration's answer", |event| {
            is_thread_reply(event, bot, &command)
        })
        .await
        .with_context(|| desk.bot.log())?;
    assert!(body(&answer).contains("INC-1"), "{}", body(&answer));
    let headline = desk.headline("INC-1").await?;
    assert!(headline.contains("Login failures"), "{headline}");
    // One room: the next declaration is INC-2, and the bot is in exactly two incident rooms.
    let second = desk.declare("Login failures again").await?;
    assert!(
        second.alias.contains("-2-login-failures-again:"),
        "{}",
        second.alias
    );
    let bot_rooms = servers()
        .first
        .admin_get(&format!("/v1/users/{}/joined_rooms", desk.bot.user_id))
        .await?;
    let rooms = bot_rooms["joined_rooms"]
        .as_array()
        .context("joined_rooms")?;
    // Space, triage, announcements, postmortems, archive, private triage and the two incidents.
    assert_eq!(rooms.len(), 8, "{rooms:?}");
    assert_eq!(desk.bot_posts(&desk.alice, &desk.announcements).len(), 2);
    Ok(())
}

/// The store forgets a command once it is too old to run whatever happens, and what it kept for
/// the command's work alone; the command, seen again by the catch-up of a restart, is not run
/// again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_forgotten_by_the_store_is_not_run_again_after_a_restart() -> Result<()> {
    use brigade_core::store::{EngineStore, Store};

    // Kept for twice max_age, looked at as often.
    let mut desk = Desk::new(bot_binary(), "[commands]\nmax_age = \"5s\"").await?;
    let command = desk
        .alice
        .send_text(&desk.triage, "!inc declare Disk full")
        .await?;
    let bot = desk.bot_id().to_owned();
    desk.alice
        .wait_for_event(&desk.triage, "the declaration's answer", |event| {
            is_thread_reply(event, &bot, command.as_str())
        })
        .await
        .with_context(|| desk.bot.log())?;
    // The declaration is the only event this bot handles: the first forgetting is its.
    eventually("the declaration forgotten", || {
        desk.bot
            .last_log()
            .contains("forgot events finished with long ago")
    })
    .await
    .with_context(|| desk.bot.log())?;
    desk.bot.terminate().await?;
    {
        let store = EngineStore::open(&desk.bot.store_dir())?;
        assert_eq!(store.handled(&command).await?, None);
        assert_eq!(store.meta(&format!("declare.{command}")).await?, None);
        assert_eq!(store.meta(&format!("declare.alias.{command}")).await?, None);
        assert_eq!(store.incidents().await?.len(), 1);
    }

    // The catch-up reads the triage room back past the command: it is too old to run.
    desk.bot.start().await?;
    let second = desk.declare("Disk full again").await?;
    assert!(
        second.alias.contains("-2-disk-full-again:"),
        "{}",
        second.alias
    );
    assert!(
        desk.bot.last_log().contains("older than commands.max_age"),
        "{}",
        desk.bot.last_log()
    );
    let answers = desk
        .alice
        .events(&desk.triage)
        .into_iter()
        .filter(|event| is_thread_reply(event, &bot, command.as_str()))
        .count();
    assert_eq!(answers, 1, "{}", desk.bot.log());
    assert_eq!(desk.bot_posts(&desk.alice, &desk.announcements).len(), 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_a_crash_interrupted_before_its_answer_is_applied_and_answered_once() -> Result<()>
{
    let mut desk = Desk::new(bot_binary(), "").await?;
    let inc = desk.declare("Cache stampede").await?;
    let alice = &desk.alice;
    desk.bot.terminate().await?;
    desk.bot
        .start_with_env(&[("FAILPOINTS", "command-before-answer=return")])
        .await?;
    // Stored, then the crash: before the ✅, the thread answer and the room's update.
    let command = alice
        .send_text(&inc.room, "!inc update Purged the cache")
        .await?
        .to_string();
    let status = desk.bot.wait_exit().await?;
    assert_eq!(status.code(), Some(137), "{}", desk.bot.log());
    desk.bot.start().await?;

    let bot = desk.bot_id();
    let answer = alice
        .wait_for_event(&inc.room, "the update's answer", |event| {
            is_thread_reply(event, bot, &command)
        })
        .await
        .with_context(|| desk.bot.log())?;
    assert!(body(&answer).contains("Update posted"), "{}", body(&answer));
    let state = until(
        "the update in the state",
        || incident_state(alice, &inc.room),
        |state| updates(state) > 0,
    )
    .await?;
    // A later command is answered after the interrupted one: nothing of it is still to come.
    desk.command(alice, &inc.room, "!inc status identified", "✅")
        .await?;
    assert_eq!(updates(&state), 1, "applied once");
    let events = alice.events(&inc.room);
    let checks = events
        .iter()
        .filter(|event| is_reaction(event, bot, &command, "✅"))
        .count();
    let replies = events
        .iter()
        .filter(|event| is_thread_reply(event, bot, &command))
        .count();
    assert_eq!((checks, replies), (1, 1), "answered once");
    let posted = desk
        .bot_posts(alice, &inc.room)
        .iter()
        .filter(|post| body(post).contains("Purged the cache"))
        .count();
    assert_eq!(posted, 1, "the update is posted once");
    Ok(())
}

/// How many status updates the timeline in an incident's state holds.
fn updates(state: &Value) -> usize {
    state["timeline"].as_array().map_or(0, |timeline| {
        timeline
            .iter()
            .filter(|entry| entry["kind"] == "update")
            .count()
    })
}

/// The aliases of the first incident a fresh bot declares today and tomorrow (a declaration
/// near midnight takes the date of its command), with `rest` after the number.
fn first_incident_aliases(rest: &str) -> [String; 2] {
    let today = jiff::Timestamp::now();
    let tomorrow = today + jiff::SignedDuration::from_hours(24);
    [today, tomorrow].map(|day| format!("{}{rest}", day.strftime("inc-%Y%m%d-1")))
}

/// Has `user` hold each of `aliases` with a room of their own. An alias another room holds
/// already (the first private incident of another test's bot, on the shared homeserver) is held
/// all the same.
async fn hold(user: &TestUser, aliases: &[String]) -> Result<()> {
    for alias in aliases {
        let mut request = matrix_sdk::ruma::api::client::room::create_room::v3::Request::new();
        request.room_alias_name = Some(alias.clone());
        match user.client.create_room(request).await {
            Ok(_) => {}
            Err(error)
                if error.client_api_error_kind()
                    == Some(&matrix_sdk::ruma::api::error::ErrorKind::RoomInUse) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_alias_held_by_someone_else_does_not_stop_a_declaration() -> Result<()> {
    let desk = Desk::new(bot_binary(), "").await?;
    let squatter = TestUser::register(&servers().first, "squatter").await?;
    hold(&squatter, &first_incident_aliases("")).await?;
    let incident = desk.declare("Leaked deploy key --private").await?;
    let held = first_incident_aliases("").map(|alias| format!("#{alias}:"));
    ensure!(
        !held
            .iter()
            .any(|held| incident.alias.starts_with(held.as_str()))
            && incident.alias.starts_with("#inc-"),
        "the declaration took another alias: {}",
        incident.alias
    );
    let state = incident_state(&desk.alice, &incident.room).await?;
    ensure!(state["number"] == 1, "it is INC-1 in its own room: {state}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declaration_a_crash_interrupted_after_taking_the_next_alias_finds_its_room() -> Result<()>
{
    let mut desk = Desk::new(bot_binary(), "").await?;
    let squatter = TestUser::register(&servers().first, "squatter").await?;
    let slug = format!(
        "-crash-{}",
        brigade_tests::synapse::random_string(6).to_lowercase()
    );
    let held = first_incident_aliases(&slug);
    hold(&squatter, &held).await?;
    desk.bot.terminate().await?;
    desk.bot
        .start_with_env(&[("FAILPOINTS", "declare-after-room=return")])
        .await?;
    let title = slug.trim_start_matches('-').replace('-', " ");
    let command = desk
        .alice
        .send_text(&desk.triage, &format!("!inc declare {title}"))
        .await?
        .to_string();
    let status = desk.bot.wait_exit().await?;
    ensure!(status.code() == Some(137), "{}", desk.bot.log());
    // While the bot is down its first alias comes free: the room it made is behind the second.
    let server = &servers().first.server_name;
    for alias in &held {
        let alias = matrix_sdk::ruma::OwnedRoomAliasId::try_from(format!("#{alias}:{server}"))?;
        squatter
            .client
            .send(matrix_sdk::ruma::api::client::alias::delete_alias::v3::Request::new(alias))
            .await?;
    }
    desk.bot.start().await?;

    let bot = desk.bot_id();
    let answer = desk
        .alice
        .wait_for_event(&desk.triage, "the declaration's answer", |event| {
            is_thread_reply(event, bot, &command)
        })
        .await
        .with_context(|| desk.bot.log())?;
    ensure!(
        body(&answer).contains("INC-1") && body(&answer).contains(&format!("{slug}-2:")),
        "the room behind the second alias: {}",
        body(&answer)
    );
    let bot_rooms = servers()
        .first
        .admin_get(&format!("/v1/users/{}/joined_rooms", desk.bot.user_id))
        .await?;
    let rooms = bot_rooms["joined_rooms"]
        .as_array()
        .context("joined_rooms")?;
    // Space, triage, announcements, postmortems, archive, private triage and the one incident.
    ensure!(rooms.len() == 7, "{rooms:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_to_an_unreachable_server_holds_up_nothing_else() -> Result<()> {
    let desk = Desk::new(bot_binary(), "").await?;
    let alice = &desk.alice;
    let incident = desk.declare("Checkout down").await?;
    // Nothing listens on port 1: the homeserver's invitation over federation cannot go through.
    let answer = desk
        .command(alice, &incident.room, "!inc page @nobody:127.0.0.9:1", "✅")
        .await?;
    ensure!(
        answer.contains("@nobody:127.0.0.9:1") && answer.contains("invitation"),
        "the answer says the invitation is still pending: {answer}"
    );
    // Everything else goes on.
    let help = desk.command(alice, &desk.triage, "!inc help", "✅").await?;
    ensure!(help.contains("!inc declare"), "{help}");
    desk.command(alice, &incident.room, "!inc sev 1", "✅")
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_with_500_updates_keeps_its_state_in_step_and_is_rebuilt_whole() -> Result<()> {
    let mut desk = Desk::new(bot_binary(), "").await?;
    let alice = &desk.alice;
    let inc = desk.declare("Long haul").await?;
    // 40 updates of 1,900 characters (which used to outgrow the state event), then 460 short
    // ones; sent in batches of 25, each batch's last answer awaited (the bot answers about
    // two a second here, fewer on a slower machine).
    let long = "x".repeat(1_900);
    for batch in 0..20 {
        for n in batch * 25..batch * 25 + 24 {
            let text = if n < 40 {
                format!("{n} {long}")
            } else {
                format!("step {n}")
            };
            alice
                .send_text(&inc.room, &format!("!inc update {text}"))
                .await?;
        }
        let last = batch * 25 + 24;
        desk.command(alice, &inc.room, &format!("!inc update step {last}"), "✅")
            .await?;
    }
    desk.command(alice, &inc.room, "!inc sev 1", "✅").await?;
    let state = until(
        "the severity in the state",
        || incident_state(alice, &inc.room),
        |state| state["severity"] == "SEV1",
    )
    .await
    .with_context(|| desk.bot.log())?;
    assert_eq!(updates(&state), 500, "every update in the timeline's pages");
    let raw = alice
        .state(&inc.room, "org.brigade.incident", "")
        .await?
        .context("the incident's state")?;
    assert!(
        raw.to_string().len() < 8_000,
        "the incident's own state stays small"
    );
    let pages = brigade_tests::desk::timeline_pages(alice, &inc.room).await?;
    assert!(pages.len() > 1, "{} pages", pages.len());
    assert!(pages.iter().all(|page| page.to_string().len() < 40_000));

    // A bot that lost its store reads the whole timeline back from the pages.
    desk.bot.terminate().await?;
    desk.bot.wipe_store()?;
    desk.bot.start().await?;
    desk.command(alice, &inc.room, "!inc status identified", "✅")
        .await?;
    let state = until(
        "the status in the state",
        || incident_state(alice, &inc.room),
        |state| state["status"] == "identified",
    )
    .await?;
    assert_eq!(
        updates(&state),
        500,
        "the rebuilt timeline kept every update"
    );
    Ok(())
}
