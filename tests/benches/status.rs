//! The status page's speed, next to its floors in the same run, against one real Synapse.
//!
//! `cargo bench -p brigade-tests --bench status` (add `--profile dev` for a quick debug build;
//! `BRIGADE_BENCH_ROUNDS=10` for fewer rounds):
//! - `!inc update --public` until the page (`summary.json`) and the feed show it, with 1,000
//!   incidents in the page's 90 days; next to a plain send in the room until another client's
//!   sync has it;
//! - building the whole site (`Site::build` and its files) from those 1,000 incidents, next to
//!   reading them from the store, which every build does first.

#![recursion_limit = "256"]

use std::{
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{ensure, Result};
use brigade_bot::{config::Config, status::Site};
use brigade_core::{
    incident::{Declaration, Incident, IncidentNumber, Severity, Status, Update},
    status::Impact,
    store::{EngineStore, Store},
};
use brigade_tests::bench::{one_hop, report, rounds, store_shown, Scene, WARM_UP};
use matrix_sdk::ruma::UserId;

const STATUS: &str = "[status]\ntitle = \"Bench status\"\n\
    [[status.components]]\nname = \"Checkout\"\n[[status.components]]\nname = \"Search API\"\n";

fn main() -> Result<()> {
    tokio::runtime::Runtime::new()?.block_on(bench())
}

/// 999 resolved incidents of the last 90 days, each on the page (a component, a public update),
/// written into the store at `path` while the bot is stopped.
fn ninety_days_of_incidents(path: &Path, bot: &UserId) -> Result<()> {
    let store = EngineStore::open(path)?;
    let now = brigade_core::clock::millis_since_epoch(std::time::SystemTime::now());
    let runtime = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| {
        runtime.block_on(async {
            for n in 1..1000u64 {
                let declared = now - n * 2 * 3600 * 1000;
                let declaration = Declaration {
                    title: format!("Past incident {n}"),
                    severity: Severity::ALL[(n % 4) as usize],
                    kind: "operations".to_owned(),
                    private: false,
                    declarer: bot.to_owned(),
                    commander: Some(bot.to_owned()),
                    started: None,
                    alert: None,
                    affects: None,
                };
                let mut incident =
                    Incident::declare(IncidentNumber(1000 + n), declaration, declared)?;
                let component = ["Checkout", "Search API"][(n % 2) as usize];
                incident.affect(
                    component,
                    Some(Impact::ALL[(n % 3) as usize]),
                    declared,
                    bot,
                )?;
                incident.add_public_update(Update {
                    at: declared + 60_000,
                    author: bot.to_owned(),
                    text: format!("We are looking into {component} ({n})"),
                })?;
                incident.set_status(Status::Resolved, declared + 3_600_000, bot)?;
                store_shown(&store, incident, &format!("past-{n}")).await?;
            }
            anyhow::Ok(())
        })
    })
}

async fn bench() -> Result<()> {
    let samples = rounds(30);
    let mut scene =
        Scene::start_with(Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e")), STATUS).await?;
    scene.bot.terminate().await?;
    let store_path = scene.bot.dir.join("data").join("brigade.sled");
    ninety_days_of_incidents(&store_path, &scene.bot_id)?;
    scene.bot.start().await?;

    let room = scene.declare("Bench incident --sev 2").await?;
    let Scene {
        mut bot,
        alice,
        bob,
        ..
    } = scene;
    alice
        .send_text(&room, "!inc affects Checkout major")
        .await?;

    let base = format!("http://{}/status", bot.http);
    let http = reqwest::Client::new();
    let shows = |name: &'static str, text: String| {
        let (http, url) = (http.clone(), format!("{base}/{name}"));
        async move {
            loop {
                let page = http.get(&url).send().await?.text().await?;
                if page.contains(&text) {
                    return anyhow::Ok(());
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    };
    let mut floor = Vec::new();
    let mut on_page = Vec::new();
    let mut in_feed = Vec::new();
    for round in 0..WARM_UP + samples {
        let plain = one_hop(&alice, &bob, &room, &format!("ping {round}")).await?;
        let text = format!("Public bench update {round}");
        let started = Instant::now();
        alice
            .send_text(&room, &format!("!inc update --public {text}"))
            .await?;
        let page = tokio::spawn(shows("summary.json", text.clone()));
        let feed = tokio::spawn(shows("feed.atom", text));
        tokio::time::timeout(Duration::from_secs(60), page).await???;
        let page_time = started.elapsed();
        tokio::time::timeout(Duration::from_secs(60), feed).await???;
        if round >= WARM_UP {
            floor.push(plain);
            on_page.push(page_time);
            in_feed.push(started.elapsed());
        }
    }
    bot.terminate().await?;

    // Building the site from the same store, in this process: the read, then all of it.
    let config = Config::load(&bot.config)?;
    let store = EngineStore::open(&store_path)?;
    let now = brigade_core::clock::millis_since_epoch(std::time::SystemTime::now());
    let mut reads = Vec::new();
    let mut builds = Vec::new();
    let mut bytes = 0;
    for round in 0..WARM_UP + samples {
        let started = Instant::now();
        let records = store.incidents().await?;
        let read = started.elapsed();
        let site = Site::build(&config.status, &config.web.public_url, &records, now);
        let files = brigade_bot::status::files(&site);
        let built = started.elapsed();
        ensure!(
            site.history.len() >= 999,
            "{} in the history",
            site.history.len()
        );
        bytes = files.iter().map(|(_, file)| file.len()).sum();
        if round >= WARM_UP {
            reads.push(read);
            builds.push(built);
        }
    }

    println!("{:<52} {:>8} {:>8} {:>8}", "", "median", "p90", "max");
    let plain = report("homeserver: send -> other client's sync", &mut floor);
    let page = report(
        "bot: update --public -> summary.json shows it",
        &mut on_page,
    );
    let feed = report("bot: update --public -> feed.atom shows it", &mut in_feed);
    let read = report("store: read 1,000 incidents", &mut reads);
    let build = report("site: read, build and render 1,000 incidents", &mut builds);
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!();
    println!(
        "page / plain send->sync                  {:.2}×",
        ratio(page, plain)
    );
    println!(
        "feed / plain send->sync                  {:.2}×",
        ratio(feed, plain)
    );
    println!(
        "site build / store read                  {:.2}× ({} KiB written)",
        ratio(build, read),
        bytes / 1024
    );
    Ok(())
}
