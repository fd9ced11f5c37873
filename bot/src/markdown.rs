//! Markdown from text people typed: escaped so it renders as typed, in messages and pages.

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
