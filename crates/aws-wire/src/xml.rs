//! XML text escaping for the AWS query protocol's responses and errors.

/// Escapes text for an XML element body or attribute value (`\r` as a
/// character reference, so parsers do not normalise it away).
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_carriage_returns() {
        assert_eq!(
            xml_escape("a <b> & 'c'\r"),
            "a &lt;b&gt; &amp; &apos;c&apos;&#xD;"
        );
    }
}
