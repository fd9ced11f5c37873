//! The outbox against a homeserver in memory, on a test clock: messages posted once and
//! edited, bursts, routes held back, outages.

use std::{sync::Arc, time::Duration};

use super::Outbox;
use crate::{
    alert::{Alert, AlertStatus, Source},
    bridge::Bridge,
    store::Pending,
    testing::{self, FakeHomeserver, Sent},
};

const ROUTES: &str = r##"
[webhooks]
burst_after = 3
[[hooks]]
name = "prod"
source = "generic"
room = "#alerts:example.org"
secret = "s"
[[hooks]]
name = "db"
source = "alertmanager"
room = "#db:example.org"
secret = "s"
"##;

pub(super) fn alert(fingerprint: &str, status: AlertStatus) -> Alert {
    Alert {
        fingerprint: fingerprint.to_owned(),
        status,
        title: format!("Disk full on {fingerprint}"),
        severity: None,
        body: String::new(),
        link: None,
        component: None,
        impact: None,
    }
}

pub(super) async fn accept(bridge: &Bridge, source: Source, route: &str, alerts: &[Alert]) {
    let now = bridge.clock.now_millis();
    bridge
        .store
        .accept(source, route, alerts, now)
        .await
        .expect("accepted");
}

/// A firing alert `fingerprint` on the generic route.
pub(super) async fn fire(bridge: &Bridge, fingerprint: &str) {
    accept(
        bridge,
        Source::Generic,
        "prod",
        &[alert(fingerprint, AlertStatus::Firing)],
    )
    .await;
}

pub(super) fn setup() -> (
    Arc<Bridge>,
    Arc<FakeHomeserver>,
    Arc<brigade_core::clock::TestClock>,
) {
    let homeserver = Arc::new(FakeHomeserver::default());
    let (bridge, clock) = testing::bridge(testing::config(ROUTES), homeserver.clone());
    (bridge, homeserver, clock)
}

/// The first posts among `sent` (not edits).
pub(super) fn posts(sent: &[Sent]) -> Vec<&Sent> {
    sent.iter()
        .filter(|sent| sent.content["m.relates_to"].is_null())
        .collect()
}

/// A pass whose post the homeserver takes and whose answer is lost: the outbox cannot know.
pub(super) async fn post_with_its_answer_lost(
    outbox: &mut Outbox,
    bridge: &Bridge,
    homeserver: &FakeHomeserver,
) {
    homeserver.lose_answers(true);
    assert!(
        outbox.deliver_all(bridge).await.is_err(),
        "the answer was lost"
    );
    homeserver.lose_answers(false);
}

fn bodies(homeserver: &FakeHomeserver) -> Vec<String> {
    homeserver
        .sent()
        .iter()
        .map(|sent| sent.content["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn an_alert_is_posted_once_then_edited_as_it_repeats_and_resolves() {
    let (bridge, homeserver, clock) = setup();
    let mut outbox = Outbox::new(&bridge).expect("outbox");
    fire(&bridge, "a").await;
    assert_eq!(outbox.deliver_all(&bridge).await.expect("delivered"), None);
    clock.advance(Duration::from_secs(5));
    fire(&bridge, "a").await;
    outbox.deliver_all(&bridge).await.expect("delivered");
    accept(
        &bridge,
        Source::Generic,
        "prod",
        &[alert("a", AlertStatus::Resolved)],
    )
    .await;
    outbox.deliver_all(&bridge).await.expect("delivered");

    let sent = homeserver.sent();
    assert_eq!(sent.len(), 3, "{:?}", bodies(&homeserver));
    let first = &sent[0].event_id;
    for edit in &sent[1..] {
        assert_eq!(edit.content["m.relates_to"]["event_id"], first.as_str());
    }
    assert_eq!(
        sent[1].content["m.new_content"]["org.brigade.alert"]["count"],
        2
    );
    assert_eq!(
        sent[2].content["m.new_content"]["org.brigade.alert"]["status"],
        "resolved"
    );
    assert_eq!(bridge.store.depth(), 0);
    // Delivering again sends nothing: the message shows the latest state.
    outbox.deliver_all(&bridge).await.expect("delivered");
    assert_eq!(homeserver.sent().len(), 3);
}

#[tokio::test]
async fn an_alert_too_long_for_a_message_is_cut_to_fit_and_its_edits_still_go_through() {
    let (bridge, homeserver, _clock) = setup();
    let mut outbox = Outbox::new(&bridge).expect("outbox");
    // Characters that grow most when escaped for HTML and for JSON.
    let huge = |status| Alert {
        title: "<&>".repeat(2_000),
        body: "<\u{1}\"&".repeat(50_000),
        link: Some("https://prometheus.example.org/graph?g0.expr=up".to_owned()),
        component: None,
        impact: None,
        ..alert("big", status)
    };
    accept(
        &bridge,
        Source::Generic,
        "prod",
        &[huge(AlertStatus::Firing)],
    )
    .await;
    outbox.deliver_all(&bridge).await.expect("delivered");
    accept(
        &bridge,
        Source::Generic,
        "prod",
        &[huge(AlertStatus::Resolved)],
    )
    .await;
    outbox.deliver_all(&bridge).await.expect("delivered");

    let sent = homeserver.sent();
    assert_eq!(
        sent.len(),
        2,
        "posted, then edited: {:?}",
        bodies(&homeserver)
    );
    let shown = &sent[1].content["m.new_content"];
    assert_eq!(shown["org.brigade.alert"]["status"], "resolved");
    let body = shown["body"].as_str().expect("a body");
    assert!(
        body.contains("more characters not shown"),
        "{}",
        &body[..200]
    );
    assert!(body.ends_with("https://prometheus.example.org/graph?g0.expr=up"));
    assert_eq!(bridge.store.depth(), 0);
    // The store keeps the whole description.
    let key = crate::store::AlertRecord::key(Source::Generic, "prod", "big");
    let record = bridge.store.alert(&key).expect("readable").expect("kept");
    assert_eq!(record.body.chars().count(), 200_000);
}

#[tokio::test]
async fn beyond_its_share_a_rooms_alerts_are_counted_in_one_burst_edited_at_most_once_a_second() {
    let (bridge, homeserver, clock) = setup();
    let mut outbox = Outbox::new(&bridge).expect("outbox");
    let alerts: Vec<Alert> = (0..5)
        .map(|n| alert(&format!("f{n}"), AlertStatus::Firing))
        .collect();
    accept(&bridge, Source::Generic, "prod", &alerts).await;
    outbox.deliver_all(&bridge).await.expect("delivered");
    let bursts: Vec<_> = homeserver
        .sent()
        .into_iter()
        .filter(|sent| !sent.content["org.brigade.alert_burst"].is_null())
        .collect();
    assert_eq!(
        homeserver.sent().len(),
        5,
        "three of their own, a burst and its list"
    );
    assert_eq!(bursts.len(), 1);
    assert_eq!(bursts[0].content["org.brigade.alert_burst"]["alerts"], 2);
    let list = homeserver
        .sent()
        .into_iter()
        .find(|sent| !sent.content["org.brigade.alert_burst_list"].is_null())
        .expect("the list");
    assert_eq!(list.content["m.relates_to"]["rel_type"], "m.thread");
    assert_eq!(
        list.content["m.relates_to"]["event_id"],
        bursts[0].event_id.as_str()
    );
    assert_eq!(list.content["org.brigade.alert_burst_list"]["listed"], 2);

    accept(
        &bridge,
        Source::Generic,
        "prod",
        &[alert("f4", AlertStatus::Resolved)],
    )
    .await;
    let later = outbox.deliver_all(&bridge).await.expect("delivered");
    assert!(
        later.is_some_and(|wait| wait <= Duration::from_secs(1)),
        "{later:?}"
    );
    assert_eq!(homeserver.sent().len(), 5, "not edited within the second");
    clock.advance(Duration::from_secs(1));
    outbox.deliver_all(&bridge).await.expect("delivered");
    let sent = homeserver.sent();
    let [.., edit, list_edit] = sent.as_slice() else {
        panic!("two edits: {sent:?}");
    };
    assert_eq!(
        edit.content["m.new_content"]["org.brigade.alert_burst"]["resolved"],
        1
    );
    assert_eq!(
        list_edit.content["m.relates_to"]["event_id"],
        list.event_id.as_str()
    );
    let listed = list_edit.content["m.new_content"]["body"]
        .as_str()
        .unwrap_or_default();
    assert!(listed.contains("✅ ") && listed.contains("🔥 "), "{listed}");
    assert_eq!(bridge.store.depth(), 0, "both in step");
}

#[tokio::test]
async fn a_room_that_refuses_the_bridge_holds_back_only_its_route() {
    let (bridge, homeserver, clock) = setup();
    let mut outbox = Outbox::new(&bridge).expect("outbox");
    fire(&bridge, "a").await;
    outbox.deliver_all(&bridge).await.expect("delivered");
    let prod = homeserver.room("#alerts:example.org").expect("created");
    homeserver.refuse(&prod, true);

    fire(&bridge, "b").await;
    accept(
        &bridge,
        Source::Alertmanager,
        "db",
        &[alert("c", AlertStatus::Firing)],
    )
    .await;
    let later = outbox.deliver_all(&bridge).await.expect("delivered");
    assert!(later.is_some(), "the held route waits");
    let rooms: Vec<_> = homeserver
        .sent()
        .iter()
        .map(|sent| sent.room.clone())
        .collect();
    assert_eq!(rooms.len(), 2, "the other route was delivered");
    assert_ne!(rooms[1], prod);
    assert_eq!(bridge.store.depth(), 1);

    // Invited again: held routes are tried at once.
    homeserver.refuse(&prod, false);
    bridge
        .retry_held
        .store(true, std::sync::atomic::Ordering::Release);
    clock.advance(Duration::from_millis(10));
    outbox.deliver_all(&bridge).await.expect("delivered");
    assert_eq!(homeserver.sent().len(), 3);
    assert_eq!(bridge.store.depth(), 0);
}

#[tokio::test]
async fn a_post_cut_off_by_an_outage_is_one_message_edited_once_after() {
    let (bridge, homeserver, _clock) = setup();
    let mut outbox = Outbox::new(&bridge).expect("outbox");
    fire(&bridge, "a").await;
    outbox.deliver_all(&bridge).await.expect("delivered");
    fire(&bridge, "b").await;
    homeserver.set_down(true);
    assert!(
        outbox.deliver_all(&bridge).await.is_err(),
        "worth another try"
    );
    assert_eq!(
        bridge.store.pending().expect("pending"),
        vec![Pending::Alert("generic\u{0}prod\u{0}b".to_owned())]
    );
    homeserver.set_down(false);
    outbox.deliver_all(&bridge).await.expect("delivered");
    let sent = homeserver.sent();
    assert_eq!(
        sent.len(),
        3,
        "the post of a, of b, and the edit b's uncertain post gets"
    );
    assert_eq!(
        sent[2].content["m.relates_to"]["event_id"],
        sent[1].event_id.as_str()
    );
    assert_eq!(bridge.store.depth(), 0);
}

#[tokio::test]
async fn a_message_refused_for_good_is_dropped_and_counted() {
    let (bridge, homeserver, _clock) = setup();
    let mut outbox = Outbox::new(&bridge).expect("outbox");
    homeserver.reject_messages(Some(413));
    fire(&bridge, "a").await;
    assert_eq!(outbox.deliver_all(&bridge).await.expect("settled"), None);
    assert_eq!(bridge.store.depth(), 0, "dropped, not blocking the outbox");
    let metrics = bridge.metrics.render();
    let counted = metrics
        .lines()
        .find(|line| line.contains("messages_refused") && line.contains("generic/prod"));
    assert!(
        counted.is_some_and(|line| line.ends_with(" 1")),
        "{metrics}"
    );
    homeserver.reject_messages(None);
    fire(&bridge, "b").await;
    outbox.deliver_all(&bridge).await.expect("delivered");
    assert_eq!(homeserver.sent().len(), 1, "the next alert goes through");
}

#[tokio::test]
async fn an_alert_of_a_route_no_longer_configured_waits_and_is_never_dropped() {
    let (bridge, homeserver, _clock) = setup();
    let mut outbox = Outbox::new(&bridge).expect("outbox");
    fire(&bridge, "a").await;
    outbox.deliver_all(&bridge).await.expect("delivered");
    accept(
        &bridge,
        Source::Pagerduty,
        "gone",
        &[alert("p", AlertStatus::Firing)],
    )
    .await;
    let later = outbox.deliver_all(&bridge).await.expect("delivered");
    assert!(later.is_some());
    assert_eq!(bridge.store.depth(), 1);
    assert_eq!(homeserver.sent().len(), 1);
}

#[tokio::test]
async fn a_post_whose_answer_was_lost_is_one_message_found_again() {
    let (bridge, homeserver, _clock) = setup();
    let mut outbox = Outbox::new(&bridge).expect("outbox");
    fire(&bridge, "a").await;
    outbox.deliver_all(&bridge).await.expect("delivered");
    fire(&bridge, "b").await;
    post_with_its_answer_lost(&mut outbox, &bridge, &homeserver).await;
    outbox.deliver_all(&bridge).await.expect("delivered");
    let sent = homeserver.sent();
    let posts = posts(&sent);
    assert_eq!(
        posts.len(),
        2,
        "the retried post of b is the same transaction: one message"
    );
    let edits: Vec<_> = sent
        .iter()
        .filter(|sent| sent.content["m.relates_to"]["event_id"] == posts[1].event_id.as_str())
        .collect();
    assert!(
        edits.is_empty(),
        "b's uncertain post, read back, shows its state already"
    );
    assert_eq!(bridge.store.depth(), 0);
}

/// A resolution of `fingerprint` on the generic route.
async fn resolve(bridge: &Bridge, fingerprint: &str) {
    accept(
        bridge,
        Source::Generic,
        "prod",
        &[alert(fingerprint, AlertStatus::Resolved)],
    )
    .await;
}

#[tokio::test]
async fn an_episode_that_resolves_and_fires_again_before_delivery_is_edited_resolved_first() {
    let (bridge, homeserver, clock) = setup();
    let mut outbox = Outbox::new(&bridge).expect("outbox");
    fire(&bridge, "a").await;
    outbox.deliver_all(&bridge).await.expect("delivered");
    clock.advance(Duration::from_secs(5));
    resolve(&bridge, "a").await;
    fire(&bridge, "a").await;
    outbox.deliver_all(&bridge).await.expect("delivered");

    let sent = homeserver.sent();
    assert_eq!(sent.len(), 3, "{:?}", bodies(&homeserver));
    assert_eq!(
        sent[1].content["m.relates_to"]["event_id"],
        sent[0].event_id.as_str(),
        "the first episode's message is edited"
    );
    assert_eq!(
        sent[1].content["m.new_content"]["org.brigade.alert"]["status"],
        "resolved"
    );
    assert!(
        sent[2].content["m.relates_to"].is_null(),
        "the new episode is a message of its own, after"
    );
    let episodes: Vec<_> = [&sent[0], &sent[2]]
        .map(|sent| sent.content["org.brigade.alert"]["first_seen"].clone())
        .into();
    assert_ne!(episodes[0], episodes[1]);
    assert_eq!(bridge.store.depth(), 0);
    outbox.deliver_all(&bridge).await.expect("delivered");
    assert_eq!(homeserver.sent().len(), 3, "nothing more to say");
}

#[tokio::test]
async fn an_episode_nothing_showed_goes_on_when_it_fires_again() {
    let (bridge, homeserver, _clock) = setup();
    let mut outbox = Outbox::new(&bridge).expect("outbox");
    fire(&bridge, "a").await;
    resolve(&bridge, "a").await;
    fire(&bridge, "a").await;
    outbox.deliver_all(&bridge).await.expect("delivered");

    let sent = homeserver.sent();
    assert_eq!(sent.len(), 1, "{:?}", bodies(&homeserver));
    let alert = &sent[0].content["org.brigade.alert"];
    assert_eq!(
        (alert["status"].as_str(), alert["count"].as_u64()),
        (Some("firing"), Some(2))
    );
}

#[tokio::test]
async fn an_ended_episode_whose_post_was_cut_off_is_posted_once_and_edited_after() {
    let (bridge, homeserver, _clock) = setup();
    fire(&bridge, "a").await;
    {
        // Placed, then an outage before its post: a start finds it pending.
        let mut outbox = Outbox::new(&bridge).expect("outbox");
        post_with_its_answer_lost(&mut outbox, &bridge, &homeserver).await;
    }
    resolve(&bridge, "a").await;
    fire(&bridge, "a").await;
    let mut outbox = Outbox::new(&bridge).expect("outbox after a restart");
    outbox.deliver_all(&bridge).await.expect("delivered");

    let sent = homeserver.sent();
    let posts = posts(&sent);
    assert_eq!(
        posts.len(),
        2,
        "each episode one message: {:?}",
        bodies(&homeserver)
    );
    let first = posts[0].event_id.as_str();
    let resolved = sent.iter().any(|sent| {
        sent.content["m.relates_to"]["event_id"] == first
            && sent.content["m.new_content"]["org.brigade.alert"]["status"] == "resolved"
    });
    assert!(resolved, "{:?}", bodies(&homeserver));
    assert_eq!(bridge.store.depth(), 0);
}
