//! End-to-end: an incident shared with a partner organisation over federation. Three real
//! Synapse homeservers: ours (127.0.0.1), the partner's (127.0.0.2) and a stranger's
//! (127.0.0.3), whom the shared room's server ACL keeps out.

use std::path::Path;

use anyhow::{ensure, Context, Result};
use brigade_tests::{
    client::{body, is_reaction, TestUser},
    desk::{eventually, level, summary, until, Desk},
    servers::{shared as servers, third},
    synapse::random_string,
};
use matrix_sdk::ruma::{OwnedRoomId, RoomId, ServerName};

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

/// The shared room's ID, from the `matrix.to` link in an answer of `!inc share`.
fn shared_room(answer: &str) -> Result<OwnedRoomId> {
    let link = answer
        .split(['(', ')'])
        .find_map(|part| part.strip_prefix("https://matrix.to/#/!"))
        .with_context(|| format!("no shared room in: {answer}"))?;
    let id = format!("!{}", link.split('?').next().unwrap_or_default());
    Ok(RoomId::parse(id)?)
}

/// Waits for `text` from `user` in `room` as `reader` sees it.
async fn seen(reader: &TestUser, room: &RoomId, text: &str) -> Result<()> {
    reader
        .wait_for_event(room, text, |event| body(event).contains(text))
        .await?;
    Ok(())
}

/// A bot, an incident with an internal message flagged, shared with Carol of the partner's
/// server; Carol and Alice are in the shared room.
struct Shared {
    desk: Desk,
    carol: TestUser,
    incident: brigade_tests::desk::Incident,
    shared: OwnedRoomId,
}

async fn shared_incident() -> Result<Shared> {
    let partner = &servers().second;
    let desk = Desk::new(bot_binary(), "").await?;
    let alice = &desk.alice;
    let carol = TestUser::register(partner, "carol").await?;
    let incident = desk.declare("Payments API errors for Acme --sev 2").await?;
    let internal = alice
        .send_text(
            &incident.room,
            "internal note: the gateway config is ours to fix",
        )
        .await?;
    alice.react(&incident.room, internal.as_str(), "📌").await?;
    let answer = desk
        .command(
            alice,
            &incident.room,
            &format!("!inc share {} {}", partner.server_name, carol.user_id),
            "✅",
        )
        .await?;
    let shared = shared_room(&answer)?;

    carol.join(shared.as_str()).await?;
    alice.join(shared.as_str()).await?;
    Ok(Shared {
        desk,
        carol,
        incident,
        shared,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partners_standing_room_invites_its_contacts_fenced_by_an_acl() -> Result<()> {
    let (hs, partner) = (&servers().first, &servers().second);
    let dave = TestUser::register(partner, "dave").await?;
    let standing_alias = format!("partner-acme-{}", random_string(6).to_lowercase());
    let config = format!(
        "[[partners]]\nserver = \"{}\"\nname = \"Acme\"\ncontacts = [\"{}\"]\nalias = \"{standing_alias}\"\n",
        partner.server_name, dave.user_id
    );
    let desk = Desk::new(bot_binary(), &config).await?;
    // The standing room of [[partners]]: the contact is invited and joins over federation.
    let standing = dave
        .join(&format!("#{standing_alias}:{}", hs.server_name))
        .await
        .with_context(|| desk.bot.log())?;
    let acl = dave
        .state(&standing, "m.room.server_acl", "")
        .await?
        .context("no ACL in the standing room")?;
    ensure!(
        acl["allow"]
            .as_array()
            .is_some_and(|allow| allow.len() == 4),
        "standing ACL: {acl}"
    );

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_reads_the_shared_summary_and_flags_into_the_incident_timeline() -> Result<()> {
    let partner = &servers().second;
    let Shared {
        desk,
        carol,
        incident,
        shared,
    } = shared_incident().await?;
    let alice = &desk.alice;
    // The partner joins over federation and reads the pinned summary.
    let (_, pinned) = summary(&carol, &shared).await?;
    ensure!(
        pinned.contains("Payments API errors for Acme") && pinned.contains("shared between"),
        "shared summary: {pinned}"
    );
    ensure!(
        !pinned.contains("internal note"),
        "the shared summary leaks: {pinned}"
    );
    let name = carol
        .state(&shared, "m.room.name", "")
        .await?
        .context("no name")?;
    ensure!(
        name["name"]
            .as_str()
            .is_some_and(|name| name.starts_with("🤝 INC-") && name.contains(" · ")),
        "name: {name}"
    );
    // The incident room links the shared room.
    let (_, inside) = until(
        "the link in the incident's summary",
        || summary(alice, &incident.room),
        |(_, text)| text.contains("Shared with"),
    )
    .await?;
    ensure!(
        inside.contains(shared.as_str()),
        "internal summary: {inside}"
    );

    // The partner talks and 📌 a message: it goes to the incident's timeline, server named.
    let said = carol
        .send_text(&shared, "We see 502s from your gateway since 09:12")
        .await?;
    seen(alice, &shared, "We see 502s").await?;
    carol.react(&shared, said.as_str(), "📌").await?;
    carol
        .wait_for_event(&shared, "the bot's 📌", |event| {
            is_reaction(event, desk.bot_id(), said.as_str(), "📌")
        })
        .await
        .with_context(|| desk.bot.log())?;
    let timeline = desk
        .command(alice, &incident.room, "!inc timeline", "✅")
        .await?;
    ensure!(
        timeline.contains("We see 502s")
            && timeline.contains(&format!("🤝 {}", partner.server_name)),
        "incident timeline: {timeline}"
    );
    // In the shared room, `!inc timeline` shows what was said there, not inside.
    let theirs = desk.command(&carol, &shared, "!inc timeline", "✅").await?;
    ensure!(
        theirs.contains("We see 502s") && !theirs.contains("internal note"),
        "shared timeline: {theirs}"
    );

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_stay_at_level_zero_and_only_forwarded_messages_cross() -> Result<()> {
    let Shared {
        desk,
        carol,
        incident,
        shared,
    } = shared_incident().await?;
    let alice = &desk.alice;
    // Partners are at level 0 and cannot raise it; their privileged commands are refused.
    ensure!(level(alice, &shared, &carol.user_id).await? == 0);
    let carol_room = carol.client.get_room(&shared).context("carol's room")?;
    ensure!(
        carol_room
            .update_power_levels(vec![(&carol.user_id, 100.into())])
            .await
            .is_err(),
        "a partner raised their level"
    );
    let refused = desk
        .command(
            &carol,
            &shared,
            &format!("!inc lead {}", carol.user_id),
            "❓",
        )
        .await?;
    ensure!(refused.contains("partner"), "lead by a partner: {refused}");

    // 📤 forwards a message from the incident room to the shared room; nothing else crosses.
    let status = alice
        .send_text(&incident.room, "Rolled back the gateway config")
        .await?;
    alice.react(&incident.room, status.as_str(), "📤").await?;
    seen(&carol, &shared, "Rolled back the gateway config").await?;
    ensure!(
        !carol
            .events(&shared)
            .iter()
            .any(|event| body(event).contains("internal note")),
        "an internal message reached the partner"
    );

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_outside_the_acl_is_kept_out_of_the_shared_room() -> Result<()> {
    let hs = &servers().first;
    let stranger_hs = tokio::task::spawn_blocking(third).await?;
    let eve = TestUser::register(stranger_hs, "eve").await?;
    let Shared { desk, shared, .. } = shared_incident().await?;
    let alice = &desk.alice;
    // A stranger's server is outside the ACL: its user cannot join, and an event it sends
    // into the room over federation is refused by ours.
    let via = [<&ServerName>::try_from(hs.server_name.as_str())?.to_owned()];
    ensure!(
        eve.client
            .join_room_by_id_or_alias((&*shared).into(), &via)
            .await
            .is_err(),
        "a user of a server outside the ACL joined"
    );
    let answer =
        stranger_hs.federation_send(hs, shared.as_str(), eve.user_id.as_str(), "let me in")?;
    let results = answer["body"]["pdus"]
        .as_object()
        .with_context(|| format!("no PDU results: {answer}"))?;
    ensure!(
        results
            .values()
            .any(|result| result["errcode"] == "M_FORBIDDEN"),
        "the stranger's event was not refused: {answer}"
    );
    // Read back from the homeserver after a later message of Alice's: an event it had
    // accepted would be in the room's history before that message.
    alice.send_text(&shared, "after the stranger").await?;
    alice
        .wait_for_event(&shared, "Alice's later message", |event| {
            body(event) == "after the stranger"
        })
        .await?;
    let history = alice.history(&shared).await?;
    ensure!(
        history
            .iter()
            .any(|event| body(event) == "after the stranger"),
        "the history reads back Alice's message"
    );
    ensure!(
        !history
            .iter()
            .any(|event| body(event).contains("let me in")),
        "the stranger's event is in the shared room"
    );

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_partner_holds_nothing_up_and_a_private_incident_is_not_shared() -> Result<()>
{
    let partner = &servers().second;
    let Shared {
        desk,
        incident,
        shared,
        ..
    } = shared_incident().await?;
    let alice = &desk.alice;
    // A partner server that does not answer holds nothing up: its invitation waits, is
    // reported, and the incident room goes on; the ACL admits the new partner.
    let started = std::time::Instant::now();
    desk.command(
        alice,
        &incident.room,
        "!inc share 127.0.0.9:1 @ghost:127.0.0.9:1",
        "✅",
    )
    .await?;
    desk.command(alice, &incident.room, "!inc status identified", "✅")
        .await?;
    ensure!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "an unreachable partner held up the incident room"
    );
    let acl = until(
        "the ACL to admit the new partner",
        || async {
            Ok(alice
                .state(&shared, "m.room.server_acl", "")
                .await?
                .unwrap_or_default())
        },
        |acl| acl.to_string().contains("127.0.0.9"),
    )
    .await?;
    ensure!(acl.to_string().contains(partner.server_name.as_str()));
    let pending = until(
        "the pending invitation to be reported",
        || desk.command(alice, &incident.room, "!inc share", "✅"),
        |text| text.contains("@ghost:127.0.0.9:1") && !text.contains("not tried yet"),
    )
    .await?;
    ensure!(pending.contains("waiting"), "share status: {pending}");

    // Closing the incident gives its queued invitations up.
    desk.command(alice, &incident.room, "!inc status resolved", "✅")
        .await?;
    desk.command(alice, &incident.room, "!inc close", "✅")
        .await?;
    eventually("the ghost's invitation given up", || {
        desk.bot.log().lines().any(|line| {
            line.contains("queued invitation given up")
                && line.contains("@ghost:127.0.0.9:1")
                && line.contains("its incident is closed")
        })
    })
    .await
    .with_context(|| desk.bot.log())?;

    // A private incident cannot be shared.
    let private = desk.declare("Credential stuffing --private").await?;
    let refused = desk
        .command(
            alice,
            &private.room,
            &format!("!inc share {}", partner.server_name),
            "❓",
        )
        .await?;
    ensure!(
        refused.contains("private incident cannot be shared"),
        "sharing a private incident: {refused}"
    );

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_incident_makes_the_shared_room_read_only_for_partners() -> Result<()> {
    let Shared {
        desk,
        carol,
        incident,
        shared,
    } = shared_incident().await?;
    let alice = &desk.alice;
    // Closing the incident closes the shared room: the partners' part of the report, then
    // read-only.
    desk.command(alice, &incident.room, "!inc status resolved", "✅")
        .await?;
    desk.command(alice, &incident.room, "!inc close", "✅")
        .await?;
    seen(&carol, &shared, "is closed").await?;
    let closed = until(
        "the shared room to be read-only",
        || async {
            Ok(alice
                .state(&shared, "m.room.power_levels", "")
                .await?
                .unwrap_or_default())
        },
        |levels| levels["events_default"] == 100,
    )
    .await?;
    ensure!(closed["users"].get(carol.user_id.as_str()).is_none());
    // Once the partner's server has the closed room's levels, it refuses her too.
    until(
        "the partner's server to see the room closed",
        || async {
            Ok(carol
                .state(&shared, "m.room.power_levels", "")
                .await?
                .unwrap_or_default())
        },
        |levels| levels["events_default"] == 100,
    )
    .await?;
    ensure!(
        carol.send_text(&shared, "one more thing").await.is_err(),
        "a partner could still talk in the closed shared room"
    );
    Ok(())
}

/// A partner's standing room alias someone else took first is not adopted: the bot says what
/// to fix, invites nobody there, and goes on with everything else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standing_room_alias_someone_else_took_is_refused_and_nobody_is_invited() -> Result<()> {
    let hs = &servers().first;
    let partner = &servers().second;
    let dave = TestUser::register(partner, "dave").await?;
    let mallory = TestUser::register(hs, "mallory").await?;
    let standing_alias = format!("partner-acme-{}", random_string(6).to_lowercase());
    let mut request = matrix_sdk::ruma::api::client::room::create_room::v3::Request::new();
    request.room_alias_name = Some(standing_alias.clone());
    request.preset =
        Some(matrix_sdk::ruma::api::client::room::create_room::v3::RoomPreset::PublicChat);
    let squatted = mallory.client.create_room(request).await?;
    let config = format!(
        "[[partners]]\nserver = \"{}\"\nname = \"Acme\"\ncontacts = [\"{}\"]\nalias = \"{standing_alias}\"\n",
        partner.server_name, dave.user_id
    );
    let desk = Desk::new(bot_binary(), &config).await?;
    eventually("the refusal naming the squatter", || {
        let log = desk.bot.log();
        log.contains("cannot set up the partners' standing rooms yet")
            && log.contains(mallory.user_id.as_str())
            && log.contains("or set [[partners]] alias to another alias")
    })
    .await
    .with_context(|| desk.bot.log())?;
    // Everything else goes on.
    desk.declare("Partner feed stalled").await?;
    let dave_there = mallory
        .state(squatted.room_id(), "m.room.member", dave.user_id.as_str())
        .await?;
    ensure!(
        dave_there.is_none(),
        "Dave was invited to Mallory's room: {dave_there:?}"
    );
    Ok(())
}
