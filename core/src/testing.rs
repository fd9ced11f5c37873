//! Fixtures for the tests of Brigade's crates (feature `testing`): a declared incident.

use ruma::{owned_room_alias_id, owned_room_id, owned_user_id};

use crate::{
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
