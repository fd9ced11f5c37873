//! Markdown from text people typed: escaped so it renders as typed, in messages and pages; and
//! the text a reader sees of Markdown the bot wrote, for pages that show its answers.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// What a reader sees of `markdown`: its words without the marks (`**`, escapes, links' targets,
/// HTML tags such as pills', whose names stay), paragraphs and line breaks as new lines.
pub fn text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new(markdown) {
        match event {
            Event::Text(words) | Event::Code(words) => text.push_str(&words),
            Event::SoftBreak => text.push(' '),
            Event::HardBreak | Event::End(TagEnd::Paragraph | TagEnd::Item) => text.push('\n'),
            Event::Start(Tag::Item) => text.push_str("• "),
            _ => {}
        }
    }
    text.trim_end().to_owned()
}

/// A Markdown link reading `text` (escaped) to `url`, when it is an `http(s)` URL (given by a
/// peer such as a tracker); otherwise the text alone, so no other scheme becomes a link.
pub fn link(text: &str, url: &str) -> String {
    match web_url(url) {
        // Parsed, a URL has no spaces or angle brackets left to end the destination.
        Some(url) => format!("[{}](<{url}>)", escape(text)),
        None => escape(text),
    }
}

/// `url` parsed, when it is an `http(s)` URL: the only links made of what peers give.
pub fn web_url(url: &str) -> Option<url::Url> {
    url::Url::parse(url)
        .ok()
        .filter(|url| matches!(url.scheme(), "https" | "http"))
}

/// Markdown metacharacters in text people typed, escaped so a title renders as typed: an `&`
/// too where it would begin a character reference (`&#x202E;` would turn the text around).
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        let reference = c == '&' && begins_reference(&text[at + 1..]);
        if reference
            || matches!(
                c,
                '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~'
            )
        {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Whether `rest`, after an `&`, makes a character reference: `amp;`, `#42;`, `#x2E;`.
fn begins_reference(rest: &str) -> bool {
    let name = rest.strip_prefix('#').unwrap_or(rest);
    let length = name
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(name.len());
    length > 0 && name[length..].starts_with(';')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_renders_as_typed() {
        assert_eq!(escape("R&D *now*"), "R&D \\*now\\*");
        assert_eq!(
            escape("&#x202E;evil &amp; co"),
            "\\&\\#x202E;evil \\&amp; co"
        );
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn the_text_of_an_answer_has_no_marks() {
        assert_eq!(
            text("👀 <a href=\"https://matrix.to/#/@bob:x\">Bob \\*B\\*</a> is on it; escalation **db** stopped"),
            "👀 Bob *B* is on it; escalation db stopped"
        );
        assert_eq!(
            text("Status → `identified`  \nsaid \\# twice"),
            "Status → identified\nsaid # twice"
        );
    }
}
