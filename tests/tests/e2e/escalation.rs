//! End-to-end: escalation policies (SPEC §14). A page nobody acknowledges walks every level at
//! the configured times and ends telling the commander; `!inc escalate` hurries it; 👀 on a page
//! or `!inc ack` stops it; a restart in the middle resumes at the right step, once. Real Synapse,
//! people as matrix-sdk clients, short waits in the configuration.

use std::{path::Path, time::Duration};

use anyhow::{Context, Result};
use brigade_tests::{
    client::{body, TestUser},
    desk::{incident_state, until, Desk},
    servers::shared as servers,
};
use matrix_sdk::ruma::RoomId;
use serde_json::Value;

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

/// The pages (📟 posts) the bot made in `room` for `policy` at `level` ("level 2 of 2").
fn level_pages(desk: &Desk, room: &RoomId, policy: &str, level: &str) -> Vec<Value> {
    let tag = format!("(Escalation **{policy}**, level {level}");
    desk.bot_posts(&desk.alice, room)
        .into_iter()
        .filter(|post| body(post).starts_with("📟") && body(post).contains(&tag))
        .collect()
}

/// The timeline entries of `kind` in `room`'s incident state.
async fn entries(user: &TestUser, room: &RoomId, kind: &str) -> Result<Vec<Value>> {
    let state = incident_state(user, room).await?;
    Ok(state["timeline"]
        .as_array()
        .map(|timeline| {
            timeline
                .iter()
                .filter(|entry| entry["kind"] == kind)
                .cloned()
                .collect()
        })
        .unwrap_or_default())
}

/// A desk whose team `db` (Bob on call) escalates to the group `dba` (Carol): policy `db` waits a
/// few seconds per level and pages the last one twice; `slow` waits an hour; `restart` waits a
/// few seconds, then an hour.
async fn desk(bob: &TestUser, carol: &TestUser) -> Result<Desk> {
    let config = format!(
        "[[groups]]\nname = \"dba\"\nmembers = [\"{carol}\"]\n\
         [[oncall]]\nteam = \"db\"\nmembers = [\"{bob}\"]\nstart = \"2026-01-05T08:00:00Z\"\nescalation = \"db\"\n\
         [[escalation]]\nname = \"db\"\nrepeat = 1\n\
         [[escalation.levels]]\npage = [\"oncall:db\"]\nwait = \"3s\"\n\
         [[escalation.levels]]\npage = [\"dba\"]\nwait = \"3s\"\n\
         [[escalation]]\nname = \"slow\"\n\
         [[escalation.levels]]\npage = [\"{bob}\"]\nwait = \"1h\"\n\
         [[escalation.levels]]\npage = [\"dba\"]\nwait = \"1h\"\n\
         [[escalation]]\nname = \"restart\"\n\
         [[escalation.levels]]\npage = [\"{bob}\"]\nwait = \"6s\"\n\
         [[escalation.levels]]\npage = [\"dba\"]\nwait = \"1h\"\n",
        bob = bob.user_id,
        carol = carol.user_id,
    );
    Desk::new(bot_binary(), &config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_nobody_acknowledges_walks_every_level_then_tells_the_commander() -> Result<()> {
    let hs = &servers().first;
    let bob = TestUser::register(hs, "bob").await?;
    let carol = TestUser::register(hs, "carol").await?;
    let desk = desk(&bob, &carol).await?;
    let alice = &desk.alice;
    let incident = desk.declare("Replica lag").await?;
    let room = &incident.room;

    // `!inc oncall db` shows the team's policy with its levels.
    let oncall = desk
        .command(alice, &desk.triage, "!inc oncall db", "✅")
        .await?;
    assert!(
        oncall.contains("Escalation **db**: `oncall:db` 3s → `dba` 3s (the last one again 1×)"),
        "{oncall}"
    );

    // Paging the team's on-call starts the team's policy.
    let answer = desk
        .command(alice, room, "!inc page oncall:db", "✅")
        .await?;
    assert!(
        answer.contains(&format!("{} (on call for db)", bob.name))
            && answer.contains("escalation **db** started"),
        "{answer}"
    );
    let ended = alice
        .wait_for_event(room, "the end of the escalation", |event| {
            body(event).contains("escalation **db** for") && body(event).contains("has ended")
        })
        .await
        .with_context(|| desk.bot.log())?;
    assert!(
        body(&ended).contains("nobody acknowledged its 3 pages"),
        "{}",
        body(&ended)
    );
    assert_eq!(
        ended["content"]["m.mentions"]["user_ids"][0],
        alice.user_id.as_str(),
        "the commander is told"
    );
    let second = level_pages(&desk, room, "db", "2 of 2");
    assert_eq!(second.len(), 2, "level 2, then once more: {second:?}");
    assert!(body(&second[0]).contains(&carol.name) && body(&second[0]).contains("(dba)"));
    assert!(body(&second[0]).contains("nobody acknowledged within 3s"));
    alice
        .wait_for_membership(room, &carol.user_id, "invite")
        .await?;

    // Every step is in the timeline: who was reached, at which level.
    let paged = until(
        "every step in the timeline",
        || entries(alice, room, "paged"),
        |paged| paged.len() == 3,
    )
    .await?;
    let levels: Vec<&Value> = paged
        .iter()
        .map(|entry| &entry["escalations"][0]["level"])
        .collect();
    assert_eq!(levels, [1, 2, 2], "{paged:?}");
    assert_eq!(paged[1]["people"][0], carol.user_id.as_str());
    let ended = entries(alice, room, "escalation_ended").await?;
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0]["acknowledged"], false);
    let refused = desk.command(alice, room, "!inc escalate", "❓").await?;
    assert!(
        refused.contains("no escalation policy is paging"),
        "{refused}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalate_hurries_a_policy_and_eyes_on_its_page_stop_it() -> Result<()> {
    let hs = &servers().first;
    let bob = TestUser::register(hs, "bob").await?;
    let carol = TestUser::register(hs, "carol").await?;
    let desk = desk(&bob, &carol).await?;
    let alice = &desk.alice;
    let incident = desk.declare("Disk full on db-2").await?;
    let room = &incident.room;

    let refused = desk.command(alice, room, "!inc page nope", "❓").await?;
    assert!(
        refused.contains("no group or escalation policy named `nope`")
            && refused.contains("policies: db, slow, restart"),
        "{refused}"
    );
    let answer = desk.command(alice, room, "!inc page slow", "✅").await?;
    assert!(answer.contains("escalation **slow** started"), "{answer}");
    // Already running: a second page of it says so and starts nothing.
    let again = desk.command(alice, room, "!inc page slow", "✅").await?;
    assert!(again.contains("was running already"), "{again}");

    let hurried = desk.command(alice, room, "!inc escalate", "✅").await?;
    assert!(hurried.contains("Escalating **slow** now"), "{hurried}");
    let page = alice
        .wait_for_event(room, "level 2, hurried", |event| {
            body(event).contains("(Escalation **slow**, level 2 of 2")
        })
        .await
        .with_context(|| desk.bot.log())?;
    assert!(
        body(&page).contains(&format!("{} escalated it", alice.name)),
        "{}",
        body(&page)
    );
    carol.join(room.as_str()).await?;
    let page_id = page["event_id"].as_str().context("an event ID")?;
    carol.react(room, page_id, "👀").await?;
    let said = alice
        .wait_for_event(room, "the escalation stopped", |event| {
            body(event).contains("escalation **slow** stopped")
        })
        .await
        .with_context(|| desk.bot.log())?;
    assert!(
        body(&said).contains(&format!("{} is looking into it", carol.name)),
        "the first acknowledgement: {}",
        body(&said)
    );
    let refused = desk.command(alice, room, "!inc escalate", "❓").await?;
    assert!(
        refused.contains("no escalation policy is paging"),
        "{refused}"
    );
    let ended = until(
        "the stop in the timeline",
        || entries(alice, room, "escalation_ended"),
        |ended| !ended.is_empty(),
    )
    .await?;
    assert_eq!(ended[0]["acknowledged"], true);
    assert_eq!(ended[0]["by"], carol.user_id.as_str());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_resumes_at_the_next_step_once() -> Result<()> {
    let hs = &servers().first;
    let bob = TestUser::register(hs, "bob").await?;
    let carol = TestUser::register(hs, "carol").await?;
    let mut desk = desk(&bob, &carol).await?;
    let incident = desk.declare("Checkout errors").await?;
    let room = incident.room.clone();

    desk.command(&desk.alice, &room, "!inc page restart", "✅")
        .await?;
    // Down through the level's wait: the step falls due while nobody runs it.
    desk.bot.terminate().await?;
    tokio::time::sleep(Duration::from_secs(8)).await;
    desk.bot.start().await?;
    desk.alice
        .wait_for_event(&room, "level 2 after the restart", |event| {
            body(event).contains("(Escalation **restart**, level 2 of 2")
        })
        .await
        .with_context(|| desk.bot.log())?;
    let answer = desk.command(&desk.alice, &room, "!inc ack", "✅").await?;
    assert!(
        answer.contains("acknowledged at") && answer.contains("escalation **restart** stopped"),
        "{answer}"
    );
    assert_eq!(level_pages(&desk, &room, "restart", "2 of 2").len(), 1);
    let first: Vec<Value> = desk
        .bot_posts(&desk.alice, &room)
        .into_iter()
        .filter(|post| {
            body(post).starts_with("📟")
                && body(post).contains("Escalation **restart**: the next level")
        })
        .collect();
    assert_eq!(first.len(), 1, "the first page once: {first:?}");
    let refused = desk.command(&desk.alice, &room, "!inc ack", "❓").await?;
    assert!(refused.contains("acknowledged already"), "{refused}");
    Ok(())
}
