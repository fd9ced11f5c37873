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

/// The most an alert message's content may take, as JSON: an edit carries it twice (the
/// fallback and `m.new_content`), and the homeserver refuses events over 64 KiB.
pub const MAX_CONTENT_BYTES: usize = 24 * 1024;

/// The most of a title a message shows, in characters.
const MAX_TITLE_CHARS: usize = 300;

/// The alert's message: a line people read, and `org.brigade.alert` for the bot. It always
/// fits in [`MAX_CONTENT_BYTES`]: a title or description too long for it is cut, saying so,
/// with the sender's link to the full text when the payload gave one. `asks` is what it asks
/// of the bot: a declaration (and whom to page for it), or nothing.
pub fn message(record: &AlertRecord, asks: Option<Option<&str>>) -> serde_json::Value {
    let title = cut(&record.title, MAX_TITLE_CHARS);
    let mut shown = record.body.chars().count();
    let mut link = record.link.as_deref();
    loop {
        let content = render(record, &title, shown, link, asks);
        let size = serde_json::to_vec(&content).map_or(usize::MAX, |bytes| bytes.len());
        if size <= MAX_CONTENT_BYTES || (shown == 0 && link.is_none()) {
            return content;
        }
        if shown == 0 {
            link = None;
            continue;
        }
        // Shrink in proportion, and by at least a tenth: a few rounds at most.
        let fits = shown.saturating_mul(MAX_CONTENT_BYTES) / size;
        shown = fits.min(shown - shown.div_ceil(10));
    }
}

/// `text` cut to `chars` characters, with an ellipsis when cut.
fn cut(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The message with the first `shown` characters of the description.
fn render(
    record: &AlertRecord,
    title: &str,
    shown: usize,
    link: Option<&str>,
    asks: Option<Option<&str>>,
) -> serde_json::Value {
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
    let mut body = format!("{mark} {title}{severity} · {state} · {route}{repeats}");
    let mut html = format!(
        "{mark} <strong>{}</strong>{severity} · {state} · {route}{repeats}",
        escape(title)
    );
    if !record.body.is_empty() {
        let description = cut(&record.body, shown);
        body.push_str(&format!("\n\n{description}"));
        html.push_str(&format!("<br><br>{}", escape(&description)));
        let left = record.body.chars().count() - shown.min(record.body.chars().count());
        if left > 0 {
            let note = format!("({left} more characters not shown: too long for a message)");
            body.push_str(&format!("\n{note}"));
            html.push_str(&format!("<br><em>{}</em>", escape(&note)));
        }
    }
    if let Some(link) = link {
        body.push_str(&format!("\n\n{link}"));
        html.push_str(&format!(
            "<br><br><a href=\"{}\">{}</a>",
            escape(link),
            escape(link)
        ));
    }
    let mut content = text(body, html);
    content[ALERT_KEY] = json!(AlertContent {
        source: record.source.name().to_owned(),
        route: record.route.clone(),
        fingerprint: record.fingerprint.clone(),
        status: record.status,
        severity: record.severity,
        title: title.to_owned(),
        count: record.count,
        first_seen: record.first_seen,
        last_seen: record.last_seen,
        auto_declare: asks.is_some(),
        component: record.component.clone(),
        impact: record.impact.clone(),
        page: asks.flatten().map(str::to_owned),
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
