//! The edits, on a model of the dynamic table and its string table: patchelf's meaning
//! of each flag, without touching bytes yet (see [`super::layout`] for that).
//!
//! Strings are only ever added at the end of the string table, never written over: a
//! string may be shared with a symbol name or be the tail of another one (linkers merge
//! suffixes), so an old string is left as it is even when nothing points at it any more.
//! A library name that is already in the table is reused (`DT_NEEDED` strings are never
//! written in place, by us or by patchelf, so sharing them is safe).

use super::super::error::ElfError;
use super::super::read::c_str;
use super::image::{
    Entry, Image, DT_DEBUG, DT_FLAGS_1, DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_SONAME, DT_STRSZ,
    DT_STRTAB,
};
use super::PatchError;
use crate::elf::FileType;

/// The dynamic table, the strings added to its string table, and the version needs'
/// file names, as edited so far.
#[derive(Debug, Clone)]
pub(super) struct State<'a> {
    /// The dynamic entries before `DT_NULL`.
    pub entries: Vec<Entry>,
    /// The original string table.
    pub base: &'a [u8],
    /// Strings added after it.
    pub added: Vec<u8>,
    /// For each version need, where its `vn_file` is and its value.
    pub verneed: Vec<(u64, u64)>,
    /// Whether the file is a shared object (`ET_DYN`): patchelf sets a soname only there.
    shared: bool,
    /// Whether there is a string table to add to.
    has_strtab: bool,
}

impl<'a> State<'a> {
    /// The state of the file as it is.
    pub fn new(img: &Image<'a>) -> Self {
        Self {
            entries: img.entries.clone(),
            base: img.strings,
            added: Vec::new(),
            verneed: img.verneed.clone(),
            shared: img.header.file_type == FileType::SharedObject,
            has_strtab: img.strtab.is_some(),
        }
    }

    /// The string at `off`.
    pub fn string(&self, off: u64) -> Result<String, ElfError> {
        let base = self.base.len() as u64;
        if off < base {
            c_str(self.base, off, "dynamic section")
        } else {
            c_str(&self.added, off - base, "dynamic section")
        }
    }

    /// The names of the entries with `tag`, in order.
    pub fn names(&self, tag: u64) -> Result<Vec<String>, ElfError> {
        self.entries
            .iter()
            .filter(|e| e.tag == tag)
            .map(|e| self.string(e.val))
            .collect()
    }

    /// The name of the last entry with `tag` (the one the loader uses).
    pub fn name(&self, tag: u64) -> Result<Option<String>, ElfError> {
        Ok(self.names(tag)?.pop())
    }

    /// Adds `s` at the end of the string table; returns its offset.
    pub(super) fn add(&mut self, s: &str) -> Result<u64, PatchError> {
        if !self.has_strtab {
            return Err(PatchError::NoStringTable);
        }
        if s.as_bytes().contains(&0) {
            return Err(PatchError::NulInName(s.to_owned()));
        }
        let off = (self.base.len() + self.added.len()) as u64;
        self.added.extend_from_slice(s.as_bytes());
        self.added.push(0);
        Ok(off)
    }

    /// The offset of a string equal to `s` already in the table, or of a new one.
    fn intern(&mut self, s: &str) -> Result<u64, PatchError> {
        let base = self.base.len() as u64;
        if let Some(at) = find(self.base, s.as_bytes()) {
            return Ok(at);
        }
        if let Some(at) = find(&self.added, s.as_bytes()) {
            return Ok(base + at);
        }
        self.add(s)
    }

    /// `--set-soname`: patchelf's `modifySoname`. Only shared objects get one; a new
    /// `DT_SONAME` goes first in the table.
    pub fn set_soname(&mut self, soname: &str) -> Result<(), PatchError> {
        if !self.shared || self.name(DT_SONAME)?.as_deref() == Some(soname) {
            return Ok(());
        }
        let off = self.add(soname)?;
        match self.entries.iter_mut().rev().find(|e| e.tag == DT_SONAME) {
            Some(e) => e.val = off,
            None => self.entries.insert(0, entry(DT_SONAME, off)),
        }
        Ok(())
    }

    /// `--set-rpath` (with `--force-rpath`): patchelf's `modifyRPath(rpSet)`. By default
    /// the path goes in `DT_RUNPATH` and an existing `DT_RPATH` becomes one; forced, an
    /// existing `DT_RUNPATH` becomes `DT_RPATH`. A new entry goes first in the table.
    pub fn set_rpath(&mut self, path: &str, force_rpath: bool) -> Result<(), PatchError> {
        let has = |s: &Self, tag| s.entries.iter().any(|e| e.tag == tag);
        let (rpath, runpath) = (has(self, DT_RPATH), has(self, DT_RUNPATH));
        // What patchelf reads as the current path: DT_RUNPATH wins over DT_RPATH.
        let current = match self.name(DT_RUNPATH)? {
            Some(p) => Some(p),
            None => self.name(DT_RPATH)?,
        };
        if !force_rpath && rpath && !runpath {
            retag(&mut self.entries, DT_RPATH, DT_RUNPATH);
        } else if force_rpath && runpath {
            retag(&mut self.entries, DT_RUNPATH, DT_RPATH);
        } else if current.as_deref().unwrap_or_default() == path {
            // (As patchelf 0.18 on: an empty path where there is none changes nothing.)
            return Ok(());
        }
        if current.as_deref() == Some(path) {
            // Only the tag changed; the string stays where it is.
            return Ok(());
        }
        let off = self.add(path)?;
        let mut found = false;
        for e in &mut self.entries {
            if e.tag == DT_RPATH || e.tag == DT_RUNPATH {
                e.val = off;
                found = true;
            }
        }
        if !found {
            let tag = if force_rpath { DT_RPATH } else { DT_RUNPATH };
            self.entries.insert(0, entry(tag, off));
        }
        Ok(())
    }

    /// `--add-rpath` (with `--force-rpath`): patchelf's `modifyRPath(rpAdd)`, the path
    /// appended to the current one (`DT_RUNPATH`, else `DT_RPATH`) after a `:`, then set
    /// as [`Self::set_rpath`] sets it.
    pub fn add_rpath(&mut self, path: &str, force_rpath: bool) -> Result<(), PatchError> {
        let current = match self.name(DT_RUNPATH)? {
            Some(p) => Some(p),
            None => self.name(DT_RPATH)?,
        };
        let joined = match current.as_deref() {
            None | Some("") => path.to_owned(),
            Some(c) => format!("{c}:{path}"),
        };
        self.set_rpath(&joined, force_rpath)
    }

    /// `--remove-rpath`: drops every `DT_RPATH` and `DT_RUNPATH` entry.
    pub fn remove_rpath(&mut self) {
        self.entries
            .retain(|e| e.tag != DT_RPATH && e.tag != DT_RUNPATH);
    }

    /// `--remove-needed`: drops the `DT_NEEDED` entries naming any of `names`.
    pub fn remove_needed(&mut self, names: &[String]) -> Result<(), PatchError> {
        let mut keep = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            if e.tag == DT_NEEDED && names.contains(&self.string(e.val)?) {
                continue;
            }
            keep.push(*e);
        }
        self.entries = keep;
        Ok(())
    }

    /// `--replace-needed`: in one pass, each `DT_NEEDED` entry naming the first of a pair
    /// names the second instead; when one did, the version needs naming it follow, since
    /// the loader asserts that every version need names a loaded library.
    pub fn replace_needed(&mut self, pairs: &[(String, String)]) -> Result<(), PatchError> {
        let find = |name: &str| {
            pairs
                .iter()
                .find(|(old, _)| old == name)
                .map(|(_, new)| new)
        };
        let mut replaced = false;
        for i in 0..self.entries.len() {
            if self.entries[i].tag != DT_NEEDED {
                continue;
            }
            let name = self.string(self.entries[i].val)?;
            if let Some(new) = find(&name).filter(|new| **new != name) {
                let new = new.clone();
                self.entries[i].val = self.intern(&new)?;
                replaced = true;
            }
        }
        if replaced {
            for i in 0..self.verneed.len() {
                let name = self.string(self.verneed[i].1)?;
                if let Some(new) = find(&name).filter(|new| **new != name) {
                    let new = new.clone();
                    self.verneed[i].1 = self.intern(&new)?;
                }
            }
        }
        Ok(())
    }

    /// `--add-needed`: new `DT_NEEDED` entries first in the table, in the order given.
    /// A library already needed is not added again (patchelf would add a duplicate), so
    /// that adding twice gives the same file as adding once.
    pub fn add_needed(&mut self, names: &[String]) -> Result<(), PatchError> {
        let mut have = self.names(DT_NEEDED)?;
        let mut new = Vec::new();
        for name in names {
            if have.contains(name) {
                continue;
            }
            have.push(name.clone());
            new.push(entry(DT_NEEDED, self.intern(name)?));
        }
        self.entries.splice(0..0, new);
        Ok(())
    }

    /// `--no-default-lib`: `DF_1_NODEFLIB` in `DT_FLAGS_1` (the loader then searches no
    /// default folder for the file's libraries); a new entry goes first, as patchelf's.
    pub fn no_default_lib(&mut self) {
        const DF_1_NODEFLIB: u64 = 0x800;
        match self.entries.iter_mut().rev().find(|e| e.tag == DT_FLAGS_1) {
            Some(e) => e.val |= DF_1_NODEFLIB,
            None => self.entries.insert(0, entry(DT_FLAGS_1, DF_1_NODEFLIB)),
        }
    }

    /// `--add-debug-tag`: a `DT_DEBUG` entry (where the loader publishes its list of
    /// loaded objects to debuggers), first, unless there is one.
    pub fn add_debug_tag(&mut self) {
        if !self.entries.iter().any(|e| e.tag == DT_DEBUG) {
            self.entries.insert(0, entry(DT_DEBUG, 0));
        }
    }

    /// Before the table is written with a moved string table: makes sure `DT_STRSZ` is
    /// there to be updated.
    pub fn ensure_strsz(&mut self) {
        if !self.entries.iter().any(|e| e.tag == DT_STRSZ) {
            let at = self
                .entries
                .iter()
                .position(|e| e.tag == DT_STRTAB)
                .map_or(self.entries.len(), |i| i + 1);
            self.entries.insert(at, entry(DT_STRSZ, 0));
        }
    }
}

fn entry(tag: u64, val: u64) -> Entry {
    Entry {
        tag,
        val,
        was_at: None,
    }
}

fn retag(entries: &mut [Entry], from: u64, to: u64) {
    for e in entries.iter_mut().filter(|e| e.tag == from) {
        e.tag = to;
    }
}

/// The offset of a NUL-terminated string equal to `s` in `table` (possibly the tail of a
/// longer one).
fn find(table: &[u8], s: &[u8]) -> Option<u64> {
    let n = s.len();
    table
        .iter()
        .enumerate()
        .filter(|&(z, &b)| b == 0 && z >= n)
        .find(|&(z, _)| &table[z - n..z] == s)
        .map(|(z, _)| (z - n) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_whole_strings_and_tails() {
        let t = b"\0libfoo.so\0libc.so.6\0";
        assert_eq!(find(t, b"libc.so.6"), Some(11));
        assert_eq!(find(t, b"foo.so"), Some(4));
        assert_eq!(find(t, b"libfoo"), None);
        assert_eq!(find(t, b""), Some(0));
        assert_eq!(find(b"abc", b"abc"), None, "unterminated");
    }
}
