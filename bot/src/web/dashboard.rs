//! `/dashboard` (SPEC §10): open and recent incidents, and time to acknowledge, mitigate and
//! resolve over the weeks, by severity and by type. A private incident is listed only to its
//! members (the bot reads who is joined); everyone's figures count it, without its title.

use axum::{
    extract::{Query, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use brigade_core::record::IncidentRecord;
use maud::{html, Markup};
use tracing::error;

use super::{
    chart,
    page::{document, secure, signed_out, unavailable, when, PageQuery, People},
    state::WebState,
};
use crate::{
    render::{format_utc, permalink},
    report::duration,
    stats::{self, Measure, Row, Spread},
};

/// How many weeks the charts cover.
const WEEKS: u64 = 12;
/// Resolved and closed incidents listed as recent: at most this many, this many days back.
const RECENT: usize = 20;
const RECENT_DAYS: u64 = 30;

/// `GET /dashboard`
pub async fn show(
    State(state): State<WebState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let Some((_, session, _)) = state.sessions.of_request(&headers) else {
        return signed_out(
            &state.config.web,
            "Dashboard",
            "/dashboard",
            query.theme,
            "Open and recent incidents, and how fast they were handled.",
            "The dashboard shows what you may see in Matrix.",
        );
    };
    let records = match state.store.incidents().await {
        Ok(records) => records,
        Err(error) => {
            error!(%error, "cannot read the incidents for the dashboard");
            let page = unavailable("Dashboard", "/dashboard", query.theme, &session);
            return secure(page, &state.config.web);
        }
    };
    let now = state.clock.now_millis();
    let recent_since = now.saturating_sub(RECENT_DAYS * 24 * 3600 * 1000);
    let open: Vec<&IncidentRecord> = records
        .iter()
        .rev()
        .filter(|record| record.incident.status.is_open())
        .collect();
    let mut recent: Vec<&IncidentRecord> = records
        .iter()
        .filter(|record| !record.incident.status.is_open())
        .filter(|record| record.incident.timestamps.resolved.unwrap_or(0) >= recent_since)
        .collect();
    // Most recently resolved first.
    recent.sort_by_key(|record| std::cmp::Reverse(record.incident.timestamps.resolved));
    let open = state.visible(&session.user_id, open).await;
    let mut recent = state.visible(&session.user_id, recent).await;
    recent.truncate(RECENT);
    // The commanders the open table shows, each looked up once.
    let commanders: Vec<_> = open
        .iter()
        .filter_map(|record| record.incident.commander.clone())
        .collect();
    let people = People::of(state.desk.get(), &commanders).await;

    let weeks = stats::weekly(&records, now, WEEKS);
    let severities = stats::by_severity(&records);
    let types = stats::by_type(&records, &state.config.incidents.types);
    let counts: Vec<(String, usize)> = types
        .iter()
        .map(|row| (row.name.clone(), row.incidents))
        .collect();
    let body = html! {
        h1 { "Dashboard" }
        p.lead { (open.len()) " open · " (records.len()) @if records.len() == 1 { " incident" } @else { " incidents" } " in all · as of "
            time datetime=(format_utc(now, "%Y-%m-%dT%H:%M:%SZ")) { (format_utc(now, "%Y-%m-%d %H:%M UTC")) } }
        section.card aria-labelledby="open-title" {
            h2 #open-title { "Open incidents" }
            @if open.is_empty() { p.empty { "No open incidents." } } @else {
                table {
                    thead { tr { th { "Incident" } th { "Severity" } th { "Title" } th { "Status" } th { "Commander" } th.num { "Age" } } }
                    tbody {
                        @for record in &open {
                            tr {
                                td { a href=(permalink(&record.alias)) { (record.incident.number) } }
                                td { (severity(record)) }
                                td { (title(record)) }
                                td.status { (record.incident.status) }
                                td { (people.commander(record.incident.commander.as_deref())) }
                                td.num { (duration(now.saturating_sub(record.incident.timestamps.declared))) }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="recent-title" {
            h2 #recent-title { "Recently resolved" }
            @if recent.is_empty() { p.empty { "Nothing resolved in the last " (RECENT_DAYS) " days." } } @else {
                table {
                    thead { tr { th { "Incident" } th { "Severity" } th { "Title" } th { "Status" } th { "Resolved" } th.num { "Time to resolve" } } }
                    tbody {
                        @for record in &recent {
                            @let timestamps = record.incident.timestamps;
                            tr {
                                td { a href=(permalink(&record.alias)) { (record.incident.number) } }
                                td { (severity(record)) }
                                td { (title(record)) }
                                td.status { (record.incident.status) }
                                td { @if let Some(at) = timestamps.resolved { (when(at)) } }
                                td.num { @if let Some(took) = timestamps.durations().to_resolve { (duration(took)) } }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Over the last " (WEEKS) " weeks" }
        p.legend { span.median { "median" } span.p90 { "90th percentile" } }
        div.grid {
            @for (index, measure) in Measure::ALL.iter().enumerate() {
                section.card aria-labelledby={ "chart-" (index) } {
                    h3 id={ "chart-" (index) } { (measure.label()) }
                    (chart::weekly(&weeks, index, measure.label()))
                }
            }
            section.card aria-labelledby="counts-title" {
                h3 #counts-title { "Incidents by type" }
                (chart::bars(&counts, "Incidents by type"))
            }
        }
        (breakdown("By severity", "Severity", &severities))
        (breakdown("By type", "Type", &types))
    };
    let page = document("Dashboard", "/dashboard", query.theme, Some(&session), body);
    secure(page.into_response(), &state.config.web)
}

fn severity(record: &IncidentRecord) -> Markup {
    let severity = record.incident.severity;
    html! { span class={ "sev sev-" (severity.level()) } { (severity) } }
}

/// The title, with a lock for a private incident (listed only to its members).
fn title(record: &IncidentRecord) -> Markup {
    html! {
        (record.incident.title)
        @if record.incident.private { " " span.tag.private title="Only its members see it" { "Private" } }
    }
}

fn cell(spread: Option<Spread>) -> Markup {
    html! {
        @match spread {
            Some(spread) => td.num { (duration(spread.median)) " / " (duration(spread.p90)) },
            None => td.num { "—" },
        }
    }
}

fn breakdown(heading: &str, first: &str, rows: &[Row]) -> Markup {
    html! {
        section.card {
            h2 { (heading) }
            table {
                thead { tr {
                    th { (first) } th.num { "Incidents" }
                    @for measure in Measure::ALL { th.num { (measure.label()) " (median / p90)" } }
                } }
                tbody {
                    @for row in rows {
                        tr { td { (row.name) } td.num { (row.incidents) } @for spread in row.spreads { (cell(spread)) } }
                    }
                }
            }
        }
    }
}
