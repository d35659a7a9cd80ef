//! The dependency tree of one ELF file of a wheel: every library it reaches through
//! DT_NEEDED, by name, and where each was found; auditwheel's `lddtree.ldd` result
//! (`DynamicExecutable`), minus the searching.
//!
//! The core never searches a disk, so finding a library is a [`LibraryResolver`]'s job
//! (the CLI's resolver reads ld.so.conf, LD_LIBRARY_PATH, RPATH/RUNPATH; a browser has
//! only the wheel). [`DependencyTree::build`] does the rest of `ldd` exactly: the walk
//! order (depth first, in DT_NEEDED order), the first resolution of a name winning for
//! the whole tree, `--exclude` patterns, libpython left unresolved (auditwheel #589), and
//! the program interpreter entered as a library. A tree may also be built by hand.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::input::{file_name, ElfFacts, IsaLevel, VersionNeed};

/// Where a library was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "where", content = "path", rename_all = "snake_case")]
pub enum LibraryLocation {
    /// A member of the wheel being audited (its member path): never "external".
    InWheel(String),
    /// A file outside the wheel, by its real path (symlinks resolved).
    External(String),
}

impl LibraryLocation {
    /// The member path or the real path.
    pub fn path(&self) -> &str {
        match self {
            Self::InWheel(p) | Self::External(p) => p,
        }
    }
}

impl fmt::Display for LibraryLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

/// One library of a tree (auditwheel's `DynamicLibrary`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeLibrary {
    /// Where it was found; `None` when it was not found (or is libpython).
    pub location: Option<LibraryLocation>,
    /// Its DT_NEEDED names, after `--exclude`.
    pub needed: Vec<String>,
    /// Its `.gnu.version_r` (used when it is an external library).
    pub version_needs: Vec<VersionNeed>,
    /// Its ISA level (checked when it is an external library).
    pub isa: IsaLevel,
}

impl TreeLibrary {
    /// A library that was not found.
    pub fn unresolved() -> Self {
        Self {
            location: None,
            needed: Vec::new(),
            version_needs: Vec::new(),
            isa: IsaLevel::Baseline,
        }
    }

    /// A library found at `location`, with the facts of its file.
    pub fn found(location: LibraryLocation, facts: &ElfFacts) -> Self {
        Self {
            location: Some(location),
            needed: facts.needed.clone(),
            version_needs: facts.version_needs.clone(),
            isa: facts.isa,
        }
    }

    /// Whether it was found outside the wheel.
    pub fn external_path(&self) -> Option<&str> {
        match &self.location {
            Some(LibraryLocation::External(p)) => Some(p),
            _ => None,
        }
    }
}

/// The dependency tree of one ELF file (auditwheel's `DynamicExecutable`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DependencyTree {
    /// The file's own DT_NEEDED names, after `--exclude`.
    pub needed: Vec<String>,
    /// Every library reached, by DT_NEEDED name (the interpreter by its file name).
    pub libraries: BTreeMap<String, TreeLibrary>,
}

/// A library a resolver found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Where.
    pub location: LibraryLocation,
    /// The facts of the file found (shared: a library of the wheel that many others
    /// need is found many times, and its facts hold every symbol).
    pub facts: Arc<ElfFacts>,
}

/// Who asks for a library: the wheel member at the top of the tree and the file whose
/// DT_NEEDED names it (the top itself, or a library found before).
#[derive(Debug, Clone, Copy)]
pub struct ResolveRequest<'a> {
    /// The wheel member whose tree this is.
    pub top_path: &'a str,
    /// Its facts (its RPATH/RUNPATH apply to the whole tree).
    pub top: &'a ElfFacts,
    /// The file naming the library: `None` for the top itself.
    pub parent: Option<(&'a LibraryLocation, &'a ElfFacts)>,
}

/// Finds libraries for [`DependencyTree::build`].
///
/// To agree with auditwheel a resolver searches, in this order: the top's DT_RPATH, the
/// parent's DT_RPATH (both ignored when the respective file has a DT_RUNPATH), the
/// parent's DT_RUNPATH, `$AUDITWHEEL_LD_LIBRARY_PATH` + `$LD_LIBRARY_PATH`, the top's
/// DT_RUNPATH, ld.so.conf plus `/lib`, `/lib64`, `/usr/lib`, `/usr/lib64` (musl: its
/// `/etc/ld-musl-*.path` or `/lib:/usr/local/lib:/usr/lib`), then the interpreter's
/// folder and its `/usr` twin; `$ORIGIN` expands to the folder of the file that carries
/// the path; only existing folders count. A candidate counts only when its ELF class,
/// byte order, machine and OS ABI (NONE/SYSV/GNU/LINUX are one) match the top's.
pub trait LibraryResolver {
    /// Finds `soname` for `request`, or `None`.
    fn resolve(&mut self, soname: &str, request: &ResolveRequest<'_>) -> Option<Resolved>;

    /// The real location of the program interpreter named by `PT_INTERP`
    /// (auditwheel follows symlinks and does not check that it exists).
    fn interpreter(&mut self, path: &str) -> LibraryLocation {
        LibraryLocation::External(path.to_owned())
    }
}

impl DependencyTree {
    /// Walks the tree of the wheel member `top_path` the way auditwheel's `ldd` does.
    /// `exclude` holds `--exclude` patterns (`fnmatch` globs), matched against each
    /// DT_NEEDED name and against the path a library was found at (for a wheel member,
    /// its member path, where auditwheel sees the path in its unpacked copy).
    pub fn build(
        top_path: &str,
        top: &ElfFacts,
        resolver: &mut dyn LibraryResolver,
        exclude: &[String],
    ) -> Self {
        let mut libraries = BTreeMap::new();
        if let Some(interp) = &top.interpreter {
            // `_all_libs[basename(interp)]`, with the top's platform and no needs.
            let location = resolver.interpreter(interp);
            let mut lib = TreeLibrary::unresolved();
            lib.location = Some(location);
            lib.isa = top.isa;
            libraries.insert(file_name(interp).to_owned(), lib);
        }
        let mut walk = Walk {
            top_path,
            top,
            resolver,
            exclude,
            libraries,
        };
        let needed = walk.visit(None, &top.needed);
        Self {
            needed,
            libraries: walk.libraries,
        }
    }

    /// Whether every library of the tree was found (auditwheel's test for a tree that may
    /// lend its resolutions to a non-extension ELF; see `_fixup_elf_trees`).
    pub fn fully_resolved(&self) -> bool {
        self.libraries.values().all(|l| l.location.is_some())
    }
}

struct Walk<'a, 'r> {
    top_path: &'a str,
    top: &'a ElfFacts,
    resolver: &'r mut dyn LibraryResolver,
    exclude: &'a [String],
    libraries: BTreeMap<String, TreeLibrary>,
}

impl Walk<'_, '_> {
    /// One `ldd` call: resolves `needed` of `parent`, recursing depth first; returns
    /// `needed` without the excluded names.
    fn visit(
        &mut self,
        parent: Option<(&LibraryLocation, &ElfFacts)>,
        needed: &[String],
    ) -> Vec<String> {
        let mut excluded: Vec<&str> = Vec::new();
        for soname in needed {
            if self.libraries.contains_key(soname) || excluded.contains(&soname.as_str()) {
                continue;
            }
            if self.exclude.iter().any(|p| fnmatch(soname, p)) {
                excluded.push(soname);
                continue;
            }
            if is_libpython(soname) {
                self.libraries
                    .insert(soname.clone(), TreeLibrary::unresolved());
                continue;
            }
            let request = ResolveRequest {
                top_path: self.top_path,
                top: self.top,
                parent,
            };
            let found = self.resolver.resolve(soname, &request);
            let Some(found) = found else {
                self.libraries
                    .insert(soname.clone(), TreeLibrary::unresolved());
                continue;
            };
            if self
                .exclude
                .iter()
                .any(|p| fnmatch(found.location.path(), p))
            {
                excluded.push(soname);
                continue;
            }
            // A placeholder first, so a cycle back to this name stops here.
            let mut placeholder = TreeLibrary::unresolved();
            placeholder.location = Some(found.location.clone());
            self.libraries.insert(soname.clone(), placeholder);
            let kept = self.visit(Some((&found.location, &*found.facts)), &found.facts.needed);
            let mut lib = TreeLibrary::found(found.location, &found.facts);
            lib.needed = kept;
            self.libraries.insert(soname.clone(), lib);
        }
        needed
            .iter()
            .filter(|n| !excluded.contains(&n.as_str()))
            .cloned()
            .collect()
    }
}

/// auditwheel's `LIBPYTHON_RE`, `^libpython\d+\.\d+m?.so(\.\d)*$` (the `.` before `so`
/// matches any character; each `(\.\d)` is one digit).
pub fn is_libpython(soname: &str) -> bool {
    fn digits(s: &[u8]) -> usize {
        s.iter().take_while(|b| b.is_ascii_digit()).count()
    }
    let Some(rest) = soname.strip_prefix("libpython") else {
        return false;
    };
    let mut s = rest.as_bytes();
    let n = digits(s);
    if n == 0 || s.get(n) != Some(&b'.') {
        return false;
    }
    s = &s[n + 1..];
    let n = digits(s);
    if n == 0 {
        return false;
    }
    s = &s[n..];
    let tail = |s: &[u8]| -> bool {
        // any one character, `so`, then (`.` digit)*
        let Some((_, rest)) = split_first_char(s) else {
            return false;
        };
        let Some(mut rest) = rest.strip_prefix(b"so") else {
            return false;
        };
        while !rest.is_empty() {
            match rest {
                [b'.', d, more @ ..] if d.is_ascii_digit() => rest = more,
                _ => return false,
            }
        }
        true
    };
    tail(s) || s.first() == Some(&b'm') && tail(&s[1..])
}

/// Splits off the first UTF-8 character of a byte string.
fn split_first_char(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let first = *s.first()?;
    let len = match first {
        b if b < 0x80 => 1,
        b if b >= 0xF0 => 4,
        b if b >= 0xE0 => 3,
        _ => 2,
    };
    (s.len() >= len).then(|| s.split_at(len))
}

/// Python's `fnmatch.fnmatch` on POSIX (case-sensitive): `*`, `?`, `[seq]`, `[!seq]`;
/// `*` and `?` match `/` too; an unclosed `[` is a literal.
pub fn fnmatch(name: &str, pattern: &str) -> bool {
    let name: Vec<char> = name.chars().collect();
    let pat: Vec<char> = pattern.chars().collect();
    // Iterative matching with backtracking to the last `*`.
    let (mut n, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pat.len() {
            match pat[p] {
                '*' => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                '?' => {
                    n += 1;
                    p += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class(&pat, p, name[n]) {
                        if matched {
                            n += 1;
                            p = next;
                            continue;
                        }
                    } else if name[n] == '[' {
                        n += 1;
                        p += 1;
                        continue;
                    }
                }
                c if c == name[n] => {
                    n += 1;
                    p += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    pat[p..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class starting at `pat[start] == '['`; `None` when the class
/// is not closed. Returns whether it matched and the index after the class.
fn class(pat: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = pat.get(i) == Some(&'!');
    if negate {
        i += 1;
    }
    let first = i;
    let mut matched = false;
    loop {
        let ch = *pat.get(i)?;
        if ch == ']' && i > first {
            return Some((matched != negate, i + 1));
        }
        if pat.get(i + 1) == Some(&'-') && pat.get(i + 2).is_some_and(|&e| e != ']') {
            let end = pat[i + 2];
            if ch <= c && c <= end {
                matched = true;
            }
            i += 3;
        } else {
            if ch == c {
                matched = true;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn libpython_names() {
        for yes in [
            "libpython3.11.so.1.0",
            "libpython3.8m.so",
            "libpython2.7.so.1.0",
            "libpython3.12.so",
            "libpython3.11xso",
        ] {
            assert!(is_libpython(yes), "{yes}");
        }
        for no in [
            "libpython3.so",
            "libpython.so",
            "libpython3.11.so.10",
            "libpython3.11.so.1.",
            "libpython3.11.soa",
            "libfoo.so",
        ] {
            assert!(!is_libpython(no), "{no}");
        }
    }

    #[test]
    fn fnmatch_like_python() {
        assert!(fnmatch("libfoo.so.1", "libfoo.so.*"));
        assert!(fnmatch("libfoo.so.1", "libfoo.so.?"));
        assert!(!fnmatch("libfoo.so.12", "libfoo.so.?"));
        assert!(fnmatch("/usr/lib/libfoo.so.1", "*/libfoo.so*"));
        assert!(fnmatch("libcuda.so.1", "libcu[a-z]a.so.[0-9]"));
        assert!(!fnmatch("libcuda.so.1", "libcu[!d]a.so.1"));
        assert!(fnmatch("lib[x.so", "lib[x.so"));
        assert!(fnmatch("]", "[]]"));
        assert!(fnmatch("x-", "x[a-]"));
        assert!(fnmatch("", "*"));
        assert!(!fnmatch("libfoo.so", "libbar.so"));
        assert!(fnmatch("abcabd", "*abd"));
    }

    struct Disk(HashMap<&'static str, (LibraryLocation, ElfFacts)>);

    impl LibraryResolver for Disk {
        fn resolve(&mut self, soname: &str, _: &ResolveRequest<'_>) -> Option<Resolved> {
            self.0.get(soname).map(|(location, facts)| Resolved {
                location: location.clone(),
                facts: Arc::new(facts.clone()),
            })
        }
    }

    fn facts(needed: &[&str]) -> ElfFacts {
        ElfFacts {
            needed: needed.iter().map(|&s| s.to_owned()).collect(),
            ..ElfFacts::default()
        }
    }

    #[test]
    fn build_walks_like_ldd() {
        let ext = |p: &str| LibraryLocation::External(p.to_owned());
        let mut disk = Disk(HashMap::from([
            ("libc.so.6", (ext("/lib64/libc.so.6"), facts(&[]))),
            (
                "libfoo.so.1",
                (
                    ext("/usr/lib/libfoo.so.1"),
                    facts(&["libbar.so.2", "libc.so.6"]),
                ),
            ),
            (
                "libbar.so.2",
                (
                    ext("/usr/lib/libbar.so.2"),
                    facts(&["libfoo.so.1", "libbaz.so"]),
                ),
            ),
            ("libskip.so", (ext("/opt/libskip.so"), facts(&[]))),
        ]));
        let mut top = facts(&[
            "libfoo.so.1",
            "libc.so.6",
            "libpython3.11.so.1.0",
            "libgone.so",
            "libskip.so",
        ]);
        top.interpreter = Some("/lib64/ld-linux-x86-64.so.2".into());
        let tree = DependencyTree::build("pkg/_ext.so", &top, &mut disk, &["/opt/*".to_owned()]);
        assert_eq!(
            tree.needed,
            [
                "libfoo.so.1",
                "libc.so.6",
                "libpython3.11.so.1.0",
                "libgone.so"
            ]
        );
        let names: Vec<&str> = tree.libraries.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "ld-linux-x86-64.so.2",
                "libbar.so.2",
                "libbaz.so",
                "libc.so.6",
                "libfoo.so.1",
                "libgone.so",
                "libpython3.11.so.1.0"
            ]
        );
        assert_eq!(
            tree.libraries["libbar.so.2"].needed,
            ["libfoo.so.1", "libbaz.so"]
        );
        assert_eq!(
            tree.libraries["libfoo.so.1"].external_path(),
            Some("/usr/lib/libfoo.so.1")
        );
        assert!(tree.libraries["libpython3.11.so.1.0"].location.is_none());
        assert!(tree.libraries["libbaz.so"].location.is_none());
        assert!(!tree.fully_resolved());
        let by_name = DependencyTree::build(
            "x.so",
            &facts(&["libskip.so"]),
            &mut disk,
            &["libskip*".to_owned()],
        );
        assert!(by_name.needed.is_empty() && by_name.libraries.is_empty());
    }
}
