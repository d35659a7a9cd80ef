//! Symbol version names (`GLIBC_2.17`, `GLIBCXX_3.4.21`, `CXXABI_1.3.8`, `GCC_4.2.0`,
//! `ZLIB_1.2.9`) as values: a prefix and numeric components, ordered numerically so that
//! `GLIBC_2.9 < GLIBC_2.17`, with the original spelling kept for display.
//!
//! The GNU symbol-versioning scheme puts no grammar on the names; by convention they are
//! `NAME_1.2.3`. A name without such a numeric tail (`GLIBC_PRIVATE`, `Base`, a soname)
//! keeps the whole text as its prefix and no components.

use std::cmp::Ordering;
use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::wheel::GlibcVersion;

/// A symbol version name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SymbolVersion {
    text: String,
    prefix_len: usize,
    numbers: Vec<u64>,
}

impl SymbolVersion {
    /// Parses a version name; every text is a name (see the module doc).
    pub fn new(text: &str) -> Self {
        let split = text.rfind('_').and_then(|at| {
            let tail = &text[at + 1..];
            let numbers: Option<Vec<u64>> = tail
                .split('.')
                .map(|p| {
                    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                        None
                    } else {
                        p.parse().ok()
                    }
                })
                .collect();
            numbers.map(|n| (at, n))
        });
        let (prefix_len, numbers) = split.unwrap_or((text.len(), Vec::new()));
        Self {
            text: text.to_owned(),
            prefix_len,
            numbers,
        }
    }

    /// The name as written in the file.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The part before the numeric tail: `GLIBC` in `GLIBC_2.17`.
    pub fn prefix(&self) -> &str {
        &self.text[..self.prefix_len]
    }

    /// The numeric components: `[2, 17]` in `GLIBC_2.17`; empty for `GLIBC_PRIVATE`.
    pub fn numbers(&self) -> &[u64] {
        &self.numbers
    }

    /// The glibc version of a `GLIBC_X.Y[.Z]` name.
    pub fn glibc(&self) -> Option<GlibcVersion> {
        match (self.prefix(), self.numbers()) {
            ("GLIBC", [major, minor, ..]) => Some(GlibcVersion::new(
                u32::try_from(*major).ok()?,
                u32::try_from(*minor).ok()?,
            )),
            ("GLIBC", [major]) => Some(GlibcVersion::new(u32::try_from(*major).ok()?, 0)),
            _ => None,
        }
    }
}

impl FromStr for SymbolVersion {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Self, Infallible> {
        Ok(Self::new(s))
    }
}

impl fmt::Display for SymbolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for SymbolVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl Ord for SymbolVersion {
    /// By prefix, then numerically by components, then by spelling.
    fn cmp(&self, other: &Self) -> Ordering {
        self.prefix()
            .cmp(other.prefix())
            .then_with(|| self.numbers.cmp(&other.numbers))
            .then_with(|| self.text.cmp(&other.text))
    }
}

impl PartialOrd for SymbolVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> SymbolVersion {
        s.parse().unwrap()
    }

    #[test]
    fn parses_prefix_and_numbers() {
        let g = v("GLIBC_2.17");
        assert_eq!((g.prefix(), g.numbers()), ("GLIBC", &[2, 17][..]));
        assert_eq!(g.glibc(), Some(GlibcVersion::new(2, 17)));
        let x = v("GLIBCXX_3.4.21");
        assert_eq!((x.prefix(), x.numbers()), ("GLIBCXX", &[3, 4, 21][..]));
        assert_eq!(x.glibc(), None);
        let t = v("CXXABI_TM_1");
        assert_eq!((t.prefix(), t.numbers()), ("CXXABI_TM", &[1][..]));
        for odd in [
            "GLIBC_PRIVATE",
            "libc.so.6",
            "Base",
            "",
            "_",
            "A_1..2",
            "A_1.",
            "X_99999999999999999999999",
        ] {
            let p = v(odd);
            assert_eq!((p.prefix(), p.numbers()), (odd, &[][..]), "{odd}");
        }
    }

    #[test]
    fn round_trips_and_orders_numerically() {
        for s in [
            "GLIBC_2.17",
            "GCC_4.2.0",
            "ZLIB_1.2.9",
            "GLIBC_PRIVATE",
            "CXXABI_1.3.8",
        ] {
            assert_eq!(v(s).to_string(), s);
        }
        assert!(v("GLIBC_2.9") < v("GLIBC_2.17"));
        assert!(v("GLIBC_2.17") < v("GLIBC_2.17.1"));
        assert!(v("GLIBCXX_3.4.9") < v("GLIBCXX_3.4.21"));
        assert!(v("GLIBC_2.34") > v("GLIBC_2.4"));
        let mut all = [
            v("GLIBC_2.34"),
            v("GLIBC_2.2.5"),
            v("GLIBC_2.14"),
            v("GLIBC_2.3.4"),
        ];
        all.sort();
        let names: Vec<_> = all.iter().map(SymbolVersion::as_str).collect();
        assert_eq!(
            names,
            ["GLIBC_2.2.5", "GLIBC_2.3.4", "GLIBC_2.14", "GLIBC_2.34"]
        );
        assert_eq!(
            serde_json::to_string(&v("GLIBC_2.5")).unwrap(),
            "\"GLIBC_2.5\""
        );
    }
}
