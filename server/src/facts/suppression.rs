//! Suppression comments, the same in every language: `invariant:ignore <codes> -- <reason>`
//! after `//` (Go) or `#` (YAML).

use super::Span;

/// An `invariant:ignore <codes> -- <reason>` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub span: Span,
    /// Rule codes (`capi-boundary/provider-read`) or families (`capi-boundary`).
    pub codes: Vec<String>,
    pub reason: Option<String>,
}

/// The suppression a comment (its text and span) holds, if any.
pub fn suppression_in(comment: &str, span: Span) -> Option<Suppression> {
    let (codes, reason) = parse_suppression(comment)?;
    Some(Suppression {
        span: trim_cr(span, comment),
        codes,
        reason,
    })
}

/// A comment's span without the `\r` of a CRLF line ending (tree-sitter ends a line comment
/// at the `\n`), so a suppression's range is the comment the user sees.
pub fn trim_cr(span: Span, comment: &str) -> Span {
    let cr = (comment.len() - comment.trim_end_matches('\r').len()) as u32;
    Span {
        start: span.start,
        end: span.end.saturating_sub(cr).max(span.start),
    }
}

/// Parses `invariant:ignore <codes> -- <reason>` out of a comment's text.
pub fn parse_suppression(comment: &str) -> Option<(Vec<String>, Option<String>)> {
    // A CRLF file's line comment ends in `\r`: not part of the last code.
    let comment = comment.trim_end_matches('\r');
    let body = comment.trim_start_matches('/').trim_start_matches('#').trim_start();
    let rest = body.strip_prefix("invariant:ignore")?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let (codes, reason) = match rest.split_once("--") {
        Some((codes, reason)) => (codes, Some(reason.trim().to_string()).filter(|r| !r.is_empty())),
        None => (rest, None),
    };
    // Codes are `family` or `family/name`; anything else (a trailing `// note`) ends the list.
    let is_code = |c: &str| {
        c.split('/').count() <= 2
            && c.split('/').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
    };
    let codes = codes
        .split([',', ' ', '\t'])
        .filter(|c| !c.is_empty())
        .take_while(|c| is_code(c))
        .map(str::to_string)
        .collect();
    Some((codes, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_parsing() {
        assert_eq!(
            parse_suppression("//invariant:ignore a/b -- why"),
            Some((vec!["a/b".into()], Some("why".into())))
        );
        assert_eq!(
            parse_suppression("# invariant:ignore kustomize"),
            Some((vec!["kustomize".into()], None))
        );
        assert_eq!(parse_suppression("// invariant:ignored x"), None);
        assert_eq!(parse_suppression("// unrelated"), None);
        assert_eq!(
            parse_suppression("//invariant:ignore a/b // note"),
            Some((vec!["a/b".into()], None))
        );
    }
}
