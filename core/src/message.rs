//! Text for a user's terminal. An error is one line (DESIGN.md, "What a user sees"), but
//! a message may quote what a wheel holds (member paths, library names, METADATA fields),
//! which may hold line breaks or terminal escapes, and a few ported messages (auditwheel's)
//! span lines. The CLI and the WASM build pass every error through [`one_line`].

use std::borrow::Cow;

/// `text` as one line: each run of line breaks and tabs, with the spaces around it,
/// becomes one space; other control characters are escaped as Rust writes them
/// (`\u{1b}`); a break at the end goes.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if matches!(c, '\n' | '\r' | '\t') || (space && c == ' ') {
            space = true;
            continue;
        }
        if space && !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        space = false;
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` with its control characters escaped as Rust writes them (`\u{1b}`), line
/// breaks kept: a report of several lines, safe to print on a terminal (a wheel's
/// METADATA or an ELF file's strings could otherwise set its title or clear it).
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::{one_line, printable};

    #[test]
    fn printable_keeps_lines_and_escapes_the_rest() {
        assert_eq!(printable("a\nb"), "a\nb");
        assert_eq!(
            printable("\u{1b}]0;pwned\u{7}\tx\n"),
            "\\u{1b}]0;pwned\\u{7}\\tx\n"
        );
    }

    #[test]
    fn one_line_of_anything() {
        assert_eq!(one_line("plain: text"), "plain: text");
        assert_eq!(
            one_line("were found:\n\ta.so\n\tb.so\n"),
            "were found: a.so b.so"
        );
        assert_eq!(one_line("member a\nb.py"), "member a b.py");
        assert_eq!(one_line("red \u{1b}[31m"), "red \\u{1b}[31m");
        assert_eq!(one_line("x \n y"), "x y");
    }
}
