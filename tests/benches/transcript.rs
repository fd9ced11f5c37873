//! `!inc transcript`'s speed in a long incident, next to its floor measured in the same run
//! against the same Synapse.
//!
//! `cargo bench -p brigade-tests --bench transcript` (add `--profile dev` for a quick debug
//! build; `BRIGADE_BENCH_MESSAGES=1000` for a shorter room, `BRIGADE_BENCH_ROUNDS=1` for fewer
//! rounds):
//! - `!inc transcript` in an incident room of 10,000 messages until both files are seen;
//! - the floor: a plain client doing the same Matrix work: a message to another client's sync
//!   (the command reaching the bot), the whole history read in pages of 100 (as the bot does)
//!   and two files of the transcripts' sizes uploaded.

#![recursion_limit = "256"]

use std::{path::Path, time::Instant};

use anyhow::{Context, Result};
use brigade_tests::{
    bench::{one_hop, report, rounds, Scene},
    client::{body, TestUser},
    wait::wait_for,
};
use matrix_sdk::{
    attachment::AttachmentConfig,
    room::MessagesOptions,
    ruma::{events::room::MediaSource, RoomId},
};

fn main() -> Result<()> {
    tokio::runtime::Runtime::new()?.block_on(bench())
}

/// Messages in the room, `BRIGADE_BENCH_MESSAGES` or 10,000.
fn messages() -> usize {
    std::env::var("BRIGADE_BENCH_MESSAGES")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(10_000)
}

/// Reads `room`'s whole history in pages of 100, as the bot does; how many events.
async fn read_history(user: &TestUser, room: &RoomId) -> Result<usize> {
    let room = user.client.get_room(room).context("the room")?;
    let (mut from, mut events) = (None::<String>, 0);
    loop {
        let mut options = MessagesOptions::backward().from(from.as_deref());
        options.limit = 100u32.into();
        let page = room.messages(options).await?;
        events += page.chunk.len();
        if page.chunk.is_empty() || page.end.is_none() {
            return Ok(events);
        }
        from = page.end;
    }
}

async fn bench() -> Result<()> {
    let samples = rounds(3);
    let count = messages();
    let scene = Scene::start(Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))).await?;
    let room = scene.declare("Long incident --sev 3").await?;
    let (alice, bob, bot_id) = (&scene.alice, &scene.bob, &scene.bot_id);
    let seeding = Instant::now();
    for number in 0..count {
        let speaker = if number % 3 == 0 { alice } else { bob };
        speaker
            .send_text(
                &room,
                &format!("log line {number}: disk at {}%", number % 100),
            )
            .await?;
    }
    println!(
        "seeded {count} messages in {:.0} s",
        seeding.elapsed().as_secs_f64()
    );

    let mut floors = Vec::new();
    let mut transcripts = Vec::new();
    let mut sizes = (0, 0);
    for round in 0..samples {
        let started = Instant::now();
        alice.send_text(&room, "!inc transcript").await?;
        // Both files of this round: one more of each than before it.
        let posted = wait_for("both transcript files", || async {
            let files: Vec<_> = alice
                .events(&room)
                .into_iter()
                .filter(|event| event["sender"] == bot_id.as_str())
                .filter(|event| event["content"]["msgtype"] == "m.file")
                .filter(|event| body(event).contains("-transcript."))
                .collect();
            (files.len() >= 2 * (round + 1)).then_some(files)
        })
        .await?;
        transcripts.push(started.elapsed());
        // Their sizes, for the floor's uploads (not timed).
        for file in &posted[posted.len() - 2..] {
            let url = file["content"]["url"].as_str().context("the file's URL")?;
            let size = alice.download(MediaSource::Plain(url.into())).await?.len();
            if body(file).ends_with(".md") {
                sizes.0 = size;
            } else {
                sizes.1 = size;
            }
        }

        // The same Matrix work by a plain client: the command's hop, the reads, the uploads.
        let started = Instant::now();
        one_hop(alice, bob, &room, &format!("ping {round}")).await?;
        let events = read_history(bob, &room).await?;
        let joined = bob.client.get_room(&room).context("the room")?;
        for (name, size) in [("floor.md", sizes.0), ("floor.html", sizes.1)] {
            let data = vec![b'x'; size];
            joined
                .send_attachment(name, &mime::TEXT_PLAIN_UTF_8, data, AttachmentConfig::new())
                .await?;
        }
        floors.push(started.elapsed());
        println!("round {round}: {events} events read by the floor");
    }

    println!("{:<52} {:>8} {:>8} {:>8}", "", "median", "p90", "max");
    let floor = report("client: a hop, the history, two uploads", &mut floors);
    let transcript = report(
        "bot: `!inc transcript` -> both files seen",
        &mut transcripts,
    );
    println!();
    println!(
        "transcript of {count} messages ({} KiB Markdown, {} KiB HTML) / floor: {:.2}×",
        sizes.0 / 1024,
        sizes.1 / 1024,
        transcript.as_secs_f64() / floor.as_secs_f64()
    );
    Ok(())
}
