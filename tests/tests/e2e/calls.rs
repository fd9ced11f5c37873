//! End-to-end: `!inc call` puts a Jitsi conference in the incident room's top bar, or links
//! Element Call, and who joins an Element Call is in the timeline. Real Synapse; call
//! memberships sent as Element Call sends them.

use std::path::Path;

use anyhow::{ensure, Context, Result};
use brigade_tests::{
    client::{body, TestUser},
    desk::{until, Desk},
    servers::shared as servers,
};
use matrix_sdk::ruma::RoomId;
use serde_json::{json, Value};

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

/// The bot's latest post in `room` that contains `marker`.
async fn posted(desk: &Desk, room: &RoomId, marker: &str) -> Result<String> {
    let bot = desk.bot_id().to_owned();
    let event = desk
        .alice
        .wait_for_event(room, marker, |event| {
            event["sender"] == bot.as_str() && body(event).contains(marker)
        })
        .await?;
    Ok(body(&event).to_owned())
}

/// The lines of `!inc timeline` that contain `marker`.
async fn timeline_with(desk: &Desk, room: &RoomId, marker: &str) -> Result<Vec<String>> {
    let timeline = desk
        .command(&desk.alice, room, "!inc timeline", "✅")
        .await?;
    Ok(timeline
        .lines()
        .filter(|line| line.contains(marker))
        .map(str::to_owned)
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jitsi_call_is_pinned_beside_the_panel_and_asked_again_stays_the_same() -> Result<()> {
    let desk = Desk::new(
        bot_binary(),
        "[calls]\njitsi_domain = \"meet.example.org\"\n",
    )
    .await?;
    let alice = &desk.alice;
    let incident = desk.declare("Checkout down --sev 1").await?;
    let room = &incident.room;

    // Bad input: arguments it does not take.
    let refused = desk.command(alice, room, "!inc call now", "❓").await?;
    ensure!(refused.contains("usage"), "{refused}");

    let answer = desk.command(alice, room, "!inc call", "✅").await?;
    ensure!(answer.contains("The call is on Jitsi"), "{answer}");
    let widget = alice
        .state(room, "im.vector.modular.widgets", "brigade-call")
        .await?
        .context("the call's widget")?;
    ensure!(widget["type"] == "m.jitsi", "{widget}");
    ensure!(widget["name"] == "Call · INC-1", "{widget}");
    ensure!(widget["data"]["domain"] == "meet.example.org", "{widget}");
    ensure!(widget["data"]["isAudioOnly"] == false, "{widget}");
    ensure!(widget["data"]["roomName"] == "Call · INC-1", "{widget}");
    let conference = widget["data"]["conferenceId"]
        .as_str()
        .context("the conference")?
        .to_owned();
    ensure!(
        conference.starts_with("inc-1-checkout-down-")
            && conference.len() > "inc-1-checkout-down-".len() + 8,
        "named after the incident, and not guessable: {conference}"
    );
    let link = format!("https://meet.example.org/{conference}");
    ensure!(widget["url"] == link.as_str(), "{widget}");
    let said = posted(&desk, room, "Call for INC-1").await?;
    ensure!(said.contains(&link), "{said}");

    // Pinned to the top bar beside the panel, sharing its width.
    let layout = alice
        .state(room, "io.element.widgets.layout", "")
        .await?
        .context("the layout")?;
    let widgets = layout["widgets"].as_object().context("widgets")?;
    let top: Vec<(&String, &Value)> = widgets
        .iter()
        .filter(|(_, place)| place["container"] == "top")
        .collect();
    ensure!(
        top.iter().any(|(id, _)| *id == "brigade-call")
            && top.iter().any(|(id, _)| *id == "brigade-panel"),
        "{layout}"
    );
    let width: i64 = top
        .iter()
        .map(|(_, place)| place["width"].as_i64().unwrap_or(100))
        .sum();
    ensure!(width <= 100, "{layout}");
    ensure!(
        widgets["brigade-call"]["index"] == 1,
        "the call after the panel: {layout}"
    );

    // Asked again: the same conference, posted again, one start in the timeline.
    desk.command(alice, room, "!inc call", "✅").await?;
    let again = alice
        .state(room, "im.vector.modular.widgets", "brigade-call")
        .await?
        .context("the call's widget")?;
    ensure!(
        again["data"]["conferenceId"] == conference.as_str(),
        "{again}"
    );
    let started = timeline_with(&desk, room, "📞 Call on Jitsi started by").await?;
    ensure!(started.len() == 1, "{started:?}");

    // Without a call service, the command says what to configure.
    let plain = Desk::new(bot_binary(), "").await?;
    let incident = plain.declare("Search slow").await?;
    let refused = plain
        .command(&plain.alice, &incident.room, "!inc call", "❓")
        .await?;
    ensure!(
        refused.contains("no call service is configured"),
        "{refused}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn element_call_is_linked_and_who_joins_it_is_in_the_timeline_once() -> Result<()> {
    let hs = &servers().first;
    let bob = TestUser::register(hs, "bob").await?;
    let desk = Desk::new(
        bot_binary(),
        "[calls]\njitsi_domain = \"meet.example.org\"\n\
         element_call_url = \"https://call.example.org\"\n",
    )
    .await?;
    let alice = &desk.alice;
    let incident = desk.declare("Payments failing --sev 2").await?;
    let room = &incident.room;
    desk.page_in(room, &bob).await?;

    let answer = desk.command(alice, room, "!inc call", "✅").await?;
    ensure!(answer.contains("The call is on Element Call"), "{answer}");
    let said = posted(&desk, room, "Call for INC-1").await?;
    let link = format!(
        "https://call.example.org/room/#?roomId={room}&viaServers={}",
        hs.server_name
    );
    ensure!(said.contains(&link), "{link} in {said}");
    ensure!(
        alice
            .state(room, "im.vector.modular.widgets", "brigade-call")
            .await?
            .is_none(),
        "no Jitsi widget for Element Call"
    );
    // Responders may say they are in the call.
    let levels = alice
        .state(room, "m.room.power_levels", "")
        .await?
        .context("power levels")?;
    ensure!(
        levels["events"]["org.matrix.msc3401.call.member"] == 0,
        "{levels}"
    );

    let session = |user: &TestUser| {
        json!({
            "application": "m.call",
            "call_id": "",
            "scope": "m.room",
            "device_id": user.client.device_id().map(|id| id.to_string()),
            "expires": 14_400_000,
            "focus_active": { "type": "livekit", "focus_selection": "oldest_membership" },
            "foci_preferred": [{
                "type": "livekit",
                "livekit_service_url": "https://livekit.example.org",
            }],
        })
    };
    let member = |user: &TestUser| {
        format!(
            "_{}_{}",
            user.user_id,
            user.client
                .device_id()
                .map(|id| id.to_string())
                .unwrap_or_default()
        )
    };
    let mut renewed = session(&bob);
    renewed["expires"] = json!(28_800_000);
    // Alice's leaving before she ever joined, Bob's renewal and his leaving add nothing.
    for (user, content) in [
        (alice, json!({})),
        (&bob, session(&bob)),
        (&bob, renewed),
        (&bob, json!({})),
        (alice, session(alice)),
    ] {
        let joined = user.client.get_room(room).context("the room")?;
        joined
            .send_state_event_raw("org.matrix.msc3401.call.member", &member(user), content)
            .await?;
    }
    let joined = until(
        "both joins in the timeline",
        || timeline_with(&desk, room, "joined the call"),
        |lines| lines.len() >= 2,
    )
    .await?;
    ensure!(
        joined.len() == 2
            && joined[0].contains(&format!("📞 {} joined the call", bob.name))
            && joined[1].contains(&format!("📞 {} joined the call", alice.name)),
        "{joined:?}"
    );
    let started = timeline_with(&desk, room, "📞 Call on Element Call started by").await?;
    ensure!(started.len() == 1, "{started:?}");
    Ok(())
}
