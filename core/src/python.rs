//! How Python writes a string, where auditwheel's output is matched byte for byte:
//! `repr()` (the script shims `repair` writes, `show`'s names and sets) and `json.dumps`
//! with its default `ensure_ascii` (`show`'s list of libraries).

use std::fmt::Write as _;

/// Python's `repr` of a string: in single quotes, or double ones when it holds a single
/// quote and no double one; backslashes, the quote and control characters escaped.
pub fn repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A JSON string as Python's `json.dumps` writes it (`ensure_ascii`): `"` and `\`
/// escaped, control characters and everything past ASCII as `\uXXXX` (UTF-16).
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if c.is_ascii() && (c as u32) >= 0x20 => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

/// A value as Python's `json.dumps(value, indent=4)` writes it (auditwheel's
/// `show --json`): four spaces a level, `", "`-free lines, and strings with
/// `ensure_ascii`, as [`json_str`] writes them.
pub fn dumps<T: serde::Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Indent4::default());
    value
        .serialize(&mut ser)
        .expect("a value made of maps, lists, strings and numbers serializes");
    String::from_utf8(out).expect("JSON with ensure_ascii is ASCII")
}

/// serde_json's pretty layout at four spaces, its strings escaped past ASCII.
struct Indent4(serde_json::ser::PrettyFormatter<'static>);

impl Default for Indent4 {
    fn default() -> Self {
        Self(serde_json::ser::PrettyFormatter::with_indent(b"    "))
    }
}

impl serde_json::ser::Formatter for Indent4 {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // (serde_json escapes quotes, backslashes and control characters as Python
        // does, and hands everything else here.)
        for c in fragment.chars() {
            if c.is_ascii() {
                w.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_as_python_repr_and_json() {
        assert_eq!(repr("GLIBC_2.17"), "'GLIBC_2.17'");
        assert_eq!(repr("it's"), "\"it's\"");
        assert_eq!(repr("a'\"b"), "'a\\'\"b'");
        assert_eq!(repr("a\\b\u{1}"), "'a\\\\b\\x01'");
        assert_eq!(repr("x\u{7f}\u{9f}"), "'x\\x7f\\x9f'");
        let v = serde_json::json!({"b": ["x", "é😀\n"], "a": {}, "c": [], "d": 1});
        assert_eq!(
            dumps(&v),
            "{\n    \"a\": {},\n    \"b\": [\n        \"x\",\n        \"\\u00e9\\ud83d\\ude00\\n\"\n    ],\n    \"c\": [],\n    \"d\": 1\n}"
        );
        assert_eq!(
            json_str("/lib/é😀\"x"),
            "\"/lib/\\u00e9\\ud83d\\ude00\\\"x\""
        );
    }
}
