//! End-to-end: the public status page in headless Chromium, against real Synapse and the bot.
//! Incidents are run by command in Matrix; the page, its Atom feed (read with feed-rs) and its
//! JSON follow, showing only what was said for the public. Screenshots go to
//! `target/screenshots/`.

use std::path::Path;

use anyhow::{ensure, Context, Result};
use brigade_tests::{
    browser::Browser,
    client::TestUser,
    desk::{until, Desk},
    servers::shared as servers,
};
use serde_json::Value;

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

const COMPONENTS: &str = "[status]\ntitle = \"Example status\"\n\
    [[status.components]]\nname = \"Checkout\"\ngroup = \"Shop\"\ndescription = \"Paying for orders\"\n\
    [[status.components]]\nname = \"Search API\"\ngroup = \"Partners\"\n";

/// The status page as the bot serves it: the text of `name` under `/status/`.
async fn served(desk: &Desk, name: &str) -> Result<String> {
    let answer = reqwest::get(format!("http://{}/status/{name}", desk.bot.http)).await?;
    ensure!(answer.status().is_success(), "{name}: {}", answer.status());
    Ok(answer.text().await?)
}

/// Waits until the page's `summary.json` satisfies `holds`, and returns it.
async fn summary_when(desk: &Desk, what: &str, holds: impl Fn(&Value) -> bool) -> Result<Value> {
    until(
        what,
        || async {
            serde_json::from_str::<Value>(&served(desk, "summary.json").await?).map_err(Into::into)
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
    let empty = summary_when(&desk, "the empty page", |summary| {
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
        unknown.contains("unknown component `Billing`: the status page has Checkout, Search API"),
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
        &desk,
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
    let xml = served(&desk, "feed.atom").await?;
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
    summary_when(&desk, "the hidden incident off the page", |summary| {
        summary["incidents"].as_array().is_some_and(Vec::is_empty)
            && component_status(summary, "Checkout") == "operational"
    })
    .await?;
    desk.command(alice, room, "!inc public on", "✅").await?;
    summary_when(&desk, "the incident listed again", |summary| {
        component_status(summary, "Checkout") == "partial_outage"
    })
    .await?;

    // Resolving it restores the component; the incident moves to the past ones.
    desk.command(alice, room, "!inc status resolved", "✅")
        .await?;
    let summary = summary_when(&desk, "all operational again", |summary| {
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
    let xml = served(&desk, "feed.atom").await?;
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
