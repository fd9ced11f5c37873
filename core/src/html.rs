//! HTML for Matrix messages' `formatted_body`: text people typed, escaped once, here.

/// `text` with `&`, `<`, `>` and `"` escaped, safe inside elements and quoted attributes.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_and_quotes_are_escaped_and_ampersands_first() {
        assert_eq!(
            super::escape(r#"<b a="x">&amp;</b>"#),
            "&lt;b a=&quot;x&quot;&gt;&amp;amp;&lt;/b&gt;"
        );
    }
}
