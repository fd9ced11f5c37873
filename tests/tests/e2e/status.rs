//! End-to-end: the public status page in headless Chromium, against real Synapse and the bot.
//! Incidents are run by command in Matrix; the page, its Atom feed (read with feed-rs) and its
//! JSON follow, showing only what was said for the public. Screenshots go to
//! `target/screenshots/`.

use std::path::Path;

use anyhow::{ensure, Context, Result};
use brigade_tests::{
    alertmanager::Alertmanager,
    bot::BotProcess,
    bridge::AlertDesk,
    browser::Browser,
    client::TestUser,
    desk::{eventually, until, Desk},
    git::Remote,
    servers::shared as servers,
    synapse::random_string,
};
use matrix_sdk::ruma::RoomId;
use serde_json::{json, Value};

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

const COMPONENTS: &str = "[status]\ntitle = \"Example status\"\n\
    [[status.components]]\nname = \"Checkout\"\ngroup = \"Shop\"\ndescription = \"Paying for orders\"\n\
    [[status.components]]\nname = \"Search API\"\ngroup = \"Partners\"\n";

/// The status page as the bot serves it: the text of `name` under `/status/`.
async fn served(bot: &BotProcess, name: &str) -> Result<String> {
    let answer = reqwest::get(format!("http://{}/status/{name}", bot.http)).await?;
    ensure!(answer.status().is_success(), "{name}: {}", answer.status());
    Ok(answer.text().await?)
}

/// Waits until the page's `summary.json` satisfies `holds`, and returns it.
async fn summary_when(
    bot: &BotProcess,
    what: &str,
    holds: impl Fn(&Value) -> bool,
) -> Result<Value> {
    until(
        what,
        || async {
            serde_json::from_str::<Value>(&served(bot, "summary.json").await?).map_err(Into::into)
        },
        holds,
    )
    .await
}

fn component_status<'a>(summary: &'a Value, name: &str) -> &'a str {
    summary["components"]
        .as_array()
        .and_then(|components| {
            components
                .iter()
                .find(|component| component["name"] == name)
        })
        .and_then(|component| component["status"].as_str())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_status_page_shows_what_incidents_do_to_components_and_only_their_public_updates(
) -> Result<()> {
    let desk = Desk::new(bot_binary(), COMPONENTS).await?;
    let alice = &desk.alice;
    let bob = TestUser::register(&servers().first, "bob").await?;
    let empty = summary_when(&desk.bot, "the empty page", |summary| {
        summary["status"]["indicator"] == "none"
    })
    .await?;
    ensure!(
        component_status(&empty, "Checkout") == "operational",
        "{empty}"
    );

    let incident = desk
        .declare("Payments fail for EU customers --sev 2")
        .await?;
    let room = &incident.room;
    // Unknown components and impacts are refused with what the page has.
    let unknown = desk
        .command(alice, room, "!inc affects Billing", "❓")
        .await?;
    ensure!(
        unknown.contains("unknown component “Billing”: the status page has Checkout, Search API"),
        "{unknown}"
    );
    let affected = desk
        .command(alice, room, "!inc affects checkout partial", "✅")
        .await?;
    ensure!(
        affected.contains("The status page shows Checkout: partial outage"),
        "{affected}"
    );
    // A public update speaks for the incident: not for someone without a role in it.
    // Members of the Incidents space may join its incident rooms.
    bob.join(desk.space.as_str()).await?;
    bob.join(room.as_str()).await?;
    let refused = desk
        .command(&bob, room, "!inc update --public All fine", "❓")
        .await?;
    ensure!(refused.contains("only the commander"), "{refused}");
    // The page names the incident by what it does until it is given a public title; the
    // title people gave it stays in the room.
    let named = desk
        .command(alice, room, "!inc public title Card payments fail", "✅")
        .await?;
    ensure!(named.contains("“Card payments fail”"), "{named}");
    let public = "We are looking into failed card payments";
    desk.command(alice, room, &format!("!inc update --public {public}"), "✅")
        .await?;
    let internal = "db-3 failed over, Bob is on it";
    desk.command(alice, room, &format!("!inc update {internal}"), "✅")
        .await?;

    // A private incident never appears, whatever is typed.
    let secret = desk
        .declare("Signing key leaked --type security --sev 1")
        .await?;
    let private = desk
        .command(alice, &secret.room, "!inc affects Search API major", "❓")
        .await?;
    ensure!(private.contains("never on the status page"), "{private}");
    let private = desk
        .command(
            alice,
            &secret.room,
            "!inc update --public Keys rotated",
            "❓",
        )
        .await?;
    ensure!(private.contains("never on the status page"), "{private}");

    let summary = summary_when(
        &desk.bot,
        "Checkout partly down with the public update",
        |summary| summary["incidents"][0]["incident_updates"][0]["body"] == public,
    )
    .await?;
    ensure!(
        component_status(&summary, "Checkout") == "partial_outage"
            && component_status(&summary, "Search API") == "operational"
            && summary["status"]["indicator"] == "major",
        "{summary}"
    );
    let browser = Browser::start().await?;
    let page = format!("http://{}/status", desk.bot.http);
    browser.client.goto(&page).await?;
    browser.find("#component-checkout").await?;
    let text = browser.text().await?;
    ensure!(
        text.contains("Partial outage")
            && text.contains("Card payments fail")
            && text.contains(public),
        "{text}"
    );
    for hidden in [
        internal,
        "EU customers",
        "Signing key",
        "Keys rotated",
        alice.name.as_str(),
    ] {
        ensure!(!text.contains(hidden), "the page shows {hidden}: {text}");
    }
    let checkout = browser.find("#component-checkout").await?.text().await?;
    ensure!(checkout.contains("Partial outage"), "{checkout}");
    browser.screenshot("status-ongoing-light").await?;

    // The feed, read by a feed parser as a subscriber's reader would.
    let xml = served(&desk.bot, "feed.atom").await?;
    let feed = feed_rs::parser::parse(xml.as_bytes()).context("the Atom feed")?;
    ensure!(feed.feed_type == feed_rs::model::FeedType::Atom, "{xml}");
    let entry = feed.entries.first().context("an entry")?;
    let said = entry
        .content
        .as_ref()
        .and_then(|content| content.body.clone())
        .unwrap_or_default();
    ensure!(said == public, "{xml}");
    ensure!(
        entry.title.as_ref().map(|title| title.content.as_str())
            == Some("Card payments fail: Investigating"),
        "{xml}"
    );
    ensure!(
        !xml.contains(internal) && !xml.contains("Signing key"),
        "{xml}"
    );

    // Hidden, it leaves the page and its component; listed again, it is back.
    desk.command(alice, room, "!inc public off", "✅").await?;
    summary_when(&desk.bot, "the hidden incident off the page", |summary| {
        summary["incidents"].as_array().is_some_and(Vec::is_empty)
            && component_status(summary, "Checkout") == "operational"
    })
    .await?;
    desk.command(alice, room, "!inc public on", "✅").await?;
    summary_when(&desk.bot, "the incident listed again", |summary| {
        component_status(summary, "Checkout") == "partial_outage"
    })
    .await?;

    // Resolving it restores the component; the incident moves to the past ones.
    desk.command(alice, room, "!inc status resolved", "✅")
        .await?;
    let summary = summary_when(&desk.bot, "all operational again", |summary| {
        summary["status"]["indicator"] == "none"
    })
    .await?;
    ensure!(
        component_status(&summary, "Checkout") == "operational",
        "{summary}"
    );
    browser.client.goto(&page).await?;
    let text = browser.text().await?;
    ensure!(
        text.contains("All systems operational") && text.contains("Past incidents"),
        "{text}"
    );
    browser.screenshot("status-resolved-light").await?;
    browser.stop().await?;

    let dark = Browser::start_dark().await?;
    dark.client.goto(&page).await?;
    dark.find("#history").await?;
    dark.screenshot("status-resolved-dark").await?;
    dark.stop().await?;
    let xml = served(&desk.bot, "feed.atom").await?;
    let feed = feed_rs::parser::parse(xml.as_bytes()).context("the Atom feed")?;
    ensure!(
        feed.entries
            .first()
            .and_then(|entry| entry.title.as_ref())
            .map(|title| title.content.as_str())
            == Some("Card payments fail: Resolved"),
        "{xml}"
    );
    Ok(())
}

/// Waits until the repository's `main` holds what the bot serves, file for file.
async fn pushed_as_served(desk: &Desk, repository: &Remote, what: &str) -> Result<()> {
    until(
        what,
        || async {
            let mut differing = Vec::new();
            for name in [
                "index.html",
                "status.css",
                "feed.atom",
                "summary.json",
                "incidents.json",
            ] {
                if repository.show(name) != served(&desk.bot, name).await? {
                    differing.push(name);
                }
            }
            Ok(differing)
        },
        Vec::is_empty,
    )
    .await
    .map(drop)
}

#[tokio::test]
async fn the_status_page_is_pushed_to_a_git_repository_after_every_change_and_kept_trying(
) -> Result<()> {
    // A bare repository as a static host's would be: it has a file of its own, and refuses
    // pushes while it is "closed for maintenance".
    let repository = Remote::new("status.git", "CNAME", "status.example.org\n")?;
    repository.close()?;

    let config = COMPONENTS.replace(
        "[status]\n",
        &format!(
            "[status]\ngit = \"{}\"\ngit_branch = \"main\"\n",
            repository.path.display()
        ),
    );
    let desk = Desk::new(bot_binary(), &config).await?;
    let alice = &desk.alice;
    let incident = desk.declare("Checkout down --sev 1").await?;
    desk.command(alice, &incident.room, "!inc affects Checkout major", "✅")
        .await?;
    let public = "Checkout is down; we are on it";
    desk.command(
        alice,
        &incident.room,
        &format!("!inc update --public {public}"),
        "✅",
    )
    .await?;
    summary_when(&desk.bot, "the public update served", |summary| {
        summary["incidents"][0]["incident_updates"][0]["body"] == public
    })
    .await?;
    // The refusal is reported and tried again; the served page does not wait for it.
    eventually("the refused push in the log", || {
        desk.bot.log().contains("closed for maintenance")
    })
    .await?;
    ensure!(
        repository.git(&["log", "--format=%s", "main"])? == "Add CNAME\n",
        "nothing reached the closed repository"
    );

    repository.open()?;
    pushed_as_served(&desk, &repository, "the ongoing incident pushed").await?;
    let pushed = repository.git(&["show", "main:summary.json"])?;
    ensure!(pushed.contains(public), "{pushed}");
    let tree = repository.git(&["ls-tree", "--name-only", "main"])?;
    ensure!(
        tree.contains("CNAME\n"),
        "the repository's own file is kept: {tree}"
    );
    let head = repository.git(&["log", "-1", "--format=%an <%ae>|%s", "main"])?;
    let bot = desk.bot_id();
    ensure!(
        head.starts_with(&format!(
            "Brigade <{}@{}>|Major outage: 1 ongoing incident (as of ",
            bot.localpart(),
            bot.server_name()
        )),
        "{head}"
    );

    desk.command(alice, &incident.room, "!inc status resolved", "✅")
        .await?;
    summary_when(&desk.bot, "all operational", |summary| {
        summary["status"]["indicator"] == "none"
    })
    .await?;
    pushed_as_served(&desk, &repository, "the resolution pushed").await?;
    // Every commit changed something: nothing was pushed twice.
    let trees = repository.git(&["log", "--format=%T", "main"])?;
    let trees: Vec<&str> = trees.lines().collect();
    ensure!(
        trees.windows(2).all(|pair| pair[0] != pair[1]),
        "a commit without a change: {trees:?}"
    );
    Ok(())
}

/// The messages in `room` once there are `count`, oldest first.
async fn said_in(user: &TestUser, room: &RoomId, count: usize) -> Result<Vec<String>> {
    until(
        &format!("{count} messages in the status room"),
        || async {
            let events = user.history(room).await?;
            Ok(events
                .iter()
                .filter(|event| event["type"] == "m.room.message")
                .map(|event| brigade_tests::client::body(event).to_owned())
                .collect::<Vec<_>>())
        },
        |said: &Vec<String>| said.len() >= count,
    )
    .await
}

#[tokio::test]
async fn staff_see_internal_updates_signed_in_and_subscribers_read_the_public_ones_in_matrix(
) -> Result<()> {
    let localpart = format!("status-{}", random_string(6).to_lowercase());
    let config = COMPONENTS.replace("[status]\n", &format!("[status]\nroom = \"{localpart}\"\n"));
    let mut desk = Desk::new(bot_binary(), &config).await?;
    let alice = &desk.alice;
    let bob = TestUser::register(&servers().first, "bob").await?;
    // A subscriber of another organisation, over federation: the room is public.
    let subscriber = TestUser::register(&servers().second, "subscriber").await?;
    let alias = format!("#{localpart}:{}", servers().first.server_name);
    let status_room = subscriber.join(&alias).await?;

    let incident = desk.declare("db-3 lost its disk --sev 2").await?;
    let room = &incident.room;
    let internal = "db-3 failed over, Bob is on it";
    desk.command(alice, room, &format!("!inc update {internal}"), "✅")
        .await?;
    desk.command(alice, room, "!inc affects Checkout degraded", "✅")
        .await?;
    let public = "Checkout is slow; we are on it";
    desk.command(alice, room, &format!("!inc update --public {public}"), "✅")
        .await?;
    let secret = desk
        .declare("Signing key leaked --type security --sev 1")
        .await?;
    desk.command(alice, &secret.room, "!inc update Keys rotated", "✅")
        .await?;
    // The staff page, signed in: every open incident with its internal updates; a private one
    // only to its members.
    let page = format!("http://{}/status/internal", desk.bot.http);
    let anonymous = reqwest::get(&page).await?.text().await?;
    ensure!(
        anonymous.contains("Sign in") && !anonymous.contains("Signing key"),
        "{anonymous}"
    );
    let browser = Browser::start().await?;
    browser.client.goto(&page).await?;
    browser.sign_in(alice, "#public-title").await?;
    // Every command was answered after its change was stored: the page has them all.
    let text = browser.text().await?;
    ensure!(
        text.contains("Signing key leaked")
            && text.contains("db-3 lost its disk")
            && text.contains(internal)
            && text.contains(public)
            && text.contains("Keys rotated")
            && text.contains("never: the incident is private")
            && text.contains("“Degraded performance of Checkout”"),
        "{text}"
    );
    let checkout = browser.find("#component-checkout").await?.text().await?;
    ensure!(checkout.contains("Degraded performance"), "{checkout}");
    browser.screenshot("status-internal-light").await?;
    browser.stop().await?;

    let browser = Browser::start_dark().await?;
    browser.client.goto(&page).await?;
    browser.sign_in(&bob, "#public-title").await?;
    let text = browser.text().await?;
    ensure!(
        text.contains("db-3 lost its disk") && text.contains(internal),
        "{text}"
    );
    ensure!(
        !text.contains("Signing key") && !text.contains("Keys rotated"),
        "{text}"
    );
    browser.screenshot("status-internal-dark").await?;
    browser.stop().await?;

    // A private incident gives the page nothing to show.
    for command in [
        "!inc affects Checkout major",
        "!inc update --public Keys are safe",
    ] {
        desk.command(alice, &secret.room, command, "❓").await?;
    }

    // The status room tells the public what the page does, in order, and nothing else.
    let said = |count| said_in(&subscriber, &status_room, count);
    let first = said(2).await?;
    ensure!(
        first[0].contains("Degraded performance of Checkout")
            && first[0].contains("Checkout · Degraded performance"),
        "{first:#?}"
    );
    ensure!(
        first[1].contains(public) && first[1].contains("Investigating"),
        "{first:#?}"
    );

    // Hidden, an incident's public updates wait; nor does a restart tell anything twice.
    desk.command(alice, room, "!inc public off", "✅").await?;
    let meanwhile = "A fix is deployed";
    desk.command(
        alice,
        room,
        &format!("!inc update --public {meanwhile}"),
        "✅",
    )
    .await?;
    desk.bot.terminate().await?;
    desk.bot.start().await?;
    // Subscribers hear a component is operational again, though the page then no longer lists
    // the incident, which did nothing else.
    let search = desk.declare("Search index is stale").await?;
    desk.command(alice, &search.room, "!inc affects Search API partial", "✅")
        .await?;
    said(3).await?;
    desk.command(alice, &search.room, "!inc affects Search API none", "✅")
        .await?;
    let second = said(4).await?;
    ensure!(
        second[2].contains("Search API · Partial outage")
            && second[3].contains("Search API is operational again"),
        "{second:#?}"
    );
    ensure!(
        !second.iter().any(|body| body.contains(meanwhile)),
        "{second:#?}"
    );
    // Listed again, what the page now shows is told.
    desk.command(alice, room, "!inc public on", "✅").await?;
    said(5).await?;
    desk.command(alice, room, "!inc status resolved", "✅")
        .await?;
    let said = said(6).await?;
    ensure!(said.len() == 6, "{said:#?}");
    ensure!(said[..2] == first[..], "{said:#?}");
    ensure!(said[4].contains(meanwhile), "{said:#?}");
    ensure!(said[5].contains("is resolved"), "{said:#?}");
    let all = said.join("\n");
    for hidden in [
        internal,
        "db-3",
        "Signing key",
        "Keys rotated",
        alice.name.as_str(),
    ] {
        ensure!(
            !all.contains(hidden),
            "the status room shows {hidden}: {all}"
        );
    }
    // Only the bot posts there.
    let refused = subscriber.send_text(&status_room, "hello?").await;
    ensure!(refused.is_err(), "a subscriber posted in the status room");

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_from_alertmanager_shows_the_component_its_labels_name_on_the_page() -> Result<()>
{
    let secret = random_string(24);
    let AlertDesk { bot, alice, bridge } = AlertDesk::start(
        Path::new(env!("CARGO_BIN_EXE_brigade-bridge-e2e")),
        bot_binary(),
        &secret,
        "",
        COMPONENTS,
    )
    .await?;
    let hs = &bridge.homeserver;
    // Prometheus's alerts as Alertmanager groups and sends them, with its own authorization.
    let alertmanager =
        Alertmanager::start(&bridge.url("/hooks/alertmanager/prod"), &secret).await?;
    let checkout = json!({
        "alertname": "CheckoutErrors", "severity": "critical",
        "component": "checkout", "impact": "partial",
    });
    let summary = json!({"summary": "Checkout answers 5xx to 30% of payments"});
    alertmanager
        .post(checkout.clone(), summary.clone(), false)
        .await?;
    let room = format!("#alerts-prod:{}", hs.server_name);
    let alerts = until("the alerts room", || alice.join(&room), |_| true)
        .await
        .with_context(|| format!("{}\n{}", bridge.log(), alertmanager.log()))?;
    let declared = |what: &'static str| {
        let (alice, alerts, bot) = (&alice, &alerts, &bot);
        async move {
            alice
                .wait_for_event(alerts, "the bot's declaration under the alert", |event| {
                    event["sender"] == bot.user_id.as_str()
                        && !event["content"]["m.relates_to"]["m.in_reply_to"].is_null()
                        && brigade_tests::client::body(event).contains(what)
                })
                .await
                .map(|event| brigade_tests::client::body(&event).to_owned())
                .with_context(|| bot.log())
        }
    };
    let reply = declared("Declared **INC-1**").await?;
    ensure!(
        reply.contains("The status page shows Checkout: partial outage."),
        "{reply}"
    );
    let alias = reply
        .split(['[', ']'])
        .find(|part| part.starts_with("#inc-"))
        .context("the incident's alias in the reply")?
        .to_owned();
    let page = summary_when(&bot, "Checkout partly down", |summary| {
        component_status(summary, "Checkout") == "partial_outage"
    })
    .await?;
    ensure!(
        component_status(&page, "Search API") == "operational"
            && page["incidents"][0]["name"] == "Partial outage of Checkout",
        "{page}"
    );
    // Only the page's public title is shown: never the alert's text.
    ensure!(!page.to_string().contains("5xx"), "{page}");

    // A component the page does not have: the incident is declared, and told why the page
    // does not show it.
    let unknown = json!({
        "alertname": "LedgerLag", "severity": "critical", "component": "Billing",
    });
    alertmanager
        .post(unknown, json!({"summary": "The ledger lags"}), false)
        .await?;
    let reply = declared("Declared **INC-2**").await?;
    ensure!(
        reply.contains(
            "The status page does not show it: unknown component “Billing”: the status page has Checkout, Search API."
        ),
        "{reply}"
    );

    // Resolved in Alertmanager, the incident hears of it; the page waits for people.
    alertmanager.post(checkout, summary, true).await?;
    let incident = alice.join(&alias).await?;
    alice
        .wait_for_event(&incident, "the alert's resolution", |event| {
            brigade_tests::client::body(event)
                .contains("The alert this incident was declared for has resolved")
        })
        .await?;
    let page = summary_when(&bot, "the page as it was", |summary| {
        summary["incidents"]
            .as_array()
            .is_some_and(|all| all.len() == 1)
    })
    .await?;
    ensure!(
        component_status(&page, "Checkout") == "partial_outage",
        "{page}"
    );
    Ok(())
}
