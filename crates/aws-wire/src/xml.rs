//! XML text escaping for the AWS query protocol's responses, and its error document.

use crate::ServiceError;

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

/// The AWS query protocol's error document (`<ErrorResponse>`) in the service's XML namespace
/// `xmlns`: `Sender` for a 4xx, `Receiver` for a 5xx.
pub fn query_error_document(err: &ServiceError, xmlns: &str, request_id: &str) -> String {
    let kind = if err.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    format!(
        "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"{}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message><Detail/></Error><RequestId>{}</RequestId></ErrorResponse>",
        xml_escape(xmlns),
        xml_escape(&err.code),
        xml_escape(&err.message),
        xml_escape(request_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_documents_name_their_namespace_and_escape_text() {
        let doc = query_error_document(
            &ServiceError::client("InvalidParameter", "a <b>"),
            "http://sns.amazonaws.com/doc/2010-03-31/",
            "r1",
        );
        assert_eq!(
            doc,
            "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>a &lt;b&gt;</Message><Detail/></Error><RequestId>r1</RequestId></ErrorResponse>"
        );
    }

    #[test]
    fn escapes_markup_and_carriage_returns() {
        assert_eq!(
            xml_escape("a <b> & 'c'\r"),
            "a &lt;b&gt; &amp; &apos;c&apos;&#xD;"
        );
    }
}
