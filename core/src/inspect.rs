//! The report of `truewheel inspect`: names, tags, WHEEL and METADATA, members, RECORD
//! verification and a one-line identification of each binary. Data first (serde); the
//! CLI renders text from it.

use serde::Serialize;

use crate::binary::BinaryKind;
use crate::source::ReadAt;
use crate::wheel::{Compression, Metadata, RecordIssue, Wheel, WheelInfo};

/// Version of the JSON schema of [`InspectReport`].
pub const INSPECT_SCHEMA: u32 = 1;

/// One member in the listing.
#[derive(Debug, Clone, Serialize)]
pub struct MemberInfo {
    /// Path inside the wheel.
    pub path: String,
    /// Uncompressed size.
    pub size: u64,
    /// Stored size.
    pub compressed_size: u64,
    /// How it is stored.
    pub compression: Compression,
    /// Unix mode in octal (`"644"`), when the archive records one.
    pub mode: Option<String>,
}

/// A binary member, identified.
#[derive(Debug, Clone, Serialize)]
pub struct BinaryInfo {
    /// Path inside the wheel.
    pub path: String,
    /// One line: `ELF 64-bit LSB shared object, x86-64`.
    pub summary: String,
    /// The identification, as data.
    pub binary: BinaryKind,
}

/// RECORD verification.
#[derive(Debug, Clone, Serialize)]
pub struct RecordReport {
    /// No issue found.
    pub ok: bool,
    /// How many members' hashes were checked.
    pub hashed: usize,
    /// What disagrees.
    pub issues: Vec<RecordIssue>,
}

/// Everything `inspect` reports.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    /// Schema version ([`INSPECT_SCHEMA`]).
    pub schema: u32,
    /// The file name.
    pub filename: String,
    /// Distribution name as in the file name.
    pub name: String,
    /// Version as in the file name.
    pub version: String,
    /// Build tag, if any.
    pub build: Option<String>,
    /// Every tag triple the file name stands for.
    pub tags: Vec<String>,
    /// Interpreter tags.
    pub python_tags: Vec<String>,
    /// ABI tags.
    pub abi_tags: Vec<String>,
    /// Platform tags.
    pub platform_tags: Vec<String>,
    /// The `.dist-info` folder.
    pub dist_info: String,
    /// `WHEEL`.
    pub wheel: WheelInfo,
    /// `METADATA`.
    pub metadata: Metadata,
    /// Members in archive order.
    pub members: Vec<MemberInfo>,
    /// Sum of member sizes.
    pub total_size: u64,
    /// Sum of stored sizes.
    pub total_compressed_size: u64,
    /// RECORD verification.
    pub record: RecordReport,
    /// Binary members.
    pub binaries: Vec<BinaryInfo>,
}

/// Builds the report, given the RECORD issues found (see [`Wheel::verify`]) and how many
/// members were hashed.
pub fn report<S: ReadAt>(
    wheel: &Wheel<S>,
    issues: Vec<RecordIssue>,
    hashed: usize,
) -> InspectReport {
    let a = &wheel.archive;
    let members: Vec<MemberInfo> = a
        .members()
        .iter()
        .map(|m| MemberInfo {
            path: m.name.clone(),
            size: m.size,
            compressed_size: m.compressed_size,
            compression: m.compression,
            mode: (m.unix_mode() != 0).then(|| format!("{:o}", m.unix_mode() & 0o7777)),
        })
        .collect();
    let binaries = a
        .members()
        .iter()
        .filter_map(|m| {
            let kind = crate::binary::peek(a, m)?;
            Some(BinaryInfo {
                path: m.name.clone(),
                summary: kind.to_string(),
                binary: kind,
            })
        })
        .collect();
    let f = &wheel.filename;
    InspectReport {
        schema: INSPECT_SCHEMA,
        filename: f.to_string(),
        name: f.name.to_string(),
        version: f.version.clone(),
        build: f.build.as_ref().map(ToString::to_string),
        tags: f.tags.expand().iter().map(ToString::to_string).collect(),
        python_tags: f.tags.python.iter().map(ToString::to_string).collect(),
        abi_tags: f.tags.abi.iter().map(ToString::to_string).collect(),
        platform_tags: f.tags.platform.iter().map(ToString::to_string).collect(),
        dist_info: wheel.dist_info.clone(),
        wheel: wheel.info.clone(),
        metadata: wheel.metadata.clone(),
        total_size: members.iter().map(|m| m.size).sum(),
        total_compressed_size: members.iter().map(|m| m.compressed_size).sum(),
        members,
        record: RecordReport {
            ok: issues.is_empty(),
            hashed,
            issues,
        },
        binaries,
    }
}

/// Verifies RECORD one member after another and builds the report (for callers without
/// threads, such as WASM).
pub fn inspect<S: ReadAt>(wheel: &Wheel<S>) -> Result<InspectReport, crate::wheel::ArchiveError> {
    let hashed = wheel.hashed_members().len();
    let issues = wheel.verify()?;
    Ok(report(wheel, issues, hashed))
}
