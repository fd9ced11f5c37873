//! End-to-end: follow-ups become tickets through the bridge (SPEC §16). Real Synapse, the real
//! bot and bridge processes; GitHub is a fake that enforces GitHub's own OpenAPI description on
//! every request and answer (`brigade_tests::github`), and its webhooks are signed as GitHub
//! signs them.

use std::path::Path;

use anyhow::{ensure, Context, Result};
use brigade_core::events::TICKET_KEY;
use brigade_tests::{
    bridge::{AlertDesk, AlertSetup, BridgeProcess},
    client::{body, TestUser},
    desk::{summary, until, Desk},
    github::{self, Github},
    synapse::random_string,
};
use matrix_sdk::ruma::RoomId;
use serde_json::Value;

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

fn bridge_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bridge-e2e"))
}

/// `[tickets]` with operations incidents' follow-ups going to `github` (the fake, with
/// `token`), and `broken` (the same fake, a token it refuses).
fn tickets_config(github: &Github, token: &str, webhook_secret: &str) -> String {
    let labels = format!(
        "labels = [\"incident-followup\"]\nwebhook_secret = \"{webhook_secret}\"\n\
         [trackers.assignees]\n\"@bob:{{server}}\" = \"bob-gh\"\n"
    );
    format!(
        "[tickets]\nbot = \"{{bot}}\"\n[tickets.defaults]\noperations = \"github\"\n{}{}",
        github.tracker("github", token, &labels),
        github.tracker("broken", "not-the-token", "")
    )
}

/// The bridge's next message in `room` whose text contains `marker`.
async fn bridge_says(
    user: &TestUser,
    room: &RoomId,
    bridge: &BridgeProcess,
    marker: &str,
) -> Result<Value> {
    user.wait_for_event(room, marker, |event| {
        event["sender"]
            .as_str()
            .is_some_and(|sender| sender.starts_with("@alert_bridge:"))
            && body(event).contains(marker)
    })
    .await
    .with_context(|| bridge.log())
}

/// The lines of `!inc timeline` that contain `marker`, once there are `count`.
async fn timeline_lines(desk: &Desk, room: &RoomId, marker: &str, count: usize) -> Result<()> {
    until(
        marker,
        || async {
            let timeline = desk
                .command(&desk.alice, room, "!inc timeline", "✅")
                .await?;
            Ok(timeline
                .lines()
                .filter(|line| line.contains(marker))
                .count())
        },
        |found| *found >= count,
    )
    .await
    .with_context(|| desk.bot.log())
    .and_then(|found| {
        ensure!(found == count, "{found} lines with {marker}, not {count}");
        Ok(())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_becomes_one_github_issue_and_its_closing_comes_back() -> Result<()> {
    let token = random_string(20);
    let webhook_secret = random_string(20);
    let github = Github::start("acme", "app", &token).await?;
    let tickets = tickets_config(&github, &token, &webhook_secret);
    let setup = AlertSetup {
        webhooks: &tickets,
        ..AlertSetup::default()
    };
    let AlertDesk { bot, alice, bridge } =
        AlertDesk::start_with(bridge_binary(), bot_binary(), &random_string(24), setup).await?;
    let desk = Desk::around(bot, alice).await?;
    let alice = &desk.alice;
    let incident = desk.declare("Disk full on db-1 --sev 2").await?;
    let room = &incident.room;

    // Bad input, refused by the bot: nothing reaches the bridge.
    let refused = desk
        .command(
            alice,
            room,
            "!inc followup Buy disks --due 2026-13-01",
            "❓",
        )
        .await?;
    ensure!(refused.contains("`2026-13-01` is not a date"), "{refused}");

    // The type's default tracker. Its first answer is lost: the issue is made all the same,
    // and found again by its marker instead of being made twice.
    github.lose_next_answer();
    let answer = desk
        .command(
            alice,
            room,
            "!inc followup Alert at *90%* disk --owner @bob --due 2099-01-15",
            "✅",
        )
        .await?;
    ensure!(
        answer.starts_with("Follow-up 1 recorded (owner ") && answer.contains("due 2099-01-15"),
        "{answer}"
    );
    let retrying = bridge_says(
        alice,
        room,
        &bridge,
        "⏳ The ticket of follow-up 1 of INC-1",
    )
    .await?;
    ensure!(
        body(&retrying).contains("GitHub answered 503"),
        "{}",
        body(&retrying)
    );
    let opened = bridge_says(
        alice,
        room,
        &bridge,
        "🎫 Follow-up 1 of INC-1 is acme/app#1",
    )
    .await?;
    let ticket = &opened["content"][TICKET_KEY];
    ensure!(
        ticket["key"] == "acme/app#1" && ticket["followup"] == 1 && ticket["closed"] == false,
        "{opened}"
    );
    let issues = github.issues();
    ensure!(issues.len() == 1, "one issue: {issues:?}");
    let issue = &issues[0];
    ensure!(issue["title"] == "INC-1: Alert at *90%* disk", "{issue}");
    let text = issue["body"].as_str().context("the issue's body")?;
    ensure!(
        text.contains(&format!("https://matrix.to/#/{room}"))
            && text.contains("- Due: 2099-01-15")
            && text.contains("<!-- brigade-followup: $"),
        "{text}"
    );
    ensure!(issue["labels"][0]["name"] == "incident-followup", "{issue}");
    ensure!(
        issue["assignees"][0]["login"] == "bob-gh",
        "the owner's GitHub account: {issue}"
    );
    let posts = github
        .requests()
        .iter()
        .filter(|request| request.method == "POST")
        .count();
    ensure!(posts == 1, "one issue asked for: {:?}", github.requests());

    // The bot shows the ticket in the timeline and the summary.
    timeline_lines(
        &desk,
        room,
        "🎫 Follow-up 1 is ticket [acme/app\\#1](<http",
        1,
    )
    .await?;
    let (_, pinned) = until(
        "the summary's follow-ups",
        || summary(alice, room),
        |(_, text)| text.contains("acme/app\\#1"),
    )
    .await?;
    ensure!(
        pinned.contains("Follow-ups** 1 (0 done) · 🎫 [acme/app\\#1]"),
        "{pinned}"
    );

    // A tracker the bridge does not have, and one that refuses its token: said once each.
    desk.command(alice, room, "!inc followup Rotate keys --ticket jira", "✅")
        .await?;
    bridge_says(
        alice,
        room,
        &bridge,
        "⚠️ No ticket for follow-up 2 of INC-1: the bridge has no tracker named `jira` (it has: github, broken)",
    )
    .await?;
    desk.command(
        alice,
        room,
        "!inc followup Page the DBA --ticket broken",
        "✅",
    )
    .await?;
    bridge_says(
        alice,
        room,
        &bridge,
        "⚠️ No ticket for follow-up 3 of INC-1: GitHub answered 401: Bad credentials",
    )
    .await?;
    ensure!(github.issues().len() == 1, "nothing made for either");

    // Closed on GitHub: its signed webhook comes back; a wrong signature changes nothing.
    let http = reqwest::Client::new();
    let url = bridge.url("/tickets/github");
    let deliver = |body: Vec<u8>, signature: String| {
        let request = http
            .post(&url)
            .header("X-GitHub-Event", "issues")
            .header("X-GitHub-Delivery", random_string(12))
            .header("X-Hub-Signature-256", signature)
            .header("Content-Type", "application/json")
            .body(body);
        async move { Ok::<_, anyhow::Error>(request.send().await?.status().as_u16()) }
    };
    let (_, closed) = github.set_state(1, true, "octocat")?;
    let forged = deliver(closed.clone(), github::signature("not the secret", &closed)).await?;
    ensure!(forged == 401, "a wrong signature is refused: {forged}");
    let taken = deliver(closed.clone(), github::signature(&webhook_secret, &closed)).await?;
    ensure!(taken == 202, "{taken}");
    bridge_says(alice, room, &bridge, "✅ acme/app#1 was closed by octocat").await?;
    let again = deliver(closed.clone(), github::signature(&webhook_secret, &closed)).await?;
    ensure!(again == 200, "a repeated delivery changes nothing: {again}");
    timeline_lines(
        &desk,
        room,
        "✅ Follow-up 1's ticket was closed by octocat",
        1,
    )
    .await?;
    until(
        "the summary's follow-up done",
        || summary(alice, room),
        |(_, text)| {
            text.contains("Follow-ups** 3 (1 done)")
                && text.contains("#1](<http")
                && text.contains(") ✅")
        },
    )
    .await?;

    // Reopened on GitHub.
    let (_, reopened) = github.set_state(1, false, "hubot")?;
    let taken = deliver(
        reopened.clone(),
        github::signature(&webhook_secret, &reopened),
    )
    .await?;
    ensure!(taken == 202, "{taken}");
    bridge_says(alice, room, &bridge, "🔁 acme/app#1 was reopened by hubot").await?;
    timeline_lines(
        &desk,
        room,
        "🔁 Follow-up 1's ticket was reopened by hubot",
        1,
    )
    .await?;

    // Each was said once: Alice sees her own message after all of them.
    let sent = alice.send_text(room, "that is all").await?;
    alice
        .wait_for_event(room, "Alice's own message", |event| {
            event["event_id"] == sent.as_str()
        })
        .await?;
    for said in [
        "⏳ The ticket of follow-up 1",
        "🎫 Follow-up 1 of INC-1",
        "no tracker named `jira`",
        "Bad credentials",
        "✅ acme/app#1 was closed",
        "🔁 acme/app#1 was reopened",
    ] {
        let times = alice
            .events(room)
            .iter()
            .filter(|event| {
                event["sender"]
                    .as_str()
                    .is_some_and(|sender| sender.starts_with("@alert_bridge:"))
                    && body(event).contains(said)
            })
            .count();
        ensure!(times == 1, "said {times} times: {said}");
    }

    desk.command(alice, room, "!inc postmortem", "✅").await?;
    let bot = desk.bot_id().to_owned();
    let postmortem = alice
        .wait_for_event(room, "the postmortem draft", |event| {
            event["sender"] == bot.as_str() && body(event).contains("## Follow-ups")
        })
        .await?;
    let postmortem = body(&postmortem);
    ensure!(
        postmortem.contains("[ ] Alert at \\*90%\\* disk (owner ")
            && postmortem.contains("due 2099-01-15) · 🎫 [acme/app\\#1](<http"),
        "{postmortem}"
    );
    let violations = github.violations();
    ensure!(
        violations.is_empty(),
        "as GitHub's description says: {violations:#?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_killed_after_making_the_issue_finds_it_again_and_makes_no_second() -> Result<()> {
    let token = random_string(20);
    let webhook_secret = random_string(20);
    let github = Github::start("acme", "app", &token).await?;
    let tickets = tickets_config(&github, &token, &webhook_secret);
    let setup = AlertSetup {
        webhooks: &tickets,
        ..AlertSetup::default()
    };
    let AlertDesk {
        bot,
        alice,
        mut bridge,
    } = AlertDesk::start_with(bridge_binary(), bot_binary(), &random_string(24), setup).await?;
    bridge.kill()?;
    bridge
        .start_with_env(&[("FAILPOINTS", "ticket-after-create=return")])
        .await?;
    let desk = Desk::around(bot, alice).await?;
    let alice = &desk.alice;
    let incident = desk.declare("Checkout latency --sev 3").await?;
    let room = &incident.room;

    desk.command(alice, room, "!inc followup Cache the prices", "✅")
        .await?;
    let status = bridge.wait_exit().await?;
    ensure!(
        status.code() == Some(137),
        "the bridge crashed once the issue was made: {status:?}\n{}",
        bridge.log()
    );
    ensure!(github.issues().len() == 1, "made before the crash");

    bridge.start().await?;
    bridge_says(
        alice,
        room,
        &bridge,
        "🎫 Follow-up 1 of INC-1 is acme/app#1",
    )
    .await?;
    ensure!(
        github.issues().len() == 1,
        "not made twice: {:?}",
        github.requests()
    );
    let requests = github.requests();
    let after_restart: Vec<_> = requests.iter().skip(1).collect();
    ensure!(
        after_restart.iter().all(|request| request.method == "GET"),
        "looked for, not made again: {requests:?}"
    );
    timeline_lines(
        &desk,
        room,
        "🎫 Follow-up 1 is ticket [acme/app\\#1](<http",
        1,
    )
    .await?;

    // Made, its answer lost, GitHub failing after, and closed there before the bridge knows
    // it made it: the webhook finds it by its marker, and it is not made again.
    github.lose_next_answer();
    desk.command(alice, room, "!inc followup Alert on checkout errors", "✅")
        .await?;
    brigade_tests::desk::eventually("the second issue made", || github.issues().len() == 2).await?;
    github.fail_next(&[503; 4]);
    let (_, closed) = github.set_state(2, true, "octocat")?;
    let delivered = reqwest::Client::new()
        .post(bridge.url("/tickets/github"))
        .header("X-GitHub-Event", "issues")
        .header(
            "X-Hub-Signature-256",
            github::signature(&webhook_secret, &closed),
        )
        .header("Content-Type", "application/json")
        .body(closed)
        .send()
        .await?
        .status()
        .as_u16();
    ensure!(delivered == 202, "{delivered}");
    bridge_says(
        alice,
        room,
        &bridge,
        "🎫 Follow-up 2 of INC-1 is acme/app#2 in GitHub (closed)",
    )
    .await?;
    let posts = github
        .requests()
        .iter()
        .filter(|request| request.method == "POST")
        .count();
    ensure!(posts == 2, "one issue each: {:?}", github.requests());
    let violations = github.violations();
    ensure!(violations.is_empty(), "{violations:#?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_follow_up_reminds_its_owner_once_a_day() -> Result<()> {
    let mut desk = Desk::new(bot_binary(), "").await?;
    let hs = &brigade_tests::servers::shared().first;
    let bob = TestUser::register(hs, "bob").await?;
    let incident = desk.declare("Certificates expired --sev 2").await?;
    let room = incident.room.clone();
    desk.page_in(&room, &bob).await?;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let owned = format!(
        "!inc followup Renew by cron --owner {} --due {today}",
        bob.user_id
    );
    desk.command(&desk.alice, &room, &owned, "✅").await?;
    let unowned = format!("!inc followup Monitor expiry --due {today}");
    desk.command(&desk.alice, &room, &unowned, "✅").await?;
    let reminder = |event: &Value| {
        body(event).starts_with("⏰") && body(event).contains("follow-up 1 of INC-1")
    };

    // Two days on: its owner is reminded, mentioned; the follow-up without one is not.
    let checked = |log: String| log.matches("overdue follow-ups checked").count();
    for (days, reminders) in [("2", 1), ("2", 1), ("3", 2)] {
        desk.bot.kill()?;
        desk.bot
            .start_with_env(&[("BRIGADE_E2E_DAYS_AHEAD", days)])
            .await?;
        brigade_tests::desk::eventually("the day's check of overdue follow-ups", || {
            checked(desk.bot.last_log()) >= 1
        })
        .await
        .with_context(|| desk.bot.log())?;
        // Whatever the bot said before its check ended comes before Bob's message, so Bob has
        // it once he sees his own. (The bot's clock is ahead: it takes no commands now.)
        let sent = bob.send_text(&room, &format!("after {days} days")).await?;
        bob.wait_for_event(&room, "Bob's own message", |event| {
            event["event_id"] == sent.as_str()
        })
        .await?;
        let reminded: Vec<Value> = bob
            .events(&room)
            .into_iter()
            .filter(|event| reminder(event))
            .collect();
        // Restarted the same day, the bot does not remind again; the next day it does.
        ensure!(
            reminded.len() == reminders,
            "{} reminders after {days} days ahead",
            reminded.len()
        );
        let seen = reminded.last().context("a reminder")?;
        ensure!(
            seen["content"]["m.mentions"]["user_ids"][0] == bob.user_id.as_str(),
            "Bob is mentioned: {seen}"
        );
        ensure!(
            body(seen).contains(&format!(
                "was due on {today} and is not done: Renew by cron"
            )),
            "{}",
            body(seen)
        );
    }
    let unowned_reminded = bob
        .events(&room)
        .iter()
        .any(|event| body(event).starts_with("⏰") && body(event).contains("follow-up 2"));
    ensure!(!unowned_reminded, "nobody to remind of follow-up 2");
    desk.bot.kill()?;
    desk.bot.start().await?;
    Ok(())
}
