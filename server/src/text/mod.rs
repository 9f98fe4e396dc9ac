//! Text: how bytes from disk become the text every later layer derives from, and how byte
//! offsets map to LSP positions (UTF-16 code units by default).

use serde::{Deserialize, Serialize};

/// Files larger than this are not parsed; they get an informational finding instead.
pub const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;

/// A 0-based position as LSP counts it: line, and character in the negotiated encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

/// How LSP characters are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    Utf8,
    #[default]
    Utf16,
}

/// Line starts of a text, for offset ↔ position conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Lines end as LSP says: at `\n`, `\r\n` or a lone `\r`.
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        line_starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
                .map(|(i, _)| i + 1),
        );
        LineIndex { line_starts }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The 0-based line containing byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1)
    }

    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line).copied()
    }

    /// The byte range of line `line` without its line terminator.
    pub fn line_span(&self, text: &str, line: usize) -> Option<(usize, usize)> {
        let start = self.line_start(line)?;
        let mut end = self.line_start(line + 1).map(|s| s - 1).unwrap_or(text.len());
        if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        Some((start, end.max(start)))
    }

    pub fn position(&self, text: &str, offset: usize, encoding: Encoding) -> Position {
        let offset = clamp_to_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let prefix = &text[start..offset];
        let character = match encoding {
            Encoding::Utf8 => prefix.len(),
            Encoding::Utf16 => prefix.encode_utf16().count(),
        };
        Position {
            line: line as u32,
            character: character as u32,
        }
    }

    pub fn range(&self, text: &str, start: usize, end: usize, encoding: Encoding) -> Range {
        Range {
            start: self.position(text, start, encoding),
            end: self.position(text, end, encoding),
        }
    }

    /// The byte offset of an LSP position, or `None` when the line is out of range. A character
    /// past the end of the line clamps to the line end (as LSP specifies); a position inside a
    /// surrogate pair or multi-byte character clamps to the character's start.
    pub fn offset(&self, text: &str, position: Position, encoding: Encoding) -> Option<usize> {
        let (start, end) = self.line_span(text, position.line as usize)?;
        let line = &text[start..end];
        let wanted = position.character as usize;
        let mut counted = 0;
        for (i, ch) in line.char_indices() {
            if counted >= wanted {
                return Some(start + i);
            }
            counted += match encoding {
                Encoding::Utf8 => ch.len_utf8(),
                Encoding::Utf16 => ch.len_utf16(),
            };
            if counted > wanted {
                return Some(start + i);
            }
        }
        Some(end)
    }
}

pub fn clamp_to_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// What reading a file's bytes gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Text(String),
    /// Not valid UTF-8: decoded lossily, with the byte offset of the first invalid sequence.
    Lossy {
        text: String,
        first_invalid: usize,
    },
    /// A NUL byte in the first 8 KiB: treated as binary and not parsed.
    Binary,
    /// Over [`MAX_FILE_BYTES`]: not parsed.
    TooLarge {
        bytes: usize,
    },
}

pub fn decode(bytes: Vec<u8>) -> Decoded {
    decode_limited(bytes, MAX_FILE_BYTES)
}

/// [`decode`] with another size limit (the workspace's `max_file_size`).
pub fn decode_limited(mut bytes: Vec<u8>, limit: usize) -> Decoded {
    // A UTF-8 byte order mark is not text: editors hide it, so columns on the first line are
    // counted without it.
    if bytes.starts_with(b"\xef\xbb\xbf") {
        bytes.drain(..3);
    }
    if bytes.len() > limit {
        return Decoded::TooLarge { bytes: bytes.len() };
    }
    if bytes[..bytes.len().min(8192)].contains(&0) {
        return Decoded::Binary;
    }
    match String::from_utf8(bytes) {
        Ok(text) => Decoded::Text(text),
        Err(err) => {
            let first_invalid = err.utf8_error().valid_up_to();
            Decoded::Lossy {
                text: String::from_utf8_lossy(err.as_bytes()).into_owned(),
                first_invalid,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_positions_count_surrogate_pairs() {
        let text = "a := \"😀é\" // x\nb";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap();
        let pos = index.position(text, x, Encoding::Utf16);
        // `a := "` is 6 units, 😀 is 2, é is 1, `" // ` is 5.
        assert_eq!(pos, Position { line: 0, character: 14 });
        assert_eq!(index.offset(text, pos, Encoding::Utf16), Some(x));
        let utf8 = index.position(text, x, Encoding::Utf8);
        assert_eq!(utf8.character as usize, x);
        assert_eq!(
            index.offset(text, Position { line: 1, character: 99 }, Encoding::Utf16),
            Some(text.len())
        );
        assert_eq!(
            index.offset(text, Position { line: 7, character: 0 }, Encoding::Utf16),
            None
        );
    }

    #[test]
    fn position_inside_a_surrogate_pair_clamps_to_the_character() {
        let text = "😀x";
        let index = LineIndex::new(text);
        assert_eq!(
            index.offset(text, Position { line: 0, character: 1 }, Encoding::Utf16),
            Some(0)
        );
        assert_eq!(
            index.offset(text, Position { line: 0, character: 2 }, Encoding::Utf16),
            Some(4)
        );
    }

    #[test]
    fn lone_cr_and_crlf_end_lines_and_a_bom_is_not_text() {
        let text = "a\rbc\r\nd\ne";
        let index = LineIndex::new(text);
        assert_eq!(index.line_count(), 4);
        assert_eq!(index.line_span(text, 0), Some((0, 1)));
        assert_eq!(index.line_span(text, 1), Some((2, 4)));
        assert_eq!(index.line_span(text, 2), Some((6, 7)));
        let d = text.find('d').unwrap();
        assert_eq!(
            index.position(text, d, Encoding::Utf16),
            Position { line: 2, character: 0 }
        );
        assert_eq!(
            index.offset(text, Position { line: 1, character: 99 }, Encoding::Utf16),
            Some(4),
            "past the end of a CRLF line clamps before the \\r"
        );
        assert_eq!(
            decode(b"\xef\xbb\xbfpackage x\n".to_vec()),
            Decoded::Text("package x\n".into())
        );
    }

    #[test]
    fn decode_detects_binary_lossy_and_large() {
        assert_eq!(decode(b"ab\0c".to_vec()), Decoded::Binary);
        match decode(vec![b'a', 0xff, b'b']) {
            Decoded::Lossy { text, first_invalid } => {
                assert_eq!(first_invalid, 1);
                assert_eq!(text, "a\u{fffd}b");
            }
            other => panic!("expected lossy, got {other:?}"),
        }
        assert!(matches!(
            decode(vec![b'a'; MAX_FILE_BYTES + 1]),
            Decoded::TooLarge { .. }
        ));
    }
}
