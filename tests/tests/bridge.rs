//! End-to-end: the alert bridge registered with a real Synapse. Webhooks in, one message per
//! alert edited as it repeats and resolves, and every bad request refused without a trace.

#![recursion_limit = "256"]

use std::path::Path;

use anyhow::{ensure, Context, Result};
use brigade_tests::{
    bridge::BridgeProcess,
    client::{body, TestUser},
    desk::until,
    synapse::random_string,
};
use hmac::{Hmac, Mac};
use matrix_sdk::ruma::{RoomAliasId, RoomId};
use serde_json::{json, Value};
use sha2::Sha256;

fn bridge_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bridge-e2e"))
}

const AM_SECRET: &str = "am-secret-for-tests";
const GENERIC_KEY: &str = "generic-key-for-tests";
const GRAFANA_SECRET: &str = "grafana-secret-for-tests";
const PAGERDUTY_KEY: &str = "pagerduty-key-for-tests";

fn firing(fingerprint: &str, status: &str) -> Value {
    json!({
        "version": "4",
        "status": status,
        "receiver": "brigade",
        "groupKey": "{}:{}",
        "alerts": [{
            "status": status,
            "labels": { "alertname": "DiskFull", "severity": "critical", "instance": fingerprint },
            "annotations": { "summary": format!("Disk full on {fingerprint}"), "description": "98% used" },
            "startsAt": "2026-11-28T09:00:00Z",
            "fingerprint": fingerprint,
        }],
    })
}

/// The hex HMAC-SHA256 of `body` with `key`.
fn sign(key: &str, body: &[u8]) -> Result<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())?;
    mac.update(body);
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// The bridge's messages (not edits) for the alert `fingerprint` in `room`.
fn alert_messages(user: &TestUser, room: &RoomId, fingerprint: &str) -> Vec<Value> {
    user.events(room)
        .into_iter()
        .filter(|event| {
            event["type"] == "m.room.message"
                && event["content"]["m.relates_to"].is_null()
                && event["content"]["org.brigade.alert"]["fingerprint"] == fingerprint
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_become_one_message_each_and_bad_requests_change_nothing() -> Result<()> {
    let alice_name = format!("alice-{}", random_string(6).to_lowercase());
    let hooks = format!(
        "[webhooks]\nmax_body_bytes = 65536\n\
         [[hooks]]\nname = \"prod\"\nsource = \"alertmanager\"\nroom = \"#alerts-prod:{{server}}\"\n\
         secret = \"{AM_SECRET}\"\ninvite = [\"@{alice_name}:{{server}}\"]\nauto_declare = \"SEV1\"\n\
         [[hooks]]\nname = \"app\"\nsource = \"generic\"\nroom = \"#alerts-app:{{server}}\"\n\
         secret = \"{GENERIC_KEY}\"\ninvite = [\"@{alice_name}:{{server}}\"]\n\
         [[hooks]]\nname = \"dash\"\nsource = \"grafana\"\nroom = \"#alerts-dash:{{server}}\"\n\
         secret = \"{GRAFANA_SECRET}\"\ninvite = [\"@{alice_name}:{{server}}\"]\n\
         [[hooks]]\nname = \"pd\"\nsource = \"pagerduty\"\nroom = \"#alerts-pd:{{server}}\"\n\
         secret = \"{PAGERDUTY_KEY}\"\ninvite = [\"@{alice_name}:{{server}}\"]\n"
    );
    let mut bridge =
        tokio::task::spawn_blocking(move || BridgeProcess::new(bridge_binary(), &hooks)).await??;
    bridge.start().await?;
    let hs = &bridge.homeserver;
    let password = random_string(16);
    hs.register(&alice_name, &password, false).await?;
    let alice = TestUser::login(hs, &alice_name, &password).await?;
    let http = reqwest::Client::new();
    let prod = bridge.url("/hooks/alertmanager/prod");
    let post = |url: String, token: Option<&str>, body: Vec<u8>| {
        let mut request = http.post(url).body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await?;
            let status = response.status().as_u16();
            anyhow::Ok((status, response.text().await?))
        }
    };
    let alert = |fingerprint: &str, status: &str| {
        serde_json::to_vec(&firing(fingerprint, status)).unwrap_or_default()
    };

    // Bad requests: each refused with its status and reason, none stored or delivered.
    let cases = [
        (
            bridge.url("/hooks/alertmanager/nope"),
            Some(AM_SECRET),
            alert("x", "firing"),
            404,
            "no route",
        ),
        (
            bridge.url("/hooks/nagios/prod"),
            Some(AM_SECRET),
            alert("x", "firing"),
            404,
            "no route",
        ),
        (
            prod.clone(),
            None,
            alert("x", "firing"),
            401,
            "Authorization",
        ),
        (
            prod.clone(),
            Some("wrong"),
            alert("x", "firing"),
            401,
            "wrong bearer token",
        ),
        (
            prod.clone(),
            Some(AM_SECRET),
            b"{not json".to_vec(),
            400,
            "not JSON",
        ),
        (
            prod.clone(),
            Some(AM_SECRET),
            br#"{"orgId":1,"alerts":[]}"#.to_vec(),
            400,
            "version",
        ),
        (prod.clone(), Some(AM_SECRET), vec![b' '; 70_000], 413, ""),
    ];
    for (url, token, body, status, reason) in cases {
        let (got, text) = post(url.clone(), token, body).await?;
        ensure!(
            got == status && text.contains(reason),
            "{url}: expected {status} with `{reason}`, got {got}: {text}"
        );
    }
    let generic = bridge.url("/hooks/generic/app");
    let payload = br#"{"title":"Queue stuck","severity":"SEV2","fingerprint":"queue"}"#.to_vec();
    let unsigned = http.post(&generic).body(payload.clone()).send().await?;
    ensure!(
        unsigned.status() == 401,
        "unsigned generic: {}",
        unsigned.status()
    );
    let forged = http
        .post(&generic)
        .header("X-Brigade-Signature", "sha256=00ff")
        .body(payload.clone())
        .send()
        .await?;
    ensure!(
        forged.status() == 401,
        "forged generic: {}",
        forged.status()
    );
    let transaction = bridge.url("/_matrix/app/v1/transactions/1");
    let stranger = http
        .put(&transaction)
        .bearer_auth("not-the-hs-token")
        .json(&json!({ "events": [] }))
        .send()
        .await?;
    ensure!(
        stranger.status() == 403,
        "bad hs_token: {}",
        stranger.status()
    );
    let homeserver = http
        .put(&transaction)
        .bearer_auth(&bridge.hs_token)
        .json(&json!({ "events": [] }))
        .send()
        .await?;
    ensure!(
        homeserver.status() == 200,
        "hs_token: {}",
        homeserver.status()
    );
    let metrics = http
        .get(bridge.url("/metrics"))
        .send()
        .await?
        .text()
        .await?;
    ensure!(
        metrics.contains("brigade_bridge_outbox_depth 0")
            && metrics.contains("outcome=\"unauthorized\"")
            && !metrics.contains("outcome=\"accepted\""),
        "metrics after bad requests: {metrics}"
    );
    let prod_alias = format!("#alerts-prod:{}", hs.server_name);
    ensure!(
        alice
            .client
            .resolve_room_alias(<&RoomAliasId>::try_from(prod_alias.as_str())?)
            .await
            .is_err(),
        "bad requests made a room"
    );

    // Firing, then resolved: one message, edited.
    let (status, _) = post(prod.clone(), Some(AM_SECRET), alert("db1", "firing")).await?;
    ensure!(status == 202, "firing: {status}");
    let room = alice
        .join(&prod_alias)
        .await
        .with_context(|| bridge.log())?;
    let message = alice
        .wait_for_event(&room, "the alert's message", |event| {
            event["content"]["org.brigade.alert"]["fingerprint"] == "db1"
        })
        .await
        .with_context(|| bridge.log())?;
    let id = message["event_id"]
        .as_str()
        .context("an event ID")?
        .to_owned();
    ensure!(
        body(&message).contains("Disk full on db1") && body(&message).contains("firing"),
        "firing message: {message}"
    );
    ensure!(
        message["content"]["org.brigade.alert"]["auto_declare"] == true,
        "a critical alert on a SEV1 route asks for an incident: {message}"
    );
    ensure!(
        message["sender"]
            .as_str()
            .is_some_and(|sender| sender.starts_with("@alert_alertmanager:")),
        "sender: {}",
        message["sender"]
    );
    let (status, _) = post(prod.clone(), Some(AM_SECRET), alert("db1", "resolved")).await?;
    ensure!(status == 202, "resolved: {status}");
    until(
        "the message to say resolved",
        || async { alice.current_body(&room, &id).context("no text") },
        |text| text.contains("resolved"),
    )
    .await
    .with_context(|| bridge.log())?;
    ensure!(alert_messages(&alice, &room, "db1").len() == 1);

    // 500 repeats of one alert: one message, with the count.
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..500 {
        let request = http
            .post(&prod)
            .bearer_auth(AM_SECRET)
            .body(alert("cpu7", "firing"));
        sends.spawn(async move { request.send().await.map(|response| response.status()) });
        while sends.len() >= 16 {
            if let Some(sent) = sends.join_next().await {
                ensure!(sent?? == 202);
            }
        }
    }
    while let Some(sent) = sends.join_next().await {
        ensure!(sent?? == 202);
    }
    let repeated = alice
        .wait_for_event(&room, "the repeated alert's message", |event| {
            event["content"]["org.brigade.alert"]["fingerprint"] == "cpu7"
        })
        .await?;
    let id = repeated["event_id"]
        .as_str()
        .context("an event ID")?
        .to_owned();
    until(
        "the message to count 500",
        || async { alice.current_body(&room, &id).context("no text") },
        |text| text.contains("×500"),
    )
    .await
    .with_context(|| bridge.log())?;
    ensure!(
        alert_messages(&alice, &room, "cpu7").len() == 1,
        "one message for 500 repeats"
    );

    // A signed generic alert.
    let signed = http
        .post(&generic)
        .header(
            "X-Brigade-Signature",
            format!("sha256={}", sign(GENERIC_KEY, &payload)?),
        )
        .body(payload)
        .send()
        .await?;
    ensure!(
        signed.status() == 202,
        "signed generic: {}",
        signed.status()
    );
    let app = alice
        .join(&format!("#alerts-app:{}", hs.server_name))
        .await?;
    let queued = alice
        .wait_for_event(&app, "the generic alert", |event| {
            event["content"]["org.brigade.alert"]["fingerprint"] == "queue"
        })
        .await?;
    ensure!(body(&queued).contains("Queue stuck") && body(&queued).contains("SEV2"));

    // Grafana alerting, with its bearer token.
    let grafana = json!({
        "receiver": "brigade", "status": "firing", "orgId": 1,
        "alerts": [{
            "status": "firing",
            "labels": { "alertname": "HighLatency", "severity": "warning" },
            "annotations": { "summary": "p99 over 2 s on checkout" },
            "fingerprint": "graf-1",
        }],
    });
    let sent = http
        .post(bridge.url("/hooks/grafana/dash"))
        .bearer_auth(GRAFANA_SECRET)
        .json(&grafana)
        .send()
        .await?;
    ensure!(sent.status() == 202, "grafana: {}", sent.status());
    let dash = alice
        .join(&format!("#alerts-dash:{}", hs.server_name))
        .await?;
    let shown = alice
        .wait_for_event(&dash, "the Grafana alert", |event| {
            event["content"]["org.brigade.alert"]["fingerprint"] == "graf-1"
        })
        .await?;
    ensure!(
        body(&shown).contains("p99 over 2 s on checkout") && body(&shown).contains("SEV3"),
        "grafana message: {shown}"
    );

    // PagerDuty v3, signed; a wrong signature is refused.
    let pagerduty = serde_json::to_vec(&json!({
        "event": {
            "id": "01ABC", "event_type": "incident.triggered", "resource_type": "incident",
            "data": { "id": "PD42", "type": "incident", "title": "Payments API down", "urgency": "high" },
        },
    }))?;
    let pd = bridge.url("/hooks/pagerduty/pd");
    let forged = http
        .post(&pd)
        .header("X-PagerDuty-Signature", "v1=00ff")
        .body(pagerduty.clone())
        .send()
        .await?;
    ensure!(
        forged.status() == 401,
        "forged pagerduty: {}",
        forged.status()
    );
    let signed = http
        .post(&pd)
        .header(
            "X-PagerDuty-Signature",
            format!("v1={}", sign(PAGERDUTY_KEY, &pagerduty)?),
        )
        .body(pagerduty)
        .send()
        .await?;
    ensure!(signed.status() == 202, "pagerduty: {}", signed.status());
    let pd_room = alice
        .join(&format!("#alerts-pd:{}", hs.server_name))
        .await?;
    let shown = alice
        .wait_for_event(&pd_room, "the PagerDuty incident", |event| {
            event["content"]["org.brigade.alert"]["fingerprint"] == "PD42"
        })
        .await?;
    ensure!(
        body(&shown).contains("Payments API down")
            && shown["sender"]
                .as_str()
                .is_some_and(|sender| sender.starts_with("@alert_pagerduty:")),
        "pagerduty message: {shown}"
    );
    drop(bridge.kill());
    Ok(())
}
