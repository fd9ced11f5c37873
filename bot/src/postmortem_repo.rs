//! A final postmortem as a file of the postmortem repository (`[postmortems] git`): where it
//! goes, `YYYY/MM/INC-N-slug.md` by the month it was declared, and its front matter, which
//! static site generators and scripts read; and [`Owed`], what the store keeps until it is
//! there. Committing it is [`crate::git`]'s; when, the Matrix layer's.

use std::collections::BTreeMap;

use brigade_core::{incident::slug, kinds::Durations, record::IncidentRecord, store::Store};
use matrix_sdk::ruma::{OwnedRoomId, RoomId};
use tokio::sync::{Mutex, Notify};

use crate::{
    keys::{self, KeyError, Unpushed},
    render::format_utc,
    report::Links,
};

/// The postmortems owed to the repository, kept in the store, and what wakes their committer.
#[derive(Debug, Default)]
pub struct Owed {
    /// Held while the stored list is read and written back.
    lock: Mutex<()>,
    wake: Notify,
}

impl Owed {
    /// Keeps `unpushed` (replacing what `room` owed before) until it is in the repository.
    pub async fn keep(
        &self,
        store: &dyn Store,
        room: &RoomId,
        unpushed: Unpushed,
    ) -> Result<(), KeyError> {
        let _held = self.lock.lock().await;
        let key = keys::postmortems_unpushed();
        let mut owed = key.get_to_change(store).await?.unwrap_or_default();
        owed.insert(room.to_owned(), unpushed);
        key.set(store, &owed).await
    }

    /// Has the committer look at what is owed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Once [`Owed::wake`] is called (or was, since the last time this returned).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Everything owed.
    pub async fn all(
        &self,
        store: &dyn Store,
    ) -> Result<BTreeMap<OwnedRoomId, Unpushed>, KeyError> {
        let _held = self.lock.lock().await;
        Ok(keys::postmortems_unpushed()
            .get_to_change(store)
            .await?
            .unwrap_or_default())
    }

    /// Forgets what `room` owed, unless it owes something else since.
    pub async fn done(
        &self,
        store: &dyn Store,
        room: &RoomId,
        pushed: &Unpushed,
    ) -> Result<(), KeyError> {
        self.change(store, room, pushed, |owed| {
            owed.remove(room);
        })
        .await
    }

    /// Records that the room was told of a failure to commit `unpushed`.
    pub async fn failure_told(
        &self,
        store: &dyn Store,
        room: &RoomId,
        unpushed: &Unpushed,
    ) -> Result<(), KeyError> {
        self.change(store, room, unpushed, |owed| {
            if let Some(kept) = owed.get_mut(room) {
                kept.failure_told = true;
            }
        })
        .await
    }

    async fn change(
        &self,
        store: &dyn Store,
        room: &RoomId,
        was: &Unpushed,
        change: impl FnOnce(&mut BTreeMap<OwnedRoomId, Unpushed>),
    ) -> Result<(), KeyError> {
        let _held = self.lock.lock().await;
        let key = keys::postmortems_unpushed();
        let mut owed = key.get_to_change(store).await?.unwrap_or_default();
        if owed.get(room) == Some(was) {
            change(&mut owed);
            key.set(store, &owed).await?;
        }
        Ok(())
    }
}

/// `docs/postmortems/2026/11/INC-7-disk-full.md`: under `directory`, by the month (UTC) the
/// incident was declared.
pub fn path(record: &IncidentRecord, directory: &str) -> String {
    let incident = &record.incident;
    let month = format_utc(incident.timestamps.declared, "%Y/%m");
    let slug = slug(&incident.title);
    let name = if slug.is_empty() {
        format!("{}.md", incident.number)
    } else {
        format!("{}-{slug}.md", incident.number)
    };
    if directory.is_empty() {
        format!("{month}/{name}")
    } else {
        format!("{directory}/{month}/{name}")
    }
}

/// The file: front matter, then `markdown` (the final postmortem).
pub fn document(record: &IncidentRecord, markdown: &str, links: Links<'_>) -> String {
    let incident = &record.incident;
    // Strings are written as JSON strings, which YAML reads as its double-quoted scalars.
    let quoted = |text: &str| serde_json::Value::from(text).to_string();
    let mut lines = vec![
        "---".to_owned(),
        format!("incident: {}", quoted(&incident.number.to_string())),
        format!("title: {}", quoted(&incident.title)),
        format!("severity: {}", quoted(&incident.severity.to_string())),
        format!("type: {}", quoted(&incident.kind)),
        format!("status: {}", quoted(&incident.status.to_string())),
    ];
    if let Some(commander) = &incident.commander {
        lines.push(format!("commander: {}", quoted(commander.as_str())));
    }
    if !incident.roles.is_empty() {
        lines.push("roles:".to_owned());
        for (role, holder) in &incident.roles {
            lines.push(format!("  {role}: {}", quoted(holder.as_str())));
        }
    }
    let stamps = &incident.timestamps;
    for (name, at) in stamps.moments() {
        if let Some(at) = at {
            lines.push(format!("{name}: {}", format_utc(at, "%Y-%m-%dT%H:%M:%SZ")));
        }
    }
    let Durations {
        to_acknowledge,
        to_mitigate,
        to_resolve,
    } = stamps.durations();
    for (name, took) in [
        ("seconds_to_acknowledge", to_acknowledge),
        ("seconds_to_mitigate", to_mitigate),
        ("seconds_to_resolve", to_resolve),
    ] {
        if let Some(took) = took {
            lines.push(format!("{name}: {}", took / 1000));
        }
    }
    lines.push(format!(
        "room: {}",
        quoted(&format!(
            "https://matrix.to/#/{}?via={}",
            links.room, links.via
        ))
    ));
    lines.push("---".to_owned());
    format!("{}\n\n{}\n", lines.join("\n"), markdown.trim_end())
}

#[cfg(test)]
mod tests {
    use brigade_core::{
        incident::{Role, Severity, Status},
        testing,
    };
    use matrix_sdk::ruma::{room_id, server_name, user_id};

    use super::*;

    /// 2026-11-28 09:30:00 UTC.
    const DECLARED: u64 = 1_795_858_200_000;
    const MINUTE: u64 = 60_000;

    fn links() -> Links<'static> {
        Links {
            room: room_id!("!room:example.org"),
            via: server_name!("example.org"),
        }
    }

    #[test]
    fn a_postmortem_goes_by_the_month_it_was_declared_and_its_title() {
        let record = testing::record(7, "Disk full: db-1 at 100%!", Severity::Sev2, DECLARED);
        assert_eq!(path(&record, ""), "2026/11/INC-7-disk-full-db-1-at-100.md");
        assert_eq!(
            path(&record, "docs/postmortems"),
            "docs/postmortems/2026/11/INC-7-disk-full-db-1-at-100.md"
        );
        let untitled = testing::record(8, "🔥", Severity::Sev2, DECLARED);
        assert_eq!(path(&untitled, ""), "2026/11/INC-8.md");
    }

    #[test]
    fn the_front_matter_names_the_incident_its_people_and_its_times() {
        let alice = user_id!("@alice:example.org");
        let mut record = testing::record(7, "Disk \"full\": db-1\nagain", Severity::Sev2, DECLARED);
        record.incident.acknowledge(DECLARED + MINUTE, alice);
        record
            .incident
            .assign(
                Role::Comms,
                user_id!("@bob:example.org").to_owned(),
                DECLARED,
                alice,
            )
            .expect("comms");
        record
            .incident
            .set_status(Status::Resolved, DECLARED + 65 * MINUTE, alice)
            .expect("resolved");
        record
            .incident
            .set_status(Status::Closed, DECLARED + 90 * MINUTE, alice)
            .expect("closed");
        let document = document(&record, "# Postmortem: INC-7\n\nText\n\n", links());
        let expected = format!(
            "---\n\
             incident: \"INC-7\"\n\
             title: \"Disk \\\"full\\\": db-1\\nagain\"\n\
             severity: \"SEV2\"\n\
             type: \"{kind}\"\n\
             status: \"closed\"\n\
             commander: \"@alice:example.org\"\n\
             roles:\n  comms: \"@bob:example.org\"\n\
             declared: 2026-11-28T09:30:00Z\n\
             acknowledged: 2026-11-28T09:31:00Z\n\
             resolved: 2026-11-28T10:35:00Z\n\
             closed: 2026-11-28T11:00:00Z\n\
             seconds_to_acknowledge: 60\n\
             seconds_to_resolve: 3900\n\
             room: \"https://matrix.to/#/!room:example.org?via=example.org\"\n\
             ---\n\n\
             # Postmortem: INC-7\n\nText\n",
            kind = record.incident.kind
        );
        assert_eq!(document, expected);
    }
}
