//! What `repair` does to a wheel, decided before any byte is written: which outside
//! libraries are grafted, under which names, and which ELF edits each member and each
//! grafted library gets — auditwheel's `repair_wheel`, step for step, so the result has
//! its layout: `<name>.libs/libfoo-<8 hex of sha256>.so.1.2`, `DT_NEEDED` renamed,
//! RPATH `$ORIGIN/<relative path to the .libs folder>` (entries inside the wheel kept).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::audit::resolve::{normpath, WHEEL_ROOT};
use crate::policy::input::is_c_library;
use crate::policy::tree::is_libpython;
use crate::policy::AbiReport;
use crate::wheel::PlatformTag;

pub use super::error::PlanError;

/// The edits one ELF file gets: first `strip` (auditwheel strips before patching), then
/// in patchelf's order soname, removed needs, replaced needs, and RPATH (cleared, or set
/// as `DT_RPATH` as auditwheel's `--force-rpath` does).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ElfEdits {
    /// Strip symbols and debug information (`strip -s`), for `--strip`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub strip: bool,
    /// New `DT_SONAME`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soname: Option<String>,
    /// `DT_NEEDED` entries to drop.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove_needed: Vec<String>,
    /// `DT_NEEDED` renames, old → new.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replace_needed: Vec<(String, String)>,
    /// Drop RPATH and RUNPATH.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub clear_rpath: bool,
    /// The new RPATH.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpath: Option<String>,
    /// Set the new path as `DT_RUNPATH`, not `DT_RPATH`: Android's loader reads only
    /// RUNPATH (auditwheel sets it so for Android wheels).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub runpath: bool,
}

impl ElfEdits {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether an ELF patcher must make them: anything but stripping (which auditwheel
    /// leaves to `strip`, and its `none` patcher allows).
    pub fn patches(&self) -> bool {
        !Self {
            strip: false,
            ..self.clone()
        }
        .is_empty()
    }
}

/// The edits in a line: `SONAME libfoo-1a2b3c4d.so.1, DT_NEEDED libfoo.so.1 ->
/// libfoo-1a2b3c4d.so.1, RPATH $ORIGIN/../pkg.libs`.
impl std::fmt::Display for ElfEdits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(soname) = &self.soname {
            parts.push(format!("SONAME {soname}"));
        }
        for (old, new) in &self.replace_needed {
            parts.push(format!("DT_NEEDED {old} -> {new}"));
        }
        for gone in &self.remove_needed {
            parts.push(format!("DT_NEEDED {gone} removed"));
        }
        if self.clear_rpath {
            parts.push("RPATH removed".into());
        }
        if let Some(rpath) = &self.rpath {
            let kind = if self.runpath { "RUNPATH" } else { "RPATH" };
            parts.push(format!("{kind} {rpath}"));
        }
        if self.strip {
            parts.push("stripped".into());
        }
        if parts.is_empty() {
            parts.push("unchanged".into());
        }
        f.write_str(&parts.join(", "))
    }
}

/// One library copied into the wheel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Graft {
    /// The `DT_NEEDED` name it was found by.
    pub soname: String,
    /// Where it came from (real path on the host).
    pub source: String,
    /// Its new name (`libyaml-0-8ec1a697.so.2.0.9`), also its new `DT_SONAME`.
    pub new_soname: String,
    /// Its path in the wheel.
    pub member: String,
    /// The edits it gets.
    pub edits: ElfEdits,
}

/// The repair of one wheel.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    /// The folder grafted libraries go to (`pyyaml.libs`).
    pub libs_dir: String,
    /// Libraries to graft, by new member path.
    pub grafts: Vec<Graft>,
    /// Edits of the wheel's own ELF members, by member path.
    pub members: BTreeMap<String, ElfEdits>,
    /// ELF programs under `<name>.data/scripts/` that need grafted libraries, moved to
    /// `<name>.scripts/` (their new path, by old path) with a Python shim left in their
    /// place that execs them: an RPATH cannot reach the libs folder from wherever the
    /// installer puts scripts (auditwheel's answer to pypa/auditwheel#340).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub scripts: BTreeMap<String, String>,
}

/// Whether a member is a script (`<name>.data/scripts/<file>`), which installers copy to
/// the environment's `bin/` rather than beside the package.
pub fn is_script(member: &str) -> bool {
    let mut parts = member.split('/');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(data), Some("scripts"), Some(file), None) if data.ends_with(".data") && !file.is_empty()
    )
}

/// The shim auditwheel leaves in place of a moved ELF script: a `#!python` script (the
/// installer rewrites the interpreter line) that execs the program from platlib.
pub fn script_shim(moved_to: &str) -> String {
    format!(
        "#!python\nimport os\nimport sys\nimport sysconfig\n\n\nif __name__ == \"__main__\":\n    os.execv(\n        os.path.join(sysconfig.get_path(\"platlib\"), {}),\n        sys.argv,\n    )\n",
        crate::python::repr(moved_to)
    )
}

/// What the planner needs of the host: a library's bytes (for its hash) and the
/// `DT_NEEDED` / RPATH of files (wheel members and grafted libraries).
pub trait PlanInputs {
    /// The SHA-256 of a host file, as 64 lowercase hex digits.
    fn sha256_hex(&mut self, path: &str) -> Result<String, String>;
    /// The `DT_NEEDED` names of a host library.
    fn needed(&mut self, path: &str) -> Result<Vec<String>, String>;
    /// The current RPATH (or RUNPATH) of a wheel member, as `patchelf --print-rpath`.
    fn member_rpath(&mut self, member: &str) -> String;
}

/// `os.path.relpath(to, from)` for `/`-separated paths relative to the same root.
pub fn relpath(to: &str, from: &str) -> String {
    let parts = |p: &str| -> Vec<String> {
        normpath(&format!("/{p}"))
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (t, f) = (parts(to), parts(from));
    let common = t.iter().zip(&f).take_while(|(a, b)| a == b).count();
    let mut out: Vec<String> = vec!["..".into(); f.len() - common];
    out.extend(t[common..].iter().cloned());
    if out.is_empty() {
        ".".into()
    } else {
        out.join("/")
    }
}

/// `$ORIGIN` joined with a relative path as auditwheel joins them (`pathlib.Path`, which
/// drops a `.`): a member inside the `.libs` folder gets `$ORIGIN`, not `$ORIGIN/.`.
fn origin_path(rel: &str) -> String {
    if rel == "." {
        "$ORIGIN".into()
    } else {
        format!("$ORIGIN/{rel}")
    }
}

/// Where a member is installed, relative to the folder the wheel's root goes to: a
/// member under `<name>.data/platlib/` or `purelib/` is installed beside the root's
/// files (in a virtual environment, and wherever the two schemes share a folder), so its
/// path in the wheel has three folders more than its place. auditwheel measures from the
/// path in the wheel, and its `$ORIGIN/../../../pkg.libs` misses the grafted libraries
/// once installed (pypa/auditwheel#257); we measure from the place.
fn installed_path(member: &str) -> &str {
    let mut parts = member.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(data), Some("platlib" | "purelib"), Some(rest))
            if data.ends_with(".data") && !rest.is_empty() =>
        {
            rest
        }
        _ => member,
    }
}

fn dirname(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// auditwheel's `copylib` naming: `base-<hash8>.ext`, where `base.ext` is the real file
/// name split at its first dot; a name already carrying the hash is kept.
pub fn grafted_name(real_file_name: &str, sha256_hex: &str) -> String {
    let short = &sha256_hex[..8.min(sha256_hex.len())];
    match real_file_name.split_once('.') {
        Some((base, _)) if base.ends_with(&format!("-{short}")) => real_file_name.to_owned(),
        Some((base, ext)) => format!("{base}-{short}.{ext}"),
        // Python's `split(".", 1)` would fail to unpack; keep the name whole.
        None => format!("{real_file_name}-{short}"),
    }
}

/// auditwheel's `append_rpath_within_wheel`: the old entries that resolve inside the
/// wheel (with `$ORIGIN` at the member's folder), without repeats, then `new`. A member
/// written elsewhere (`placed`: a program of `.data/scripts/` moved behind a shim) keeps
/// its entries into the wheel measured from where it goes: auditwheel resolves them from
/// there as they were written for the old place, and drops them (meson-python's
/// programs lost `$ORIGIN/../../.<name>.mesonpy.libs`, and their libraries with it).
pub fn rpath_within_wheel(
    old: &str,
    member: &str,
    placed: &str,
    new: &str,
    lib: &str,
    platform: &str,
) -> String {
    let origin = normpath(&format!("{WHEEL_ROOT}/{}", dirname(member)));
    let mut kept: Vec<String> = Vec::new();
    for entry in old.split(':').filter(|e| !e.is_empty()) {
        let mut full = entry.to_owned();
        for (token, value) in [
            ("ORIGIN", origin.as_str()),
            ("LIB", lib),
            ("PLATFORM", platform),
        ] {
            full = full
                .replace(&format!("${token}"), value)
                .replace(&format!("${{{token}}}"), value);
        }
        if !full.starts_with('/') {
            continue;
        }
        let full = normpath(&full);
        let inside = full == WHEEL_ROOT || full.starts_with(&format!("{WHEEL_ROOT}/"));
        if !inside {
            continue;
        }
        let entry = if placed == member {
            entry.to_owned()
        } else {
            let target = full.strip_prefix(WHEEL_ROOT).unwrap_or(&full);
            let target = installed_path(target.trim_start_matches('/'));
            // The other folders of `<name>.data/` are installed elsewhere (`scripts/`
            // to `bin/`): no path from the new place reaches them.
            if target
                .split('/')
                .next()
                .is_some_and(|d| d.ends_with(".data"))
            {
                continue;
            }
            origin_path(&relpath(target, dirname(installed_path(placed))))
        };
        if !kept.contains(&entry) {
            kept.push(entry);
        }
    }
    if !kept.iter().any(|k| k == new) {
        kept.push(new.to_owned());
    }
    kept.join(":")
}

/// The host libraries a plan for `policy` grafts: the paths the audit found for the
/// members' outside needs, each once, in byte order. A host can read and hash them all
/// at once before [`plan`] asks for them one by one (psycopg2 grafts 21 libraries,
/// 17.6 MB, whose hashes took 25 ms on one core).
pub fn graft_sources<'a>(abi: &'a AbiReport, policy: &PlatformTag) -> Vec<&'a str> {
    let mut out: Vec<&str> = abi
        .member_refs
        .values()
        .filter_map(|refs| refs.iter().find(|r| r.policy == *policy))
        .flat_map(|r| &r.refs.libs)
        .filter(|(soname, _)| !is_libpython(soname) && !is_c_library(soname))
        .filter_map(|(_, path)| path.as_deref())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The grafted libraries' folder: auditwheel's `--lib-sdir` appended to the distribution's
/// name (`.libs` gives `pyyaml.libs`, `/sub` gives `pyyaml/sub`), its empty and `.` parts
/// dropped as `pathlib` drops them. A `..` part is refused: `-L /../../x` made members
/// outside the wheel, which installers refuse (auditwheel writes them).
pub fn libs_dir(dist_name: &str, lib_sdir: &str) -> Result<String, PlanError> {
    let joined = format!("{dist_name}{lib_sdir}");
    let parts: Vec<&str> = joined
        .split('/')
        .filter(|part| !matches!(*part, "" | "."))
        .collect();
    if parts.contains(&"..") || joined.contains(['\\', '\0']) {
        return Err(PlanError::LibsDir(lib_sdir.to_owned()));
    }
    Ok(parts.join("/"))
}

/// Plans the repair of a wheel evaluated for `repair` (`AnalyzeOptions::repair`), bundling
/// what `policy` (the [`RepairTarget`](crate::policy::RepairTarget)'s) asks. `dist_name`
/// is the distribution name as the file name spells it; `lib_sdir` auditwheel's
/// `--lib-sdir` (`.libs`); `strip` auditwheel's `--strip`, which strips every ELF file of
/// the wheel and every grafted library.
pub fn plan(
    abi: &AbiReport,
    policy: &PlatformTag,
    dist_name: &str,
    lib_sdir: &str,
    strip: bool,
    inputs: &mut dyn PlanInputs,
) -> Result<Plan, PlanError> {
    let libs_dir = libs_dir(dist_name, lib_sdir)?;
    let mut out = Plan {
        libs_dir: libs_dir.clone(),
        ..Plan::default()
    };
    // Grafts by member path (one per file: two members that find one name in different
    // places get both, each its own, as auditwheel grafts them), with the name it was
    // found by, its source, and the needs of the first member that found it (what its
    // own needs resolve to).
    let mut grafted: BTreeMap<String, GraftFound<'_>> = BTreeMap::new();
    // The member path of each source.
    let mut by_source: BTreeMap<&str, String> = BTreeMap::new();
    let wheel_arch = abi.arch.as_str().to_owned();
    for (member, refs) in &abi.member_refs {
        let Some(refs) = refs.iter().find(|r| r.policy == *policy) else {
            return Err(PlanError::NoPolicy(policy.clone()));
        };
        let libs = &refs.refs.libs;
        let mut edits = ElfEdits {
            strip,
            ..ElfEdits::default()
        };
        // Before the missing ones: installing a C library that was not found would
        // only have it grafted.
        if let Some((soname, _)) = libs.iter().find(|(soname, _)| is_c_library(soname)) {
            return Err(PlanError::CLibrary {
                member: member.clone(),
                soname: soname.clone(),
            });
        }
        let missing: Vec<(String, Option<String>)> = libs
            .iter()
            .filter(|(soname, path)| path.is_none() && !is_libpython(soname))
            .map(|(soname, _)| {
                // Named by the library of the tree that needs it, which the user can
                // look up, rather than only by the member at the tree's top.
                let via = libs.iter().find_map(|(lib, path)| {
                    let needs = inputs.needed(path.as_deref()?).ok()?;
                    needs.contains(soname).then(|| lib.clone())
                });
                (soname.clone(), via)
            })
            .collect();
        if !missing.is_empty() {
            return Err(PlanError::NotFound {
                member: member.clone(),
                missing,
            });
        }
        for (soname, path) in libs {
            if is_libpython(soname) {
                edits.remove_needed.push(soname.clone());
                continue;
            }
            let Some(source) = path else {
                continue;
            };
            let at = match by_source.get(source.as_str()) {
                Some(at) => at.clone(),
                None => {
                    let hash =
                        inputs
                            .sha256_hex(source)
                            .map_err(|reason| PlanError::Unreadable {
                                soname: soname.clone(),
                                source_path: source.clone(),
                                member: member.clone(),
                                reason,
                            })?;
                    let real_name = source.rsplit('/').next().unwrap_or(source);
                    let n = grafted_name(real_name, &hash);
                    let at = format!("{libs_dir}/{n}");
                    // (Two sources of one content and file name are one graft.)
                    grafted.entry(at.clone()).or_insert(GraftFound {
                        soname,
                        source,
                        new_soname: n,
                        context: libs,
                    });
                    by_source.insert(source, at.clone());
                    at
                }
            };
            let new_soname = grafted[&at].new_soname.clone();
            edits.replace_needed.push((soname.clone(), new_soname));
        }
        if !libs.is_empty() {
            // The RPATH is the one the program needs where it is moved to.
            let at = if is_script(member) {
                let file = member.rsplit('/').next().unwrap_or(member);
                let moved = format!("{dist_name}.scripts/{file}");
                out.scripts.insert(member.clone(), moved.clone());
                moved
            } else {
                member.clone()
            };
            let new_rpath = origin_path(&relpath(&libs_dir, dirname(installed_path(&at))));
            let old = inputs.member_rpath(member);
            let lib = if abi.arch.as_str().ends_with("64") {
                "lib64"
            } else {
                "lib"
            };
            edits.rpath = Some(rpath_within_wheel(
                &old,
                member,
                &at,
                &new_rpath,
                lib,
                &wheel_arch,
            ));
        }
        if !edits.is_empty() {
            out.members.insert(member.clone(), edits);
        }
    }
    // Grafted libraries may need each other: rename those needs (to the file the needing
    // member's tree found for them), and let them find each other in their own folder;
    // otherwise no RPATH at all.
    let mut found: Vec<(&String, &GraftFound<'_>)> = grafted.iter().collect();
    // In the order of the names they were found by, as auditwheel's map of them.
    found.sort_by_key(|(at, g)| (g.soname, *at));
    for (member, g) in found {
        let needed = inputs.needed(g.source).unwrap_or_default();
        let replace: Vec<(String, String)> = needed
            .iter()
            .filter_map(|n| {
                let source = g.context.get(n)?.as_deref()?;
                let at = by_source.get(source)?;
                Some((n.clone(), grafted[at].new_soname.clone()))
            })
            .collect();
        let mut edits = ElfEdits {
            strip,
            soname: Some(g.new_soname.clone()),
            ..ElfEdits::default()
        };
        if replace.is_empty() {
            edits.clear_rpath = true;
        } else {
            edits.rpath = Some("$ORIGIN".into());
            edits.replace_needed = replace;
        }
        out.grafts.push(Graft {
            soname: g.soname.clone(),
            source: g.source.clone(),
            new_soname: g.new_soname.clone(),
            member: member.clone(),
            edits,
        });
    }
    if let PlatformTag::Android { api, .. } = policy {
        // Android's loader reads RUNPATH only, and from API level 24 on.
        let edits = out
            .grafts
            .iter_mut()
            .map(|g| &mut g.edits)
            .chain(out.members.values_mut())
            .filter(|e| e.rpath.is_some());
        for e in edits {
            if *api < 24 {
                return Err(PlanError::AndroidRunpath(policy.clone()));
            }
            e.runpath = true;
        }
    }
    Ok(out)
}

/// A library to graft, as [`plan`] found it.
struct GraftFound<'a> {
    /// The `DT_NEEDED` name it was found by.
    soname: &'a String,
    /// Its path on the host.
    source: &'a String,
    /// Its name in the wheel.
    new_soname: String,
    /// The outside needs of the first member that found it, by name.
    context: &'a BTreeMap<String, Option<String>>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn edits_say_what_they_change_and_whether_a_patcher_makes_them() {
        let strip = ElfEdits {
            strip: true,
            ..ElfEdits::default()
        };
        assert!(!strip.patches(), "stripping is not the patcher's");
        assert_eq!(strip.to_string(), "stripped");
        assert_eq!(ElfEdits::default().to_string(), "unchanged");
        let graft = ElfEdits {
            soname: Some("libfoo-1a2b3c4d.so.1".into()),
            replace_needed: vec![("libbar.so.2".into(), "libbar-0f0f0f0f.so.2".into())],
            clear_rpath: true,
            rpath: Some("$ORIGIN".into()),
            ..ElfEdits::default()
        };
        assert!(graft.patches());
        assert_eq!(
            graft.to_string(),
            "SONAME libfoo-1a2b3c4d.so.1, DT_NEEDED libbar.so.2 -> libbar-0f0f0f0f.so.2, RPATH removed, RPATH $ORIGIN"
        );
    }

    use super::*;

    #[test]
    fn scripts_are_data_scripts_files() {
        assert!(is_script("uWSGI-2.0.21.data/scripts/uwsgi"));
        assert!(!is_script("uWSGI-2.0.21.data/scripts/sub/uwsgi"));
        assert!(!is_script("uWSGI-2.0.21.data/purelib/uwsgi"));
        assert!(!is_script("pkg/scripts/uwsgi"));
        assert!(!is_script("x.data/scripts/"));
    }

    #[test]
    fn shim_quotes_the_path_as_python_repr_does() {
        let shim = script_shim("uWSGI.scripts/uwsgi");
        assert!(shim.starts_with("#!python\n"));
        assert!(shim.contains("sysconfig.get_path(\"platlib\"), 'uWSGI.scripts/uwsgi'),"));
        assert_eq!(crate::python::repr("it's"), "\"it's\"");
        assert_eq!(crate::python::repr("a'\"b\\\n"), "'a\\'\"b\\\\\\n'");
    }

    #[test]
    fn relative_paths_like_python() {
        assert_eq!(relpath("pyyaml.libs", "yaml"), "../pyyaml.libs");
        assert_eq!(relpath("pyyaml.libs", ""), "pyyaml.libs");
        assert_eq!(relpath("a.libs", "a/b/c"), "../../../a.libs");
        assert_eq!(relpath("a/b", "a/b"), ".");
        assert_eq!(origin_path(&relpath("a.libs", "a.libs")), "$ORIGIN");
        assert_eq!(origin_path(&relpath("a.libs", "a")), "$ORIGIN/../a.libs");
        for (sdir, dir) in [
            (".libs", "a.libs"),
            ("", "a"),
            ("/sub", "a/sub"),
            (".libs/sub/", "a.libs/sub"),
            ("/./x//y", "a/x/y"),
            ("/", "a"),
        ] {
            assert_eq!(libs_dir("a", sdir).unwrap(), dir, "{sdir}");
        }
        for bad in ["/../../evil", "/..", ".libs/../x", "a\\b"] {
            assert!(libs_dir("a", bad).is_err(), "{bad}");
        }
        // An extension in the wheel's `.data` folders is measured from where it goes.
        for (member, place) in [
            ("a-1.data/platlib/a/_x.so", "a/_x.so"),
            ("a-1.data/purelib/_x.so", "_x.so"),
            ("a-1.data/scripts/x", "a-1.data/scripts/x"),
            ("a-1.data/data/lib/_x.so", "a-1.data/data/lib/_x.so"),
            ("a/platlib/_x.so", "a/platlib/_x.so"),
        ] {
            assert_eq!(installed_path(member), place, "{member}");
        }
        assert_eq!(
            origin_path(&relpath(
                "a.libs",
                dirname(installed_path("a-1.data/platlib/a/_x.so"))
            )),
            "$ORIGIN/../a.libs"
        );
    }

    #[test]
    fn graft_names_like_auditwheel() {
        let h = "8ec1a6972f0c9c5ca3c5a0f0c2e5b8a1d0e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3";
        assert_eq!(
            grafted_name("libyaml-0.so.2.0.9", h),
            "libyaml-0-8ec1a697.so.2.0.9"
        );
        assert_eq!(
            grafted_name("libyaml-0-8ec1a697.so.2.0.9", h),
            "libyaml-0-8ec1a697.so.2.0.9"
        );
        assert_eq!(grafted_name("libz.so.1", h), "libz-8ec1a697.so.1");
    }

    #[test]
    fn keeps_rpath_entries_inside_the_wheel_only() {
        let r = rpath_within_wheel(
            "$ORIGIN/../lib:/usr/local/lib:$ORIGIN/../../../../etc:$ORIGIN/../lib",
            "pkg/sub/_ext.so",
            "pkg/sub/_ext.so",
            "$ORIGIN/../../pkg.libs",
            "lib64",
            "x86_64",
        );
        assert_eq!(r, "$ORIGIN/../lib:$ORIGIN/../../pkg.libs");
        assert_eq!(
            rpath_within_wheel("", "m.so", "m.so", "$ORIGIN/x.libs", "lib64", "x86_64"),
            "$ORIGIN/x.libs"
        );
        // A program moved out of `.data/scripts/` keeps its entries into the wheel,
        // measured from where it goes (auditwheel measured them from there as written,
        // and dropped them), `platlib` where it is installed; entries out of the wheel,
        // or into `.data/` folders installed elsewhere (its old folder), are dropped.
        assert_eq!(
            rpath_within_wheel(
                "$ORIGIN/../../.x.mesonpy.libs:$ORIGIN/../../../lib:$ORIGIN:$ORIGIN/../platlib/x/lib",
                "x-1.data/scripts/tool",
                "x.scripts/tool",
                "$ORIGIN/../x.libs",
                "lib64",
                "x86_64",
            ),
            "$ORIGIN/../.x.mesonpy.libs:$ORIGIN/../x/lib:$ORIGIN/../x.libs"
        );
    }
}
