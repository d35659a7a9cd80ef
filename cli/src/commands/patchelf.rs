//! `truewheel patchelf [OPTIONS] FILE...`: patchelf's common flags, with patchelf's
//! meanings, over the core's [`truewheel_core::elf::patch`].
//!
//! As in patchelf, the operations of one call are applied in a fixed order whatever the
//! order of the flags: `--print-interpreter`, `--print-soname`, `--set-soname`,
//! `--set-interpreter`, `--print-rpath`, `--shrink-rpath` (which wins over
//! `--remove-rpath`, which wins over `--set-rpath`, which wins over `--add-rpath`),
//! `--print-needed`,
//! `--remove-needed`, `--replace-needed`, `--add-needed` (sorted, as patchelf keeps them
//! in a set). The prints show the file as it was read. A flag given twice takes its last
//! value, as patchelf's.
//!
//! Without `--output` the file is edited in place, as patchelf does, but atomically: the
//! new file is written next to it and renamed over it, keeping its permissions; a
//! symlink is followed and its target replaced (an `--output` that is a symlink too). A
//! file that nothing changes is not rewritten; with `--output` the output is always written (new files get mode 0755,
//! like patchelf's under the usual umask).

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use truewheel_core::elf::patch::{self, Changes, Edit, PatchError};

use super::Context;
use crate::failure::Failure;

/// Arguments of `patchelf`.
// The flags are patchelf's, one bool each.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Operations are applied in patchelf's order, whatever the order given.",
    args_override_self = true
)]
pub struct Args {
    /// The ELF files to read or edit.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Set DT_RUNPATH (or DT_RPATH with --force-rpath), converting the other kind.
    #[arg(long, value_name = "RPATH", allow_hyphen_values = true)]
    set_rpath: Option<String>,
    /// Append to DT_RUNPATH (or DT_RPATH, whichever the file has), after a `:`.
    #[arg(long, value_name = "RPATH", allow_hyphen_values = true)]
    add_rpath: Option<String>,
    /// With --set-rpath or --add-rpath: write DT_RPATH (searched before LD_LIBRARY_PATH)
    /// not DT_RUNPATH.
    #[arg(long)]
    force_rpath: bool,
    /// Remove DT_RPATH and DT_RUNPATH.
    #[arg(long)]
    remove_rpath: bool,
    /// Drop the absolute search path entries that hold none of the needed libraries
    /// (a file of the same machine) not found in an earlier entry.
    #[arg(long)]
    shrink_rpath: bool,
    /// With --shrink-rpath: drop the absolute entries that start with none of these
    /// (`:`-separated) prefixes too.
    #[arg(long, value_name = "PREFIXES", allow_hyphen_values = true)]
    allowed_rpath_prefixes: Option<String>,
    /// Set the program interpreter (PT_INTERP, the dynamic loader a program starts with).
    #[arg(long, value_name = "INTERPRETER", allow_hyphen_values = true)]
    set_interpreter: Option<String>,
    /// Print the program interpreter.
    #[arg(long)]
    print_interpreter: bool,
    /// Set DT_SONAME (shared objects only).
    #[arg(long, value_name = "SONAME", allow_hyphen_values = true)]
    set_soname: Option<String>,
    /// Rename a needed library, in DT_NEEDED and in the version needs (repeatable).
    #[arg(long, num_args = 2, value_names = ["OLD", "NEW"], allow_hyphen_values = true)]
    replace_needed: Vec<String>,
    /// Add a DT_NEEDED entry (repeatable; a library already needed is not added twice).
    #[arg(long, value_name = "LIBRARY", allow_hyphen_values = true)]
    add_needed: Vec<String>,
    /// Remove the DT_NEEDED entries naming a library (repeatable).
    #[arg(long, value_name = "LIBRARY", allow_hyphen_values = true)]
    remove_needed: Vec<String>,
    /// Print DT_RUNPATH, or DT_RPATH if there is no DT_RUNPATH.
    #[arg(long)]
    print_rpath: bool,
    /// Print the DT_NEEDED entries, one a line.
    #[arg(long)]
    print_needed: bool,
    /// Print DT_SONAME.
    #[arg(long)]
    print_soname: bool,
    /// Set DF_1_NODEFLIB in DT_FLAGS_1: the loader searches no default folder for the
    /// file's libraries.
    #[arg(long)]
    no_default_lib: bool,
    /// Add a DT_DEBUG entry, unless there is one.
    #[arg(long)]
    add_debug_tag: bool,
    /// Print the OS ABI of the file header (EI_OSABI), as `System V` or `Linux`.
    #[arg(long)]
    print_os_abi: bool,
    /// Set the OS ABI of the file header: none (sysv), hpux, netbsd, gnu (linux), hurd,
    /// solaris, aix, irix, freebsd, tru64, openbsd, openvms.
    #[arg(long, value_name = "ABI", value_parser = clap::value_parser!(patch::OsAbi))]
    set_os_abi: Option<patch::OsAbi>,
    /// Print whether the file asks for an executable stack (`execstack: X`, `-`, or `?`
    /// without PT_GNU_STACK).
    #[arg(long)]
    print_execstack: bool,
    /// Ask for an executable stack (PF_X in PT_GNU_STACK).
    #[arg(long)]
    set_execstack: bool,
    /// Ask for a stack that is not executable (glibc 2.41 refuses to dlopen a library
    /// that asks for an executable one); wins over --set-execstack.
    #[arg(long)]
    clear_execstack: bool,
    /// Make a dynamic symbol's version index VER_NDX_GLOBAL, so that it binds to any
    /// version of the symbol (repeatable).
    #[arg(long, value_name = "SYMBOL", allow_hyphen_values = true)]
    clear_symbol_version: Vec<String>,
    /// Accepted for patchelf's sake: headers are never sorted here.
    #[arg(long)]
    no_sort: bool,
    /// Align a new segment to SIZE bytes (a power of two) at least; the file's own
    /// segments' largest alignment is kept when larger.
    #[arg(long, value_name = "SIZE", value_parser = page_size)]
    page_size: Option<u64>,
    /// Say on stderr what is edited, as PATCHELF_DEBUG=1 does too.
    #[arg(long)]
    debug: bool,
    /// Rename dynamic symbols: the file holds `OLD NEW` pairs, one a line (repeatable).
    #[arg(long, value_name = "NAME_MAP_FILE")]
    rename_dynamic_symbols: Vec<PathBuf>,
    /// Write the result here instead of editing FILE in place (one FILE only).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

impl Args {
    /// The edits, in patchelf's order; `shrunk` is what `--shrink-rpath` keeps of the
    /// file's search path, if it has one, and `renames` the symbols' map.
    fn edits(&self, shrunk: Option<String>, renames: &[(String, String)]) -> Vec<Edit> {
        let mut edits = Vec::new();
        if let Some(name) = &self.set_soname {
            edits.push(Edit::SetSoname(name.clone()));
        }
        if let Some(path) = &self.set_interpreter {
            edits.push(Edit::SetInterpreter(path.clone()));
        }
        if self.shrink_rpath {
            if let Some(path) = shrunk {
                edits.push(Edit::SetRpath {
                    path,
                    force_rpath: self.force_rpath,
                });
            }
        } else if self.remove_rpath {
            edits.push(Edit::RemoveRpath);
        } else if let Some(path) = &self.set_rpath {
            edits.push(Edit::SetRpath {
                path: path.clone(),
                force_rpath: self.force_rpath,
            });
        } else if let Some(path) = &self.add_rpath {
            edits.push(Edit::AddRpath {
                path: path.clone(),
                force_rpath: self.force_rpath,
            });
        }
        if !self.remove_needed.is_empty() {
            edits.push(Edit::RemoveNeeded(self.remove_needed.clone()));
        }
        if !self.replace_needed.is_empty() {
            // patchelf keeps a map: a later pair for the same OLD wins.
            let mut pairs: Vec<(String, String)> = Vec::new();
            for p in self.replace_needed.chunks_exact(2) {
                pairs.retain(|(old, _)| *old != p[0]);
                pairs.push((p[0].clone(), p[1].clone()));
            }
            edits.push(Edit::ReplaceNeeded(pairs));
        }
        if !self.add_needed.is_empty() {
            let mut libs = self.add_needed.clone();
            libs.sort();
            libs.dedup();
            edits.push(Edit::AddNeeded(libs));
        }
        if self.no_default_lib {
            edits.push(Edit::NoDefaultLib);
        }
        if self.add_debug_tag {
            edits.push(Edit::AddDebugTag);
        }
        if let Some(abi) = self.set_os_abi {
            edits.push(Edit::SetOsAbi(abi));
        }
        if self.set_execstack {
            edits.push(Edit::SetExecstack(true));
        }
        if !self.clear_symbol_version.is_empty() {
            edits.push(Edit::ClearSymbolVersion(self.clear_symbol_version.clone()));
        }
        if self.clear_execstack {
            edits.push(Edit::SetExecstack(false));
        }
        if !renames.is_empty() {
            edits.push(Edit::RenameDynamicSymbols(renames.to_vec()));
        }
        // Only beside an edit: alone it changes nothing.
        if let Some(size) = self.page_size.filter(|_| !edits.is_empty()) {
            edits.push(Edit::PageSize(size));
        }
        edits
    }

    /// Whether to say what is edited (`--debug`, or `PATCHELF_DEBUG` set, as patchelf).
    fn debug(&self) -> bool {
        self.debug || std::env::var_os("PATCHELF_DEBUG").is_some()
    }
}

/// The largest `--page-size`: patchelf refuses 512 MiB and more as implausible, and a
/// segment so aligned no longer maps.
const MAX_PAGE_SIZE: u64 = 256 << 20;

/// `--page-size`: a power of two up to [`MAX_PAGE_SIZE`], as a page size is (patchelf
/// takes any positive number below 512 MiB).
fn page_size(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| n.is_power_of_two() && *n <= MAX_PAGE_SIZE)
        .ok_or_else(|| {
            format!("{s:?} is not a page size: give a power of two up to 256 MiB, such as 4096 or 65536")
        })
}

pub fn run(args: &Args, _ctx: &Context) -> Result<ExitCode, Failure> {
    if args.output.is_some() && args.files.len() > 1 {
        return Err(
            Failure::new("--output takes one input file, but several were given").hint(
                "run truewheel patchelf once per file, or edit them in place without --output",
            ),
        );
    }
    let renames = symbol_map(&args.rename_dynamic_symbols)?;
    for path in &args.files {
        patch_one(args, path, &renames)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The pairs of `--rename-dynamic-symbols`' map files, read as patchelf reads them: two
/// names a line, separated by white space (more are ignored); a blank line ends the map;
/// a name given twice, a line with one name, or a name with a version (`@`) is refused.
fn symbol_map(files: &[PathBuf]) -> Result<Vec<(String, String)>, Failure> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for file in files {
        let text = fs::read(file).map_err(|e| Failure::io("read", file, &e))?;
        let text = String::from_utf8(text).map_err(|_| {
            Failure::new(format!(
                "cannot read {}: it is not UTF-8 text",
                file.display()
            ))
            .hint("give a file of `OLD NEW` symbol names, one pair a line")
        })?;
        let bad = |line: usize, what: String| {
            Failure::new(format!("{}:{line}: {what}", file.display()))
                .hint("give a file of `OLD NEW` symbol names, one pair a line")
        };
        for (line, text) in (1..).zip(text.lines()) {
            let mut words = text.split_whitespace();
            let Some(old) = words.next() else { break };
            let Some(new) = words.next() else {
                return Err(bad(line, "the line has one name, not two".into()));
            };
            if !seen.insert(old.to_owned()) {
                return Err(bad(line, format!("the name {old:?} is given twice")));
            }
            if old.contains('@') || new.contains('@') {
                return Err(bad(
                    line,
                    format!("{old} {new}: a name has a version (@); give names without one"),
                ));
            }
            pairs.push((old.to_owned(), new.to_owned()));
        }
    }
    Ok(pairs)
}

fn patch_one(args: &Args, path: &Path, renames: &[(String, String)]) -> Result<(), Failure> {
    let mut file = crate::io::open_regular(path).map_err(|e| Failure::io("open", path, &e))?;
    // The ELF header is read first: a file that is not ELF is refused from it (all of a
    // 5 GB archive given by mistake was read first), as patchelf refuses it even with
    // nothing asked.
    let mut bytes = Vec::new();
    (&mut file)
        .take(64)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::io("read", path, &e))?;
    // A refusal is said as the step that would have failed on it: printing, else editing.
    let step = if args.print_interpreter
        || args.print_os_abi
        || args.print_execstack
        || args.print_soname
        || args.print_rpath
        || args.print_needed
        || args.shrink_rpath
    {
        "read"
    } else {
        "edit"
    };
    if let Err(e) = patch::machine(&bytes) {
        if !bytes.starts_with(b"\x7fELF") {
            return Err(failure(step, path, &e));
        }
    }
    file.read_to_end(&mut bytes)
        .map_err(|e| Failure::io("read", path, &e))?;
    // An object file or a core dump is refused whatever is asked, as patchelf refuses it
    // (`--print-soname` printed nothing for it, and `--set-soname` did nothing).
    patch::linked(&bytes).map_err(|e| failure(step, path, &e))?;
    let shrunk = if args.shrink_rpath {
        shrunk_rpath(&bytes, args.allowed_rpath_prefixes.as_deref())
            .map_err(|e| failure("read", path, &e))?
    } else {
        None
    };
    let edits = &args.edits(shrunk, renames);
    if args.print_interpreter {
        let read = |e: PatchError| failure("read", path, &e);
        let interp = patch::interpreter(&bytes)
            .map_err(read)?
            .ok_or_else(|| read(PatchError::NoInterpreter))?;
        writeln!(std::io::stdout().lock(), "{interp}")
            .map_err(|e| Failure::io("write to", Path::new("stdout"), &e))?;
    }
    if args.print_os_abi {
        let abi = patch::os_abi(&bytes).map_err(|e| failure("read", path, &e))?;
        writeln!(std::io::stdout().lock(), "{abi}")
            .map_err(|e| Failure::io("write to", Path::new("stdout"), &e))?;
    }
    if args.print_soname || args.print_rpath || args.print_needed || args.print_execstack {
        let read = |e: PatchError| failure("read", path, &e);
        // As patchelf: a soname is printed only for a shared object, and for any other
        // file (a static executable too) `--print-soname` alone prints nothing.
        let soname = args.print_soname && patch::is_shared_object(&bytes).map_err(read)?;
        let names = if soname || args.print_rpath || args.print_needed {
            patch::names(&bytes).map_err(read)?
        } else {
            patch::Names::default()
        };
        let mut out = std::io::stdout().lock();
        let mut lines = Vec::new();
        if soname {
            lines.extend(names.soname.clone());
        }
        if args.print_rpath {
            lines.push(names.search_path().unwrap_or_default().to_owned());
        }
        if args.print_execstack {
            let mark = match patch::execstack(&bytes).map_err(read)? {
                Some(true) => "X",
                Some(false) => "-",
                None => "?",
            };
            lines.push(format!("execstack: {mark}"));
        }
        if args.print_needed {
            lines.extend(names.needed.iter().cloned());
        }
        for l in lines {
            writeln!(out, "{l}").map_err(|e| Failure::io("write to", Path::new("stdout"), &e))?;
        }
    }
    if edits.is_empty() && args.output.is_none() {
        return Ok(());
    }
    if args.debug() {
        eprintln!("patching ELF file '{}'", path.display());
    }
    let changes =
        patch::apply_in_place(&mut bytes, edits).map_err(|e| failure("edit", path, &e))?;
    if args.debug() {
        debug_changes(changes.as_ref(), bytes.len() as u64);
    }
    let new = Output {
        source: &mut file,
        bytes: &bytes,
        changes: changes.as_ref(),
    };
    match &args.output {
        Some(out) => {
            // Like patchelf, an output that is a symlink is written through.
            let target = crate::io::follow_links(out).unwrap_or_else(|| out.clone());
            // A new file gets patchelf's 0777 less the umask.
            let keep = Keep::of(&target)?.unwrap_or(Keep {
                mode: 0o777 & !crate::io::umask(),
                owner: None,
            });
            replace(&target, new, &keep)
        }
        None if changes.is_some() => {
            // Like patchelf, write through a symlink to the file it names.
            let target = fs::canonicalize(path).map_err(|e| Failure::io("resolve", path, &e))?;
            // As patchelf, which opens the file for writing: a file this user may not
            // write is not edited (it was replaced, the folder being writable). (A
            // program running from it, which patchelf cannot open, is replaced.)
            if let Err(e) = fs::OpenOptions::new().write(true).open(&target) {
                if e.kind() == std::io::ErrorKind::PermissionDenied {
                    return Err(Failure::io("write", &target, &e));
                }
            }
            let keep = Keep::of(&target)?.ok_or_else(|| {
                Failure::io("write", &target, &std::io::ErrorKind::NotFound.into())
            })?;
            replace(&target, new, &keep)
        }
        None => Ok(()),
    }
}

/// `--debug`: the byte ranges an edit rewrote and what it appended, on stderr.
fn debug_changes(changes: Option<&Changes>, len: u64) {
    let Some(c) = changes else {
        eprintln!("nothing to change");
        return;
    };
    for r in c.ranges() {
        eprintln!("rewrote bytes {:#x}..{:#x}", r.start, r.end);
    }
    if len > c.old_len {
        eprintln!("appended {} bytes at {:#x}", len - c.old_len, c.old_len);
    }
}

/// What an output keeps of the file it replaces, as patchelf, which writes into that
/// file, keeps it: its mode, and its owner (given back when this process may, as root).
struct Keep {
    mode: u32,
    owner: Option<(u32, u32)>,
}

impl Keep {
    /// What `target` has, or `None` when there is no file; a device, a FIFO or a folder
    /// is refused by name (renamed over, it was replaced: `--output /dev/null`).
    fn of(target: &Path) -> Result<Option<Self>, Failure> {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        match fs::metadata(target) {
            Ok(m) if m.is_file() => Ok(Some(Self {
                mode: m.permissions().mode() & 0o7777,
                owner: Some((m.uid(), m.gid())),
            })),
            Ok(m) => Err(Failure::new(format!(
                "cannot write {}: it is {}, not a regular file",
                target.display(),
                crate::io::file_kind(&m)
            ))
            .hint("give --output the path of a file")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Failure::io("write", target, &e)),
        }
    }
}

/// What `--shrink-rpath` keeps of the file's search path (`None` when it has none): the
/// host looks in each absolute entry for the needed libraries, as patchelf does.
fn shrunk_rpath(bytes: &[u8], allowed: Option<&str>) -> Result<Option<String>, PatchError> {
    let names = patch::names(bytes)?;
    let Some(rpath) = names.search_path() else {
        return Ok(None);
    };
    let machine = patch::machine(bytes)?;
    let allowed: Vec<&str> = allowed
        .map(|a| a.split(':').filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let mut holds = |dir: &str, lib: &str| {
        let mut head = Vec::with_capacity(64);
        fs::File::open(Path::new(dir).join(lib))
            .and_then(|f| f.take(64).read_to_end(&mut head))
            .is_ok_and(|_| patch::machine(&head) == Ok(machine))
    };
    Ok(Some(patch::shrink_rpath(
        rpath,
        &names.needed,
        &allowed,
        &mut holds,
    )))
}

/// `error: cannot edit FILE: why`, with a hint by kind of problem.
fn failure(verb: &str, path: &Path, e: &PatchError) -> Failure {
    use truewheel_core::elf::ElfError;
    let hint = match e {
        PatchError::Read(
            ElfError::NotElf | ElfError::UnknownClass(_) | ElfError::UnknownByteOrder(_),
        ) => "patchelf edits ELF shared objects and executables; check the path",
        PatchError::Read(_) | PatchError::SectionsOutside => {
            "the file is damaged or cut short; build or fetch it again"
        }
        PatchError::NoDynamic => {
            "only a dynamically linked file has libraries and search paths to edit"
        }
        PatchError::NoInterpreter => "only a dynamically linked program has an interpreter",
        PatchError::NotLinked(_) => "give the shared library or program linked from it",
        PatchError::NoStackSegment => {
            "relink it with `-z noexecstack` (or `-z execstack`), which writes PT_GNU_STACK"
        }
        PatchError::NulInName(_) => "names cannot contain NUL bytes",
        PatchError::CannotReorder(_) => "rename the symbols when the file is linked (a version script, or objcopy --redefine-sym before linking)",
        PatchError::Verify(_)
        | PatchError::NoLoad
        | PatchError::NoStringTable
        | PatchError::NoRoom(_)
        | PatchError::TooManySegments => {
            "the file was left as it was; please report this with the file"
        }
    };
    Failure::new(format!("cannot {verb} {}: {e}", path.display())).hint(hint)
}

/// A patched file to write: the open input, the new bytes, and what changed.
struct Output<'a> {
    source: &'a mut fs::File,
    bytes: &'a [u8],
    changes: Option<&'a Changes>,
}

impl Output<'_> {
    /// Writes the new bytes to `to`. An edit rewrites a few hundred bytes and appends a
    /// few kilobytes, so the input is copied file to file (`copy_file_range`: no trip
    /// through this process), then only the changed ranges and the new tail are written.
    fn write_to(self, to: &mut fs::File) -> std::io::Result<()> {
        let old_len = self.changes.map_or(self.bytes.len() as u64, |c| c.old_len);
        self.source.seek(SeekFrom::Start(0))?;
        let copied = std::io::copy(&mut self.source.take(old_len), to)?;
        if copied != old_len {
            // The input changed size under us: write everything from memory.
            to.set_len(0)?;
            to.seek(SeekFrom::Start(0))?;
            return to.write_all(self.bytes);
        }
        let Some(changes) = self.changes else {
            return Ok(());
        };
        let tail = changes.old_len..self.bytes.len() as u64;
        for r in changes.ranges().chain(std::iter::once(tail)) {
            to.seek(SeekFrom::Start(r.start))?;
            to.write_all(&self.bytes[r.start as usize..r.end as usize])?;
        }
        Ok(())
    }
}

/// Writes the output to `target` atomically: a temp file in the same directory, given
/// the owner and mode kept, synced, then renamed over `target`. On failure nothing named
/// `target` changes.
fn replace(target: &Path, output: Output<'_>, keep: &Keep) -> Result<(), Failure> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let (mut tmp, removed) =
        crate::interrupt::temp_file_in(dir).map_err(|e| Failure::io("write to", dir, &e))?;
    let io = |e: std::io::Error| Failure::io("write", target, &e);
    output.write_to(tmp.as_file_mut()).map_err(io)?;
    {
        use std::os::unix::fs::PermissionsExt;
        // The owner first (a change of owner clears the set-id bits), then the mode;
        // without the owner, no set-user or set-group bit: a set-uid file must not
        // come back owned by whoever ran the edit.
        let given = keep.owner.is_none_or(|(uid, gid)| {
            std::os::unix::fs::fchown(tmp.as_file(), Some(uid), Some(gid)).is_ok()
        });
        let mode = if given {
            keep.mode
        } else {
            keep.mode & !0o6000
        };
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))
            .map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(target).map_err(|e| io(e.error))?;
    drop(removed);
    Ok(())
}
