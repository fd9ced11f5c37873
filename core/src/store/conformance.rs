//! One conformance suite, run against every [`Store`] implementation.

use ruma::{event_id, room_id};

use super::{EngineStore, Handled, IncidentRecord, Outcome, Store};
use crate::{
    incident::{Severity, Status},
    testing,
};

async fn unknown_events_are_not_handled(store: &dyn Store) {
    assert_eq!(
        store.handled(event_id!("$never")).await.expect("read"),
        None
    );
}

async fn a_handled_event_is_remembered_with_its_outcome(store: &dyn Store) {
    let record = Handled {
        at_millis: 1_700_000_000_000,
        outcome: Outcome::Refused,
        sent_millis: Some(1_699_999_999_000),
    };
    store
        .mark_handled(event_id!("$cmd"), record)
        .await
        .expect("mark");
    assert_eq!(
        store.handled(event_id!("$cmd")).await.expect("read"),
        Some(record)
    );
    assert_eq!(
        store.handled(event_id!("$other")).await.expect("read"),
        None
    );
}

async fn marking_again_overwrites_the_record(store: &dyn Store) {
    let first = Handled {
        at_millis: 1,
        outcome: Outcome::Ignored,
        sent_millis: None,
    };
    let second = Handled {
        at_millis: 2,
        outcome: Outcome::Done,
        sent_millis: None,
    };
    store
        .mark_handled(event_id!("$twice"), first)
        .await
        .expect("mark");
    store
        .mark_handled(event_id!("$twice"), second)
        .await
        .expect("mark");
    assert_eq!(
        store.handled(event_id!("$twice")).await.expect("read"),
        Some(second)
    );
}

async fn meta_values_are_set_read_and_replaced(store: &dyn Store) {
    assert_eq!(store.meta("checkpoint").await.expect("read"), None);
    store.set_meta("checkpoint", b"1").await.expect("set");
    store.set_meta("avatar", b"abc").await.expect("set");
    store.set_meta("checkpoint", b"2").await.expect("set");
    assert_eq!(
        store.meta("checkpoint").await.expect("read"),
        Some(b"2".to_vec())
    );
    assert_eq!(
        store.meta("avatar").await.expect("read"),
        Some(b"abc".to_vec())
    );
}

async fn incident_numbers_start_at_one_and_never_repeat(store: &dyn Store) {
    let mut numbers = Vec::new();
    for _ in 0..5 {
        numbers.push(store.next_incident_number().await.expect("number"));
    }
    assert_eq!(numbers, vec![1, 2, 3, 4, 5]);
    store.raise_incident_number(41).await.expect("raise");
    assert_eq!(store.next_incident_number().await.expect("number"), 42);
    store
        .raise_incident_number(7)
        .await
        .expect("a lower number lowers nothing");
    assert_eq!(store.next_incident_number().await.expect("number"), 43);
}

fn record(number: u64, room: &str) -> IncidentRecord {
    let mut record = testing::record(number, &format!("incident {number}"), Severity::Sev2, 1_000);
    record.room_id = room.try_into().expect("room ID");
    record.summary_event = Some(event_id!("$summary").to_owned());
    record
}

async fn incidents_are_stored_by_room_and_listed_by_number(store: &dyn Store) {
    assert_eq!(store.incident(room_id!("!a:x")).await.expect("read"), None);
    let mut second = record(2, "!b:x");
    store.save_incident(&second).await.expect("save");
    store.save_incident(&record(1, "!a:x")).await.expect("save");
    second
        .incident
        .set_status(
            Status::Identified,
            2_000,
            ruma::user_id!("@alice:example.org"),
        )
        .expect("status");
    store.save_incident(&second).await.expect("save again");
    assert_eq!(
        store.incident(room_id!("!b:x")).await.expect("read"),
        Some(second.clone())
    );
    let all = store.incidents().await.expect("list");
    let numbers: Vec<_> = all.iter().map(|record| record.incident.number.0).collect();
    assert_eq!(numbers, vec![1, 2]);
    assert_eq!(all[1], second);
}

/// Only records finished with before the cutoff, by both their handling and their sending
/// time, are offered for forgetting; an interrupted one never is.
async fn events_finished_with_long_ago_are_forgotten_with_their_values(store: &dyn Store) {
    let mark = |id: &'static str, at_millis: u64, outcome: Outcome, sent_millis: Option<u64>| {
        let event_id = ruma::EventId::parse(id).expect("event ID");
        async move {
            store
                .mark_handled(
                    &event_id,
                    Handled {
                        at_millis,
                        outcome,
                        sent_millis,
                    },
                )
                .await
                .expect("mark");
        }
    };
    // Undated records are kept this much longer.
    let cutoff = 500 + crate::store::UNDATED_KEPT_MILLIS;
    mark("$old", 100, Outcome::Done, Some(90)).await;
    mark("$first_release", 100, Outcome::Refused, None).await;
    mark("$first_release_recent", 600, Outcome::Done, None).await;
    mark("$interrupted", 100, Outcome::Started, Some(90)).await;
    mark("$recent", cutoff, Outcome::Done, Some(cutoff - 10)).await;
    mark("$dated_ahead", 100, Outcome::Ignored, Some(cutoff + 5_000)).await;
    store.set_meta("declare.$old", b"7").await.expect("set");
    store.set_meta("checkpoint", b"1").await.expect("set");

    let mut finished = store.finished_before(cutoff).await.expect("read");
    finished.sort();
    assert_eq!(
        finished,
        vec![
            event_id!("$first_release").to_owned(),
            event_id!("$old").to_owned()
        ]
    );
    store
        .forget(&["declare.$old".to_owned()], &finished)
        .await
        .expect("forget");
    for gone in ["$old", "$first_release"] {
        let event_id = ruma::EventId::parse(gone).expect("event ID");
        assert_eq!(store.handled(&event_id).await.expect("read"), None);
    }
    for kept in [
        "$interrupted",
        "$recent",
        "$dated_ahead",
        "$first_release_recent",
    ] {
        let event_id = ruma::EventId::parse(kept).expect("event ID");
        assert!(
            store.handled(&event_id).await.expect("read").is_some(),
            "{kept}"
        );
    }
    assert_eq!(store.meta("declare.$old").await.expect("read"), None);
    assert_eq!(
        store.meta("checkpoint").await.expect("read"),
        Some(b"1".to_vec())
    );
}

/// The open incidents are those neither resolved nor closed, whatever came before.
async fn open_incidents_are_those_neither_resolved_nor_closed(store: &dyn Store) {
    let alice = ruma::user_id!("@alice:example.org");
    let mut closed = record(1, "!a:x");
    closed
        .incident
        .set_status(Status::Resolved, 2_000, alice)
        .expect("resolved");
    store.save_incident(&closed).await.expect("save");
    let mut reopened = record(2, "!b:x");
    store.save_incident(&reopened).await.expect("save");
    reopened
        .incident
        .set_status(Status::Resolved, 2_000, alice)
        .expect("resolved");
    store.save_incident(&reopened).await.expect("save");
    reopened
        .incident
        .set_status(Status::Investigating, 3_000, alice)
        .expect("reopened");
    store.save_incident(&reopened).await.expect("save");
    let mut gone = record(3, "!c:x");
    store.save_incident(&gone).await.expect("save");
    gone.incident
        .set_status(Status::Resolved, 2_000, alice)
        .expect("resolved");
    store.save_incident(&gone).await.expect("save");
    store.save_incident(&record(4, "!d:x")).await.expect("save");

    let open = store.open_incidents().await.expect("read");
    let numbers: Vec<_> = open.iter().map(|record| record.incident.number.0).collect();
    assert_eq!(numbers, vec![2, 4]);
    assert_eq!(open[0], reopened);
}

macro_rules! conformance {
    ($module:ident, $make:expr) => {
        mod $module {
            use super::*;

            #[tokio::test]
            async fn unknown_events_are_not_handled() {
                let (store, _guard) = $make;
                super::unknown_events_are_not_handled(&store).await;
            }

            #[tokio::test]
            async fn a_handled_event_is_remembered_with_its_outcome() {
                let (store, _guard) = $make;
                super::a_handled_event_is_remembered_with_its_outcome(&store).await;
            }

            #[tokio::test]
            async fn marking_again_overwrites_the_record() {
                let (store, _guard) = $make;
                super::marking_again_overwrites_the_record(&store).await;
            }

            #[tokio::test]
            async fn incident_numbers_start_at_one_and_never_repeat() {
                let (store, _guard) = $make;
                super::incident_numbers_start_at_one_and_never_repeat(&store).await;
            }

            #[tokio::test]
            async fn incidents_are_stored_by_room_and_listed_by_number() {
                let (store, _guard) = $make;
                super::incidents_are_stored_by_room_and_listed_by_number(&store).await;
            }

            #[tokio::test]
            async fn events_finished_with_long_ago_are_forgotten_with_their_values() {
                let (store, _guard) = $make;
                super::events_finished_with_long_ago_are_forgotten_with_their_values(&store).await;
            }

            #[tokio::test]
            async fn open_incidents_are_those_neither_resolved_nor_closed() {
                let (store, _guard) = $make;
                super::open_incidents_are_those_neither_resolved_nor_closed(&store).await;
            }

            #[tokio::test]
            async fn meta_values_are_set_read_and_replaced() {
                let (store, _guard) = $make;
                super::meta_values_are_set_read_and_replaced(&store).await;
            }
        }
    };
}

conformance!(memory, (EngineStore::in_memory(), ()));
conformance!(sled, {
    let dir = tempfile::tempdir().expect("temporary directory");
    (EngineStore::open(dir.path()).expect("open sled"), dir)
});
