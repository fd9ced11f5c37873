//! End-to-end: forwarding by reaction with the leak guard, against real Synapse: public to
//! public with media, once however many react and across a restart, refusals that leak or
//! post for someone not in the target, private to private, and no ping-pong between rules.

use std::path::Path;

use anyhow::{Context, Result};
use brigade_tests::{
    client::{body, TestUser},
    desk::Desk,
    servers::shared as servers,
    synapse::random_string,
};
use matrix_sdk::ruma::{
    api::client::room::{
        create_room::v3::Request as CreateRoomRequest, create_room::v3::RoomPreset,
    },
    OwnedRoomId, OwnedUserId, RoomId,
};
use serde_json::Value;

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

/// A room `owner` creates with the bot and `others` invited (who join), public or invite-only;
/// returns its ID and alias.
async fn room(
    owner: &TestUser,
    bot: &OwnedUserId,
    others: &[&TestUser],
    public: bool,
) -> Result<(OwnedRoomId, String)> {
    let localpart = format!("fwd-{}", random_string(8).to_lowercase());
    let mut request = CreateRoomRequest::new();
    request.room_alias_name = Some(localpart.clone());
    request.preset = Some(if public {
        RoomPreset::PublicChat
    } else {
        RoomPreset::PrivateChat
    });
    request.invite = std::iter::once(bot.clone())
        .chain(others.iter().map(|user| user.user_id.clone()))
        .collect();
    let room = owner.client.create_room(request).await?;
    let room_id = room.room_id().to_owned();
    for other in others {
        other.join(room_id.as_str()).await?;
    }
    owner.wait_for_membership(&room_id, bot, "join").await?;
    let alias = format!("#{localpart}:{}", owner.user_id.server_name());
    Ok((room_id, alias))
}

/// Copies of messages in `room`, as `user` sees them.
fn copies(user: &TestUser, room: &RoomId) -> Vec<Value> {
    user.events(room)
        .into_iter()
        .filter(|event| !event["content"]["org.brigade.forwarded"].is_null())
        .collect()
}

/// A desk with Bob and Carol, and two public rooms Alice made with the bot: the source (Bob
/// and Carol in it) and the target (Bob in it), the source forwarding 📝 to the target.
struct Rooms {
    desk: Desk,
    bob: TestUser,
    carol: TestUser,
    source: OwnedRoomId,
    source_alias: String,
    target: OwnedRoomId,
    target_alias: String,
}

async fn rooms() -> Result<Rooms> {
    let hs = &servers().first;
    let bob = TestUser::register(hs, "bob").await?;
    let carol = TestUser::register(hs, "carol").await?;
    let desk = Desk::new(bot_binary(), "").await?;
    let alice = &desk.alice;
    let bot = OwnedUserId::try_from(desk.bot.user_id.as_str())?;
    let (source, source_alias) = room(alice, &bot, &[&bob, &carol], true).await?;
    let (target, target_alias) = room(alice, &bot, &[&bob], true).await?;
    let answer = desk
        .command(
            alice,
            &source,
            &format!("!inc forward 📝 {target_alias}"),
            "✅",
        )
        .await?;
    assert!(answer.contains("now forwards it to"), "{answer}");
    Ok(Rooms {
        desk,
        bob,
        carol,
        source,
        source_alias,
        target,
        target_alias,
    })
}

/// How many copies of `original` `user` sees in `room`.
fn copies_of(user: &TestUser, room: &RoomId, original: &str) -> usize {
    copies(user, room)
        .iter()
        .filter(|event| event["content"]["org.brigade.forwarded"]["event_id"] == original)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_is_set_by_moderators_only_and_once_removed_forwards_nothing_more() -> Result<()> {
    let Rooms {
        desk,
        bob,
        source,
        target,
        target_alias,
        ..
    } = rooms().await?;
    let alice = &desk.alice;
    let hs = &servers().first;
    let refusal = desk
        .command(
            &bob,
            &source,
            &format!("!inc forward 📎 {target_alias}"),
            "❓",
        )
        .await?;
    assert!(refusal.contains("only moderators"), "{refusal}");
    let refusal = desk
        .command(
            alice,
            &source,
            &format!("!inc forward 📌 {target_alias}"),
            "❓",
        )
        .await?;
    assert!(refusal.contains("already means something"), "{refusal}");
    let refusal = desk
        .command(
            alice,
            &source,
            &format!("!inc forward 📝 #nowhere:{}", hs.server_name),
            "❓",
        )
        .await?;
    assert!(refusal.contains("not a room Brigade is in"), "{refusal}");

    let answer = desk
        .command(alice, &source, "!inc forward remove 📝", "✅")
        .await?;
    assert!(answer.contains("no longer forwards"), "{answer}");
    let refusal = desk
        .command(alice, &source, "!inc forward remove 📝", "❓")
        .await?;
    assert!(refusal.contains("has no rule for 📝"), "{refusal}");
    let after = bob.send_text(&source, "not for the target").await?;
    alice.react(&source, after.as_str(), "📝").await?;
    desk.command(alice, &source, "!inc forward list", "✅")
        .await?;
    assert!(
        !alice
            .events(&target)
            .iter()
            .any(|event| body(event).contains("not for the target")),
        "a removed rule still forwarded"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_is_forwarded_once_with_its_file_and_its_reply_however_many_react_across_a_restart(
) -> Result<()> {
    let Rooms {
        mut desk,
        bob,
        carol,
        source,
        source_alias,
        target,
        target_alias,
    } = rooms().await?;
    let alice = &desk.alice;

    // Public to public, with a file; two people react, one copy.
    let text = bob
        .send_text(&source, "root cause: **expired certificate**")
        .await?;
    let file = bob
        .send_file(&source, "cert.txt", b"notAfter=2026-11-28\n")
        .await?;
    alice.react(&source, text.as_str(), "📝").await?;
    bob.react(&source, text.as_str(), "📝").await?;
    alice.react(&source, file.as_str(), "📝").await?;
    let copy = alice
        .wait_for_event(&target, "the copy", |event| {
            body(event).contains("root cause: **expired certificate**")
        })
        .await
        .with_context(|| desk.bot.log())?;
    assert!(
        body(&copy).starts_with("↪️ Forwarded from") && body(&copy).contains(bob.name.as_str()),
        "{}",
        body(&copy)
    );
    assert!(
        copy["content"]["formatted_body"]
            .as_str()
            .is_some_and(|html| html.contains(">original</a>)<br>root cause")),
        "{copy}"
    );
    let media = alice
        .wait_for_event(&target, "the file's copy", |event| {
            event["content"]["msgtype"] == "m.file" && body(event) == "cert.txt"
        })
        .await?;
    assert!(
        media["content"]["url"]
            .as_str()
            .is_some_and(|url| url.starts_with("mxc://")),
        "{media}"
    );

    // A reply is forwarded with the message it answers, quoted.
    let reply = bob.reply(&source, text.as_str(), "renewed it").await?;
    alice.react(&source, reply.as_str(), "📝").await?;
    let quoted = alice
        .wait_for_event(&target, "the reply's copy", |event| {
            body(event).contains("renewed it")
        })
        .await
        .with_context(|| desk.bot.log())?;
    assert!(
        body(&quoted).contains("> root cause: \\*\\*expired certificate\\*\\*"),
        "{}",
        body(&quoted)
    );

    // A restart, and a third reaction: still one copy of each. The restart also brings a
    // configured rule for the source room.
    desk.bot.terminate().await?;
    let config = std::fs::read_to_string(&desk.bot.config)?;
    std::fs::write(
        &desk.bot.config,
        format!(
            "{config}\n[[forward]]\nemoji = \"📣\"\nto = \"{target_alias}\"\nfrom = [\"{}*\"]\n",
            source_alias.split(':').next().unwrap_or_default()
        ),
    )?;
    desk.bot.start().await?;
    let alice = &desk.alice;
    carol.react(&source, text.as_str(), "📝").await?;
    // A command after it is answered after it.
    desk.command(alice, &source, "!inc forward list", "✅")
        .await?;
    assert_eq!(
        copies_of(alice, &target, text.as_str()),
        1,
        "one copy of the message"
    );
    assert_eq!(
        copies(alice, &target)
            .iter()
            .filter(|event| event["content"]["msgtype"] == "m.file")
            .count(),
        1,
        "one copy of the file"
    );

    // The configured rule forwards from the room its `from` names; the list says so.
    let announced = bob.send_text(&source, "maintenance tonight").await?;
    bob.react(&source, announced.as_str(), "📣").await?;
    alice
        .wait_for_event(&target, "the configured rule's copy", |event| {
            body(event).ends_with("maintenance tonight")
        })
        .await
        .with_context(|| desk.bot.log())?;
    let rules = desk
        .command(alice, &source, "!inc forward list", "✅")
        .await?;
    assert!(
        rules.contains("📣 → ") && rules.contains("(configured)"),
        "{rules}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leak_guard_refuses_what_would_leak_and_lets_private_go_to_private() -> Result<()> {
    let Rooms {
        desk,
        bob,
        carol,
        source,
        target,
        target_alias,
        ..
    } = rooms().await?;
    let alice = &desk.alice;
    let bot = OwnedUserId::try_from(desk.bot.user_id.as_str())?;

    // The reactor must be in the target: Carol is not.
    let aside = bob.send_text(&source, "for the record").await?;
    carol.react(&source, aside.as_str(), "📝").await?;
    let reason = desk.refusal(alice, &source, aside.as_str()).await?;
    assert!(reason.contains("you are not in"), "{reason}");

    // Private to public: anyone may join the target (and Bob, who is not here, has).
    let (private, _) = room(alice, &bot, &[], false).await?;
    desk.command(
        alice,
        &private,
        &format!("!inc forward 📝 {target_alias}"),
        "✅",
    )
    .await?;
    let secret = alice.send_text(&private, "the private detail").await?;
    alice.react(&private, secret.as_str(), "📝").await?;
    let reason = desk.refusal(alice, &private, secret.as_str()).await?;
    assert!(reason.contains("anyone may join the target"), "{reason}");

    // Private to public, even with the same members: anyone may join the target and read it.
    let (open, open_alias) = room(alice, &bot, &[], true).await?;
    desk.command(
        alice,
        &private,
        &format!("!inc forward 📣 {open_alias}"),
        "✅",
    )
    .await?;
    let to_open = alice
        .send_text(&private, "the private detail, again")
        .await?;
    alice.react(&private, to_open.as_str(), "📣").await?;
    let reason = desk.refusal(alice, &private, to_open.as_str()).await?;
    assert!(reason.contains("anyone may join the target"), "{reason}");

    // Private to private where Carol is invited, not yet joined: she would read it.
    let (invited, invited_alias) = room(alice, &bot, &[], false).await?;
    alice
        .client
        .get_room(&invited)
        .context("the invited room")?
        .invite_user_by_id(&carol.user_id)
        .await?;
    desk.command(
        alice,
        &private,
        &format!("!inc forward 📨 {invited_alias}"),
        "✅",
    )
    .await?;
    let to_invited = alice
        .send_text(&private, "the private detail, once more")
        .await?;
    alice.react(&private, to_invited.as_str(), "📨").await?;
    let reason = desk.refusal(alice, &private, to_invited.as_str()).await?;
    assert!(
        reason.contains("members who are not in this room")
            && reason.contains(carol.user_id.as_str()),
        "{reason}"
    );

    // Private to private with the same members: allowed.
    let (other_private, other_alias) = room(alice, &bot, &[], false).await?;
    desk.command(
        alice,
        &private,
        &format!("!inc forward 🗂 {other_alias}"),
        "✅",
    )
    .await?;
    alice.react(&private, secret.as_str(), "🗂").await?;
    alice
        .wait_for_event(&other_private, "the private copy", |event| {
            body(event).contains("the private detail")
        })
        .await
        .with_context(|| desk.bot.log())?;
    for room in [&target, &open, &invited] {
        assert!(
            !alice
                .events(room)
                .iter()
                .any(|event| body(event).contains("the private detail")),
            "nothing leaked to {room}"
        );
    }
    assert_eq!(copies(alice, &source).len(), 0);
    let (status, metrics) = desk.bot.get("/metrics").await?;
    assert_eq!(status, 200);
    for line in [
        r#"brigade_forwards_total{outcome="done"} 1"#,
        r#"brigade_forwards_total{outcome="leak"} 3"#,
        r#"brigade_forwards_total{outcome="reactor_not_in_target"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_never_loops_and_an_unshared_incident_refuses_the_partners_emoji() -> Result<()>
{
    let Rooms {
        desk,
        bob,
        source,
        source_alias,
        target,
        target_alias,
        ..
    } = rooms().await?;
    let alice = &desk.alice;
    let text = bob.send_text(&source, "root cause: DNS").await?;
    alice.react(&source, text.as_str(), "📝").await?;
    let copy = alice
        .wait_for_event(&target, "the copy", |event| {
            body(event).contains("root cause: DNS")
        })
        .await
        .with_context(|| desk.bot.log())?;

    // A rule back is refused as a loop; and a copy is never forwarded again.
    let refusal = desk
        .command(
            alice,
            &target,
            &format!("!inc forward 📝 {source_alias}"),
            "❓",
        )
        .await?;
    assert!(refusal.contains("would loop"), "{refusal}");
    desk.command(
        alice,
        &target,
        &format!("!inc forward 🔁 {source_alias}"),
        "✅",
    )
    .await?;
    let refusal = desk
        .command(
            alice,
            &source,
            &format!("!inc forward 🔁 {target_alias}"),
            "❓",
        )
        .await?;
    assert!(refusal.contains("would loop"), "{refusal}");
    let copy_id = copy["event_id"].as_str().context("copy ID")?;
    alice.react(&target, copy_id, "🔁").await?;
    desk.command(alice, &target, "!inc forward list", "✅")
        .await?;
    assert!(copies(alice, &source).is_empty(), "the copy went back");

    // 📤 in an incident room not shared with partners: said so.
    let incident = desk.declare("Certificate expiry").await?;
    let note = alice.send_text(&incident.room, "for the partner").await?;
    alice.react(&incident.room, note.as_str(), "📤").await?;
    let reason = desk.refusal(alice, &incident.room, note.as_str()).await?;
    assert!(reason.contains("not shared with partners"), "{reason}");
    Ok(())
}
