//! Paging outside Matrix, next to its floor in the same run: a real Alertmanager, the bridge,
//! the bot and a real SMTP server (aiosmtpd) on one Synapse.
//!
//! `cargo bench -p brigade-tests --bench escalation` (add `--profile dev` for a quick debug
//! build; `BRIGADE_BENCH_ROUNDS=10` for fewer rounds):
//! - an alert posted to Alertmanager until its on-call's mail is accepted by the SMTP server
//!   (the route's escalation policy, `notify_after = 0`), next to the same alert until its
//!   message reaches the on-call's Matrix client (Alertmanager → bridge → Synapse), which the
//!   mail's path includes (with, beyond it, the incident's declaration and its page);
//! - the bot's resident memory and CPU while idle with 1,000 more running escalation policies
//!   (1,000 open incidents, each with a policy waiting for its next level), next to the same
//!   bot with only the rounds' own: what each running policy costs (three tasks look at the
//!   open incidents once a second: escalation timers, notifications, reminders).

#![recursion_limit = "256"]

use std::{
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use brigade_core::{
    incident::{Declaration, Incident, IncidentNumber, Severity},
    record::{Escalation, IncidentRecord},
    store::EngineStore,
};
use brigade_tests::{
    alertmanager::Alertmanager,
    bench::{report, rounds, store_record_shown, WARM_UP},
    bot::BotProcess,
    bridge::{AlertDesk, AlertSetup},
    smtp::Smtp,
    synapse::random_string,
};
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomAliasId, OwnedRoomId, UserId};
use serde_json::json;

fn main() -> Result<()> {
    tokio::runtime::Runtime::new()?.block_on(bench())
}

/// How often the bench looks for what it waits for.
const POLL: Duration = Duration::from_millis(5);

/// The longest a round waits.
const PATIENCE: Duration = Duration::from_secs(60);

async fn bench() -> Result<()> {
    let rounds = rounds(20);
    let smtp = Smtp::start().await?;
    let secret = random_string(24);
    let bot_extra = format!(
        "[notify.email]\nsmtp = \"{}\"\nfrom = \"Brigade <brigade@example.org>\"\n\
         [[notify.people]]\nuser = \"{{alice}}\"\nemail = \"alice@example.org\"\n\
         [[escalation]]\nname = \"mail\"\n\
         [[escalation.levels]]\npage = [\"{{alice}}\"]\nwait = \"1h\"\nnotify_after = \"0s\"\n",
        smtp.url()
    );
    let setup = AlertSetup {
        route: "escalation = \"mail\"\n",
        bot_extra: &bot_extra,
        ..AlertSetup::default()
    };
    let AlertDesk {
        mut bot,
        alice,
        bridge,
    } = AlertDesk::start_with(
        Path::new(env!("CARGO_BIN_EXE_brigade-bridge-e2e")),
        Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e")),
        &secret,
        setup,
    )
    .await?;
    let alertmanager =
        Alertmanager::start(&bridge.url("/hooks/alertmanager/prod"), &secret).await?;
    let room = format!("#alerts-prod:{}", bridge.homeserver.server_name);

    println!("{:<44} {:>8} {:>8} {:>8}", "", "median", "p90", "max");
    let mut to_matrix = Vec::new();
    let mut to_mail = Vec::new();
    let mut alerts: Option<OwnedRoomId> = None;
    for round in 0..WARM_UP + rounds {
        let title = format!("Bench alert {round}");
        let labels = json!({"alertname": format!("Bench{round}"), "severity": "critical"});
        let started = Instant::now();
        alertmanager
            .post(labels, json!({"summary": title}), false)
            .await?;
        // The route's room exists once the bridge has posted its first alert.
        let alerts = match &alerts {
            Some(alerts) => alerts.clone(),
            None => alerts.insert(alice.join(&room).await?).clone(),
        };
        let mut seen = None;
        let mut mailed = None;
        while seen.is_none() || mailed.is_none() {
            if started.elapsed() > PATIENCE {
                anyhow::bail!(
                    "round {round}: matrix {seen:?}, mail {mailed:?}\n{}",
                    bot.last_log()
                );
            }
            if seen.is_none()
                && alice
                    .events(&alerts)
                    .iter()
                    .any(|event| event["content"]["org.brigade.alert"]["title"] == title.as_str())
            {
                seen = Some(started.elapsed());
            }
            if mailed.is_none()
                && smtp
                    .mails()?
                    .iter()
                    .any(|mail| mail.subject.contains(&title))
            {
                mailed = Some(started.elapsed());
            }
            tokio::time::sleep(POLL).await;
        }
        if round >= WARM_UP {
            to_matrix.extend(seen);
            to_mail.extend(mailed);
        }
    }
    let matrix = report(
        "alert → Alertmanager → bridge → Matrix client",
        &mut to_matrix,
    );
    let mail = report("alert → … → bot → mail accepted (SMTP)", &mut to_mail);
    println!(
        "{:<44} {:>8.2}× the floor ({:.0} ms more)",
        "mail, next to Matrix",
        mail.as_secs_f64() / matrix.as_secs_f64(),
        (mail.as_secs_f64() - matrix.as_secs_f64()) * 1000.0
    );

    // 1,000 running policies, next to the rounds' own: each measured on a bot just started
    // (the same age, the same log filter).
    let before = WARM_UP + rounds;
    bot.terminate().await?;
    bot.start().await?;
    let idle = settle(&bot).await?;
    bot.terminate().await?;
    let bot_id = UserId::parse(&bot.user_id)?;
    running_policies(&bot.store_dir(), &bot_id, 1000).await?;
    bot.start().await?;
    let busy = settle(&bot).await?;
    println!(
        "{:<44} {:>8} {:>8}",
        "idle bot, 10 s after start", "RSS", "CPU/s"
    );
    let show = |what: &str, (rss, cpu): (u64, f64)| {
        println!("{what:<44} {:>5} MiB {:>6.1} ms", rss / 1024, cpu * 1000.0);
    };
    show(&format!("{before} running policies (the rounds')"), idle);
    show(&format!("{} running policies", before + 1000), busy);
    println!(
        "{:<44} {:>5.1} KiB {:>6.3} ms",
        "per running policy",
        busy.0.saturating_sub(idle.0) as f64 / 1000.0,
        (busy.1 - idle.1).max(0.0)
    );
    drop(bot.kill());
    Ok(())
}

/// The bot's resident memory (KiB) and CPU seconds per second over 10 s, once it has run for
/// 10 s (the start-up's work done).
async fn settle(bot: &BotProcess) -> Result<(u64, f64)> {
    tokio::time::sleep(Duration::from_secs(10)).await;
    let pid = bot.pid().context("the bot is not running")?;
    let cpu = || -> Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .context("a stat line")?
            .1
            .split_whitespace()
            .collect();
        let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
        Ok(ticks / 100.0)
    };
    let before = cpu()?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let used = (cpu()? - before) / 10.0;
    Ok((bot.rss_kib().context("no RSS")?, used))
}

/// `count` open incidents in the store at `path`, each with the policy `mail` waiting a day
/// for its next level, as if paged and left alone (the bot is stopped meanwhile).
async fn running_policies(path: &Path, bot: &UserId, count: u64) -> Result<()> {
    let store = EngineStore::open(path)?;
    let now = brigade_core::clock::millis_since_epoch(std::time::SystemTime::now());
    for n in 1..=count {
        let declaration = Declaration {
            title: format!("Running policy {n}"),
            severity: Severity::Sev2,
            kind: "operations".to_owned(),
            private: false,
            declarer: bot.to_owned(),
            commander: Some(bot.to_owned()),
            started: None,
            alert: None,
            affects: None,
        };
        let incident = Incident::declare(IncidentNumber(10_000 + n), declaration, now)?;
        let room = OwnedRoomId::try_from(format!("!policy-{n}:bench.invalid"))?;
        let alias = OwnedRoomAliasId::try_from(format!("#inc-policy-{n}:bench.invalid"))?;
        let mut record = IncidentRecord::new(incident, room, alias);
        let page = OwnedEventId::try_from(format!("$page-{n}"))?;
        record.escalations.push(Escalation {
            policy: "mail".to_owned(),
            cause: page.clone(),
            level: 0,
            repeats: 0,
            steps: 1,
            due: now + 24 * 3600 * 1000,
            pages: vec![page],
            hurried_by: None,
            notify_at: Some(now + 24 * 3600 * 1000),
            notices: Vec::new(),
        });
        store_record_shown(&store, &record).await?;
    }
    Ok(())
}
