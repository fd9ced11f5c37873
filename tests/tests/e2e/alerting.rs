//! End-to-end: alerts that always find an owner (SPEC §9, §14). Alerts come from a real
//! Alertmanager through the bridge; the bot declares the incident a route asks for even when
//! nobody is configured to command it, and pages the route's escalation policy.

use std::path::Path;

use anyhow::{Context, Result};
use brigade_tests::{
    alertmanager::Alertmanager,
    bridge::{AlertDesk, AlertSetup},
    client::body,
    desk::{incident_state, level, summary, topic, until},
    synapse::random_string,
};
use serde_json::json;

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

fn bridge_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bridge-e2e"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_with_nobody_to_command_it_is_declared_unassigned_and_pages_its_routes_policy(
) -> Result<()> {
    let secret = random_string(24);
    // No `[alerts] commander`: the route's policy `db` pages Alice.
    let setup = AlertSetup {
        route: "escalation = \"db\"\n",
        bot_extra: "[[escalation]]\nname = \"db\"\n\
                    [[escalation.levels]]\npage = [\"{alice}\"]\nwait = \"1h\"\n",
        alice_commands: false,
        ..AlertSetup::default()
    };
    let AlertDesk { bot, alice, bridge } =
        AlertDesk::start_with(bridge_binary(), bot_binary(), &secret, setup).await?;
    let hs = &bridge.homeserver;
    let alertmanager =
        Alertmanager::start(&bridge.url("/hooks/alertmanager/prod"), &secret).await?;
    let labels = json!({"alertname": "DiskFull", "severity": "critical", "instance": "db1"});
    alertmanager
        .post(labels, json!({"summary": "Disk full on db1"}), false)
        .await?;
    let room = format!("#alerts-prod:{}", hs.server_name);
    let alerts = until("the alerts room", || alice.join(&room), |_| true)
        .await
        .with_context(|| format!("{}\n{}", bridge.log(), alertmanager.log()))?;
    let reply = alice
        .wait_for_event(&alerts, "the bot's declaration under the alert", |event| {
            event["sender"] == bot.user_id.as_str()
                && !event["content"]["m.relates_to"]["m.in_reply_to"].is_null()
                && body(event).contains("Declared **INC-1**")
        })
        .await
        .with_context(|| bot.log())?;
    let reply = body(&reply).to_owned();
    anyhow::ensure!(
        reply.contains("Nobody is in command yet (`[alerts] commander` names nobody): 🚑 on its summary takes it.")
            && reply.contains("Its route paged **db** there."),
        "{reply}"
    );
    let alias = reply
        .split(['[', ']'])
        .find(|part| part.starts_with("#inc-"))
        .context("the incident's alias in the reply")?
        .to_owned();

    // Paged: Alice is invited and mentioned by the policy's first level.
    let incident = alice.join(&alias).await?;
    let page = alice
        .wait_for_event(&incident, "the policy's page", |event| {
            body(event).starts_with("📟")
                && body(event).contains("Escalation **db**")
                && event["content"]["m.mentions"]["user_ids"][0] == alice.user_id.as_str()
        })
        .await
        .with_context(|| bot.log())?;
    anyhow::ensure!(
        body(&page).contains(alice.user_id.localpart()),
        "the page names Alice: {page}"
    );
    let state = incident_state(&alice, &incident).await?;
    anyhow::ensure!(
        state["commander"].is_null() && state["title"] == "Disk full on db1",
        "unassigned: {state}"
    );
    let (summary_id, text) = summary(&alice, &incident).await?;
    anyhow::ensure!(
        text.contains("Commander** 🚑 nobody yet: react 🚑 to take command"),
        "{text}"
    );
    let shown = topic(&alice, &incident).await?;
    anyhow::ensure!(shown.starts_with("🚑 nobody in command · SEV1"), "{shown}");

    // 🚑 on the summary: Alice takes command, at the commander's level.
    alice.react(&incident, &summary_id, "🚑").await?;
    alice
        .wait_for_event(&incident, "Alice taking command", |event| {
            event["sender"] == bot.user_id.as_str()
                && body(event).contains("takes command of INC-1")
                && !body(event).contains("(was")
        })
        .await
        .with_context(|| bot.log())?;
    let state = until(
        "Alice in command",
        || incident_state(&alice, &incident),
        |state| state["commander"] == alice.user_id.as_str(),
    )
    .await?;
    anyhow::ensure!(state["status"] == "investigating", "{state}");
    let alice_level = until(
        "Alice's level",
        || level(&alice, &incident, &alice.user_id),
        |level| *level == 100,
    )
    .await?;
    anyhow::ensure!(alice_level == 100);
    until(
        "the summary naming Alice",
        || summary(&alice, &incident),
        |(_, text)| text.contains(alice.user_id.localpart()) && !text.contains("nobody yet"),
    )
    .await?;
    Ok(())
}

/// The bridge's answer (from its Alertmanager user) under the command `command` in `room`.
async fn answer_to(
    alice: &brigade_tests::client::TestUser,
    room: &matrix_sdk::ruma::RoomId,
    command: &matrix_sdk::ruma::EventId,
    bridge: &brigade_tests::bridge::BridgeProcess,
) -> Result<String> {
    let answer = alice
        .wait_for_event(room, "the bridge's answer", |event| {
            event["sender"]
                .as_str()
                .is_some_and(|sender| sender.starts_with("@alert_alertmanager:"))
                && event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == command.as_str()
        })
        .await
        .with_context(|| bridge.log())?;
    Ok(body(&answer).to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silence_made_from_chat_stops_alertmanagers_notifications_until_unsilenced() -> Result<()>
{
    let secret = random_string(24);
    let at = Alertmanager::address()?;
    let route = format!("alertmanager_url = \"http://{at}\"\n");
    let setup = AlertSetup {
        route: &route,
        ..AlertSetup::default()
    };
    let AlertDesk { bot, alice, bridge } =
        AlertDesk::start_with(bridge_binary(), bot_binary(), &secret, setup).await?;
    let hs = &bridge.homeserver;
    let alertmanager =
        Alertmanager::start_at(at, &bridge.url("/hooks/alertmanager/prod"), &secret).await?;
    let disk = |instance: &str| json!({"alertname": "DiskFull", "severity": "warning", "instance": instance});
    let note = |instance: &str| json!({"summary": format!("Disk filling up on {instance}")});
    alertmanager.post(disk("db1"), note("db1"), false).await?;
    let room = format!("#alerts-prod:{}", hs.server_name);
    let alerts = until("the alerts room", || alice.join(&room), |_| true)
        .await
        .with_context(|| format!("{}\n{}", bridge.log(), alertmanager.log()))?;
    let is_alert = |event: &serde_json::Value, instance: &str| {
        event["content"]["org.brigade.alert"]["title"]
            .as_str()
            .is_some_and(|title| title.ends_with(&format!(" on {instance}")))
    };
    alice
        .wait_for_event(&alerts, "db1's alert", |event| is_alert(event, "db1"))
        .await
        .with_context(|| alertmanager.log())?;

    // Someone the route does not invite, at level 0 in the room: refused, nothing made.
    let bob = brigade_tests::client::TestUser::register(hs, "bob").await?;
    alice
        .client
        .get_room(&alerts)
        .context("the alerts room")?
        .invite_user_by_id(&bob.user_id)
        .await?;
    bob.join(alerts.as_str()).await?;
    let refused = bob
        .send_text(&alerts, "!inc silence alertname=DiskFull")
        .await?;
    let said = answer_to(&alice, &alerts, &refused, &bridge).await?;
    anyhow::ensure!(
        said.contains("only the people this alert route invites, or moderators of this room (power level 50 or more)"),
        "{said}"
    );
    anyhow::ensure!(alertmanager.list("silences").await?.is_empty());

    // Malformed: said why, nothing made; the bot leaves the bridge's commands to it.
    let typo = alice.send_text(&alerts, "!inc silence DiskFull").await?;
    let said = answer_to(&alice, &alerts, &typo, &bridge).await?;
    anyhow::ensure!(said.contains("`DiskFull` is not a matcher"), "{said}");
    anyhow::ensure!(alertmanager.list("silences").await?.is_empty());

    let asked = alice
        .send_text(&alerts, "!inc silence alertname=DiskFull for 1h")
        .await?;
    let said = answer_to(&alice, &alerts, &asked, &bridge).await?;
    anyhow::ensure!(
        said.starts_with("🔕 Silenced alertname=\"DiskFull\" until ") && said.contains("(1h)"),
        "{said}"
    );
    let id = said
        .split('`')
        .nth(1)
        .context("the silence's ID in the answer")?
        .to_owned();
    let silences = alertmanager.list("silences").await?;
    anyhow::ensure!(
        silences.len() == 1
            && silences[0]["id"] == id.as_str()
            && silences[0]["status"]["state"] == "active"
            && silences[0]["createdBy"] == alice.user_id.as_str()
            && silences[0]["matchers"][0]["name"] == "alertname"
            && silences[0]["matchers"][0]["value"] == "DiskFull",
        "Alertmanager's silences: {silences:?}"
    );

    // A new DiskFull alert is silenced by Alertmanager itself and never reaches the room;
    // another alert, posted after it, does (the barrier).
    alertmanager.post(disk("db2"), note("db2"), false).await?;
    until(
        "Alertmanager to silence db2",
        || alertmanager.list("alerts"),
        |alerts| {
            alerts.iter().any(|alert| {
                alert["labels"]["instance"] == "db2"
                    && alert["status"]["silencedBy"][0] == id.as_str()
            })
        },
    )
    .await?;
    let other = json!({"alertname": "CertExpiring", "severity": "warning", "instance": "web1"});
    alertmanager.post(other, note("web1"), false).await?;
    alice
        .wait_for_event(&alerts, "the other alert", |event| is_alert(event, "web1"))
        .await
        .with_context(|| alertmanager.log())?;
    let listed = alice.send_text(&alerts, "!inc silence").await?;
    let said = answer_to(&alice, &alerts, &listed, &bridge).await?;
    anyhow::ensure!(said.contains(&id) && said.contains("DiskFull"), "{said}");
    anyhow::ensure!(
        !alice
            .events(&alerts)
            .iter()
            .any(|event| is_alert(event, "db2")),
        "db2 was silenced"
    );

    // Unsilenced: Alertmanager expires it and notifies db2 again.
    let ended = alice
        .send_text(&alerts, &format!("!inc unsilence {id}"))
        .await?;
    let said = answer_to(&alice, &alerts, &ended, &bridge).await?;
    anyhow::ensure!(said.starts_with(&format!("🔔 Silence `{id}`")), "{said}");
    let silences = alertmanager.list("silences").await?;
    anyhow::ensure!(silences[0]["status"]["state"] == "expired", "{silences:?}");
    alice
        .wait_for_event(&alerts, "db2's alert once unsilenced", |event| {
            is_alert(event, "db2")
        })
        .await
        .with_context(|| alertmanager.log())?;

    // The bot answered none of the bridge's commands.
    let bot_answers: Vec<_> = alice
        .events(&alerts)
        .into_iter()
        .filter(|event| {
            event["sender"] == bot.user_id.as_str()
                && [&refused, &typo, &asked, &listed, &ended]
                    .iter()
                    .any(|command| {
                        event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
                            == command.as_str()
                            || event["content"]["m.relates_to"]["event_id"] == command.as_str()
                    })
        })
        .collect();
    anyhow::ensure!(bot_answers.is_empty(), "{bot_answers:?}");
    Ok(())
}
