//! Errors of the wheel model. Each names what is wrong precisely enough for one sentence;
//! [`WheelError`] adds which wheel it is about.

use std::io;

/// A problem with the zip container.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Not a zip archive at all.
    #[error("it is not a zip archive: {0}")]
    NotZip(String),
    /// The archive was cut short.
    #[error("the archive is truncated (it ends before its own records say it should)")]
    Truncated,
    /// The container's structure is inconsistent.
    #[error("the archive is damaged: {0}")]
    Corrupt(String),
    /// A limit on the whole archive was hit.
    #[error("the archive is too large to read safely: {reason}")]
    Limit {
        /// Which limit.
        limit: LimitKind,
        /// By how much.
        reason: String,
    },
    /// One member is over a limit (its size, or its compression ratio).
    #[error("member {member} is too large to read safely: {reason}")]
    MemberLimit {
        /// The member.
        member: String,
        /// Which limit.
        limit: LimitKind,
        /// By how much.
        reason: String,
    },
    /// Two members share a name.
    #[error("member {0} appears twice in the archive")]
    Duplicate(String),
    /// A member name is unsafe or ambiguous.
    #[error("member name {name:?} is refused: {reason}")]
    BadName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// One member is unreadable.
    #[error("member {member} is unreadable: {reason}")]
    Member {
        /// The member.
        member: String,
        /// Why.
        reason: String,
    },
    /// The source could not be read.
    #[error("reading failed: {0}")]
    Io(#[from] io::Error),
}

/// Which of the [`Limits`](super::Limits) an archive went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// `max_member_size`.
    MemberSize,
    /// `max_total_size`.
    TotalSize,
    /// `max_ratio`.
    Ratio,
    /// `max_members`.
    Members,
}

impl ArchiveError {
    /// Wraps an error met while reading a member's data.
    pub fn from_read(member: &str, e: &io::Error) -> Self {
        Self::Member {
            member: member.to_owned(),
            reason: e.to_string(),
        }
    }
}

/// A problem with a wheel: its container, its name, or its `.dist-info` files.
#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    /// The file name is not a wheel name.
    #[error(transparent)]
    Filename(#[from] super::filename::FilenameError),
    /// The container is bad.
    #[error("{file}: {source}")]
    Archive {
        /// The wheel's file name.
        file: String,
        /// The container error.
        source: ArchiveError,
    },
    /// No `.dist-info` folder, or one that does not match the file name.
    #[error("{file}: {reason}")]
    DistInfo {
        /// The wheel's file name.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A `.dist-info` file is missing or malformed.
    #[error("{file}: {member} is malformed: {reason}")]
    Malformed {
        /// The wheel's file name.
        file: String,
        /// The member (`…/WHEEL`, `…/METADATA`, `…/RECORD`).
        member: String,
        /// What is wrong.
        reason: String,
    },
    /// A required `.dist-info` file is absent.
    #[error("{file}: {member} is missing")]
    Missing {
        /// The wheel's file name.
        file: String,
        /// The member.
        member: String,
    },
}

impl WheelError {
    /// The configurable limit this error is about, if it is one (not a defect of the wheel).
    pub fn limit(&self) -> Option<LimitKind> {
        match self {
            Self::Archive {
                source: ArchiveError::Limit { limit, .. } | ArchiveError::MemberLimit { limit, .. },
                ..
            } => Some(*limit),
            _ => None,
        }
    }

    /// A hint for the user, where one helps.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Filename(_) => Some("wheel file names look like name-1.0-cp311-cp311-manylinux_2_17_x86_64.whl (PEP 427)"),
            Self::Archive { source: ArchiveError::NotZip(_) | ArchiveError::Truncated, .. } => {
                Some("the download or copy may be incomplete; fetch or build the wheel again")
            }
            Self::Archive { source: ArchiveError::Limit { .. } | ArchiveError::MemberLimit { .. }, .. } => {
                Some("if you trust this wheel, raise the limit")
            }
            Self::Archive { .. } => Some("rebuild the wheel with a standard tool (pip wheel, build, maturin, truewheel build)"),
            Self::DistInfo { .. } | Self::Malformed { .. } | Self::Missing { .. } => {
                Some("the wheel was not built by a standards-conforming tool; rebuild it")
            }
        }
    }
}
