//! One conformance suite, run over every storage engine: what the outbox and the webhooks rely
//! on, whichever engine holds it.

use super::silences::SilenceRecord;
use super::*;
use crate::alert::AlertStatus;

/// An alert titled "Disk full" with `fingerprint`.
pub(super) fn alert(fingerprint: &str, status: AlertStatus) -> Alert {
    Alert {
        fingerprint: fingerprint.to_owned(),
        status,
        title: "Disk full".to_owned(),
        severity: None,
        body: String::new(),
        link: None,
        component: None,
        impact: None,
    }
}

/// A burst of the generic route `prod`, not posted yet.
fn new_burst(id: u64) -> BurstRecord {
    BurstRecord {
        id,
        source: Source::Generic,
        route: "prod".to_owned(),
        room_id: "!r:example.org".to_owned(),
        started: 1,
        version: 0,
        shown: 0,
        event_id: None,
        list_shown: Some(0),
        list_event_id: None,
    }
}

async fn repeats_count_resolutions_resolve_and_delivery_empties_the_outbox(store: Store) {
    let firing = alert("a", AlertStatus::Firing);
    for now in 1..=3 {
        store
            .accept(Source::Generic, "prod", std::slice::from_ref(&firing), now)
            .await
            .expect("accepted");
    }
    let key = AlertRecord::key(Source::Generic, "prod", "a");
    assert_eq!(
        store.pending().expect("pending"),
        vec![Pending::Alert(key.clone())]
    );
    let record = store.alert(&key).expect("read").expect("stored");
    assert_eq!((record.count, record.version, record.first_seen), (3, 3, 1));

    store.delivered(&key, 1, 2, "$m").await.expect("delivered");
    assert_eq!(store.depth(), 1, "version 3 is not shown yet");
    store.delivered(&key, 1, 3, "$m").await.expect("delivered");
    assert_eq!(store.depth(), 0);

    let resolved = alert("a", AlertStatus::Resolved);
    store
        .accept(Source::Generic, "prod", &[resolved], 4)
        .await
        .expect("accepted");
    let record = store.alert(&key).expect("read").expect("stored");
    assert_eq!(
        (record.status, record.count, record.event_id.as_deref()),
        (AlertStatus::Resolved, 3, Some("$m"))
    );

    store
        .accept(Source::Generic, "prod", &[firing], 5)
        .await
        .expect("accepted");
    let record = store.alert(&key).expect("read").expect("stored");
    assert_eq!(
        (record.count, record.first_seen, record.event_id),
        (1, 5, None),
        "a new episode"
    );
}

async fn a_placed_burst_carries_its_alerts_and_their_changes(store: Store) {
    let alerts: Vec<Alert> = (0..3)
        .map(|n| alert(&format!("f{n}"), AlertStatus::Firing))
        .collect();
    store
        .accept(Source::Generic, "prod", &alerts, 1)
        .await
        .expect("accepted");
    let keys: Vec<String> = (0..3)
        .map(|n| AlertRecord::key(Source::Generic, "prod", &format!("f{n}")))
        .collect();
    let id = store.next_burst_id().expect("an ID");
    let burst = new_burst(id);
    let placements = vec![
        (keys[0].clone(), 1, Placement::Own),
        (keys[1].clone(), 1, Placement::Burst(id)),
        (keys[2].clone(), 1, Placement::Burst(id)),
        // Another episode's placement is not taken.
        (keys[0].clone(), 9, Placement::Burst(id)),
    ];
    store.place(&placements, &[burst]).await.expect("placed");
    assert_eq!(
        store.pending().expect("pending"),
        vec![Pending::Burst(id), Pending::Alert(keys[0].clone())]
    );
    let members = store.burst_members(id).expect("members");
    assert_eq!(members.len(), 2);
    assert_eq!(
        store
            .alert(&keys[0])
            .expect("read")
            .expect("stored")
            .placement,
        Some(Placement::Own),
        "a placement is never taken back"
    );

    store.burst_delivered(id, 1, "$b").await.expect("delivered");
    assert_eq!(
        store.pending().expect("pending"),
        vec![Pending::Burst(id), Pending::Alert(keys[0].clone())],
        "its full list is behind"
    );
    store
        .burst_list_delivered(id, 1, "$l")
        .await
        .expect("delivered");
    assert_eq!(
        store.pending().expect("pending"),
        vec![Pending::Alert(keys[0].clone())]
    );
    store
        .accept(
            Source::Generic,
            "prod",
            &[alert("f1", AlertStatus::Resolved)],
            2,
        )
        .await
        .expect("accepted");
    assert_eq!(
        store.pending().expect("pending"),
        vec![Pending::Burst(id), Pending::Alert(keys[0].clone())],
        "a member's change marks its burst, not itself"
    );
    let burst = store.burst(id).expect("read").expect("stored");
    assert_eq!(
        (burst.version, burst.shown, burst.event_id.as_deref()),
        (2, 1, Some("$b"))
    );

    store
        .accept(
            Source::Generic,
            "prod",
            &[alert("f1", AlertStatus::Firing)],
            3,
        )
        .await
        .expect("accepted");
    let record = store.alert(&keys[1]).expect("read").expect("stored");
    assert_eq!(record.placement, None, "a new episode is placed anew");
    assert!(store
        .pending()
        .expect("pending")
        .contains(&Pending::Alert(keys[1].clone())));
}

async fn an_event_is_new_once(store: Store) {
    assert!(store.first_time("$invite", 1_000).await.expect("read"));
    assert!(!store.first_time("$invite", 1_000).await.expect("read"));
    assert!(store.first_time("$other", 1_000).await.expect("read"));
}

async fn settled_and_refused_entries_leave_the_outbox(store: Store) {
    let firing = alert("a", AlertStatus::Firing);
    store
        .accept(Source::Generic, "prod", &[firing], 1)
        .await
        .expect("accepted");
    let key = AlertRecord::key(Source::Generic, "prod", "a");
    let item = Pending::Alert(key.clone());
    store.settle(&item).await.expect("settled");
    assert_eq!(
        store.depth(),
        1,
        "an alert with its own message to show is not garbage"
    );
    store
        .settle(&Pending::Alert("generic\u{0}prod\u{0}gone".to_owned()))
        .await
        .expect("settled");
    store.drop_refused(&item).await.expect("dropped");
    assert_eq!(store.depth(), 0);
    assert!(
        store.alert(&key).expect("read").is_some(),
        "the alert's state stays"
    );
}

async fn a_mark_without_its_alert_is_garbage_and_settled(store: Store) {
    let firing = alert("a", AlertStatus::Firing);
    store
        .accept(Source::Generic, "prod", &[firing], 1)
        .await
        .expect("accepted");
    let key = AlertRecord::key(Source::Generic, "prod", "a");
    // Placed in a burst, the alert's own mark has nothing left to deliver.
    let id = store.next_burst_id().expect("an ID");
    let burst = new_burst(id);
    store
        .place(&[(key.clone(), 1, Placement::Burst(id))], &[burst])
        .await
        .expect("placed");
    store
        .engine
        .insert(Tree::Outbox.name(), key.as_bytes(), &[])
        .expect("a stray mark");
    assert!(store
        .pending()
        .expect("pending")
        .contains(&Pending::Alert(key.clone())));
    store
        .settle(&Pending::Alert(key.clone()))
        .await
        .expect("settled");
    assert!(!store
        .pending()
        .expect("pending")
        .contains(&Pending::Alert(key)));
    store
        .engine
        .insert(Tree::Outbox.name(), b"generic\0prod\0gone", &[])
        .expect("a mark of nothing");
    store
        .settle(&Pending::Alert("generic\u{0}prod\u{0}gone".to_owned()))
        .await
        .expect("settled");
    assert_eq!(store.pending().expect("pending"), vec![Pending::Burst(id)]);
}

async fn burst_ids_never_repeat(store: Store) {
    let first = store.next_burst_id().expect("an ID");
    let second = store.next_burst_id().expect("an ID");
    assert_ne!(first, second);
}

async fn a_rooms_silences_are_its_own_and_current_only(store: Store) {
    let silence = |id: &str, room: &str, ends| SilenceRecord {
        id: id.to_owned(),
        room_id: room.to_owned(),
        matchers: "alertname=\"DiskFull\"".to_owned(),
        ends,
        by: "@alice:example.org".to_owned(),
        ended_by: None,
    };
    for record in [
        silence("a", "!ops", 5_000),
        silence("b", "!ops", 3_000),
        silence("c", "!other", 5_000),
        silence("d", "!ops", 1_000),
    ] {
        store.keep_silence(&record).await.expect("kept");
    }
    let mut ended = silence("e", "!ops", 9_000);
    ended.ended_by = Some("@bob:example.org".to_owned());
    store.keep_silence(&ended).await.expect("kept");
    let ids: Vec<String> = store
        .silences_of("!ops", 2_000)
        .expect("read")
        .into_iter()
        .map(|record| record.id)
        .collect();
    assert_eq!(
        ids,
        ["b", "a"],
        "soonest first; ended and past ones left out"
    );
    assert_eq!(
        store.silence("c").expect("read"),
        Some(silence("c", "!other", 5_000))
    );
    assert!(!store.seen("$e").expect("read"));
    assert!(store.first_time("$e", 1).await.expect("stored"));
    assert!(store.seen("$e").expect("read"));
}

/// Runs each case over a fresh store of each engine.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::Store::in_memory()).await;
                }
            )*
        }
        mod sled {
            $(
                #[tokio::test]
                async fn $case() {
                    let dir = tempfile::tempdir().expect("a directory");
                    super::$case(super::Store::open(dir.path()).expect("opened")).await;
                }
            )*
        }
    };
}

conformance!(
    repeats_count_resolutions_resolve_and_delivery_empties_the_outbox,
    a_placed_burst_carries_its_alerts_and_their_changes,
    an_event_is_new_once,
    settled_and_refused_entries_leave_the_outbox,
    burst_ids_never_repeat,
    a_mark_without_its_alert_is_garbage_and_settled,
    a_rooms_silences_are_its_own_and_current_only,
);

#[tokio::test]
async fn an_event_is_acted_on_once_across_reopening() {
    let dir = tempfile::tempdir().expect("a directory");
    {
        let store = Store::open(dir.path()).expect("opened");
        assert!(store.first_time("$invite", 1_000).await.expect("read"));
        assert!(!store.first_time("$invite", 1_000).await.expect("read"));
    }
    let store = Store::open(dir.path()).expect("opened again");
    assert!(
        !store.first_time("$invite", 1_000).await.expect("read"),
        "a replay after a restart"
    );
    assert!(store.first_time("$other", 1_000).await.expect("read"));
}

/// A database as the first release wrote it (its trees, keys and encodings, byte for byte),
/// opened by this version: what it held is read the same, and the outbox goes on from it.
#[tokio::test]
async fn a_store_written_by_the_first_release_is_read_the_same() {
    use brigade_core::engine::{Engine, SledEngine};

    let dir = tempfile::tempdir().expect("a directory");
    let own = "generic\u{0}prod\u{0}db1";
    let counted = "alertmanager\u{0}db\u{0}f1";
    {
        let names = ["alerts", "outbox", "bursts", "burst_members", "events"];
        let engine = SledEngine::open(dir.path(), &names, 1 << 20).expect("opened");
        let put = |tree: &str, key: &[u8], value: &[u8]| {
            engine.insert(tree, key, value).expect("written");
        };
        put(
            "alerts",
            own.as_bytes(),
            br#"{"source":"generic","route":"prod","fingerprint":"db1","title":"Disk full","severity":"SEV2","body":"","status":"resolved","count":3,"first_seen":1000,"last_seen":4000,"version":4,"shown":3,"event_id":"$own","placement":"own"}"#,
        );
        put(
            "alerts",
            counted.as_bytes(),
            br#"{"source":"alertmanager","route":"db","fingerprint":"f1","title":"Lag","severity":null,"body":"","status":"firing","count":1,"first_seen":2000,"last_seen":2000,"version":1,"shown":0,"event_id":null,"placement":{"burst":7}}"#,
        );
        put(
            "bursts",
            b"burst\x0000000000000000000007",
            br#"{"id":7,"source":"alertmanager","route":"db","room_id":"!db:example.org","started":2000,"version":2,"shown":1,"event_id":"$burst"}"#,
        );
        let mut member = 7u64.to_be_bytes().to_vec();
        member.extend_from_slice(counted.as_bytes());
        put("burst_members", &member, &2000u64.to_be_bytes());
        put("outbox", own.as_bytes(), b"");
        put("outbox", b"burst\x0000000000000000000007", b"");
        put("events", b"$invite", b"");
        engine.flush().expect("flushed");
    }

    let store = Store::open(dir.path()).expect("opened by this version");
    let record = store.alert(own).expect("read").expect("the alert");
    assert_eq!(
        (
            record.status,
            record.count,
            record.version,
            record.shown,
            record.event_id.as_deref(),
            record.placement,
            record.ended.len(),
        ),
        (
            AlertStatus::Resolved,
            3,
            4,
            3,
            Some("$own"),
            Some(Placement::Own),
            0
        )
    );
    assert_eq!(
        store.pending().expect("pending"),
        vec![Pending::Burst(7), Pending::Alert(own.to_owned())]
    );
    let burst = store.burst(7).expect("read").expect("the burst");
    assert_eq!(
        (burst.room_id.as_str(), burst.version, burst.shown),
        ("!db:example.org", 2, 1)
    );
    let members = store.burst_members(7).expect("members");
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].fingerprint, "f1");
    assert!(!store.first_time("$invite", 1_000).await.expect("read"));

    // The outbox goes on: the alert's message brought in step leaves it.
    store
        .delivered(own, 1000, 4, "$own")
        .await
        .expect("recorded");
    assert_eq!(store.pending().expect("pending"), vec![Pending::Burst(7)]);
}
