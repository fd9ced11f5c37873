//! Fixtures for the tests of Brigade's crates (feature `testing`): a declared incident.

use ruma::{owned_room_alias_id, owned_room_id, owned_user_id};

use crate::{
    events::{AlertContent, AlertStatus},
    incident::{Declaration, Incident, IncidentNumber, Severity},
    record::IncidentRecord,
};

/// Incident `number`, "`title`", declared by `@alice:example.org` at `declared` (milliseconds)
/// as an `operations` incident, in `!room:example.org` with the alias `#inc:example.org`.
pub fn record(number: u64, title: &str, severity: Severity, declared: u64) -> IncidentRecord {
    let declaration = Declaration {
        title: title.to_owned(),
        severity,
        kind: "operations".to_owned(),
        private: false,
        declarer: owned_user_id!("@alice:example.org"),
        commander: Some(owned_user_id!("@alice:example.org")),
        started: None,
        alert: None,
        affects: None,
    };
    let incident = Incident::declare(IncidentNumber(number), declaration, declared)
        .expect("the fixture's declaration is valid");
    IncidentRecord::new(
        incident,
        owned_room_id!("!room:example.org"),
        owned_room_alias_id!("#inc:example.org"),
    )
}

/// A firing Alertmanager alert, "Disk full" on route `prod`, first seen at `first_seen`, whose
/// route asks for an incident.
pub fn alert(first_seen: u64) -> AlertContent {
    AlertContent {
        source: "alertmanager".to_owned(),
        route: "prod".to_owned(),
        fingerprint: "f".to_owned(),
        status: AlertStatus::Firing,
        severity: None,
        title: "Disk full".to_owned(),
        count: 1,
        first_seen,
        last_seen: first_seen,
        auto_declare: true,
        component: None,
        impact: None,
        page: None,
    }
}
