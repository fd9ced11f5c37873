//! How quickly the bot answers, next to what the homeserver itself takes, in the same run.
//!
//! `cargo bench -p brigade-tests --bench latency` (add `--profile dev` for a quick debug build).
//! One Synapse, the bot as its own process, two people in a room:
//! - one hop: Alice sends a message, until Bob's sync has it (one send, one sync hop);
//! - echo: Alice sends, Bob's client reacts as soon as its sync has the message, until Alice's
//!   sync has the reaction: the path any bot's answer takes, with no work in between;
//! - ✅: Alice sends `!inc help`, until her sync has the bot's ✅ (the bot's sync, its store
//!   record, its send, and Alice's sync);
//! - answer: the same command, until the threaded answer arrives.
//!
//! Then the bot's resident memory after it has idled.

#![recursion_limit = "256"]

use std::{
    net::Ipv4Addr,
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use brigade_tests::{
    bot::BotProcess,
    client::{is_reaction, is_thread_reply, TestUser},
    synapse::{Homeserver, Options},
};
use matrix_sdk::ruma::{
    events::{reaction::ReactionEventContent, relation::Annotation},
    UserId,
};

const ROUNDS: usize = 50;
const WARM_UP: usize = 3;

fn main() -> Result<()> {
    tokio::runtime::Runtime::new()?.block_on(bench())
}

async fn bench() -> Result<()> {
    let hs =
        tokio::task::spawn_blocking(|| Homeserver::start(Options::federating(Ipv4Addr::LOCALHOST)))
            .await??;
    let binary = Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"));
    let mut bot = BotProcess::new(binary, &hs, "").await?;
    bot.start().await?;
    let bot_id = UserId::parse(&bot.user_id)?;
    let alice = TestUser::register(&hs, "alice").await?;
    let bob = TestUser::register(&hs, "bob").await?;
    let room = alice.create_room("Bench", &[&bot_id, &bob.user_id]).await?;
    bob.client.join_room_by_id(&room).await?;
    alice.wait_for_membership(&room, &bot_id, "join").await?;
    alice
        .wait_for_membership(&room, &bob.user_id, "join")
        .await?;

    let bob_room = bob.client.get_room(&room).context("bob is in the room")?;
    let mut baseline = Vec::new();
    let mut echo = Vec::new();
    let mut reaction = Vec::new();
    let mut answer = Vec::new();
    for round in 0..WARM_UP + ROUNDS {
        let started = Instant::now();
        let id = alice
            .send_text(&room, &format!("ping {round}"))
            .await?
            .to_string();
        bob.wait_for_event(&room, "the ping", |event| event["event_id"] == id.as_str())
            .await?;
        let plain = started.elapsed();

        let started = Instant::now();
        let id = alice.send_text(&room, &format!("echo {round}")).await?;
        let key = id.to_string();
        bob.wait_for_event(&room, "the echo", |event| event["event_id"] == key.as_str())
            .await?;
        let thumbs_up = ReactionEventContent::new(Annotation::new(id, "👍".to_owned()));
        bob_room.send(thumbs_up).await?;
        alice
            .wait_for_event(&room, "the echo reaction", |event| {
                is_reaction(event, &bob.user_id, &key, "👍")
            })
            .await?;
        let echoed = started.elapsed();

        let started = Instant::now();
        let id = alice.send_text(&room, "!inc help").await?.to_string();
        alice
            .wait_for_event(&room, "✅", |event| is_reaction(event, &bot_id, &id, "✅"))
            .await?;
        let checked = started.elapsed();
        alice
            .wait_for_event(&room, "the answer", |event| {
                is_thread_reply(event, &bot_id, &id)
            })
            .await?;
        let answered = started.elapsed();

        if round >= WARM_UP {
            baseline.push(plain);
            echo.push(echoed);
            reaction.push(checked);
            answer.push(answered);
        }
    }

    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss = bot.rss_kib();

    println!(
        "Brigade latency, {ROUNDS} rounds after {WARM_UP} warm-up, one Synapse on this machine"
    );
    println!("{:<44} {:>8} {:>8} {:>8}", "", "median", "p90", "max");
    let one_hop = report("homeserver: send -> other client's sync", &mut baseline);
    let echoed = report("homeserver: echo (send -> react -> seen)", &mut echo);
    let checked = report("bot: `!inc help` -> ✅ seen", &mut reaction);
    report("bot: `!inc help` -> threaded answer seen", &mut answer);
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "median ✅ / echo: {:.2}x   median ✅ / one hop: {:.2}x",
        ratio(checked, echoed),
        ratio(checked, one_hop)
    );
    match rss {
        Some(kib) => println!(
            "bot resident memory after 5 s idle: {:.1} MiB",
            kib as f64 / 1024.0
        ),
        None => println!("bot resident memory: unavailable"),
    }
    bot.terminate().await?;
    Ok(())
}

/// Prints median, p90 and max; returns the median.
fn report(what: &str, samples: &mut [Duration]) -> Duration {
    samples.sort();
    let at = |fraction: f64| samples[((samples.len() - 1) as f64 * fraction).round() as usize];
    let ms = |duration: Duration| format!("{:.1} ms", duration.as_secs_f64() * 1000.0);
    println!(
        "{what:<44} {:>8} {:>8} {:>8}",
        ms(at(0.5)),
        ms(at(0.9)),
        ms(at(1.0))
    );
    at(0.5)
}
