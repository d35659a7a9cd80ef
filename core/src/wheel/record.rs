//! `RECORD`: the list of a wheel's files with their hashes and sizes (PEP 376, PEP 427).
//!
//! CSV as Python's `csv` module writes it: fields quoted when they hold `,`, `"` or a line
//! break, quotes doubled. Hashes are `<algorithm>=<urlsafe base64, no padding>`; pip and
//! `wheel` accept sha256 and stronger, and so do we.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use sha2::Digest as _;

/// A hash algorithm accepted in RECORD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgorithm {
    /// SHA-256, what every tool writes.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// The name as written in RECORD.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }
}

/// An incremental hasher for any accepted algorithm.
#[derive(Clone)]
pub enum Hasher {
    /// SHA-256.
    Sha256(sha2::Sha256),
    /// SHA-384.
    Sha384(sha2::Sha384),
    /// SHA-512.
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A fresh hasher.
    pub fn new(alg: HashAlgorithm) -> Self {
        match alg {
            HashAlgorithm::Sha256 => Self::Sha256(sha2::Sha256::new()),
            HashAlgorithm::Sha384 => Self::Sha384(sha2::Sha384::new()),
            HashAlgorithm::Sha512 => Self::Sha512(sha2::Sha512::new()),
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(data),
            Self::Sha384(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
        }
    }

    /// The digest.
    pub fn finish(self) -> RecordHash {
        let (algorithm, digest) = match self {
            Self::Sha256(h) => (HashAlgorithm::Sha256, h.finalize().to_vec()),
            Self::Sha384(h) => (HashAlgorithm::Sha384, h.finalize().to_vec()),
            Self::Sha512(h) => (HashAlgorithm::Sha512, h.finalize().to_vec()),
        };
        RecordHash { algorithm, digest }
    }
}

/// Hashes a member's bytes as they are read: a [`Hasher`] on the reading thread, or one
/// the host runs elsewhere (the CLI hashes a large member on another core while this one
/// inflates it).
pub trait Digest: Send {
    /// Feeds bytes.
    fn update(&mut self, data: &[u8]);
    /// The digest.
    fn finish(self: Box<Self>) -> RecordHash;
}

impl Digest for Hasher {
    fn update(&mut self, data: &[u8]) {
        Hasher::update(self, data);
    }
    fn finish(self: Box<Self>) -> RecordHash {
        Hasher::finish(*self)
    }
}

/// Makes the [`Digest`] for a member of a given size: where its hashing runs.
pub type DigestFor<'a> = dyn Fn(HashAlgorithm, u64) -> Box<dyn Digest> + Sync + 'a;

/// Hashes on the reading thread, whatever the size.
pub fn local_digest(alg: HashAlgorithm, _size: u64) -> Box<dyn Digest> {
    Box::new(Hasher::new(alg))
}

/// A hash as written in RECORD.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordHash {
    /// The algorithm.
    pub algorithm: HashAlgorithm,
    /// The raw digest.
    pub digest: Vec<u8>,
}

impl RecordHash {
    /// The SHA-256 of some bytes.
    pub fn sha256(data: &[u8]) -> Self {
        Self {
            algorithm: HashAlgorithm::Sha256,
            digest: sha2::Sha256::digest(data).to_vec(),
        }
    }
}

impl fmt::Display for RecordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={}",
            self.algorithm.as_str(),
            URL_SAFE_NO_PAD.encode(&self.digest)
        )
    }
}

impl Serialize for RecordHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Why a RECORD hash did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// No `=` between algorithm and digest.
    #[error("`{0}` is not of the form algorithm=digest")]
    Form(String),
    /// An algorithm pip would refuse.
    #[error("hash algorithm `{0}` is not accepted (use sha256)")]
    Algorithm(String),
    /// The digest is not urlsafe base64 of the right length.
    #[error("`{0}` is not a valid urlsafe-base64 digest")]
    Digest(String),
}

impl FromStr for RecordHash {
    type Err = HashError;
    fn from_str(s: &str) -> Result<Self, HashError> {
        let (alg, digest) = s
            .split_once('=')
            .ok_or_else(|| HashError::Form(s.to_owned()))?;
        let (algorithm, len) = match alg {
            "sha256" => (HashAlgorithm::Sha256, 32),
            "sha384" => (HashAlgorithm::Sha384, 48),
            "sha512" => (HashAlgorithm::Sha512, 64),
            other => return Err(HashError::Algorithm(other.to_owned())),
        };
        // Tolerate padding, as Python's urlsafe_b64decode does after wheel strips it.
        let digest = URL_SAFE_NO_PAD
            .decode(digest.trim_end_matches('='))
            .ok()
            .filter(|d| d.len() == len)
            .ok_or_else(|| HashError::Digest(digest.to_owned()))?;
        Ok(Self { algorithm, digest })
    }
}

/// One RECORD row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordEntry {
    /// Path of the file in the wheel.
    pub path: String,
    /// Its hash, absent only for RECORD itself (and signatures).
    pub hash: Option<RecordHash>,
    /// Its size in bytes, absent only where the hash is.
    pub size: Option<u64>,
}

impl RecordEntry {
    /// The row from its fields, on line `line` (1-based) of RECORD.
    fn from_fields(line: usize, fields: Vec<Cow<'_, str>>) -> Result<Self, RecordError> {
        let err = |reason: String| RecordError::Line { line, reason };
        let [path, hash, size]: [Cow<'_, str>; 3] = fields.try_into().map_err(|f: Vec<_>| {
            err(format!(
                "expected 3 fields (path,hash,size), found {}",
                f.len()
            ))
        })?;
        if path.is_empty() {
            return Err(err("the path is empty".into()));
        }
        let hash = if hash.is_empty() {
            None
        } else {
            Some(
                hash.parse::<RecordHash>()
                    .map_err(|e| err(format!("{path}: {e}")))?,
            )
        };
        let size = if size.is_empty() {
            None
        } else {
            Some(
                size.parse::<u64>()
                    .map_err(|_| err(format!("{path}: size `{size}` is not a number")))?,
            )
        };
        Ok(Self {
            path: path.into_owned(),
            hash,
            size,
        })
    }
}

/// A parsed RECORD.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Record {
    /// Rows in file order.
    pub entries: Vec<RecordEntry>,
}

/// Why RECORD did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// A row is not `path,hash,size`.
    #[error("line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// RECORD is not UTF-8.
    #[error("it is not valid UTF-8")]
    Utf8,
}

/// A row's line number and its fields, borrowed from the text where no quote changed them.
type Row<'t> = (usize, Vec<Cow<'t, str>>);

/// Splits CSV text into rows of fields (RFC 4180 quoting, as Python's csv reads it).
/// A row with no quote in it is split at its commas; one with a quote (torch's RECORD
/// has a few among 12,000) is read character by character, and may span lines.
fn csv_rows(text: &str) -> Result<Vec<Row<'_>>, RecordError> {
    let mut rows = Vec::new();
    let mut rest = text;
    let mut line = 1;
    while !rest.is_empty() {
        let special = memchr::memchr3(b'\n', b'\r', b'"', rest.as_bytes());
        if special.is_some_and(|k| rest.as_bytes()[k] == b'"') {
            let (fields, lines, after) = quoted_row(rest, line)?;
            if let Some(fields) = fields {
                rows.push((line, fields.into_iter().map(Cow::Owned).collect()));
            }
            line += lines;
            rest = after;
            continue;
        }
        let end = special.unwrap_or(rest.len());
        if end > 0 {
            // A row with no quote is its fields as they stand: nothing to copy.
            rows.push((line, rest[..end].split(',').map(Cow::Borrowed).collect()));
        }
        let newline = usize::from(rest[end..].starts_with("\r\n")) + usize::from(end < rest.len());
        rest = &rest[end + newline..];
        line += 1;
    }
    Ok(rows)
}

/// One row that holds a quote, read a character at a time from the start of `text`
/// (on line `line`): its fields (`None` for a blank line), how many line ends it spans
/// (counting its own), and the text after it.
fn quoted_row(text: &str, line: usize) -> Result<(Option<Vec<String>>, usize, &str), RecordError> {
    let mut field = String::new();
    let mut fields = Vec::new();
    let mut lines = 0;
    let mut in_quotes = false;
    let mut quoted_field = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek().map(|p| p.1) == Some('"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    lines += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !quoted_field => {
                in_quotes = true;
                quoted_field = true;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                quoted_field = false;
            }
            '\r' if chars.peek().map(|p| p.1) == Some('\n') => {}
            '\n' | '\r' => {
                fields.push(field);
                let blank = fields.len() == 1 && fields[0].is_empty();
                return Ok(((!blank).then_some(fields), lines + 1, &text[i + 1..]));
            }
            _ => {
                if quoted_field {
                    return Err(RecordError::Line {
                        line: line + lines,
                        reason: "text follows a closing quote".into(),
                    });
                }
                field.push(c);
            }
        }
    }
    if in_quotes {
        return Err(RecordError::Line {
            line: line + lines,
            reason: "a quoted field is never closed".into(),
        });
    }
    // At the end of the text, a row is kept if anything of it was read.
    let keep = !field.is_empty() || !fields.is_empty() || quoted_field;
    fields.push(field);
    Ok((keep.then_some(fields), lines, ""))
}

fn csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

impl Record {
    /// Parses RECORD bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, RecordError> {
        let text = std::str::from_utf8(bytes).map_err(|_| RecordError::Utf8)?;
        let mut entries = Vec::new();
        for (line, fields) in csv_rows(text)? {
            entries.push(RecordEntry::from_fields(line, fields)?);
        }
        Ok(Self { entries })
    }

    /// The RECORD text, one `path,hash,size` row per entry, `\n`-terminated.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            csv_field(&mut out, &e.path);
            out.push(',');
            if let Some(h) = &e.hash {
                out.push_str(&h.to_string());
            }
            out.push(',');
            if let Some(s) = e.size {
                out.push_str(&s.to_string());
            }
            out.push('\n');
        }
        out
    }

    /// The row for a path (the first, when a path has two). A linear search: for
    /// many lookups, [`Record::by_path`].
    pub fn get(&self, path: &str) -> Option<&RecordEntry> {
        self.entries.iter().find(|e| e.path == path)
    }

    /// Every row by its path (the first, when a path has two, as [`Record::get`]):
    /// for looking up each member of a wheel of 12,000.
    pub fn by_path(&self) -> HashMap<&str, &RecordEntry> {
        let mut map = HashMap::with_capacity(self.entries.len());
        for e in &self.entries {
            map.entry(e.path.as_str()).or_insert(e);
        }
        map
    }
}

/// Whether a member is one RECORD does not list with a hash: RECORD itself, and the
/// signature files PEP 427 names.
pub fn is_unhashed(path: &str, dist_info: &str) -> bool {
    path.strip_prefix(dist_info)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|f| matches!(f, "RECORD" | "RECORD.jws" | "RECORD.p7s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "demo/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n\
\"demo/we,ird \"\"name\"\".py\",sha256=ypeBEsobvcr6wjGzmiPcTaeG7_gUfE5yuYB3ha_uSLs,1\n\
demo-1.0.dist-info/RECORD,,\n";

    #[test]
    fn parses_and_writes_back_byte_for_byte() {
        let r = Record::parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(r.entries.len(), 3);
        assert_eq!(r.entries[1].path, "demo/we,ird \"name\".py");
        assert_eq!(r.entries[0].hash, Some(RecordHash::sha256(b"")));
        assert_eq!(r.entries[1].hash, Some(RecordHash::sha256(b"a")));
        assert_eq!(r.entries[2].hash, None);
        assert_eq!(r.to_text(), SAMPLE);
    }

    #[test]
    fn crlf_and_missing_final_newline() {
        let r =
            Record::parse(b"a,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\r\nb/RECORD,,")
                .unwrap();
        assert_eq!(r.entries.len(), 2);
        assert_eq!(r.entries[1].path, "b/RECORD");
    }

    #[test]
    fn refuses_weak_or_bad_hashes_and_rows() {
        let cases: [&[u8]; 6] = [
            b"a,md5=abc,1\n",
            b"a,sha1=2jmj7l5rSw0yVb_vlWAYkK_YBwk,0\n",
            b"a,sha256=zz,0\n",
            b"a,sha256,0\n",
            b"a,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU\n",
            b"a,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,x\n",
        ];
        for c in cases {
            assert!(Record::parse(c).is_err(), "{}", String::from_utf8_lossy(c));
        }
        assert!(Record::parse(b"\"a,b\n").is_err());
        assert!(Record::parse(&[0xff, b',', b',']).is_err());
    }

    #[test]
    fn sha384_and_sha512_are_accepted() {
        let mut h = Hasher::new(HashAlgorithm::Sha512);
        h.update(b"x");
        let text = h.finish().to_string();
        let parsed: RecordHash = text.parse().unwrap();
        assert_eq!(parsed.algorithm, HashAlgorithm::Sha512);
        assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn unhashed_members() {
        assert!(is_unhashed("d-1.dist-info/RECORD", "d-1.dist-info"));
        assert!(is_unhashed("d-1.dist-info/RECORD.jws", "d-1.dist-info"));
        assert!(!is_unhashed("d-1.dist-info/METADATA", "d-1.dist-info"));
        assert!(!is_unhashed("x/RECORD", "d-1.dist-info"));
    }

    #[test]
    fn rows_split_as_pythons_csv_splits_them() {
        // Python's csv.reader on each text (its empty rows for blank lines left out).
        let cases: &[(&str, &[&[&str]])] = &[
            ("a,b,c\n", &[&["a", "b", "c"]]),
            ("a,b,c", &[&["a", "b", "c"]]),
            ("a,b,c\r\nd,e,f\r\n", &[&["a", "b", "c"], &["d", "e", "f"]]),
            ("a,\"b,1\",c\n", &[&["a", "b,1", "c"]]),
            (
                "\"x\ny\",h,1\nz,h,2\n",
                &[&["x\ny", "h", "1"], &["z", "h", "2"]],
            ),
            ("a,b,c\rd,e,f\r", &[&["a", "b", "c"], &["d", "e", "f"]]),
            ("\n\na,b,c\n\n", &[&["a", "b", "c"]]),
            ("\"\",,\n", &[&["", "", ""]]),
            ("\"\"", &[&[""]]),
            ("a,\"q\"\"x\",c\n", &[&["a", "q\"x", "c"]]),
            ("p,\"\",s\nq,r,s", &[&["p", "", "s"], &["q", "r", "s"]]),
            ("x\"y,h,1\n", &[&["x\"y", "h", "1"]]),
            ("\"a\"\r\n\"b\"", &[&["a"], &["b"]]),
            (",\n", &[&["", ""]]),
        ];
        for (text, want) in cases {
            let got: Vec<Vec<String>> = csv_rows(text)
                .unwrap()
                .into_iter()
                .map(|r| r.1.into_iter().map(Cow::into_owned).collect())
                .collect();
            assert_eq!(got, *want, "{text:?}");
        }
        // Line numbers count line ends inside quotes.
        let lines: Vec<usize> = csv_rows("a,b,c\n\"x\ny\",h,1\n\nz,h,2\n")
            .unwrap()
            .into_iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(lines, [1, 2, 5]);
        assert!(csv_rows("a,\"b\"c,d\n").is_err());
        assert!(csv_rows("a,\"b,c\n").is_err());
    }
}
