//! `cargo run -p brigade-tests --bin brigade-demo`: a local homeserver with Brigade in it (the
//! bot, and the alert bridge registered with the homeserver, with a demo route), and an account
//! to sign in with from Element. Everything lives in `.brigade-demo/` and is started
//! afresh each time; Ctrl-C stops it all.

#![recursion_limit = "256"]

use std::{net::Ipv4Addr, path::PathBuf, time::Duration};

use anyhow::{Context, Result};
use brigade_tests::synapse::{random_string, workspace_root, Homeserver, Options};
use clap::Parser;
use serde_json::json;

/// Runs a local Synapse with Brigade and prints how to sign in with Element.
#[derive(Debug, Parser)]
struct Args {
    /// The homeserver's port on localhost.
    #[arg(long, default_value_t = 8008)]
    port: u16,
    /// The bot's /healthz and /metrics port on localhost.
    #[arg(long, default_value_t = 9100)]
    http_port: u16,
    /// The bridge's port on localhost: webhooks, the appservice API, /healthz, /metrics.
    #[arg(long, default_value_t = 9200)]
    bridge_port: u16,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            brigade_bot::cli::DEFAULT_LOG_FILTER,
        ))
        .init();

    let dir = workspace_root().join(".brigade-demo");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    println!(
        "Starting a homeserver on http://localhost:{} (first run installs Synapse) …",
        args.port
    );
    // The bridge's configuration comes first: the homeserver loads its registration at start.
    let bridge_dir = dir.join("bridge");
    std::fs::create_dir_all(&bridge_dir)?;
    let alert_secret = random_string(24);
    let bridge_path = bridge_dir.join("bridge.toml");
    std::fs::write(
        &bridge_path,
        format!(
            "[homeserver]\nurl = \"http://localhost:{port}\"\nserver_name = \"localhost\"\n\
             [appservice]\nid = \"brigade-bridge\"\nlisten = \"127.0.0.1:{bridge}\"\n\
             url = \"http://127.0.0.1:{bridge}\"\nas_token = \"{}\"\nhs_token = \"{}\"\n\
             [storage]\npath = \"{}\"\n\
             [[hooks]]\nname = \"demo\"\nsource = \"alertmanager\"\nroom = \"#alerts:localhost\"\n\
             secret = \"{alert_secret}\"\ninvite = [\"@you:localhost\", \"@brigade:localhost\"]\n\
             auto_declare = \"SEV1\"\n",
            random_string(32),
            random_string(32),
            bridge_dir.join("data").display(),
            port = args.port,
            bridge = args.bridge_port,
        ),
    )?;
    let bridge_config = brigade_bridge::config::Config::load(&bridge_path)?;
    let registration = bridge_dir.join("registration.yaml");
    let bridge_registration = registration.clone();
    std::fs::write(
        &registration,
        brigade_bridge::registration::yaml(&bridge_config),
    )?;
    let homeserver = tokio::task::spawn_blocking({
        let dir = dir.join("synapse");
        let port = args.port;
        move || {
            Homeserver::start(Options {
                ip: Ipv4Addr::LOCALHOST,
                server_name: Some("localhost".to_owned()),
                client_port: Some(port),
                federation: false,
                dir: Some(dir),
                app_services: vec![registration],
            })
        }
    })
    .await??;

    let bot_password = random_string(24);
    let bot_id = homeserver.register("brigade", &bot_password, false).await?;
    let your_password = random_string(12);
    let your_id = homeserver.register("you", &your_password, false).await?;

    let bot_dir = dir.join("bot");
    std::fs::create_dir_all(&bot_dir)?;
    std::fs::write(bot_dir.join("password"), &bot_password)?;
    let config_path = bot_dir.join("bot.toml");
    std::fs::write(
        &config_path,
        format!(
            "[matrix]\nhomeserver_url = \"{}\"\nuser_id = \"{bot_id}\"\npassword_file = \"{}\"\n\
             [storage]\npath = \"{}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n\
             [web]\npublic_url = \"http://localhost:{http}/\"\nhomeserver_url = \"http://localhost:{port}\"\n[profile]\navatar = \"{}\"\n\
             [alerts]\ncommander = \"@you:localhost\"\nbridge_registration = \"{}\"\n",
            homeserver.url,
            bot_dir.join("password").display(),
            bot_dir.join("data").display(),
            avatar().display(),
            bridge_registration.display(),
            http = args.http_port,
            port = args.port,
        ),
    )?;
    let config = brigade_bot::config::Config::load(&config_path)?;
    let listener = tokio::net::TcpListener::bind(config.http.listen).await?;
    let bot = tokio::spawn(brigade_bot::run(
        config,
        listener,
        brigade_bot::cli::shutdown_signal(),
    ));

    let bridge_listener = tokio::net::TcpListener::bind(bridge_config.appservice.listen).await?;
    let bridge = tokio::spawn(brigade_bridge::run(
        bridge_config,
        bridge_listener,
        brigade_bridge::cli::shutdown_signal(),
    ));

    wait_for_healthy("the bot", args.http_port).await?;
    wait_for_healthy("the bridge", args.bridge_port).await?;
    join_standard_rooms(&homeserver, "you", &your_password).await?;

    println!(
        "\nBrigade is running.\n\n\
         Sign in with Element (Element Desktop, or https://app.element.io in a browser):\n  \
         homeserver  http://localhost:{port}\n  \
         user        {your_id}\n  \
         password    {your_password}\n\n\
         You are in the Incidents space with its triage and announcements rooms.\n\
         In \"Incident triage\" send:  !inc declare Checkout is slow --sev 2\n\
         Brigade invites you to the incident's room; there, try  !inc help  and the\n\
         other commands (status, sev, summary, update, page, lead, role, reopen), and\n\
         react 👀 or 🚑 on the pinned summary. Announcements shows the headline.\n\
         You can also invite {bot_id} to any room or start a direct message with it.\n\n\
         Report a problem through the web form (sign in with the same account):\n  \
         http://localhost:{http}/report\n\n\
         Fire a test alert (it lands in #alerts:localhost, where you are invited; being\n\
         critical, it also declares an incident you command):\n  \
         curl -X POST -H 'Authorization: Bearer {alert_secret}' \\\n    \
         -d '{{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[{{\"status\":\"firing\",\"labels\":{{\"alertname\":\"DiskFull\",\"severity\":\"critical\"}},\"annotations\":{{\"summary\":\"Disk full on db1\"}}}}]}}' \\\n    \
         http://127.0.0.1:{bridge}/hooks/alertmanager/demo\n\n\
         Bot health: http://127.0.0.1:{http}/healthz   metrics: http://127.0.0.1:{http}/metrics\n\
         Bridge health: http://127.0.0.1:{bridge}/healthz   metrics: http://127.0.0.1:{bridge}/metrics\n\
         Homeserver files and logs: {dir}\n\
         Ctrl-C stops Brigade and the homeserver.\n",
        port = args.port,
        http = args.http_port,
        bridge = args.bridge_port,
        dir = dir.display(),
    );

    bot.await?.context("brigade-bot stopped")?;
    bridge.await?.context("brigade-bridge stopped")?;
    drop(homeserver);
    Ok(())
}

/// The avatar shipped in `config/`.
fn avatar() -> PathBuf {
    workspace_root().join("config").join("brigade-avatar.png")
}

/// Joins `localpart` to the Incidents space, triage and announcements, then logs that session
/// out so the reader's Element is their only device.
async fn join_standard_rooms(
    homeserver: &Homeserver,
    localpart: &str,
    password: &str,
) -> Result<()> {
    let token = homeserver.access_token(localpart, password).await?;
    let http = reqwest::Client::new();
    for room in ["incidents", "incident-triage", "incidents-announce"] {
        let alias = format!("#{room}:{}", homeserver.server_name).replace('#', "%23");
        http.post(format!("{}/_matrix/client/v3/join/{alias}", homeserver.url))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("joining #{room}"))?;
    }
    http.post(format!("{}/_matrix/client/v3/logout", homeserver.url))
        .bearer_auth(&token)
        .send()
        .await?;
    Ok(())
}

async fn wait_for_healthy(what: &str, http_port: u16) -> Result<()> {
    let url = format!("http://127.0.0.1:{http_port}/healthz");
    for _ in 0..600 {
        if reqwest::get(&url)
            .await
            .is_ok_and(|response| response.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{what} did not become healthy within a minute")
}
