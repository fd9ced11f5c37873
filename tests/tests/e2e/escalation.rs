//! End-to-end: escalation policies (SPEC §14). A page nobody acknowledges walks every level at
//! the configured times and ends telling the commander; `!inc escalate` hurries it; 👀 on a page
//! or `!inc ack` stops it; a restart in the middle resumes at the right step, once; a page left
//! unacknowledged is mailed through a real SMTP server, and the mail's link, followed in
//! Chromium, acknowledges once; a refusing mail server is reported and stops nothing. Real
//! Synapse, people as matrix-sdk clients, short waits in the configuration.

use std::{path::Path, time::Duration};

use anyhow::{Context, Result};
use brigade_tests::{
    browser::Browser,
    client::{body, TestUser},
    desk::{eventually, incident_state, until, Desk},
    servers::shared as servers,
    smtp::Smtp,
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
pub(crate) async fn entries(user: &TestUser, room: &RoomId, kind: &str) -> Result<Vec<Value>> {
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
    // Down again just after the step: it is not taken twice.
    desk.bot.terminate().await?;
    desk.bot.start().await?;
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

/// A desk whose policy `mail` pages Bob (who has an address) and Carol (who has none), mails at
/// once what goes unacknowledged, and pages Carol alone after `wait`; its SMTP server is `smtp`.
async fn mailing_desk(bob: &TestUser, carol: &TestUser, smtp: &str, wait: &str) -> Result<Desk> {
    let config = format!(
        "[notify.email]\nsmtp = \"{smtp}\"\nfrom = \"Brigade <brigade@example.org>\"\n\
         [[notify.people]]\nuser = \"{bob}\"\nemail = \"bob@example.org\"\n\
         [[notify.people]]\nuser = \"{carol}\"\n\
         [[escalation]]\nname = \"mail\"\n\
         [[escalation.levels]]\npage = [\"{bob}\", \"{carol}\"]\nwait = \"{wait}\"\nnotify_after = \"0s\"\n\
         [[escalation.levels]]\npage = [\"{carol}\"]\nwait = \"1h\"\n",
        bob = bob.user_id,
        carol = carol.user_id,
    );
    Desk::new(bot_binary(), &config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unacknowledged_page_is_mailed_and_its_link_acknowledges_once() -> Result<()> {
    let hs = &servers().first;
    let smtp = Smtp::start().await?;
    let bob = TestUser::register(hs, "bob").await?;
    let carol = TestUser::register(hs, "carol").await?;
    let desk = mailing_desk(&bob, &carol, &smtp.url(), "1h").await?;
    let alice = &desk.alice;
    let incident = desk.declare("Payments failing").await?;
    let room = &incident.room;
    desk.command(alice, room, "!inc page mail", "✅").await?;

    let mail = smtp
        .wait_for_mail("Bob's notification", |mail| mail.to == ["bob@example.org"])
        .await
        .with_context(|| desk.bot.log())?;
    assert_eq!(mail.from, "brigade@example.org");
    assert!(
        mail.subject.contains("INC-1") && mail.subject.contains("Payments failing"),
        "{mail:?}"
    );
    assert!(
        mail.text.contains("escalation policy mail (level 1 of 2)"),
        "{}",
        mail.text
    );
    let link = mail
        .text
        .lines()
        .find(|line| line.starts_with("http") && line.contains("/ack/"))
        .context("an acknowledge link")?
        .to_owned();
    let notified = until(
        "the notification in the timeline",
        || entries(alice, room, "notified"),
        |notified| !notified.is_empty(),
    )
    .await?;
    assert_eq!(notified[0]["person"], bob.user_id.as_str());
    assert_eq!(notified[0]["channel"], "email");
    assert_eq!(
        smtp.mails()?.len(),
        1,
        "Carol has no address; Bob is mailed once"
    );

    // Bob, only invited, follows the link: a page that says what it acknowledges, then does.
    let browser = Browser::start().await?;
    browser.client.goto(&link).await?;
    browser.find("#acknowledge").await?;
    let text = browser.text().await?;
    assert!(
        text.contains("Payments failing") && text.contains(bob.user_id.as_str()),
        "{text}"
    );
    browser.screenshot("ack-link").await?;
    browser.find("#acknowledge").await?.click().await?;
    browser.find("p.done").await?;
    browser.screenshot("ack-link-done").await?;
    let said = alice
        .wait_for_event(room, "the acknowledgement from the link", |event| {
            body(event).contains("escalation **mail** stopped")
        })
        .await
        .with_context(|| desk.bot.log())?;
    assert!(
        body(&said).contains("(from an acknowledge link in a notification, by"),
        "{}",
        body(&said)
    );
    let ended = until(
        "the stop in the timeline",
        || entries(alice, room, "escalation_ended"),
        |ended| !ended.is_empty(),
    )
    .await?;
    assert_eq!(ended[0]["by"], bob.user_id.as_str());

    // Followed again, the link says what it did and does nothing more.
    browser.client.goto(&link).await?;
    browser.find("section.card").await?;
    let again = browser.text().await?;
    assert!(again.contains("Already acknowledged"), "{again}");
    browser.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_server_that_refuses_is_reported_and_the_policy_goes_on() -> Result<()> {
    let hs = &servers().first;
    let bob = TestUser::register(hs, "bob").await?;
    let carol = TestUser::register(hs, "carol").await?;
    // Nothing listens there.
    let closed = brigade_tests::synapse::free_port(std::net::Ipv4Addr::LOCALHOST)?;
    // Level 1 waits long enough for a retry (5 s after the first failure) before level 2.
    let desk = mailing_desk(&bob, &carol, &format!("smtp://127.0.0.1:{closed}"), "15s").await?;
    let alice = &desk.alice;
    let incident = desk.declare("Payments failing").await?;
    let room = &incident.room;
    desk.command(alice, room, "!inc page mail", "✅").await?;
    let report = alice
        .wait_for_event(room, "the failed mail reported", |event| {
            body(event).starts_with("📧 The email to")
        })
        .await
        .with_context(|| desk.bot.log())?;
    assert!(
        body(&report).contains(&bob.name) && body(&report).contains("the escalation goes on"),
        "{}",
        body(&report)
    );
    eventually("a second try", || {
        desk.bot.log().matches("a notification failed").count() >= 2
    })
    .await
    .with_context(|| desk.bot.log())?;
    alice
        .wait_for_event(room, "level 2 regardless", |event| {
            body(event).contains("(Escalation **mail**, level 2 of 2")
        })
        .await
        .with_context(|| desk.bot.log())?;
    let reports = desk
        .bot_posts(alice, room)
        .iter()
        .filter(|post| body(post).starts_with("📧"))
        .count();
    assert_eq!(reports, 1, "reported once, though retried");
    Ok(())
}

/// A direct message between `user` and the bot.
pub(crate) async fn direct(
    user: &TestUser,
    bot: &matrix_sdk::ruma::OwnedUserId,
) -> Result<matrix_sdk::ruma::OwnedRoomId> {
    let room = user.create_room("Brigade", &[bot]).await?;
    user.wait_for_membership(&room, bot, "join").await?;
    Ok(room)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_person_sets_their_own_address_or_turns_mail_off_in_a_direct_message() -> Result<()> {
    let hs = &servers().first;
    let smtp = Smtp::start().await?;
    let bob = TestUser::register(hs, "bob").await?;
    let carol = TestUser::register(hs, "carol").await?;
    // The configuration has Bob's address and not Carol's.
    let desk = mailing_desk(&bob, &carol, &smtp.url(), "1h").await?;
    let alice = &desk.alice;
    let bot_id = matrix_sdk::ruma::OwnedUserId::try_from(desk.bot.user_id.as_str())?;

    // Not in a shared room, and not a malformed address.
    let refused = desk
        .command(
            alice,
            &desk.triage,
            "!inc notify email alice@example.org",
            "❓",
        )
        .await?;
    assert!(refused.contains("works in a direct message"), "{refused}");
    let carols = direct(&carol, &bot_id).await?;
    let refused = desk
        .command(&carol, &carols, "!inc notify email carol", "❓")
        .await?;
    assert!(refused.contains("is not an email address"), "{refused}");

    let answer = desk
        .command(&carol, &carols, "!inc notify email carol@example.org", "✅")
        .await?;
    assert!(answer.contains("email to carol@example.org"), "{answer}");
    let bobs = direct(&bob, &bot_id).await?;
    let answer = desk.command(&bob, &bobs, "!inc notify off", "✅").await?;
    assert!(answer.contains("Matrix only"), "{answer}");
    let answer = desk.command(&bob, &bobs, "!inc notify", "✅").await?;
    assert!(answer.contains("Matrix only"), "{answer}");

    // Paged, unacknowledged: Carol is mailed where she said, Bob not at all.
    let incident = desk.declare("Payments failing").await?;
    desk.command(alice, &incident.room, "!inc page mail", "✅")
        .await?;
    smtp.wait_for_mail("Carol's notification", |mail| {
        mail.to == ["carol@example.org"]
    })
    .await
    .with_context(|| desk.bot.log())?;
    // The notification's entry in the timeline is the barrier: Bob's would have come with it.
    until(
        "Carol's notification in the timeline",
        || entries(alice, &incident.room, "notified"),
        |notified| !notified.is_empty(),
    )
    .await?;
    let to: Vec<Vec<String>> = smtp.mails()?.into_iter().map(|mail| mail.to).collect();
    assert_eq!(to, [["carol@example.org"]], "Bob turned mail off");
    Ok(())
}
