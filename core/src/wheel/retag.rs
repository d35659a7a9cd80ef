//! Retagging: what `wheel tags` does to a wheel's name and `WHEEL` file, as data. The
//! CLI's `retag` and the WASM build's `retag` both call [`retag`] and then
//! [`Wheel::rewrite`](super::Wheel::rewrite) with [`Retagged::changes`], so the two
//! agree byte for byte.
//!
//! An edit of a tag set replaces it (`cp311.cp312`), or with a leading `+` adds to it and
//! with `-` removes from it, as `wheel tags` reads them. Sets come out sorted.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use super::rewrite::Changes;
use super::tags::{sort_by_text, TagError};
use super::{AbiTag, PlatformTag, PythonTag, TagSet, Wheel, WheelFilename, WheelInfo};
use crate::source::ReadAt;

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
    /// The build tag does not start with a digit, or holds a `-`, a `/` or a space.
    #[error(
        "build tag `{0}` is invalid: it must start with a digit and hold no `-`, `/` or whitespace"
    )]
    Build(String),
    /// The `WHEEL` file's tags are not the file name's (`wheel tags` refuses it too).
    #[error("its WHEEL file's {what} tags ({wheel}) are not its file name's ({name}); make them agree before retagging")]
    Tags {
        /// Which part: `interpreter`, `ABI` or `platform`.
        what: &'static str,
        /// The `WHEEL` file's, sorted and `.`-joined.
        wheel: String,
        /// The file name's.
        name: String,
    },
    /// The `WHEEL` file's build tag is not the file name's.
    #[error("its WHEEL file's build tag ({wheel}) is not its file name's ({name}); make them agree before retagging")]
    BuildTag {
        /// The `WHEEL` file's (`none` when it has none).
        wheel: String,
        /// The file name's.
        name: String,
    },
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
    /// The changes for [`Wheel::rewrite`](super::Wheel::rewrite) of `wheel`: the new
    /// `WHEEL`, and the archive comment kept (as `wheel tags` keeps it).
    pub fn changes<S: ReadAt>(&self, wheel: &Wheel<S>) -> std::io::Result<Changes> {
        let mut changes = Changes::default();
        changes.put(
            format!("{}/WHEEL", wheel.dist_info),
            self.info.to_text().into_bytes(),
            0o644,
        );
        changes.comment = Some(wheel.archive.comment()?);
        // `rw-rw-r--`, as `wheel tags` writes RECORD (wheel's `WheelFile.writestr`).
        changes.record_mode = Some(0o100_664);
        Ok(changes)
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
/// edits are applied: `Tag:` lines for every expanded tag, `Build:` as asked. A `WHEEL`
/// whose tags (each part as a set) or build tag are not the name's is refused, as
/// `wheel tags` refuses it: retagged, one of the two would be kept and the other lost.
pub fn retag(
    filename: &WheelFilename,
    info: &WheelInfo,
    edits: &TagEdits,
) -> Result<Retagged, RetagError> {
    agree(filename, info)?;
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

/// Whether the `WHEEL` file's tags and build tag are the file name's.
fn agree(filename: &WheelFilename, info: &WheelInfo) -> Result<(), RetagError> {
    fn set<T: fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
        let all: BTreeSet<String> = items.into_iter().map(|t| t.to_string()).collect();
        all.into_iter().collect::<Vec<_>>().join(".")
    }
    let lines = info.tags();
    let names = &filename.tags;
    for (what, wheel, name) in [
        (
            "interpreter",
            set(lines.iter().map(|t| &t.python)),
            set(&names.python),
        ),
        ("ABI", set(lines.iter().map(|t| &t.abi)), set(&names.abi)),
        (
            "platform",
            set(lines.iter().map(|t| &t.platform)),
            set(&names.platform),
        ),
    ] {
        if wheel != name {
            return Err(RetagError::Tags { what, wheel, name });
        }
    }
    let name_build = filename.build.as_ref().map(ToString::to_string);
    if info.build != name_build {
        return Err(RetagError::BuildTag {
            wheel: info.build.clone().unwrap_or_else(|| "none".into()),
            name: name_build.unwrap_or_else(|| "none".into()),
        });
    }
    Ok(())
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
        assert_ne!(r.info.to_text(), info().to_text());
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
        assert_eq!(r.info.to_text(), info().to_text());
    }

    /// A WHEEL file whose tags or build tag are not the file name's is refused, naming
    /// both; a compressed `Tag:` line counts as the tags it stands for.
    #[test]
    fn a_wheel_file_disagreeing_with_the_name_is_refused() {
        let wheel = |text: &str| WheelInfo::parse(text.as_bytes()).unwrap();
        let head = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n";
        let other = wheel(&format!("{head}Tag: cp312-cp311-linux_x86_64\n"));
        assert_eq!(
            retag(&name(), &other, &TagEdits::default()).unwrap_err().to_string(),
            "its WHEEL file's interpreter tags (cp312) are not its file name's (cp311); make them agree before retagging"
        );
        let built = wheel(&format!("{head}Tag: cp311-cp311-linux_x86_64\nBuild: 2\n"));
        assert!(matches!(
            retag(&name(), &built, &TagEdits::default()),
            Err(RetagError::BuildTag { .. })
        ));
        let compressed: WheelFilename =
            "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
                .parse()
                .unwrap();
        let line = wheel(&format!(
            "{head}Tag: cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64\n"
        ));
        assert!(retag(&compressed, &line, &TagEdits::default()).is_ok());
        // Build tags as packaging reads them: digits, then anything but `-`.
        let plus: WheelFilename = "demo-1.0-1+x-py3-none-any.whl".parse().unwrap();
        assert_eq!(plus.build.unwrap().to_string(), "1+x");
        for bad in ["x1", "1-2", "1 2"] {
            assert!(
                bad.parse::<super::super::filename::BuildTag>().is_err(),
                "{bad}"
            );
        }
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
            "build tag `x1` is invalid: it must start with a digit and hold no `-`, `/` or whitespace"
        );
        assert!(matches!(
            retag(&name(), &info(), &edits(&["Linux"])).unwrap_err(),
            RetagError::Tag(_)
        ));
    }
}
