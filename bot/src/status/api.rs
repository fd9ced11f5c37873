//! `summary.json` and `incidents.json`, in the shape of Atlassian Statuspage's public API
//! (`/api/v2/summary.json`, `/api/v2/incidents.json`), which status-page widgets, monitors and
//! aggregators already read. The documents round-trip through these types.

use brigade_core::{incident::Status, status::Impact};
use serde::{Deserialize, Serialize};

use super::site::{rfc3339, PublicIncident, Site};

/// `summary.json`: the page, its overall status, every component and the ongoing incidents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The page.
    pub page: Page,
    /// The overall status.
    pub status: Overall,
    /// Every component.
    pub components: Vec<ComponentJson>,
    /// The ongoing incidents.
    pub incidents: Vec<IncidentJson>,
    /// Always empty: Brigade schedules no maintenance.
    pub scheduled_maintenances: Vec<serde_json::Value>,
}

/// `incidents.json`: the page and every incident of the last 90 days, ongoing first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incidents {
    /// The page.
    pub page: Page,
    /// The incidents.
    pub incidents: Vec<IncidentJson>,
}

/// The page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// Its identifier.
    pub id: String,
    /// Its title.
    pub name: String,
    /// Where it is.
    pub url: String,
    /// Its last change, or null before the first.
    pub updated_at: Option<String>,
}

/// The overall status: `none`, `minor`, `major` or `critical`, and what it reads as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overall {
    /// How bad.
    pub indicator: String,
    /// What the banner says.
    pub description: String,
}

/// A component: `operational`, `degraded_performance`, `partial_outage` or `major_outage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentJson {
    /// Its identifier.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its state.
    pub status: String,
    /// What it is.
    pub description: Option<String>,
    /// The group it is listed under, by name (Statuspage gives a group's ID here).
    pub group_name: Option<String>,
}

/// An incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentJson {
    /// `inc-N`.
    pub id: String,
    /// Its title.
    pub name: String,
    /// `investigating`, `identified`, `monitoring` or `resolved`.
    pub status: String,
    /// `none`, `minor`, `major` or `critical`.
    pub impact: String,
    /// When it was declared.
    pub created_at: String,
    /// Its last public change.
    pub updated_at: String,
    /// When it was resolved, if it is.
    pub resolved_at: Option<String>,
    /// Its place on the page.
    pub shortlink: String,
    /// Its public updates, newest first.
    pub incident_updates: Vec<UpdateJson>,
    /// The components it affects.
    pub components: Vec<ComponentJson>,
}

/// A public update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateJson {
    /// Its identifier.
    pub id: String,
    /// The incident's status when it was posted.
    pub status: String,
    /// What it says.
    pub body: String,
    /// When.
    pub created_at: String,
}

fn indicator(impact: Option<Impact>) -> &'static str {
    match impact {
        None => "none",
        Some(Impact::Degraded) => "minor",
        Some(Impact::Partial) => "major",
        Some(Impact::Major) => "critical",
    }
}

fn status(status: Status) -> &'static str {
    match status {
        Status::Investigating => "investigating",
        Status::Identified => "identified",
        Status::Monitoring => "monitoring",
        Status::Resolved | Status::Closed => "resolved",
    }
}

fn page(site: &Site) -> Page {
    Page {
        id: "brigade".to_owned(),
        name: site.title.clone(),
        url: site.url.to_string(),
        updated_at: (site.updated > 0).then(|| rfc3339(site.updated)),
    }
}

fn component(component: &crate::config::Component, impact: Option<Impact>) -> ComponentJson {
    ComponentJson {
        id: component.id.clone(),
        name: component.name.clone(),
        status: impact.map_or("operational", Impact::api_status).to_owned(),
        description: component.description.clone(),
        group_name: component.group.clone(),
    }
}

fn incident(site: &Site, incident: &PublicIncident) -> IncidentJson {
    IncidentJson {
        id: incident.id(),
        name: incident.title.clone(),
        status: status(incident.status).to_owned(),
        impact: indicator(incident.impact()).to_owned(),
        created_at: rfc3339(incident.declared),
        updated_at: rfc3339(incident.updated),
        resolved_at: incident.resolved.map(rfc3339),
        shortlink: format!("{}#{}", site.url, incident.id()),
        incident_updates: incident
            .updates
            .iter()
            .map(|update| UpdateJson {
                id: format!("{}-{}", incident.id(), update.at),
                status: status(update.status).to_owned(),
                body: update.text.clone(),
                created_at: rfc3339(update.at),
            })
            .collect(),
        components: incident
            .affected
            .iter()
            .map(|(affected, impact)| component(affected, Some(*impact)))
            .collect(),
    }
}

/// The summary document.
pub fn summary_of(site: &Site) -> Summary {
    Summary {
        page: page(site),
        status: Overall {
            indicator: indicator(site.overall()).to_owned(),
            description: site.headline().to_owned(),
        },
        components: site
            .components
            .iter()
            .map(|state| component(&state.component, state.impact))
            .collect(),
        incidents: site.ongoing.iter().map(|one| incident(site, one)).collect(),
        scheduled_maintenances: Vec::new(),
    }
}

/// The incidents document.
pub fn incidents_of(site: &Site) -> Incidents {
    Incidents {
        page: page(site),
        incidents: site
            .ongoing
            .iter()
            .chain(&site.history)
            .map(|one| incident(site, one))
            .collect(),
    }
}

/// `summary.json`.
pub fn summary(site: &Site) -> Vec<u8> {
    serde_json::to_vec_pretty(&summary_of(site)).unwrap_or_default()
}

/// `incidents.json`.
pub fn incidents(site: &Site) -> Vec<u8> {
    serde_json::to_vec_pretty(&incidents_of(site)).unwrap_or_default()
}
