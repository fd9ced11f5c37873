//! End-to-end: a private security incident in an end-to-end encrypted room. The declarer is a
//! matrix-sdk client with encryption, as Element is; the homeserver's database is searched for
//! what was said. Real Synapse, two homeservers.

use std::path::Path;

use anyhow::{ensure, Context, Result};
use brigade_tests::{
    client::{body, is_reaction, is_thread_reply, TestUser},
    desk::{eventually, incident_state, name, summary, topic, until, Desk},
    git::Remote,
    proxy::ToDeviceProxy,
    servers::shared as servers,
    synapse::random_string,
};
use matrix_sdk::ruma::{
    api::error::ErrorKind,
    events::room::{EncryptedFile, MediaSource},
    OwnedRoomId, RoomId,
};

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

/// The title's words, none of which may show outside the encrypted messages.
const TITLE: &str = "Leaked signing key on buildhost";

/// Whether `text` holds any word of [`TITLE`].
fn shows_title(text: &str) -> bool {
    ["Leaked", "signing", "buildhost"]
        .iter()
        .any(|word| text.contains(word))
}

/// Whether the last event `user` saw of `room` with `id` arrived encrypted: matrix-sdk keeps
/// what the homeserver sent beside the decrypted event, so the timeline JSON has the clear type
/// while the homeserver only ever had `m.room.encrypted`.
async fn sent_encrypted(user: &TestUser, room: &RoomId, id: &str) -> Result<bool> {
    let event = user.get(&format!("v3/rooms/{room}/event/{id}")).await?;
    Ok(event["type"] == "m.room.encrypted" && event["content"]["ciphertext"].is_string())
}

/// The content of a file message's media, as `user`'s client downloads (and decrypts) it.
async fn answered(desk: &Desk, room: &RoomId, command: &str) -> Result<String> {
    desk.command(&desk.alice, room, command, "✅").await
}

/// Declares the private incident of [`TITLE`] (security is private by default) and joins it;
/// its room and its number (`INC-N`).
async fn declare_private(desk: &Desk) -> Result<(OwnedRoomId, String)> {
    let incident = desk
        .declare(&format!("{TITLE} --type security --sev 1"))
        .await?;
    let number = name(&desk.alice, &incident.room)
        .await?
        .split(' ')
        .nth(1)
        .context("no number in the name")?
        .to_owned();
    Ok((incident.room, number))
}

/// `!inc private` in the open incident `open`: the companion private room, joined, and its
/// alias.
async fn move_to_private(desk: &Desk, open: &RoomId) -> Result<(OwnedRoomId, String)> {
    let alice = &desk.alice;
    let moved = answered(desk, open, "!inc private").await?;
    let companion_alias = moved
        .split(['(', ')'])
        .find(|part| part.starts_with("#inc-"))
        .with_context(|| format!("no room in the answer: {moved}"))?
        .to_owned();
    ensure!(
        !companion_alias.contains("slow"),
        "alias: {companion_alias}"
    );
    let companion = alice.join(&companion_alias).await?;
    ensure!(alice
        .state(&companion, "m.room.encryption", "")
        .await?
        .is_some());
    let (_, companion_summary) = summary(alice, &companion).await?;
    ensure!(
        companion_summary.contains("Slow dashboards"),
        "companion summary: {companion_summary}"
    );
    Ok((companion, companion_alias))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_incident_room_is_encrypted_unfederated_invitation_only_and_shows_no_title(
) -> Result<()> {
    let desk = Desk::new(bot_binary(), "").await?;
    let alice = &desk.alice;
    // `security` is private by default; `--private` makes any type private.
    let incident = desk
        .declare(&format!("{TITLE} --type security --sev 1"))
        .await?;
    let room: OwnedRoomId = incident.room.clone();
    ensure!(
        !incident.alias.contains("leaked"),
        "the alias shows the title: {}",
        incident.alias
    );

    // The room: encrypted, unfederated, invitation only, members see only what follows their
    // join, and the commander alone invites.
    let encryption = alice
        .state(&room, "m.room.encryption", "")
        .await?
        .context("no m.room.encryption")?;
    ensure!(encryption["algorithm"] == "m.megolm.v1.aes-sha2");
    let create = alice
        .state(&room, "m.room.create", "")
        .await?
        .context("no m.room.create")?;
    ensure!(create["m.federate"] == false, "federated: {create}");
    let rules = alice.state(&room, "m.room.join_rules", "").await?;
    ensure!(rules.is_some_and(|rules| rules["join_rule"] == "invite"));
    let visibility = alice.state(&room, "m.room.history_visibility", "").await?;
    ensure!(visibility.is_some_and(|visibility| visibility["history_visibility"] == "joined"));
    let levels = alice
        .state(&room, "m.room.power_levels", "")
        .await?
        .context("no power levels")?;
    ensure!(levels["invite"] == 100, "invite level: {levels}");
    let parent = alice
        .state(&desk.space, "m.space.child", room.as_str())
        .await?;
    ensure!(
        parent.is_none_or(|child| child.as_object().is_none_or(|child| child.is_empty())),
        "the private room is listed in the space"
    );

    // The pinned summary holds the title, and arrived encrypted.
    let (summary_id, summary_text) = summary(alice, &room).await?;
    ensure!(summary_text.contains(TITLE), "summary: {summary_text}");
    ensure!(sent_encrypted(alice, &room, &summary_id).await?);

    // Room state is clear text: it holds no title.
    let shown = [
        name(alice, &room).await?,
        topic(alice, &room).await?,
        incident_state(alice, &room).await?.to_string(),
    ];
    for text in &shown {
        ensure!(!shows_title(text), "room state shows the title: {text}");
    }
    ensure!(shown[0].starts_with("🔒 INC-"), "name: {}", shown[0]);
    let number = shown[0]
        .split(' ')
        .nth(1)
        .context("no number in the name")?
        .to_owned();

    // The headline says only that a private incident was declared.
    let headline = until(
        "the private headline",
        || async {
            Ok(desk
                .bot_posts(alice, &desk.announcements)
                .into_iter()
                .map(|event| body(&event).to_owned())
                .find(|text| text.contains(&format!("{number} declared"))))
        },
        Option::is_some,
    )
    .await?
    .unwrap_or_default();
    ensure!(
        headline.ends_with(&format!("Private incident {number} declared (SEV1)")),
        "headline: {headline}"
    );
    ensure!(!shows_title(&headline) && !headline.contains("#inc-") && !headline.contains('@'));

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_said_in_a_private_incident_is_encrypted_and_never_in_the_homeservers_database(
) -> Result<()> {
    let desk = Desk::new(bot_binary(), "").await?;
    let hs = &servers().first;
    let alice = &desk.alice;
    let (room, _) = declare_private(&desk).await?;
    // Commands, answers and 📌, all encrypted both ways.
    let phrase = format!("canary-{}", random_string(12));
    let answer = answered(
        &desk,
        &room,
        &format!("!inc update Rotated the key, {phrase}"),
    )
    .await?;
    ensure!(answer.contains("Update"), "update answer: {answer}");
    let said = alice
        .send_text(&room, &format!("The attacker used {phrase}-two"))
        .await?;
    alice.react(&room, said.as_str(), "📌").await?;
    alice
        .wait_for_event(&room, "the bot's 📌", |event| {
            is_reaction(event, desk.bot_id(), said.as_str(), "📌")
        })
        .await
        .with_context(|| desk.bot.log())?;
    let timeline = answered(&desk, &room, "!inc timeline").await?;
    ensure!(
        timeline.contains(&format!("{phrase}-two")),
        "timeline: {timeline}"
    );
    ensure!(sent_encrypted(alice, &room, said.as_str()).await?);

    // The bot's device is verified by its owner: signed by the bot's cross-signing identity.
    let devices = alice
        .client
        .encryption()
        .get_user_devices(desk.bot_id())
        .await?;
    let bot_devices: Vec<_> = devices.devices().collect();
    ensure!(!bot_devices.is_empty(), "no device of the bot");
    ensure!(
        bot_devices
            .iter()
            .all(|device| device.is_cross_signed_by_owner()),
        "the bot's device is not signed by its own identity"
    );

    // The homeserver never had the clear text of what was said in the private room, while it
    // has what is said in an open incident.
    ensure!(
        !hs.database_contains(&phrase)?,
        "the homeserver's database holds a message of the private room"
    );
    let open = desk.declare("Slow dashboards").await?;
    let open_phrase = format!("canary-{}", random_string(12));
    alice.send_text(&open.room, &open_phrase).await?;
    until(
        "the open room's message in the database",
        || async { hs.database_contains(&open_phrase) },
        |found| *found,
    )
    .await?;

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_incident_is_listed_to_its_members_only_and_fenced() -> Result<()> {
    let desk = Desk::new(bot_binary(), "").await?;
    let (hs, partner) = (&servers().first, &servers().second);
    let alice = &desk.alice;
    let (room, number) = declare_private(&desk).await?;
    // `!inc list`: listed to its members without its title, and not at all to others.
    let listed = answered(&desk, &desk.triage, "!inc list").await?;
    ensure!(
        listed.contains(&number) && !shows_title(&listed),
        "list: {listed}"
    );
    let bob = TestUser::register(hs, "bob").await?;
    bob.join(&format!(
        "#{}-triage:{}",
        desk.bot.rooms_prefix, hs.server_name
    ))
    .await?;
    let listed = desk.command(&bob, &desk.triage, "!inc list", "✅").await?;
    ensure!(
        !listed.contains(&number),
        "listed to a non-member: {listed}"
    );

    // Fenced: a user not invited cannot join; a user of another homeserver can neither be
    // invited nor join.
    let joined = bob.client.join_room_by_id(&room).await;
    ensure!(joined.is_err(), "an uninvited user joined");
    let carol = TestUser::register(partner, "carol").await?;
    let invited = alice
        .client
        .get_room(&room)
        .context("alice's room")?
        .invite_user_by_id(&carol.user_id)
        .await;
    let refusal = invited.err().context("a remote user was invited")?;
    ensure!(
        refusal
            .as_client_api_error()
            .is_some_and(|error| error.status_code.as_u16() == 403),
        "inviting a remote user: {refusal}"
    );
    let via = [hs.server_name.as_str().try_into()?];
    ensure!(
        carol
            .client
            .join_room_by_id_or_alias((&*room).into(), &via)
            .await
            .is_err(),
        "a remote user joined"
    );

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_incident_goes_on_in_a_private_room_once() -> Result<()> {
    let desk = Desk::new(bot_binary(), "").await?;
    let alice = &desk.alice;
    let open = desk.declare("Slow dashboards").await?;
    // The companion is encrypted and holds the title (checked on the way in).
    let (_companion, companion_alias) = move_to_private(&desk, &open.room).await?;
    // `!inc private`: the open incident goes on in a new private room; the open room keeps a
    // pointer, and a second move is refused.
    let pointer = until(
        "the pointer in the open room's summary",
        || async { Ok(summary(alice, &open.room).await?.1) },
        |text| text.contains("Continued in a private room"),
    )
    .await?;
    ensure!(pointer.contains(&companion_alias), "pointer: {pointer}");
    let again = desk
        .command(alice, &open.room, "!inc private", "❓")
        .await?;
    ensure!(again.contains("already continues"), "second move: {again}");

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_out_of_a_private_room_obeys_the_leak_guard_and_files_stay_readable(
) -> Result<()> {
    let desk = Desk::new(bot_binary(), "").await?;
    let hs = &servers().first;
    let alice = &desk.alice;
    let (room, _) = declare_private(&desk).await?;
    let open = desk.declare("Slow dashboards").await?;
    let (companion, companion_alias) = move_to_private(&desk, &open.room).await?;
    let phrase = format!("canary-{}", random_string(12));
    // Forwarding out of a private room obeys the leak guard: to an open room it is refused;
    // to another private room the copy arrives, its encrypted file readable there.
    let triage_alias = format!("#{}-triage:{}", desk.bot.rooms_prefix, hs.server_name);
    answered(&desk, &room, &format!("!inc forward 📣 {triage_alias}")).await?;
    answered(&desk, &room, &format!("!inc forward 🔐 {companion_alias}")).await?;
    let secret = alice.send_text(&room, &format!("{phrase}-three")).await?;
    alice.react(&room, secret.as_str(), "📣").await?;
    let reason = desk.refusal(alice, &room, secret.as_str()).await?;
    ensure!(reason.contains("encrypted"), "leak guard reason: {reason}");
    let evidence = format!("evidence {}", random_string(16));
    let file = alice
        .send_file(&room, "evidence.txt", evidence.as_bytes())
        .await?;
    alice.react(&room, file.as_str(), "🔐").await?;
    let copy = alice
        .wait_for_event(&companion, "the forwarded file", |event| {
            event["sender"] == desk.bot_id().as_str() && event["content"]["msgtype"] == "m.file"
        })
        .await
        .with_context(|| desk.bot.log())?;
    let encrypted: EncryptedFile = serde_json::from_value(copy["content"]["file"].clone())
        .with_context(|| format!("the copy's file is not encrypted: {copy}"))?;
    let data = alice
        .download(MediaSource::Encrypted(Box::new(encrypted)))
        .await?;
    ensure!(
        data == evidence.as_bytes(),
        "the forwarded file reads otherwise"
    );
    // From the open room into the private one, a file arrives readable too.
    answered(
        &desk,
        &open.room,
        &format!("!inc forward 🔐 {companion_alias}"),
    )
    .await?;
    let notes = format!("notes {}", random_string(16));
    let file = alice
        .send_file(&open.room, "notes.txt", notes.as_bytes())
        .await?;
    alice.react(&open.room, file.as_str(), "🔐").await?;
    let copy = alice
        .wait_for_event(&companion, "the file from the open room", |event| {
            event["sender"] == desk.bot_id().as_str()
                && event["content"]["msgtype"] == "m.file"
                && event["content"]["body"] == "notes.txt"
        })
        .await
        .with_context(|| desk.bot.log())?;
    let url = copy["content"]["url"]
        .as_str()
        .with_context(|| format!("no media URL in the copy: {copy}"))?;
    let data = alice.download(MediaSource::Plain(url.into())).await?;
    ensure!(
        data == notes.as_bytes(),
        "the file from the open room reads otherwise"
    );
    ensure!(
        !desk
            .bot_posts(alice, &desk.triage)
            .iter()
            .any(|event| body(event).contains(&phrase)),
        "the private message reached triage"
    );

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_the_bot_still_works_in_the_encrypted_room_and_closes_it_there(
) -> Result<()> {
    // The postmortem repository gets open incidents' reports, never a private one's.
    let docs = Remote::new("docs.git", "README.md", "# Docs\n")?;
    let config = format!(
        "[postmortems]\ngit = \"{}\"\n[calls]\njitsi_domain = \"meet.example.org\"\n",
        docs.path.display()
    );
    let mut desk = Desk::new(bot_binary(), &config).await?;
    let (room, number) = declare_private(&desk).await?;
    // After a restart, the bot still decrypts what is said and answers in the encrypted room.
    desk.bot.kill()?;
    desk.bot.start().await?;
    let answer = answered(&desk, &room, "!inc status identified").await?;
    ensure!(answer.contains("identified"), "status answer: {answer}");
    // Its call's widget, in the room's clear state, names no title.
    answered(&desk, &room, "!inc call").await?;
    let widget = desk
        .alice
        .state(&room, "im.vector.modular.widgets", "brigade-call")
        .await?
        .context("the call's widget")?;
    // `inc-<number>-<ten hex digits>`: nothing else.
    let conference = widget["data"]["conferenceId"].as_str().unwrap_or_default();
    let digits = conference
        .strip_prefix(&format!("{}-", number.to_lowercase()))
        .unwrap_or_default();
    ensure!(
        digits.len() == 10 && digits.chars().all(|c| c.is_ascii_hexdigit()),
        "{widget}"
    );
    let lower = widget.to_string().to_lowercase();
    // Its transcript is uploaded encrypted, readable in the room only.
    answered(&desk, &room, "!inc transcript").await?;
    let bot = desk.bot_id().to_owned();
    let posted = desk
        .alice
        .wait_for_event(&room, "the transcript", |event| {
            event["sender"] == bot.as_str() && body(event) == format!("{number}-transcript.md")
        })
        .await?;
    ensure!(posted["content"]["url"].is_null(), "{posted}");
    let encrypted: EncryptedFile = serde_json::from_value(posted["content"]["file"].clone())
        .with_context(|| format!("the transcript is not encrypted: {posted}"))?;
    let transcript = String::from_utf8(
        desk.alice
            .download(MediaSource::Encrypted(Box::new(encrypted)))
            .await?,
    )?;
    ensure!(transcript.contains(TITLE), "read in the room: {transcript}");
    ensure!(
        !["leaked", "signing", "buildhost"]
            .iter()
            .any(|word| lower.contains(word)),
        "{widget}"
    );
    let answer = answered(&desk, &room, "!inc status resolved").await?;
    ensure!(answer.contains("resolved"), "status answer: {answer}");
    let closed = answered(&desk, &room, "!inc close").await?;
    ensure!(closed.contains("here only"), "close answer: {closed}");
    let state = until(
        "the closed state",
        || incident_state(&desk.alice, &room),
        |state| state["status"] == "closed",
    )
    .await?;
    ensure!(!shows_title(&state.to_string()), "closed state: {state}");

    // An open incident closed after it is committed; the private one never was.
    let open = desk.declare("Slow builds --sev 3").await?;
    answered(&desk, &open.room, "!inc status resolved").await?;
    let closed = answered(&desk, &open.room, "!inc close").await?;
    ensure!(closed.contains("postmortem repository"), "{closed}");
    let files = until(
        "the open incident's postmortem committed",
        || async { docs.git(&["ls-tree", "-r", "--name-only", "main"]) },
        |files| files.contains("-slow-builds.md"),
    )
    .await?;
    ensure!(
        files.lines().count() == 2,
        "the README and one postmortem: {files}"
    );
    let history = docs.git(&["log", "-p", "main"])?;
    ensure!(!shows_title(&history), "{history}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_incident_is_declared_even_when_its_aliases_are_all_taken_first() -> Result<()> {
    let hs = &servers().first;
    let desk = Desk::new(bot_binary(), "").await?;
    // Mallory takes every predictable alias of the next incident (the desk's first: INC-1).
    let mallory = TestUser::register(hs, "mallory").await?;
    let today = jiff::Timestamp::now().strftime("%Y%m%d").to_string();
    for attempt in 1..=10 {
        let localpart = match attempt {
            1 => format!("inc-{today}-1"),
            n => format!("inc-{today}-1-{n}"),
        };
        let mut request = matrix_sdk::ruma::api::client::room::create_room::v3::Request::new();
        request.room_alias_name = Some(localpart);
        match mallory.client.create_room(request).await {
            Ok(_) => {}
            // Another test's bot on this homeserver holds it: taken all the same.
            Err(error) if error.client_api_error_kind() == Some(&ErrorKind::RoomInUse) => {}
            Err(error) => return Err(error.into()),
        }
    }
    let answer = desk
        .command(
            &desk.alice,
            &desk.triage,
            &format!("!inc declare {TITLE} --type security --sev 1"),
            "✅",
        )
        .await?;
    let alias = answer
        .split(['[', ']'])
        .find(|part| part.starts_with("#inc-"))
        .with_context(|| format!("no alias in {answer}"))?;
    let suffix = alias
        .split(':')
        .next()
        .and_then(|localpart| localpart.strip_prefix(&format!("#inc-{today}-1-")))
        .with_context(|| format!("not INC-1's: {alias}"))?;
    ensure!(
        suffix.len() == 8 && suffix.chars().all(|c| c.is_ascii_alphanumeric()),
        "the unguessable alias: {alias}"
    );
    let room = desk.alice.join(alias).await?;
    let state = incident_state(&desk.alice, &room).await?;
    ensure!(state["number"] == 1 && state["private"] == true, "{state}");
    Ok(())
}

/// The bot points at a proxy that can hold its to-device messages (room keys) back.
async fn bot_behind_a_key_holding_proxy(desk: &mut Desk) -> Result<ToDeviceProxy> {
    let proxy = ToDeviceProxy::start(&servers().first.url).await?;
    desk.bot.terminate().await?;
    desk.bot.use_homeserver_url(&proxy.url)?;
    desk.bot.start().await?;
    Ok(proxy)
}

/// A command whose room key reaches the bot late, after a restart even, is held, then run
/// once the key comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_whose_room_key_comes_late_is_run_once_when_it_comes() -> Result<()> {
    let mut desk = Desk::new(bot_binary(), "").await?;
    let (room, _) = declare_private(&desk).await?;
    let proxy = bot_behind_a_key_holding_proxy(&mut desk).await?;

    proxy.hold();
    let command = desk
        .alice
        .send_text(&room, "!inc update Rotated the signing key")
        .await?
        .to_string();
    eventually("the command held for its key", || {
        desk.bot
            .last_log()
            .contains("held until its room key arrives")
    })
    .await
    .with_context(|| desk.bot.log())?;
    ensure!(proxy.held_count() > 0, "the room key was held back");
    // Past the checkpoint and across a restart, it is still held.
    let (_, metrics) = desk.bot.get("/metrics").await?;
    ensure!(
        metrics.contains("brigade_undecryptable_events_held 1"),
        "{metrics}"
    );
    desk.bot.terminate().await?;
    desk.bot.start().await?;
    ensure!(
        desk.bot
            .last_log()
            .contains("events held for their room keys before the restart"),
        "{}",
        desk.bot.last_log()
    );

    // Released, the key comes with the next sync that has something new.
    proxy.release();
    desk.alice.send_text(&desk.triage, "anyone around?").await?;
    let bot = desk.bot_id().to_owned();
    desk.alice
        .wait_for_event(&room, "✅ on the late command", |event| {
            is_reaction(event, &bot, &command, "✅")
        })
        .await
        .with_context(|| desk.bot.log())?;
    desk.alice
        .wait_for_event(&room, "the answer to the late command", |event| {
            is_thread_reply(event, &bot, &command)
        })
        .await?;
    let (_, metrics) = desk.bot.get("/metrics").await?;
    ensure!(
        metrics.contains(r#"brigade_undecryptable_events_total{outcome="decrypted"} 1"#)
            && metrics.contains("brigade_undecryptable_events_held 0"),
        "{metrics}"
    );
    // Once: a second update in the room's timeline would be a second run.
    let answer = answered(&desk, &room, "!inc timeline").await?;
    ensure!(
        answer.matches("Rotated the signing key").count() == 1,
        "timeline: {answer}"
    );
    Ok(())
}

/// A command whose room key never comes is given up once older than `commands.max_age`, with
/// a log line and a count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_whose_room_key_never_comes_is_given_up_and_counted() -> Result<()> {
    let mut desk = Desk::new(bot_binary(), "[commands]\nmax_age = \"5s\"").await?;
    let (room, _) = declare_private(&desk).await?;
    let proxy = bot_behind_a_key_holding_proxy(&mut desk).await?;
    proxy.hold();
    let command = desk
        .alice
        .send_text(&room, "!inc update Never seen")
        .await?
        .to_string();
    eventually("the command given up", || {
        desk.bot.last_log().contains("an event was never decrypted")
    })
    .await
    .with_context(|| desk.bot.log())?;
    ensure!(
        desk.bot.last_log().contains(&command),
        "{}",
        desk.bot.last_log()
    );
    let (_, metrics) = desk.bot.get("/metrics").await?;
    ensure!(
        metrics.contains(r#"brigade_undecryptable_events_total{outcome="never_decrypted"} 1"#)
            && metrics.contains("brigade_undecryptable_events_held 0"),
        "{metrics}"
    );
    Ok(())
}
