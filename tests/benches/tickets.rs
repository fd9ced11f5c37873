//! `!inc followup --ticket` until the ticket's link is in the room, next to its floor measured
//! in the same run: the homeserver's hops it needs and the fake GitHub's own answer.
//!
//! `cargo bench -p brigade-tests --bench tickets` (add `--profile dev` for a quick debug build;
//! `BRIGADE_BENCH_ROUNDS=5` for fewer rounds):
//! - the bot's answer path: Alice's command to the bot, the bot's follow-up event to the
//!   bridge, the bridge's POST to GitHub, the bridge's message with the link back to Alice;
//! - the floor: one plain client-to-client hop on the same homeserver (whatever the path, the
//!   link reaches Alice's sync last) and one issue made directly on the same fake GitHub. The
//!   bot and the bridge take the path's other two hops by sync and by the homeserver's push,
//!   which are quicker than a test client's round trip, so this floor is the least it could be.

#![recursion_limit = "256"]

use std::{path::Path, time::Instant};

use anyhow::Result;
use brigade_tests::{
    bench::{one_hop, report, rounds, WARM_UP},
    bridge::{AlertDesk, AlertSetup},
    client::{body, TestUser},
    desk::Desk,
    github::{Github, API_VERSION},
    synapse::random_string,
};

fn main() -> Result<()> {
    tokio::runtime::Runtime::new()?.block_on(bench())
}

async fn bench() -> Result<()> {
    let samples = rounds(20);
    let token = random_string(20);
    let github = Github::start("acme", "app", &token).await?;
    let tickets = format!(
        "[tickets]\nbot = \"{{bot}}\"\n{}",
        github.tracker("github", &token, "")
    );
    let setup = AlertSetup {
        webhooks: &tickets,
        ..AlertSetup::default()
    };
    let AlertDesk { bot, alice, bridge } = AlertDesk::start_with(
        Path::new(env!("CARGO_BIN_EXE_brigade-bridge-e2e")),
        Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e")),
        &random_string(24),
        setup,
    )
    .await?;
    let bob = TestUser::register(&bridge.homeserver, "bob").await?;
    let desk = Desk::around(bot, alice).await?;
    let room = desk.declare("Ticket bench --sev 3").await?.room;
    desk.page_in(&room, &bob).await?;
    let alice = &desk.alice;
    let http = reqwest::Client::new();

    let (mut tickets, mut floors, mut trackers) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..WARM_UP + samples {
        let number = round + 1;
        let started = Instant::now();
        alice
            .send_text(
                &room,
                &format!("!inc followup Task {number} --ticket github"),
            )
            .await?;
        let marker = format!("🎫 Follow-up {number} of INC-1 is");
        alice
            .wait_for_event(&room, "the ticket's link", |event| {
                event["sender"]
                    .as_str()
                    .is_some_and(|sender| sender.starts_with("@alert_bridge:"))
                    && body(event).contains(&marker)
            })
            .await?;
        let ticket = started.elapsed();

        // The floor: the hop to Alice's sync, and GitHub's own answer.
        let mut floor = one_hop(&bob, alice, &room, &format!("ping {round}")).await?;
        let started = Instant::now();
        let made = http
            .post(format!("{}repos/acme/app/issues", github.url))
            .bearer_auth(&token)
            .header("User-Agent", "bench")
            .header("X-GitHub-Api-Version", API_VERSION)
            .json(&serde_json::json!({ "title": format!("direct {round}"), "body": "b" }))
            .send()
            .await?;
        anyhow::ensure!(made.status().as_u16() == 201, "{}", made.status());
        let tracker = started.elapsed();
        floor += tracker;
        if round >= WARM_UP {
            tickets.push(ticket);
            floors.push(floor);
            trackers.push(tracker);
        }
    }

    println!("{:<44} {:>8} {:>8} {:>8}", "", "median", "p90", "max");
    let tracker = report("fake GitHub: one issue made directly", &mut trackers);
    let floor = report("floor: one hop + that issue", &mut floors);
    let ticket = report("`!inc followup --ticket` -> link in the room", &mut tickets);
    println!();
    println!(
        "ticket link / floor: {:.2}× (the tracker's own answer is {:.1} ms of it)",
        ticket.as_secs_f64() / floor.as_secs_f64(),
        tracker.as_secs_f64() * 1000.0
    );
    anyhow::ensure!(github.violations().is_empty(), "{:?}", github.violations());
    Ok(())
}
