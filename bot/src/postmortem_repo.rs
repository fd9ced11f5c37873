//! A final postmortem as a file of the postmortem repository (`[postmortems] git`): where it
//! goes, `YYYY/MM/INC-N-slug.md` by the month it was declared, and its front matter, which
//! static site generators and scripts read; and [`Owed`], what the store keeps until it is
//! there. Committing it is [`crate::git`]'s; when, the Matrix layer's.

use std::collections::BTreeMap;

use brigade_core::{incident::slug, kinds::Durations, record::IncidentRecord, store::Store};
use matrix_sdk::ruma::{OwnedRoomId, RoomId};
use serde::Serialize;
use tokio::sync::{Mutex, Notify};

use crate::{
    keys::{self, KeyError, OwedPostmortem},
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
    /// Keeps `postmortem` (replacing what `room` owed before) until it is in the repository.
    pub async fn keep(
        &self,
        store: &dyn Store,
        room: &RoomId,
        postmortem: OwedPostmortem,
    ) -> Result<(), KeyError> {
        let _held = self.lock.lock().await;
        let key = keys::postmortems_owed();
        let mut owed = key.get_to_change(store).await?.unwrap_or_default();
        owed.insert(room.to_owned(), postmortem);
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
    ) -> Result<BTreeMap<OwnedRoomId, OwedPostmortem>, KeyError> {
        let _held = self.lock.lock().await;
        Ok(keys::postmortems_owed()
            .get_to_change(store)
            .await?
            .unwrap_or_default())
    }

    /// Forgets what `room` owed, unless it owes something else since.
    pub async fn done(
        &self,
        store: &dyn Store,
        room: &RoomId,
        pushed: &OwedPostmortem,
    ) -> Result<(), KeyError> {
        self.change(store, room, pushed, |owed| {
            owed.remove(room);
        })
        .await
    }

    /// Records that the room was told of a failure to commit `postmortem`.
    pub async fn failure_told(
        &self,
        store: &dyn Store,
        room: &RoomId,
        postmortem: &OwedPostmortem,
    ) -> Result<(), KeyError> {
        self.change(store, room, postmortem, |owed| {
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
        was: &OwedPostmortem,
        change: impl FnOnce(&mut BTreeMap<OwnedRoomId, OwedPostmortem>),
    ) -> Result<(), KeyError> {
        let _held = self.lock.lock().await;
        let key = keys::postmortems_owed();
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

/// The front matter of a postmortem's file, in this order.
#[derive(Debug, Serialize)]
struct FrontMatter<'a> {
    incident: String,
    title: &'a str,
    severity: String,
    #[serde(rename = "type")]
    kind: &'a str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    commander: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    roles: BTreeMap<&'static str, &'a str>,
    // The core moments reached, in RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    started: Option<String>,
    declared: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    acknowledged: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mitigated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    closed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seconds_to_acknowledge: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seconds_to_mitigate: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seconds_to_resolve: Option<u64>,
    room: String,
}

/// `2026-11-28T09:30:00Z`.
fn rfc3339(millis: u64) -> String {
    format_utc(millis, "%Y-%m-%dT%H:%M:%SZ")
}

/// The file: YAML front matter, then `markdown` (the final postmortem).
pub fn document(record: &IncidentRecord, markdown: &str, links: Links<'_>) -> String {
    let incident = &record.incident;
    let stamps = &incident.timestamps;
    let Durations {
        to_acknowledge,
        to_mitigate,
        to_resolve,
    } = stamps.durations();
    let seconds = |took: Option<u64>| took.map(|took| took / 1000);
    let front = FrontMatter {
        incident: incident.number.to_string(),
        title: &incident.title,
        severity: incident.severity.to_string(),
        kind: &incident.kind,
        status: incident.status.as_str(),
        commander: incident.commander.as_ref().map(|user| user.as_str()),
        roles: incident
            .roles
            .iter()
            .map(|(role, holder)| (role.as_str(), holder.as_str()))
            .collect(),
        started: stamps.started.map(rfc3339),
        declared: rfc3339(stamps.declared),
        acknowledged: stamps.acknowledged.map(rfc3339),
        mitigated: stamps.mitigated.map(rfc3339),
        resolved: stamps.resolved.map(rfc3339),
        closed: stamps.closed.map(rfc3339),
        seconds_to_acknowledge: seconds(to_acknowledge),
        seconds_to_mitigate: seconds(to_mitigate),
        seconds_to_resolve: seconds(to_resolve),
        room: format!("https://matrix.to/#/{}?via={}", links.room, links.via),
    };
    // Strings, numbers and maps only: serializing cannot fail.
    let yaml = serde_yaml_ng::to_string(&front).unwrap_or_default();
    format!("---\n{yaml}---\n\n{}\n", markdown.trim_end())
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
        // Quotes, a colon, a line break and characters YAML does not take as they are.
        let title = "Disk \"full\": db-1\nagain \u{7f}\u{85}\u{2028} #1";
        let mut record = testing::record(7, title, Severity::Sev2, DECLARED);
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
        let (front, report) = document
            .strip_prefix("---\n")
            .and_then(|rest| rest.split_once("---\n\n"))
            .expect("front matter, then the report");
        assert_eq!(report, "# Postmortem: INC-7\n\nText\n");
        let front: serde_json::Value = serde_yaml_ng::from_str(front).expect("YAML");
        assert_eq!(
            front,
            serde_json::json!({
                "incident": "INC-7",
                "title": title,
                "severity": "SEV2",
                "type": "operations",
                "status": "closed",
                "commander": "@alice:example.org",
                "roles": { "comms": "@bob:example.org" },
                "declared": "2026-11-28T09:30:00Z",
                "acknowledged": "2026-11-28T09:31:00Z",
                "resolved": "2026-11-28T10:35:00Z",
                "closed": "2026-11-28T11:00:00Z",
                "seconds_to_acknowledge": 60,
                "seconds_to_resolve": 3900,
                "room": "https://matrix.to/#/!room:example.org?via=example.org",
            })
        );
        let keys: Vec<&str> = document
            .lines()
            .skip(1)
            .take_while(|line| *line != "---")
            .filter(|line| !line.starts_with(' '))
            .filter_map(|line| line.split_once(':').map(|(key, _)| key))
            .collect();
        assert_eq!(
            &keys[..6],
            [
                "incident",
                "title",
                "severity",
                "type",
                "status",
                "commander"
            ],
            "{document}"
        );
    }
}
