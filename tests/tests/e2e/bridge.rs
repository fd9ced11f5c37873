//! End-to-end: the alert bridge registered with a real Synapse (its own, which loads the
//! bridge's registration). Webhooks in, one message per alert edited as it repeats and
//! resolves, every bad request refused without a trace, bursts, crashes and outages.

use std::path::Path;

use anyhow::{ensure, Context, Result};
use brigade_tests::{
    bridge::{AlertDesk, BridgeProcess},
    client::{body, current_content, TestUser},
    desk::{until, Desk},
    synapse::random_string,
};
use hmac::{Hmac, Mac};
use matrix_sdk::ruma::{api::error::ErrorKind, OwnedUserId, RoomAliasId, RoomId};
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

/// A bridge with four routes (Alertmanager, signed generic JSON, Grafana, PagerDuty), and Alice
/// invited to their rooms.
struct Routes {
    bridge: BridgeProcess,
    alice: TestUser,
    http: reqwest::Client,
}

impl Routes {
    async fn start() -> Result<Self> {
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
            tokio::task::spawn_blocking(move || BridgeProcess::new(bridge_binary(), &hooks))
                .await??;
        bridge.start().await?;
        let hs = &bridge.homeserver;
        let password = random_string(16);
        hs.register(&alice_name, &password, false).await?;
        let alice = TestUser::login(hs, &alice_name, &password).await?;
        Ok(Self {
            bridge,
            alice,
            http: reqwest::Client::new(),
        })
    }

    /// POSTs `body` to `url` with a bearer `token`; the status and the answer's text.
    async fn post(&self, url: String, token: Option<&str>, body: Vec<u8>) -> Result<(u16, String)> {
        let mut request = self.http.post(url).body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }
}

/// An Alertmanager webhook of the alert `fingerprint` in `status`.
fn alert(fingerprint: &str, status: &str) -> Vec<u8> {
    serde_json::to_vec(&firing(fingerprint, status)).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_their_reason_and_make_no_room() -> Result<()> {
    let routes = Routes::start().await?;
    let (bridge, alice, http) = (&routes.bridge, &routes.alice, &routes.http);
    let hs = &bridge.homeserver;
    let prod = bridge.url("/hooks/alertmanager/prod");
    let post = |url, token, body| routes.post(url, token, body);
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
    // A signed generic alert: the timestamp and the body signed together.
    let now = jiff::Timestamp::now().as_second().to_string();
    let signature = sign(GENERIC_KEY, &[now.as_bytes(), b".", &payload].concat())?;
    let send_signed = |timestamp: &str| {
        http.post(&generic)
            .header("X-Brigade-Signature", format!("sha256={signature}"))
            .header("X-Brigade-Timestamp", timestamp)
            .body(payload.clone())
            .send()
    };
    let signed = send_signed(&now).await?;
    ensure!(
        signed.status() == 202,
        "signed generic: {}",
        signed.status()
    );
    // The same request replayed is refused; with another time its signature does not match.
    let replayed = send_signed(&now).await?;
    ensure!(
        replayed.status() == 409,
        "replayed generic: {}",
        replayed.status()
    );
    let later = (jiff::Timestamp::now().as_second() + 1).to_string();
    let retimed = send_signed(&later).await?;
    ensure!(
        retimed.status() == 401,
        "re-timed generic: {}",
        retimed.status()
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

    // The outbox has delivered an alert accepted after the bad requests, so it had its chance
    // to act on them: the prod route's room must not exist (the alias is not found, which is
    // not the same as a lookup that failed).
    let prod_alias = format!("#alerts-prod:{}", hs.server_name);
    let lookup = alice
        .client
        .resolve_room_alias(<&RoomAliasId>::try_from(prod_alias.as_str())?)
        .await;
    ensure!(
        lookup
            .as_ref()
            .err()
            .and_then(|error| error.client_api_error_kind())
            == Some(&ErrorKind::NotFound),
        "bad requests made a room, or the alias could not be looked up: {lookup:?}"
    );

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_too_long_for_a_message_is_cut_with_its_link_and_still_resolves() -> Result<()> {
    let routes = Routes::start().await?;
    let (bridge, alice) = (&routes.bridge, &routes.alice);
    let prod = bridge.url("/hooks/alertmanager/prod");
    let link = "http://prometheus.example.org/graph?g0.expr=disk";
    // A description of 48,000 characters, that HTML escaping makes nearly five times larger.
    let big = |status: &str| {
        let mut payload = firing("huge", status);
        payload["alerts"][0]["annotations"]["description"] = Value::from("<&>\"".repeat(12_000));
        payload["alerts"][0]["generatorURL"] = Value::from(link);
        serde_json::to_vec(&payload).unwrap_or_default()
    };
    let (status, _) = routes
        .post(prod.clone(), Some(AM_SECRET), big("firing"))
        .await?;
    ensure!(status == 202, "firing: {status}");
    let room = alice
        .join(&format!("#alerts-prod:{}", bridge.homeserver.server_name))
        .await
        .with_context(|| bridge.log())?;
    let message = alice
        .wait_for_event(&room, "the alert's message", |event| {
            event["content"]["org.brigade.alert"]["fingerprint"] == "huge"
        })
        .await
        .with_context(|| bridge.log())?;
    let text = body(&message);
    ensure!(
        text.contains("more characters not shown") && text.ends_with(link),
        "the message: {}",
        &text[text.len().saturating_sub(300)..]
    );
    let (status, _) = routes.post(prod, Some(AM_SECRET), big("resolved")).await?;
    ensure!(status == 202, "resolved: {status}");
    let id = message["event_id"].as_str().context("an event ID")?;
    until(
        "the resolved edit",
        || async { alice.current_body(&room, id).context("no text") },
        |text| text.starts_with("✅"),
    )
    .await
    .with_context(|| bridge.log())?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alertmanager_alert_is_one_message_edited_as_it_repeats_and_resolves() -> Result<()> {
    let routes = Routes::start().await?;
    let (bridge, alice, http) = (&routes.bridge, &routes.alice, &routes.http);
    let hs = &bridge.homeserver;
    let prod = bridge.url("/hooks/alertmanager/prod");
    let prod_alias = format!("#alerts-prod:{}", hs.server_name);
    let post = |url, token, body| routes.post(url, token, body);
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
    ensure!(alert_messages(alice, &room, "db1").len() == 1);

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
        alert_messages(alice, &room, "cpu7").len() == 1,
        "one message for 500 repeats"
    );

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grafana_and_signed_pagerduty_alerts_come_from_their_own_users_and_forgeries_do_not(
) -> Result<()> {
    let routes = Routes::start().await?;
    let (bridge, alice, http) = (&routes.bridge, &routes.alice, &routes.http);
    let hs = &bridge.homeserver;
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
            "occurred_at": jiff::Timestamp::now().to_string(),
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
        .body(pagerduty.clone())
        .send()
        .await?;
    ensure!(signed.status() == 202, "pagerduty: {}", signed.status());
    let replayed = http
        .post(&pd)
        .header(
            "X-PagerDuty-Signature",
            format!("v1={}", sign(PAGERDUTY_KEY, &pagerduty)?),
        )
        .body(pagerduty)
        .send()
        .await?;
    ensure!(
        replayed.status() == 409,
        "replayed pagerduty: {}",
        replayed.status()
    );
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
    Ok(())
}

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

/// An Alertmanager webhook carrying `alerts`: fingerprint, status and severity label each.
fn webhook(alerts: &[(String, &str, &str)]) -> Vec<u8> {
    let alerts: Vec<Value> = alerts
        .iter()
        .map(|(fingerprint, status, severity)| {
            json!({
                "status": status,
                "labels": { "alertname": "DiskFull", "severity": severity, "instance": fingerprint },
                "annotations": { "summary": format!("Disk full on {fingerprint}") },
                "fingerprint": fingerprint,
            })
        })
        .collect();
    serde_json::to_vec(&json!({
        "version": "4", "status": "firing", "receiver": "brigade", "groupKey": "{}:{}",
        "alerts": alerts,
    }))
    .unwrap_or_default()
}

/// Posts `body` to the route at `url` with Alertmanager's bearer token; the status.
async fn deliver_webhook(http: &reqwest::Client, url: &str, body: Vec<u8>) -> Result<u16> {
    let response = http
        .post(url)
        .bearer_auth(AM_SECRET)
        .body(body)
        .send()
        .await?;
    Ok(response.status().as_u16())
}

/// What the bridge shows in `room` (read back from its history): the fingerprints of alerts
/// with a message of their own (each once, or this fails), and the burst messages' contents as
/// last edited.
async fn shown(user: &TestUser, room: &RoomId) -> Result<(Vec<String>, Vec<Value>)> {
    let history = user.history(room).await?;
    let mut own = Vec::new();
    let mut bursts = Vec::new();
    for event in &history {
        if event["type"] != "m.room.message" || !event["content"]["m.relates_to"].is_null() {
            continue;
        }
        if let Some(fingerprint) = event["content"]["org.brigade.alert"]["fingerprint"].as_str() {
            own.push(fingerprint.to_owned());
        }
        if !event["content"]["org.brigade.alert_burst"].is_null() {
            let id = event["event_id"].as_str().context("an event ID")?;
            let content = current_content(&history, id).context("the burst")?;
            bursts.push(content["org.brigade.alert_burst"].clone());
        }
    }
    let distinct: std::collections::HashSet<&String> = own.iter().collect();
    ensure!(
        distinct.len() == own.len(),
        "an alert has two messages: {own:?}"
    );
    Ok((own, bursts))
}

/// The text of the message of alert `fingerprint` in `room`, as last edited.
async fn alert_text(user: &TestUser, room: &RoomId, fingerprint: &str) -> Result<String> {
    let history = user.history(room).await?;
    let message = history
        .iter()
        .find(|event| {
            event["content"]["org.brigade.alert"]["fingerprint"] == fingerprint
                && event["content"]["m.relates_to"].is_null()
        })
        .context("no message")?;
    let id = message["event_id"].as_str().context("an event ID")?;
    let content = current_content(&history, id).context("no content")?;
    Ok(content["body"].as_str().unwrap_or_default().to_owned())
}

/// The Alertmanager route `prod`, its room `#alerts-prod` inviting `alice_name`.
fn prod_route(alice_name: &str) -> String {
    format!(
        "[[hooks]]\nname = \"prod\"\nsource = \"alertmanager\"\nroom = \"#alerts-prod:{{server}}\"\n\
         secret = \"{AM_SECRET}\"\ninvite = [\"@{alice_name}:{{server}}\"]\n"
    )
}

/// A bridge with `hooks` (made from Alice's localpart) on its own homeserver, and Alice
/// signed in there.
async fn bridge_with_alice(
    hooks: impl FnOnce(&str) -> String,
) -> Result<(BridgeProcess, TestUser)> {
    let alice_name = format!("alice-{}", random_string(6).to_lowercase());
    let hooks = hooks(&alice_name);
    let mut bridge =
        tokio::task::spawn_blocking(move || BridgeProcess::new(bridge_binary(), &hooks)).await??;
    bridge.start().await?;
    let password = random_string(16);
    bridge
        .homeserver
        .register(&alice_name, &password, false)
        .await?;
    let alice = TestUser::login(&bridge.homeserver, &alice_name, &password).await?;
    Ok((bridge, alice))
}

/// How many alerts the bursts in `bursts` count.
fn in_bursts(bursts: &[Value]) -> u64 {
    bursts
        .iter()
        .filter_map(|burst| burst["alerts"].as_u64())
        .sum()
}

/// The bot's replies under `alert` in `room` that declared an incident.
fn declarations(user: &TestUser, room: &RoomId, bot: &str, alert: &str) -> Vec<Value> {
    user.events(room)
        .into_iter()
        .filter(|event| {
            event["sender"] == bot
                && event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == alert
                && body(event).contains("Declared")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sev1_alert_declares_one_incident_linked_both_ways_and_hears_once_of_its_resolution(
) -> Result<()> {
    let AlertDesk {
        mut bot,
        alice,
        mut bridge,
    } = AlertDesk::start(
        bridge_binary(),
        bot_binary(),
        AM_SECRET,
        "[webhooks]\nburst_after = 5\n",
        "",
    )
    .await?;
    let hs = &bridge.homeserver;
    let (alice_id, alice_name) = (&alice.user_id, alice.user_id.localpart());
    let http = reqwest::Client::new();
    let prod = bridge.url("/hooks/alertmanager/prod");

    // A critical alert on a SEV1 route: one incident, linked both ways.
    let db1 = |status: &'static str| webhook(&[("db1".to_owned(), status, "critical")]);
    ensure!(deliver_webhook(&http, &prod, db1("firing")).await? == 202);
    let alerts = alice
        .join(&format!("#alerts-prod:{}", hs.server_name))
        .await
        .with_context(|| bridge.log())?;
    let message = alice
        .wait_for_event(&alerts, "the alert's message", |event| {
            event["content"]["org.brigade.alert"]["fingerprint"] == "db1"
                && event["content"]["m.relates_to"].is_null()
        })
        .await?;
    let alert_id = message["event_id"]
        .as_str()
        .context("an event ID")?
        .to_owned();
    let reply = alice
        .wait_for_event(&alerts, "the bot's declaration under the alert", |event| {
            event["sender"] == bot.user_id.as_str()
                && event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == alert_id
        })
        .await
        .with_context(|| bot.log())?;
    ensure!(
        body(&reply).contains("Declared **INC-1**") && body(&reply).contains(alice_name),
        "the declaration: {reply}"
    );
    let incident_alias = body(&reply)
        .split(['[', ']'])
        .find(|part| part.starts_with("#inc-"))
        .context("the incident's alias in the reply")?
        .to_owned();
    let incident = alice.join(&incident_alias).await?;
    let state = brigade_tests::desk::incident_state(&alice, &incident).await?;
    ensure!(
        state["title"] == "Disk full on db1"
            && state["severity"] == "SEV1"
            && state["commander"] == alice_id.as_str()
            && state["timestamps"]["started"]
                == message["content"]["org.brigade.alert"]["first_seen"],
        "the incident's state: {state}"
    );
    let (_, summary) = brigade_tests::desk::summary(&alice, &incident).await?;
    ensure!(
        summary.contains("Declared for an alert")
            && summary.contains(&format!("{alerts}/{alert_id}")),
        "the summary links the alert: {summary}"
    );

    // Repeats, a resolution and a new episode while INC-1 is open: no second incident. A
    // second alert is the barrier: the bot handles events in order.
    for _ in 0..3 {
        ensure!(deliver_webhook(&http, &prod, db1("firing")).await? == 202);
    }
    until(
        "the alert to count 4",
        || async { alice.current_body(&alerts, &alert_id).context("no text") },
        |text| text.contains("×4"),
    )
    .await?;
    ensure!(deliver_webhook(&http, &prod, db1("resolved")).await? == 202);
    ensure!(deliver_webhook(&http, &prod, db1("firing")).await? == 202);
    let again = alice
        .wait_for_event(&alerts, "db1 firing again", |event| {
            event["content"]["org.brigade.alert"]["fingerprint"] == "db1"
                && event["content"]["m.relates_to"].is_null()
                && event["event_id"] != alert_id.as_str()
        })
        .await?;
    let db2 = webhook(&[("db2".to_owned(), "firing", "critical")]);
    ensure!(deliver_webhook(&http, &prod, db2).await? == 202);
    let second = alice
        .wait_for_event(&alerts, "the declaration for db2", |event| {
            event["sender"] == bot.user_id.as_str() && body(event).contains("Declared **INC-2**")
        })
        .await
        .with_context(|| bot.log())?;
    ensure!(body(&second).contains("INC-2"));
    let again_id = again["event_id"].as_str().context("an event ID")?;
    ensure!(
        declarations(&alice, &alerts, &bot.user_id, &alert_id).len() == 1
            && declarations(&alice, &alerts, &bot.user_id, again_id).is_empty(),
        "db1 declared once while INC-1 is open; bot log: {}",
        bot.last_log()
    );
    // The incident hears once that its alert resolved.
    let told: Vec<Value> = alice
        .history(&incident)
        .await?
        .into_iter()
        .filter(|event| {
            event["sender"] == bot.user_id.as_str()
                && body(event).contains("The alert this incident was declared for has resolved")
                && body(event).contains(&alert_id)
        })
        .collect();
    ensure!(told.len() == 1, "told of the resolution once: {told:?}");

    drop(bot.kill());
    drop(bridge.kill());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_from_a_user_no_bridge_registration_claims_declares_nothing() -> Result<()> {
    // No bridge is registered on this homeserver, so anyone may be `@alert_…`.
    let hs = &brigade_tests::servers::shared().first;
    let forger = TestUser::register(hs, "alert_forger").await?;
    let desk = Desk::new(
        bot_binary(),
        &format!("[alerts]\ncommander = \"{}\"\n", forger.user_id),
    )
    .await?;
    let room = forger
        .create_room("Alerts, honestly", &[desk.bot_id()])
        .await?;
    forger
        .wait_for_membership(&room, desk.bot_id(), "join")
        .await
        .with_context(|| desk.bot.log())?;
    let now = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis(),
    )?;
    let forged = json!({
        "msgtype": "m.text",
        "body": "🔥 SEV1 Everything is down",
        "org.brigade.alert": {
            "source": "alertmanager", "route": "prod", "fingerprint": "forged",
            "status": "firing", "severity": "SEV1", "title": "Everything is down",
            "count": 1, "first_seen": now, "last_seen": now, "auto_declare": true,
        },
    });
    forger
        .client
        .get_room(&room)
        .context("the forger's room")?
        .send_raw("m.room.message", forged)
        .await?;

    // The bot handles events in order: a declaration after the forged alert comes after it.
    let answer = desk
        .command(
            &desk.alice,
            &desk.triage,
            "!inc declare After the forgery",
            "✅",
        )
        .await?;
    ensure!(
        answer.contains("INC-1"),
        "no incident before this one: {answer}"
    );
    let replies: Vec<Value> = forger
        .history(&room)
        .await?
        .into_iter()
        .filter(|event| {
            event["sender"] == desk.bot_id().as_str() && event["type"] == "m.room.message"
        })
        .collect();
    ensure!(
        replies.is_empty(),
        "the bot answered the forged alert: {replies:?}"
    );
    ensure!(
        desk.bot
            .log()
            .contains("an alert not from the bridge's registered users"),
        "the forged alert is logged:\n{}",
        desk.bot.log()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_beyond_a_rooms_share_are_summarised_in_one_burst_message() -> Result<()> {
    let (bridge, alice) = bridge_with_alice(|alice_name| {
        format!(
            "[webhooks]\nburst_after = 5\n\
             [[hooks]]\nname = \"bulk\"\nsource = \"alertmanager\"\nroom = \"#alerts-bulk:{{server}}\"\n\
             secret = \"{AM_SECRET}\"\ninvite = [\"@{alice_name}:{{server}}\"]\nauto_declare = \"SEV1\"\n"
        )
    })
    .await?;
    let hs = &bridge.homeserver;
    let http = reqwest::Client::new();
    // A burst: 60 alerts in one webhook on a room allowed 5 a minute.
    let bulk = bridge.url("/hooks/alertmanager/bulk");
    let burst: Vec<(String, &str, &str)> = (0..60)
        .map(|n| (format!("b{n:02}"), "firing", "warning"))
        .collect();
    ensure!(deliver_webhook(&http, &bulk, webhook(&burst)).await? == 202);
    let bulk_room = alice
        .join(&format!("#alerts-bulk:{}", hs.server_name))
        .await?;
    let (own, bursts) = until(
        "the burst to count 55",
        || shown(&alice, &bulk_room),
        |(_, bursts)| in_bursts(bursts) == 55,
    )
    .await
    .with_context(|| bridge.log())?;
    ensure!(
        own.len() == 5 && bursts.len() == 1 && bursts[0]["firing"] == 55,
        "5 messages and one burst of 55: {own:?} {bursts:?}"
    );
    // Every alert of the burst, one click away: the list in the burst message's thread.
    let list = until(
        "the burst's list to name 55 firing",
        || burst_list(&alice, &bulk_room),
        |list| list.as_ref().is_some_and(|list| list.count("🔥 ") == 55),
    )
    .await
    .with_context(|| bridge.log())?
    .context("a list")?;
    let titles: std::collections::HashSet<&str> = list
        .text
        .lines()
        .filter_map(|line| line.strip_prefix("🔥 Disk full on "))
        .filter_map(|line| line.split(' ').next())
        .collect();
    ensure!(
        list.text.starts_with("Every alert of this burst (55)") && titles.len() == 55,
        "each alert by name: {}",
        list.text
    );
    ensure!(
        list.burst_text.contains("in this message's thread"),
        "the burst says where: {}",
        list.burst_text
    );
    let threads = threads(&alice, &bulk_room).await?;
    ensure!(
        threads.contains(&list.root),
        "the homeserver has the burst message as a thread's root: {threads:?}"
    );
    // One more joins the open burst; then all resolve.
    let late = vec![("b60".to_owned(), "firing", "warning")];
    ensure!(deliver_webhook(&http, &bulk, webhook(&late)).await? == 202);
    let mut all = burst.clone();
    all.extend(late);
    let resolved: Vec<(String, &str, &str)> = all
        .into_iter()
        .map(|(fingerprint, _, severity)| (fingerprint, "resolved", severity))
        .collect();
    ensure!(deliver_webhook(&http, &bulk, webhook(&resolved)).await? == 202);
    let (own, bursts) = until(
        "the burst to resolve",
        || shown(&alice, &bulk_room),
        |(_, bursts)| bursts.len() == 1 && bursts[0]["resolved"] == 56,
    )
    .await
    .with_context(|| bridge.log())?;
    ensure!(
        own.len() == 5 && bursts[0]["alerts"] == 56 && bursts[0]["firing"] == 0,
        "after resolving: {own:?} {bursts:?}"
    );
    let resolved = until(
        "the burst's list to show 56 resolved",
        || burst_list(&alice, &bulk_room),
        |list| list.as_ref().is_some_and(|list| list.count("✅ ") == 56),
    )
    .await
    .with_context(|| bridge.log())?
    .context("a list")?;
    ensure!(resolved.root == list.root && resolved.count("🔥 ") == 0);
    Ok(())
}

/// A burst's full list, as the room's history shows it.
#[derive(Debug)]
struct BurstList {
    /// The burst message: the thread's root.
    root: String,
    /// The burst message's text, as last edited.
    burst_text: String,
    /// The list's text, as last edited.
    text: String,
}

impl BurstList {
    /// How many of its lines start with `mark`.
    fn count(&self, mark: &str) -> usize {
        self.text
            .lines()
            .filter(|line| line.starts_with(mark))
            .count()
    }
}

/// The first burst's full list in `room`, once posted in its message's thread.
async fn burst_list(user: &TestUser, room: &RoomId) -> Result<Option<BurstList>> {
    let history = user.history(room).await?;
    let Some(list) = history.iter().find(|event| {
        !event["content"]["org.brigade.alert_burst_list"].is_null()
            && event["content"]["m.relates_to"]["rel_type"] == "m.thread"
    }) else {
        return Ok(None);
    };
    let root = list["content"]["m.relates_to"]["event_id"]
        .as_str()
        .context("a root")?
        .to_owned();
    let text = |id: &str| -> Result<String> {
        let content = current_content(&history, id).context("a message")?;
        Ok(content["body"].as_str().unwrap_or_default().to_owned())
    };
    let id = list["event_id"].as_str().context("an event ID")?;
    Ok(Some(BurstList {
        burst_text: text(&root)?,
        text: text(id)?,
        root,
    }))
}

/// The roots of `room`'s threads, as the homeserver lists them to Element.
async fn threads(user: &TestUser, room: &RoomId) -> Result<Vec<String>> {
    let answer = user.get(&format!("v1/rooms/{room}/threads")).await?;
    Ok(answer["chunk"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|event| event["event_id"].as_str().map(str::to_owned))
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_burst_loses_no_accepted_alert_and_repeats_none() -> Result<()> {
    let (mut bridge, alice) = bridge_with_alice(prod_route).await?;
    let http = reqwest::Client::new();
    let prod = bridge.url("/hooks/alertmanager/prod");

    // 10,000 alerts, 10 to a webhook, 16 webhooks in flight; the bridge is killed once 300
    // webhooks are accepted. What was not accepted is sent again after the restart, as
    // Alertmanager would.
    let batches: Vec<Vec<(String, &str, &str)>> = (0..1000)
        .map(|batch| {
            (0..10)
                .map(|n| (format!("a{batch:03}-{n}"), "firing", "warning"))
                .collect()
        })
        .collect();
    let mut accepted = vec![false; batches.len()];
    let mut sends = tokio::task::JoinSet::new();
    let mut killed = false;
    let mut ok = 0;
    for (index, batch) in batches.iter().enumerate() {
        let (http, url, body) = (http.clone(), prod.clone(), webhook(batch));
        sends.spawn(async move { (index, deliver_webhook(&http, &url, body).await) });
        while sends.len() >= 16 || (index + 1 == batches.len() && !sends.is_empty()) {
            let Some(sent) = sends.join_next().await else {
                break;
            };
            let (index, status) = sent?;
            if matches!(status, Ok(202)) {
                accepted[index] = true;
                ok += 1;
            }
            if ok == 300 && !killed {
                bridge.kill()?;
                killed = true;
            }
        }
    }
    ensure!(killed, "the bridge was never killed");
    let before = accepted.iter().filter(|done| **done).count();
    bridge.start().await?;
    for (index, batch) in batches.iter().enumerate() {
        if !accepted[index] {
            let status = deliver_webhook(&http, &prod, webhook(batch)).await?;
            ensure!(status == 202, "resent batch {index}: {status}");
        }
    }
    let room = alice
        .join(&format!("#alerts-prod:{}", bridge.homeserver.server_name))
        .await?;
    let (own, bursts) = until(
        "every alert to be shown",
        || shown(&alice, &room),
        |(own, bursts)| own.len() as u64 + in_bursts(bursts) >= 10_000,
    )
    .await
    .with_context(|| bridge.log())?;
    ensure!(
        own.len() as u64 + in_bursts(&bursts) == 10_000,
        "shown once each: {} own, {} in bursts",
        own.len(),
        in_bursts(&bursts)
    );
    eprintln!(
        "{before} of 1000 webhooks accepted before the crash; {} own messages, {} bursts",
        own.len(),
        bursts.len()
    );
    drop(bridge.kill());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_during_a_homeserver_outage_are_delivered_once_after_it() -> Result<()> {
    let (mut bridge, alice) = bridge_with_alice(|alice_name| {
        format!("[webhooks]\nburst_after = 100\n{}", prod_route(alice_name))
    })
    .await?;
    let http = reqwest::Client::new();
    let prod = bridge.url("/hooks/alertmanager/prod");
    let alert =
        |n: usize, status: &'static str| webhook(&[(format!("o{n:02}"), status, "warning")]);

    for n in 0..10 {
        ensure!(deliver_webhook(&http, &prod, alert(n, "firing")).await? == 202);
    }
    let room = alice
        .join(&format!("#alerts-prod:{}", bridge.homeserver.server_name))
        .await?;
    until(
        "the first ten alerts",
        || shown(&alice, &room),
        |(own, _)| own.len() == 10,
    )
    .await?;

    // Down for 60 s: new alerts and repeats are accepted all the same.
    bridge.homeserver.stop()?;
    for n in 0..30 {
        ensure!(deliver_webhook(&http, &prod, alert(n, "firing")).await? == 202);
    }
    ensure!(deliver_webhook(&http, &prod, alert(0, "resolved")).await? == 202);
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    let metrics = http
        .get(bridge.url("/metrics"))
        .send()
        .await?
        .text()
        .await?;
    ensure!(
        metrics.contains("brigade_bridge_outbox_depth 30"),
        "30 alerts wait in the outbox: {metrics}"
    );
    bridge.homeserver.restart()?;

    let (own, _) = until(
        "all 30 alerts",
        || shown(&alice, &room),
        |(own, _)| own.len() == 30,
    )
    .await
    .with_context(|| bridge.log())?;
    ensure!(own.len() == 30);
    until(
        "o00 to show its repeat and resolution",
        || alert_text(&alice, &room, "o00"),
        |text| text.contains("resolved") && text.contains("×2"),
    )
    .await?;
    until(
        "o05 to count its repeat",
        || alert_text(&alice, &room, "o05"),
        |text| text.contains("×2"),
    )
    .await?;
    drop(bridge.kill());
    Ok(())
}

/// Synapse keeps an appservice user's transaction IDs in memory only: once it restarts, a post
/// retried under the same ID is a second message. The bridge looks for it first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_the_homeserver_took_before_a_crash_and_its_restart_is_not_posted_again(
) -> Result<()> {
    let (mut bridge, alice) = bridge_with_alice(prod_route).await?;
    let http = reqwest::Client::new();
    let prod = bridge.url("/hooks/alertmanager/prod");
    bridge.kill()?;
    bridge
        .start_with_env(&[("FAILPOINTS", "alert-after-send=return")])
        .await?;
    // Taken by the homeserver; the bridge dies before it records that.
    let firing = webhook(&[("c01".to_owned(), "firing", "warning")]);
    ensure!(deliver_webhook(&http, &prod, firing).await? == 202);
    let status = bridge.wait_exit().await?;
    ensure!(status.code() == Some(137), "{}", bridge.log());
    bridge.homeserver.stop()?;
    bridge.homeserver.restart()?;
    bridge.start().await?;

    let room = alice
        .join(&format!("#alerts-prod:{}", bridge.homeserver.server_name))
        .await?;
    let next = webhook(&[("c02".to_owned(), "firing", "warning")]);
    ensure!(deliver_webhook(&http, &prod, next).await? == 202);
    let (mut own, _) = until(
        "the next alert",
        || shown(&alice, &room),
        |(own, _)| own.iter().any(|fingerprint| fingerprint == "c02"),
    )
    .await
    .with_context(|| bridge.log())?;
    own.sort();
    ensure!(own == ["c01", "c02"], "each alert once: {own:?}");
    ensure!(
        bridge.log().contains("an uncertain post had been taken"),
        "{}",
        bridge.log()
    );
    drop(bridge.kill());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_that_refuses_the_bridge_holds_back_only_its_route_until_it_is_invited() -> Result<()>
{
    let alice_name = format!("alice-{}", random_string(6).to_lowercase());
    let hooks = format!(
        "[[hooks]]\nname = \"held\"\nsource = \"alertmanager\"\nroom = \"!held-room:{{server}}\"\n\
         secret = \"{AM_SECRET}\"\n\
         [[hooks]]\nname = \"open\"\nsource = \"alertmanager\"\nroom = \"#alerts-open:{{server}}\"\n\
         secret = \"{AM_SECRET}\"\ninvite = [\"@{alice_name}:{{server}}\"]\n"
    );
    let mut bridge =
        tokio::task::spawn_blocking(move || BridgeProcess::new(bridge_binary(), &hooks)).await??;
    let password = random_string(16);
    bridge
        .homeserver
        .register(&alice_name, &password, false)
        .await?;
    let alice = TestUser::login(&bridge.homeserver, &alice_name, &password).await?;

    // A route's alias is the bridge's alone: nobody can take it first.
    let mut squat = matrix_sdk::ruma::api::client::room::create_room::v3::Request::new();
    squat.room_alias_name = Some("alerts-open".to_owned());
    let refused = alice.client.create_room(squat).await;
    ensure!(
        refused
            .as_ref()
            .err()
            .and_then(|error| error.as_client_api_error())
            .is_some_and(|error| error.error_kind() == Some(&ErrorKind::Exclusive)),
        "a route's alias was taken: {refused:?}"
    );

    // The held route is Alice's own invite-only room, by ID: the bridge may not join it.
    let mut request = matrix_sdk::ruma::api::client::room::create_room::v3::Request::new();
    request.name = Some("Held alerts".to_owned());
    let held = alice
        .client
        .create_room(request)
        .await?
        .room_id()
        .to_owned();
    let config = std::fs::read_to_string(&bridge.config)?;
    let placeholder = format!("!held-room:{}", bridge.homeserver.server_name);
    std::fs::write(&bridge.config, config.replace(&placeholder, held.as_str()))?;
    bridge.start().await?;
    let http = reqwest::Client::new();

    let one = |fingerprint: &str| webhook(&[(fingerprint.to_owned(), "firing", "warning")]);
    ensure!(
        deliver_webhook(&http, &bridge.url("/hooks/alertmanager/held"), one("h1")).await? == 202
    );
    ensure!(
        deliver_webhook(&http, &bridge.url("/hooks/alertmanager/open"), one("o1")).await? == 202
    );
    // The other route is not held up.
    let open = alice
        .join(&format!("#alerts-open:{}", bridge.homeserver.server_name))
        .await
        .with_context(|| bridge.log())?;
    until(
        "the open route's alert",
        || shown(&alice, &open),
        |(own, _)| own == &["o1".to_owned()],
    )
    .await?;
    let metrics = until(
        "the held alert to wait in the outbox",
        || async {
            Ok(http
                .get(bridge.url("/metrics"))
                .send()
                .await?
                .text()
                .await?)
        },
        |metrics| metrics.contains("brigade_bridge_outbox_depth 1"),
    )
    .await?;
    ensure!(metrics.contains("brigade_bridge_outbox_depth 1"));
    ensure!(
        bridge.log().contains("its alerts wait in the outbox"),
        "the held route is logged: {}",
        bridge.log()
    );

    // Invited, the bridge's user joins, and the held alert arrives, once.
    let virtual_user = OwnedUserId::try_from(format!(
        "@alert_alertmanager:{}",
        bridge.homeserver.server_name
    ))?;
    alice
        .client
        .get_room(&held)
        .context("Alice's room")?
        .invite_user_by_id(&virtual_user)
        .await?;
    until(
        "the held alert",
        || shown(&alice, &held),
        |(own, _)| own == &["h1".to_owned()],
    )
    .await
    .with_context(|| bridge.log())?;
    ensure!(
        bridge.log().contains("held routes are tried again"),
        "the invitation reached the bridge: {}",
        bridge.log()
    );
    drop(bridge.kill());
    Ok(())
}
