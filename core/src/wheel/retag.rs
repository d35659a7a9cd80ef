//! Retagging: what `wheel tags` does to a wheel's name and `WHEEL` file, as data. The
//! CLI's `retag` and the WASM build's `retag` both call [`retag`] and then
//! [`Wheel::rewrite`](super::Wheel::rewrite) with [`Retagged::changes`], so the two
//! agree byte for byte.
//!
//! An edit of a tag set replaces it (`cp311.cp312`), or with a leading `+` adds to it and
//! with `-` removes from it, as `wheel tags` reads them. Sets come out sorted.

use std::fmt;
use std::str::FromStr;

use super::rewrite::Changes;
use super::tags::{sort_by_text, TagError};
use super::{AbiTag, PlatformTag, PythonTag, TagSet, WheelFilename, WheelInfo};

/// The edits asked for, each a list applied in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagEdits {
    /// Interpreter tag edits (`cp311.cp312`, `+py3`, `-py2`).
    pub python: Vec<String>,
    /// ABI tag edits.
    pub abi: Vec<String>,
    /// Platform tag edits.
    pub platform: Vec<String>,
    /// A new build tag; `Some("")` removes it, `None` leaves it.
    pub build: Option<String>,
}

/// Why the edits cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetagError {
    /// A tag in an edit does not parse.
    #[error(transparent)]
    Tag(#[from] TagError),
    /// An edit removes every tag of a set.
    #[error("the edit leaves no tag in a set; a wheel needs at least one of each")]
    Empty,
    /// The build tag does not start with a digit.
    #[error("build tag `{0}` is invalid: it must start with a digit")]
    Build(String),
}

/// The new name and `WHEEL` of a retagged wheel.
#[derive(Debug, Clone)]
pub struct Retagged {
    /// The new file name.
    pub filename: WheelFilename,
    /// The new `WHEEL`.
    pub info: WheelInfo,
}

impl Retagged {
    /// Whether the `WHEEL` text changes (when it does not, neither does the wheel).
    pub fn changes_wheel_file(&self, old: &WheelInfo) -> bool {
        self.info.to_text() != old.to_text()
    }

    /// The member changes for [`Wheel::rewrite`](super::Wheel::rewrite): the new
    /// `WHEEL` in `dist_info`.
    pub fn changes(&self, dist_info: &str) -> Changes {
        let mut changes = Changes::default();
        changes.put(
            format!("{dist_info}/WHEEL"),
            self.info.to_text().into_bytes(),
            0o644,
        );
        changes
    }
}

/// Applies the edits of one tag set, in order, then sorts it.
pub fn apply_edits<T: FromStr<Err = TagError> + fmt::Display + Clone>(
    original: &[T],
    edits: &[String],
) -> Result<Vec<T>, RetagError> {
    let parse = |s: &str| -> Result<Vec<T>, RetagError> {
        s.split('.')
            .map(|t| t.parse::<T>().map_err(RetagError::from))
            .collect()
    };
    let mut set: Vec<T> = original.to_vec();
    for edit in edits {
        let text = |t: &T| t.to_string();
        if let Some(add) = edit.strip_prefix('+') {
            set.extend(parse(add)?);
        } else if let Some(remove) = edit.strip_prefix('-') {
            let drop: Vec<String> = parse(remove)?.iter().map(text).collect();
            set.retain(|t| !drop.contains(&text(t)));
        } else {
            set = parse(edit)?;
        }
    }
    if set.is_empty() {
        return Err(RetagError::Empty);
    }
    sort_by_text(&mut set);
    Ok(set)
}

/// The new name and `WHEEL` of a wheel named `filename` with `WHEEL` `info` once the
/// edits are applied: `Tag:` lines for every expanded tag, `Build:` as asked.
pub fn retag(
    filename: &WheelFilename,
    info: &WheelInfo,
    edits: &TagEdits,
) -> Result<Retagged, RetagError> {
    let tags = TagSet {
        python: apply_edits::<PythonTag>(&filename.tags.python, &edits.python)?,
        abi: apply_edits::<AbiTag>(&filename.tags.abi, &edits.abi)?,
        platform: apply_edits::<PlatformTag>(&filename.tags.platform, &edits.platform)?,
    };
    let mut new_name = filename.with_tags(tags.clone());
    let mut info = info.clone();
    if let Some(b) = &edits.build {
        if b.is_empty() {
            new_name.build = None;
            info.set_build(None);
        } else {
            new_name.build = Some(b.parse().map_err(|()| RetagError::Build(b.clone()))?);
            info.set_build(Some(b.clone()));
        }
    }
    info.set_tags(&tags.expand());
    Ok(Retagged {
        filename: new_name,
        info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> WheelFilename {
        "demo-1.0-cp311-cp311-linux_x86_64.whl".parse().unwrap()
    }

    fn info() -> WheelInfo {
        WheelInfo::parse(
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n",
        )
        .unwrap()
    }

    fn edits(platform: &[&str]) -> TagEdits {
        TagEdits {
            platform: platform.iter().map(|s| (*s).to_owned()).collect(),
            ..TagEdits::default()
        }
    }

    #[test]
    fn replace_add_remove() {
        let r = retag(
            &name(),
            &info(),
            &edits(&["manylinux_2_17_x86_64", "+manylinux2014_x86_64"]),
        )
        .unwrap();
        assert_eq!(
            r.filename.to_string(),
            "demo-1.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
        );
        assert!(r.info.to_text().contains(
            "Tag: cp311-cp311-manylinux2014_x86_64\nTag: cp311-cp311-manylinux_2_17_x86_64\n"
        ));
        assert!(r.changes_wheel_file(&info()));
        let back = retag(&r.filename, &r.info, &edits(&["-manylinux2014_x86_64"])).unwrap();
        assert_eq!(
            back.filename.to_string(),
            "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
        );
    }

    #[test]
    fn no_edit_changes_nothing() {
        let r = retag(&name(), &info(), &TagEdits::default()).unwrap();
        assert_eq!(r.filename, name());
        assert!(!r.changes_wheel_file(&info()));
    }

    #[test]
    fn build_tag_set_and_removed() {
        let mut e = TagEdits {
            build: Some("7".into()),
            ..TagEdits::default()
        };
        let r = retag(&name(), &info(), &e).unwrap();
        assert_eq!(
            r.filename.to_string(),
            "demo-1.0-7-cp311-cp311-linux_x86_64.whl"
        );
        assert!(r.info.to_text().contains("Build: 7\n"));
        e.build = Some(String::new());
        let back = retag(&r.filename, &r.info, &e).unwrap();
        assert_eq!(back.filename, name());
        assert!(!back.info.to_text().contains("Build"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            retag(&name(), &info(), &edits(&["-linux_x86_64"])).unwrap_err(),
            RetagError::Empty
        );
        let bad = TagEdits {
            build: Some("x1".into()),
            ..TagEdits::default()
        };
        assert_eq!(
            retag(&name(), &info(), &bad).unwrap_err().to_string(),
            "build tag `x1` is invalid: it must start with a digit"
        );
        assert!(matches!(
            retag(&name(), &info(), &edits(&["Linux"])).unwrap_err(),
            RetagError::Tag(_)
        ));
    }
}
