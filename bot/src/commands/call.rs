//! `!inc call`: where the incident's call is held, a Jitsi conference or Element Call, and
//! what is recorded when it starts.

use brigade_core::{
    incident::{slug, Status},
    record::IncidentRecord,
    timeline::Happening,
};
use hmac::{Hmac, Mac};
use matrix_sdk::ruma::{EventId, RoomId, ServerName};
use sha2::Sha256;
use url::Url;

use super::{
    args,
    decision::{Asked, Refusal},
    info::{CommandInfo, ParseError, Scope, Who},
};
use crate::config::CallsConfig;

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "call",
    arguments: "",
    summary:
        "put a video call in this room: a Jitsi widget in its top bar, or a link to Element Call",
    scope: Scope::Incident,
    who: Who::Anyone,
    in_shared_room: false,
};

pub(super) fn parse(rest: &str) -> Result<(), ParseError> {
    args::bare(rest, &INFO)
}

/// Where an incident's call is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// A conference on a Jitsi Meet server, shown in the room as an `m.jitsi` widget.
    Jitsi {
        /// The server.
        domain: String,
        /// The conference's name there.
        conference: String,
    },
    /// Element Call, for the room itself.
    ElementCall {
        /// The call's address.
        url: Url,
    },
}

impl Call {
    /// What the timeline calls it.
    pub fn service(&self) -> &'static str {
        match self {
            Self::Jitsi { .. } => "Jitsi",
            Self::ElementCall { .. } => "Element Call",
        }
    }

    /// The address that joins the call from a browser.
    pub fn link(&self) -> String {
        match self {
            Self::Jitsi { domain, conference } => format!("https://{domain}/{conference}"),
            Self::ElementCall { url } => url.to_string(),
        }
    }
}

/// `!inc call`, asked by the event `cause` in `room` (reached through `via`): the call, or why
/// there is none. Element Call where it is configured, else Jitsi: the conference the record
/// holds, or a new one whose name ends in what `secret` makes of `cause`.
pub fn decide(
    record: &IncidentRecord,
    calls: &CallsConfig,
    (room, via): (&RoomId, &ServerName),
    (cause, secret): (&EventId, &[u8]),
) -> Result<Call, Refusal> {
    if record.incident.status == Status::Closed {
        return Err(Refusal::new(format!(
            "{} is closed: its room is read-only, so it takes no call",
            record.incident.number
        )));
    }
    if let Some(base) = &calls.element_call_url {
        let mut url = base.join("room/").unwrap_or_else(|_| base.clone());
        // Element Call reads the room from the fragment, as a query.
        url.set_fragment(Some(&format!("?roomId={room}&viaServers={via}")));
        return Ok(Call::ElementCall { url });
    }
    match &calls.jitsi_domain {
        Some(domain) => Ok(Call::Jitsi {
            domain: domain.clone(),
            conference: running(record).unwrap_or_else(|| conference(record, cause, secret)),
        }),
        None => Err(Refusal::new(
            "no call service is configured: an operator sets `calls.jitsi_domain` (a Jitsi \
             server) or `calls.element_call_url`",
        )),
    }
}

/// The Jitsi conference last put in the room, if any.
fn running(record: &IncidentRecord) -> Option<String> {
    record
        .incident
        .timeline
        .iter()
        .rev()
        .find_map(|entry| match &entry.what {
            Happening::Call {
                conference: Some(conference),
                ..
            } => Some(conference.clone()),
            _ => None,
        })
}

/// `inc-7-disk-full-3f9c2a1b7d`: the incident (its number only when private, so the
/// conference's name carries no title) and a part nobody outside the bot can make, signed
/// from the command that started it, so that a command tried again names the same conference.
fn conference(record: &IncidentRecord, cause: &EventId, secret: &[u8]) -> String {
    let incident = &record.incident;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(b"call\0");
    mac.update(cause.as_str().as_bytes());
    let unguessable = hex::encode(&mac.finalize().into_bytes()[..5]);
    let number = incident.number.to_string().to_ascii_lowercase();
    let slug = if incident.private {
        String::new()
    } else {
        slug(&incident.title)
    };
    if slug.is_empty() {
        format!("{number}-{unguessable}")
    } else {
        format!("{number}-{slug}-{unguessable}")
    }
}

/// The record with `call` started by whoever asked, unless it is the call already in the
/// room: the conference recorded, or Element Call started before.
pub fn started(record: &IncidentRecord, call: &Call, asked: Asked<'_>) -> Option<IncidentRecord> {
    let service = call.service();
    let conference = match call {
        Call::Jitsi { conference, .. } => Some(conference.clone()),
        Call::ElementCall { .. } => None,
    };
    let before = record.incident.timeline.iter().any(|entry| {
        matches!(&entry.what, Happening::Call { service: was, conference: had }
            if was == service && *had == conference)
    });
    if before {
        return None;
    }
    let mut next = record.clone();
    next.incident
        .call_started(service, conference, asked.at, asked.by)
        .ok()?;
    Some(next)
}

#[cfg(test)]
mod tests {
    use brigade_core::{incident::Severity, testing};
    use matrix_sdk::ruma::{event_id, room_id, server_name, user_id};

    use super::*;

    fn calls(jitsi: Option<&str>, element: Option<&str>) -> CallsConfig {
        CallsConfig {
            jitsi_domain: jitsi.map(str::to_owned),
            element_call_url: element.map(|url| Url::parse(url).expect("a URL")),
        }
    }

    const SECRET: &[u8] = b"the bot's own secret";

    fn room() -> (&'static RoomId, &'static ServerName) {
        (room_id!("!room:example.org"), server_name!("example.org"))
    }

    #[test]
    fn a_call_is_a_jitsi_conference_named_after_the_incident_and_no_one_can_guess() {
        let record = testing::record(7, "Disk full: db-1", Severity::Sev2, 1_000);
        let cause = (event_id!("$call"), SECRET);
        let call = decide(
            &record,
            &calls(Some("meet.example.org"), None),
            room(),
            cause,
        )
        .expect("a call");
        let Call::Jitsi { domain, conference } = &call else {
            panic!("{call:?}");
        };
        assert_eq!(domain, "meet.example.org");
        assert!(
            conference.starts_with("inc-7-disk-full-db-1-"),
            "{conference}"
        );
        assert_eq!(conference.len(), "inc-7-disk-full-db-1-".len() + 10);
        assert_eq!(
            call.link(),
            format!("https://meet.example.org/{conference}")
        );
        // Tried again, the same conference; asked again, another.
        assert_eq!(
            decide(
                &record,
                &calls(Some("meet.example.org"), None),
                room(),
                cause
            ),
            Ok(call.clone())
        );
        assert_ne!(
            decide(
                &record,
                &calls(Some("meet.example.org"), None),
                room(),
                (event_id!("$again"), SECRET)
            ),
            Ok(call)
        );
        let mut private = record.clone();
        private.incident.private = true;
        let Ok(Call::Jitsi { conference, .. }) = decide(
            &private,
            &calls(Some("meet.example.org"), None),
            room(),
            cause,
        ) else {
            panic!("a call");
        };
        assert!(
            conference.starts_with("inc-7-") && !conference.contains("disk"),
            "{conference}"
        );
        // Another bot (another secret) names another conference for the same command.
        assert_ne!(
            decide(
                &record,
                &calls(Some("meet.example.org"), None),
                room(),
                (event_id!("$call"), b"another secret".as_slice())
            ),
            decide(
                &record,
                &calls(Some("meet.example.org"), None),
                room(),
                cause
            )
        );
    }

    #[test]
    fn element_call_is_used_where_configured_for_the_room_itself() {
        let record = testing::record(7, "Disk full", Severity::Sev2, 1_000);
        let call = decide(
            &record,
            &calls(Some("meet.example.org"), Some("https://call.example.org")),
            room(),
            (event_id!("$call"), SECRET),
        )
        .expect("a call");
        assert_eq!(
            call.link(),
            "https://call.example.org/room/#?roomId=!room:example.org&viaServers=example.org"
        );
        assert_eq!(call.service(), "Element Call");
    }

    #[test]
    fn no_call_without_a_service_or_in_a_closed_incident() {
        let mut record = testing::record(7, "Disk full", Severity::Sev2, 1_000);
        let refused = decide(
            &record,
            &calls(None, None),
            room(),
            (event_id!("$call"), SECRET),
        )
        .expect_err("no service");
        assert!(refused.text.contains("`calls.jitsi_domain`"), "{refused}");
        let alice = user_id!("@alice:example.org");
        record
            .incident
            .set_status(Status::Resolved, 2_000, alice)
            .expect("resolved");
        record
            .incident
            .set_status(Status::Closed, 3_000, alice)
            .expect("closed");
        let refused = decide(
            &record,
            &calls(Some("meet.example.org"), None),
            room(),
            (event_id!("$call"), SECRET),
        )
        .expect_err("closed");
        assert!(refused.text.contains("INC-7 is closed"), "{refused}");
    }

    #[test]
    fn a_call_already_in_the_room_is_kept_and_not_started_again() {
        let record = testing::record(7, "Disk full", Severity::Sev2, 1_000);
        let asked = Asked {
            by: user_id!("@alice:example.org"),
            at: 2_000,
        };
        let jitsi = calls(Some("meet.example.org"), None);
        let first = decide(&record, &jitsi, room(), (event_id!("$first"), SECRET)).expect("a call");
        let next = started(&record, &first, asked).expect("started");
        assert!(matches!(
            &next.incident.timeline.last().expect("an entry").what,
            Happening::Call { service, conference: Some(_) } if service == "Jitsi"
        ));
        // Asked again: the recorded conference, nothing new in the timeline.
        let again = decide(&next, &jitsi, room(), (event_id!("$again"), SECRET)).expect("a call");
        assert_eq!(again, first);
        assert_eq!(started(&next, &again, asked), None);
        // Element Call once configured: started once.
        let element = calls(None, Some("https://call.example.org/"));
        let call = decide(&next, &element, room(), (event_id!("$e"), SECRET)).expect("a call");
        let after = started(&next, &call, asked).expect("started");
        assert_eq!(started(&after, &call, asked), None);
    }
}
