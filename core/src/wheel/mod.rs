//! The wheel model: one reader that indexes a wheel once and one writer that every
//! command uses to produce a new wheel (PEP 427 binary distribution format).

pub mod archive;
mod bitwriter;
pub mod blocks;
pub mod deflate;
pub mod error;
pub mod filename;
pub mod headers;
pub mod metadata;
pub mod platform;
pub mod record;
pub mod retag;
pub mod rewrite;
pub mod seek;
pub mod splice;
pub mod tags;
pub mod verify;
pub mod wheel_info;
pub mod writer;
mod zip_records;

pub use archive::{Archive, Attributes, Compression, Limits, Member};
pub use error::{ArchiveError, LimitKind, WheelError};
pub use filename::{DistName, WheelFilename};
pub use metadata::Metadata;
pub use record::{Record, RecordEntry, RecordHash};
pub use tags::{AbiTag, Arch, GlibcVersion, PlatformTag, PythonTag, Tag, TagSet};
pub use verify::{more_problems, RecordIssue};
pub use wheel_info::WheelInfo;
pub use writer::{WheelWriter, WriteOptions};

use crate::source::ReadAt;

/// An opened wheel: its name, its indexed archive, and its parsed `.dist-info` files.
pub struct Wheel<S> {
    /// The parsed file name.
    pub filename: WheelFilename,
    /// The archive.
    pub archive: Archive<S>,
    /// The `.dist-info` folder name (no trailing slash).
    pub dist_info: String,
    /// `WHEEL`.
    pub info: WheelInfo,
    /// `METADATA`.
    pub metadata: Metadata,
    /// `RECORD`.
    pub record: Record,
}

impl<S> std::fmt::Debug for Wheel<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wheel")
            .field("filename", &self.filename.to_string())
            .finish_non_exhaustive()
    }
}

/// Compares versions as pip does a wheel's name against its metadata: equal as PEP 440
/// versions (`1.0a1` is `1.0alpha1`, `1.0-1` is `1.0.post1`, `1.0` is `1.0.0`). One that
/// is not a PEP 440 version matches nothing, as pip refuses it.
fn versions_match(a: &str, b: &str) -> bool {
    match (
        a.trim().parse::<pep440_rs::Version>(),
        b.trim().parse::<pep440_rs::Version>(),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

impl<S: ReadAt> Wheel<S> {
    /// Opens a wheel from its file name (the last path component) and its bytes, with the
    /// default [`Limits`].
    pub fn open(file_name: &str, source: S) -> Result<Self, WheelError> {
        Self::open_with_limits(file_name, source, Limits::default())
    }

    /// Opens a wheel: parses the name, indexes the archive, finds and parses the
    /// `.dist-info` files, and checks that they agree with the name.
    pub fn open_with_limits(
        file_name: &str,
        source: S,
        limits: Limits,
    ) -> Result<Self, WheelError> {
        let filename: WheelFilename = file_name.parse()?;
        let archive = Self::index(file_name, source, limits)?;
        let dist = DistInfo::read(file_name, filename, &archive)?;
        Ok(Self::assemble(dist, archive))
    }

    /// Indexes a wheel's archive (the first step of [`Wheel::open_with_limits`]), so
    /// that its members can be read while [`DistInfo::read`] parses the rest.
    pub fn index(file_name: &str, source: S, limits: Limits) -> Result<Archive<S>, WheelError> {
        Archive::with_limits(source, limits).map_err(|source| WheelError::Archive {
            file: file_name.to_owned(),
            source,
        })
    }

    /// The wheel of an indexed archive and what its `.dist-info` files say.
    pub fn assemble(dist: DistInfo, archive: Archive<S>) -> Self {
        Self {
            filename: dist.filename,
            archive,
            dist_info: dist.dist_info,
            info: dist.info,
            metadata: dist.metadata,
            record: dist.record,
        }
    }

    /// The file name as given when opened.
    pub fn file_name(&self) -> String {
        self.filename.to_string()
    }

    /// The path of RECORD.
    pub fn record_path(&self) -> String {
        format!("{}/RECORD", self.dist_info)
    }
}

/// What a wheel's name and `.dist-info` files say: all of a [`Wheel`] but its archive.
#[derive(Debug)]
pub struct DistInfo {
    /// The parsed file name.
    pub filename: WheelFilename,
    /// The `.dist-info` folder name (no trailing slash).
    pub dist_info: String,
    /// `WHEEL`.
    pub info: WheelInfo,
    /// `METADATA`.
    pub metadata: Metadata,
    /// `RECORD`.
    pub record: Record,
}

impl DistInfo {
    /// Finds and parses the `.dist-info` files of an indexed archive (`file` is the
    /// wheel's file name, for messages), and checks that they agree with the name.
    pub fn read<S: ReadAt>(
        file: &str,
        filename: WheelFilename,
        archive: &Archive<S>,
    ) -> Result<Self, WheelError> {
        let dist_info = find_dist_info(archive, &filename, file)?;
        let read = |leaf: &str| -> Result<Vec<u8>, WheelError> {
            let member = format!("{dist_info}/{leaf}");
            archive
                .read_by_name(&member)
                .map_err(|source| WheelError::Archive {
                    file: file.to_owned(),
                    source,
                })?
                .ok_or(WheelError::Missing {
                    file: file.to_owned(),
                    member,
                })
        };
        let malformed = |leaf: &str, reason: String| WheelError::Malformed {
            file: file.to_owned(),
            member: format!("{dist_info}/{leaf}"),
            reason,
        };
        let info = WheelInfo::parse(&read("WHEEL")?).map_err(|r| malformed("WHEEL", r))?;
        let metadata = Metadata::parse(&read("METADATA")?).map_err(|r| malformed("METADATA", r))?;
        let record =
            Record::parse(&read("RECORD")?).map_err(|e| malformed("RECORD", e.to_string()))?;
        if !filename.name.matches(&metadata.name) {
            return Err(malformed(
                "METADATA",
                format!(
                    "it names the project `{}`, the file name `{}`",
                    metadata.name, filename.name
                ),
            ));
        }
        if !versions_match(&metadata.version, &filename.version) {
            return Err(malformed(
                "METADATA",
                format!(
                    "it gives version {}, the file name {}",
                    metadata.version, filename.version
                ),
            ));
        }
        Ok(Self {
            filename,
            dist_info,
            info,
            metadata,
            record,
        })
    }
}

fn find_dist_info<S: ReadAt>(
    archive: &Archive<S>,
    filename: &WheelFilename,
    file: &str,
) -> Result<String, WheelError> {
    let mut dirs: Vec<&str> = archive
        .members()
        .iter()
        .filter_map(|m| m.name.split_once('/').map(|(top, _)| top))
        .filter(|top| top.ends_with(".dist-info"))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    let err = |reason: String| WheelError::DistInfo {
        file: file.to_owned(),
        reason,
    };
    let dir = match dirs.as_slice() {
        [] => return Err(err("it has no .dist-info folder".into())),
        [one] => *one,
        many => {
            return Err(err(format!(
                "it has {} .dist-info folders ({}); a wheel has exactly one",
                many.len(),
                many.join(", ")
            )))
        }
    };
    let stem = dir.strip_suffix(".dist-info").unwrap_or(dir);
    let Some((name, version)) = stem.rsplit_once('-') else {
        return Err(err(format!(
            "its .dist-info folder {dir} is not named name-version.dist-info"
        )));
    };
    if !filename.name.matches(name) || !versions_match(version, &filename.version) {
        return Err(err(format!(
            "its .dist-info folder {dir} does not match the file name (expected {})",
            filename.dist_info_dir()
        )));
    }
    Ok(dir.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_matching() {
        assert!(versions_match("1.0", "1.0.0"));
        assert!(versions_match("1.0.post1", "1.0.post1"));
        assert!(versions_match("1.0+local-1", "1.0+local_1"));
        assert!(versions_match("2.01", "2.1"));
        assert!(!versions_match("1.0", "1.1"));
        assert!(!versions_match("1.0a1", "1.0"));
        // Spellings PEP 440 normalizes.
        for (a, b) in [
            ("1.0a1", "1.0alpha1"),
            ("1.0-1", "1.0.post1"),
            ("1.0c1", "1.0rc1"),
            ("1.0.dev", "1.0.dev0"),
            ("0!1.0", "1.0"),
            ("1.0a01", "1.0a1"),
            ("1.0-beta.2", "1.0b2"),
            ("v1.0", "1.0"),
            ("1.0+ABC", "1.0+abc"),
        ] {
            assert!(versions_match(a, b), "{a} {b}");
        }
        assert!(!versions_match("1.0", "1.0+local"));
        assert!(!versions_match("1.0", "1.0.post1"));
        assert!(!versions_match("2012d", "2012d"), "not PEP 440");
    }
}
