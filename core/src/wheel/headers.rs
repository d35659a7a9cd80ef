//! The email-header format that `WHEEL` and `METADATA` are written in (RFC 822 style, as
//! Python's `email.parser` reads it): `Key: value` lines, continuation lines that start
//! with whitespace, then an optional body after the first blank line. Values come out as
//! `email.message_from_bytes(...).items()` gives them: leading blanks stripped, folded
//! lines joined with `\n` and kept as written. Lines end at `\r\n`, `\r` or `\n`, as
//! there. A key is printable ASCII without `:` or blanks, as there; a line that is no
//! header (`Author : X`, `no colon`) starts the body, as there (the fields after it are
//! the body's text: pip installs such a wheel, so refusing it was no help).

/// Parsed headers, in file order, with the body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Headers {
    /// `(key, value)` pairs in order; keys keep their spelling, values are unfolded with `\n`.
    pub fields: Vec<(String, String)>,
    /// Text after the first blank line, if any.
    pub body: Option<String>,
}

/// Why a header block did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Not UTF-8.
    #[error("it is not valid UTF-8")]
    Utf8,
    /// A continuation line with no header before it to continue.
    #[error("line {line} is not a `Key: value` header: {text:?}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
}

impl Headers {
    /// Parses a header block.
    pub fn parse(bytes: &[u8]) -> Result<Self, HeaderError> {
        let text = std::str::from_utf8(bytes).map_err(|_| HeaderError::Utf8)?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut rest = text;
        let mut line_no = 0;
        let mut body = None;
        while !rest.is_empty() {
            let (line, next) = match rest.find(['\r', '\n']) {
                Some(i) if rest[i..].starts_with("\r\n") => (&rest[..i], &rest[i + 2..]),
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, ""),
            };
            line_no += 1;
            if line.is_empty() {
                body = Some(next.to_owned());
                break;
            }
            if line.starts_with([' ', '\t']) {
                let Some(last) = fields.last_mut() else {
                    return Err(HeaderError::Line {
                        line: line_no,
                        text: line.to_owned(),
                    });
                };
                last.1.push('\n');
                last.1.push_str(line);
            } else if let Some((key, v)) = line
                .split_once(':')
                .filter(|(k, _)| !k.is_empty() && k.bytes().all(|b| b.is_ascii_graphic()))
            {
                // As Python's email parser (compat32): strip leading blanks only.
                fields.push((key.to_owned(), v.trim_start_matches([' ', '\t']).to_owned()));
            } else {
                body = Some(rest.to_owned());
                break;
            }
            rest = next;
        }
        Ok(Self { fields, body })
    }

    /// The first value of a key (case-insensitive, as `email` matches keys).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// All values of a key, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Writes the block back: `Key: value` lines, then a blank line and the body if any.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (k, v) in &self.fields {
            out.push_str(k);
            out.push_str(": ");
            out.push_str(v);
            out.push('\n');
        }
        if let Some(body) = &self.body {
            out.push('\n');
            out.push_str(body);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_continuations_and_body() {
        let h = Headers::parse(b"Metadata-Version: 2.1\nName: demo\nLicense: MIT\n  second line\nClassifier: A\nClassifier: B\n\nThe body\nmore\n").unwrap();
        assert_eq!(h.get("name"), Some("demo"));
        assert_eq!(h.get("License"), Some("MIT\n  second line"));
        assert_eq!(h.get_all("Classifier").collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(h.body.as_deref(), Some("The body\nmore\n"));
    }

    #[test]
    fn refuses_garbage() {
        assert!(Headers::parse(b" continuation first\n").is_err());
        assert!(Headers::parse(b"\xff\xfe").is_err());
    }

    #[test]
    fn a_line_that_is_no_header_starts_the_body_as_in_python() {
        // Keys Python's parser does not take for keys: blanks, non-ASCII; no colon.
        for text in [
            "Name: x\nAuthor : X\nLicense: MIT\n",
            "Name: x\nAut\u{f6}r: X\nLicense: MIT\n",
            "Name: x\nno colon\nLicense: MIT\n",
        ] {
            let h = Headers::parse(text.as_bytes()).unwrap();
            assert_eq!(h.fields, [("Name".to_owned(), "x".to_owned())], "{text:?}");
            assert!(
                h.body
                    .as_deref()
                    .is_some_and(|b| b.ends_with("License: MIT\n")),
                "{text:?}"
            );
        }
    }

    #[test]
    fn lines_end_as_python_ends_them() {
        let h = Headers::parse(b"Name: demo\rVersion: 1.0\r\nLicense: MIT\r\r\nbody").unwrap();
        assert_eq!(h.get("Version"), Some("1.0"));
        assert_eq!(h.get("License"), Some("MIT"));
        assert_eq!(h.body.as_deref(), Some("body"));
    }

    #[test]
    fn round_trips_simple_blocks() {
        let text = "Wheel-Version: 1.0\nGenerator: x\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n";
        assert_eq!(Headers::parse(text.as_bytes()).unwrap().to_text(), text);
    }
}
