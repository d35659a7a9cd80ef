//! The core's own [`ElfEditor`]: `elf::strip` (for `--strip`, before any edit, as
//! auditwheel strips before patching) then `elf::patch`, with the edits in patchelf's
//! order and auditwheel's `--force-rpath`.

use super::{ElfEditor, ElfEdits};
use crate::elf::patch::{apply_in_place, Edit};
use crate::elf::strip::strip_all;
use crate::wheel::splice::Overwritten;

/// Edits with the core's ELF patcher.
#[derive(Debug, Clone, Copy, Default)]
pub struct CoreEditor;

/// The patchelf edits for a repair's [`ElfEdits`], in the order auditwheel passes them.
pub fn patch_edits(edits: &ElfEdits) -> Vec<Edit> {
    let mut ops = Vec::new();
    if let Some(s) = &edits.soname {
        ops.push(Edit::SetSoname(s.clone()));
    }
    if !edits.remove_needed.is_empty() {
        ops.push(Edit::RemoveNeeded(edits.remove_needed.clone()));
    }
    if !edits.replace_needed.is_empty() {
        ops.push(Edit::ReplaceNeeded(edits.replace_needed.clone()));
    }
    if edits.clear_rpath && edits.rpath.is_none() {
        ops.push(Edit::RemoveRpath);
    }
    if let Some(path) = &edits.rpath {
        ops.push(Edit::SetRpath {
            path: path.clone(),
            force_rpath: !edits.runpath,
        });
    }
    ops
}

impl ElfEditor for CoreEditor {
    fn edit(&self, elf: &mut Vec<u8>, edits: &ElfEdits) -> Result<Option<Overwritten>, String> {
        let ops = patch_edits(edits);
        if edits.strip {
            let stripped = strip_all(elf).map_err(|e| e.to_string())?;
            if stripped != *elf {
                // Stripping rewrites the whole file: the edit is against all of it.
                let old = std::mem::replace(elf, stripped);
                apply_in_place(elf, &ops).map_err(|e| e.to_string())?;
                return Ok(Some(Overwritten::whole(old)));
            }
        }
        let Some(changes) = apply_in_place(elf, &ops).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        // Writes of the bytes already there change nothing.
        let same = changes.old_len == elf.len() as u64
            && changes
                .saved
                .iter()
                .all(|(at, old)| elf.get(*at as usize..*at as usize + old.len()) == Some(&old[..]));
        Ok((!same).then_some(Overwritten {
            old_len: changes.old_len,
            ranges: changes.saved,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIB: &[u8] = include_bytes!("../../tests/elf-fixtures/x86_64-debug.so");

    #[test]
    fn graft_edits_read_back() {
        let edits = ElfEdits {
            soname: Some("libdemo-0123abcd.so.1".into()),
            replace_needed: vec![("libm.so.6".into(), "libm-89abcdef.so.6".into())],
            rpath: Some("$ORIGIN".into()),
            strip: true,
            ..ElfEdits::default()
        };
        let mut out = LIB.to_vec();
        let old = CoreEditor.edit(&mut out, &edits).unwrap();
        assert!(matches!(old, Some(Overwritten { old_len, .. }) if old_len == LIB.len() as u64));
        let info = crate::elf::parse(&out).unwrap();
        assert_eq!(info.soname.as_deref(), Some("libdemo-0123abcd.so.1"));
        assert!(info.needed.contains(&"libm-89abcdef.so.6".to_owned()));
        assert_eq!(info.rpath.as_deref(), Some("$ORIGIN"));
        assert_eq!(info.runpath, None);
        assert!(
            out.len() < LIB.len() + 4096,
            "stripped, then grown by at most a page"
        );
    }

    #[test]
    fn clearing_an_absent_rpath_changes_nothing() {
        let edits = ElfEdits {
            clear_rpath: true,
            ..ElfEdits::default()
        };
        let mut out = LIB.to_vec();
        assert_eq!(CoreEditor.edit(&mut out, &edits).unwrap(), None);
        assert_eq!(out, LIB);
    }
}
