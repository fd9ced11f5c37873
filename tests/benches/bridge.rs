//! How fast the bridge takes alerts in and shows them, next to the homeserver's own round trip,
//! in the same run.
//!
//! `cargo bench -p brigade-tests --bench bridge` (add `--profile dev` for a quick debug build).
//! One Synapse with the bridge registered, Alice and Bob:
//! - one hop: Alice sends a message, until Bob's sync has it;
//! - webhook → seen: one Alertmanager alert posted to the bridge, until Bob's sync has its
//!   message (the bridge stores it, answers 202, places it, posts it as its virtual user);
//! - burst: 10,000 alerts, as 1,000 webhooks of 10 and then as 10,000 webhooks of one (32 in
//!   flight), until the last 202: accepted alerts per second, each alert flushed to disk
//!   before its 202; and 10,000 single-alert webhooks to a route that does not exist (404),
//!   the HTTP floor of this box with client and bridge on the same two cores;
//! - the bridge's peak resident memory (`VmHWM`) after the bursts.

#![recursion_limit = "256"]

use std::{path::PathBuf, time::Instant};

use anyhow::{ensure, Context, Result};
use brigade_tests::{
    bench::{one_hop, report, rounds, WARM_UP},
    bridge::BridgeProcess,
    client::TestUser,
    synapse::random_string,
};
use serde_json::json;

const SECRET: &str = "bench-secret";
const IN_FLIGHT: usize = 32;

fn main() -> Result<()> {
    tokio::runtime::Runtime::new()?.block_on(bench())
}

/// An Alertmanager webhook with the alerts `fingerprints`, firing.
fn webhook(fingerprints: &[String]) -> Vec<u8> {
    let alerts: Vec<_> = fingerprints
        .iter()
        .map(|fingerprint| {
            json!({
                "status": "firing",
                "labels": { "alertname": "Bench", "severity": "warning", "instance": fingerprint },
                "annotations": { "summary": format!("Bench alert {fingerprint}") },
                "fingerprint": fingerprint,
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "version": "4", "status": "firing", "alerts": alerts }))
        .unwrap_or_default()
}

async fn bench() -> Result<()> {
    let bob_name = format!("bob-{}", random_string(6).to_lowercase());
    let hooks = format!(
        "[webhooks]\nburst_after = 100\n\
         [[hooks]]\nname = \"latency\"\nsource = \"alertmanager\"\nroom = \"#alerts-latency:{{server}}\"\n\
         secret = \"{SECRET}\"\ninvite = [\"@{bob_name}:{{server}}\"]\n\
         [[hooks]]\nname = \"burst\"\nsource = \"alertmanager\"\nroom = \"#alerts-burst:{{server}}\"\n\
         secret = \"{SECRET}\"\n"
    );
    // `BRIGADE_BENCH_BRIDGE` measures another build of the bridge (a release one, say) with
    // this debug client.
    let binary = std::env::var_os("BRIGADE_BENCH_BRIDGE").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_brigade-bridge-e2e")),
        PathBuf::from,
    );
    println!("bridge: {}", binary.display());
    let mut bridge =
        tokio::task::spawn_blocking(move || BridgeProcess::new(&binary, &hooks)).await??;
    bridge.start().await?;
    let hs = &bridge.homeserver;
    let alice = TestUser::register(hs, "alice").await?;
    let password = random_string(16);
    hs.register(&bob_name, &password, false).await?;
    let bob = TestUser::login(hs, &bob_name, &password).await?;
    let room = alice.create_room("Bench", &[&bob.user_id]).await?;
    bob.client.join_room_by_id(&room).await?;
    alice
        .wait_for_membership(&room, &bob.user_id, "join")
        .await?;
    let http = reqwest::Client::new();
    let post = |url: String, body: Vec<u8>| {
        let request = http.post(url).bearer_auth(SECRET).body(body);
        async move { anyhow::Ok(request.send().await?.status().as_u16()) }
    };

    // The alert room exists once its first alert is delivered; Bob joins it.
    let latency = bridge.url("/hooks/alertmanager/latency");
    ensure!(post(latency.clone(), webhook(&["warm".to_owned()])).await? == 202);
    let alerts = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            if let Ok(room) = bob
                .join(&format!("#alerts-latency:{}", hs.server_name))
                .await
            {
                return room;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await
    .context("the alert room")?;

    let mut hops = Vec::new();
    let mut webhook_seen = Vec::new();
    for round in 0..WARM_UP + rounds(50) {
        let plain = one_hop(&alice, &bob, &room, &format!("ping {round}")).await?;

        let fingerprint = format!("latency-{round}");
        let started = Instant::now();
        ensure!(post(latency.clone(), webhook(std::slice::from_ref(&fingerprint))).await? == 202);
        bob.wait_for_event(&alerts, "the alert", |event| {
            event["content"]["org.brigade.alert"]["fingerprint"] == fingerprint.as_str()
        })
        .await
        .with_context(|| bridge.log())?;
        let seen = started.elapsed();
        if round >= WARM_UP {
            hops.push(plain);
            webhook_seen.push(seen);
        }
    }

    let burst = bridge.url("/hooks/alertmanager/burst");
    let unknown = bridge.url("/hooks/alertmanager/unknown");
    let mut rates = Vec::new();
    for (name, per_webhook, url) in [
        ("10 alerts a webhook", 10, &burst),
        ("1 alert a webhook", 1, &burst),
        (
            "1 alert a webhook, unknown route (404: HTTP alone)",
            1,
            &unknown,
        ),
    ] {
        let expected = if url == &unknown { 404 } else { 202 };
        let webhooks: Vec<Vec<u8>> = (0..10_000 / per_webhook)
            .map(|n| {
                let fingerprints: Vec<String> = (0..per_webhook)
                    .map(|i| format!("{name}-{n}-{i}"))
                    .collect();
                webhook(&fingerprints)
            })
            .collect();
        let started = Instant::now();
        let mut sends = tokio::task::JoinSet::new();
        for body in webhooks {
            let request = http.post(url).bearer_auth(SECRET).body(body);
            sends.spawn(async move { request.send().await.map(|response| response.status()) });
            while sends.len() >= IN_FLIGHT {
                if let Some(sent) = sends.join_next().await {
                    ensure!(sent?? == expected);
                }
            }
        }
        while let Some(sent) = sends.join_next().await {
            ensure!(sent?? == expected);
        }
        let took = started.elapsed();
        rates.push((name, 10_000.0 / took.as_secs_f64(), took));
    }
    let peak = bridge.peak_rss_kib();

    println!("\nmeasurement                                    median      p90      max");
    let hop = report("plain send → other client's sync", &mut hops);
    let seen = report(
        "webhook → alert seen by a syncing client",
        &mut webhook_seen,
    );
    println!(
        "webhook → seen / one hop: {:.2}×",
        seen.as_secs_f64() / hop.as_secs_f64()
    );
    for (name, rate, took) in rates {
        println!(
            "10,000-alert burst, {name}: {rate:.0} accepted alerts/s ({:.2} s)",
            took.as_secs_f64()
        );
    }
    match peak {
        Some(kib) => println!("bridge peak RSS: {:.1} MiB", kib as f64 / 1024.0),
        None => println!("bridge peak RSS: not readable"),
    }
    drop(bridge.kill());
    Ok(())
}
