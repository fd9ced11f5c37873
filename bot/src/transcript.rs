//! `!inc transcript` (SPEC §16): a room's whole history as a Markdown and an HTML document.
//! Every message with its author and time (UTC), edits applied, redactions shown as removed,
//! thread replies under their root, files as links, reactions counted under what they react
//! to. Pure: the history is read from the room by the Matrix layer, oldest event first.

use std::collections::HashMap;

use brigade_core::{html::escape as html_escape, record::IncidentRecord};
use matrix_sdk::ruma::{MxcUri, OwnedUserId, UserId};
use serde_json::Value;

use crate::{markdown::escape, names::Names, render::format_utc, report::Links};

/// A transcript in both forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// The Markdown document.
    pub markdown: String,
    /// The HTML document: one page, its style inline, no script, nothing fetched.
    pub html: String,
    /// How many messages it holds, thread replies included.
    pub messages: usize,
}

/// The file names of `record`'s transcript: `INC-7-transcript.md` and `….html`.
pub fn file_names(record: &IncidentRecord) -> (String, String) {
    let number = &record.incident.number;
    (
        format!("{number}-transcript.md"),
        format!("{number}-transcript.html"),
    )
}

/// What a message says, as the transcript shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Said {
    /// Text, as last edited.
    Text(String),
    /// A file, an image, a video or a sound: its name, and where it is unless encrypted (or
    /// not the homeserver's media).
    File { name: String, url: Option<String> },
    /// Redacted.
    Removed,
    /// Encrypted with a key the bot never got.
    Unreadable,
}

/// One message of the room.
#[derive(Debug, Clone)]
struct Message {
    id: String,
    author: OwnedUserId,
    at: u64,
    said: Said,
    edited: bool,
    /// The reactions' keys in the order first seen, and who reacted with each.
    reactions: Vec<(String, Vec<OwnedUserId>)>,
    /// The thread it answers, if any.
    thread: Option<String>,
}

/// The transcript of `events` (the room's history as JSON, oldest first), people named by
/// `names`, messages linked by `links`.
pub fn transcript(
    record: &IncidentRecord,
    events: &[Value],
    links: Links<'_>,
    names: &Names,
) -> Transcript {
    let messages = messages(events);
    let (roots, replies) = threads(&messages);
    let incident = &record.incident;
    // A private incident's title stays in its encrypted room, where these files are posted.
    let heading = format!("Transcript: {} · {}", incident.number, incident.title);
    let room = format!("https://matrix.to/#/{}?via={}", links.room, links.via);
    let span = match (messages.first(), messages.last()) {
        (Some(first), Some(last)) => format!(
            "{} messages, {} to {}",
            messages.len(),
            date_time(first.at),
            date_time(last.at)
        ),
        _ => "no messages".to_owned(),
    };

    let mut markdown = format!("# {}\n\n[The room]({room}) · {span}\n", escape(&heading));
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n\
         <p><a href=\"{room}\">The room</a> · {span}</p>\n",
        title = html_escape(&heading),
        room = html_escape(&room),
    );
    for root in &roots {
        markdown.push('\n');
        markdown.push_str(&markdown_block(root, links, names, ""));
        html.push_str(&html_block(root, links, names));
        if let Some(thread) = replies.get(root.id.as_str()) {
            html.push_str("<section class=\"thread\">\n");
            for (at, reply) in thread.iter().enumerate() {
                markdown.push_str(if at == 0 { "\n" } else { ">\n" });
                markdown.push_str(&markdown_block(reply, links, names, "> "));
                html.push_str(&html_block(reply, links, names));
            }
            html.push_str("</section>\n");
        }
    }
    html.push_str("</body>\n</html>\n");
    Transcript {
        markdown,
        html,
        messages: messages.len(),
    }
}

/// The messages of `events`, oldest first, each as last edited by its author and with its
/// reactions.
fn messages(events: &[Value]) -> Vec<Message> {
    let mut messages: Vec<Message> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut edits: Vec<(&Value, String)> = Vec::new();
    let mut reactions: Vec<(&Value, String)> = Vec::new();
    for event in events {
        let content = &event["content"];
        let relation = &content["m.relates_to"];
        let (Some(id), Some(author)) = (
            event["event_id"].as_str(),
            event["sender"]
                .as_str()
                .and_then(|sender| UserId::parse(sender).ok()),
        ) else {
            continue;
        };
        let redacted = event["unsigned"]["redacted_because"].is_object();
        let said = match event["type"].as_str() {
            // Redacted, a reaction is gone; an encrypted message (or, indistinguishably, an
            // encrypted edit) shows as removed.
            Some("m.reaction") if redacted => continue,
            Some("m.room.message" | "m.room.encrypted") if redacted => Said::Removed,
            // An encrypted edit or reaction says its relation in the clear.
            Some("m.room.encrypted")
                if matches!(
                    relation["rel_type"].as_str(),
                    Some("m.replace" | "m.annotation")
                ) =>
            {
                continue
            }
            Some("m.room.message") if relation["rel_type"] == "m.replace" => {
                if let Some(target) = relation["event_id"].as_str() {
                    edits.push((event, target.to_owned()));
                }
                continue;
            }
            Some("m.reaction") => {
                if let Some(target) = relation["event_id"].as_str() {
                    reactions.push((event, target.to_owned()));
                }
                continue;
            }
            Some("m.room.message") => said(content),
            Some("m.room.encrypted") => Said::Unreadable,
            _ => continue,
        };
        at.insert(id.to_owned(), messages.len());
        messages.push(Message {
            id: id.to_owned(),
            author,
            at: event["origin_server_ts"].as_u64().unwrap_or_default(),
            said,
            edited: false,
            reactions: Vec::new(),
            thread: (relation["rel_type"] == "m.thread")
                .then(|| relation["event_id"].as_str().map(str::to_owned))
                .flatten(),
        });
    }
    // Only the author edits a message; the latest edit wins.
    for (edit, target) in edits {
        let Some(message) = at.get(&target).map(|index| &mut messages[*index]) else {
            continue;
        };
        if edit["sender"] != message.author.as_str() || message.said == Said::Removed {
            continue;
        }
        let new = &edit["content"]["m.new_content"];
        if new.is_object() {
            message.said = said(new);
            message.edited = true;
        }
    }
    for (reaction, target) in reactions {
        let (Some(key), Some(by)) = (
            reaction["content"]["m.relates_to"]["key"].as_str(),
            reaction["sender"]
                .as_str()
                .and_then(|sender| UserId::parse(sender).ok()),
        ) else {
            continue;
        };
        let Some(message) = at.get(&target).map(|index| &mut messages[*index]) else {
            continue;
        };
        match message.reactions.iter_mut().find(|(had, _)| had == key) {
            Some((_, people)) if people.contains(&by) => {}
            Some((_, people)) => people.push(by),
            None => message.reactions.push((key.to_owned(), vec![by])),
        }
    }
    messages
}

/// What a message's `content` says. Redacted content has no `msgtype`. A reply's quote of
/// what it answers (its fallback, `> <@user> …`) is left out: that message is shown itself.
fn said(content: &Value) -> Said {
    let body = content["body"].as_str().unwrap_or_default();
    match content["msgtype"].as_str() {
        None => Said::Removed,
        Some("m.file" | "m.image" | "m.video" | "m.audio") => Said::File {
            name: content["filename"].as_str().unwrap_or(body).to_owned(),
            // Only content of the homeserver: whatever else a sender put there is no link.
            url: content["url"]
                .as_str()
                .filter(|url| <&MxcUri>::from(*url).is_valid())
                .map(str::to_owned),
        },
        Some(_) if content["m.relates_to"]["m.in_reply_to"].is_object() => {
            let mut lines = body.lines().peekable();
            if lines.peek().is_some_and(|line| line.starts_with("> <")) {
                while lines.next_if(|line| line.starts_with('>')).is_some() {}
                lines.next_if(|line| line.is_empty());
            }
            Said::Text(lines.collect::<Vec<_>>().join("\n"))
        }
        Some(_) => Said::Text(body.to_owned()),
    }
}

/// `text` as one line of Markdown that reads as typed: line breaks (`\r` too) as spaces and
/// every ASCII punctuation mark escaped, so nothing in it starts a list, a heading, a link or
/// a code block.
fn inline(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            line.push('\\');
            line.push(c);
        } else if c.is_control() {
            line.push(' ');
        } else {
            line.push(c);
        }
    }
    line
}

/// A message's text as Markdown lines: each [`inline`], its leading spaces kept as no-break
/// spaces and an empty line shown as one, so the message stays one paragraph.
fn text_lines(text: &str) -> Vec<String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.split('\n')
        .map(|line| {
            let body = line.trim_start();
            let indent = "&nbsp;".repeat(line.chars().count() - body.chars().count());
            let body = inline(body);
            if indent.is_empty() && body.is_empty() {
                "&nbsp;".to_owned()
            } else {
                format!("{indent}{body}")
            }
        })
        .collect()
}

/// The messages outside threads, and each thread's replies by its root, oldest first. A reply
/// whose root is not in the history is shown on its own.
fn threads(messages: &[Message]) -> (Vec<&Message>, HashMap<&str, Vec<&Message>>) {
    // A thread's root is a message outside threads.
    let known: std::collections::HashSet<&str> = messages
        .iter()
        .filter(|message| message.thread.is_none())
        .map(|message| message.id.as_str())
        .collect();
    let mut roots = Vec::new();
    let mut replies: HashMap<&str, Vec<&Message>> = HashMap::new();
    for message in messages {
        match message.thread.as_deref() {
            Some(root) if known.contains(root) => replies.entry(root).or_default().push(message),
            _ => roots.push(message),
        }
    }
    (roots, replies)
}

/// `2026-11-28 09:30:05 UTC`.
fn date_time(millis: u64) -> String {
    format_utc(millis, "%Y-%m-%d %H:%M:%S UTC")
}

/// `👍 2 · 🎉 1`.
fn reaction_counts(message: &Message) -> String {
    message
        .reactions
        .iter()
        .map(|(key, people)| {
            let key: String = key.chars().filter(|c| !c.is_control()).take(32).collect();
            format!("{key} {}", people.len())
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// One message in Markdown, each line after `quote` (`> ` in a thread).
fn markdown_block(message: &Message, links: Links<'_>, names: &Names, quote: &str) -> String {
    let mut lines = vec![format!(
        "**[{}]({}) · {}**{}",
        date_time(message.at),
        links.event(&message.id),
        inline(&names.name(&message.author)),
        if message.edited { " (edited)" } else { "" }
    )];
    match &message.said {
        Said::Text(text) => lines.extend(text_lines(text)),
        Said::File {
            name,
            url: Some(url),
        } => lines.push(format!("📎 [{}](<{url}>)", inline(name))),
        Said::File { name, url: None } => {
            lines.push(format!("📎 {} (open it in the room)", inline(name)));
        }
        Said::Removed => lines.push("_(removed)_".to_owned()),
        Said::Unreadable => lines.push("_(encrypted; the bot could not read it)_".to_owned()),
    }
    if !message.reactions.is_empty() {
        lines.push(format!(
            "_Reactions: {}_",
            inline(&reaction_counts(message))
        ));
    }
    // One paragraph: a hard break between its lines.
    let lines: Vec<&str> = lines.iter().map(|line| line.trim_end()).collect();
    format!("{quote}{}\n", lines.join(&format!("  \n{quote}")))
}

/// One message in HTML.
fn html_block(message: &Message, links: Links<'_>, names: &Names) -> String {
    let said = match &message.said {
        Said::Text(text) => text
            .lines()
            .map(html_escape)
            .collect::<Vec<_>>()
            .join("<br>\n"),
        Said::File {
            name,
            url: Some(url),
        } => {
            format!(
                "📎 <a href=\"{}\">{}</a>",
                html_escape(url),
                html_escape(name)
            )
        }
        Said::File { name, url: None } => {
            format!("📎 {} (open it in the room)", html_escape(name))
        }
        Said::Removed => "<em>(removed)</em>".to_owned(),
        Said::Unreadable => "<em>(encrypted; the bot could not read it)</em>".to_owned(),
    };
    let reactions = if message.reactions.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"reactions\">Reactions: {}</p>\n",
            html_escape(&reaction_counts(message))
        )
    };
    format!(
        "<article>\n<header><a href=\"{link}\">{at}</a> · <strong>{author}</strong>{edited}\
         </header>\n<p>{said}</p>\n{reactions}</article>\n",
        link = html_escape(&links.event(&message.id)),
        at = date_time(message.at),
        author = html_escape(&names.name(&message.author)),
        edited = if message.edited { " (edited)" } else { "" },
    )
}

/// The page's whole style.
const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;\
padding:0 1rem;color:#1b1d22}article{margin:0 0 1rem}header{color:#5c6470;font-size:.9em}\
header a{color:inherit}.thread{margin:-.5rem 0 1rem 1.5rem;padding-left:.75rem;\
border-left:3px solid #d0d4da}.reactions{color:#5c6470;font-size:.9em;margin:0}p{margin:.2rem 0}";

#[cfg(test)]
mod tests {
    use brigade_core::{incident::Severity, testing};
    use matrix_sdk::ruma::{owned_user_id, room_id, server_name};
    use serde_json::json;

    use super::*;

    /// 2026-11-28 09:30:00 UTC.
    const START: u64 = 1_795_858_200_000;

    fn links() -> Links<'static> {
        Links {
            room: room_id!("!room:example.org"),
            via: server_name!("example.org"),
        }
    }

    fn names() -> Names {
        let mut names = Names::new();
        names.insert(owned_user_id!("@alice:example.org"), "Alice", false);
        names.insert(owned_user_id!("@bob:example.org"), "Bob <ops>", false);
        names
    }

    fn event(id: &str, sender: &str, seconds: u64, kind: &str, content: Value) -> Value {
        json!({
            "event_id": id,
            "sender": format!("@{sender}:example.org"),
            "origin_server_ts": START + seconds * 1000,
            "type": kind,
            "content": content,
        })
    }

    fn text(id: &str, sender: &str, seconds: u64, body: &str) -> Value {
        event(
            id,
            sender,
            seconds,
            "m.room.message",
            json!({ "msgtype": "m.text", "body": body }),
        )
    }

    /// `sender`'s edit of `target` to say `body`, as Element sends it.
    fn edit(id: &str, sender: &str, seconds: u64, target: &str, body: &str) -> Value {
        event(
            id,
            sender,
            seconds,
            "m.room.message",
            json!({
                "msgtype": "m.text",
                "body": format!("* {body}"),
                "m.new_content": { "msgtype": "m.text", "body": body },
                "m.relates_to": { "rel_type": "m.replace", "event_id": target },
            }),
        )
    }

    /// A scripted room: talk, an edit (and one by someone else, ignored), a redaction, a
    /// thread, a file, reactions (one given twice), state and an unreadable message.
    fn script() -> Vec<Value> {
        vec![
            event(
                "$name",
                "alice",
                0,
                "m.room.name",
                json!({ "name": "INC-7" }),
            ),
            text("$1", "alice", 5, "db-1 is *down*\nlooking"),
            text("$2", "bob", 20, "freed 4 GB"),
            edit("$2e", "bob", 25, "$2", "freed 42 GB"),
            edit("$2x", "alice", 26, "$2", "nothing"),
            event("$3", "bob", 30, "m.room.message", json!({})),
            event(
                "$4",
                "bob",
                40,
                "m.room.message",
                json!({
                    "msgtype": "m.text",
                    "body": "which disk?",
                    "m.relates_to": {
                        "rel_type": "m.thread",
                        "event_id": "$1",
                        "is_falling_back": true,
                    },
                }),
            ),
            event(
                "$5",
                "alice",
                50,
                "m.room.message",
                json!({
                    "msgtype": "m.file", "body": "df.txt", "url": "mxc://example.org/df",
                }),
            ),
            event(
                "$r1",
                "alice",
                60,
                "m.reaction",
                json!({
                    "m.relates_to": { "rel_type": "m.annotation", "event_id": "$2", "key": "🙏" },
                }),
            ),
            event(
                "$r2",
                "bob",
                61,
                "m.reaction",
                json!({
                    "m.relates_to": { "rel_type": "m.annotation", "event_id": "$2", "key": "🙏" },
                }),
            ),
            event(
                "$r3",
                "bob",
                62,
                "m.reaction",
                json!({
                    "m.relates_to": { "rel_type": "m.annotation", "event_id": "$2", "key": "🙏" },
                }),
            ),
            event(
                "$r4",
                "bob",
                63,
                "m.reaction",
                json!({
                    "m.relates_to": { "rel_type": "m.annotation", "event_id": "$2", "key": "🎉" },
                }),
            ),
            event(
                "$6",
                "bob",
                3_700,
                "m.room.encrypted",
                json!({ "algorithm": "m.megolm.v1.aes-sha2" }),
            ),
            // What could break out of a message: list and heading marks, a blank line, an
            // indented block, a carriage return, a link for a file, a reply's fallback, a
            // reaction's key, a reply in a thread to a reply.
            text(
                "$7",
                "alice",
                3_800,
                "- not a list\n---\n\n    not code\rthe end",
            ),
            event(
                "$8",
                "bob",
                3_810,
                "m.room.message",
                json!({
                    "msgtype": "m.file", "body": "x.sh", "url": "javascript:alert(1)",
                }),
            ),
            event(
                "$9",
                "bob",
                3_820,
                "m.room.message",
                json!({
                    "msgtype": "m.text",
                    "body": "> <@alice:example.org> - not a list\n> more\n\nyes",
                    "m.relates_to": { "m.in_reply_to": { "event_id": "$7" } },
                }),
            ),
            event(
                "$r5",
                "bob",
                3_830,
                "m.reaction",
                json!({
                    "m.relates_to": {
                        "rel_type": "m.annotation",
                        "event_id": "$7",
                        "key": "[x](https://evil)\n#",
                    },
                }),
            ),
            event(
                "$10",
                "alice",
                3_840,
                "m.room.message",
                json!({
                    "msgtype": "m.text",
                    "body": "deeper",
                    "m.relates_to": { "rel_type": "m.thread", "event_id": "$4" },
                }),
            ),
            redacted(event("$11", "alice", 3_850, "m.room.message", json!({}))),
            event(
                "$r6",
                "bob",
                3_860,
                "m.room.encrypted",
                json!({
                    "algorithm": "m.megolm.v1.aes-sha2",
                    "m.relates_to": { "rel_type": "m.annotation", "event_id": "$7" },
                }),
            ),
            redacted(event("$r7", "bob", 3_870, "m.reaction", json!({}))),
        ]
    }

    /// `event` as a homeserver serves it once redacted.
    fn redacted(mut event: Value) -> Value {
        event["unsigned"] = json!({ "redacted_because": { "type": "m.room.redaction" } });
        event
    }

    #[test]
    fn a_scripted_room_reads_as_the_expected_markdown() {
        let record = testing::record(7, "Disk full", Severity::Sev2, START);
        let transcript = transcript(&record, &script(), links(), &names());
        // Written by hand from the script, and read: what people see of the room.
        let expected = include_str!("transcript_expected.md");
        assert_eq!(transcript.markdown, expected);
        assert_eq!(transcript.messages, 11);
        // Rendered, nothing people said became structure or a link.
        use pulldown_cmark::{Event, Parser, Tag};
        for event in Parser::new(&transcript.markdown) {
            match event {
                Event::Start(Tag::List(_) | Tag::CodeBlock(_) | Tag::Image { .. }) => {
                    panic!("{event:?} in {}", transcript.markdown)
                }
                Event::Start(Tag::Heading { level, .. }) => {
                    assert_eq!(level, pulldown_cmark::HeadingLevel::H1, "one heading")
                }
                Event::Start(Tag::Link { dest_url, .. }) => assert!(
                    dest_url.starts_with("https://matrix.to/#/!room:example.org")
                        || dest_url.starts_with("mxc://example.org/"),
                    "{dest_url}"
                ),
                Event::Html(html) | Event::InlineHtml(html) => panic!("{html}"),
                _ => {}
            }
        }
    }

    #[test]
    fn the_html_is_one_escaped_page_with_threads_nested() {
        let record = testing::record(7, "Disk <full>", Severity::Sev2, START);
        let html = transcript(&record, &script(), links(), &names()).html;
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(
            html.contains("<title>Transcript: INC-7 · Disk &lt;full&gt;</title>"),
            "{html}"
        );
        assert!(
            html.contains("<strong>Bob &lt;ops&gt;</strong> (edited)"),
            "{html}"
        );
        assert!(
            html.contains("<p>db-1 is *down*<br>\nlooking</p>"),
            "{html}"
        );
        assert!(
            html.contains("<p class=\"reactions\">Reactions: 🙏 2 · 🎉 1</p>"),
            "{html}"
        );
        let thread = html.find("<section class=\"thread\">").expect("a thread");
        assert!(html[thread..].find("which disk?") < html[thread..].find("</section>"));
        assert!(html.find("looking") < Some(thread), "under its root");
        assert!(
            html.contains("Content-Security-Policy\" content=\"default-src 'none'"),
            "{html}"
        );
        assert!(html.contains("📎 x.sh (open it in the room)"), "{html}");
        assert!(html.contains("[x](https://evil)#"), "a key as text: {html}");
        for outside in [
            "<script",
            "http://",
            "src=",
            "javascript:",
            "href=\"https://evil",
        ] {
            assert!(!html.contains(outside), "{outside} in {html}");
        }
    }
}
