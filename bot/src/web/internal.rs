//! `/status/internal` (SPEC §15): the status page for staff. What the public page says now,
//! and every open incident with all its updates, internal and public, and what the public is
//! told of it. Signed in through Matrix as the other pages; a private incident is listed only
//! to its members, as on the dashboard.

use axum::{
    extract::{Query, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use brigade_core::{record::IncidentRecord, timeline::Happening};
use maud::{html, Markup};
use tracing::error;

use super::{
    page::{document, secure, signed_out, unavailable, when, PageQuery, People},
    state::WebState,
};
use crate::{render::permalink, status::Site};

const TITLE: &str = "Internal status";
const PATH: &str = "/status/internal";

/// `GET /status/internal`
pub async fn show(
    State(state): State<WebState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let Some((_, session, _)) = state.sessions.of_request(&headers) else {
        return signed_out(
            &state.config.web,
            TITLE,
            PATH,
            query.theme,
            "Every open incident with its internal updates, and what the public status page says.",
            "This page shows what you may see in Matrix.",
        );
    };
    let records = match state.store.incidents().await {
        Ok(records) => records,
        Err(error) => {
            error!(%error, "cannot read the incidents for the internal status page");
            let page = unavailable(TITLE, PATH, query.theme, &session);
            return secure(page, &state.config.web);
        }
    };
    let now = state.clock.now_millis();
    let site = Site::build(
        &state.config.status,
        &state.config.web.public_url,
        &records,
        now,
    );
    let open: Vec<&IncidentRecord> = records
        .iter()
        .rev()
        .filter(|record| record.incident.status.is_open())
        .collect();
    let open = state.visible(&session.user_id, open).await;
    let named: Vec<_> = open
        .iter()
        .flat_map(|record| {
            let incident = &record.incident;
            incident
                .commander
                .clone()
                .into_iter()
                .chain(incident.timeline.iter().map(|entry| entry.by.clone()))
        })
        .collect();
    let people = People::of(state.desk.get(), &named).await;
    let body = html! {
        h1 { (TITLE) }
        p.lead { (open.len()) @if open.len() == 1 { " open incident" } @else { " open incidents" }
            " · as of " (when(now)) " · " a href="/status/" { "the public page" } }
        section.card aria-labelledby="public-title" {
            h2 #public-title { "The public page: " (site.headline()) }
            @if site.components.is_empty() {
                p.empty { "No components are configured ([[status.components]])." }
            } @else {
                table {
                    thead { tr { th { "Component" } th { "Group" } th { "State" } } }
                    tbody {
                        @for state in &site.components {
                            tr #{ "component-" (state.component.id) } {
                                td { (state.component.name) }
                                td { (state.component.group.as_deref().unwrap_or("")) }
                                td { @match state.impact { Some(impact) => strong { (impact.label()) }, None => "Operational" } }
                            }
                        }
                    }
                }
            }
        }
        @if open.is_empty() {
            section.card { p.empty { "No open incidents." } }
        }
        @for record in &open {
            (incident(record, &people))
        }
    };
    let page = document(TITLE, PATH, query.theme, Some(&session), body);
    secure(page.into_response(), &state.config.web)
}

/// One open incident: who runs it, what the public page says of it, and its updates.
fn incident(record: &IncidentRecord, people: &People) -> Markup {
    let incident = &record.incident;
    let id = format!("inc-{}", incident.number.0);
    let updates: Vec<_> = incident
        .timeline
        .iter()
        .rev()
        .filter_map(|entry| match &entry.what {
            Happening::Update { text, public } => Some((entry, text, *public)),
            _ => None,
        })
        .collect();
    html! {
        section.card #(id) aria-labelledby={ (id) "-title" } {
            h2 id={ (id) "-title" } {
                a href=(permalink(&record.alias)) { (incident.number) } " "
                (incident.title)
                @if incident.private { " " span.tag.private title="Only its members see it" { "Private" } }
            }
            p {
                span class={ "sev sev-" (incident.severity.level()) } { (incident.severity) } " "
                span.status { (incident.status) } " · commanded by " (people.commander(incident.commander.as_deref()))
                " · declared " (when(incident.timestamps.declared))
            }
            p.public { strong { "On the public page: " } (public(incident)) }
            h3 { "Updates" }
            @if updates.is_empty() { p.empty { "No updates yet." } } @else {
                ol.updates reversed {
                    @for (entry, text, public) in &updates {
                        li {
                            (when(entry.at)) " · " (people.person(&entry.by)) " · "
                            @if *public { span.tag.public { "Public" } } @else { span.tag { "Internal" } }
                            p { (text) }
                        }
                    }
                }
            }
        }
    }
}

/// What the public page says of `incident`, and why.
fn public(incident: &brigade_core::incident::Incident) -> Markup {
    let affected: Vec<String> = incident
        .affected
        .iter()
        .map(|(component, impact)| format!("{component} ({})", impact.word()))
        .collect();
    html! {
        @if incident.private {
            "never: the incident is private."
        } @else if incident.unlisted {
            "hidden (" code { "!inc public on" } " lists it again)."
        } @else if incident.published() {
            "“" (incident.page_title()) "”"
            @if !affected.is_empty() { ", affecting " (affected.join(", ")) }
            @let count = incident.public_updates().len();
            ", " (count) @if count == 1 { " public update." } @else { " public updates." }
        } @else {
            "not yet: it affects no component (" code { "!inc affects" } ") and has no public update ("
            code { "!inc update --public" } ")."
        }
    }
}
