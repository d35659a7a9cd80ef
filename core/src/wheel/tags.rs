//! Compatibility tags (PEP 425): interpreter, ABI, the triple and the compressed sets of
//! a file name; platform tags (PEP 600 manylinux, PEP 656 musllinux and the legacy
//! aliases) live in [`super::platform`] and are re-exported here.
//!
//! Every tag parses with [`FromStr`] and prints with [`Display`](std::fmt::Display); the pair round-trips
//! exactly, so a tag read from a file name is written back as it was spelled
//! (`manylinux2014_x86_64` stays an alias; [`PlatformTag::to_pep600`] converts).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

pub use super::platform::{Arch, GlibcVersion, LegacyManylinux, PlatformTag, ANDROID_ABIS};

/// Why a tag did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{tag}` is not a valid {kind} tag: {reason}")]
pub struct TagError {
    /// The text that was parsed.
    pub tag: String,
    /// Which kind of tag (python, abi, platform).
    pub kind: &'static str,
    /// What is wrong with it.
    pub reason: &'static str,
}

pub(crate) fn tag_error(tag: &str, kind: &'static str, reason: &'static str) -> TagError {
    TagError {
        tag: tag.to_owned(),
        kind,
        reason,
    }
}

/// Tags are lowercase ASCII letters, digits and `_` (PEP 425 normalizes `-` and `.` to `_`).
pub(crate) fn check_chars(s: &str, kind: &'static str) -> Result<(), TagError> {
    if s.is_empty() {
        return Err(tag_error(s, kind, "it is empty"));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(tag_error(
            s,
            kind,
            "tags hold only lowercase letters, digits and `_`",
        ));
    }
    Ok(())
}

/// A Python implementation, as abbreviated in an interpreter tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Implementation {
    /// `py`: any implementation.
    Python,
    /// `cp`: CPython.
    CPython,
    /// `pp`: PyPy.
    PyPy,
    /// `graalpy`: GraalPy.
    GraalPy,
    /// `ip`: IronPython.
    IronPython,
    /// `jy`: Jython.
    Jython,
    /// Any other abbreviation.
    Other(String),
}

impl Implementation {
    /// The abbreviation used in tags.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Python => "py",
            Self::CPython => "cp",
            Self::PyPy => "pp",
            Self::GraalPy => "graalpy",
            Self::IronPython => "ip",
            Self::Jython => "jy",
            Self::Other(s) => s,
        }
    }

    fn from_abbrev(s: &str) -> Self {
        match s {
            "py" => Self::Python,
            "cp" => Self::CPython,
            "pp" => Self::PyPy,
            "graalpy" => Self::GraalPy,
            "ip" => Self::IronPython,
            "jy" => Self::Jython,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// An interpreter tag such as `cp311`, `py3` or `pp310`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PythonTag {
    /// The implementation.
    pub implementation: Implementation,
    /// The version digits (`311`, `3`), possibly empty.
    pub version: String,
}

impl FromStr for PythonTag {
    type Err = TagError;
    fn from_str(s: &str) -> Result<Self, TagError> {
        check_chars(s, "python")?;
        let split = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
        if split == 0 {
            return Err(tag_error(
                s,
                "python",
                "it must start with an implementation",
            ));
        }
        Ok(Self {
            implementation: Implementation::from_abbrev(&s[..split]),
            version: s[split..].to_owned(),
        })
    }
}

impl fmt::Display for PythonTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.implementation.as_str(), self.version)
    }
}

/// An ABI tag: `none`, `abi3`, or an interpreter-specific ABI such as `cp311`, `cp313t`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AbiTag {
    /// `none`: no ABI dependency.
    None,
    /// `abi3`: the CPython stable ABI.
    Abi3,
    /// Anything else, e.g. `cp311`, `cp313t`, `pypy310_pp73`.
    Specific(String),
}

impl FromStr for AbiTag {
    type Err = TagError;
    fn from_str(s: &str) -> Result<Self, TagError> {
        check_chars(s, "abi")?;
        Ok(match s {
            "none" => Self::None,
            "abi3" => Self::Abi3,
            other => Self::Specific(other.to_owned()),
        })
    }
}

impl fmt::Display for AbiTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::Abi3 => "abi3",
            Self::Specific(s) => s,
        })
    }
}

serialize_display!(PythonTag, AbiTag, Tag);

/// One interpreter-ABI-platform triple.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    /// The interpreter tag.
    pub python: PythonTag,
    /// The ABI tag.
    pub abi: AbiTag,
    /// The platform tag.
    pub platform: PlatformTag,
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.python, self.abi, self.platform)
    }
}

/// The three parts of `<python>-<abi>-<platform>`.
fn triple(s: &str) -> Result<(&str, &str, &str), TagError> {
    let mut parts = s.split('-');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(p), Some(a), Some(pl), None) => Ok((p, a, pl)),
        _ => Err(tag_error(s, "wheel", "expected <python>-<abi>-<platform>")),
    }
}

impl FromStr for Tag {
    type Err = TagError;
    fn from_str(s: &str) -> Result<Self, TagError> {
        let (p, a, pl) = triple(s)?;
        Ok(Self {
            python: p.parse()?,
            abi: a.parse()?,
            platform: pl.parse()?,
        })
    }
}

/// The compressed tag sets of a wheel file name (`py2.py3-none-any`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct TagSet {
    /// Interpreter tags, in file-name order.
    pub python: Vec<PythonTag>,
    /// ABI tags, in file-name order.
    pub abi: Vec<AbiTag>,
    /// Platform tags, in file-name order.
    pub platform: Vec<PlatformTag>,
}

fn parse_set<T: FromStr<Err = TagError>>(s: &str) -> Result<Vec<T>, TagError> {
    s.split('.').map(str::parse).collect()
}

fn join<T: fmt::Display>(items: &[T], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(".")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl TagSet {
    /// Parses `<python>-<abi>-<platform>` where each part may be a dotted set: a
    /// `Tag:` line of WHEEL as `packaging.tags.parse_tag` reads it (maturin 1.7
    /// wrote `Tag: cp312-cp312-manylinux_2_17_s390x.manylinux2014_s390x`).
    pub fn parse_line(s: &str) -> Result<Self, TagError> {
        let (p, a, pl) = triple(s)?;
        Self::parse(p, a, pl)
    }

    /// The set of one tag.
    pub fn of(tag: &Tag) -> Self {
        Self {
            python: vec![tag.python.clone()],
            abi: vec![tag.abi.clone()],
            platform: vec![tag.platform.clone()],
        }
    }

    /// Parses the three dotted sets.
    pub fn parse(python: &str, abi: &str, platform: &str) -> Result<Self, TagError> {
        Ok(Self {
            python: parse_set(python)?,
            abi: parse_set(abi)?,
            platform: parse_set(platform)?,
        })
    }

    /// Every triple the sets stand for, in the order `wheel` writes `Tag:` lines.
    pub fn expand(&self) -> Vec<Tag> {
        let mut out = Vec::with_capacity(self.python.len() * self.abi.len() * self.platform.len());
        for python in &self.python {
            for abi in &self.abi {
                for platform in &self.platform {
                    out.push(Tag {
                        python: python.clone(),
                        abi: abi.clone(),
                        platform: platform.clone(),
                    });
                }
            }
        }
        out
    }

    /// Compresses a list of triples back into sets (each set sorted, as `wheel` does).
    pub fn from_tags(tags: &[Tag]) -> Self {
        let mut python: Vec<_> = tags.iter().map(|t| t.python.clone()).collect();
        let mut abi: Vec<_> = tags.iter().map(|t| t.abi.clone()).collect();
        let mut platform: Vec<_> = tags.iter().map(|t| t.platform.clone()).collect();
        sort_by_text(&mut python);
        sort_by_text(&mut abi);
        sort_by_text(&mut platform);
        Self {
            python,
            abi,
            platform,
        }
    }

    /// Each set sorted by its text and without duplicates, as `wheel tags` writes them.
    #[must_use]
    pub fn normalized(&self) -> Self {
        let mut out = self.clone();
        sort_by_text(&mut out.python);
        sort_by_text(&mut out.abi);
        sort_by_text(&mut out.platform);
        out
    }
}

/// Sorts by the printed tag, so the order matches Python's `sorted()` of the strings.
pub fn sort_by_text<T: fmt::Display>(items: &mut Vec<T>) {
    let mut keyed: Vec<(String, T)> = items.drain(..).map(|t| (t.to_string(), t)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.dedup_by(|a, b| a.0 == b.0);
    items.extend(keyed.into_iter().map(|(_, t)| t));
}

impl fmt::Display for TagSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        join(&self.python, f)?;
        f.write_str("-")?;
        join(&self.abi, f)?;
        f.write_str("-")?;
        join(&self.platform, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt<T: FromStr + fmt::Display>(s: &str)
    where
        T::Err: fmt::Debug,
    {
        let parsed: T = s.parse().unwrap();
        assert_eq!(parsed.to_string(), s);
    }

    #[test]
    fn python_and_abi_tags() {
        for s in [
            "cp311",
            "py3",
            "py2",
            "pp310",
            "graalpy311",
            "ip27",
            "cp3",
            "py",
        ] {
            rt::<PythonTag>(s);
        }
        assert_eq!(
            "cp311".parse::<PythonTag>().unwrap().implementation,
            Implementation::CPython
        );
        for s in ["none", "abi3", "cp311", "cp313t", "pypy310_pp73", "cp27mu"] {
            rt::<AbiTag>(s);
        }
        assert_eq!("abi3".parse::<AbiTag>().unwrap(), AbiTag::Abi3);
        assert!("311".parse::<PythonTag>().is_err());
        assert!("CP311".parse::<PythonTag>().is_err());
    }

    #[test]
    fn tag_sets_expand_in_wheel_order() {
        let set = TagSet::parse("py2.py3", "none", "any").unwrap();
        let tags: Vec<String> = set.expand().iter().map(ToString::to_string).collect();
        assert_eq!(tags, ["py2-none-any", "py3-none-any"]);
        assert_eq!(TagSet::from_tags(&set.expand()), set);
    }
}
