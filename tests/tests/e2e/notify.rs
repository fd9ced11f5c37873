//! End-to-end: notifications outside Matrix other than mail (SPEC §14). A page left
//! unacknowledged is pushed through ntfy (the harness's stand-in for ntfy's server, holding to
//! its published API) and posted, signed as Standard Webhooks says, to an SMS and voice
//! gateway that verifies it with that specification's own library; a gateway that refuses is
//! reported once and tried again under the same `webhook-id`; the push's acknowledge link
//! acknowledges, once. People set their own topic and number in a direct message, only on the
//! bot's ntfy server; a private incident's title reaches neither. Real Synapse, people as
//! matrix-sdk clients.

use std::{collections::BTreeSet, path::Path};

use anyhow::{Context, Result};
use brigade_tests::{
    client::{body, TestUser},
    desk::{until, Desk},
    gateway::Gateway,
    ntfy::Ntfy,
    servers::shared as servers,
    synapse::scratch_root,
    wait::wait_for,
};
use serde_json::Value;
use standardwebhooks::{Webhook, HEADER_WEBHOOK_ID};

use super::escalation::{direct, entries};

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

/// The ntfy server's access token for the bot.
const TOKEN: &str = "tk_e2ebrigadeaccesstoken0000";
/// The gateway's signing secret.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw9ax4QBZpwFg=";

/// A desk whose policy `push` pages Bob (ntfy topic `bob-pages`, a phone number) and Carol
/// (nothing configured), tells at once what goes unacknowledged, and pages Carol alone an hour
/// later.
async fn pushing_desk(
    bob: &TestUser,
    carol: &TestUser,
    ntfy: &Ntfy,
    gateway: &Gateway,
) -> Result<Desk> {
    std::fs::create_dir_all(scratch_root())?;
    let secrets = tempfile::Builder::new()
        .prefix("notify-secrets-")
        .tempdir_in(scratch_root())?
        .keep();
    let token_file = secrets.join("ntfy-token");
    let secret_file = secrets.join("gateway-secret");
    std::fs::write(&token_file, format!("{TOKEN}\n"))?;
    std::fs::write(&secret_file, format!("{SECRET}\n"))?;
    let config = format!(
        "[notify.ntfy]\nurl = \"{ntfy}\"\ntoken_file = \"{token_file}\"\n\
         [notify.webhook]\nurl = \"{gateway}\"\nsecret_file = \"{secret_file}\"\n\
         [[notify.people]]\nuser = \"{bob}\"\nntfy = \"bob-pages\"\nphone = \"+44 20 7946 0958\"\n\
         [[escalation]]\nname = \"push\"\n\
         [[escalation.levels]]\npage = [\"{bob}\", \"{carol}\"]\nwait = \"1h\"\nnotify_after = \"0s\"\n\
         [[escalation.levels]]\npage = [\"{carol}\"]\nwait = \"1h\"\n",
        ntfy = ntfy.url,
        gateway = gateway.url,
        token_file = token_file.display(),
        secret_file = secret_file.display(),
        bob = bob.user_id,
        carol = carol.user_id,
    );
    Desk::new(bot_binary(), &config).await
}

/// The pushes `topic` holds, once there are at least `count`.
async fn pushes(ntfy: &Ntfy, topic: &str, count: usize) -> Result<Vec<Value>> {
    wait_for(&format!("{count} push(es) to {topic}"), || async {
        ntfy.poll(topic)
            .await
            .ok()
            .filter(|messages| messages.len() >= count)
    })
    .await
}

/// The peers and people of a test: an ntfy server wanting `token`, a gateway refusing its first
/// `refuse` requests, Bob and Carol, and their [`pushing_desk`].
struct Pushing {
    ntfy: Ntfy,
    gateway: Gateway,
    bob: TestUser,
    carol: TestUser,
    desk: Desk,
}

async fn pushing(token: &str, refuse: usize) -> Result<Pushing> {
    let hs = &servers().first;
    let ntfy = Ntfy::start(Some(token)).await?;
    let gateway = Gateway::start(refuse).await?;
    let bob = TestUser::register(hs, "bob").await?;
    let carol = TestUser::register(hs, "carol").await?;
    let desk = pushing_desk(&bob, &carol, &ntfy, &gateway).await?;
    Ok(Pushing {
        ntfy,
        gateway,
        bob,
        carol,
        desk,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unacknowledged_page_reaches_ntfy_and_the_signed_gateway_and_a_link_acknowledges_once(
) -> Result<()> {
    // The gateway refuses the first two requests: reported once, and tried again.
    let Pushing {
        ntfy,
        gateway,
        bob,
        carol: _carol,
        desk,
    } = pushing(TOKEN, 2).await?;
    let alice = &desk.alice;
    let incident = desk.declare("Payments failing").await?;
    let room = &incident.room;
    desk.command(alice, room, "!inc page push", "✅").await?;

    // The push, as Bob's ntfy app would read it: urgent, titled, two buttons.
    let push = pushes(&ntfy, "bob-pages", 1)
        .await
        .with_context(|| desk.bot.log())?
        .remove(0);
    let title = push["title"].as_str().unwrap_or_default();
    assert!(
        title.starts_with("INC-1 · ") && title.ends_with(" · Payments failing"),
        "{push}"
    );
    assert!(
        push["message"]
            .as_str()
            .is_some_and(|text| text.contains("escalation policy push (level 1 of 2)")),
        "{push}"
    );
    assert_eq!(push["priority"], 5, "{push}");
    assert_eq!(push["tags"][0], "rotating_light", "{push}");
    assert_eq!(push["actions"][0]["label"], "Acknowledge", "{push}");
    let link = push["actions"][0]["url"]
        .as_str()
        .filter(|url| url.contains("/ack/"))
        .context("an acknowledge link in the push")?
        .to_owned();
    assert!(
        push["click"]
            .as_str()
            .is_some_and(|url| url.starts_with("https://matrix.to/#/")),
        "a tap opens the room: {push}"
    );

    // The gateway's refusal is said once in the room, without its words (they may repeat the
    // number), and the notification tried again until it is taken.
    let report = alice
        .wait_for_event(room, "the refused webhook reported", |event| {
            body(event).starts_with("☎️ The SMS or voice gateway's notification to")
        })
        .await
        .with_context(|| desk.bot.log())?;
    assert!(
        body(&report).contains(&bob.name)
            && body(&report).contains("the gateway answered 503 Service Unavailable.")
            && !body(&report).contains("the SMS provider is down"),
        "{}",
        body(&report)
    );
    let deliveries = wait_for("the webhook tried until taken", || async {
        let received = gateway.received();
        (received.len() >= 3).then_some(received)
    })
    .await
    .with_context(|| desk.bot.log())?;
    assert!(
        desk.bot.log().contains("the SMS provider is down"),
        "the log has the gateway's words"
    );
    let hook = Webhook::new(SECRET)?;
    for delivery in &deliveries {
        hook.verify(&delivery.body, &delivery.headers)
            .context("signed with the gateway's secret")?;
    }
    assert!(
        deliveries
            .iter()
            .all(|delivery| !delivery.headers.contains_key("authorization")),
        "ntfy's token goes to ntfy only"
    );
    let ids: BTreeSet<_> = deliveries
        .iter()
        .map(|delivery| delivery.headers[HEADER_WEBHOOK_ID].clone())
        .collect();
    assert_eq!(ids.len(), 1, "a retry is the same notification: {ids:?}");
    let mut tampered = deliveries[2].body.to_vec();
    tampered.extend_from_slice(b" ");
    assert!(
        hook.verify(&tampered, &deliveries[2].headers).is_err(),
        "the signature covers the body"
    );
    let event: Value = serde_json::from_slice(&deliveries[2].body)?;
    assert_eq!(event["type"], "brigade.page.unacknowledged");
    let data = &event["data"];
    assert_eq!(data["user"], bob.user_id.as_str());
    assert_eq!(data["phone"], "+442079460958");
    assert_eq!(data["incident"], "INC-1");
    assert_eq!(data["title"], "Payments failing");
    assert_eq!(data["private"], false);
    assert!(
        data["text"]
            .as_str()
            .is_some_and(|text| text.contains("INC-1") && text.contains("/ack/")),
        "{data}"
    );

    // Both are in the timeline; Carol, reached nowhere, is told nothing.
    let notified = until(
        "both notifications in the timeline",
        || entries(alice, room, "notified"),
        |notified| notified.len() >= 2,
    )
    .await?;
    let channels: BTreeSet<(String, String)> = notified
        .iter()
        .map(|entry| {
            (
                entry["person"].as_str().unwrap_or_default().to_owned(),
                entry["channel"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let bob_on = |channel: &str| (bob.user_id.to_string(), channel.to_owned());
    assert_eq!(channels, BTreeSet::from([bob_on("ntfy"), bob_on("phone")]));

    // The push's button: a page that says what it acknowledges, then a press that does.
    let web = reqwest::Client::new();
    let shown = web.get(&link).send().await?;
    assert_eq!(shown.status(), 200);
    let shown = shown.text().await?;
    assert!(shown.contains("Payments failing") && shown.contains(bob.user_id.as_str()));
    let pressed = web.post(&link).send().await?;
    assert_eq!(pressed.status(), 200);
    alice
        .wait_for_event(room, "the acknowledgement from the push", |event| {
            body(event).contains("escalation **push** stopped")
        })
        .await
        .with_context(|| desk.bot.log())?;
    let again = web.post(&link).send().await?.text().await?;
    assert!(again.contains("Already acknowledged"), "{again}");
    let posts = desk.bot_posts(alice, room);
    let count = |start: &str| {
        posts
            .iter()
            .filter(|post| body(post).contains(start))
            .count()
    };
    assert_eq!(count("escalation **push** stopped"), 1, "acknowledged once");
    assert_eq!(
        count("☎️ The SMS or voice gateway's"),
        1,
        "reported once, though retried"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_person_sets_their_topic_and_number_in_a_direct_message_and_private_titles_stay_out(
) -> Result<()> {
    let Pushing {
        ntfy,
        gateway,
        bob,
        carol,
        desk,
    } = pushing(TOKEN, 0).await?;
    let alice = &desk.alice;
    let bot_id = matrix_sdk::ruma::OwnedUserId::try_from(desk.bot.user_id.as_str())?;
    let carols = direct(&carol, &bot_id).await?;

    let answer = desk.command(&carol, &carols, "!inc notify", "✅").await?;
    assert!(
        answer.contains("Matrix only") && answer.contains("`ntfy <topic>` or `phone <number>`"),
        "{answer}"
    );
    // Another server's topic, a number not in international form: refused, nothing kept.
    for (command, expected) in [
        (
            "!inc notify ntfy https://ntfy.sh/carol-pages",
            "is not a topic on this bot's ntfy server",
        ),
        ("!inc notify phone 020 7946 0958", "international form"),
        ("!inc notify email carol@example.org", "nothing that way"),
    ] {
        let expected_reaction = if expected == "nothing that way" {
            "✅"
        } else {
            "❓"
        };
        let said = desk
            .command(&carol, &carols, command, expected_reaction)
            .await?;
        assert!(said.contains(expected), "{command}: {said}");
    }
    let topic = format!("{}/carol-pages", ntfy.url);
    let answer = desk
        .command(&carol, &carols, &format!("!inc notify ntfy {topic}"), "✅")
        .await?;
    assert!(answer.contains(&topic), "{answer}");
    let answer = desk.command(&carol, &carols, "!inc notify", "✅").await?;
    assert!(
        answer.contains(&topic) && !answer.contains("☎️"),
        "the topic, and no phone: {answer}"
    );
    // Bob keeps his phone and turns ntfy off.
    let bobs = direct(&bob, &bot_id).await?;
    desk.command(&bob, &bobs, "!inc notify ntfy off", "✅")
        .await?;

    // Paged, unacknowledged: Carol's push goes to her topic, Bob only to the gateway.
    let incident = desk.declare("Payments failing").await?;
    desk.command(alice, &incident.room, "!inc page push", "✅")
        .await?;
    pushes(&ntfy, "carol-pages", 1)
        .await
        .with_context(|| desk.bot.log())?;
    until(
        "both notifications in the timeline",
        || entries(alice, &incident.room, "notified"),
        |notified| notified.len() >= 2,
    )
    .await?;
    assert!(
        ntfy.poll("bob-pages").await?.is_empty(),
        "Bob turned ntfy off"
    );
    let deliveries = gateway.received();
    assert_eq!(deliveries.len(), 1, "Bob's phone once");
    let event: Value = serde_json::from_slice(&deliveries[0].body)?;
    assert_eq!(event["data"]["user"], bob.user_id.as_str());

    // A private incident's page: neither the push nor the gateway hears its title.
    let secret = "Leaked keys at Acme";
    let private = desk
        .declare(&format!("{secret} --type security --sev 1"))
        .await?;
    desk.command(alice, &private.room, "!inc page push", "✅")
        .await?;
    let push = pushes(&ntfy, "carol-pages", 2)
        .await
        .with_context(|| desk.bot.log())?
        .remove(1);
    let deliveries = wait_for("the private page at the gateway", || async {
        let received = gateway.received();
        (received.len() >= 2).then_some(received)
    })
    .await
    .with_context(|| desk.bot.log())?;
    let event: Value = serde_json::from_slice(&deliveries[1].body)?;
    assert_eq!(push["title"], "INC-2 · SEV1 · a private incident", "{push}");
    assert_eq!(event["data"]["private"], true, "{event}");
    for told in [push.to_string(), event.to_string()] {
        assert!(!told.contains("Leaked") && !told.contains("Acme"), "{told}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ntfy_server_that_refuses_the_bots_token_is_reported_once_and_the_phone_still_rings(
) -> Result<()> {
    // The server wants another token than the bot's.
    let Pushing {
        ntfy: _ntfy,
        gateway,
        bob,
        carol: _carol,
        desk,
    } = pushing("tk_someoneelsesaccesstoken00", 0).await?;
    let alice = &desk.alice;
    let incident = desk.declare("Payments failing").await?;
    let room = &incident.room;
    desk.command(alice, room, "!inc page push", "✅").await?;
    let report = alice
        .wait_for_event(room, "the refused push reported", |event| {
            body(event).starts_with("📱 The ntfy push to")
        })
        .await
        .with_context(|| desk.bot.log())?;
    assert!(
        body(&report).contains(&bob.name)
            && body(&report).contains("ntfy answered 401 Unauthorized.")
            && body(&report).contains("the escalation goes on"),
        "{}",
        body(&report)
    );
    // The other channel is not held up by it.
    let deliveries = wait_for("Bob's phone", || async {
        let received = gateway.received();
        (!received.is_empty()).then_some(received)
    })
    .await
    .with_context(|| desk.bot.log())?;
    assert_eq!(deliveries.len(), 1);
    Ok(())
}
