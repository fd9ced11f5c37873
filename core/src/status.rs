//! What the status page says of an incident (SPEC §15): the components it affects and how
//! badly, the updates written for the public, and whether it is listed at all. Private
//! incidents publish nothing, whatever is asked.

use ruma::UserId;

pub use crate::kinds::Impact;
use crate::{
    incident::{Incident, Update},
    kinds::{IncidentError, Status},
    timeline::Happening,
};

impl Incident {
    /// Marks `component` affected with `impact`, or no longer affected when `None`. False
    /// when it changes nothing.
    pub fn affect(
        &mut self,
        component: &str,
        impact: Option<Impact>,
        now: u64,
        by: &UserId,
    ) -> Result<bool, IncidentError> {
        if self.private {
            return Err(IncidentError::PrivateNotPublished);
        }
        self.ensure_open()?;
        let before = match impact {
            Some(impact) => self.affected.insert(component.to_owned(), impact),
            None => self.affected.remove(component),
        };
        if before == impact {
            return Ok(false);
        }
        let what = Happening::Affects {
            component: component.to_owned(),
            impact,
        };
        self.log(now, by, what);
        Ok(true)
    }

    /// Records an update written for the public: on the status page as in the room.
    pub fn add_public_update(&mut self, update: Update) -> Result<(), IncidentError> {
        if self.private {
            return Err(IncidentError::PrivateNotPublished);
        }
        self.ensure_open()?;
        self.log(
            update.at,
            &update.author,
            Happening::Update {
                text: update.text,
                public: true,
            },
        );
        Ok(())
    }

    /// Lists the incident on the status page, or hides it (`!inc public on|off`). False when
    /// it was so already.
    pub fn set_listed(&mut self, listed: bool) -> Result<bool, IncidentError> {
        if self.private {
            return Err(IncidentError::PrivateNotPublished);
        }
        if self.unlisted != listed {
            return Ok(false);
        }
        self.unlisted = !listed;
        Ok(true)
    }

    /// Names the incident on the status page. False when it was so named already.
    pub fn set_public_title(&mut self, title: &str) -> Result<bool, IncidentError> {
        if self.private {
            return Err(IncidentError::PrivateNotPublished);
        }
        let title = title.trim();
        if self.public_title.as_deref() == Some(title) {
            return Ok(false);
        }
        self.public_title = Some(title.to_owned());
        Ok(true)
    }

    /// What the status page calls the incident: its public title, or what it does to its
    /// components (`Partial outage of Checkout`), never the title people gave it in the room.
    pub fn page_title(&self) -> String {
        if let Some(title) = &self.public_title {
            return title.clone();
        }
        match self.affected.values().max() {
            Some(impact) => {
                let names: Vec<&str> = self.affected.keys().map(String::as_str).collect();
                format!("{} of {}", impact.label(), names.join(", "))
            }
            None => "Service disruption".to_owned(),
        }
    }

    /// Whether the status page shows the incident: not private, not hidden, and tied to a
    /// component or given a public update.
    pub fn published(&self) -> bool {
        !self.private
            && !self.unlisted
            && (!self.affected.is_empty() || !self.public_updates().is_empty())
    }

    /// Whether the incident still affects its components (it is not resolved).
    pub fn ongoing(&self) -> bool {
        !matches!(self.status, Status::Resolved | Status::Closed)
    }

    /// The updates written for the public, oldest first.
    pub fn public_updates(&self) -> Vec<Update> {
        self.timeline
            .iter()
            .filter_map(|entry| match &entry.what {
                Happening::Update { text, public: true } => Some(Update {
                    at: entry.at,
                    author: entry.by.clone(),
                    text: text.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    fn ensure_open(&self) -> Result<(), IncidentError> {
        if self.ongoing() {
            Ok(())
        } else {
            Err(IncidentError::NotOngoing(self.status))
        }
    }
}

#[cfg(test)]
mod tests {
    use ruma::user_id;

    use super::*;
    use crate::{incident::Update, kinds::Severity, testing};

    fn update(text: &str, at: u64) -> Update {
        Update {
            at,
            author: user_id!("@alice:example.org").to_owned(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn an_incident_is_published_once_tied_to_a_component_or_updated_in_public() {
        let mut incident = testing::record(1, "DNS", Severity::Sev2, 1_000).incident;
        let alice = user_id!("@alice:example.org");
        assert!(!incident.published());
        incident
            .add_update(update("internal only", 2_000))
            .expect("added");
        assert!(
            !incident.published(),
            "an internal update publishes nothing"
        );
        assert_eq!(
            incident.affect("DNS", Some(Impact::Partial), 3_000, alice),
            Ok(true)
        );
        assert!(incident.published());
        assert_eq!(
            incident.affect("DNS", Some(Impact::Partial), 3_500, alice),
            Ok(false)
        );
        assert_eq!(incident.affect("DNS", None, 4_000, alice), Ok(true));
        assert!(!incident.published());
        incident
            .add_public_update(update("We are looking into it", 5_000))
            .expect("added");
        assert!(incident.published());
        assert_eq!(incident.public_updates().len(), 1);
        assert_eq!(
            incident.updates().len(),
            2,
            "public updates are updates too"
        );
        assert_eq!(incident.set_listed(false), Ok(true));
        assert!(!incident.published(), "hidden by `!inc public off`");
        assert_eq!(incident.set_listed(false), Ok(false));
    }

    #[test]
    fn a_private_incident_publishes_nothing() {
        let mut incident = testing::record(1, "Leak", Severity::Sev1, 1_000).incident;
        incident.private = true;
        let alice = user_id!("@alice:example.org");
        assert_eq!(
            incident.affect("API", Some(Impact::Major), 2_000, alice),
            Err(IncidentError::PrivateNotPublished)
        );
        assert_eq!(
            incident.add_public_update(update("x", 2_000)),
            Err(IncidentError::PrivateNotPublished)
        );
        assert_eq!(
            incident.set_listed(true),
            Err(IncidentError::PrivateNotPublished)
        );
        assert!(!incident.published());
        assert_eq!(incident.timeline.len(), 1, "nothing was logged");
    }

    #[test]
    fn a_resolved_incident_no_longer_changes_what_it_affects() {
        let mut incident = testing::record(1, "DNS", Severity::Sev2, 1_000).incident;
        let alice = user_id!("@alice:example.org");
        incident
            .affect("DNS", Some(Impact::Major), 2_000, alice)
            .expect("affected");
        incident
            .set_status(Status::Resolved, 3_000, alice)
            .expect("resolved");
        assert!(!incident.ongoing());
        assert!(incident.published(), "still listed, in the page's history");
        assert_eq!(
            incident.affect("DNS", None, 4_000, alice),
            Err(IncidentError::NotOngoing(Status::Resolved))
        );
    }

    #[test]
    fn impacts_are_read_from_their_words() {
        assert_eq!("Partial".parse::<Impact>(), Ok(Impact::Partial));
        assert_eq!(
            "down".parse::<Impact>(),
            Err(IncidentError::UnknownImpact("down".to_owned()))
        );
        assert!(Impact::Degraded < Impact::Major);
    }
}
