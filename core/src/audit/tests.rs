//! The audit's tests.

use super::*;
use crate::wheel::{WheelWriter, WriteOptions};

/// A wheel holding the x86-64 fixture library, tagged `platform`.
fn wheel(platform: &str) -> Wheel<Vec<u8>> {
    wheel_with(
        platform,
        include_bytes!("../../tests/elf-fixtures/x86_64-gnu.so"),
    )
}

/// A wheel holding `so` as `demo/_core.so`, tagged `platform`.
fn wheel_with(platform: &str, so: &[u8]) -> Wheel<Vec<u8>> {
    let di = "demo-1.0.dist-info";
    let mut w = WheelWriter::new(Vec::new(), WriteOptions::default());
    w.add("demo/_core.so", so, 0o755).unwrap();
    w.add("demo/__init__.py", b"", 0o644).unwrap();
    w.add(
        &format!("{di}/METADATA"),
        b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        0o644,
    )
    .unwrap();
    let tag = format!("cp311-cp311-{platform}");
    let info = format!("Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: {tag}\n");
    w.add(&format!("{di}/WHEEL"), info.as_bytes(), 0o644)
        .unwrap();
    let bytes = w.finish(&format!("{di}/RECORD")).unwrap();
    Wheel::open(&format!("demo-1.0-{tag}.whl"), bytes).unwrap()
}

#[test]
fn sequential_audit_matches_the_per_member_sequence() {
    let w = wheel("linux_x86_64");
    let mut calls = Vec::new();
    let report = audit_wheel_sequential(&w, &mut NoHost, ShowFlags::default(), |done, total| {
        calls.push((done, total));
    })
    .unwrap();
    let total = w.archive.members().len();
    assert_eq!(calls, (1..=total).map(|i| (i, total)).collect::<Vec<_>>());

    let elfs: HashMap<String, ElfInfo> = w
        .archive
        .members()
        .iter()
        .filter_map(|m| Some((m.name.clone(), scan_member(&w, m).unwrap()?)))
        .collect();
    assert_eq!(elfs.keys().collect::<Vec<_>>(), ["demo/_core.so"]);
    let (options, pure) = AnalyzeOptions::show(&w.filename.tags.platform).unwrap();
    let by_hand = audit(&w, &elfs, &mut NoHost, &options, pure, &[]).unwrap();
    assert_eq!(
        serde_json::to_string(&report).unwrap(),
        serde_json::to_string(&by_hand).unwrap()
    );
    assert!(!report.pure);
    assert!(report.overall_tag.is_some());
}

#[test]
fn an_android_wheel_has_one_platform_tag() {
    let w = wheel("android_24_x86_64.android_21_x86_64");
    let err = audit_wheel_sequential(&w, &mut NoHost, ShowFlags::default(), |_, _| {}).unwrap_err();
    assert!(matches!(err, AuditError::Tags(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "Android wheels must have exactly one platform tag, got [android_21_x86_64, android_24_x86_64]"
    );
}

/// The Android policy is the file's of the highest API level at or below the wheel's,
/// named as the wheel's level: its tag is the wheel's own.
#[test]
fn android_policies_are_chosen_by_the_wheels_level() {
    use crate::policy::{PolicyName, PolicySet};
    use crate::wheel::Arch;
    for (api, file_level) in [(21, 21), (23, 21), (24, 24), (25, 24), (27, 27), (35, 27)] {
        let set = PolicySet::android(&Arch::Aarch64, api).unwrap();
        let names: Vec<PolicyName> = set.iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [PolicyName::Android(api), PolicyName::Linux],
            "{api}"
        );
        let chosen = &set.iter().next().unwrap().lib_whitelist;
        let file = PolicySet::android(&Arch::Aarch64, file_level).unwrap();
        assert_eq!(chosen, &file.iter().next().unwrap().lib_whitelist, "{api}");
        assert_eq!(
            set.iter()
                .next()
                .unwrap()
                .name
                .tag(&Arch::Aarch64)
                .to_string(),
            format!("android_{api}_arm64_v8a")
        );
    }
    assert!(PolicySet::android(&Arch::Aarch64, 20).is_err());
    assert!(PolicySet::android(&Arch::Riscv64, 24).is_err());
}

/// A hasher that notes the length of each part it is given.
struct Noting(
    crate::wheel::record::Hasher,
    std::sync::Arc<std::sync::Mutex<Vec<usize>>>,
);

impl crate::wheel::record::Digest for Noting {
    fn update(&mut self, data: &[u8]) {
        self.1.lock().unwrap().push(data.len());
        self.0.update(data);
    }
    fn finish(self: Box<Self>) -> RecordHash {
        self.0.finish()
    }
}

/// A member kept with its stream's blocks is hashed as it is inflated, in parts, to the
/// hash of its content, and a RECORD row that disagrees is found as when it is kept
/// alone.
#[test]
fn a_member_kept_walked_is_verified_as_one_kept_alone() {
    let mut so = include_bytes!("../../tests/elf-fixtures/x86_64-gnu.so").to_vec();
    // Past its sections, bytes no reader looks at: enough for several parts.
    so.extend((0..700_000u32).map(|i| (i.wrapping_mul(i) >> 9) as u8 ^ (i % 7) as u8));
    let wheel = wheel_with("linux_x86_64", &so);
    let m = wheel.archive.member("demo/_core.so").unwrap();
    let rows = wheel.record.by_path();
    let right = rows.get("demo/_core.so").copied().unwrap();
    let wrong = RecordEntry {
        hash: Some(RecordHash {
            digest: vec![0; 32],
            ..right.hash.clone().unwrap()
        }),
        ..right.clone()
    };
    let parts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let noted = parts.clone();
    let digest = move |alg, _size| {
        Box::new(Noting(
            crate::wheel::record::Hasher::new(alg),
            noted.clone(),
        )) as Box<dyn crate::wheel::record::Digest>
    };
    for keep in [Keep::Content, Keep::Walked] {
        parts.lock().unwrap().clear();
        let v = verify_scan_keep(&wheel, m, Some(right), &digest, &|_| keep).unwrap();
        assert_eq!(v.issue, None, "{keep:?}");
        assert_eq!(v.content.as_deref(), Some(&so[..]), "{keep:?}");
        assert_eq!(v.walked.is_some(), keep == Keep::Walked);
        assert!(v.info.is_some(), "{keep:?}");
        let seen = parts.lock().unwrap().clone();
        assert_eq!(seen.iter().sum::<usize>(), so.len(), "{keep:?}");
        if keep == Keep::Walked {
            assert!(seen.len() > 2, "{seen:?}");
        }
        let v = verify_scan_keep(&wheel, m, Some(&wrong), &digest, &|_| keep).unwrap();
        assert_eq!(
            v.issue,
            Some(RecordIssue::HashMismatch {
                path: m.name.clone(),
                expected: wrong.hash.clone().unwrap(),
                found: RecordHash::sha256(&so),
            }),
            "{keep:?}"
        );
    }
}

#[test]
fn a_file_needing_a_version_from_two_libraries_is_named_once() {
    use crate::policy::report::{ElfRef, Reason, VersionUser};
    let user = |path: &str, library: &str, symbols: &[&str]| VersionUser {
        elf: ElfRef::Member { path: path.into() },
        library: library.into(),
        symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
    };
    let reason = Reason::SymbolVersion {
        version: crate::policy::SymbolVersion::parse("GLIBC_2.28"),
        users: vec![
            user("p.libs/librd.so.1", "libc.so.6", &["call_once", "cnd_wait"]),
            user("p/x.so", "libc.so.6", &["fcntl64"]),
            user("p.libs/librd.so.1", "libpthread.so.0", &["thrd_current"]),
        ],
    };
    assert_eq!(
        findings::describe(&reason),
        "needs GLIBC_2.28 in p.libs/librd.so.1 (call_once, cnd_wait, thrd_current), p/x.so (fcntl64)"
    );
}
