//! What the benchmarks share: the scene they start, how many rounds, and how a measurement is
//! printed.

use std::{
    net::Ipv4Addr,
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId, RoomId, UserId};

use crate::{
    bot::BotProcess,
    client::{body, TestUser},
    synapse::{Homeserver, Options},
};

/// One Synapse, the bot as its own process (started), and two people.
#[derive(Debug)]
pub struct Scene {
    /// The homeserver.
    pub hs: Homeserver,
    /// The bot, running.
    pub bot: BotProcess,
    /// The bot's user ID.
    pub bot_id: OwnedUserId,
    /// Someone.
    pub alice: TestUser,
    /// Someone else.
    pub bob: TestUser,
}

impl Scene {
    /// Starts the scene with the bot `binary`.
    pub async fn start(binary: &Path) -> Result<Self> {
        Self::start_with(binary, "").await
    }

    /// Starts the scene with the bot `binary` and `extra` configuration (TOML sections).
    pub async fn start_with(binary: &Path, extra: &str) -> Result<Self> {
        let hs = tokio::task::spawn_blocking(|| {
            Homeserver::start(Options::federating(Ipv4Addr::LOCALHOST))
        })
        .await??;
        let mut bot = BotProcess::new(binary, &hs, extra).await?;
        bot.start().await?;
        let bot_id = UserId::parse(&bot.user_id)?;
        let alice = TestUser::register(&hs, "alice").await?;
        let bob = TestUser::register(&hs, "bob").await?;
        Ok(Self {
            hs,
            bot,
            bot_id,
            alice,
            bob,
        })
    }
}

impl Scene {
    /// Alice declares `arguments` in triage; the incident's room, joined by Alice and, through
    /// the Incidents space, by Bob.
    pub async fn declare(&self, arguments: &str) -> Result<OwnedRoomId> {
        let Self {
            hs,
            bot,
            bot_id,
            alice,
            bob,
        } = self;
        let triage = alice
            .join(&format!("#{}-triage:{}", bot.rooms_prefix, hs.server_name))
            .await?;
        alice
            .send_text(&triage, &format!("!inc declare {arguments}"))
            .await?;
        let answer = alice
            .wait_for_event(&triage, "the declaration's answer", |event| {
                event["sender"] == bot_id.as_str() && body(event).contains("#inc-")
            })
            .await?;
        let alias = body(&answer)
            .split(['[', ']', '(', ')'])
            .find(|part| part.starts_with("#inc-"))
            .context("an alias in the answer")?
            .to_owned();
        let room = alice.join(&alias).await?;
        // Members of the Incidents space may join its incident rooms.
        bob.join(&format!(
            "#{}-incidents:{}",
            bot.rooms_prefix, hs.server_name
        ))
        .await?;
        bob.join(&alias).await?;
        Ok(room)
    }
}

/// Rounds per measurement; `BRIGADE_BENCH_ROUNDS` sets fewer for a quick look.
pub fn rounds(default: usize) -> usize {
    std::env::var("BRIGADE_BENCH_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(default)
}

/// Rounds run first and not counted.
pub const WARM_UP: usize = 3;

/// The homeserver's own round trip: `from` sends `text` in `room`, until `to`'s sync has it.
pub async fn one_hop(
    from: &TestUser,
    to: &TestUser,
    room: &RoomId,
    text: &str,
) -> Result<Duration> {
    let started = Instant::now();
    let id = from.send_text(room, text).await?.to_string();
    to.wait_for_event(room, "the ping", |event| event["event_id"] == id.as_str())
        .await?;
    Ok(started.elapsed())
}

/// Prints median, p90 and max; returns the median.
pub fn report(what: &str, samples: &mut [Duration]) -> Duration {
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

/// Stores `incident` in the bot's `store` under room `!<name>:bench.invalid`, as shown in its
/// room already (as a year's rooms would be: nothing to publish at start-up).
pub async fn store_shown(
    store: &brigade_core::store::EngineStore,
    incident: brigade_core::incident::Incident,
    name: &str,
) -> Result<()> {
    use brigade_core::record::IncidentRecord;
    use matrix_sdk::ruma::{OwnedRoomAliasId, OwnedRoomId};
    let room = OwnedRoomId::try_from(format!("!{name}:bench.invalid"))?;
    let alias = OwnedRoomAliasId::try_from(format!("#inc-{name}:bench.invalid"))?;
    store_record_shown(store, &IncidentRecord::new(incident, room, alias)).await
}

/// Stores `record` in the bot's `store`, as shown in its room already.
pub async fn store_record_shown(
    store: &brigade_core::store::EngineStore,
    record: &brigade_core::record::IncidentRecord,
) -> Result<()> {
    use brigade_core::store::Store;
    store.save_incident(record).await?;
    let shown = brigade_bot::keys::Published {
        version: record.version,
        incident: record.incident.clone(),
        timeline_paged: true,
    };
    brigade_bot::keys::published(&record.room_id)
        .set(store, &shown)
        .await?;
    Ok(())
}
