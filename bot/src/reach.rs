//! Where people are reached outside Matrix (SPEC §14): each channel's address, and its checks,
//! the same for `[[notify.people]]` and for `!inc notify` in a direct message.

use brigade_core::record::Channel;
use lettre::Address;
use url::Url;

/// Where one person is reached on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// This mailbox.
    Email(Address),
    /// This topic of `[notify.ntfy]`'s server.
    Ntfy(String),
    /// This phone number (E.164), through `[notify.webhook]`'s gateway.
    Phone(String),
}

impl Target {
    /// The channel it is on.
    pub fn channel(&self) -> Channel {
        match self {
            Self::Email(_) => Channel::Email,
            Self::Ntfy(_) => Channel::Ntfy,
            Self::Phone(_) => Channel::Phone,
        }
    }
}

/// The longest topic name ntfy accepts.
const TOPIC_MAX: usize = 64;
/// The names ntfy keeps for its own pages and API, and refuses as topics.
const RESERVED_TOPICS: [&str; 10] = [
    "docs", "static", "file", "app", "metrics", "account", "settings", "signup", "login", "v1",
];

/// `text` as a phone number for the SMS and voice gateway: E.164, `+` and 7 to 15 digits, the
/// spaces, dots, dashes and brackets people write in between dropped.
pub fn phone(text: &str) -> Result<String, String> {
    let number: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let digits = number.strip_prefix('+').unwrap_or_default();
    if digits.len() < 7
        || digits.len() > 15
        || digits.starts_with('0')
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!(
            "`{text}` is not a phone number in international form, such as `+44 20 7946 0958`"
        ));
    }
    Ok(number)
}

/// The topic `text` names on the ntfy server at `server`: a topic name (`dan-pages`) or its
/// whole URL there. A URL of another server is refused, so that the bot only ever posts
/// where its operator said.
pub fn ntfy_topic(server: &Url, text: &str) -> Result<String, String> {
    let topic = if text.contains("://") {
        let url = Url::parse(text).map_err(|error| format!("`{text}` is not a URL: {error}"))?;
        let base = server.as_str().trim_end_matches('/');
        let under = url
            .as_str()
            .strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|_| url.query().is_none() && url.fragment().is_none());
        under
            .ok_or_else(|| format!("`{text}` is not a topic on this bot's ntfy server, {base}"))?
            .to_owned()
    } else {
        text.to_owned()
    };
    if topic.is_empty()
        || topic.len() > TOPIC_MAX
        || !topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "`{text}` is not an ntfy topic: letters, digits, `-` and `_`, at most {TOPIC_MAX}"
        ));
    }
    if RESERVED_TOPICS.contains(&topic.as_str()) {
        return Err(format!(
            "`{topic}` is a name ntfy keeps for itself: choose another topic"
        ));
    }
    Ok(topic)
}

/// The URL of `topic` on the ntfy server at `server`, where its subscribers read it.
pub fn ntfy_url(server: &Url, topic: &str) -> String {
    format!("{}/{topic}", server.as_str().trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_in_international_form() {
        assert_eq!(phone("+44 20 7946 0958").as_deref(), Ok("+442079460958"));
        assert_eq!(phone("+1 (555) 010-9999").as_deref(), Ok("+15550109999"));
        for text in [
            "020 7946 0958",
            "+0123456789",
            "+12",
            "+1234567890123456",
            "+44 20 79x6",
        ] {
            let error = phone(text).expect_err(text);
            assert!(error.contains("international form"), "{error}");
        }
    }

    #[test]
    fn topics_are_on_the_configured_server_only() {
        let server = Url::parse("https://ntfy.example.org/").expect("a URL");
        let dan = "https://ntfy.example.org/dan-pages";
        assert_eq!(ntfy_topic(&server, "dan-pages").as_deref(), Ok("dan-pages"));
        assert_eq!(ntfy_topic(&server, dan).as_deref(), Ok("dan-pages"));
        assert_eq!(ntfy_url(&server, "dan-pages"), dan);
        let under = Url::parse("http://127.0.0.1:8080/ntfy").expect("a URL");
        assert_eq!(
            ntfy_topic(&under, "http://127.0.0.1:8080/ntfy/x").as_deref(),
            Ok("x")
        );
        assert_eq!(ntfy_url(&under, "x"), "http://127.0.0.1:8080/ntfy/x");
        for (text, expected) in [
            (
                "https://ntfy.sh/dan-pages",
                "not a topic on this bot's ntfy server",
            ),
            (
                "https://ntfy.example.org.evil/x",
                "not a topic on this bot's ntfy server",
            ),
            (
                "https://ntfy.example.org/dan?up=1",
                "not a topic on this bot's ntfy server",
            ),
            ("https://ntfy.example.org/a/b", "is not an ntfy topic"),
            ("dan pages", "is not an ntfy topic"),
            ("", "is not an ntfy topic"),
            ("docs", "ntfy keeps for itself"),
        ] {
            let error = ntfy_topic(&server, text).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
