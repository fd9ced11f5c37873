//! What the status page says, built from the stored incidents: the components' states, the
//! ongoing incidents and those of the last 90 days, each with what was said for the public.

use brigade_core::{
    incident::{IncidentNumber, Severity, Status},
    record::IncidentRecord,
    status::Impact,
    timeline::Happening,
};
use url::Url;

use crate::config::{Component, StatusConfig};

/// How far back the page lists resolved incidents.
const HISTORY_MS: u64 = 90 * 24 * 60 * 60 * 1000;

/// What the site says, built from the incidents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The page's heading.
    pub title: String,
    /// Where the site is served (`…/status/`).
    pub url: Url,
    /// The last change the site shows, in milliseconds since the Unix epoch (0 for none).
    pub updated: u64,
    /// Every component with its state.
    pub components: Vec<ComponentState>,
    /// Published incidents still ongoing, newest first.
    pub ongoing: Vec<PublicIncident>,
    /// Published incidents resolved in the last 90 days, newest first.
    pub history: Vec<PublicIncident>,
}

/// A component and what the ongoing incidents do to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentState {
    /// The component.
    pub component: Component,
    /// The worst impact of an ongoing incident on it; operational when none.
    pub impact: Option<Impact>,
}

/// What the public is told of one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicIncident {
    /// `INC-N`.
    pub number: IncidentNumber,
    /// Its title.
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// Where it is in its life (closed reads as resolved).
    pub status: Status,
    /// When it was declared.
    pub declared: u64,
    /// When it was resolved, if it is.
    pub resolved: Option<u64>,
    /// Its last public change.
    pub updated: u64,
    /// The components it affects (affected while it was ongoing, for a past one), by name.
    pub affected: Vec<(Component, Impact)>,
    /// Its public updates, newest first, each with the status it was posted in.
    pub updates: Vec<PublicUpdate>,
}

/// An update written for the public.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUpdate {
    /// When.
    pub at: u64,
    /// The incident's status then.
    pub status: Status,
    /// What it says.
    pub text: String,
}

impl PublicIncident {
    /// The anchor and JSON identifier: `inc-12`.
    pub fn id(&self) -> String {
        format!("inc-{}", self.number.0)
    }

    /// The worst impact it has (or had) on a component.
    pub fn impact(&self) -> Option<Impact> {
        self.affected.iter().map(|(_, impact)| *impact).max()
    }
}

impl Site {
    /// The site of `records` on the day of `now`, for the page at `public_url` + `status/`.
    pub fn build(
        config: &StatusConfig,
        public_url: &Url,
        records: &[IncidentRecord],
        now: u64,
    ) -> Self {
        let mut ongoing = Vec::new();
        let mut history = Vec::new();
        for record in records {
            let incident = &record.incident;
            if !incident.published() {
                continue;
            }
            let public = public_incident(config, record);
            match public.resolved {
                None => ongoing.push(public),
                Some(resolved) if now.saturating_sub(resolved) <= HISTORY_MS => {
                    history.push(public);
                }
                Some(_) => {}
            }
        }
        ongoing.sort_by_key(|incident| std::cmp::Reverse(incident.declared));
        history.sort_by_key(|incident| std::cmp::Reverse(incident.resolved));
        let components = config
            .components
            .iter()
            .map(|component| ComponentState {
                component: component.clone(),
                impact: ongoing
                    .iter()
                    .flat_map(|incident| &incident.affected)
                    .filter(|(affected, _)| affected.id == component.id)
                    .map(|(_, impact)| *impact)
                    .max(),
            })
            .collect();
        let updated = ongoing
            .iter()
            .chain(&history)
            .map(|incident| incident.updated)
            .max()
            .unwrap_or(0);
        Self {
            title: config.title.clone(),
            url: public_url
                .join("status/")
                .unwrap_or_else(|_| public_url.clone()),
            updated,
            components,
            ongoing,
            history,
        }
    }

    /// The worst impact on any component now; an ongoing incident tied to none counts as
    /// degraded.
    pub fn overall(&self) -> Option<Impact> {
        let components = self
            .components
            .iter()
            .filter_map(|state| state.impact)
            .max();
        match (components, self.ongoing.is_empty()) {
            (Some(impact), _) => Some(impact),
            (None, false) => Some(Impact::Degraded),
            (None, true) => None,
        }
    }

    /// What the banner says.
    pub fn headline(&self) -> &'static str {
        match self.overall() {
            None => "All systems operational",
            Some(Impact::Degraded) => "Some systems are degraded",
            Some(Impact::Partial) => "Partial outage",
            Some(Impact::Major) => "Major outage",
        }
    }

    /// The site in a line, as of its last change: `Partial outage: 2 ongoing incidents (as of
    /// 2026-12-02T10:40:00Z)`.
    pub fn summary(&self) -> String {
        let ongoing = match self.ongoing.len() {
            0 => String::new(),
            1 => ": 1 ongoing incident".to_owned(),
            n => format!(": {n} ongoing incidents"),
        };
        format!(
            "{}{ongoing} (as of {})",
            self.headline(),
            rfc3339(self.updated)
        )
    }
}

/// What the public is told of `record`: its public updates with the status each was posted
/// in, and the components it affects (for a resolved one, those it affected last).
fn public_incident(config: &StatusConfig, record: &IncidentRecord) -> PublicIncident {
    let incident = &record.incident;
    let mut status = Status::Investigating;
    let mut updates = Vec::new();
    let mut updated = incident.timestamps.declared;
    for entry in &incident.timeline {
        match &entry.what {
            Happening::Status { to, .. } => {
                status = *to;
                updated = updated.max(entry.at);
            }
            Happening::Update { text, public: true } => {
                updates.push(PublicUpdate {
                    at: entry.at,
                    status,
                    text: text.clone(),
                });
                updated = updated.max(entry.at);
            }
            Happening::Affects { .. } => updated = updated.max(entry.at),
            _ => {}
        }
    }
    updates.reverse();
    // Resolving leaves what it affected as it was, so a past incident shows it too; a component
    // no longer configured is left out.
    let affected = incident
        .affected
        .iter()
        .filter_map(|(name, impact)| Some((config.component(name)?.clone(), *impact)))
        .collect();
    let status = match incident.status {
        Status::Closed => Status::Resolved,
        other => other,
    };
    PublicIncident {
        number: incident.number,
        title: incident.page_title(),
        severity: incident.severity,
        status,
        declared: incident.timestamps.declared,
        resolved: incident.timestamps.resolved.filter(|_| !incident.ongoing()),
        updated,
        affected,
        updates,
    }
}

/// `millis` as RFC 3339 in UTC (`2026-12-02T10:40:00Z`).
pub(super) fn rfc3339(millis: u64) -> String {
    let seconds = i64::try_from(millis / 1000).unwrap_or(i64::MAX);
    jiff::Timestamp::from_second(seconds)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `millis` for people: `2 Dec 2026, 10:40 UTC`.
pub(super) fn readable(millis: u64) -> String {
    let seconds = i64::try_from(millis / 1000).unwrap_or(i64::MAX);
    jiff::Timestamp::from_second(seconds)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%-d %b %Y, %H:%M UTC")
        .to_string()
}
