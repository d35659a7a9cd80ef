//! What a repair reads: the wheel's members, verified and scanned in one inflation (and
//! kept, for a small wheel, for the edits), and the host libraries to graft, read and
//! hashed once for planning and for the graft itself.

use std::collections::HashMap;

use rayon::prelude::*;
use truewheel_core::audit::{self, Keep};
use truewheel_core::elf::ElfInfo;
use truewheel_core::repair::{self, Kept, PlanInputs};
use truewheel_core::wheel::Member;

use crate::failure::Failure;
use crate::io::{record_failure, DiskWheel};

/// The host side of planning: hashes and DT_NEEDED of host libraries, RPATH of members.
pub(super) struct Inputs<'a> {
    elfs: &'a HashMap<String, ElfInfo>,
    /// The libraries read for their hash, by path, kept for their DT_NEEDED and for the
    /// graft itself: each is read once, not three times.
    pub(super) libraries: HashMap<String, Vec<u8>>,
    /// Their hashes, as hex, by path.
    hashes: HashMap<String, String>,
}

impl<'a> Inputs<'a> {
    /// Inputs with `paths` read and hashed ahead, on all threads (a path that cannot be
    /// read is left for planning to ask about, and to fail on).
    pub(super) fn read_ahead(elfs: &'a HashMap<String, ElfInfo>, paths: &[&str]) -> Self {
        let read: Vec<(String, String, Vec<u8>)> = paths
            .par_iter()
            .with_max_len(1)
            .filter_map(|&path| {
                let bytes = crate::io::read_regular(path).ok()?;
                Some((path.to_owned(), sha256_hex(&bytes), bytes))
            })
            .collect();
        let mut inputs = Self {
            elfs,
            libraries: HashMap::new(),
            hashes: HashMap::new(),
        };
        for (path, hash, bytes) in read {
            inputs.hashes.insert(path.clone(), hash);
            inputs.libraries.insert(path, bytes);
        }
        inputs
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    truewheel_core::repair::sbom::hex(&sha2::Sha256::digest(bytes))
}

impl PlanInputs for Inputs<'_> {
    fn sha256_hex(&mut self, path: &str) -> Result<String, String> {
        if let Some(hash) = self.hashes.get(path) {
            return Ok(hash.clone());
        }
        let bytes = crate::io::read_regular(path).map_err(|e| e.to_string())?;
        let hex = sha256_hex(&bytes);
        self.libraries.insert(path.to_owned(), bytes);
        Ok(hex)
    }

    fn needed(&mut self, path: &str) -> Result<Vec<String>, String> {
        let opts = truewheel_core::elf::Options {
            symbols: false,
            ..truewheel_core::elf::Options::default()
        };
        if let Some(bytes) = self.libraries.get(path) {
            return truewheel_core::elf::parse_with(bytes, &opts)
                .map(|i| i.needed)
                .map_err(|e| e.to_string());
        }
        let len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
        truewheel_core::elf::scan_reader(len, || crate::io::open_regular(path), &opts, 1 << 18)
            .map(|i| i.needed)
            .map_err(|e| e.to_string())
    }

    fn member_rpath(&mut self, member: &str) -> String {
        self.elfs
            .get(member)
            .and_then(|i| i.runpath.clone().or_else(|| i.rpath.clone()))
            .unwrap_or_default()
    }
}

/// The ELF members of a wheel of up to this many bytes (all members, inflated) are kept
/// in memory once verified, as repair may edit them ([`verify_and_scan`]); a larger
/// wheel's are read again when edited (keeping jaxlib's smaller libraries raised a
/// repair's peak memory from 26 to 35 MiB, for nothing).
const KEEP_WHEEL: u64 = 32 << 20;

/// When a small wheel is the only one of the run (cibuildwheel repairs one at a time),
/// its members from this size on are hashed on a thread of their own as they are
/// inflated and walked: its largest extension (pyyaml's is 1.5 MB) would otherwise be
/// inflated and then hashed on one core while the others wait. Beside other wheels,
/// the other cores have work, and the copies to a hashing thread cost more than they
/// save (2 ms more of 41 on the bench's three small wheels).
const OFFLOAD_KEPT: u64 = 1 << 20;

/// The ELF facts of a wheel's members and, for a small wheel, their contents and
/// walked deflate streams.
type Scanned = (HashMap<String, ElfInfo>, Kept);

/// RECORD verification and the ELF scan in one inflation per member, on all threads,
/// largest member first. A small wheel's ELF members are kept for the edits: inflating
/// them again was 5% of a small repair's time. Its shared objects are walked for the
/// splices of their edits in the same decode (see [`repair::walks_ahead`]). `alone`:
/// the wheel is the only one of the run (see [`OFFLOAD_KEPT`]).
pub(super) fn verify_and_scan(wheel: &DiskWheel, alone: bool) -> Result<Scanned, Failure> {
    let name = wheel.file_name();
    let mut issues = wheel.listing_issues();
    let mut members: Vec<_> = wheel
        .archive
        .members()
        .iter()
        .filter(|m| !m.is_dir())
        .collect();
    members.sort_by_key(|m| std::cmp::Reverse(m.compressed_size));
    let rows = wheel.record.by_path();
    let small = members
        .iter()
        .try_fold(0u64, |sum, m| sum.checked_add(m.size))
        .is_some_and(|total| total <= KEEP_WHEEL);
    let keep = |m: &Member| match (small, repair::walks_ahead(m)) {
        (false, _) => Keep::Nothing,
        (true, false) => Keep::Content,
        (true, true) => Keep::Walked,
    };
    let digest = |alg, size| {
        if small && alone {
            crate::io::digest_offloaded_from(OFFLOAD_KEPT, alg, size)
        } else {
            crate::io::digest_for(alg, size)
        }
    };
    let results: Vec<_> = members
        .par_iter()
        .with_max_len(1)
        .map(|m| {
            let entry = rows.get(m.name.as_str()).copied();
            audit::verify_scan_keep(wheel, m, entry, &digest, &keep).map(|r| (m.name.clone(), r))
        })
        .collect();
    let mut elfs = HashMap::new();
    let mut kept = Kept::default();
    for r in results {
        let (member, verified) =
            r.map_err(|e| Failure::unreadable_elf(&e, &name, "the wheel is damaged; rebuild it"))?;
        issues.extend(verified.issue);
        if let Some(content) = verified.content {
            kept.contents.insert(member.clone(), content);
        }
        if let Some(walked) = verified.walked {
            kept.walked.insert(member.clone(), walked);
        }
        if let Some(info) = verified.info {
            elfs.insert(member, info);
        }
    }
    wheel.sort_issues(&mut issues);
    record_failure(wheel, &issues)?;
    Ok((elfs, kept))
}

/// A library's bytes (those planning read, or read now) and its Unix mode.
pub(super) fn read_library(
    read: &mut HashMap<String, Vec<u8>>,
    path: &str,
) -> std::io::Result<(Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let bytes = match read.remove(path) {
        Some(bytes) => bytes,
        None => crate::io::read_regular(path)?,
    };
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    Ok((bytes, mode))
}
