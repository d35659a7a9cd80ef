//! Laying an edit out ([`plan`]): the dynamic table's edits made on a model, the writes
//! that make them, and what the result must read back as; and reading it back
//! ([`verify`]) before anything is returned.

use super::edit::State;
use super::image::{self, Image};
use super::{
    execstack, flags, interpreter, is_shared_object, layout, names_of, overlay, rename, Edit,
    Names, PatchError,
};
use crate::elf::Options;

/// An edit laid out, with what the result must read back as.
pub(super) struct Plan {
    pub overlay: overlay::Overlay,
    pub want: Names,
    /// The dynamic entries as written (tag, value).
    pub want_entries: Vec<(u64, u64)>,
    pub want_files: Vec<String>,
    pub want_interp: Option<String>,
    /// The stack's flags, when the edit adds `PT_GNU_STACK`: whether it is executable.
    pub want_stack: Option<bool>,
    /// The dynamic symbols' names in table order, when some are renamed.
    pub want_symbols: Option<Vec<Vec<u8>>>,
}

pub(super) fn plan(bytes: &[u8], edits: &[Edit]) -> Result<Option<Plan>, PatchError> {
    // A soname is set only in a shared object (`State::set_soname`). In any other file,
    // with nothing else to do, nothing is read further: a static executable has no
    // dynamic section, and patchelf leaves it (or copies it to --output) as it is.
    // The fields' edits ([`flags`]) need no dynamic section, and are made after these,
    // but for the stack's flags in a file without `PT_GNU_STACK`: the entry is added here,
    // where the program header table may grow.
    let stack = match flags::stack_request(edits) {
        Some(exec) if execstack(bytes)?.is_none() => Some(exec),
        _ => None,
    };
    let page = edits
        .iter()
        .filter_map(|e| match e {
            Edit::PageSize(p) => Some(*p),
            _ => None,
        })
        .max();
    let edits: Vec<&Edit> = edits
        .iter()
        .filter(|e| !flags::is_field(e) && !matches!(e, Edit::PageSize(_)))
        .collect();
    if edits.is_empty() && stack.is_none() {
        return Ok(None);
    }
    let soname_only = edits.iter().all(|e| matches!(e, Edit::SetSoname(_)));
    if soname_only && stack.is_none() && !is_shared_object(bytes)? {
        return Ok(None);
    }
    // The interpreter, read once; a file without one is told so before it is read as a
    // dynamic file (a static program has neither).
    let old_interp = interpreter(bytes)?;
    if edits.iter().any(|e| matches!(e, Edit::SetInterpreter(_))) && old_interp.is_none() {
        return Err(PatchError::NoInterpreter);
    }
    let img = match Image::read(bytes) {
        // Nothing else needed a dynamic section: it is the stack's entry that cannot be
        // added.
        Err(PatchError::NoDynamic) if stack.is_some() && soname_only => {
            return Err(PatchError::NoStackSegment)
        }
        read => read?,
    };
    let mut st = State::new(&img);
    // The new interpreter, when it changes.
    let mut interp: Option<String> = None;
    // Symbols to rename, made after the rest, as in patchelf (a later pair for the same
    // name wins).
    let mut renames: Vec<(String, String)> = Vec::new();
    for e in edits {
        match e {
            Edit::SetSoname(name) => st.set_soname(name)?,
            Edit::SetRpath { path, force_rpath } => st.set_rpath(path, *force_rpath)?,
            Edit::AddRpath { path, force_rpath } => st.add_rpath(path, *force_rpath)?,
            Edit::RemoveRpath => st.remove_rpath(),
            Edit::SetInterpreter(path) => {
                if path.contains('\0') {
                    return Err(PatchError::NulInName(path.clone()));
                }
                interp = (old_interp.as_deref() != Some(path)).then(|| path.clone());
            }
            Edit::RemoveNeeded(names) => st.remove_needed(names)?,
            Edit::ReplaceNeeded(pairs) => st.replace_needed(pairs)?,
            Edit::AddNeeded(names) => st.add_needed(names)?,
            Edit::NoDefaultLib => st.no_default_lib(),
            Edit::AddDebugTag => st.add_debug_tag(),
            Edit::RenameDynamicSymbols(pairs) => renames.extend(pairs.iter().cloned()),
            // Made after the rest ([`flags`]), or not an edit.
            Edit::SetOsAbi(_)
            | Edit::SetExecstack(_)
            | Edit::ClearSymbolVersion(_)
            | Edit::PageSize(_) => {}
        }
    }
    let unchanged = st.added.is_empty()
        && st.verneed == img.verneed
        && st.entries.len() == img.entries.len()
        && st
            .entries
            .iter()
            .zip(&img.entries)
            .all(|(a, b)| (a.tag, a.val) == (b.tag, b.val));
    renames.reverse();
    let mut seen = std::collections::HashSet::new();
    renames.retain(|(old, _)| seen.insert(old.clone()));
    let renamed = if renames.is_empty() {
        None
    } else {
        rename::writes(&img, &mut st, &renames)?
    };
    if unchanged && interp.is_none() && stack.is_none() && renamed.is_none() {
        return Ok(None);
    }
    let want = names_of(&st)?;
    let want_files = st
        .verneed
        .iter()
        .map(|&(_, off)| st.string(off))
        .collect::<Result<Vec<_>, _>>()?;
    let want_interp = interp.clone().or(old_interp);
    let mut overlay = layout::write(&img, &mut st, interp.as_deref(), stack, page)?;
    let want_symbols = match renamed {
        Some((writes, names)) => {
            for (at, bytes) in writes {
                overlay.put(at, &bytes)?;
            }
            Some(names)
        }
        None => None,
    };
    Ok(Some(Plan {
        overlay,
        want,
        want_entries: st.entries.iter().map(|e| (e.tag, e.val)).collect(),
        want_files,
        want_interp,
        want_stack: stack,
        want_symbols,
    }))
}

/// Reads the output back and compares it with what was meant.
pub(super) fn verify(out: &[u8], plan: &Plan) -> Result<(), PatchError> {
    let (want, files) = (&plan.want, &plan.want_files);
    // The symbols are read only when a renaming must be checked.
    let opts = Options {
        symbols: plan.want_symbols.is_some(),
        max_table: u64::MAX,
        ..Options::default()
    };
    let info = crate::elf::parse_with(out, &opts).map_err(|e| PatchError::Verify(e.to_string()))?;
    let got = Names {
        soname: info.soname.clone(),
        needed: info.needed.clone(),
        rpath: info.rpath.clone(),
        runpath: info.runpath.clone(),
    };
    if got != *want {
        return Err(PatchError::Verify(format!("read {got:?}, meant {want:?}")));
    }
    if info.interpreter != plan.want_interp {
        return Err(PatchError::Verify(format!(
            "interpreter {:?}, meant {:?}",
            info.interpreter, plan.want_interp
        )));
    }
    if let Some(exec) = plan.want_stack {
        let got = execstack(out)?;
        if got != Some(exec) {
            return Err(PatchError::Verify(format!(
                "the stack reads back as {got:?}, meant executable: {exec}"
            )));
        }
    }
    let got_files: Vec<&str> = info.version_needs.iter().map(|n| n.file.as_str()).collect();
    if got_files != *files {
        return Err(PatchError::Verify(format!(
            "version needs name {got_files:?}, meant {files:?}"
        )));
    }
    let img = Image::read(out)?;
    if let Some(names) = &plan.want_symbols {
        // (The reader's names are decoded lossily.)
        let got: Vec<&str> = info.symbols.iter().map(|s| s.name.as_str()).collect();
        let want: Vec<String> = names
            .iter()
            .skip(1)
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        if got != want {
            return Err(PatchError::Verify(
                "the dynamic symbols read back otherwise".into(),
            ));
        }
        if !rename::lookups_hold(&img, names)? {
            return Err(PatchError::Verify(
                "a renamed symbol is not found through the hash tables".into(),
            ));
        }
    }
    // Every entry as written: nothing else (an interpreter path written where a hostile
    // file's PT_INTERP overlaps its PT_DYNAMIC) wrote over the table. (A MIPS entry's
    // value is made relative to where it lands.)
    let same = |(a, b): (&(u64, u64), &image::Entry)| {
        a.0 == b.tag && (a.1 == b.val || b.tag == image::DT_MIPS_RLD_MAP_REL)
    };
    if img.entries.len() != plan.want_entries.len()
        || !plan.want_entries.iter().zip(&img.entries).all(same)
    {
        return Err(PatchError::Verify(
            "the dynamic table reads back otherwise".into(),
        ));
    }
    let mut loads: Vec<(u64, u64)> = img
        .segments
        .iter()
        .filter(|s| s.kind == crate::elf::header::PT_LOAD)
        .map(|s| (s.vaddr, s.vaddr.saturating_add(s.memsz)))
        .collect();
    loads.sort_unstable();
    if loads.windows(2).any(|w| w[0].1 > w[1].0) {
        return Err(PatchError::Verify("loadable segments overlap".into()));
    }
    Ok(())
}
