//! What alert and burst messages say: a line people read, in plain text and HTML, and the
//! structured part the bot reads (`org.brigade.alert`, `org.brigade.alert_burst`).

use std::collections::HashMap;

use brigade_core::{
    events::{AlertContent, BurstContent, BurstListContent, ALERT_KEY, BURST_KEY, BURST_LIST_KEY},
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
    body.push_str("\nEvery alert and its state: in this message's thread.");
    html.push_str("<br><em>Every alert and its state: in this message's thread.</em>");
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

/// How much of a description a line of a burst's list shows, in characters.
const LIST_DESCRIPTION_CHARS: usize = 100;

/// The full list of a burst's alerts, for the thread under its message: firing first (worst
/// first, then the latest), then resolved, each with its state, severity, repeats, since when
/// and the start of its description. It always fits in [`MAX_CONTENT_BYTES`]: what does not
/// fit is counted at the end.
pub fn burst_list(burst: &BurstRecord, members: &[AlertRecord]) -> serde_json::Value {
    let in_burst = |record: &AlertRecord| record.placement == Some(Placement::Burst(burst.id));
    let firing = |record: &AlertRecord| in_burst(record) && record.status == AlertStatus::Firing;
    let mut ordered: Vec<&AlertRecord> = members.iter().collect();
    ordered.sort_by(|a, b| {
        firing(b)
            .cmp(&firing(a))
            .then(a.severity.is_none().cmp(&b.severity.is_none()))
            .then(a.severity.cmp(&b.severity))
            .then(b.last_seen.cmp(&a.last_seen))
            .then(a.title.cmp(&b.title))
    });
    let heading = format!(
        "Every alert of this burst ({}), firing first; kept current:",
        members.len()
    );
    let mut body = heading.clone();
    let mut items = String::new();
    // Room for the heading, the count of those left out, the structured part and the
    // envelope, with a margin.
    let budget = MAX_CONTENT_BYTES - 2 * heading.len() - 1024;
    let mut listed = 0;
    for record in &ordered {
        let (mark, state) = if firing(record) {
            ("🔥", "firing")
        } else {
            ("✅", "resolved")
        };
        let title = cut(&printable(&record.title), MAX_TITLE_CHARS / 3);
        let mut facts = vec![state.to_owned()];
        facts.extend(record.severity.map(|severity| severity.to_string()));
        if record.count > 1 {
            facts.push(format!("×{}", record.count));
        }
        facts.push(format!("since {}", clock(record.first_seen)));
        let facts = facts.join(" · ");
        let description = record.body.lines().find(|line| !line.trim().is_empty());
        let about = description.map(|line| cut(&printable(line.trim()), LIST_DESCRIPTION_CHARS));
        let line = match &about {
            Some(about) => format!("{mark} {title} · {facts} · {about}"),
            None => format!("{mark} {title} · {facts}"),
        };
        let item = match &about {
            Some(about) => format!(
                "<li>{mark} <strong>{}</strong> · {facts} · {}</li>",
                escape(&title),
                escape(about)
            ),
            None => format!(
                "<li>{mark} <strong>{}</strong> · {facts}</li>",
                escape(&title)
            ),
        };
        // The plain text counted twice, as JSON may escape much of it; the HTML is escaped
        // already.
        if 2 * (body.len() + 1 + line.len()) + items.len() + item.len() > budget {
            break;
        }
        body.push('\n');
        body.push_str(&line);
        items.push_str(&item);
        listed += 1;
    }
    let mut html = format!("{}<ul>{items}</ul>", escape(&heading));
    let left = ordered.len() - listed;
    if left > 0 {
        let note = format!("… and {left} more, too many for one message.");
        body.push_str(&format!("\n{note}"));
        html.push_str(&format!("<p><em>{}</em></p>", escape(&note)));
    }
    let mut content = text(body, html);
    content[BURST_LIST_KEY] = json!(BurstListContent {
        source: burst.source.name().to_owned(),
        route: burst.route.clone(),
        started: burst.started,
        alerts: members.len(),
        listed,
    });
    content
}

/// `text` with its control characters (colour codes, say) as spaces: JSON would write each as
/// six bytes, past what a list's budget counts.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Source;

    fn burst() -> BurstRecord {
        BurstRecord {
            id: 7,
            source: Source::Alertmanager,
            route: "db".to_owned(),
            room_id: "!r:example.org".to_owned(),
            started: 1_000,
            version: 3,
            shown: 0,
            event_id: None,
            list_shown: Some(0),
            list_event_id: None,
        }
    }

    fn member(n: usize, status: AlertStatus, severity: Option<Severity>) -> AlertRecord {
        AlertRecord {
            source: Source::Alertmanager,
            route: "db".to_owned(),
            fingerprint: format!("f{n}"),
            title: format!("Disk full {n}"),
            severity,
            body: format!("\ndb-{n} is at 95% \"and rising\"\nmore"),
            link: None,
            component: None,
            impact: None,
            status,
            count: 2,
            first_seen: 3_600_000 + n as u64,
            last_seen: 3_600_000 + n as u64,
            version: 1,
            shown: 1,
            event_id: None,
            placement: Some(Placement::Burst(7)),
            ended: Vec::new(),
        }
    }

    #[test]
    fn a_bursts_list_names_every_alert_firing_and_worst_first() {
        let members = [
            member(1, AlertStatus::Resolved, Some(Severity::Sev1)),
            member(2, AlertStatus::Firing, None),
            member(3, AlertStatus::Firing, Some(Severity::Sev2)),
        ];
        let content = burst_list(&burst(), &members);
        let body = content["body"].as_str().expect("a body");
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(
            lines,
            [
                "Every alert of this burst (3), firing first; kept current:",
                "🔥 Disk full 3 · firing · SEV2 · ×2 · since 01:00:00 UTC · db-3 is at 95% \"and rising\"",
                "🔥 Disk full 2 · firing · ×2 · since 01:00:00 UTC · db-2 is at 95% \"and rising\"",
                "✅ Disk full 1 · resolved · SEV1 · ×2 · since 01:00:00 UTC · db-1 is at 95% \"and rising\"",
            ]
        );
        let html = content["formatted_body"].as_str().expect("HTML");
        assert!(
            html.contains("<li>🔥 <strong>Disk full 3</strong>"),
            "{html}"
        );
        assert!(html.contains("&quot;and rising&quot;"), "{html}");
        assert_eq!(content[BURST_LIST_KEY]["listed"], 3);
        assert_eq!(content[BURST_LIST_KEY]["started"], 1_000);
    }

    #[test]
    fn a_list_too_long_for_one_message_counts_the_rest() {
        let members: Vec<AlertRecord> = (0..2_000)
            .map(|n| {
                let mut record = member(n, AlertStatus::Firing, Some(Severity::Sev3));
                // What JSON writes longest: quotes, backslashes, colour codes.
                record.title = format!("\u{1b}[31m\"{n}\\\"\u{1b}[0m").repeat(20);
                record.body = "\u{1b}[1m<b>\"&\"</b>\\".repeat(40);
                record
            })
            .collect();
        let content = burst_list(&burst(), &members);
        let size = serde_json::to_vec(&content).expect("serializes").len();
        assert!(size <= MAX_CONTENT_BYTES, "{size}");
        let listed = content[BURST_LIST_KEY]["listed"].as_u64().expect("listed");
        assert!(listed > 10 && listed < 2_000, "{listed}");
        let body = content["body"].as_str().expect("a body");
        assert!(
            body.ends_with(&format!(
                "… and {} more, too many for one message.",
                2_000 - listed
            )),
            "{body}"
        );
    }
}
