//! What alert and burst messages say: a line people read, in plain text and HTML, and the
//! structured part the bot reads (`org.brigade.alert`, `org.brigade.alert_burst`).

use std::collections::HashMap;

use brigade_core::{
    events::{AlertContent, BurstContent, ALERT_KEY, BURST_KEY},
    html::escape,
    incident::Severity,
};
use serde_json::json;

use crate::{
    alert::AlertStatus,
    store::{AlertRecord, BurstRecord, Placement},
};

/// How many of a burst's most frequent titles its message names.
const BURST_TITLES: usize = 5;

/// The alert's message: a line people read, and `org.brigade.alert` for the bot.
pub fn message(record: &AlertRecord, auto_declare: bool) -> serde_json::Value {
    let severity = record
        .severity
        .map_or_else(String::new, |severity| format!(" · {severity}"));
    let route = format!("{}/{}", record.source, record.route);
    let (mark, state) = match record.status {
        AlertStatus::Firing => ("🔥", "firing"),
        AlertStatus::Resolved => ("✅", "resolved"),
    };
    let repeats = if record.count > 1 {
        format!(" · ×{} (last {})", record.count, clock(record.last_seen))
    } else {
        String::new()
    };
    let mut body = format!(
        "{mark} {}{severity} · {state} · {route}{repeats}",
        record.title
    );
    let mut html = format!(
        "{mark} <strong>{}</strong>{severity} · {state} · {route}{repeats}",
        escape(&record.title)
    );
    if !record.body.is_empty() {
        body.push_str(&format!("\n\n{}", record.body));
        html.push_str(&format!("<br><br>{}", escape(&record.body)));
    }
    let mut content = text(body, html);
    content[ALERT_KEY] = json!(AlertContent {
        source: record.source.name().to_owned(),
        route: record.route.clone(),
        fingerprint: record.fingerprint.clone(),
        status: record.status,
        severity: record.severity,
        title: record.title.clone(),
        count: record.count,
        first_seen: record.first_seen,
        last_seen: record.last_seen,
        auto_declare,
    });
    content
}

/// A burst's message: how many of its alerts fire and how many resolved, since when, the
/// worst severity and the most frequent titles; `org.brigade.alert_burst` holds the counts.
pub fn burst_message(burst: &BurstRecord, members: &[AlertRecord]) -> serde_json::Value {
    // An alert that began a new episode since resolved in this one.
    let in_burst = |record: &&AlertRecord| record.placement == Some(Placement::Burst(burst.id));
    let firing: Vec<&AlertRecord> = members
        .iter()
        .filter(|record| in_burst(record) && record.status == AlertStatus::Firing)
        .collect();
    let resolved = members.len() - firing.len();
    let received: u64 = members.iter().filter(in_burst).map(|r| r.count).sum();
    let last_seen = members
        .iter()
        .map(|r| r.last_seen)
        .max()
        .unwrap_or(burst.started);
    let worst: Option<Severity> = firing.iter().filter_map(|r| r.severity).min();
    let mut titles: HashMap<&str, usize> = HashMap::new();
    for record in &firing {
        *titles.entry(record.title.as_str()).or_default() += 1;
    }
    let mut titles: Vec<(&str, usize)> = titles.into_iter().collect();
    titles.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let route = format!("{}/{}", burst.source, burst.route);
    let mark = if firing.is_empty() { "✅" } else { "🔥" };
    let severity = worst.map_or_else(String::new, |severity| format!(" · worst {severity}"));
    let head = format!(
        "{} firing · {resolved} resolved{severity} · {route} · {} alerts since {} (last {})",
        firing.len(),
        members.len(),
        clock(burst.started),
        clock(last_seen)
    );
    let most = titles
        .iter()
        .take(BURST_TITLES)
        .map(|(title, count)| format!("{title} ×{count}"))
        .collect::<Vec<_>>()
        .join(" · ");
    let mut body = format!("{mark} Alert burst: {head}");
    let mut html = format!("{mark} <strong>Alert burst</strong>: {}", escape(&head));
    if !most.is_empty() {
        body.push_str(&format!("\nMost firing: {most}"));
        html.push_str(&format!("<br>Most firing: {}", escape(&most)));
    }
    let mut content = text(body, html);
    content[BURST_KEY] = json!(BurstContent {
        source: burst.source.name().to_owned(),
        route: burst.route.clone(),
        alerts: members.len(),
        firing: firing.len(),
        resolved,
        received,
        severity: worst,
        started: burst.started,
        last_seen,
    });
    content
}

/// An `m.text` message that mentions nobody, in plain text and HTML.
fn text(body: String, html: String) -> serde_json::Value {
    json!({
        "msgtype": "m.text",
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": html,
        "m.mentions": {},
    })
}

/// `HH:MM:SS UTC`.
fn clock(millis: u64) -> String {
    let seconds = millis / 1000;
    format!(
        "{:02}:{:02}:{:02} UTC",
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60
    )
}
