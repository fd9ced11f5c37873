//! People as Brigade names them (SPEC §10): by display name, never by a raw Matrix ID. In a
//! message's HTML a person is a mention pill (a `matrix.to` link, which Element shows as a pill);
//! its plain body and the room's topic carry the name. Whether anyone is notified is the
//! message's `m.mentions`, set apart from the pills.
//!
//! The names are looked up before a message is rendered (`crate::matrix::names`), so rendering
//! stays pure.

use std::{collections::BTreeMap, sync::LazyLock};

use matrix_sdk::ruma::{OwnedUserId, UserId};
use regex::Regex;

use crate::markdown::escape;

/// The most of a display name Brigade shows, in characters.
const NAME_CHARS: usize = 64;

/// Display names by user. A person without one is named by their Matrix ID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names(BTreeMap<OwnedUserId, String>);

impl Names {
    /// No names: everyone is named by their Matrix ID.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names `user` `display_name`, tidied: control and direction characters dropped,
    /// whitespace collapsed, at most [`NAME_CHARS`]. A name another member of the room shares
    /// (`ambiguous`) is followed by the Matrix ID, as Element shows it. An empty name is not
    /// a name.
    pub fn insert(&mut self, user: OwnedUserId, display_name: &str, ambiguous: bool) {
        let tidy: String = display_name
            .chars()
            .filter(|c| !c.is_control() && !is_direction_mark(*c))
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(NAME_CHARS)
            .collect();
        if tidy.is_empty() {
            return;
        }
        let name = if ambiguous {
            format!("{tidy} ({user})")
        } else {
            tidy
        };
        self.0.insert(user, name);
    }

    /// Takes in the names `other` knows.
    pub fn merge(&mut self, other: Names) {
        self.0.extend(other.0);
    }

    /// What `user` is called: their display name, or their Matrix ID.
    pub fn name(&self, user: &UserId) -> String {
        self.0
            .get(user)
            .cloned()
            .unwrap_or_else(|| user.to_string())
    }

    /// `user` as a mention pill in Markdown that reads their name. It notifies no one by
    /// itself; [`plain`] turns it back into the name for a plain body.
    pub fn pill(&self, user: &UserId) -> String {
        format!(
            "<a href=\"{}\">{}</a>",
            permalink(user),
            escape(&self.name(user))
        )
    }
}

/// The `matrix.to` link of `user`, the ID percent-encoded: an ID of an old room may hold
/// characters that end a link, an attribute or mean something in a URL.
fn permalink(user: &UserId) -> String {
    let mut link = String::from("https://matrix.to/#/");
    for byte in user.as_str().bytes() {
        if byte.is_ascii_alphanumeric() || b"@:.-_=+~".contains(&byte) {
            link.push(char::from(byte));
        } else {
            link.push_str(&format!("%{byte:02X}"));
        }
    }
    link
}

/// Direction marks, overrides and isolates, which would turn the text after a name around,
/// and the invisible characters that make one name look like another.
fn is_direction_mark(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// A pill [`Names::pill`] wrote: its link and its escaped name. Text people typed cannot look
/// like one: [`escape`] puts a backslash before each `<` and `>` of it.
static PILL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<a href="(https://matrix\.to/#/@[^"]*)">((?:\\.|[^<\\])*)</a>"#)
        .expect("a valid pattern")
});

/// `markdown` with each pill replaced by the name it reads: the plain body of a message whose
/// HTML shows pills.
pub fn plain(markdown: &str) -> String {
    PILL.replace_all(markdown, |captures: &regex::Captures<'_>| {
        unescape(&captures[2])
    })
    .into_owned()
}

/// `markdown` with each pill written as a Markdown link: for a document read outside Matrix
/// (the postmortem's file), where a raw HTML link would show as typed.
pub fn linked(markdown: &str) -> String {
    PILL.replace_all(markdown, |captures: &regex::Captures<'_>| {
        let name = escape(&unescape(&captures[2]));
        format!("[{name}]({})", &captures[1])
    })
    .into_owned()
}

/// The text [`escape`] made of a name, as it was.
fn unescape(text: &str) -> String {
    let mut unescaped = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => unescaped.extend(chars.next()),
            c => unescaped.push(c),
        }
    }
    unescaped
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::{user_id, UserId};

    use super::*;

    #[test]
    fn a_name_is_tidied_and_a_shared_one_carries_the_id() {
        let mut names = Names::new();
        names.insert(
            user_id!("@dan:example.org").to_owned(),
            " Dan\u{202E}\n  Ops ",
            false,
        );
        names.insert(user_id!("@eve:example.org").to_owned(), "Dan Ops", true);
        names.insert(user_id!("@nobody:example.org").to_owned(), " \u{7} ", false);
        assert_eq!(names.name(user_id!("@dan:example.org")), "Dan Ops");
        assert_eq!(
            names.name(user_id!("@eve:example.org")),
            "Dan Ops (@eve:example.org)"
        );
        assert_eq!(
            names.name(user_id!("@nobody:example.org")),
            "@nobody:example.org"
        );
        names.insert(
            user_id!("@long:example.org").to_owned(),
            &"x".repeat(200),
            false,
        );
        assert_eq!(names.name(user_id!("@long:example.org")).len(), NAME_CHARS);
    }

    #[test]
    fn a_pill_reads_the_name_in_html_and_plain() {
        let mut names = Names::new();
        let dan = user_id!("@dan:example.org");
        names.insert(dan.to_owned(), "<Dan> *ops* & co", false);
        let markdown = format!("🚑 {} takes command", names.pill(dan));
        let html = matrix_sdk::ruma::events::room::message::FormattedBody::markdown(&markdown)
            .expect("formatted")
            .body;
        assert_eq!(
            html,
            "🚑 <a href=\"https://matrix.to/#/@dan:example.org\">&lt;Dan&gt; *ops* &amp; co</a> takes command"
        );
        assert_eq!(plain(&markdown), "🚑 <Dan> *ops* & co takes command");
        assert_eq!(
            linked(&markdown),
            "🚑 [\\<Dan\\> \\*ops\\* & co](https://matrix.to/#/@dan:example.org) takes command"
        );
    }

    #[test]
    fn an_id_that_would_end_the_link_is_percent_encoded() {
        let odd = UserId::parse("@a)b\"c/d:example.org").expect("a historical ID");
        assert_eq!(
            Names::new().pill(&odd),
            "<a href=\"https://matrix.to/#/@a%29b%22c%2Fd:example.org\">@a)b\"c/d:example.org</a>"
        );
    }

    #[test]
    fn typed_text_never_turns_into_a_name() {
        let typed = escape(r#"<a href="https://matrix.to/#/@admin:example.org">Admin</a>"#);
        assert_eq!(plain(&typed), typed);
    }
}
