//! End-to-end: the timeline of an incident, built from 📌 on messages and from what the bot
//! records; the postmortem and the close of an incident; and both rebuilt from the room after
//! the bot's store is lost. Real Synapse, people as matrix-sdk clients.

use std::path::Path;

use anyhow::{bail, Context, Result};
use brigade_tests::{
    client::{body, is_reaction, TestUser},
    desk::{eventually, incident_state, name, topic, until, Desk, Incident},
    git::Remote,
    servers::shared as servers,
    wait::wait_for,
};
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId, RoomId};
use serde_json::Value;

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

/// `HH:MM` of a message's original timestamp, in UTC, as the timeline shows it.
fn clock(user: &TestUser, room: &RoomId, event_id: &OwnedEventId) -> Result<String> {
    let event = user
        .events(room)
        .into_iter()
        .find(|event| event["event_id"] == event_id.as_str())
        .context("the message is not in the user's timeline")?;
    let seconds = event["origin_server_ts"].as_u64().context("no timestamp")? / 1000;
    Ok(format!(
        "{:02}:{:02}",
        seconds / 3600 % 24,
        seconds / 60 % 60
    ))
}

/// Waits for the bot's own 📌 on `message`, which says it is in the timeline.
async fn marked(desk: &Desk, user: &TestUser, room: &RoomId, message: &OwnedEventId) -> Result<()> {
    user.wait_for_event(room, "the bot's 📌", |event| {
        is_reaction(event, desk.bot_id(), message.as_str(), "📌")
    })
    .await
    .with_context(|| desk.bot.log())?;
    Ok(())
}

/// The `- ` lines of a timeline or of a postmortem's "Timeline" section.
fn timeline_lines(text: &str) -> Vec<String> {
    let section = text
        .split("## Timeline")
        .nth(1)
        .map_or(text, |rest| rest.split("\n## ").next().unwrap_or(rest));
    section
        .lines()
        .filter(|line| line.starts_with("- "))
        .map(str::to_owned)
        .collect()
}

/// Asserts that `needles` appear in `lines` in this order, each in its own line.
fn in_order(lines: &[String], needles: &[&str]) -> Result<()> {
    let mut from = 0;
    for needle in needles {
        let Some(found) = lines[from..].iter().position(|line| line.contains(needle)) else {
            bail!(
                "`{needle}` missing after line {from} in:\n{}",
                lines.join("\n")
            );
        };
        from += found + 1;
    }
    Ok(())
}

/// The latest post by the bot in `room` whose body contains `marker`, as posted (not a thread
/// answer, not an edit).
async fn bot_post(desk: &Desk, user: &TestUser, room: &RoomId, marker: &str) -> Result<Value> {
    let bot = desk.bot_id().to_owned();
    user.wait_for_event(room, marker, |event| {
        event["type"] == "m.room.message"
            && event["sender"] == bot.as_str()
            && event["content"]["m.relates_to"].is_null()
            && body(event).contains(marker)
    })
    .await
    .with_context(|| desk.bot.log())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_make_the_timeline_at_the_messages_times_and_flags_taken_back_leave_it() -> Result<()>
{
    let hs = &servers().first;
    let bob = TestUser::register(hs, "bob").await?;
    let desk = Desk::new(bot_binary(), "").await?;
    let alice = &desk.alice;
    let Incident { room, .. } = desk.declare("Disk full on db-1 --sev 2").await?;
    desk.page_in(&room, &bob).await?;

    // Bob works the incident; Alice flags what matters.
    let full = bob.send_text(&room, "disk at 100% on db-1").await?;
    let wal = bob.send_text(&room, "cleaning old WAL segments").await?;
    let freed = bob.send_text(&room, "freed 40 GB").await?;
    let wrong = bob.send_text(&room, "wrong host, ignore").await?;
    let file = bob.send_file(&room, "df.txt", b"/dev/sda1 100%\n").await?;

    alice.react(&room, full.as_str(), "📌").await?;
    marked(&desk, alice, &room, &full).await?;
    bob.react(&room, full.as_str(), "📌").await?; // a second 📌 counts once
    let unflag = alice.react(&room, wal.as_str(), "📌").await?;
    marked(&desk, alice, &room, &wal).await?;
    alice.redact(&room, unflag.as_str()).await?; // taken back: out of the timeline
    alice.react(&room, freed.as_str(), "⏱").await?; // an alias of 📌
    marked(&desk, alice, &room, &freed).await?;
    bob.edit(&room, freed.as_str(), "freed 42 GB").await?;
    alice.react(&room, wrong.as_str(), "📌").await?;
    marked(&desk, alice, &room, &wrong).await?;
    bob.redact(&room, wrong.as_str()).await?; // the flagged message is redacted
    alice.react(&room, freed.as_str(), "🙏").await?;

    // Bad input: a 📌 by someone who left before the bot saw it is skipped (logged) and
    // changes nothing. (A 📌 on an event the bot cannot see cannot be made here: Synapse
    // refuses relations to events it does not have.)
    let carol = TestUser::register(hs, "carol").await?;
    desk.command(alice, &room, &format!("!inc page {}", carol.user_id), "✅")
        .await?;
    carol.join(room.as_str()).await?;
    let aside = carol.send_text(&room, "just looking").await?;
    desk.bot.pause()?;
    let resumed = async {
        carol.react(&room, aside.as_str(), "📌").await?;
        carol
            .client
            .get_room(&room)
            .context("carol's room")?
            .leave()
            .await?;
        anyhow::Ok(())
    }
    .await;
    desk.bot.resume()?;
    resumed?;

    // The bot's 📌 on the message taken back goes away.
    let bot = desk.bot_id().to_owned();
    let wal_mark = alice
        .events(&room)
        .into_iter()
        .find(|event| is_reaction(event, &bot, wal.as_str(), "📌"))
        .context("the bot's mark on the unflagged message")?;
    let wal_mark = wal_mark["event_id"].as_str().unwrap_or_default().to_owned();
    alice
        .wait_for_event(&room, "the bot's mark taken back", |event| {
            event["type"] == "m.room.redaction"
                && event["sender"] == bot.as_str()
                && (event["redacts"] == wal_mark.as_str()
                    || event["content"]["redacts"] == wal_mark.as_str())
        })
        .await
        .with_context(|| desk.bot.log())?;

    for status in ["identified", "monitoring", "resolved"] {
        desk.command(alice, &room, &format!("!inc status {status}"), "✅")
            .await?;
    }
    let answer = desk
        .command(
            alice,
            &room,
            &format!("!inc followup Alert at 90% disk --owner {}", bob.user_id),
            "✅",
        )
        .await?;
    assert!(answer.contains("Follow-up 1 recorded"), "{answer}");
    // Flagged last, after the page, the statuses and the follow-up: it still goes where it was
    // sent, before them, because a flag takes the message's original time.
    alice.react(&room, file.as_str(), "📌").await?;
    marked(&desk, alice, &room, &file).await?;

    assert!(
        !alice
            .events(&room)
            .iter()
            .any(|event| is_reaction(event, &bot, aside.as_str(), "📌")),
        "a 📌 by someone who had left was acted on"
    );

    // The timeline: exactly the expected entries, in order, at the messages' original times.
    let expected = [
        "🔥 Declared as SEV2",
        "📟 Paged",
        "👀 Acknowledged by",
        "📌",
        "📌",
        "📎",
        "📟 Paged",
        "→ **identified**",
        "→ **monitoring**",
        "→ **resolved**",
        "📝 Follow-up: Alert at 90% disk",
    ];
    // The 👀 (Bob's first message) and the flag of that message share a timestamp; then Bob's
    // two flagged messages and his file.
    let timeline = desk.command(alice, &room, "!inc timeline", "✅").await?;
    let lines = timeline_lines(&timeline);
    assert_eq!(lines.len(), expected.len(), "{timeline}");
    in_order(&lines, &expected)?;
    let full_at = clock(alice, &room, &full)?;
    assert!(
        lines[3].starts_with(&format!(
            "- {full_at} 📌 {}: “disk at 100% on db-1”",
            bob.name
        )),
        "{timeline}"
    );
    assert!(
        lines[4].contains("“freed 42 GB”"),
        "the edit shows: {timeline}"
    );
    assert!(
        lines[5].contains("df.txt"),
        "the file is a link: {timeline}"
    );
    for gone in ["cleaning old WAL", "wrong host", "freed 40 GB"] {
        assert!(!timeline.contains(gone), "{gone} is in: {timeline}");
    }
    assert!(timeline.contains("**Key moments:**"), "{timeline}");
    Ok(())
}

/// An incident Bob worked, resolved: two of his messages flagged by Alice, the second
/// thanked with 🙏, and a follow-up he owns. Answers the room and its `!inc timeline` lines.
async fn worked_incident(desk: &Desk, bob: &TestUser) -> Result<(OwnedRoomId, Vec<String>)> {
    let alice = &desk.alice;
    let Incident { room, .. } = desk.declare("Disk full on db-1 --sev 2").await?;
    desk.page_in(&room, bob).await?;
    let full = bob.send_text(&room, "disk at 100% on db-1").await?;
    let freed = bob.send_text(&room, "freed 42 GB").await?;
    for message in [&full, &freed] {
        alice.react(&room, message.as_str(), "📌").await?;
        marked(desk, alice, &room, message).await?;
    }
    alice.react(&room, freed.as_str(), "🙏").await?;
    desk.command(
        alice,
        &room,
        &format!("!inc followup Alert at 90% disk --owner {}", bob.user_id),
        "✅",
    )
    .await?;
    let timeline = desk.command(alice, &room, "!inc timeline", "✅").await?;
    Ok((room, timeline_lines(&timeline)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postmortem_draft_has_the_timeline_the_follow_ups_and_the_thanks() -> Result<()> {
    let bob = TestUser::register(&servers().first, "bob").await?;
    let desk = Desk::new(bot_binary(), "").await?;
    let alice = &desk.alice;
    let (room, lines) = worked_incident(&desk, &bob).await?;

    // Bad input: a postmortem outside an incident room, a follow-up without its text.
    let refused = desk
        .command(alice, &desk.triage, "!inc postmortem", "❓")
        .await?;
    assert!(refused.contains("works in an incident room"), "{refused}");
    let refused = desk
        .command(alice, &room, "!inc followup --owner @bob", "❓")
        .await?;
    assert!(refused.contains("usage"), "{refused}");

    // The draft: the same timeline, the follow-up, participants and thanks.
    desk.command(alice, &room, "!inc postmortem", "✅").await?;
    let draft = bot_post(&desk, alice, &room, "Postmortem draft: INC-1").await?;
    let draft = body(&draft).to_owned();
    assert_eq!(timeline_lines(&draft), lines, "{draft}");
    assert!(
        draft.contains(&format!("Alert at 90% disk (owner {})", bob.name)),
        "{draft}"
    );
    assert!(
        draft.contains(&format!("- {}, thanked by {}", bob.name, alice.name)),
        "{draft}"
    );
    assert!(draft.contains(bob.name.as_str()), "{draft}");
    bot_post(&desk, alice, &room, "INC-1-postmortem.md").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_posts_the_final_report_makes_the_room_read_only_and_archives_it() -> Result<()> {
    let hs = &servers().first;
    let bob = TestUser::register(hs, "bob").await?;
    let desk = Desk::new(bot_binary(), "").await?;
    let alice = &desk.alice;
    let (room, lines) = worked_incident(&desk, &bob).await?;

    // Bad input: closing an open incident.
    let refused = desk.command(alice, &room, "!inc close", "❓").await?;
    assert!(
        refused.contains("only a resolved incident can be closed"),
        "{refused}"
    );
    desk.command(alice, &room, "!inc status resolved", "✅")
        .await?;
    let resolved = lines.len() + 1;

    // Close: the final report here and in #postmortems, the room read-only and archived.
    let answer = desk.command(alice, &room, "!inc close", "✅").await?;
    assert!(answer.contains("Closed INC-1"), "{answer}");
    let last = bot_post(&desk, alice, &room, "# Postmortem: INC-1").await?;
    assert!(body(&last).contains("## Thanks"), "{}", body(&last));
    let html = last["content"]["formatted_body"]
        .as_str()
        .unwrap_or_default();
    assert!(
        html.contains("<h2>Timeline</h2>") && html.contains("disk at 100% on db-1"),
        "the report in HTML: {html}"
    );
    let postmortems = alice
        .join(&format!(
            "#{}-postmortems:{}",
            desk.bot.rooms_prefix, hs.server_name
        ))
        .await?;
    bot_post(&desk, alice, &postmortems, "Postmortem: INC-1").await?;
    let file = bot_post(&desk, alice, &postmortems, "INC-1-postmortem.md").await?;
    let url = file["content"]["url"]
        .as_str()
        .context("the file's mxc URL")?;
    let markdown = String::from_utf8(
        alice
            .download(matrix_sdk::ruma::events::room::MediaSource::Plain(
                url.into(),
            ))
            .await?,
    )?;
    // The file links each name to the person; otherwise its timeline is the message's.
    let mut unlinked = markdown.clone();
    for person in [alice, &bob] {
        let link = format!("[{}](https://matrix.to/#/{})", person.name, person.user_id);
        assert!(markdown.contains(&link), "{link} missing from {markdown}");
        unlinked = unlinked.replace(&link, &person.name);
    }
    assert_eq!(
        timeline_lines(&unlinked),
        timeline_lines(body(&last)),
        "the file's timeline is the final report's: {markdown}"
    );
    assert!(
        markdown.contains("→ **closed**") && timeline_lines(&markdown).len() == resolved + 1,
        "the final report ends with the close: {markdown}"
    );
    assert!(markdown.contains("## Thanks"), "{markdown}");

    let refused = bob.send_text(&room, "one more thing").await;
    let error = format!("{:?}", refused.expect_err("a closed room is read-only"));
    assert!(error.contains("M_FORBIDDEN"), "{error}");
    // The commander too (level 100 until the close).
    let refused = alice.send_text(&room, "and me").await;
    let error = format!(
        "{:?}",
        refused.expect_err("read-only for the commander too")
    );
    assert!(error.contains("M_FORBIDDEN"), "{error}");
    // History stays readable.
    let history = bob.history(&room).await?;
    assert!(
        history
            .iter()
            .any(|event| body(event) == "disk at 100% on db-1"),
        "the closed room's history is readable"
    );
    until(
        "the closed topic",
        || topic(alice, &room),
        |topic| topic.contains("· closed"),
    )
    .await?;
    let headline = wait_for("the closed headline", || async {
        desk.headline("INC-1")
            .await
            .ok()
            .filter(|text| text.starts_with("✅"))
    })
    .await?;
    assert!(headline.contains("closed"), "{headline}");
    until(
        "the closed name",
        || name(alice, &room),
        |name| name.starts_with("✅ INC-1"),
    )
    .await?;
    let archive = alice
        .client
        .resolve_room_alias(<&matrix_sdk::ruma::RoomAliasId>::try_from(
            format!("#{}-archive:{}", desk.bot.rooms_prefix, hs.server_name).as_str(),
        )?)
        .await?
        .room_id;
    until(
        "the room out of the space",
        || alice.state(&desk.space, "m.space.child", room.as_str()),
        |child| {
            child
                .as_ref()
                .is_some_and(|child| child.get("via").is_none())
        },
    )
    .await?;
    let parent = alice
        .state(&room, "m.space.parent", archive.as_str())
        .await?
        .context("the archive is the room's parent")?;
    assert!(parent["via"].is_array(), "{parent}");
    let state = incident_state(alice, &room).await?;
    assert_eq!(state["status"], "closed");

    // Metrics: the incident by severity and status, its times to acknowledge and resolve.
    let (status, metrics) = desk.bot.get("/metrics").await?;
    assert_eq!(status, 200);
    for line in [
        r#"brigade_incidents{severity="SEV2",status="closed"} 1"#,
        r#"brigade_incident_time_to_acknowledge_seconds_count{type="operations"} 1"#,
        r#"brigade_incident_time_to_resolve_seconds_count{type="operations"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_that_lost_its_store_rebuilds_the_timeline_from_the_room() -> Result<()> {
    let hs = &servers().first;
    let bob = TestUser::register(hs, "bob").await?;
    let mut desk = Desk::new(bot_binary(), "").await?;
    let alice = &desk.alice;
    let Incident { room, .. } = desk.declare("Queue backlog").await?;
    desk.page_in(&room, &bob).await?;
    let first = bob.send_text(&room, "consumers are stuck").await?;
    let second = bob.send_text(&room, "restarted the consumers").await?;
    alice.react(&room, first.as_str(), "📌").await?;
    marked(&desk, alice, &room, &first).await?;
    alice.react(&room, second.as_str(), "📌").await?;
    marked(&desk, alice, &room, &second).await?;
    bob.edit(&room, second.as_str(), "restarted all consumers")
        .await?;
    alice.react(&room, second.as_str(), "🎉").await?;
    desk.command(alice, &room, "!inc status monitoring", "✅")
        .await?;
    desk.command(alice, &room, "!inc followup Add a backlog alert", "✅")
        .await?;
    let before = desk.command(alice, &room, "!inc timeline", "✅").await?;
    assert!(before.contains("restarted all consumers"), "{before}");

    desk.bot.terminate().await?;
    desk.bot.wipe_store()?;
    desk.bot.start().await?;

    desk.command(alice, &room, "!inc postmortem", "✅").await?;
    let draft = bot_post(&desk, alice, &room, "Postmortem draft: INC-1").await?;
    let draft = body(&draft);
    assert_eq!(timeline_lines(draft), timeline_lines(&before), "{draft}");
    assert!(
        draft.contains(&format!("- {}, thanked by {}", bob.name, alice.name)),
        "{draft}"
    );
    assert!(draft.contains("Add a backlog alert"), "{draft}");

    // Numbers in use are not handed out again, and the incident still takes commands.
    let answer = desk
        .command(alice, &desk.triage, "!inc declare Second one", "✅")
        .await?;
    assert!(answer.contains("INC-2"), "{answer}");
    desk.command(alice, &room, "!inc status resolved", "✅")
        .await?;
    let state = until(
        "the status in the state",
        || incident_state(alice, &room),
        |state| state["status"] == "resolved",
    )
    .await?;
    assert_eq!(state["number"], 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_someone_else_made_is_not_rebuilt_as_an_incident() -> Result<()> {
    let hs = &servers().first;
    let mallory = TestUser::register(hs, "mallory").await?;
    let mut desk = Desk::new(bot_binary(), "").await?;
    let alice = &desk.alice;
    let Incident { room, .. } = desk.declare("Queue backlog").await?;

    // Mallory copies a genuine incident's state into a room of her own, with a number near
    // 2^53 and herself in command, and invites the bot, which joins it as a DM.
    let mut forged = incident_state(alice, &room).await?;
    forged["number"] = Value::from(9_007_199_254_740_000_u64);
    forged["commander"] = Value::from(mallory.user_id.as_str());
    let state = [serde_json::json!({
        "type": "org.brigade.incident",
        "state_key": "",
        "content": forged,
    })];
    let localpart = format!("inc-forged-{}", mallory.user_id.localpart());
    let fake = mallory
        .create_room_with_state("INC-9007199254740000", &localpart, &state, &[desk.bot_id()])
        .await?;
    mallory
        .wait_for_membership(&fake, desk.bot_id(), "join")
        .await
        .with_context(|| desk.bot.log())?;
    // An answer there says the bot has synced the room, state and all.
    desk.command(&mallory, &fake, "!inc help", "✅").await?;

    desk.bot.terminate().await?;
    desk.bot.start().await?;

    let answer = desk
        .command(alice, &desk.triage, "!inc declare Second one", "✅")
        .await?;
    assert!(answer.contains("INC-2"), "{answer}");
    let log = desk.bot.last_log();
    assert!(
        log.contains("not rebuilt") && log.contains(fake.as_str()),
        "the refusal is logged:\n{log}"
    );
    // The forged room is no incident: its commands are not the commander's.
    let answer = desk
        .command(&mallory, &fake, "!inc status resolved", "❓")
        .await?;
    assert!(answer.contains("works in an incident room"), "{answer}");
    Ok(())
}

/// The bot's posts in `room` whose body contains `marker`, as Alice's client has them.
fn bot_posts_with(desk: &Desk, room: &RoomId, marker: &str) -> usize {
    desk.bot_posts(&desk.alice, room)
        .iter()
        .filter(|event| body(event).contains(marker))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_final_postmortem_is_committed_to_the_docs_repository_once_through_refusals_and_a_crash(
) -> Result<()> {
    // The docs repository: the operator's README, and pushes refused until it opens.
    let docs = Remote::new("docs.git", "README.md", "# Docs\n")?;
    docs.close()?;
    let config = format!(
        "[postmortems]\ngit = \"{}\"\ngit_directory = \"postmortems\"\n",
        docs.path.display()
    );
    let bob = TestUser::register(&servers().first, "bob").await?;
    let mut desk = Desk::new(bot_binary(), &config).await?;
    let alice = &desk.alice;
    let (room, _) = worked_incident(&desk, &bob).await?;
    // The month it was declared in (UTC) names its folder.
    let declared = incident_state(alice, &room).await?["timestamps"]["declared"]
        .as_i64()
        .context("the declaration's time")?;
    let declared = jiff::Timestamp::from_millisecond(declared)?
        .strftime("%Y/%m")
        .to_string();
    desk.command(alice, &room, "!inc status resolved", "✅")
        .await?;
    let answer = desk.command(alice, &room, "!inc close", "✅").await?;
    assert!(
        answer.contains("and goes to the postmortem repository"),
        "{answer}"
    );
    let refused = bot_post(&desk, alice, &room, "could not be committed").await?;
    let refused = body(&refused);
    assert!(
        refused.contains("INC-1") && refused.contains("closed for maintenance"),
        "the refusal says why: {refused}"
    );
    assert_eq!(
        docs.git(&["log", "--format=%s", "main"])?,
        "Add README.md\n"
    );

    // A crash while it is owed; the bot tries again after its restart, and on until the
    // repository opens.
    desk.bot.kill()?;
    desk.bot.start().await?;
    eventually("a try after the restart", || {
        desk.bot
            .last_log()
            .contains("cannot commit the postmortem yet")
    })
    .await?;
    docs.open()?;
    let alice = &desk.alice;
    let committed = bot_post(&desk, alice, &room, "📚 The postmortem of INC-1").await?;
    let path = format!("postmortems/{declared}/INC-1-disk-full-on-db-1.md");
    assert!(
        body(&committed).contains(&format!("as `{path}` (commit `")),
        "{}",
        body(&committed)
    );
    let files = docs.git(&["ls-tree", "-r", "--name-only", "main"])?;
    assert_eq!(files, format!("README.md\n{path}\n"), "the README is kept");
    let log = docs.git(&["log", "--format=%an <%ae>|%s", "main"])?;
    let bot = desk.bot_id();
    assert_eq!(
        log,
        format!(
            "Brigade <{}@{}>|INC-1: postmortem\nOperator <ops@example.org>|Add README.md\n",
            bot.localpart(),
            bot.server_name()
        ),
        "committed once, by the bot"
    );

    // The file: front matter, then the final report as the room's .md file has it.
    let document = docs.show(&path);
    let (front, report) = document
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n\n"))
        .context("front matter")?;
    let front: Value = serde_yaml_ng::from_str(front).context("YAML front matter")?;
    let room_link = format!("https://matrix.to/#/{room}?via={}", bot.server_name());
    for (key, value) in [
        ("incident", "INC-1"),
        ("title", "Disk full on db-1"),
        ("severity", "SEV2"),
        ("type", "operations"),
        ("status", "closed"),
        ("commander", alice.user_id.as_str()),
        ("room", &room_link),
    ] {
        assert_eq!(front[key], value, "{key} in {front}");
    }
    for key in ["declared", "resolved", "closed"] {
        let at = front[key].as_str().unwrap_or_default();
        assert!(at.parse::<jiff::Timestamp>().is_ok(), "{key} in {front}");
    }
    assert!(front["seconds_to_resolve"].is_u64(), "{front}");
    assert!(report.starts_with("# Postmortem: INC-1"), "{report}");
    let final_report = bot_post(&desk, alice, &room, "# Postmortem: INC-1").await?;
    assert_eq!(
        timeline_lines(report).len(),
        timeline_lines(body(&final_report)).len(),
        "the file's timeline is the final report's: {report}"
    );
    assert!(
        report.contains(&format!(
            "[{}](https://matrix.to/#/{})",
            bob.name, bob.user_id
        )),
        "people are linked: {report}"
    );
    // Said once each, across the crash and the tries after it.
    for marker in ["could not be committed", "📚 The postmortem of INC-1"] {
        assert_eq!(bot_posts_with(&desk, &room, marker), 1, "{marker}");
    }
    Ok(())
}
