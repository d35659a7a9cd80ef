//! Auditing a wheel: read every ELF member (streaming, stopping as soon as the dynamic
//! tables are read), resolve what each needs, and evaluate the manylinux/musllinux
//! policies as auditwheel does. Member scanning is per member so a caller can spread it
//! over threads ([`scan_member`]); [`audit_scanned`] does the rest as `auditwheel show`
//! does it, and [`audit_wheel_sequential`] is the whole sequence on one thread (the WASM
//! build's, which has no threads), so every caller gives the same report.

pub mod facts;
pub mod findings;
pub mod report;
pub mod resolve;
mod seeking;

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use crate::elf::{self, ElfInfo, ElfScanner, Options, Outcome, Scan};
use crate::parallel::{Parallel, Sequential};
use crate::policy::analyze::{analyze, AnalyzeError, WheelElf};
use crate::policy::input::ElfFacts;
use crate::policy::options::{AnalyzeOptions, HostLibc};
use crate::policy::tree::DependencyTree;
use crate::policy::{Libc, MuslPolicies};
use crate::source::ReadAt;
use crate::wheel::record::{DigestFor, RecordEntry, RecordHash};
use crate::wheel::splice::Walked;
use crate::wheel::{Archive, ArchiveError, Limits, Member, RecordIssue, Wheel};

pub use report::{AuditError, AuditReport};
pub use resolve::{HostFiles, NoHost, SearchPaths, WheelResolver, WHEEL_ROOT};

/// What scanning one member found, and how much of it had to be inflated.
#[derive(Debug, Clone, Default)]
pub struct Scanned {
    /// The ELF facts, or `None` when the member is not an ELF file.
    pub info: Option<ElfInfo>,
    /// Bytes inflated in all, over every pass.
    pub inflated: u64,
    /// The furthest byte any pass reached from the member's start: what one perfect
    /// pass would inflate from there.
    pub reach: u64,
    /// The parts decoded from later deflate blocks (see [`crate::wheel::seek`]).
    pub spans: Vec<crate::wheel::seek::Span>,
}

/// Counts what a reader hands out.
struct Counted<R> {
    inner: R,
    count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// What the audit reads of an ELF member: every import (versions, blacklist, PyFPE,
/// UCS2) and, of the exports, only module init functions (to tell Python extensions),
/// so that several large libraries can be held at once (torch's libtorch_cpu.so exports
/// ~10^5 symbols). Tables are held up to the archive's `max_table` limit.
pub fn scan_options(limits: &Limits) -> Options {
    Options {
        defined_prefixes: Some(&["PyInit_", "init", "_cffi_pypyinit_"]),
        window: 4 << 20,
        max_table: limits.max_table,
        ..Options::default()
    }
}

/// The audit's error for an ELF member the reader refused.
fn elf_error(member: &str, e: crate::elf::ElfError) -> AuditError {
    match e {
        crate::elf::ElfError::TooLarge { .. } => AuditError::TooLarge {
            member: member.to_owned(),
            reason: e.to_string(),
        },
        e => AuditError::Elf {
            member: member.to_owned(),
            reason: e.to_string(),
        },
    }
}

/// Reads the ELF facts of one member, or `None` if it is not an ELF file. The member is
/// inflated as a stream and only until the dynamic tables are read; a library whose
/// tables were moved to its end (by patchelf) is read in a second pass over only the
/// ranges still missing. Memory stays bounded by the scanner's window, whatever the size.
pub fn scan_member<S: ReadAt>(wheel: &Wheel<S>, m: &Member) -> Result<Option<ElfInfo>, AuditError> {
    scan_member_counted(&wheel.archive, m, &Sequential).map(|s| s.info)
}

/// [`scan_member`] of an archive not yet made a [`Wheel`] (its `.dist-info` files can be
/// read meanwhile), spreading the walk of a large member's end over `par`.
pub fn scan_member_with<S: ReadAt>(
    archive: &Archive<S>,
    m: &Member,
    par: &dyn Parallel,
) -> Result<Option<ElfInfo>, AuditError> {
    scan_member_counted(archive, m, par).map(|s| s.info)
}

/// Whether a member may be an ELF file to audit: one that can hold an ELF header and
/// is not named `*.py`, which auditwheel's `elf_file_filter` never opens (so an ELF
/// file under that name is not audited by either).
fn may_be_elf(m: &Member) -> bool {
    !m.is_dir() && m.size >= 52 && !m.name.ends_with(".py")
}

/// [`scan_member_with`], with how many bytes were inflated (for benchmarks and reports).
pub fn scan_member_counted<S: ReadAt>(
    archive: &Archive<S>,
    m: &Member,
    par: &dyn Parallel,
) -> Result<Scanned, AuditError> {
    if !may_be_elf(m) {
        return Ok(Scanned::default());
    }
    if !archive.starts_with(m, b"\x7fELF") {
        return Ok(Scanned {
            inflated: 4,
            reach: 4,
            ..Scanned::default()
        });
    }
    let opts = scan_options(archive.limits());
    if let Some(scanned) = seeking::scan_seeking(archive, m, &opts, par) {
        return Ok(scanned);
    }
    let passes: std::rc::Rc<std::cell::RefCell<Vec<std::rc::Rc<std::cell::Cell<u64>>>>> =
        std::rc::Rc::default();
    let open = || {
        let count = std::rc::Rc::new(std::cell::Cell::new(0));
        passes.borrow_mut().push(count.clone());
        Ok(Counted {
            inner: archive.reader(m),
            count,
        })
    };
    let info = elf::scan_reader(m.size, open, &opts, 256 * 1024).map_err(|e| match e {
        elf::StreamError::Elf(e) => elf_error(&m.name, e),
        e @ elf::StreamError::Io(_) => AuditError::Elf {
            member: m.name.clone(),
            reason: e.to_string(),
        },
    })?;
    let counts: Vec<u64> = passes.borrow().iter().map(|c| c.get()).collect();
    Ok(Scanned {
        info: Some(info),
        inflated: counts.iter().sum(),
        reach: counts.into_iter().max().unwrap_or(0),
        spans: Vec::new(),
    })
}

/// One pass over a member for both RECORD verification and the ELF scan, as `repair`
/// needs both: the member is inflated once, hashed to its end, and fed to the scanner
/// until it has what it needs. A library whose tables were dropped before the scanner
/// knew it needed them is read again by [`scan_member`].
pub fn verify_and_scan<S: ReadAt>(
    wheel: &Wheel<S>,
    m: &Member,
    entry: Option<&RecordEntry>,
    digest: &DigestFor<'_>,
) -> Result<(Option<RecordIssue>, Option<ElfInfo>), AuditError> {
    // (Not through `verify_scan_keep`: the WebAssembly build links only this path.)
    match entry.and_then(|e| e.hash.as_ref()) {
        Some(expected) => verify_streaming(wheel, m, expected, digest).map(|v| (v.issue, v.info)),
        None => Ok((None, scan_member(wheel, m)?)),
    }
}

/// What [`verify_scan_keep`] keeps of an ELF member besides its facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Nothing.
    Nothing,
    /// Its content.
    Content,
    /// Its content and, when it is deflated, its stream's blocks, for a splice of an
    /// edit to it: read in one decode ([`Archive::read_walked`]).
    ///
    /// [`Archive::read_walked`]: crate::wheel::Archive::read_walked
    Walked,
}

/// What [`verify_scan_keep`] found in a member.
#[derive(Debug)]
pub struct Verified {
    /// How the member disagrees with its RECORD row, if it does.
    pub issue: Option<RecordIssue>,
    /// Its ELF facts, when it is an ELF file.
    pub info: Option<ElfInfo>,
    /// Its whole content, when it is an ELF file that `keep` asked for.
    pub content: Option<Vec<u8>>,
    /// Its deflate stream's blocks, when `keep` asked for them too.
    pub walked: Option<Walked>,
}

/// [`verify_and_scan`], also keeping what `keep(m)` asks for of an ELF member: `repair`
/// edits ELF members, and inflating them once more to edit them was 5% of a small
/// repair's time.
pub fn verify_scan_keep<S: ReadAt>(
    wheel: &Wheel<S>,
    m: &Member,
    entry: Option<&RecordEntry>,
    digest: &DigestFor<'_>,
    keep: &dyn Fn(&Member) -> Keep,
) -> Result<Verified, AuditError> {
    let Some(expected) = entry.and_then(|e| e.hash.as_ref()) else {
        return Ok(Verified {
            issue: None,
            info: scan_member(wheel, m)?,
            content: None,
            walked: None,
        });
    };
    let keep = if may_be_elf(m) {
        keep(m)
    } else {
        Keep::Nothing
    };
    if keep != Keep::Nothing {
        let whole = |content: &[u8]| {
            let mut h = digest(expected.algorithm, m.size);
            h.update(content);
            h.finish()
        };
        let (content, walked, found) = if keep == Keep::Walked {
            // Hashed as it is inflated: on another core, when `digest` gives a hasher
            // of its own thread. Read otherwise, the hasher saw a part at most.
            let mut hasher = digest(expected.algorithm, m.size);
            let read = wheel
                .archive
                .read_walked_with(m, &mut |part| hasher.update(part));
            let (content, walked) = read.map_err(AuditError::Archive)?;
            let found = match walked {
                Some(_) => hasher.finish(),
                None => whole(&content),
            };
            (content, walked, found)
        } else {
            let content = wheel.archive.read(m).map_err(AuditError::Archive)?;
            let found = whole(&content);
            (content, None, found)
        };
        return verify_kept(
            m,
            expected,
            found,
            content,
            walked,
            &scan_options(wheel.archive.limits()),
        );
    }
    verify_streaming(wheel, m, expected, digest)
}

/// [`verify_scan_keep`] of a member kept whole by no one: inflated a buffer at a time,
/// each hashed and fed to the scanner until it has what it needs.
fn verify_streaming<S: ReadAt>(
    wheel: &Wheel<S>,
    m: &Member,
    expected: &RecordHash,
    digest: &DigestFor<'_>,
) -> Result<Verified, AuditError> {
    let mut hasher = digest(expected.algorithm, m.size);
    let mut reader = wheel.archive.reader(m);
    // No larger than the member needs (a zeroed 256 KB for each small file added up).
    let mut buf = vec![
        0u8;
        usize::try_from(m.size)
            .unwrap_or(usize::MAX)
            .clamp(4 << 10, 256 << 10)
    ];
    let mut scanner: Option<ElfScanner> = None;
    let mut first = true;
    let mut scanning = false;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| AuditError::Archive(ArchiveError::from_read(&m.name, &e)))?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        hasher.update(chunk);
        if first {
            first = false;
            if may_be_elf(m) && chunk.starts_with(b"\x7fELF") {
                scanner = Some(ElfScanner::with_options(
                    m.size,
                    scan_options(wheel.archive.limits()),
                ));
                scanning = true;
            }
        }
        if scanning {
            if let Some(s) = scanner.as_mut() {
                scanning = s.feed(chunk).map_err(|e| elf_error(&m.name, e))? == Scan::NeedMore;
            }
        }
    }
    let found = hasher.finish();
    let issue = (&found != expected).then(|| RecordIssue::HashMismatch {
        path: m.name.clone(),
        expected: expected.clone(),
        found,
    });
    let info = match scanner {
        None => None,
        Some(mut s) => match s.finish() {
            Ok(Outcome::Info(info)) => Some(*info),
            Ok(Outcome::Rescan(_)) => scan_member(wheel, m)?,
            Err(e) => return Err(elf_error(&m.name, e)),
        },
    };
    Ok(Verified {
        issue,
        info,
        content: None,
        walked: None,
    })
}

/// [`verify_scan_keep`] of a member to keep, inflated (`content`, with its stream's
/// blocks if they were asked for) and hashed (`found`): read whole there when it is
/// ELF. Feeding it to the scanner as well made the scanner hold a second copy of
/// everything up to the dynamic table.
fn verify_kept(
    m: &Member,
    expected: &RecordHash,
    found: RecordHash,
    content: Vec<u8>,
    walked: Option<Walked>,
    opts: &Options,
) -> Result<Verified, AuditError> {
    let issue = (&found != expected).then(|| RecordIssue::HashMismatch {
        path: m.name.clone(),
        expected: expected.clone(),
        found,
    });
    if !content.starts_with(b"\x7fELF") {
        return Ok(Verified {
            issue,
            info: None,
            content: None,
            walked: None,
        });
    }
    let info = match elf::parse_with(&content, opts) {
        Ok(info) => info,
        // The scanner's own word on a file it refuses, as for a member not kept.
        Err(_) => elf::scan_reader(content.len() as u64, || Ok(&content[..]), opts, 256 << 10)
            .map_err(|e| match e {
                elf::StreamError::Elf(e) => elf_error(&m.name, e),
                elf::StreamError::Io(e) => {
                    AuditError::Archive(ArchiveError::from_read(&m.name, &e))
                }
            })?,
    };
    Ok(Verified {
        issue,
        info: Some(info),
        content: Some(content),
        walked,
    })
}

/// Reads the ELF facts of every member, one after another, in archive order, calling
/// `progress(done, total)` after each member (for a progress bar; `total` is the number
/// of members). Non-ELF members are left out of the map.
pub fn scan_members<S: ReadAt>(
    wheel: &Wheel<S>,
    mut progress: impl FnMut(usize, usize),
) -> Result<HashMap<String, ElfInfo>, AuditError> {
    let members = wheel.archive.members();
    let mut elfs = HashMap::new();
    for (i, m) in members.iter().enumerate() {
        if let Some(info) = scan_member(wheel, m)? {
            elfs.insert(m.name.clone(), info);
        }
        progress(i + 1, members.len());
    }
    Ok(elfs)
}

/// The flags of `auditwheel show` that change what an audit finds.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShowFlags<'a> {
    /// Libraries to leave out (`--exclude`, fnmatch patterns): neither resolved nor judged.
    pub exclude: &'a [String],
    /// `--disable-isa-ext-check`: an x86-64 ISA level beyond the architecture's baseline
    /// is no reason to fail a policy.
    pub disable_isa_ext_check: bool,
    /// The machine auditwheel would run on (its C library and musl version).
    pub host: HostLibc,
    /// `truewheel audit`, not `show`: a wheel whose ELF files are all of another
    /// architecture or C library than its tags name, which auditwheel refuses ("no ELF
    /// file with a 'x86_64' architecture found"), is evaluated by its files, as a wheel
    /// tagged `any` is; its tags then fail, saying why ([`AuditReport::other_arch`],
    /// [`AuditReport::other_family`]).
    pub by_files: bool,
}

/// What `auditwheel show` does once the members are scanned: the policy options from the
/// wheel's platform tags ([`AnalyzeOptions::show`]) and `flags`, pure when no member is
/// an ELF file, then [`audit`]. A wheel tagged `any` that holds ELF files is judged as a
/// platform wheel, its architecture taken from them, as auditwheel judges it. A wheel
/// whose tags name no usable C library fails with [`AuditError::Tags`]; one the policies
/// cannot be evaluated on with [`AuditError::Analyze`] (auditwheel's own refusals).
pub fn audit_scanned<S: ReadAt, H: HostFiles>(
    wheel: &Wheel<S>,
    elfs: &HashMap<String, ElfInfo>,
    host: &mut H,
    flags: ShowFlags<'_>,
) -> Result<AuditReport, AuditError> {
    let (options, _) = AnalyzeOptions::show(&wheel.filename.tags.platform)?;
    let mut options = options.on(flags.host);
    options.disable_isa_ext_check = flags.disable_isa_ext_check;
    let pure = elfs.is_empty();
    match audit(wheel, elfs, host, &options, pure, flags.exclude) {
        Err(AuditError::Analyze(AnalyzeError::NotPlatformWheel { .. }))
            if flags.by_files && !pure =>
        {
            let by_files = AnalyzeOptions {
                disable_isa_ext_check: flags.disable_isa_ext_check,
                ..AnalyzeOptions::default().on(flags.host)
            };
            audit(wheel, elfs, host, &by_files, false, flags.exclude)
        }
        result => result,
    }
}

/// The whole audit of a wheel on one thread: [`scan_members`] then [`audit_scanned`].
/// With [`NoHost`] this is `truewheel audit --wheel-only`, byte for byte.
pub fn audit_wheel_sequential<S: ReadAt, H: HostFiles>(
    wheel: &Wheel<S>,
    host: &mut H,
    flags: ShowFlags<'_>,
    progress: impl FnMut(usize, usize),
) -> Result<AuditReport, AuditError> {
    let elfs = scan_members(wheel, progress)?;
    audit_scanned(wheel, &elfs, host, flags)
}

/// Audits a wheel from the facts of its ELF members (member path → facts, from
/// [`scan_member`]), resolving outside libraries through `host`.
pub fn audit<S: ReadAt, H: HostFiles>(
    wheel: &Wheel<S>,
    elfs: &HashMap<String, ElfInfo>,
    host: &mut H,
    options: &AnalyzeOptions,
    pure: bool,
    exclude: &[String],
) -> Result<AuditReport, AuditError> {
    let facts: HashMap<String, Arc<ElfFacts>> = elfs
        .iter()
        .map(|(k, v)| (k.clone(), Arc::new(facts::facts(v))))
        .collect();
    // RECORD order, as auditwheel walks the unpacked files: it decides which file sets
    // the architecture and the C library.
    let mut order: Vec<&str> = wheel
        .record
        .entries
        .iter()
        .map(|e| e.path.as_str())
        .filter(|p| facts.contains_key(*p))
        .collect();
    // Then those RECORD does not list, in archive order (looked for only when there are
    // any: torch has 12,000 members and 13 ELF files).
    if facts.keys().any(|k| !order.contains(&k.as_str())) {
        for m in wheel.archive.members() {
            if facts.contains_key(m.name.as_str()) && !order.contains(&m.name.as_str()) {
                order.push(&m.name);
            }
        }
    }
    let names = wheel.archive.members().iter().map(|m| m.name.as_str());
    let mut resolver = WheelResolver::new(&facts, names, host);
    if options.libc == Some(Libc::Android) {
        resolver = resolver.for_android();
    }
    let wheel_elfs: Vec<WheelElf> = order
        .iter()
        .map(|path| {
            let f = &facts[*path];
            WheelElf {
                path: (*path).to_owned(),
                tree: DependencyTree::build(path, f, &mut resolver, exclude),
                facts: f.clone(),
            }
        })
        .collect();
    if pure {
        return Ok(AuditReport::new(wheel, elfs, None, Vec::new()));
    }
    let abi = analyze(&wheel_elfs, options).map_err(AuditError::Analyze)?;
    // Tags this evaluation has no policy for are judged by one that has: auditwheel
    // evaluates a single musllinux policy (the host's musl, or the newest), so a
    // `musllinux_1_1` wheel is judged by all of them too; and files that link no C
    // library (static binaries, as uv's, often tagged for both families) by the other
    // family's policies, not failed for the host's C library.
    let mut unjudged: Vec<Libc> = Vec::new();
    if abi.libc == Libc::Musl {
        unjudged.push(Libc::Musl);
    }
    if abi.libc_assumed {
        match abi.libc {
            Libc::Glibc => unjudged.push(Libc::Musl),
            Libc::Musl => unjudged.push(Libc::Glibc),
            // (Only an Android wheel's tag makes the family Android: never assumed.)
            Libc::Android => {}
        }
    }
    unjudged.dedup();
    let also = unjudged
        .into_iter()
        .filter_map(|libc| {
            let options = AnalyzeOptions {
                libc: Some(libc),
                musl: MuslPolicies::All,
                ..options.clone()
            };
            analyze(&wheel_elfs, &options).ok()
        })
        .collect();
    Ok(AuditReport::new(wheel, elfs, Some(abi), also))
}

#[cfg(test)]
mod tests;
