//! RECORD verification: every member listed once, every listed file present, every hash
//! and size right. The listing checks are cheap; the hash checks inflate each member, so
//! they are offered per member and a caller can spread them over threads.

use std::collections::HashSet;
use std::fmt;
use std::io::Read;

use serde::Serialize;

use super::archive::Member;
use super::error::ArchiveError;
use super::record::{is_unhashed, local_digest, DigestFor, RecordEntry, RecordHash};
use super::Wheel;
use crate::source::ReadAt;

/// One disagreement between RECORD and the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordIssue {
    /// A member RECORD does not list.
    NotListed {
        /// The member.
        path: String,
    },
    /// A RECORD row naming no member.
    Absent {
        /// The listed path.
        path: String,
    },
    /// A path listed twice.
    ListedTwice {
        /// The path.
        path: String,
    },
    /// A row without a hash for a member that needs one.
    NoHash {
        /// The path.
        path: String,
    },
    /// A hash for RECORD itself, which no RECORD can hold (installer and `wheel
    /// unpack` refuse it).
    SelfHashed {
        /// RECORD's path.
        path: String,
    },
    /// The content's hash differs.
    HashMismatch {
        /// The path.
        path: String,
        /// RECORD's hash.
        expected: RecordHash,
        /// The content's hash.
        found: RecordHash,
    },
    /// The content's size differs.
    SizeMismatch {
        /// The path.
        path: String,
        /// RECORD's size.
        expected: u64,
        /// The member's size.
        found: u64,
    },
}

/// The end of a sentence that reports the first of several issues: ` (and 1 more
/// problem)`, ` (and 2 more problems)`, or nothing when there are no more.
pub fn more_problems(more: usize) -> String {
    match more {
        0 => String::new(),
        1 => " (and 1 more problem)".to_owned(),
        n => format!(" (and {n} more problems)"),
    }
}

impl RecordIssue {
    /// What to do about it, for an error's hint: a RECORD that disagrees with the
    /// archive was changed after the build; one that is wrong in itself was written so.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::NotListed { .. }
            | Self::Absent { .. }
            | Self::HashMismatch { .. }
            | Self::SizeMismatch { .. } => {
                "the wheel was modified after it was built; rebuild it or run `truewheel retag` on the original"
            }
            Self::ListedTwice { .. } | Self::NoHash { .. } | Self::SelfHashed { .. } => {
                "its RECORD was written wrong; rebuild the wheel with a current build tool"
            }
        }
    }

    /// The path the issue is about.
    pub fn path(&self) -> &str {
        match self {
            Self::NotListed { path }
            | Self::Absent { path }
            | Self::ListedTwice { path }
            | Self::NoHash { path }
            | Self::SelfHashed { path }
            | Self::HashMismatch { path, .. }
            | Self::SizeMismatch { path, .. } => path,
        }
    }
}

impl fmt::Display for RecordIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotListed { path } => write!(f, "{path} is not listed in RECORD"),
            Self::Absent { path } => write!(f, "RECORD lists {path}, which is not in the wheel"),
            Self::ListedTwice { path } => write!(f, "RECORD lists {path} twice"),
            Self::NoHash { path } => write!(f, "RECORD gives no hash for {path}"),
            Self::SelfHashed { path } => {
                write!(
                    f,
                    "RECORD gives a hash for {path}, itself, which it cannot hold"
                )
            }
            Self::HashMismatch {
                path,
                expected,
                found,
            } => write!(
                f,
                "RECORD hash mismatch for {path}: expected {expected}, found {found}"
            ),
            Self::SizeMismatch {
                path,
                expected,
                found,
            } => write!(
                f,
                "RECORD size mismatch for {path}: expected {expected} bytes, found {found}"
            ),
        }
    }
}

impl<S: ReadAt> Wheel<S> {
    /// The checks that need no inflation: coverage, duplicates, missing hashes, sizes.
    pub fn listing_issues(&self) -> Vec<RecordIssue> {
        let mut issues = Vec::new();
        let mut seen = HashSet::with_capacity(self.record.entries.len());
        for e in &self.record.entries {
            // A folder's row (`demo/,,`, as some tools write them) names no file to
            // check; pip and installer take it.
            if e.path.ends_with('/') && e.hash.is_none() {
                continue;
            }
            if !seen.insert(e.path.as_str()) {
                issues.push(RecordIssue::ListedTwice {
                    path: e.path.clone(),
                });
                continue;
            }
            let Some(m) = self.archive.member(&e.path) else {
                issues.push(RecordIssue::Absent {
                    path: e.path.clone(),
                });
                continue;
            };
            if is_unhashed(&e.path, &self.dist_info) {
                if e.hash.is_some() && e.path.ends_with("/RECORD") {
                    issues.push(RecordIssue::SelfHashed {
                        path: e.path.clone(),
                    });
                }
                continue;
            }
            if e.hash.is_none() {
                issues.push(RecordIssue::NoHash {
                    path: e.path.clone(),
                });
            }
            if let Some(size) = e.size {
                if size != m.size {
                    issues.push(RecordIssue::SizeMismatch {
                        path: e.path.clone(),
                        expected: size,
                        found: m.size,
                    });
                }
            }
        }
        for m in self.archive.members() {
            if !m.is_dir()
                && !seen.contains(m.name.as_str())
                && !is_unhashed(&m.name, &self.dist_info)
            {
                issues.push(RecordIssue::NotListed {
                    path: m.name.clone(),
                });
            }
        }
        issues
    }

    /// The members whose content must be hashed, with their RECORD rows.
    pub fn hashed_members(&self) -> Vec<(&Member, &RecordEntry)> {
        let rows = self.record.by_path();
        self.archive
            .members()
            .iter()
            .filter(|m| !m.is_dir() && !is_unhashed(&m.name, &self.dist_info))
            .filter_map(|m| {
                let e = *rows.get(m.name.as_str())?;
                e.hash.as_ref()?;
                Some((m, e))
            })
            .collect()
    }

    /// Inflates one member and compares its hash with its RECORD row.
    pub fn verify_member(
        &self,
        m: &Member,
        entry: &RecordEntry,
    ) -> Result<Option<RecordIssue>, ArchiveError> {
        self.verify_member_with(m, entry, &local_digest)
    }

    /// [`verify_member`](Self::verify_member), hashing where `digest` says.
    pub fn verify_member_with(
        &self,
        m: &Member,
        entry: &RecordEntry,
        digest: &DigestFor<'_>,
    ) -> Result<Option<RecordIssue>, ArchiveError> {
        self.verify_member_watched(m, entry, digest, &mut |_| {})
    }

    /// [`verify_member_with`](Self::verify_member_with), calling `read(n)` after each
    /// `n` bytes inflated (a progress bar moves within a member of gigabytes).
    pub fn verify_member_watched(
        &self,
        m: &Member,
        entry: &RecordEntry,
        digest: &DigestFor<'_>,
        read: &mut dyn FnMut(usize),
    ) -> Result<Option<RecordIssue>, ArchiveError> {
        let Some(expected) = &entry.hash else {
            return Ok(None);
        };
        let mut hasher = digest(expected.algorithm, m.size);
        let mut reader = self.archive.reader(m);
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| ArchiveError::from_read(&m.name, &e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            read(n);
        }
        let found = hasher.finish();
        Ok((&found != expected).then(|| RecordIssue::HashMismatch {
            path: m.name.clone(),
            expected: expected.clone(),
            found,
        }))
    }

    /// Puts issues in archive order, whatever order threads found them in.
    pub fn sort_issues(&self, issues: &mut [RecordIssue]) {
        let order: std::collections::HashMap<&str, usize> = self
            .archive
            .members()
            .iter()
            .enumerate()
            .map(|(i, m)| (m.name.as_str(), i))
            .collect();
        issues.sort_by_key(|i| order.get(i.path()).copied().unwrap_or(usize::MAX));
    }

    /// Every check, one member after another.
    pub fn verify(&self) -> Result<Vec<RecordIssue>, ArchiveError> {
        let mut issues = self.listing_issues();
        for (m, e) in self.hashed_members() {
            issues.extend(self.verify_member(m, e)?);
        }
        Ok(issues)
    }
}
