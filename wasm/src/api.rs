//! The pure layer under the JavaScript API: bytes and strings in, JSON text and bytes
//! out, errors as [`Failure`] (one sentence + a hint, the CLI's words). No `JsValue`
//! here, so `cargo test` checks it natively; `lib.rs` only converts at the boundary.
//!
//! Every answer is the CLI's: `inspect` is `truewheel inspect --json`, `audit` is
//! `truewheel audit --json --wheel-only` (a browser has no host libraries, so the core's
//! [`NoHost`]), `retag` is `truewheel retag` — the same core functions, called one
//! member after another since wasm32 has no threads.

use serde::Serialize;
use std::collections::HashMap;
use truewheel_core::audit::{self, AuditError, AuditReport, NoHost};
use truewheel_core::inspect::{report, InspectReport};
use truewheel_core::wheel::record::{local_digest, DigestFor};
use truewheel_core::wheel::retag::{retag, TagEdits};

use truewheel_core::elf::ElfInfo;
use truewheel_core::wheel::record::RecordEntry;
use truewheel_core::wheel::{
    more_problems, ArchiveError, PlatformTag, RecordIssue, Wheel, WheelError, WriteOptions,
};

/// What went wrong, as a user reads it: the CLI's `error:` sentence and `hint:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// One sentence naming the wheel and the member.
    pub message: String,
    /// What to do, where it helps.
    pub hint: Option<String>,
    /// `input` for bad input (the CLI's exit 2); `refused` for a wheel the policies
    /// cannot be evaluated on (auditwheel's own refusals, also exit 2).
    pub kind: &'static str,
}

impl Failure {
    fn input(message: impl Into<String>, hint: Option<&str>) -> Self {
        Self {
            message: message.into(),
            hint: hint.map(str::to_owned),
            kind: "input",
        }
    }
}

/// An opened wheel held in memory.
pub type MemWheel = Wheel<Vec<u8>>;

/// The largest wheel a wasm32 module can hold: one buffer is at most `isize::MAX` bytes
/// there, 2 GiB less one.
const MOST: f64 = 2_147_483_647.0;

/// Zeroed room for a wheel of `len` bytes, or a readable error when the memory cannot
/// grow so far.
pub fn alloc(len: f64) -> Result<Vec<u8>, Failure> {
    let hint = Some("audit this wheel with the CLI: truewheel audit WHEEL");
    let mib = len / f64::from(1 << 20);
    if !(0.0..=MOST).contains(&len) {
        return Err(Failure::input(
            format!("the wheel is too large for WebAssembly ({mib:.0} MiB; a wasm32 module holds a wheel of less than 2 GiB)"),
            hint,
        ));
    }
    let len = len as usize;
    let mut data = Vec::new();
    data.try_reserve_exact(len).map_err(|_| {
        Failure::input(
            format!("could not get {mib:.0} MiB of WebAssembly memory to hold the wheel"),
            hint,
        )
    })?;
    data.resize(len, 0);
    Ok(data)
}

/// Copies `chunk` into `data` at `offset`.
pub fn fill(data: &mut [u8], offset: f64, chunk: &[u8]) -> Result<(), Failure> {
    let start = offset as usize;
    match data.get_mut(start..start.saturating_add(chunk.len())) {
        Some(dst) if offset >= 0.0 => {
            dst.copy_from_slice(chunk);
            Ok(())
        }
        _ => Err(Failure::input(
            format!(
                "{} bytes at offset {offset} do not fit in a buffer of {}",
                chunk.len(),
                data.len()
            ),
            None,
        )),
    }
}

/// Opens a wheel from its bytes and file name (the last path component).
pub fn open(bytes: Vec<u8>, file_name: &str) -> Result<MemWheel, Failure> {
    let file_name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    Wheel::open(file_name, bytes).map_err(|e| Failure::input(e.to_string(), e.hint()))
}

/// The refusal [`open`] gives a file of `size` bytes that starts with `head` and ends
/// with `tail` (its last 64 KiB and 22 bytes, where a zip's end record is) when that
/// much shows it is no wheel: a name that is no wheel's, or no zip end record. Then a
/// large file need not be read whole to be refused. `Ok` when it may be a wheel.
///
/// The two are opened as one short file: the end record is looked for in its last
/// 64 KiB and 22 bytes, which are `tail`, and its absence judged by its first bytes,
/// which are `head`, as in the whole file. (A reader of the whole file's offsets made
/// the module 17 KB larger: a second copy of the wheel reader.)
pub fn check_ends(head: Vec<u8>, tail: Vec<u8>, size: f64, file_name: &str) -> Result<(), Failure> {
    const END_SEARCH: usize = 22 + 65_535;
    if tail.len() != END_SEARCH
        || head.len() < 4
        || (size as u64) < (head.len() + tail.len()) as u64
    {
        return Ok(());
    }
    let file_name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match Wheel::open(file_name, [head, tail].concat()) {
        Err(
            e @ (WheelError::Filename(_)
            | WheelError::Archive {
                source: ArchiveError::NotZip(_),
                ..
            }),
        ) => Err(Failure::input(e.to_string(), e.hint())),
        _ => Ok(()),
    }
}

/// The inspect report, verifying RECORD one member after another with the hashers
/// `digest` makes (the module's own, [`local_digest`], or the host's); `progress(done,
/// total)` counts uncompressed bytes hashed. Issues come in archive order, as the CLI
/// sorts them after hashing in parallel.
pub fn inspect(
    wheel: &MemWheel,
    digest: &DigestFor<'_>,
    mut progress: impl FnMut(f64, f64),
) -> Result<InspectReport, Failure> {
    let mut issues = wheel.listing_issues();
    let members = wheel.hashed_members();
    let total: u64 = members.iter().map(|(m, _)| m.size).sum();
    let mut done = 0u64;
    for (m, e) in &members {
        // Progress within a member too: one of gigabytes takes seconds.
        let found = wheel
            .verify_member_watched(m, e, digest, &mut |n| {
                done += n as u64;
                progress(done as f64, total as f64);
            })
            .map_err(|e| damaged(wheel, &e))?;
        issues.extend(found);
    }
    progress(total as f64, total as f64);
    wheel.sort_issues(&mut issues);
    Ok(report(wheel, issues, members.len()))
}

/// Checks every member against RECORD, as `retag` and `repair` do before they write:
/// the CLI's sentence for the first problem (`RECORD hash mismatch for … in …`), or for
/// a member that cannot be inflated. `digest` makes the hashers, as for [`inspect()`].
pub fn verify(
    wheel: &MemWheel,
    digest: &DigestFor<'_>,
    progress: impl FnMut(f64, f64),
) -> Result<(), Failure> {
    let issues = inspect(wheel, digest, progress)?.record.issues;
    issues
        .first()
        .map_or(Ok(()), |first| Err(refusal(wheel, first, issues.len())))
}

/// The CLI's refusal of a wheel for RECORD problem `first`, one of `count`.
fn refusal(wheel: &MemWheel, first: &RecordIssue, count: usize) -> Failure {
    Failure::input(
        format!(
            "{first} in {}{}",
            wheel.file_name(),
            more_problems(count - 1)
        ),
        Some(&format!(
            "{} (`truewheel inspect` shows every problem)",
            first.hint()
        )),
    )
}

/// Options of [`audit()`], as JSON from JavaScript: `{"exclude": ["libfoo.so.*"]}`
/// (also `plat`, and `disable_isa_ext_check`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditOptions {
    /// Libraries to leave out (fnmatch patterns), as `--exclude`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// The policy to check the wheel against (default: its own platform tags), as `--plat`.
    #[serde(default)]
    pub plat: Option<String>,
    /// No x86-64 ISA level check, as `--disable-isa-ext-check`.
    #[serde(default)]
    pub disable_isa_ext_check: bool,
}

impl AuditOptions {
    /// Reads the options from JSON text (`""` or `null`: the defaults).
    pub fn parse(json: &str) -> Result<Self, Failure> {
        let json = json.trim();
        if json.is_empty() || json == "null" || json == "undefined" {
            return Ok(Self::default());
        }
        serde_json::from_str(json).map_err(|e| {
            Failure::input(
                format!("audit options are invalid: {e}"),
                Some(r#"options look like {"plat": "manylinux_2_17_x86_64", "exclude": ["libfoo.so.*"]}"#),
            )
        })
    }

    /// The policy asked for, checked: `None` when none is.
    pub fn plat(&self) -> Result<Option<PlatformTag>, Failure> {
        self.plat
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(|p| {
                truewheel_core::policy::audit_policy(p).map_err(|e| {
                    Failure::input(
                        e.to_string(),
                        Some("policies look like manylinux_2_17_x86_64, manylinux2014_x86_64, musllinux_1_2_aarch64, linux_x86_64"),
                    )
                })
            })
            .transpose()
    }
}

/// An audit and its verdict against the policy asked for.
#[derive(Debug, Clone)]
pub struct Audited {
    /// The report (`truewheel audit --json --wheel-only`).
    pub report: AuditReport,
    /// Whether the wheel meets the policy asked for (or its own platform tags).
    pub pass: bool,
    /// That policy, as text (`linux_x86_64`, or the tags joined with `.`).
    pub wanted: String,
    /// What explains the verdict besides the findings ([`AuditReport::notes`]), as the
    /// CLI prints it.
    pub notes: Vec<String>,
    /// Every tag asked for was judged by another evaluation
    /// ([`AuditReport::all_judged_apart`]): the notes say the verdict (the CLI prints no
    /// `fails` line of its own), the findings its cause.
    pub apart: bool,
}

/// Audits a wheel with no host libraries; `progress(done, total)` counts members scanned.
pub fn audit(
    wheel: &MemWheel,
    options: &AuditOptions,
    mut progress: impl FnMut(f64, f64),
) -> Result<Audited, Failure> {
    let plat = options.plat()?;
    let elfs = audit::scan_members(wheel, |d, t| progress(d as f64, t as f64))
        .map_err(|e| audit_failure(wheel, e))?;
    verdict(wheel, &elfs, options, plat)
}

/// [`verify`], then [`audit()`], inflating each member once: the audit's scan reads the
/// ELF members as they are hashed (the Action did both, and inflated the ELF parts
/// twice: 0.35 s of jaxlib's 1.9 s). The answers and their order are those of the two
/// calls: a damaged member first, then RECORD's problems, then a damaged library.
pub fn verify_and_audit(
    wheel: &MemWheel,
    digest: &DigestFor<'_>,
    options: &AuditOptions,
) -> Result<Audited, Failure> {
    let plat = options.plat()?;
    let hashed: HashMap<&str, &RecordEntry> = wheel
        .hashed_members()
        .into_iter()
        .map(|(m, e)| (m.name.as_str(), e))
        .collect();
    let mut issues = wheel.listing_issues();
    let mut elfs = HashMap::new();
    // A library the scanner cannot read is the audit's error, said after RECORD's.
    let mut unreadable = None;
    for m in wheel.archive.members().iter().filter(|m| !m.is_dir()) {
        let entry = hashed.get(m.name.as_str()).copied();
        match audit::verify_and_scan(wheel, m, entry, digest) {
            Ok((issue, info)) => {
                issues.extend(issue);
                if let Some(info) = info {
                    elfs.insert(m.name.clone(), info);
                }
            }
            Err(AuditError::Archive(e)) => return Err(damaged(wheel, &e)),
            Err(e) => {
                if let Some(entry) = entry {
                    let issue = wheel
                        .verify_member_with(m, entry, digest)
                        .map_err(|e| damaged(wheel, &e))?;
                    issues.extend(issue);
                }
                unreadable.get_or_insert(e);
            }
        }
    }
    wheel.sort_issues(&mut issues);
    if let Some(first) = issues.first() {
        return Err(refusal(wheel, first, issues.len()));
    }
    if let Some(e) = unreadable {
        return Err(audit_failure(wheel, e));
    }
    verdict(wheel, &elfs, options, plat)
}

/// The verdict of a wheel whose ELF members are scanned (`elfs`), against `plat` or its
/// own tags.
fn verdict(
    wheel: &MemWheel,
    elfs: &HashMap<String, ElfInfo>,
    options: &AuditOptions,
    plat: Option<PlatformTag>,
) -> Result<Audited, Failure> {
    let flags = audit::ShowFlags {
        exclude: &options.exclude,
        disable_isa_ext_check: options.disable_isa_ext_check,
        // A browser is no musl system: auditwheel's answers on one that is not.
        host: truewheel_core::policy::HostLibc::default(),
        by_files: true,
    };
    let mut report = audit::audit_scanned(wheel, elfs, &mut NoHost, flags)
        .map_err(|e| audit_failure(wheel, e))?;
    if let Some(p) = &plat {
        report.judge(p);
    }
    let (pass, wanted) = match &plat {
        Some(p) => (report.meets(p), p.to_string()),
        None => (
            report.meets_own_tags(),
            PlatformTag::dotted(&report.platform_tags),
        ),
    };
    let judged = match plat {
        Some(p) => vec![p],
        None => report.platform_tags.clone(),
    };
    let notes = report.notes(&judged, pass);
    let apart = report.all_judged_apart(&judged);
    Ok(Audited {
        report,
        pass,
        wanted,
        notes,
        apart,
    })
}

/// The CLI's sentence for a member that cannot be inflated.
fn damaged(wheel: &MemWheel, e: &ArchiveError) -> Failure {
    Failure::input(
        format!("{}: {e}", wheel.file_name()),
        Some("the wheel is damaged; fetch or build it again"),
    )
}

/// The CLI's sentence for an audit that failed.
fn audit_failure(wheel: &MemWheel, e: AuditError) -> Failure {
    let name = wheel.file_name();
    match e {
        AuditError::Elf { .. } => Failure::input(
            format!("{e} in {name}"),
            Some("the wheel holds a damaged library; rebuild it"),
        ),
        AuditError::TooLarge { .. } => Failure::input(
            format!("{e} in {name}"),
            Some("a library's tables are larger than the inspector holds in memory; audit it with the truewheel command line"),
        ),
        AuditError::Archive(_) => Failure::input(
            format!("{name}: {e}"),
            Some("the wheel is damaged; fetch or build it again"),
        ),
        AuditError::Analyze(reason) => Failure {
            message: format!("{name}: {reason}"),
            hint: None,
            kind: "refused",
        },
        AuditError::Tags(_) => Failure::input(format!("{name}: {e}"), None),
    }
}

/// The report as the CLI prints it with `--json` (pretty, two-space indent).
pub fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("reports serialize")
}

/// Tag edits from JSON: `{"python": "cp311", "abi": "+abi3", "platform":
/// ["manylinux_2_17_x86_64", "+manylinux2014_x86_64"], "build": "1"}` — each field a
/// string or a list of edits, as the CLI's repeated `--python-tag` etc.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EditsJson {
    #[serde(default, alias = "python_tag", alias = "python-tag")]
    python: OneOrMany,
    #[serde(default, alias = "abi_tag", alias = "abi-tag")]
    abi: OneOrMany,
    #[serde(default, alias = "platform_tag", alias = "platform-tag")]
    platform: OneOrMany,
    #[serde(default)]
    build: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::None => Vec::new(),
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

/// Reads tag edits from JSON text.
pub fn parse_edits(json: &str) -> Result<TagEdits, Failure> {
    let e: EditsJson = serde_json::from_str(json).map_err(|e| {
        Failure::input(
            format!("retag edits are invalid: {e}"),
            Some(r#"edits look like {"platform": ["manylinux_2_17_x86_64", "+manylinux2014_x86_64"]}"#),
        )
    })?;
    Ok(TagEdits {
        python: e.python.into_vec(),
        abi: e.abi.into_vec(),
        platform: e.platform.into_vec(),
        build: e.build,
    })
}

/// Retags a wheel as `truewheel retag` does; returns the new file name and bytes. With
/// `timestamp` (Unix seconds, as `SOURCE_DATE_EPOCH`) every member gets that time.
pub fn retag_wheel(
    wheel: &MemWheel,
    edits: &TagEdits,
    timestamp: Option<u64>,
) -> Result<(String, Vec<u8>), Failure> {
    let retagged = retag(&wheel.filename, &wheel.info, edits)
        .map_err(|e| Failure::input(format!("{}: {e}", wheel.file_name()), None))?;
    verify(wheel, &local_digest, |_, _| {})?;
    let mut options = WriteOptions::default();
    if let Some(secs) = timestamp {
        options.timestamp = Some(truewheel_core::wheel::writer::dos_datetime(secs));
    }
    let bytes = wheel
        .rewrite(
            &retagged
                .changes(wheel)
                .map_err(|e| Failure::input(format!("cannot read the wheel: {e}"), None))?,
            Vec::new(),
            options,
        )
        .map_err(|e| Failure::input(format!("cannot write the retagged wheel: {e}"), None))?;
    Ok((retagged.filename.to_string(), bytes))
}

/// The inspect report of `bytes`, as the CLI's `inspect --json` text.
pub fn inspect_json(bytes: Vec<u8>, file_name: &str) -> Result<String, Failure> {
    let w = open(bytes, file_name)?;
    Ok(to_json(&inspect(&w, &local_digest, |_, _| {})?))
}

/// The audit report of `bytes`, as the CLI's `audit --json --wheel-only` text.
pub fn audit_json(bytes: Vec<u8>, file_name: &str, options: &str) -> Result<String, Failure> {
    let w = open(bytes, file_name)?;
    let options = AuditOptions::parse(options)?;
    Ok(to_json(&audit(&w, &options, |_, _| {})?.report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use truewheel_core::wheel::WheelWriter;

    /// A wheel holding the core's x86-64 test library, tagged `platform`.
    fn wheel_bytes(platform: &str) -> (String, Vec<u8>) {
        let so = include_bytes!("../../core/tests/elf-fixtures/x86_64-gnu.so");
        let di = "demo-1.0.dist-info";
        let mut w = WheelWriter::new(Vec::new(), WriteOptions::default());
        w.add("demo/_core.so", so, 0o755).unwrap();
        w.add(
            &format!("{di}/METADATA"),
            b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
            0o644,
        )
        .unwrap();
        let tag = format!("cp311-cp311-{platform}");
        let info =
            format!("Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: {tag}\n");
        w.add(&format!("{di}/WHEEL"), info.as_bytes(), 0o644)
            .unwrap();
        (
            format!("demo-1.0-{tag}.whl"),
            w.finish(&format!("{di}/RECORD")).unwrap(),
        )
    }

    #[test]
    fn inspect_and_audit_give_the_reports() {
        let (name, bytes) = wheel_bytes("linux_x86_64");
        let text = inspect_json(bytes.clone(), &format!("some/dir/{name}")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["filename"], name.as_str());
        assert_eq!(v["record"]["ok"], true);

        let text = audit_json(bytes.clone(), &name, "").unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema"], 1);
        assert_eq!(v["elfs"][0]["path"], "demo/_core.so");

        let w = open(bytes, &name).unwrap();
        let mut calls = 0;
        let a = audit(&w, &AuditOptions::default(), |_, _| calls += 1).unwrap();
        assert_eq!(calls, w.archive.members().len());
        assert!(a.pass, "linux_x86_64 is met by any x86-64 wheel");
        assert_eq!(a.wanted, "linux_x86_64");
        let strict = AuditOptions::parse(r#"{"plat": "manylinux_2_5_x86_64"}"#).unwrap();
        let a = audit(&w, &strict, |_, _| {}).unwrap();
        assert_eq!(a.wanted, "manylinux_2_5_x86_64");
    }

    #[test]
    fn bad_input_reads_as_the_cli_says_it() {
        let e =
            inspect_json(b"not a zip at all".to_vec(), "demo-1.0-py3-none-any.whl").unwrap_err();
        assert!(
            e.message
                .starts_with("demo-1.0-py3-none-any.whl: it is not a zip archive"),
            "{e:?}"
        );
        assert!(e.hint.is_some());
        assert_eq!(e.kind, "input");
        let e = inspect_json(Vec::new(), "notawheel.zip").unwrap_err();
        assert!(e.hint.unwrap().contains("PEP 427"));
        let e = AuditOptions::parse(r#"{"plat": 3}"#).unwrap_err();
        assert!(e.message.starts_with("audit options are invalid"));
        let (name, bytes) = wheel_bytes("linux_x86_64");
        let e = audit_json(bytes, &name, r#"{"plat": "Many"}"#).unwrap_err();
        assert!(
            e.message.starts_with("`Many` is not a valid policy"),
            "{e:?}"
        );
    }

    #[test]
    fn the_ends_of_a_file_refuse_it_as_opening_it_whole_would() {
        let junk: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + 3) as u8).collect();
        let name = "demo-1.0-py3-none-any.whl";
        let whole = open(junk.clone(), name).unwrap_err();
        let tail = junk[junk.len() - 65_557..].to_vec();
        let ends = check_ends(junk[..64].to_vec(), tail, junk.len() as f64, name).unwrap_err();
        assert_eq!(ends, whole);
        assert!(
            ends.message
                .contains("no zip end-of-central-directory record"),
            "{ends:?}"
        );
        // A name that is no wheel's is refused first, as by `open`.
        let tail = junk[junk.len() - 65_557..].to_vec();
        let e = check_ends(junk[..64].to_vec(), tail, 1e9, "x.zip").unwrap_err();
        assert_eq!(e, open(junk, "x.zip").unwrap_err());
        // A wheel's ends: it may be one (its central directory is read with the rest).
        let (name, bytes) = wheel_bytes("linux_x86_64");
        let mut end = vec![0u8; 65_557 - 22];
        end.extend_from_slice(&bytes[bytes.len() - 22..]);
        check_ends(bytes[..64].to_vec(), end, 5e9, &name).unwrap();
    }

    #[test]
    fn alloc_refuses_what_wasm32_cannot_hold() {
        assert_eq!(alloc(3.0).unwrap(), [0, 0, 0]);
        for len in [5e9, 2_147_483_648.0] {
            let e = alloc(len).unwrap_err();
            assert!(e.message.contains("less than 2 GiB"), "{e:?}");
        }
        let mut buf = alloc(4.0).unwrap();
        fill(&mut buf, 1.0, b"ab").unwrap();
        assert_eq!(buf, b"\0ab\0");
        assert!(fill(&mut buf, 3.0, b"ab").is_err());
        assert!(fill(&mut buf, -1.0, b"a").is_err());
        assert!(alloc(-1.0).is_err());
        assert!(alloc(f64::NAN).is_err());
    }

    #[test]
    fn retag_renames_and_rewrites() {
        let (name, bytes) = wheel_bytes("linux_x86_64");
        let w = open(bytes, &name).unwrap();
        let edits = parse_edits(r#"{"platform": "manylinux_2_17_x86_64", "build": "2"}"#).unwrap();
        let (new_name, out) = retag_wheel(&w, &edits, Some(315_532_800)).unwrap();
        assert_eq!(new_name, "demo-1.0-2-cp311-cp311-manylinux_2_17_x86_64.whl");
        let again = open(out.clone(), &new_name).unwrap();
        assert!(again.verify().unwrap().is_empty());
        assert_eq!(again.info.build.as_deref(), Some("2"));
        // Same input, same bytes.
        assert_eq!(retag_wheel(&w, &edits, Some(315_532_800)).unwrap().1, out);
        let e = retag_wheel(
            &w,
            &parse_edits(r#"{"platform": "-linux_x86_64"}"#).unwrap(),
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("leaves no tag"));
        assert!(parse_edits(r#"{"platfrom": "x"}"#).is_err());
    }
}
