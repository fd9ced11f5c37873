//! What `docker/test.sh` checks once the compose stack is healthy, as people would: an operator
//! makes an account with Synapse's own tool; its user signs in through the published client
//! port, invites the bot, declares an incident and joins its room; an alert sent to the
//! bridge's published port appears in the alerts room; a command sent while the bot is stopped
//! is answered once it is back, the bot having stopped cleanly on SIGTERM, and a restart keeps
//! the bot's device; `down` and `up` keep the incident. The incident's panel widget and the
//! report form are placed where `.env` says browsers reach the bot, Synapse and Element.
//! `--stack` is the script, called back for
//! `compose …`, `healthy`, `exit-code`, `up` and `down`.

use std::{path::PathBuf, process::Command, time::Duration};

use anyhow::{bail, ensure, Context, Result};
use brigade_tests::{
    client::{body, is_reaction, is_thread_reply, TestUser},
    synapse::random_string,
    wait::wait_for,
};
use clap::Parser;
use matrix_sdk::ruma::{api::client::keys::get_keys, OwnedUserId, RoomId, UserId};

#[derive(Debug, Parser)]
struct Args {
    /// Synapse's published client port.
    #[arg(long)]
    homeserver: String,
    /// The bridge's published port.
    #[arg(long)]
    bridge: String,
    /// The bot's published port.
    #[arg(long)]
    bot: String,
    /// Where `.env` says browsers reach the bot (`BOT_PUBLIC_URL`).
    #[arg(long)]
    bot_public_url: String,
    /// Where `.env` says browsers reach Synapse (`PUBLIC_BASEURL`).
    #[arg(long)]
    homeserver_public_url: String,
    /// Where `.env` says browsers reach Element (`ELEMENT_PUBLIC_URL`).
    #[arg(long)]
    element: String,
    /// The stack's server name.
    #[arg(long)]
    server_name: String,
    /// docker/test.sh.
    #[arg(long)]
    stack: PathBuf,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let bot: OwnedUserId = format!("@brigade:{}", args.server_name).parse()?;

    // The account an operator makes (bridge.toml's route invites @admin).
    let password = random_string(20);
    stack(
        &args,
        &[
            "compose",
            "exec",
            "-T",
            "synapse",
            "register_new_matrix_user",
            "--no-admin",
            "-u",
            "admin",
            "-p",
            &password,
            "-c",
            "/data/homeserver.yaml",
            "http://localhost:8008",
        ],
    )?;
    let admin = TestUser::login_at(&args.homeserver, "admin", &password).await?;
    println!("signed in as {} through {}", admin.user_id, args.homeserver);

    let room = admin.create_room("Docker check", &[&bot]).await?;
    admin.wait_for_membership(&room, &bot, "join").await?;
    println!("the bot joined the room it was invited to");

    let title = "Checkout is slow in docker";
    let declare = admin
        .send_text(&room, &format!("!inc declare {title} --sev 2"))
        .await?;
    admin
        .wait_for_event(&room, "the ✅ on the declaration", |event| {
            is_reaction(event, &bot, declare.as_str(), "✅")
        })
        .await?;
    let incident = wait_for("the invitation to the incident room", || async {
        admin
            .client
            .invited_rooms()
            .into_iter()
            .find(|room| room.name().is_some_and(|name| name.contains(title)))
            .map(|room| room.room_id().to_owned())
    })
    .await?;
    admin.join(incident.as_str()).await?;
    let state = admin
        .state(&incident, "org.brigade.incident", "")
        .await?
        .context("the incident room has no org.brigade.incident state")?;
    ensure!(
        state["severity"] == "SEV2",
        "unexpected incident state {state}"
    );
    println!("declared INC-{} and joined {incident}", state["number"]);
    pages_are_where_browsers_reach_them(&args, &admin, &incident).await?;

    alert_appears(&args, &admin).await?;

    let device = bot_devices(&admin, &bot).await?;
    ensure!(device.len() == 1, "the bot has devices {device:?}");
    stack(&args, &["compose", "stop", "bot"])?;
    let status = stack(&args, &["exit-code", "bot"])?;
    ensure!(
        status.trim() == "0",
        "the bot exited with {} on SIGTERM, not 0",
        status.trim()
    );
    let update = admin
        .send_text(&incident, "!inc update sent while the bot was stopped")
        .await?;
    stack(&args, &["compose", "start", "bot"])?;
    answered_once(&admin, &incident, &bot, update.as_str()).await?;
    println!("a command sent while the bot was stopped was answered once it was back");
    stack(&args, &["compose", "restart", "bot"])?;
    stack(&args, &["healthy", "bot"])?;
    ensure!(
        bot_devices(&admin, &bot).await? == device,
        "the restart changed the bot's devices"
    );
    println!("the bot kept its device {device:?} across stop, start and restart");

    drop(admin);
    stack(&args, &["down"])?;
    stack(&args, &["up"])?;
    let admin = TestUser::login_at(&args.homeserver, "admin", &password).await?;
    let list = admin.send_text(&room, "!inc list").await?;
    let answer = admin
        .wait_for_event(&room, "the answer to !inc list", |event| {
            is_thread_reply(event, &bot, list.as_str())
        })
        .await?;
    ensure!(
        body(&answer).contains(title),
        "the incident is gone after down and up: {}",
        body(&answer)
    );
    ensure!(
        bot_devices(&admin, &bot).await? == device,
        "down and up changed the bot's devices"
    );
    println!("down and up kept the incident and the bot's device");
    Ok(())
}

/// The incident's panel widget points at the bot's public URL, and the report form signs in at
/// Synapse's and may be framed by Element only.
async fn pages_are_where_browsers_reach_them(
    args: &Args,
    admin: &TestUser,
    incident: &RoomId,
) -> Result<()> {
    let widget = admin
        .state(incident, "im.vector.modular.widgets", "brigade-panel")
        .await?
        .context("the incident room has no panel widget")?;
    let url = widget["url"].as_str().unwrap_or_default();
    ensure!(
        url.starts_with(&format!("{}incident/", args.bot_public_url)),
        "the panel widget is at {url}, not under {}",
        args.bot_public_url
    );
    let answer = reqwest::get(format!("{}/report", args.bot)).await?;
    ensure!(
        answer.status().is_success(),
        "/report answered {}",
        answer.status()
    );
    let policy = answer
        .headers()
        .get(reqwest::header::CONTENT_SECURITY_POLICY)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let page = answer.text().await?;
    let homeserver = args.homeserver_public_url.trim_end_matches('/');
    ensure!(
        page.contains(&format!("<option value=\"{homeserver}\"")),
        "the report form does not sign in at {homeserver}: {page}"
    );
    ensure!(
        policy.contains(&format!("connect-src 'self' {homeserver};"))
            && policy.contains(&format!("frame-ancestors 'self' {}", args.element)),
        "the pages' policy is {policy}"
    );
    println!(
        "the panel widget is under {} and the report form signs in at {homeserver}, framed by {} only",
        args.bot_public_url, args.element
    );
    Ok(())
}

/// Fires an alert with `curl` at the bridge's published port and waits for it in the alerts
/// room, which the bridge creates and invites @admin to.
async fn alert_appears(args: &Args, admin: &TestUser) -> Result<()> {
    let token = stack(
        args,
        &[
            "compose",
            "exec",
            "-T",
            "bridge",
            "cat",
            "/run/brigade/alertmanager-token",
        ],
    )?;
    let alert = r#"{"version":"4","status":"firing","receiver":"brigade","groupKey":"{}:{alertname=\"DiskFull\"}","alerts":[{"status":"firing","labels":{"alertname":"DiskFull","severity":"warning","instance":"db1"},"annotations":{"summary":"Disk full on db1"},"startsAt":"2026-12-01T10:00:00Z","fingerprint":"d15cf011"}]}"#;
    let url = format!("{}/hooks/alertmanager/prod", args.bridge);
    let output = Command::new("curl")
        .args(["-fsS", "-X", "POST", "-H", "Content-Type: application/json"])
        .args(["-H", &format!("Authorization: Bearer {}", token.trim())])
        .args(["-d", alert, &url])
        .output()
        .context("running curl")?;
    ensure!(
        output.status.success(),
        "the bridge refused the alert: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let alerts = admin.join(&format!("#alerts:{}", args.server_name)).await?;
    admin
        .wait_for_event(&alerts, "the alert in the alerts room", |event| {
            body(event).contains("Disk full on db1")
        })
        .await?;
    println!(
        "an alert sent to {url} appeared in #alerts:{}",
        args.server_name
    );
    Ok(())
}

/// The command `event` got its ✅ once and one answer.
async fn answered_once(admin: &TestUser, room: &RoomId, bot: &UserId, event: &str) -> Result<()> {
    admin
        .wait_for_event(room, "the ✅ on the command", |candidate| {
            is_reaction(candidate, bot, event, "✅")
        })
        .await?;
    // Time for a second answer to arrive, were there one.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let ticks = admin
        .events(room)
        .iter()
        .filter(|candidate| is_reaction(candidate, bot, event, "✅"))
        .count();
    ensure!(ticks == 1, "the command was acted on {ticks} times");
    Ok(())
}

/// The bot's device IDs, as the homeserver publishes them to other users.
async fn bot_devices(admin: &TestUser, bot: &UserId) -> Result<Vec<String>> {
    let mut request = get_keys::v3::Request::new();
    request.device_keys.insert(bot.to_owned(), Vec::new());
    let response = admin.client.send(request).await?;
    let mut devices: Vec<String> = response
        .device_keys
        .get(bot)
        .map(|devices| devices.keys().map(ToString::to_string).collect())
        .unwrap_or_default();
    devices.sort();
    Ok(devices)
}

/// Runs docker/test.sh with `arguments`; its standard output.
fn stack(args: &Args, arguments: &[&str]) -> Result<String> {
    let output = Command::new(&args.stack)
        .args(arguments)
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", args.stack.display()))?;
    if !output.status.success() {
        bail!("{} {} failed", args.stack.display(), arguments.join(" "));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
