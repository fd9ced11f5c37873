//! End-to-end: who is on call, asked by command and in plain words in a direct message; paging
//! the on-call; keyword routing to specialists. Real Synapse, people as matrix-sdk clients.

use std::{path::Path, time::SystemTime};

use anyhow::{Context, Result};
use brigade_bot::oncall::timestamp;
use brigade_tests::{
    client::{body, TestUser},
    desk::{incident_state, until, Desk},
    servers::shared as servers,
};
use matrix_sdk::ruma::{OwnedUserId, RoomId};

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

/// An RFC 3339 time `hours` from now.
fn hours_from_now(hours: i64) -> Result<String> {
    seconds_from_now(hours * 3600)
}

/// An RFC 3339 time `seconds` from now.
fn seconds_from_now(seconds: i64) -> Result<String> {
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH)?;
    let millis = i64::try_from(now.as_millis())? + seconds * 1000;
    Ok(timestamp(u64::try_from(millis)?).to_string())
}

/// The bot's suggestions to page someone, in `room`.
fn suggestions(desk: &Desk, user: &TestUser, room: &RoomId) -> usize {
    desk.bot_posts(user, room)
        .iter()
        .filter(|post| body(post).starts_with("💡"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_on_call_is_named_paged_and_suggested_by_keyword() -> Result<()> {
    let hs = &servers().first;
    let dan = TestUser::register(hs, "dan").await?;
    let dora = TestUser::register(hs, "dora").await?;
    let olga = TestUser::register(hs, "olga").await?;
    let bob = TestUser::register(hs, "bob").await?;
    // The web team keeps its rota in an iCalendar file: Dora's shift is now.
    let ical = tempfile::NamedTempFile::new()?;
    let stamp = |hours: i64| -> Result<String> {
        let at: jiff::Timestamp = hours_from_now(hours)?.parse()?;
        Ok(at.strftime("%Y%m%dT%H%M%SZ").to_string())
    };
    std::fs::write(
        ical.path(),
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//brigade tests//EN\r\n\
             BEGIN:VEVENT\r\nUID:web-1\r\nDTSTAMP:{now}\r\nSUMMARY:Web on call: {dora}\r\n\
             DTSTART:{from}\r\nDTEND:{until}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            now = stamp(0)?,
            dora = dora.user_id,
            from = stamp(-1)?,
            until = stamp(1)?,
        ),
    )?;
    // Dan's shift began an hour ago; Olga stands in for him for two hours from half an hour ago.
    let config = format!(
        "[[groups]]\nname = \"dba\"\nmembers = [\"{bob}\"]\n\
         [[oncall]]\nteam = \"db\"\nmembers = [\"{dan}\", \"{dora}\"]\nstart = \"{start}\"\n\
         shift_hours = 168\ntimezone = \"Europe/Paris\"\n\
         [[oncall.overrides]]\nwho = \"{olga}\"\nfrom = \"{from}\"\nuntil = \"{until}\"\n\
         [[oncall]]\nteam = \"web\"\nical = \"{ical}\"\n\
         [[routes]]\nkeywords = [\"postgres\"]\ngroup = \"dba\"\n\
         [[routes]]\nkeywords = [\"database\"]\noncall = \"db\"\n",
        bob = bob.user_id,
        dan = dan.user_id,
        dora = dora.user_id,
        olga = olga.user_id,
        start = hours_from_now(-1)?,
        from = hours_from_now(0)?,
        until = hours_from_now(2)?,
        ical = ical.path().display(),
    );
    let desk = Desk::new(bot_binary(), &config).await?;
    let alice = &desk.alice;

    // `!inc oncall db`: the override, until when, and who is next.
    let answer = desk
        .command(alice, &desk.triage, "!inc oncall db", "✅")
        .await?;
    assert!(
        answer.contains(&format!("**db**: {} (override) until", olga.name))
            && answer.contains(&format!("then {}", dan.name)),
        "{answer}"
    );
    let everyone = desk
        .command(alice, &desk.triage, "!inc oncall", "✅")
        .await?;
    assert!(
        everyone.contains("**db**") && everyone.contains(&format!("**web**: {}", dora.name)),
        "{everyone}"
    );
    let refused = desk
        .command(alice, &desk.triage, "!inc oncall dba", "❓")
        .await?;
    assert!(
        refused.contains("no on-call team `dba`: teams are db, web"),
        "{refused}"
    );

    // The same question in plain words, in a direct message with the bot.
    let bot_id = OwnedUserId::try_from(desk.bot.user_id.as_str())?;
    let direct = alice.create_room("Brigade", &[&bot_id]).await?;
    alice.wait_for_membership(&direct, &bot_id, "join").await?;
    alice
        .send_text(&direct, "Who is on call for database?")
        .await?;
    let reply = alice
        .wait_for_event(&direct, "the answer in the DM", |event| {
            event["sender"] == bot_id.as_str() && body(event).contains("**db**")
        })
        .await
        .with_context(|| desk.bot.log())?;
    assert!(
        body(&reply).contains(&format!("{} (override)", olga.name))
            && !body(&reply).contains("**web**"),
        "the database's team alone: {}",
        body(&reply)
    );
    alice.send_text(&direct, "qui est d'astreinte ?").await?;
    alice
        .wait_for_event(&direct, "the answer in French", |event| {
            event["sender"] == bot_id.as_str()
                && event["event_id"] != reply["event_id"]
                && body(event).contains("**web**")
        })
        .await
        .with_context(|| desk.bot.log())?;

    // Keyword routing: one suggestion per incident and route, however often the word comes.
    let incident = desk.declare("Replica lag --sev 2").await?;
    let room = &incident.room;
    alice
        .send_text(room, "looks like Postgres is behind")
        .await?;
    alice
        .wait_for_event(room, "the suggestion", |event| {
            body(event).starts_with("💡") && body(event).contains("`!inc page dba`")
        })
        .await
        .with_context(|| desk.bot.log())?;
    alice
        .send_text(room, "postgres again, still Postgres")
        .await?;
    // A command after it is answered after it: the bot has seen the second message.
    desk.command(alice, room, "!inc status identified", "✅")
        .await?;
    assert_eq!(suggestions(&desk, alice, room), 1);

    // Paging the on-call invites whoever it is now, and the timeline records it.
    let refused = desk
        .command(alice, room, "!inc page oncall:nope", "❓")
        .await?;
    assert!(refused.contains("no on-call team `nope`"), "{refused}");
    let answer = desk
        .command(alice, room, "!inc page oncall:db", "✅")
        .await?;
    assert!(
        answer.contains(&format!("{} (on call for db)", olga.name)),
        "{answer}"
    );
    alice
        .wait_for_membership(room, &olga.user_id, "invite")
        .await?;
    until(
        "the page in the timeline",
        || incident_state(alice, room),
        |state| {
            state["timeline"].as_array().is_some_and(|timeline| {
                timeline.iter().any(|entry| {
                    entry["kind"] == "paged"
                        && entry["people"].as_array().is_some_and(|people| {
                            people.iter().any(|who| who == olga.user_id.as_str())
                        })
                })
            })
        },
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_title_that_calls_for_specialists_pages_them_when_the_route_says_so() -> Result<()> {
    let hs = &servers().first;
    let bob = TestUser::register(hs, "bob").await?;
    let config = format!(
        "[[groups]]\nname = \"dba\"\nmembers = [\"{}\"]\n\
         [[routes]]\nkeywords = [\"postgres\"]\ngroup = \"dba\"\npage = true\n",
        bob.user_id
    );
    let desk = Desk::new(bot_binary(), &config).await?;
    let incident = desk.declare("Postgres failover").await?;
    let room = &incident.room;
    desk.alice
        .wait_for_membership(room, &bob.user_id, "invite")
        .await
        .with_context(|| desk.bot.log())?;
    desk.alice.send_text(room, "postgres is back").await?;
    desk.command(&desk.alice, room, "!inc status monitoring", "✅")
        .await?;
    let pages = desk
        .bot_posts(&desk.alice, room)
        .iter()
        .filter(|post| body(post).starts_with("📟"))
        .count();
    assert_eq!(pages, 1, "paged once");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handoff_is_announced_once_in_the_teams_room() -> Result<()> {
    let hs = &servers().first;
    let dan = TestUser::register(hs, "dan").await?;
    let olga = TestUser::register(hs, "olga").await?;
    // Olga's override ends a few seconds after the bot starts: Dan's shift resumes.
    let ends = 15;
    let prefix_config = |prefix: &str| -> Result<String> {
        Ok(format!(
            "[[oncall]]\nteam = \"db\"\nmembers = [\"{dan}\"]\nstart = \"{start}\"\n\
             handoff_room = \"#{prefix}-triage:{server}\"\n\
             [[oncall.overrides]]\nwho = \"{olga}\"\nfrom = \"{from}\"\nuntil = \"{until}\"\n",
            dan = dan.user_id,
            olga = olga.user_id,
            server = hs.server_name,
            start = hours_from_now(-1)?,
            from = hours_from_now(-1)?,
            until = seconds_from_now(ends)?,
        ))
    };
    // The triage alias is only known once the bot exists; the harness names it after the bot.
    let mut desk = Desk::new(bot_binary(), "").await?;
    desk.bot.terminate().await?;
    let config = std::fs::read_to_string(&desk.bot.config)?;
    std::fs::write(
        &desk.bot.config,
        format!("{config}\n{}", prefix_config(&desk.bot.rooms_prefix)?),
    )?;
    desk.bot.start().await?;
    let bot_id = desk.bot_id().to_owned();
    let notice = desk
        .alice
        .wait_for_event(&desk.triage, "the handoff notice", |event| {
            event["sender"] == bot_id.as_str() && body(event).starts_with("📟 db:")
        })
        .await
        .with_context(|| desk.bot.log())?;
    assert!(
        body(&notice).contains(&format!("{} is on call now", dan.name))
            && body(&notice).contains(&format!("(after {})", olga.name)),
        "{}",
        body(&notice)
    );
    assert_eq!(
        notice["content"]["m.mentions"]["user_ids"][0],
        dan.user_id.as_str(),
        "Dan is notified"
    );
    // A command answered after a few more ticks: still one notice.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    desk.command(&desk.alice, &desk.triage, "!inc oncall", "✅")
        .await?;
    let notices = desk
        .bot_posts(&desk.alice, &desk.triage)
        .iter()
        .filter(|post| body(post).starts_with("📟 db:"))
        .count();
    assert_eq!(notices, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cover_taken_in_chat_puts_someone_on_call_for_pages_and_across_a_restart() -> Result<()> {
    let hs = &servers().first;
    let dan = TestUser::register(hs, "dan").await?;
    let dora = TestUser::register(hs, "dora").await?;
    let carol = TestUser::register(hs, "carol").await?;
    // Dan's shift of the db rotation began an hour ago.
    let config = format!(
        "[[oncall]]\nteam = \"db\"\nmembers = [\"{dan}\", \"{dora}\"]\nstart = \"{start}\"\nshift_hours = 168\n",
        dan = dan.user_id,
        dora = dora.user_id,
        start = hours_from_now(-1)?,
    );
    let mut desk = Desk::new(bot_binary(), &config).await?;
    let bot_id = OwnedUserId::try_from(desk.bot.user_id.as_str())?;
    let direct = dan.create_room("Brigade", &[&bot_id]).await?;
    dan.wait_for_membership(&direct, &bot_id, "join").await?;

    // Alice is not in the rotation: she cannot hand it over.
    let alice = &desk.alice;
    let refused = desk
        .command(
            alice,
            &desk.triage,
            &format!("!inc cover {} db", carol.user_id),
            "❓",
        )
        .await?;
    assert!(refused.contains("only the members of **db**"), "{refused}");
    let refused = desk
        .command(&dan, &direct, "!inc cover @carol for 30d", "❓")
        .await?;
    assert!(refused.contains("two weeks at most"), "{refused}");

    // Dan hands the next two hours to Carol, in a direct message; the team is the one he is
    // on call for.
    let answer = desk
        .command(
            &dan,
            &direct,
            &format!("!inc cover {} for 2h", carol.user_id),
            "✅",
        )
        .await?;
    assert!(
        answer.contains(&format!(
            "{} is on call for **db** instead of {} until",
            carol.name, dan.name
        )),
        "{answer}"
    );
    let answer = desk
        .command(alice, &desk.triage, "!inc oncall db", "✅")
        .await?;
    assert!(
        answer.contains(&format!("**db**: {} (override) until", carol.name))
            && answer.contains(&format!("then {}", dan.name)),
        "{answer}"
    );

    // A page of the team's on-call reaches Carol.
    let incident = desk.declare("Replica lag --sev 2").await?;
    let room = &incident.room;
    let answer = desk
        .command(alice, room, "!inc page oncall:db", "✅")
        .await?;
    assert!(
        answer.contains(&format!("{} (on call for db)", carol.name)),
        "{answer}"
    );
    alice
        .wait_for_membership(room, &carol.user_id, "invite")
        .await?;

    // The cover is kept: after a restart Carol is still on call.
    desk.bot.terminate().await?;
    desk.bot.start().await?;
    let answer = desk
        .command(&desk.alice, &desk.triage, "!inc oncall db", "✅")
        .await?;
    assert!(
        answer.contains(&format!("**db**: {} (override)", carol.name)),
        "{answer}"
    );
    Ok(())
}
