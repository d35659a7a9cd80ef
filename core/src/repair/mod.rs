//! `repair`: bundle the outside libraries a wheel needs and retag it, as `auditwheel
//! repair` does. [`plan()`] decides everything from an audit made for repair; [`apply`]
//! writes the new wheel through the one wheel writer, with ELF edits made by an
//! [`ElfEditor`] (the core's patchelf), so unchanged members are copied raw.

pub mod editor;
mod error;
pub mod plan;
pub mod sbom;
pub mod tags;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use crate::source::ReadAt;
use crate::wheel::deflate::Parallel;
use crate::wheel::rewrite::{Changes, Deferred, Made};
use crate::wheel::splice::{Overwritten, Walked};
use crate::wheel::{Compression, Member, Wheel, WheelInfo, WriteOptions};

pub use plan::{is_script, plan, script_shim, ElfEdits, Graft, Plan, PlanError, PlanInputs};

/// What the caller already did with the wheel's members while verifying them, for the
/// edits: redoing it would come in line after everything else the repair does.
#[derive(Debug, Default)]
pub struct Kept {
    /// Members' contents, inflated and verified, by name.
    pub contents: HashMap<String, Vec<u8>>,
    /// Members' deflate streams walked ahead (see [`walks_ahead`]), by name.
    pub walked: HashMap<String, Walked>,
}

/// Members smaller than this (compressed) are not walked ahead: their splice walks them
/// itself, in little time either way.
const WALK_AHEAD: u64 = 64 << 10;

/// Whether the splice of an edit to member `m` should have its deflate stream walked
/// ahead, with its verification ([`crate::audit::Keep::Walked`]): a deflated shared
/// object (what repair edits) of 64 KiB or more compressed. Its splice
/// walks any other member itself, or deflates it anew.
pub fn walks_ahead(m: &Member) -> bool {
    let name = m.name.rsplit('/').next().unwrap_or(&m.name);
    let shared_object = name.ends_with(".so") || name.contains(".so.");
    m.compression == Compression::Deflated && m.compressed_size >= WALK_AHEAD && shared_object
}

/// Reads a host library: its bytes and its Unix mode.
pub type ReadLibrary<'a> = dyn FnMut(&str) -> std::io::Result<(Vec<u8>, u32)> + 'a;

/// Makes ELF edits in the file's own buffer: a library is megabytes, and a copy of it
/// is as much memory to fault in again.
pub trait ElfEditor: Sync {
    /// Applies `edits` to the ELF file in `elf`; says what they overwrote, or `None`
    /// when the file did not change.
    fn edit(&self, elf: &mut Vec<u8>, edits: &ElfEdits) -> Result<Option<Overwritten>, String>;
}

/// Why applying a plan failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// An ELF edit failed.
    #[error("cannot edit {path}: {reason}")]
    Edit {
        /// The member or library.
        path: String,
        /// Why.
        reason: String,
    },
    /// A member could not be read.
    #[error(transparent)]
    Archive(#[from] crate::wheel::ArchiveError),
    /// Writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A grafted library edited: its bytes and its Unix mode.
type Edited = Result<(Vec<u8>, u32), ApplyError>;

/// Writes the repaired wheel: grafted libraries (bytes given by path) edited and added
/// under the libs folder, edited members replaced, WHEEL replaced, the SBOM added
/// (see [`sbom`]); everything else copied raw. New bytes are deflated through `par`.
/// `kept` holds what the caller already did with members (see [`Kept`]); the members to
/// edit that it lacks are read from the archive.
#[allow(clippy::too_many_arguments)]
pub fn apply<S: ReadAt, W: Write>(
    wheel: &Wheel<S>,
    plan: &Plan,
    kept: &mut Kept,
    library: &mut ReadLibrary<'_>,
    editor: &dyn ElfEditor,
    info: &WheelInfo,
    sbom: Option<&str>,
    out: W,
    options: WriteOptions,
    par: &dyn Parallel,
) -> Result<W, ApplyError> {
    let mut changes = Changes::default();
    // The grafts are edited at once: psycopg2's 21 took 3-4 ms on one core.
    let mut jobs: Vec<Box<dyn FnOnce() -> Edited + Send + '_>> = Vec::new();
    for graft in &plan.grafts {
        let (mut bytes, mode) = library(&graft.source)?;
        jobs.push(Box::new(move || {
            editor
                .edit(&mut bytes, &graft.edits)
                .map_err(|reason| ApplyError::Edit {
                    path: graft.source.clone(),
                    reason,
                })?;
            Ok((bytes, mode))
        }));
    }
    for (graft, edited) in plan.grafts.iter().zip(crate::parallel::map(par, jobs)) {
        let (bytes, mode) = edited?;
        // auditwheel makes a copied library writable; keep the rest of its mode.
        changes.put(graft.member.clone(), bytes, mode | 0o200);
    }
    // The wheel's own members are edited when their turn to be written comes, a batch at
    // a time: a wheel of a gigabyte of libraries to edit is not held in memory at once.
    let mut deferred: BTreeMap<String, Deferred<'_>> = BTreeMap::new();
    for (member, edits) in &plan.members {
        let m = wheel
            .archive
            .member(member)
            .ok_or_else(|| ApplyError::Edit {
                path: member.clone(),
                reason: "it is not in the wheel".into(),
            })?;
        if let Some(walked) = kept.walked.remove(member) {
            changes.walked.insert(member.clone(), walked);
        }
        let content = kept.contents.remove(member);
        let moved = plan.scripts.get(member);
        let make = move || -> std::io::Result<Made> {
            let mut bytes = match content {
                Some(bytes) => bytes,
                None => wheel.archive.read(m).map_err(std::io::Error::other)?,
            };
            let len = bytes.len() as u64;
            let overwritten = editor.edit(&mut bytes, edits).map_err(|reason| {
                std::io::Error::other(ApplyError::Edit {
                    path: member.clone(),
                    reason,
                })
            })?;
            // The edits keep most blocks of the old deflate stream: they are reused.
            Ok(match (moved, overwritten) {
                (Some(_), old) => {
                    let old = old.unwrap_or_else(|| Overwritten::nothing(len));
                    Made::Content(bytes, Some((member.clone(), old)))
                }
                (None, Some(old)) => Made::Content(bytes, Some((member.clone(), old))),
                // Stripping an already stripped file changes nothing: that is kept raw.
                (None, None) => Made::Unchanged,
            })
        };
        let path = moved.cloned().unwrap_or_else(|| member.clone());
        deferred.insert(
            path,
            Deferred {
                mode: m.unix_mode(),
                size: m.size,
                make: Box::new(make),
            },
        );
        if let Some(moved) = moved {
            changes.put(
                member.clone(),
                plan::script_shim(moved).into_bytes(),
                m.unix_mode(),
            );
        }
    }
    changes.put(
        format!("{}/WHEEL", wheel.dist_info),
        info.to_text().into_bytes(),
        0o644,
    );
    if let Some(sbom) = sbom {
        changes.put(
            format!("{}/sboms/auditwheel.cdx.json", wheel.dist_info),
            sbom.as_bytes().to_vec(),
            0o644,
        );
    }
    Ok(wheel.rewrite_deferred(&changes, deferred, out, options, par)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wheel::splice::walk;
    use crate::wheel::writer::WheelWriter;
    use crate::wheel::Archive;
    use std::io::Read;

    /// Shared objects are walked ahead, with their verification, as a splice walks
    /// them; other members, small ones and stored ones are not.
    #[test]
    fn walks_ahead_the_shared_objects_a_repair_edits() {
        // Real machine code: this test's own executable; and hashes, which do not
        // deflate, so the writer stores them.
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        // A million bytes: 400 KB of it once deflated to just under 64 KiB, when the test
        // binary changed.
        let lib = &exe[..1_000_000];
        let noise: Vec<u8> = (0u32..6_250)
            .flat_map(|i| <sha2::Sha256 as sha2::Digest>::digest(i.to_le_bytes()))
            .collect();
        let mut w = WheelWriter::new(Vec::new(), WriteOptions::default());
        w.add("pkg/_ext.cpython-311-x86_64-linux-gnu.so", lib, 0o755)
            .unwrap();
        w.add("pkg.libs/libfoo-1a2b3c4d.so.1.2", lib, 0o755)
            .unwrap();
        w.add("pkg/data.bin", lib, 0o644).unwrap();
        w.add("pkg/small.so", &lib[..20_000], 0o755).unwrap();
        w.add("pkg/stored.so", &noise, 0o755).unwrap();
        let archive = Archive::new(w.finish("pkg-1.dist-info/RECORD").unwrap()).unwrap();
        for name in [
            "pkg/_ext.cpython-311-x86_64-linux-gnu.so",
            "pkg.libs/libfoo-1a2b3c4d.so.1.2",
        ] {
            let m = archive.member(name).unwrap();
            assert!(
                m.compressed_size >= WALK_AHEAD,
                "{name}: {}",
                m.compressed_size
            );
            assert!(walks_ahead(m), "{name}");
            let mut raw = Vec::new();
            archive.raw_reader(m).read_to_end(&mut raw).unwrap();
            let (content, walked) = archive.read_walked(m).unwrap();
            assert_eq!(content, archive.read(m).unwrap(), "{name}");
            assert_eq!(walked, walk(&raw, m.size), "{name}");
            assert!(walked.is_some(), "{name}");
        }
        assert_eq!(
            archive.member("pkg/stored.so").unwrap().compression,
            Compression::Stored
        );
        for name in ["pkg/data.bin", "pkg/small.so", "pkg/stored.so"] {
            assert!(!walks_ahead(archive.member(name).unwrap()), "{name}");
        }
    }
}
