//! Escaping for terminals and logs: what of a file's text or a path may be printed raw.

/// Whether a character must not reach a terminal or log raw: C0 and C1 controls (except tab),
/// DEL, and the bidirectional overrides and isolates ("Trojan Source").
pub fn is_unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// `text` with unsafe characters (and newlines) shown as `\u{..}` escapes: for one-line output.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe_char(c) || c == '\n' {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Source text with unsafe characters replaced by `?` bytes, one per byte, so byte offsets
/// (and the spans that point into the text) stay valid.
pub fn sanitised_source(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe_char(c) {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    out
}
