//! The status page itself: plain HTML and one stylesheet beside it, no script, nothing from
//! elsewhere, readable by a screen reader (every state is written out, not only coloured).

use brigade_core::{incident::Status, status::Impact};
use maud::{html, Markup, DOCTYPE};

use super::site::{readable, rfc3339, PublicIncident, Site};

/// `status.css`, written beside the page.
pub const STYLESHEET: &str = include_str!("../../assets/status.css");

/// The class of a state: `operational`, `degraded`, `partial` or `major`.
fn class(impact: Option<Impact>) -> &'static str {
    impact.map_or("operational", Impact::word)
}

fn state_label(impact: Option<Impact>) -> &'static str {
    impact.map_or("Operational", Impact::label)
}

/// What a status reads as on the page and in the feed.
pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Investigating => "Investigating",
        Status::Identified => "Identified",
        Status::Monitoring => "Monitoring",
        Status::Resolved | Status::Closed => "Resolved",
    }
}

fn time(millis: u64) -> Markup {
    html! { time datetime=(rfc3339(millis)) { (readable(millis)) } }
}

/// `index.html`.
pub fn render(site: &Site) -> Markup {
    let mut groups: Vec<Option<&str>> = Vec::new();
    for state in &site.components {
        let group = state.component.group.as_deref();
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (site.title) }
                link rel="stylesheet" href="status.css";
                link rel="alternate" type="application/atom+xml" title=(format!("{} updates", site.title)) href="feed.atom";
            }
            body {
                main {
                    h1 { (site.title) }
                    p.banner.(class(site.overall())) role="status" { (site.headline()) }
                    @if !site.ongoing.is_empty() {
                        section aria-labelledby="ongoing" {
                            h2 #ongoing { "Ongoing incidents" }
                            ul.incidents { @for incident in &site.ongoing { (incident_item(incident, true)) } }
                        }
                    }
                    @if !site.components.is_empty() {
                        section aria-labelledby="components" {
                            h2 #components { "Components" }
                            @for group in &groups {
                                @if let Some(group) = group { p.group { (group) } }
                                ul.components {
                                    @for state in site.components.iter().filter(|state| state.component.group.as_deref() == *group) {
                                        li #(format!("component-{}", state.component.id)) {
                                            span {
                                                (state.component.name)
                                                @if let Some(description) = &state.component.description {
                                                    span.description { (description) }
                                                }
                                            }
                                            span.state.(class(state.impact)) { (state_label(state.impact)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    section aria-labelledby="history" {
                        h2 #history { "Past incidents (90 days)" }
                        @if site.history.is_empty() {
                            p.none { "No incidents in the last 90 days." }
                        } @else {
                            ul.incidents { @for incident in &site.history { (incident_item(incident, false)) } }
                        }
                    }
                    footer {
                        p {
                            "Subscribe: " a href="feed.atom" { "Atom feed" } " · "
                            a href="summary.json" { "JSON" }
                        }
                        @if site.updated > 0 { p { "Last change " (time(site.updated)) "." } }
                    }
                }
            }
        }
    }
}

/// One incident: its title, state and affected components, then its public updates, newest
/// first (folded away for a past incident).
fn incident_item(incident: &PublicIncident, ongoing: bool) -> Markup {
    let affected: Vec<String> = incident
        .affected
        .iter()
        .map(|(component, impact)| {
            format!("{} ({})", component.name, impact.label().to_lowercase())
        })
        .collect();
    let updates = html! {
        @if incident.updates.is_empty() {
            p.none { "No updates yet." }
        } @else {
            ol.updates {
                @for update in &incident.updates {
                    li {
                        span.update-status { (status_word(update.status)) } " — " (update.text)
                        br; (time(update.at))
                    }
                }
            }
        }
    };
    html! {
        li #(incident.id()) class=(class(incident.impact())) {
            h3 { (incident.title) }
            p.meta {
                @if ongoing {
                    (status_word(incident.status)) " · since " (time(incident.declared))
                } @else if let Some(resolved) = incident.resolved {
                    "Resolved " (time(resolved))
                }
                @if !affected.is_empty() { " · " (affected.join(", ")) }
            }
            @if ongoing {
                (updates)
            } @else {
                details { summary { "Updates (" (incident.updates.len()) ")" } (updates) }
            }
        }
    }
}
