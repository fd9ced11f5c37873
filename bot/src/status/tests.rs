//! The site built from incidents: what is published and what never is, the component states,
//! and the feed and JSON documents read back.

use brigade_core::{
    incident::{Severity, Status, Update},
    record::IncidentRecord,
    status::Impact,
    testing,
};
use matrix_sdk::ruma::{user_id, UserId};
use url::Url;

use super::{api, files, Site};
use crate::config::Config;

const DAY: u64 = 24 * 60 * 60 * 1000;

fn config() -> Config {
    Config::for_tests(
        "[status]\ntitle = \"Example status\"\n\
         [[status.components]]\nname = \"Checkout\"\ngroup = \"Shop\"\n\
         [[status.components]]\nname = \"Search API\"\ndescription = \"Search for partners\"\n",
    )
}

fn alice() -> &'static UserId {
    user_id!("@alice:example.org")
}

fn update(text: &str, at: u64) -> Update {
    Update {
        at,
        author: alice().to_owned(),
        text: text.to_owned(),
    }
}

fn build(records: &[IncidentRecord], now: u64) -> Site {
    let config = config();
    Site::build(&config.status, &config.web.public_url, records, now)
}

/// Incident 1 affects checkout with a public and an internal update; 2 is private; 3 was
/// resolved a week ago; 4 long ago; 5 only has internal updates.
fn records(now: u64) -> Vec<IncidentRecord> {
    let mut one = testing::record(1, "Checkout errors", Severity::Sev2, now - 3_600_000);
    let incident = &mut one.incident;
    incident
        .affect("Checkout", Some(Impact::Partial), now - 3_500_000, alice())
        .expect("affected");
    incident
        .add_public_update(update(
            "We are looking into failed payments",
            now - 3_400_000,
        ))
        .expect("public");
    incident
        .add_update(update("db-3 fails over; Bob on it", now - 3_300_000))
        .expect("internal");
    let mut two = testing::record(2, "Key leaked", Severity::Sev1, now - 1_000);
    two.incident.private = true;
    two.incident
        .affected
        .insert("Search API".to_owned(), Impact::Major);
    let mut three = testing::record(3, "Search slow", Severity::Sev3, now - 8 * DAY);
    three
        .incident
        .affect("Search API", Some(Impact::Degraded), now - 8 * DAY, alice())
        .expect("affected");
    three
        .incident
        .set_status(Status::Resolved, now - 7 * DAY, alice())
        .expect("resolved");
    let mut four = testing::record(4, "Old outage", Severity::Sev2, now - 200 * DAY);
    four.incident
        .add_public_update(update("Fixed", now - 199 * DAY))
        .expect("public");
    four.incident
        .set_status(Status::Resolved, now - 199 * DAY, alice())
        .expect("resolved");
    let five = {
        let mut five = testing::record(5, "Internal only", Severity::Sev4, now - 5_000);
        five.incident
            .add_update(update("nothing for outside", now - 4_000))
            .expect("internal");
        five
    };
    vec![one, two, three, four, five]
}

#[test]
fn only_what_was_said_for_the_public_is_published() {
    let now = 400 * DAY;
    let site = build(&records(now), now);
    let numbers = |incidents: &[super::PublicIncident]| -> Vec<u64> {
        incidents.iter().map(|incident| incident.number.0).collect()
    };
    assert_eq!(numbers(&site.ongoing), [1]);
    assert_eq!(numbers(&site.history), [3], "resolved in the last 90 days");
    let checkout = &site.components[0];
    assert_eq!(
        (checkout.component.name.as_str(), checkout.impact),
        ("Checkout", Some(Impact::Partial))
    );
    assert_eq!(
        site.components[1].impact, None,
        "the private incident's impact is not shown; the resolved one's is over"
    );
    assert_eq!(site.headline(), "Partial outage");
    let ongoing = &site.ongoing[0];
    assert_eq!(ongoing.updates.len(), 1);
    assert_eq!(
        ongoing.updates[0].text,
        "We are looking into failed payments"
    );
    assert_eq!(site.history[0].affected[0].0.name, "Search API");

    let written = files(&site);
    let text = |name: &str| {
        String::from_utf8(
            written
                .iter()
                .find(|(file, _)| *file == name)
                .map(|(_, bytes)| bytes.clone())
                .expect(name),
        )
        .expect("UTF-8")
    };
    for name in ["index.html", "feed.atom", "summary.json", "incidents.json"] {
        let text = text(name);
        assert!(text.contains("failed payments"), "{name}");
        // Neither the titles people gave the incidents in their rooms nor who said what.
        for secret in [
            "Checkout errors",
            "Search slow",
            "Key leaked",
            "db-3",
            "Bob",
            "Internal only",
            "alice",
        ] {
            assert!(!text.contains(secret), "{name} shows {secret}");
        }
    }
    let page = text("index.html");
    assert!(page.contains("Partial outage"), "{page}");
    assert!(page.contains("Search for partners"), "{page}");
    assert!(!page.contains("<script"), "{page}");
}

#[test]
fn with_nothing_ongoing_all_is_operational() {
    let now = 400 * DAY;
    let all = records(now);
    let site = build(&all[2..], now);
    assert_eq!(site.headline(), "All systems operational");
    assert!(site.components.iter().all(|state| state.impact.is_none()));
    let empty = build(&[], now);
    assert_eq!(empty.updated, 0);
    assert!(api::summary_of(&empty).page.updated_at.is_none());
}

#[test]
fn the_site_is_the_same_until_the_incidents_change() {
    let now = 400 * DAY;
    let first = files(&build(&records(now), now));
    assert_eq!(first, files(&build(&records(now), now + 60_000)));
}

#[test]
fn the_json_documents_round_trip_in_statuspage_shape() {
    let now = 400 * DAY;
    let site = build(&records(now), now);
    let summary = api::summary_of(&site);
    let read: api::Summary = serde_json::from_slice(&api::summary(&site)).expect("JSON");
    assert_eq!(read, summary);
    assert_eq!(summary.status.indicator, "major");
    assert_eq!(summary.components[0].status, "partial_outage");
    assert_eq!(summary.components[1].status, "operational");
    assert_eq!(
        summary.incidents[0].incident_updates[0].status,
        "investigating"
    );
    let incidents: api::Incidents = serde_json::from_slice(&api::incidents(&site)).expect("JSON");
    assert_eq!(incidents, api::incidents_of(&site));
    assert_eq!(incidents.incidents.len(), 2);
    assert_eq!(
        incidents.incidents[1].resolved_at.as_deref(),
        Some(super::site::rfc3339(now - 7 * DAY).as_str())
    );
}

#[test]
fn the_feed_has_an_entry_for_each_public_update_and_resolution() {
    let now = 400 * DAY;
    let site = build(&records(now), now);
    let xml = super::feed::render(&site);
    let feed: atom_syndication::Feed = xml.parse().expect("Atom");
    let titles: Vec<&str> = feed
        .entries
        .iter()
        .map(|entry| entry.title.value.as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "Partial outage of Checkout: Investigating",
            "Degraded performance of Search API: Resolved"
        ]
    );
    let url = Url::parse(&feed.links[0].href).expect("URL");
    assert_eq!(url.path(), "/status/feed.atom");
}
