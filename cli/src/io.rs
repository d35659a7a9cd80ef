//! Host I/O: opening wheels from disk, verifying them on all cores, and writing outputs
//! atomically (a temp file in the target directory, renamed into place).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use truewheel_core::parallel::{Parallel, Task};
use truewheel_core::source::FileSource;
use truewheel_core::wheel::record::{local_digest, Digest, HashAlgorithm, Hasher, RecordHash};
use truewheel_core::wheel::{
    more_problems, Archive, DistInfo, Limits, RecordIssue, Wheel, WheelError, WheelFilename,
    WriteOptions,
};

use crate::failure::Failure;

/// An opened wheel on disk.
pub type DiskWheel = Wheel<FileSource>;

/// Deflates new members' chunks on all cores (the bytes do not depend on it).
#[derive(Debug, Clone, Copy)]
pub struct RayonParallel;

impl Parallel for RayonParallel {
    fn run_all(&self, tasks: Vec<Task<'_>>) {
        tasks
            .into_par_iter()
            .with_max_len(1)
            .for_each(|task| task());
    }
}

/// Members at least this large are hashed on a thread of their own while the reading
/// thread inflates them: a wheel's largest library (jaxlib's is 295 MB) would otherwise
/// be inflated and hashed on one core while the others sit idle at the end.
const OFFLOAD_AT: u64 = 32 << 20;

/// Where a member is hashed: large ones on a thread of their own, the rest in place.
pub fn digest_for(alg: HashAlgorithm, size: u64) -> Box<dyn Digest> {
    digest_offloaded_from(OFFLOAD_AT, alg, size)
}

/// Where a member is hashed: from `at` bytes on, on a thread of its own; smaller ones
/// in place.
pub fn digest_offloaded_from(at: u64, alg: HashAlgorithm, size: u64) -> Box<dyn Digest> {
    if size < at {
        return local_digest(alg, size);
    }
    // A few chunks in flight bound the memory; the reader waits when hashing lags.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(16);
    let spawned = std::thread::Builder::new()
        .name("hash".into())
        .spawn(move || {
            let mut h = Hasher::new(alg);
            for chunk in rx {
                h.update(&chunk);
            }
            h.finish()
        });
    match spawned {
        Ok(handle) => Box::new(Offloaded { tx, handle }),
        Err(_) => local_digest(alg, size),
    }
}

/// A [`Digest`] running on its own thread.
struct Offloaded {
    tx: std::sync::mpsc::SyncSender<Vec<u8>>,
    handle: std::thread::JoinHandle<RecordHash>,
}

impl Digest for Offloaded {
    fn update(&mut self, data: &[u8]) {
        // The thread lives until `tx` is dropped, so the send cannot fail.
        let _ = self.tx.send(data.to_vec());
    }
    fn finish(self: Box<Self>) -> RecordHash {
        let Self { tx, handle } = *self;
        drop(tx);
        handle.join().expect("the hashing thread does not panic")
    }
}

/// Opens a wheel file, refusing one that declares more than `limits` allow.
pub fn open_wheel(path: &Path, limits: &Limits) -> Result<DiskWheel, Failure> {
    let (name, source) = open_source(path)?;
    Ok(Wheel::open_with_limits(name, source, *limits)?)
}

/// Where `path` leads through the symbolic links of its last component, as the kernel
/// follows them (a relative target from the link's folder); `None` past 40 links (ELOOP).
/// A path that is no link (or does not exist) is itself.
pub fn follow_links(path: &Path) -> Option<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(to) => p = p.parent().map_or_else(|| to.clone(), |dir| dir.join(&to)),
            Err(_) => return Some(p),
        }
    }
    None
}

/// Opens a file to read, refusing what is not a regular file: opening a named pipe
/// waits for a writer (a run hung on one), and a directory or a device reads as an
/// empty or damaged file. Opened without waiting, then checked, so the path cannot
/// change between the check and the open.
pub fn open_regular(path: impl AsRef<Path>) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(
            i32::try_from(rustix::fs::OFlags::NONBLOCK.bits()).expect("O_NONBLOCK fits an int"),
        )
        .open(path.as_ref())
        .map_err(|e| {
            // A socket cannot be opened at all (ENXIO, "no such device or address"):
            // say what it is instead.
            match std::fs::metadata(path.as_ref()) {
                Ok(meta) if !meta.is_file() && !meta.is_dir() => not_regular(&meta),
                _ => e,
            }
        })?;
    let meta = file.metadata()?;
    if meta.is_file() {
        return Ok(file);
    }
    Err(not_regular(&meta))
}

/// The error for a file that is not a regular one, saying what it is.
fn not_regular(meta: &std::fs::Metadata) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("it is {}, not a regular file", file_kind(meta)),
    )
}

/// What a file that is not a regular one is: `a directory`, `a named pipe`, …
pub fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_file() {
        "a regular file"
    } else {
        "something else"
    }
}

/// Whether an error reading a file of the host only means the loader would pass the file
/// over: not there, not this user's to read, or not a regular file ([`open_regular`]'s
/// refusal). Any other error (too many open files, an I/O error) is the host failing.
pub fn passed_over(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::NotFound | ErrorKind::PermissionDenied | ErrorKind::InvalidInput
    )
}

/// The bytes of a regular file ([`open_regular`]).
pub fn read_regular(path: impl AsRef<Path>) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = open_regular(path)?;
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(usize::try_from(file.metadata()?.len()).unwrap_or(0))?;
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A wheel file's name and bytes.
fn open_source(path: &Path) -> Result<(&str, FileSource), Failure> {
    let file = open_regular(path).map_err(|e| Failure::io("open", path, &e))?;
    let source = FileSource::new(file).map_err(|e| Failure::io("read", path, &e))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Failure::new(format!("{} has no usable file name", path.display())))?;
    Ok((name, source))
}

/// [`open_wheel`], running `scan` over the indexed archive while another thread reads
/// the `.dist-info` files (torch's RECORD, 12,000 rows, takes 10 ms that the scan's
/// threads would otherwise wait for). `scan` is given the wheel's file name, for
/// messages. An error in the `.dist-info` files is reported before one of `scan`'s,
/// as when the wheel is opened first.
pub fn open_scanning<T: Send>(
    path: &Path,
    limits: &Limits,
    scan: impl FnOnce(&Archive<FileSource>, &str) -> Result<T, Failure> + Send,
) -> Result<(DiskWheel, T), Failure> {
    let (name, source) = open_source(path)?;
    let filename: WheelFilename = name.parse().map_err(WheelError::from)?;
    let archive = Wheel::index(name, source, *limits)?;
    let (dist, scanned) = rayon::join(
        || DistInfo::read(name, filename, &archive),
        || scan(&archive, name),
    );
    let wheel = Wheel::assemble(dist?, archive);
    Ok((wheel, scanned?))
}

/// Verifies RECORD, hashing members on all cores. Returns the issues and how many
/// members were hashed.
pub fn verify(wheel: &DiskWheel) -> Result<(Vec<RecordIssue>, usize), Failure> {
    let mut issues = wheel.listing_issues();
    let mut members = wheel.hashed_members();
    let hashed = members.len();
    // Largest first, one task each, so the longest inflation never starts last.
    members.sort_by_key(|(m, _)| std::cmp::Reverse(m.compressed_size));
    let found: Vec<Result<Option<RecordIssue>, _>> = members
        .par_iter()
        .with_max_len(1)
        .map(|(m, e)| wheel.verify_member_with(m, e, &digest_for))
        .collect();
    for r in found {
        match r {
            Ok(Some(issue)) => issues.push(issue),
            Ok(None) => {}
            Err(e) => {
                return Err(Failure::new(format!("{}: {e}", wheel.file_name()))
                    .hint("the wheel is damaged; fetch or build it again"))
            }
        }
    }
    wheel.sort_issues(&mut issues);
    Ok((issues, hashed))
}

/// Fails on the first RECORD issue, with the hint the design gives.
pub fn require_valid_record(wheel: &DiskWheel) -> Result<(), Failure> {
    let (issues, _) = verify(wheel)?;
    record_failure(wheel, &issues)
}

/// The failure for RECORD issues found, if any.
pub fn record_failure(wheel: &DiskWheel, issues: &[RecordIssue]) -> Result<(), Failure> {
    if let Some(first) = issues.first() {
        let more = more_problems(issues.len() - 1);
        return Err(
            Failure::new(format!("{first} in {}{more}", wheel.file_name())).hint(format!(
                "{} (`truewheel inspect` shows every problem)",
                first.hint()
            )),
        );
    }
    Ok(())
}

/// Frees `value` on a worker thread of the current pool while the caller goes on: a
/// torch wheel's index and ELF tables are some hundred thousand allocations, a few
/// milliseconds of freeing that would otherwise end the run on one thread. What is still
/// being freed when the process ends is given back by the exit.
pub fn discard<T: Send + 'static>(value: T) {
    rayon::spawn(move || drop(value));
}

/// A field of `/proc/self/status` (`Umask`, `SigIgn`), where Linux tells what a process
/// could otherwise learn only by changing it.
pub fn proc_status(field: &str) -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| {
        l.strip_prefix(field)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(|v| v.trim().to_owned())
    })
}

/// The process's umask (reading it otherwise means setting it); 022 where it cannot be
/// read.
pub fn umask() -> u32 {
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        proc_status("Umask")
            .and_then(|m| u32::from_str_radix(&m, 8).ok())
            .unwrap_or(0o022)
    })
}

/// Writes `text` to stdout. A reader gone away (`| head`) ends the process quietly, with
/// the status a shell gives a program a broken pipe ends (141); another failure (a full
/// disk) is one error sentence, exit 2. (`print!` panicked on both.)
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        Failure::io("write to", Path::new("stdout"), &e).print();
        std::process::exit(2);
    }
}

/// The results of several wheels split into what came out and what failed, each in
/// argument order.
pub fn partition<T>(results: Vec<Result<T, Failure>>) -> (Vec<T>, Vec<Failure>) {
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(v) => done.push(v),
            Err(e) => failed.push(e),
        }
    }
    (done, failed)
}

/// Prints reports as JSON on stdout: one object for one wheel asked, an array for several.
pub fn print_json<T: serde::Serialize>(reports: &[T], several: bool) {
    // The shape follows what was asked, not what came out: an array for several wheels
    // even when only one of them could be read.
    let text = match reports {
        // One wheel asked for and not read: its error says so, with nothing on stdout.
        [] if !several => return,
        [one] if !several => serde_json::to_string_pretty(one),
        all => serde_json::to_string_pretty(all),
    };
    out(&format!("{}\n", text.expect("reports serialize")));
}

/// Whether two paths name one file (its device and inode).
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(a)
        .ok()
        .zip(std::fs::metadata(b).ok())
        .is_some_and(|(a, b)| (a.dev(), a.ino()) == (b.dev(), b.ino()))
}

/// Worker threads for `-j N`: at most four a core, more only wait on each other (10,000
/// threads took minutes to start and stop); 0 or none, one a core (rayon's choice).
pub fn threads(jobs: Option<usize>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    jobs.map_or(0, |n| n.min(cores * 4))
}

/// Write options from the environment: `SOURCE_DATE_EPOCH` fixes every timestamp.
pub fn write_options() -> Result<WriteOptions, Failure> {
    let mut options = WriteOptions::default();
    // (Set but empty, it is unset, as auditwheel and reproducible-builds.org read it.)
    if let Some(v) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        let secs: u64 = v.trim().parse().map_err(|_| {
            Failure::new(format!("SOURCE_DATE_EPOCH={v} is not a number of seconds"))
                .hint("set it to a Unix time, e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)")
        })?;
        options.timestamp = Some(truewheel_core::wheel::writer::dos_datetime(secs));
    }
    Ok(options)
}

/// Makes the output directory (like auditwheel's `-w`).
pub fn ensure_dir(dir: &Path) -> Result<(), Failure> {
    if std::fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(Failure::new(format!(
            "cannot write into {}: it is a file, not a directory",
            dir.display()
        ))
        .hint("give -w a directory (it is made if missing)"));
    }
    std::fs::create_dir_all(dir).map_err(|e| Failure::io("create the output directory", dir, &e))
}

/// Writes `dir/name` atomically: `write` fills a temp file in `dir`, which is then renamed.
/// On any failure the temp file is removed and nothing with the final name appears.
pub fn write_atomic(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut BufWriter<Writeback<'_>>) -> std::io::Result<()>,
) -> Result<PathBuf, Failure> {
    write_unsynced(dir, name, write)?.persist()
}

/// An output written to its temp file, not yet made durable nor renamed into place:
/// [`persist`](Self::persist) does both. Dropped, the temp file is removed.
#[derive(Debug)]
pub struct Unsynced {
    tmp: tempfile::NamedTempFile,
    dir: PathBuf,
    target: PathBuf,
    /// Removes the temp file if the process is interrupted first.
    removed: crate::interrupt::Removed,
}

/// The first half of [`write_atomic`]: fills a temp file in `dir`. Syncing a file waits
/// for the disk (milliseconds, more on a busy machine), so a caller with more work to do
/// can [`persist`](Unsynced::persist) it on another thread meanwhile.
pub fn write_unsynced(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut BufWriter<Writeback<'_>>) -> std::io::Result<()>,
) -> Result<Unsynced, Failure> {
    let target = dir.join(name);
    let (tmp, removed) =
        crate::interrupt::temp_file_in(dir).map_err(|e| Failure::io("write to", dir, &e))?;
    {
        // Small enough not to be paged in for a small wheel (its large members are
        // written past it), large enough that small members go out in few writes.
        let mut w = BufWriter::with_capacity(128 << 10, Writeback::new(tmp.as_file()));
        write(&mut w)
            .and_then(|()| w.flush())
            .map_err(|e| Failure::io("write", &target, &e))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tempfile creates 0600; a wheel is an ordinary file, made as the umask says
        // (as auditwheel's are: 0644 under 022, 0600 under 077).
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o666 & !umask()))
            .map_err(|e| Failure::io("write", &target, &e))?;
    }
    Ok(Unsynced {
        tmp,
        dir: dir.to_owned(),
        target,
        removed,
    })
}

impl Unsynced {
    /// Where the output goes.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Syncs the file, renames it into place, and syncs the directory.
    pub fn persist(self) -> Result<PathBuf, Failure> {
        let Self {
            tmp,
            dir,
            target,
            removed,
        } = self;
        tmp.as_file()
            .sync_all()
            .map_err(|e| Failure::io("write", &target, &e))?;
        tmp.persist(&target)
            .map_err(|e| Failure::io("write", &target, &e.error))?;
        drop(removed);
        // The rename is durable once the directory is: without this a power loss could
        // leave neither name. Not every file system can sync a directory; that is no error.
        #[cfg(unix)]
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(target)
    }
}

/// A file being written whose pages are handed to the disk as they fill, every
/// [`Writeback::EVERY`] bytes, without waiting: the sync that makes the output durable
/// then waits for the last pages only, where it waited for all of them (psycopg2's 6 MB
/// repaired wheel: the sync at the end of the run took 6 ms, now 1 ms; the repair's
/// median 144.9 to 138.7 ms). `sync_file_range` would say it directly, but has no safe
/// binding in the crates we use; `posix_fadvise(DONTNEED)` starts the same writeback.
#[derive(Debug)]
pub struct Writeback<'a> {
    file: &'a File,
    /// Bytes written, and the first not yet handed to the disk.
    written: u64,
    handed: u64,
}

impl<'a> Writeback<'a> {
    /// Bytes between hand-offs.
    const EVERY: u64 = 1 << 20;

    fn new(file: &'a File) -> Self {
        Self {
            file,
            written: 0,
            handed: 0,
        }
    }
}

impl Write for Writeback<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.handed >= Self::EVERY {
            // Linux starts writing back the range's dirty pages on this advice, and
            // drops from the cache only its clean pages (none: they were just written).
            // Elsewhere, or failing, it is only advice.
            #[cfg(target_os = "linux")]
            {
                let len = std::num::NonZeroU64::new(self.written - self.handed);
                let _ =
                    rustix::fs::fadvise(self.file, self.handed, len, rustix::fs::Advice::DontNeed);
            }
            self.handed = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
