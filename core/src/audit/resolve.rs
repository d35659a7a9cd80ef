//! Finding the libraries a wheel's ELF files need: the wheel's own members first-class
//! (as auditwheel sees them after unpacking the wheel), everything else through a
//! [`HostFiles`] that the CLI implements over the real file system. The search order and
//! the compatibility rule are auditwheel's `lddtree` (see [`LibraryResolver`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::policy::input::{detect_libc, file_name, ElfFacts};
use crate::policy::tree::{LibraryLocation, LibraryResolver, ResolveRequest, Resolved};
use crate::policy::Libc;

/// Where the wheel's members appear to the search: `$ORIGIN` of a member expands under
/// this folder, as under auditwheel's temporary unpack folder.
pub const WHEEL_ROOT: &str = "/@wheel";

/// The host loader's search paths for one C library.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchPaths {
    /// `$AUDITWHEEL_LD_LIBRARY_PATH` and `$LD_LIBRARY_PATH`, existing folders, in order.
    pub env: Vec<String>,
    /// `ld.so.conf` (or musl's path file) and the trusted folders, in order.
    pub conf: Vec<String>,
}

/// The files outside the wheel.
pub trait HostFiles {
    /// The loader's search paths for a C library (`None`: not known, read as glibc).
    fn search_paths(&mut self, libc: Option<Libc>) -> SearchPaths;
    /// Whether a folder exists.
    fn is_dir(&mut self, path: &str) -> bool;
    /// If a file exists at `path`: its real path, and its facts if it is a readable ELF.
    fn open(&mut self, path: &str) -> Option<(String, Option<Arc<ElfFacts>>)>;
}

/// A host with no files: what a browser has.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHost;

impl HostFiles for NoHost {
    fn search_paths(&mut self, _: Option<Libc>) -> SearchPaths {
        SearchPaths::default()
    }
    fn is_dir(&mut self, _: &str) -> bool {
        false
    }
    fn open(&mut self, _: &str) -> Option<(String, Option<Arc<ElfFacts>>)> {
        None
    }
}

/// `os.path.normpath` with `//` folded, as auditwheel normalizes search paths.
pub fn normpath(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn dirname(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => "",
    }
}

/// Resolves against the wheel's members and a host.
pub struct WheelResolver<'a, H: HostFiles> {
    members: &'a HashMap<String, Arc<ElfFacts>>,
    /// The wheel's folders, as member paths (`torch/lib`).
    dirs: HashSet<&'a str>,
    host: &'a mut H,
    paths: HashMap<Option<Libc>, SearchPaths>,
    /// [`WheelResolver::own_paths`] by file: a library's paths are asked for once per
    /// library it needs, in every tree it is part of.
    own: HashMap<String, (Vec<String>, Vec<String>)>,
    /// The wheel is for Android: it was cross-compiled, so the host's loader paths are
    /// not searched (the host is asked for Android's, which only `--ldpaths` gives).
    android: bool,
}

impl<H: HostFiles> std::fmt::Debug for WheelResolver<'_, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WheelResolver")
            .field("members", &self.members.len())
            .finish_non_exhaustive()
    }
}

impl<'a, H: HostFiles> WheelResolver<'a, H> {
    /// A resolver over the ELF members of a wheel (by member path) and every member path
    /// of the wheel (so that folders are known), backed by `host`.
    pub fn new(
        members: &'a HashMap<String, Arc<ElfFacts>>,
        all_names: impl IntoIterator<Item = &'a str>,
        host: &'a mut H,
    ) -> Self {
        let mut dirs = HashSet::new();
        for name in all_names {
            // A folder entry names itself; a file, the folder it is in.
            let mut dir = match name.strip_suffix('/') {
                Some(d) => d,
                None => name.rfind('/').map_or("", |i| &name[..i]),
            };
            // Most members share their folder with the one before: stop at one known.
            while !dir.is_empty() && dirs.insert(dir) {
                dir = dir.rfind('/').map_or("", |i| &dir[..i]);
            }
        }
        Self {
            members,
            dirs,
            host,
            paths: HashMap::new(),
            own: HashMap::new(),
            android: false,
        }
    }

    /// This resolver for an Android wheel: it was cross-compiled, so the host is asked
    /// for Android's search paths (which only `--ldpaths` gives), not its loader's.
    #[must_use]
    pub fn for_android(mut self) -> Self {
        self.android = true;
        self
    }

    fn is_dir(&mut self, path: &str) -> bool {
        if path == WHEEL_ROOT {
            return true;
        }
        match path
            .strip_prefix(WHEEL_ROOT)
            .and_then(|p| p.strip_prefix('/'))
        {
            Some(member) => self.dirs.contains(member),
            None => self.host.is_dir(path),
        }
    }

    /// Expands one `DT_RPATH`/`DT_RUNPATH` list of the file at `path` (a virtual or host
    /// path), keeping existing folders, without repeats.
    fn expand(&mut self, dirs: &[String], path: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for dir in dirs {
            // As auditwheel's `parse_ld_paths` reads them, so that the verdict is the
            // same wherever it is run: "" is the working folder, which for auditwheel is
            // the unpacked wheel; another relative entry is taken from `/` (the loader
            // would take both from the running program's folder, which is anyone's).
            let d = if dir.is_empty() {
                WHEEL_ROOT.to_owned()
            } else if dir.contains("$ORIGIN") || dir.contains("${ORIGIN}") {
                let origin = dirname(path);
                dir.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
            } else if dir.starts_with('/') {
                dir.clone()
            } else {
                format!("/{dir}")
            };
            let d = normpath(&d);
            if !out.contains(&d) {
                out.push(d);
            }
        }
        out.retain(|d| self.is_dir(d));
        out
    }

    /// A file's own RPATH and RUNPATH; its RPATH is ignored when it has a RUNPATH.
    fn own_paths(&mut self, facts: &ElfFacts, path: &str) -> (Vec<String>, Vec<String>) {
        if let Some(known) = self.own.get(path) {
            return known.clone();
        }
        let runpath = self.expand(&facts.runpath, path);
        let rpath = if runpath.is_empty() {
            self.expand(&facts.rpath, path)
        } else {
            Vec::new()
        };
        self.own
            .insert(path.to_owned(), (rpath.clone(), runpath.clone()));
        (rpath, runpath)
    }

    fn search_paths(&mut self, libc: Option<Libc>) -> SearchPaths {
        if let Some(p) = self.paths.get(&libc) {
            return p.clone();
        }
        let p = self.host.search_paths(libc);
        self.paths.insert(libc, p.clone());
        p
    }

    /// The file at a search candidate, from the wheel or the host.
    fn candidate(&mut self, path: &str) -> Option<(LibraryLocation, Arc<ElfFacts>)> {
        if let Some(member) = path
            .strip_prefix(WHEEL_ROOT)
            .and_then(|p| p.strip_prefix('/'))
        {
            return self
                .members
                .get(member)
                .map(|f| (LibraryLocation::InWheel(member.to_owned()), f.clone()));
        }
        let (real, facts) = self.host.open(path)?;
        Some((LibraryLocation::External(real), facts?))
    }
}

fn virtual_path(location: &LibraryLocation) -> String {
    match location {
        LibraryLocation::InWheel(member) => format!("{WHEEL_ROOT}/{member}"),
        LibraryLocation::External(path) => path.clone(),
    }
}

/// Whether a candidate can stand in for a need of `of` (auditwheel's
/// `Platform.is_compatible`): same class, byte order and machine, and an OS ABI of the
/// same family (none/System V/GNU/Linux are one). Where `of` has an architecture, the
/// candidate must have the same: a soft-float or old-EABI ARM library is skipped for an
/// armv7l file, as the hard-float loader skips it (auditwheel takes it, then stops:
/// "armv7l shall use hard-float"; grafted, it would not load).
fn compatible(of: &ElfFacts, candidate: &ElfFacts) -> bool {
    of.platform.is_compatible(&candidate.platform)
        && (of.arch.is_none() || candidate.arch == of.arch)
}

impl<H: HostFiles> LibraryResolver for WheelResolver<'_, H> {
    fn resolve(&mut self, soname: &str, request: &ResolveRequest<'_>) -> Option<Resolved> {
        let top_path = format!("{WHEEL_ROOT}/{}", request.top_path);
        let libc = if self.android {
            Some(Libc::Android)
        } else {
            detect_libc(file_name(request.top_path), request.top)
                .ok()
                .flatten()
        };
        let paths = self.search_paths(libc);
        let (top_rpath, top_runpath) = self.own_paths(request.top, &top_path);
        let (rpath, runpath) = match request.parent {
            None => (top_rpath.clone(), top_runpath.clone()),
            Some((location, facts)) => self.own_paths(facts, &virtual_path(location)),
        };
        let mut interp = Vec::new();
        if let Some(i) = &request.top.interpreter {
            let dir = dirname(&normpath(i)).to_owned();
            interp.push(normpath(&dir));
            interp.push(normpath(&format!("/usr{dir}")));
        }
        let search = top_rpath
            .iter()
            .chain(&rpath)
            .chain(&runpath)
            .chain(&paths.env)
            .chain(&top_runpath)
            .chain(&paths.conf)
            .chain(&interp)
            .cloned()
            .collect::<Vec<_>>();
        // A name with a leading slash is its own path, as Python's `os.path.join` gives
        // it for every folder of auditwheel's search (a library linked by path and without
        // a SONAME is needed by its absolute path): one candidate, if there is a folder.
        let paths: Vec<String> = if soname.starts_with('/') {
            search
                .first()
                .map(|_| normpath(soname))
                .into_iter()
                .collect()
        } else {
            search
                .iter()
                .map(|dir| format!("{}/{soname}", dir.trim_end_matches('/')))
                .collect()
        };
        for path in paths {
            if let Some((location, facts)) = self.candidate(&path) {
                if compatible(request.top, &facts) {
                    return Some(Resolved { location, facts });
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::input::ElfPlatform;
    use crate::wheel::tags::Arch;

    /// Two folders on the search path, each with a `libx.so.1`.
    struct TwoFolders(HashMap<String, Arc<ElfFacts>>);

    impl HostFiles for TwoFolders {
        fn search_paths(&mut self, _: Option<Libc>) -> SearchPaths {
            SearchPaths {
                env: vec!["/first".into(), "/second".into()],
                conf: Vec::new(),
            }
        }
        fn is_dir(&mut self, path: &str) -> bool {
            matches!(path, "/first" | "/second")
        }
        fn open(&mut self, path: &str) -> Option<(String, Option<Arc<ElfFacts>>)> {
            self.0.get(path).map(|f| (path.to_owned(), Some(f.clone())))
        }
    }

    fn arm(arch: Option<Arch>) -> ElfFacts {
        ElfFacts {
            platform: ElfPlatform {
                os_abi: 0,
                is_64: false,
                little_endian: true,
                machine: 40,
            },
            arch,
            ..ElfFacts::default()
        }
    }

    /// A soft-float ARM library first on the path is passed over for the hard-float one
    /// after it, for an armv7l extension; for a file of no known architecture the first
    /// compatible one is still taken.
    #[test]
    fn a_library_of_another_arm_float_abi_is_passed_over() {
        let mut host = TwoFolders(HashMap::from([
            ("/first/libx.so.1".to_owned(), Arc::new(arm(None))),
            (
                "/second/libx.so.1".to_owned(),
                Arc::new(arm(Some(Arch::Armv7l))),
            ),
        ]));
        let members = HashMap::new();
        let mut r = WheelResolver::new(&members, ["pkg/_ext.so"], &mut host);
        for (top, want) in [
            (arm(Some(Arch::Armv7l)), "/second/libx.so.1"),
            (arm(None), "/first/libx.so.1"),
        ] {
            let request = ResolveRequest {
                top_path: "pkg/_ext.so",
                top: &top,
                parent: None,
            };
            let found = r.resolve("libx.so.1", &request).expect("found");
            assert_eq!(found.location, LibraryLocation::External(want.into()));
        }
    }

    /// As auditwheel reads an RPATH: "" is the unpacked wheel's top, a relative entry is
    /// taken from `/`, wherever the audit runs.
    #[test]
    fn empty_and_relative_rpath_entries_as_auditwheel_reads_them() {
        let mut host = TwoFolders(HashMap::new());
        let members = HashMap::from([("libtop.so".to_owned(), Arc::new(arm(None)))]);
        let mut r = WheelResolver::new(&members, ["pkg/_ext.so"], &mut host);
        let dirs = [String::new(), "second".to_owned(), "nowhere".to_owned()];
        assert_eq!(
            r.expand(&dirs, &format!("{WHEEL_ROOT}/pkg/_ext.so")),
            [WHEEL_ROOT, "/second"]
        );
    }
}
