//! `!inc silence` and `!inc unsilence` as people type them in an alert room: what they ask
//! for, or why it cannot be done. Pure.

use std::{fmt, time::Duration};

/// How long a silence lasts when nobody says (as Alertmanager's own form).
pub const DEFAULT_FOR: Duration = Duration::from_secs(2 * 3600);

/// The longest silence taken from chat: longer ones belong in Alertmanager's configuration.
pub const LONGEST: Duration = Duration::from_secs(7 * 24 * 3600);

/// What a message asks of the bridge's Alertmanager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// `!inc silence` alone: the silences this room made that still hold.
    List,
    /// `!inc silence <matcher>… [for <duration>]`.
    Silence {
        /// What the silence matches; all of them.
        matchers: Vec<Matcher>,
        /// How long it lasts.
        lasting: Duration,
    },
    /// `!inc unsilence <id>`.
    Unsilence(String),
}

/// One of Alertmanager's label matchers: `name=value`, `name!=value`, `name=~regex`,
/// `name!~regex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    /// The label.
    pub name: String,
    /// The value, or the regular expression.
    pub value: String,
    /// Whether `value` is a regular expression.
    pub is_regex: bool,
    /// Whether the label must equal (match) it, or must not.
    pub is_equal: bool,
}

impl Matcher {
    /// Whether it keeps a silence to some alerts: a label must have a value, or match a
    /// pattern that neither matches a missing label (Alertmanager refuses a silence whose
    /// matchers all do) nor any value at all. Negative matchers alone match nearly every
    /// alert.
    fn narrows(&self) -> bool {
        match (self.is_equal, self.is_regex) {
            (true, false) => !self.value.is_empty(),
            (true, true) => anchored(&self.value).is_ok_and(|pattern| {
                let values = ["x", "any value at all", "0", "-"];
                !pattern.is_match("") && !values.iter().all(|value| pattern.is_match(value))
            }),
            (false, _) => false,
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let operator = match (self.is_equal, self.is_regex) {
            (true, false) => "=",
            (false, false) => "!=",
            (true, true) => "=~",
            (false, true) => "!~",
        };
        write!(f, "{}{operator}{:?}", self.name, self.value)
    }
}

/// The usage line.
pub const USAGE: &str =
    "`!inc silence <label>=<value>… [for 2h]` (also `!=`, `=~`, `!~`), `!inc silence` to list, `!inc unsilence <id>`";

/// What `body` asks, if it is one of the two commands: `None` for anything else.
pub fn parse(body: &str) -> Option<Result<Asked, String>> {
    let body = body.trim();
    // As the bot reads its prefixes: `!incident` or `!inc`, in any case.
    let rest = ["!incident", "!inc"].iter().find_map(|prefix| {
        body.get(..prefix.len())
            .filter(|head| head.eq_ignore_ascii_case(prefix))
            .map(|head| &body[head.len()..])
    })?;
    let rest = rest.strip_prefix(char::is_whitespace)?.trim_start();
    let (word, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    match word.to_lowercase().as_str() {
        "silence" => Some(silence(rest)),
        "unsilence" => Some(unsilence(rest)),
        _ => None,
    }
}

fn unsilence(rest: &str) -> Result<Asked, String> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    match words.as_slice() {
        [id] if id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') => {
            Ok(Asked::Unsilence((*id).to_owned()))
        }
        [id] => Err(format!(
            "`{id}` is not a silence ID; `!inc silence` lists this room's"
        )),
        _ => Err(format!("which silence? {USAGE}")),
    }
}

fn silence(rest: &str) -> Result<Asked, String> {
    let words = words(rest)?;
    if words.is_empty() {
        return Ok(Asked::List);
    }
    let (matchers, lasting) = match words.iter().position(|word| word == "for") {
        Some(at) => {
            let lasting = match &words[at + 1..] {
                [duration] => duration_of(duration)?,
                _ => {
                    return Err(format!(
                        "`for` takes one duration, such as `for 2h`: {USAGE}"
                    ))
                }
            };
            (&words[..at], lasting)
        }
        None => (&words[..], DEFAULT_FOR),
    };
    if matchers.is_empty() {
        return Err(format!("a silence needs at least one matcher: {USAGE}"));
    }
    let matchers = matchers
        .iter()
        .map(|word| matcher(word))
        .collect::<Result<Vec<_>, _>>()?;
    if !matchers.iter().any(Matcher::narrows) {
        return Err(
            "that would silence nearly every alert: name a label's value it must have (`alertname=\"DiskFull\"`)"
                .to_owned(),
        );
    }
    Ok(Asked::Silence { matchers, lasting })
}

/// The words of `rest`: split at spaces outside double quotes, quotes kept.
fn words(rest: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in rest.chars() {
        match c {
            _ if escaped => {
                word.push(c);
                escaped = false;
            }
            '\\' if quoted => {
                word.push(c);
                escaped = true;
            }
            '"' => {
                word.push(c);
                quoted = !quoted;
            }
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if quoted {
        return Err("a quote is not closed".to_owned());
    }
    if !word.is_empty() {
        words.push(word);
    }
    Ok(words)
}

/// One matcher, as Alertmanager's `amtool` writes them.
fn matcher(word: &str) -> Result<Matcher, String> {
    let Some(at) = word.find(['=', '!']) else {
        return Err(format!(
            "`{word}` is not a matcher such as `alertname=\"DiskFull\"`"
        ));
    };
    let (name, rest) = word.split_at(at);
    let (is_equal, is_regex, value) = if let Some(value) = rest.strip_prefix("=~") {
        (true, true, value)
    } else if let Some(value) = rest.strip_prefix("!~") {
        (false, true, value)
    } else if let Some(value) = rest.strip_prefix("!=") {
        (false, false, value)
    } else if let Some(value) = rest.strip_prefix('=') {
        (true, false, value)
    } else {
        return Err(format!("`{word}`: use `=`, `!=`, `=~` or `!~`"));
    };
    let usable = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !usable {
        return Err(format!("`{name}` is not a label name"));
    }
    let value = match value.strip_prefix('"') {
        Some(quoted) => quoted
            .strip_suffix('"')
            .ok_or_else(|| format!("`{word}`: the quote is not closed"))?
            .replace("\\\"", "\"")
            .replace("\\\\", "\\"),
        None => value.to_owned(),
    };
    if is_regex {
        anchored(&value).map_err(|error| format!("`{word}`: {error}"))?;
    }
    Ok(Matcher {
        name: name.to_owned(),
        value,
        is_regex,
        is_equal,
    })
}

/// `pattern` as Alertmanager matches it: anchored at both ends. Alertmanager's RE2 and the
/// `regex` crate read the same syntax (neither has backreferences or lookaround); what RE2
/// refuses still, Alertmanager says.
fn anchored(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|error| match error {
        regex::Error::Syntax(text) => text
            .lines()
            .rfind(|line| line.starts_with("error:"))
            .map_or(text.clone(), |line| {
                line.trim_start_matches("error: ").to_owned()
            }),
        other => other.to_string(),
    })
}

/// `30m`, `2h`, `1d`, `90s`: how long, up to [`LONGEST`].
fn duration_of(word: &str) -> Result<Duration, String> {
    let split = word
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(word.len());
    let (number, unit) = word.split_at(split);
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    let lasting = number
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0 && seconds > 0)
        .map(|n| Duration::from_secs(n.saturating_mul(seconds)))
        .ok_or_else(|| format!("`{word}` is not a duration such as `30m`, `2h` or `1d`"))?;
    if lasting > LONGEST {
        return Err(format!(
            "{word} is longer than a week: silence for longer in Alertmanager itself"
        ));
    }
    Ok(lasting)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn equal(name: &str, value: &str) -> Matcher {
        Matcher {
            name: name.to_owned(),
            value: value.to_owned(),
            is_regex: false,
            is_equal: true,
        }
    }

    #[test]
    fn matchers_and_a_duration_as_amtool_writes_them() {
        assert_eq!(
            parse("!inc silence alertname=DiskFull instance!~\"db(1|2)\" for 30m"),
            Some(Ok(Asked::Silence {
                matchers: vec![
                    equal("alertname", "DiskFull"),
                    Matcher {
                        name: "instance".to_owned(),
                        value: "db(1|2)".to_owned(),
                        is_regex: true,
                        is_equal: false,
                    },
                ],
                lasting: Duration::from_secs(1800),
            }))
        );
        assert_eq!(
            parse("!inc silence job=\"node exporter\""),
            Some(Ok(Asked::Silence {
                matchers: vec![equal("job", "node exporter")],
                lasting: DEFAULT_FOR,
            }))
        );
        assert_eq!(parse("!inc silence"), Some(Ok(Asked::List)));
        assert_eq!(parse("!Incident SILENCE"), Some(Ok(Asked::List)));
        assert_eq!(parse("!incsilence"), None);
        assert_eq!(
            parse("!inc unsilence 3f1c-9a"),
            Some(Ok(Asked::Unsilence("3f1c-9a".to_owned())))
        );
        assert_eq!(parse("!inc status"), None, "the bot's");
        assert_eq!(parse("hello"), None);
        assert_eq!(
            equal("alertname", "Disk \"full\"").to_string(),
            "alertname=\"Disk \\\"full\\\"\""
        );
    }

    #[test]
    fn what_cannot_be_a_silence_is_refused_with_its_reason() {
        let refused = |body: &str| parse(body).expect("a silence command").expect_err(body);
        let cases = [
            ("!inc silence DiskFull", "is not a matcher"),
            ("!inc silence 9x=1", "`9x` is not a label name"),
            ("!inc silence a=\"b", "a quote is not closed"),
            ("!inc silence a=~\"(b\"", "unclosed group"),
            ("!inc silence a=~\"b|\"", "every alert"),
            ("!inc silence a=~\"(?:.*)\"", "every alert"),
            ("!inc silence a=~\"x(\"", "unclosed group"),
            ("!inc silence a=b for", "`for` takes one duration"),
            ("!inc silence a=b for 2 hours", "`for` takes one duration"),
            ("!inc silence a=b for 2w", "is not a duration"),
            ("!inc silence a=b for 30d", "longer than a week"),
            ("!inc silence for 2h", "at least one matcher"),
            ("!inc silence a=~\".*\"", "every alert"),
            ("!inc silence a=~\".+\"", "every alert"),
            ("!inc silence a=\"\"", "every alert"),
            ("!inc silence a!=b", "every alert"),
            ("!inc silence a!=\"\" b!~x", "every alert"),
            ("!inc unsilence", "which silence?"),
            ("!inc unsilence <script>", "not a silence ID"),
        ];
        for (body, expected) in cases {
            let error = refused(body);
            assert!(error.contains(expected), "{body}: {error}");
        }
    }
}
