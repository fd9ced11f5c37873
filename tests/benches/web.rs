//! The web pages' speed, next to their floors in the same run, against one real Synapse.
//!
//! `cargo bench -p brigade-tests --bench web` (add `--profile dev` for a quick debug build;
//! `BRIGADE_BENCH_ROUNDS=10` for fewer rounds):
//! - report: a signed-in person posts the report form, until another person's sync has the
//!   report in triage; next to a plain send in triage until that sync has it;
//! - the bot's HTTP floor: `GET /healthz`, the same server with no work;
//! - `/dashboard` and an incident's panel with 1,000 incidents in the bot's store (999 written
//!   into it while the bot is stopped, one declared);
//! - the bot's resident memory idle, and at its highest while 50 dashboards load at once.

#![recursion_limit = "256"]

use std::{
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{ensure, Context, Result};
use brigade_core::{
    incident::{Declaration, Incident, IncidentNumber, Severity, Status},
    store::EngineStore,
};
use brigade_tests::{
    bench::{one_hop, report, rounds, store_shown, Scene, WARM_UP},
    client::TestUser,
    synapse::random_string,
};
use matrix_sdk::ruma::{api::client::account::request_openid_token, UserId};
use serde_json::json;

fn main() -> Result<()> {
    tokio::runtime::Runtime::new()?.block_on(bench())
}

/// A web session for `user` from the bot at `bot`: the bearer token.
async fn session(http: &reqwest::Client, bot: &str, user: &TestUser) -> Result<String> {
    let token = user
        .client
        .send(request_openid_token::v3::Request::new(user.user_id.clone()))
        .await?;
    let answer: serde_json::Value = http
        .post(format!("{bot}/session"))
        .json(&json!({
            "matrix_server_name": token.matrix_server_name.as_str(),
            "access_token": token.access_token,
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(answer["session"].as_str().context("a session")?.to_owned())
}

/// Times `GET path` with `session` over `samples` rounds (after the warm-up).
async fn page(
    http: &reqwest::Client,
    url: &str,
    session: &str,
    samples: usize,
) -> Result<Vec<Duration>> {
    let mut times = Vec::new();
    for round in 0..WARM_UP + samples {
        let started = Instant::now();
        let body = http
            .get(url)
            .bearer_auth(session)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        if round >= WARM_UP {
            times.push(started.elapsed());
        }
        ensure!(body.contains("Brigade"), "not a page: {body}");
    }
    Ok(times)
}

/// 999 closed incidents, written into the store at `path` as if a year had passed.
fn a_year_of_incidents(path: &Path, bot: &UserId) -> Result<()> {
    let store = EngineStore::open(path)?;
    let now = brigade_core::clock::millis_since_epoch(std::time::SystemTime::now());
    let runtime = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| {
        runtime.block_on(async {
            for n in 1..1000u64 {
                let declared = now - n * 8 * 3600 * 1000;
                let declaration = Declaration {
                    title: format!("Old incident {n}"),
                    severity: Severity::ALL[(n % 4) as usize],
                    kind: ["operations", "security", "product"][(n % 3) as usize].to_owned(),
                    private: n % 10 == 0,
                    declarer: bot.to_owned(),
                    commander: Some(bot.to_owned()),
                    started: None,
                    alert: None,
                    affects: None,
                };
                let mut incident =
                    Incident::declare(IncidentNumber(1000 + n), declaration, declared)?;
                incident.acknowledge(declared + 60_000 * (n % 7 + 1), bot);
                for (status, after) in [
                    (Status::Monitoring, 20),
                    (Status::Resolved, 45),
                    (Status::Closed, 90),
                ] {
                    incident.set_status(status, declared + 60_000 * (after + n % 30), bot)?;
                }
                store_shown(&store, incident, &format!("old-{n}")).await?;
            }
            anyhow::Ok(())
        })
    })
}

async fn bench() -> Result<()> {
    let samples = rounds(30);
    let Scene {
        hs,
        mut bot,
        bot_id,
        alice,
        bob,
    } = Scene::start(Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))).await?;
    let triage_alias = format!("#{}-triage:{}", bot.rooms_prefix, hs.server_name);
    let triage = alice.join(&triage_alias).await?;
    bob.join(&triage_alias).await?;
    let base = format!("http://{}", bot.http);
    let http = reqwest::Client::new();
    let token = session(&http, &base, &alice).await?;

    let mut floor = Vec::new();
    let mut filed = Vec::new();
    for round in 0..WARM_UP + samples {
        let plain = one_hop(&alice, &bob, &triage, &format!("ping {round}")).await?;
        let summary = format!("Bench report {round} {}", random_string(6));
        let started = Instant::now();
        let key = format!("{:064x}", rand::random::<u128>());
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("key", key.as_str()),
                ("type", "operations"),
                ("summary", summary.as_str()),
                ("urgency", "hour"),
            ])
            .finish();
        http.post(format!("{base}/report"))
            .bearer_auth(&token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await?
            .error_for_status()?;
        bob.wait_for_event(&triage, "the report", |event| {
            event["content"]["org.brigade.report"]["summary"] == summary.as_str()
        })
        .await?;
        if round >= WARM_UP {
            floor.push(plain);
            filed.push(started.elapsed());
        }
    }

    println!("{:<44} {:>8} {:>8} {:>8}", "", "median", "p90", "max");
    let plain = report("homeserver: send -> other client's sync", &mut floor);
    let posted = report("bot: report form posted -> seen in triage", &mut filed);

    // A year of incidents in the store, and one open incident people are in.
    bot.terminate().await?;
    let store = bot.dir.join("data").join("brigade.sled");
    a_year_of_incidents(&store, &bot_id)?;
    bot.start().await?;
    alice
        .send_text(&triage, "!inc declare Bench incident --sev 2")
        .await?;
    // The answer names the incident's alias (the invitations include the reports' DM).
    let answer = alice
        .wait_for_event(&triage, "the declaration's answer", |event| {
            event["sender"] == bot_id.as_str()
                && brigade_tests::client::body(event).contains("#inc-")
        })
        .await?;
    let alias = brigade_tests::client::body(&answer)
        .split(['[', ']', '(', ')'])
        .find(|part| part.starts_with("#inc-"))
        .context("an alias in the answer")?
        .to_owned();
    let room = alice.join(&alias).await?;
    let token = session(&http, &base, &alice).await?;

    let mut health = Vec::new();
    for round in 0..WARM_UP + samples {
        let started = Instant::now();
        http.get(format!("{base}/healthz"))
            .send()
            .await?
            .error_for_status()?;
        if round >= WARM_UP {
            health.push(started.elapsed());
        }
    }
    let floor_http = report("bot: GET /healthz (its HTTP floor)", &mut health);
    let dashboard = report(
        "bot: GET /dashboard, 1,000 incidents",
        &mut page(&http, &format!("{base}/dashboard"), &token, samples).await?,
    );
    let panel = report(
        "bot: GET /incident/<room>, 1,000 incidents",
        &mut page(&http, &format!("{base}/incident/{room}"), &token, samples).await?,
    );

    let idle = bot.rss_kib().unwrap_or(0);
    let loads: Vec<_> = (0..50)
        .map(|_| {
            let (http, url, token) = (http.clone(), format!("{base}/dashboard"), token.clone());
            tokio::spawn(async move {
                http.get(url)
                    .bearer_auth(token)
                    .send()
                    .await?
                    .error_for_status()?
                    .text()
                    .await
            })
        })
        .collect();
    let mut peak = idle;
    let started = Instant::now();
    while loads.iter().any(|load| !load.is_finished()) {
        peak = peak.max(bot.rss_kib().unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let all_loaded = started.elapsed();
    for load in loads {
        load.await??;
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!();
    println!(
        "report -> triage / plain send->sync      {:.2}×",
        ratio(posted, plain)
    );
    println!(
        "dashboard / healthz                      {:.1}×",
        ratio(dashboard, floor_http)
    );
    println!(
        "panel / healthz                          {:.1}×",
        ratio(panel, floor_http)
    );
    println!(
        "bot RSS: idle {:.1} MiB, at most {:.1} MiB while 50 dashboards loaded at once ({:.0} ms for all)",
        idle as f64 / 1024.0,
        peak as f64 / 1024.0,
        all_loaded.as_secs_f64() * 1000.0
    );
    bot.terminate().await?;
    Ok(())
}
