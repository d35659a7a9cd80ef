//! Which system package provides a file, asked of the package manager the way
//! auditwheel's `whichprovides` asks it (apk, rpm, then dpkg), for the SBOM `repair`
//! writes. A host without one, or a file no package owns, gives `None`.
//!
//! dpkg is not started: its answers are read from its own database, which is what
//! `dpkg -S` and `dpkg -s` read too. A file no package owns can only be told apart by
//! reading every file list (a thousand files or more), so the paths of a wheel are looked
//! up together in one pass, and what does not change during a run (the folder listing,
//! the status database, which programs exist) is read once.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

use memchr::memmem::Finder;
use truewheel_core::repair::sbom::Provider;

/// The host's `ID` from `/etc/os-release`, read once.
fn distro() -> Option<&'static str> {
    static DISTRO: OnceLock<Option<String>> = OnceLock::new();
    DISTRO
        .get_or_init(|| {
            let text = std::fs::read_to_string("/etc/os-release").ok()?;
            text.lines().find_map(|l| {
                let v = l.strip_prefix("ID=")?;
                Some(v.trim_matches('"').to_owned())
            })
        })
        .as_deref()
}

/// Whether a program is on `PATH` (spawning a missing one costs a dozen failed execs).
/// Asked once a run for each program: every library would ask again.
fn on_path(program: &'static str) -> bool {
    static FOUND: OnceLock<Mutex<HashMap<&'static str, bool>>> = OnceLock::new();
    let found = FOUND.get_or_init(Default::default);
    if let Some(&known) = found.lock().ok().as_ref().and_then(|m| m.get(program)) {
        return known;
    }
    let here = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()));
    if let Ok(mut m) = found.lock() {
        m.insert(program, here);
    }
    here
}

fn output(program: &'static str, args: &[&str]) -> Option<String> {
    if !on_path(program) {
        return None;
    }
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

const DPKG_INFO: &str = "/var/lib/dpkg/info";
const DPKG_STATUS: &str = "/var/lib/dpkg/status";

/// The names of dpkg's file lists (`<package>[:<arch>].list`), in byte order, or `None`
/// where the folder cannot be read. Listed once a run: the folder holds thousands of
/// files, and listing it costs a millisecond.
fn dpkg_lists() -> Option<&'static [String]> {
    static LISTS: OnceLock<Option<Vec<String>>> = OnceLock::new();
    LISTS
        .get_or_init(|| {
            let dir = std::fs::read_dir(DPKG_INFO).ok()?;
            let mut names: Vec<String> = dir
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                // `.list` alone has no package name.
                .filter(|n| n.len() > ".list".len() && n.ends_with(".list"))
                .collect();
            // Plain strings: comparing them as paths splits them into components first.
            names.sort_unstable();
            Some(names)
        })
        .as_deref()
}

/// Bytes read from a list at a time. The lists are read through one small buffer that
/// stays in cache, searched window by window: reading each whole list into a buffer
/// grown to the largest one (4 MB here) cost a fresh process more in page faults and
/// copies to memory than the reads and searches themselves (the pass over every list
/// fell from 9-12 ms to 5-6 ms).
const WINDOW: usize = 64 << 10;

/// Which of `wanted` dpkg's list `name` names (`found[i]` for `wanted[i]`). `buf` is
/// reused from list to list.
fn search_list(
    name: &str,
    wanted: &[&Wanted<'_>],
    buf: &mut Vec<u8>,
) -> std::io::Result<Vec<bool>> {
    let file = File::open(std::path::Path::new(DPKG_INFO).join(name))?;
    search(file, wanted, buf, WINDOW)
}

/// Which of `wanted` the lines `file` reads name, read `window` bytes at a time (or
/// more, for long paths); stops reading once all are found.
fn search(
    mut file: impl Read,
    wanted: &[&Wanted<'_>],
    buf: &mut Vec<u8>,
    window: usize,
) -> std::io::Result<Vec<bool>> {
    let mut found = vec![false; wanted.len()];
    // A line split between two windows is found in the second: the end of each window
    // that could start a match is carried over to the next.
    let carry = wanted.iter().map(|w| w.line.len() - 1).max().unwrap_or(0);
    buf.resize(window.max(4 * carry), 0);
    // The newline a list's first line lacks, so that `\n<path>\n` finds it too.
    buf[0] = b'\n';
    let mut len = 1;
    loop {
        let n = match file.read(&mut buf[len..]) {
            Ok(0) => return Ok(found),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        len += n;
        for (w, f) in wanted.iter().zip(&mut found) {
            *f = *f || w.finder.find(&buf[..len]).is_some();
        }
        if found.iter().all(|&f| f) {
            return Ok(found);
        }
        let keep = len.saturating_sub(carry);
        buf.copy_within(keep..len, 0);
        len -= keep;
    }
}

/// One path looked for in the file lists.
struct Wanted<'a> {
    /// The line a list holds for it, with the newlines around it.
    line: Vec<u8>,
    finder: Finder<'static>,
    /// The start of its file name: the package is nearly always named after the library
    /// (`libyaml-0.so.2` is in `libyaml-0-2`), so those lists are read first.
    stem: &'a str,
    /// The stem as a package name spells it: `_` is not allowed there
    /// (`libgssapi_krb5.so.2` is in `libgssapi-krb5-2`).
    dashed: String,
}

impl<'a> Wanted<'a> {
    fn new(path: &'a str) -> Self {
        let line = format!("\n{path}\n").into_bytes();
        let file = path.rsplit('/').next().unwrap_or(path);
        let stem = file.split(['.', '-']).next().unwrap_or(file);
        Self {
            finder: Finder::new(&line).into_owned(),
            line,
            stem,
            dashed: stem.replace('_', "-"),
        }
    }

    /// Whether list `name` is named after this path's file.
    fn named_after(&self, name: &str) -> bool {
        name.starts_with(self.stem) || name.starts_with(&self.dashed)
    }
}

/// `libyaml-0-2:amd64.list` → (`libyaml-0-2`, `amd64`).
fn owner_of(list: &str) -> (String, Option<String>) {
    let stem = list.strip_suffix(".list").unwrap_or(list);
    let (name, arch) = split_arch(stem);
    (name.to_owned(), arch.map(str::to_owned))
}

/// The packages whose file lists name `paths`: what `dpkg -S` answers for each, read
/// from dpkg's own lists (`/var/lib/dpkg/info/<package>[:<arch>].list`), which takes a
/// tenth of the time of starting dpkg; `dpkg -S` itself where the lists are not
/// readable. Each answer is the package and, for a multi-arch list, its architecture.
///
/// For each path, the lists named after its file are read first; then, for the paths
/// still unanswered, the lists that answered others (a package ships sibling libraries:
/// `libcrypto.so.3` is in `libssl3`, `liblber` in `libldap`); then all the others, in
/// name order, and the first list naming the path answers. The last round is one
/// pass for all the paths still unanswered: a file no package owns (a private library
/// found through `LD_LIBRARY_PATH`) means reading every list, so two such files cost
/// one reading, not two. One thread reads: the lists are small, and two threads opening
/// files in one folder wait on each other more than they gain.
fn dpkg_owners(paths: &[&str]) -> Vec<Option<(String, Option<String>)>> {
    let Some(lists) = dpkg_lists() else {
        return paths
            .iter()
            .map(|path| {
                // "libyaml-0-2:amd64: /usr/lib/x86_64-linux-gnu/libyaml-0.so.2.0.9"
                let out = output("dpkg", &["-S", path])?;
                let owner = out.lines().next()?.split(": ").next()?;
                let (name, arch) = split_arch(owner);
                Some((name.to_owned(), arch.map(str::to_owned)))
            })
            .collect();
    };
    let wanted: Vec<Wanted<'_>> = paths.iter().map(|p| Wanted::new(p)).collect();
    let mut owners = vec![None; paths.len()];
    let mut buf = Vec::new();
    for (w, owner) in wanted.iter().zip(&mut owners) {
        *owner = lists
            .iter()
            .filter(|name| w.named_after(name))
            .find(|name| search_list(name, &[w], &mut buf).is_ok_and(|f| f[0]))
            .map(String::as_str);
    }
    let mut siblings: Vec<&str> = owners.iter().flatten().copied().collect();
    siblings.sort_unstable();
    siblings.dedup();
    let mut pending: Vec<usize> = (0..paths.len()).filter(|&i| owners[i].is_none()).collect();
    let sibling_lists = siblings.iter().copied();
    let other_lists = lists
        .iter()
        .map(String::as_str)
        .filter(|name| siblings.binary_search(name).is_err());
    for name in sibling_lists.chain(other_lists) {
        if pending.is_empty() {
            break;
        }
        // The lists named after a path's file were read in the first round.
        let unread: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|&i| !wanted[i].named_after(name))
            .collect();
        if unread.is_empty() {
            continue;
        }
        let asked: Vec<&Wanted<'_>> = unread.iter().map(|&i| &wanted[i]).collect();
        let Ok(hits) = search_list(name, &asked, &mut buf) else {
            continue;
        };
        let found: Vec<usize> = unread
            .iter()
            .zip(hits)
            .filter_map(|(&i, hit)| hit.then_some(i))
            .collect();
        for &i in &found {
            owners[i] = Some(name);
        }
        pending.retain(|i| !found.contains(i));
    }
    owners.into_iter().map(|o| o.map(owner_of)).collect()
}

/// `libyaml-0-2:amd64` → (`libyaml-0-2`, `amd64`).
fn split_arch(owner: &str) -> (&str, Option<&str>) {
    match owner.split_once(':') {
        Some((name, arch)) => (name, Some(arch)),
        None => (owner, None),
    }
}

/// The installed version of a package, as `dpkg -s` prints it, read from dpkg's status
/// database (starting dpkg costs more than the rest of a small repair), which is read
/// once a run.
fn dpkg_version(name: &str, arch: Option<&str>) -> Option<String> {
    static STATUS: OnceLock<Option<String>> = OnceLock::new();
    let Some(status) = STATUS
        .get_or_init(|| std::fs::read_to_string(DPKG_STATUS).ok())
        .as_deref()
    else {
        let out = output("dpkg", &["-s", name])?;
        return version_field(&out);
    };
    installed_version(status, name, arch)
}

/// The `Version:` of the installed stanza for `name` (and `arch`, when given) in a dpkg
/// status file.
fn installed_version(status: &str, name: &str, arch: Option<&str>) -> Option<String> {
    // Only a stanza that holds the name can match: searching for it skips the other
    // thousands without reading their fields.
    let holds_name = Finder::new(name.as_bytes());
    stanzas(status).find_map(|stanza| {
        holds_name.find(stanza.as_bytes())?;
        let field = |key: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(": "))
        };
        let installed = || field("Status").is_some_and(|s| s.ends_with(" installed"));
        let arch_ok =
            || arch.is_none_or(|a| field("Architecture").is_none_or(|x| x == a || x == "all"));
        (field("Package") == Some(name) && installed() && arch_ok())
            .then(|| version_field(stanza))
            .flatten()
    })
}

/// The stanzas of a status file, as `split("\n\n")` gives them, found with a vector
/// search.
fn stanzas(status: &str) -> impl Iterator<Item = &str> {
    let mut ends =
        memchr::memmem::find_iter(status.as_bytes(), b"\n\n").chain(std::iter::once(status.len()));
    let mut start = 0;
    std::iter::from_fn(move || {
        let end = ends.next()?;
        // The separator is ASCII, so both ends are character boundaries.
        let stanza = &status[start..end];
        start = end + 2;
        Some(stanza)
    })
}

fn version_field(text: &str) -> Option<String> {
    Some(
        text.lines()
            .find_map(|l| l.strip_prefix("Version: "))?
            .split_whitespace()
            .next()?
            .to_owned(),
    )
}

/// apk's or rpm's answer, where either is installed.
fn apk_or_rpm(path: &str, make: &dyn Fn(&str, &str, &str) -> Provider) -> Option<Provider> {
    // apk: "/usr/lib/libz.so.1 is owned by zlib-1.3.1-r0"
    if let Some(out) = output("apk", &["info", "--who-owns", path]) {
        if let Some(owner) = out.lines().find_map(|l| l.split(" is owned by ").nth(1)) {
            if let Some((name, version)) = owner.trim().split_once('-') {
                return Some(make("apk", name, version));
            }
        }
    }
    let out = output(
        "rpm",
        &[
            "-qf",
            "--queryformat",
            "%{NAME} %{VERSION} %{RELEASE} %{ARCH}",
            path,
        ],
    )?;
    let parts: Vec<&str> = out.trim().split(' ').collect();
    match parts.as_slice() {
        [name, version, release, ..] => Some(make("rpm", name, &format!("{version}-{release}"))),
        _ => None,
    }
}

/// The packages that provide `paths`, where the host's package manager knows, in the
/// order given. The package manager is asked about the fully resolved path (on a
/// merged-/usr system dpkg knows `/usr/lib/...`, not `/lib/...`), as whichprovides does.
pub fn providers(paths: &[&str]) -> Vec<Option<Provider>> {
    // A repair of many wheels asks about the same libraries again and again; a library
    // no package owns costs a read of every dpkg list each time.
    static SEEN: OnceLock<Mutex<HashMap<String, Option<Provider>>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    let known: Vec<Option<Option<Provider>>> = {
        let m = seen.lock().ok();
        paths
            .iter()
            .map(|p| m.as_ref().and_then(|m| m.get(*p).cloned()))
            .collect()
    };
    let mut asked: Vec<&str> = paths
        .iter()
        .zip(&known)
        .filter(|(_, k)| k.is_none())
        .map(|(p, _)| *p)
        .collect();
    asked.sort_unstable();
    asked.dedup();
    let found = lookup(&asked);
    if let Ok(mut m) = seen.lock() {
        for (p, f) in asked.iter().zip(&found) {
            m.insert((*p).to_owned(), f.clone());
        }
    }
    paths
        .iter()
        .zip(known)
        .map(|(p, k)| {
            k.unwrap_or_else(|| {
                let i = asked
                    .binary_search(p)
                    .expect("every unknown path was asked");
                found[i].clone()
            })
        })
        .collect()
}

fn lookup(paths: &[&str]) -> Vec<Option<Provider>> {
    let mut out = vec![None; paths.len()];
    if paths.is_empty() {
        return out;
    }
    let Some(distro) = distro() else {
        return out;
    };
    let make = |kind: &str, name: &str, version: &str| Provider {
        package_type: kind.to_owned(),
        distro: Some(distro.to_owned()),
        name: name.to_owned(),
        version: version.to_owned(),
    };
    // (index, resolved path) of the paths left to dpkg.
    let mut for_dpkg: Vec<(usize, String)> = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let Ok(resolved) = std::fs::canonicalize(path) else {
            continue;
        };
        let Some(resolved) = resolved.to_str() else {
            continue;
        };
        match apk_or_rpm(resolved, &make) {
            Some(p) => out[i] = Some(p),
            None => for_dpkg.push((i, resolved.to_owned())),
        }
    }
    if for_dpkg.is_empty() {
        return out;
    }
    let resolved: Vec<&str> = for_dpkg.iter().map(|(_, p)| p.as_str()).collect();
    for ((i, _), owner) in for_dpkg.iter().zip(dpkg_owners(&resolved)) {
        out[*i] = owner.and_then(|(name, arch)| {
            let version = dpkg_version(&name, arch.as_deref())?;
            Some(make("deb", &name, &version))
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Package: libyaml-0-2\nStatus: install ok installed\nArchitecture: i386\nVersion: 0.2.4-1\n\n\
        Package: libyaml-0-2\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\nVersion: 0.2.5-1+b1\n\n\
        Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.0\n";

    #[test]
    fn versions_from_the_status_database() {
        assert_eq!(
            installed_version(STATUS, "libyaml-0-2", Some("amd64")).as_deref(),
            Some("0.2.5-1+b1")
        );
        assert_eq!(
            installed_version(STATUS, "libyaml-0-2", None).as_deref(),
            Some("0.2.4-1")
        );
        assert_eq!(installed_version(STATUS, "gone", None), None);
        assert_eq!(installed_version(STATUS, "absent", None), None);
    }

    #[test]
    fn owners_with_and_without_architecture() {
        assert_eq!(
            split_arch("libyaml-0-2:amd64"),
            ("libyaml-0-2", Some("amd64"))
        );
        assert_eq!(split_arch("zlib1g"), ("zlib1g", None));
    }

    #[test]
    fn stanzas_as_split_gives_them() {
        for text in [STATUS, "", "a", "a\n\n", "a\n\n\nb\n\n\n\nc", "\n\nx"] {
            assert_eq!(
                stanzas(text).collect::<Vec<_>>(),
                text.split("\n\n").collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    /// Lines are found wherever they fall: first, last, across a window's end; a path
    /// is not found inside a longer one, nor in a last line with no newline (as dpkg
    /// writes none).
    #[test]
    fn lines_found_across_windows() {
        let paths = ["/usr/lib/libfoo.so.1", "/usr/lib/libbar.so.2", "/lib/x"];
        let wanted: Vec<Wanted<'_>> = paths.iter().map(|p| Wanted::new(p)).collect();
        let all: Vec<&Wanted<'_>> = wanted.iter().collect();
        let cases: [(&str, [bool; 3]); 6] = [
            ("/usr/lib/libfoo.so.1\n/.\n", [true, false, false]),
            ("/.\n/usr\n/usr/lib/libbar.so.2\n", [false, true, false]),
            (
                "/.\n/usr/lib/libfoo.so.10\n/usr/lib/libbar.so.2\n",
                [false, true, false],
            ),
            ("/.\n/lib/x", [false, false, false]),
            (
                "/.\n/lib/xy\n/lib/x\n/usr/lib/libfoo.so.1\n",
                [true, false, true],
            ),
            ("", [false, false, false]),
        ];
        let mut buf = Vec::new();
        for (text, expected) in cases {
            for window in [1, 7, 23, 64, 4096] {
                // Padding shifts the lines across the window's ends.
                for pad in 0..24 {
                    let padded = format!("{}{text}", "/p\n".repeat(pad));
                    let found = search(padded.as_bytes(), &all, &mut buf, window).unwrap();
                    assert_eq!(found, expected, "{text:?}, window {window}, pad {pad}");
                }
            }
        }
    }

    #[test]
    fn owners_from_list_names() {
        assert_eq!(
            owner_of("libyaml-0-2:amd64.list"),
            ("libyaml-0-2".into(), Some("amd64".into()))
        );
        assert_eq!(owner_of("dpkg.list"), ("dpkg".into(), None));
    }

    /// The file lists answer as `dpkg -S` does, on this host's files: one found in a list
    /// named after it, one found in another list, and one no package owns; asked
    /// together and one at a time.
    #[test]
    fn owners_agree_with_dpkg_on_this_host() {
        if dpkg_lists().is_none() || !on_path("dpkg") {
            return;
        }
        let paths = [
            "/usr/bin/dpkg",
            "/usr/share/doc/libc6",
            "/etc/os-release",
            "/usr/lib/os-release",
            "/nonexistent/libtruewheel-test.so.1",
        ];
        let together = dpkg_owners(&paths);
        for (path, owner) in paths.iter().zip(&together) {
            assert_eq!(&dpkg_owners(&[path])[0], owner, "{path}");
            // "libc6:amd64, libc6:i386: /usr/share/doc/libc6", or nothing.
            let listed = output("dpkg", &["-S", path]).and_then(|out| {
                let line = out.lines().find(|l| !l.starts_with("diversion "))?;
                Some(
                    line.rsplit_once(": ")?
                        .0
                        .split(", ")
                        .map(str::to_owned)
                        .collect::<Vec<_>>(),
                )
            });
            let ours = owner.as_ref().map(|(name, arch)| match arch {
                Some(a) => format!("{name}:{a}"),
                None => name.clone(),
            });
            match (&listed, &ours) {
                (None, None) => {}
                (Some(all), Some(one)) => {
                    assert!(all.contains(one), "{path}: {one} not in {all:?}");
                }
                _ => panic!("{path}: dpkg says {listed:?}, the lists {ours:?}"),
            }
        }
    }

    /// A library found in the list of a sibling's package (`libm.so.6` in `libc6`, found
    /// for `libc.so.6`), asked together with it and alone (every list read), and the
    /// stem of a name with `_` spelled as a package spells it.
    #[test]
    fn siblings_and_dashed_stems() {
        let Some(lists) = dpkg_lists() else {
            return;
        };
        let Some(libc6) = lists.iter().find(|n| owner_of(n).0 == "libc6") else {
            return;
        };
        let text = std::fs::read_to_string(std::path::Path::new(DPKG_INFO).join(libc6)).unwrap();
        let find = |file: &str| text.lines().find(|l| l.ends_with(file)).map(str::to_owned);
        let (Some(libc), Some(libm)) = (find("/libc.so.6"), find("/libm.so.6")) else {
            return;
        };
        let together = dpkg_owners(&[&libm, &libc]);
        assert_eq!(together[0], Some(owner_of(libc6)));
        assert_eq!(together[1], Some(owner_of(libc6)));
        assert_eq!(dpkg_owners(&[&libm]), vec![Some(owner_of(libc6))]);
        let w = Wanted::new("/usr/lib/x86_64-linux-gnu/libgssapi_krb5.so.2");
        assert!(w.named_after("libgssapi-krb5-2:amd64.list"));
        assert!(!w.named_after("libgss3.list"));
    }

    /// The status database answers as `dpkg -s` does, on this host's packages.
    #[test]
    fn agrees_with_dpkg_on_this_host() {
        let Ok(status) = std::fs::read_to_string(DPKG_STATUS) else {
            return;
        };
        for pkg in ["dpkg", "libc6"] {
            let Some(out) = output("dpkg", &["-s", pkg]) else {
                continue;
            };
            let arch = out.lines().find_map(|l| l.strip_prefix("Architecture: "));
            assert_eq!(
                installed_version(&status, pkg, arch),
                version_field(&out),
                "{pkg}"
            );
        }
    }
}
