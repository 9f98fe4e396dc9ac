//! Open documents: text in a rope, LSP content changes applied in order with UTF-16 (or UTF-8)
//! positions, and the matching `InputEdit`s for tree-sitter's incremental reparse.

use ropey::Rope;
use tree_sitter::{InputEdit, Point};

use crate::text::Encoding;

/// A content change as LSP sends it: a range (line, character) pair, or `None` for the whole text.
#[derive(Debug, Clone)]
pub struct Change {
    pub range: Option<((u32, u32), (u32, u32))>,
    pub text: String,
}

pub struct Document {
    pub version: i32,
    pub rope: Rope,
}

impl Document {
    pub fn new(version: i32, text: &str) -> Self {
        Document {
            version,
            rope: Rope::from_str(text),
        }
    }

    pub fn text(&self) -> String {
        self.rope.to_string()
    }

    /// The char index of an LSP position; positions past the end of a line or the document
    /// clamp to it, and a position inside a surrogate pair clamps to the character's start.
    pub fn char_at(&self, line: u32, character: u32, encoding: Encoding) -> usize {
        let line = line as usize;
        if line >= self.rope.len_lines() {
            return self.rope.len_chars();
        }
        let start = self.rope.line_to_char(line);
        let line_slice = self.rope.line(line);
        let mut counted = 0usize;
        let wanted = character as usize;
        for (i, ch) in line_slice.chars().enumerate() {
            if ch == '\n' || ch == '\r' || counted >= wanted {
                return start + i;
            }
            let width = match encoding {
                Encoding::Utf8 => ch.len_utf8(),
                Encoding::Utf16 => ch.len_utf16(),
            };
            if counted + width > wanted {
                return start + i;
            }
            counted += width;
        }
        start + line_slice.len_chars()
    }

    fn point_of_byte(&self, byte: usize) -> Point {
        let line = self.rope.byte_to_line(byte);
        Point {
            row: line,
            column: byte - self.rope.line_to_byte(line),
        }
    }

    /// Applies one change; returns the tree edit describing it (`None` for a full replacement).
    pub fn apply(&mut self, change: &Change, encoding: Encoding) -> Option<InputEdit> {
        let Some(((sl, sc), (el, ec))) = change.range else {
            self.rope = Rope::from_str(&change.text);
            return None;
        };
        let start_char = self.char_at(sl, sc, encoding);
        let end_char = self.char_at(el, ec, encoding).max(start_char);
        let start_byte = self.rope.char_to_byte(start_char);
        let old_end_byte = self.rope.char_to_byte(end_char);
        let start_position = self.point_of_byte(start_byte);
        let old_end_position = self.point_of_byte(old_end_byte);
        self.rope.remove(start_char..end_char);
        self.rope.insert(start_char, &change.text);
        let new_end_byte = start_byte + change.text.len();
        let new_end_position = self.point_of_byte(new_end_byte);
        Some(InputEdit {
            start_byte,
            old_end_byte,
            new_end_byte,
            start_position,
            old_end_position,
            new_end_position,
        })
    }

    /// Applies `changes` in order, editing `tree` (the last parse of the old text) to match so
    /// the next parse is incremental; the tree is dropped after a full replacement. This is the
    /// whole of `didChange` before the text reaches the engine (tests drive it directly).
    pub fn apply_all(
        &mut self,
        changes: &[Change],
        mut tree: Option<tree_sitter::Tree>,
        encoding: Encoding,
    ) -> Option<tree_sitter::Tree> {
        for change in changes {
            match self.apply(change, encoding) {
                Some(edit) => {
                    if let Some(t) = tree.as_mut() {
                        t.edit(&edit);
                    }
                }
                None => tree = None,
            }
        }
        tree
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(sl: u32, sc: u32, el: u32, ec: u32, text: &str) -> Change {
        Change {
            range: Some(((sl, sc), (el, ec))),
            text: text.into(),
        }
    }

    #[test]
    fn utf16_edits_after_astral_characters() {
        let mut doc = Document::new(1, "a := \"😀\" // é\nnext\n");
        // Insert after the emoji: UTF-16 column 8 is after `a := "😀` (6 + 2 units).
        let edit = doc.apply(&change(0, 8, 0, 8, "x"), Encoding::Utf16).unwrap();
        assert_eq!(doc.text(), "a := \"😀x\" // é\nnext\n");
        assert_eq!(edit.start_byte, 10);
        assert_eq!(edit.new_end_byte, 11);
        // Replace `é` (UTF-16 column 14..15 after the insert) with `e`.
        doc.apply(&change(0, 14, 0, 15, "e"), Encoding::Utf16);
        assert_eq!(doc.text(), "a := \"😀x\" // e\nnext\n");
        // A multi-line deletion with positions past the line end clamps.
        let edit = doc.apply(&change(0, 99, 1, 2, ""), Encoding::Utf16).unwrap();
        assert_eq!(doc.text(), "a := \"😀x\" // ext\n");
        assert_eq!(edit.old_end_position, Point { row: 1, column: 2 });
        assert_eq!(edit.new_end_position, edit.start_position);
    }

    #[test]
    fn out_of_range_positions_clamp_to_the_end() {
        let mut doc = Document::new(1, "abc");
        doc.apply(&change(7, 0, 9, 0, "!"), Encoding::Utf16);
        assert_eq!(doc.text(), "abc!");
        doc.apply(&change(0, 1, 0, 0, "X"), Encoding::Utf8);
        assert_eq!(doc.text(), "aXbc!");
    }
}
