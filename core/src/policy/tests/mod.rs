//! Evaluation scenarios, each a small wheel built from typed inputs: a fake system of
//! libraries ([`System`]) resolves the members' needs, and [`analyze`] judges. Expected
//! verdicts are auditwheel 6.8.2's, worked out from its source (see `AUDITWHEEL.md`).

use std::collections::HashMap;

use super::*;
use crate::wheel::tags::{Arch, GlibcVersion, PlatformTag};

/// Libraries a fake machine (or the wheel) holds, by DT_NEEDED name.
#[derive(Clone, Default)]
struct System(HashMap<String, (LibraryLocation, ElfFacts)>);

impl System {
    /// A glibc system: libc, libm, libpthread, libstdc++, libgcc_s, libz.
    fn glibc(arch: &Arch) -> Self {
        let mut sys = Self::default();
        for (name, needed) in [
            ("libc.so.6", &[][..]),
            ("libm.so.6", &["libc.so.6"][..]),
            ("libpthread.so.0", &["libc.so.6"][..]),
            ("libgcc_s.so.1", &["libc.so.6"][..]),
            (
                "libstdc++.so.6",
                &["libm.so.6", "libc.so.6", "libgcc_s.so.1", "libsecret.so.0"][..],
            ),
            ("libz.so.1", &["libc.so.6"][..]),
        ] {
            sys = sys.with(name, lib_facts(arch, needed));
        }
        sys
    }

    /// A musl system: its libc and libz.
    fn musl(arch: &str) -> Self {
        let a = Arch::parse(arch);
        let libc = format!(
            "libc.musl-{}.so.1",
            if arch == "i686" { "x86" } else { arch }
        );
        Self::default()
            .with(&libc, lib_facts(&a, &[]))
            .with("libz.so.1", lib_facts(&a, &[&libc]))
    }

    /// Adds a library outside the wheel, at `/usr/lib/<name>`.
    fn with(mut self, name: &str, facts: ElfFacts) -> Self {
        self.0.insert(
            name.into(),
            (LibraryLocation::External(format!("/usr/lib/{name}")), facts),
        );
        self
    }

    /// Adds a library inside the wheel, at member `path`.
    fn in_wheel(mut self, name: &str, path: &str, facts: ElfFacts) -> Self {
        self.0
            .insert(name.into(), (LibraryLocation::InWheel(path.into()), facts));
        self
    }

    /// The wheel's ELF members, with their trees.
    fn wheel(&mut self, members: Vec<(&str, ElfFacts)>) -> Vec<WheelElf> {
        members
            .into_iter()
            .map(|(path, facts)| WheelElf {
                tree: DependencyTree::build(path, &facts, self, &[]),
                path: path.into(),
                facts: facts.into(),
            })
            .collect()
    }
}

impl LibraryResolver for System {
    fn resolve(&mut self, soname: &str, _: &ResolveRequest<'_>) -> Option<Resolved> {
        self.0.get(soname).map(|(location, facts)| Resolved {
            location: location.clone(),
            facts: facts.clone().into(),
        })
    }
}

fn lib_facts(arch: &Arch, needed: &[&str]) -> ElfFacts {
    ElfFacts {
        arch: Some(arch.clone()),
        needed: needed.iter().map(|&s| s.into()).collect(),
        ..ElfFacts::default()
    }
}

/// A Python 3 extension module at `path`, linking libc (and the interpreter-less glibc
/// `libc.so.6`).
fn extension(path: &str, arch: &Arch) -> ElfFacts {
    let module = path.rsplit('/').next().unwrap().split('.').next().unwrap();
    let mut f = lib_facts(arch, &["libc.so.6"]);
    f.symbols
        .push(DynamicSymbol::export(&format!("PyInit_{module}")));
    f
}

/// Makes `facts` import `symbol` at `version` from `file` (adding the need).
fn import(mut facts: ElfFacts, file: &str, version: &str, symbol: &str) -> ElfFacts {
    if !facts.needed.iter().any(|n| n == file) {
        facts.needed.push(file.into());
    }
    match facts.version_needs.iter_mut().find(|n| n.file == file) {
        Some(need) => need.versions.push(version.into()),
        None => facts.version_needs.push(VersionNeed::new(file, &[version])),
    }
    facts
        .symbols
        .push(DynamicSymbol::versioned_import(symbol, version, file));
    facts
}

fn needs(mut facts: ElfFacts, lib: &str) -> ElfFacts {
    facts.needed.push(lib.into());
    facts
}

fn tag(s: &str) -> PlatformTag {
    s.parse().unwrap()
}

fn show(elfs: &[WheelElf], platform: &str) -> AbiReport {
    let (options, _) = AnalyzeOptions::show(&[tag(platform)]).unwrap();
    analyze(elfs, &options).unwrap()
}

fn repair(elfs: &[WheelElf], platform: &str, plat: &str) -> AbiReport {
    let (options, _) = AnalyzeOptions::repair(&[tag(platform)], &plat.parse().unwrap()).unwrap();
    analyze(elfs, &options).unwrap()
}

fn reasons<'a>(report: &'a AbiReport, policy: &str) -> &'a [Reason] {
    &report.verdict(&tag(policy)).unwrap().reasons
}

const CORE: &str = "demo/_core.cpython-311-x86_64-linux-gnu.so";

/// One extension importing one versioned symbol, judged by `show`.
fn one_symbol(arch: &Arch, file: &str, version: &str) -> AbiReport {
    let mut sys = System::glibc(arch);
    let ext = import(extension(CORE, arch), file, version, "sym");
    show(&sys.wheel(vec![(CORE, ext)]), &format!("linux_{arch}"))
}

mod libraries;
mod symbols;
mod wheels;
