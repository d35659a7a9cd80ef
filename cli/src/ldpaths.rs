//! Where the host's dynamic loader looks for libraries, read the way auditwheel's
//! `lddtree.load_ld_paths` reads it (so our verdicts and grafts match): `/etc/ld.so.conf`
//! with its `include` globs, the trusted directories, `$AUDITWHEEL_LD_LIBRARY_PATH` and
//! `$LD_LIBRARY_PATH`; for musl, `/etc/ld-musl-*.path` or musl's defaults.

use std::path::{Path, PathBuf};

use truewheel_core::audit::resolve::normpath;
use truewheel_core::audit::SearchPaths;
use truewheel_core::policy::tree::fnmatch;
use truewheel_core::policy::Libc;

/// Reads the host's search paths for a C library under `root` (normally `/`). A file
/// or folder of the configuration that is there but cannot be read (too many open
/// files, an I/O error) is said in `errors`: its folders would be missed.
pub fn load(libc: Libc, root: &Path, errors: &mut Vec<String>) -> SearchPaths {
    let env: Vec<String> = ["AUDITWHEEL_LD_LIBRARY_PATH", "LD_LIBRARY_PATH"]
        .iter()
        // (A folder named with bytes that are not UTF-8 becomes a name that does not
        // exist and is dropped below, not the whole variable with it.)
        .filter_map(std::env::var_os)
        .flat_map(|v| env_paths(&v.to_string_lossy(), libc))
        .map(|p| absolute(&p))
        .collect();
    let env = dedupe(env)
        .into_iter()
        .filter(|p| Path::new(p).is_dir())
        .collect();
    let conf = match libc {
        Libc::Musl => musl_paths(root, errors),
        // No Android loader configuration is this machine's (the host asks for none).
        Libc::Android => Vec::new(),
        Libc::Glibc => {
            let mut conf = parse_ld_so_conf(&root.join("etc/ld.so.conf"), root, 0, errors);
            conf = dedupe(conf)
                .into_iter()
                .filter(|p| Path::new(p).is_dir())
                .collect();
            // The trusted directories need not be in ld.so.conf.
            conf.extend(["/lib", "/lib64/", "/usr/lib", "/usr/lib64"].map(String::from));
            conf
        }
    };
    SearchPaths { env, conf }
}

/// The folders of an `LD_LIBRARY_PATH` value, as the loader reads it: glibc's splits at
/// `:` and `;`, and takes an empty entry for the current folder (`$X:/opt/lib` with `X`
/// unset), as auditwheel does; musl's splits at `:` and skips empty entries. A value
/// that is empty as a whole is no path at all for both.
fn env_paths(value: &str, libc: Libc) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    match libc {
        Libc::Glibc => value
            .split([':', ';'])
            .map(|p| if p.is_empty() { "." } else { p })
            .map(normpath)
            .collect(),
        Libc::Musl | Libc::Android => value
            .split(':')
            .filter(|p| !p.is_empty())
            .map(normpath)
            .collect(),
    }
}

/// A relative folder as the loader finds it, from the current one; so named, a graft's
/// source is a path that still holds after the run (as auditwheel's real paths do).
fn absolute(p: &str) -> String {
    if p.starts_with('/') {
        return p.to_owned();
    }
    match std::env::current_dir() {
        Ok(cwd) => normpath(&cwd.join(p).to_string_lossy()),
        Err(_) => p.to_owned(),
    }
}

/// auditwheel's `--ldpaths`: these folders replace the loader's configuration; only
/// `$AUDITWHEEL_LD_LIBRARY_PATH` is read from the environment.
pub fn from_folders(dirs: &[String]) -> SearchPaths {
    let existing = |v: Vec<String>| -> Vec<String> {
        dedupe(
            v.into_iter()
                .filter(|p| !p.is_empty())
                .map(|p| normpath(&p))
                .collect(),
        )
        .into_iter()
        .filter(|p| Path::new(p).is_dir())
        .collect()
    };
    let env = std::env::var("AUDITWHEEL_LD_LIBRARY_PATH").unwrap_or_default();
    SearchPaths {
        env: existing(env.split(':').map(str::to_owned).collect()),
        conf: existing(dirs.to_vec()),
    }
}

fn musl_paths(root: &Path, errors: &mut Vec<String>) -> Vec<String> {
    let etc = root.join("etc");
    let files: Vec<PathBuf> = read_dir(&etc, errors)
        .into_iter()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("ld-musl-") && n.ends_with(".path"))
        })
        .collect();
    let root = root.to_string_lossy().trim_end_matches('/').to_owned();
    match files.first().and_then(|f| read_text(f, errors)) {
        Some(text) => text
            .split([':', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| format!("{root}{p}"))
            .collect(),
        None => ["/lib", "/usr/local/lib", "/usr/lib"]
            .iter()
            .map(|p| format!("{root}{p}"))
            .collect(),
    }
}

fn dedupe(items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items
        .into_iter()
        .filter(|i| seen.insert(i.clone()))
        .collect()
}

fn parse_ld_so_conf(
    file: &Path,
    root: &Path,
    depth: usize,
    errors: &mut Vec<String>,
) -> Vec<String> {
    // Include loops are possible in a broken configuration; the loader stops too.
    if depth > 16 {
        return Vec::new();
    }
    let Some(text) = read_text(file, errors) else {
        return Vec::new();
    };
    let root_s = root.to_string_lossy().trim_end_matches('/').to_owned();
    let mut paths = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(pattern) = line.strip_prefix("include ") {
            let pattern = pattern.trim();
            let pattern = if let Some(abs) = pattern.strip_prefix('/') {
                root.join(abs)
            } else {
                file.parent().unwrap_or(Path::new("/")).join(pattern)
            };
            for included in glob_into(&pattern, errors) {
                paths.extend(parse_ld_so_conf(&included, root, depth + 1, errors));
            }
        } else {
            paths.push(normpath(&format!("{root_s}/{line}")));
        }
    }
    paths
}

/// Expands `*`, `?` and `[...]` (fnmatch, as Python's glob) in the last component of a path,
/// sorted; configuration files rarely need more.
pub fn glob(pattern: &Path) -> Vec<PathBuf> {
    glob_into(pattern, &mut Vec::new())
}

/// A file's text: `None` when it is not there or not a regular file, or could not be
/// read (said in `errors`). A named pipe matched by an `include` is passed over: reading
/// it waited for a writer, and the run hung (ldconfig hangs on it too); a folder is
/// passed over, as ldconfig reads it as empty.
fn read_text(file: &Path, errors: &mut Vec<String>) -> Option<String> {
    let read = crate::io::read_regular(file).and_then(|bytes| {
        String::from_utf8(bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
    });
    match read {
        Ok(text) => Some(text),
        // (Not there for this user: passed over, as auditwheel passes it over; the
        // loader reads its cache, which root made.)
        Err(e) if crate::io::passed_over(&e) => None,
        Err(e) => {
            errors.push(crate::failure::Failure::io("read", file, &e).to_string());
            None
        }
    }
}

/// A folder's entries: none when it is not there, or could not be read (said in
/// `errors`).
fn read_dir(dir: &Path, errors: &mut Vec<String>) -> Vec<std::fs::DirEntry> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.flatten().collect(),
        Err(e) if crate::io::passed_over(&e) => Vec::new(),
        Err(e) => {
            errors.push(crate::failure::Failure::io("read", dir, &e).to_string());
            Vec::new()
        }
    }
}

/// [`glob`], saying in `errors` a folder that could not be read.
fn glob_into(pattern: &Path, errors: &mut Vec<String>) -> Vec<PathBuf> {
    let Some(name) = pattern.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    if !name.contains(['*', '?', '[']) {
        return if pattern.exists() {
            vec![pattern.to_path_buf()]
        } else {
            Vec::new()
        };
    }
    let dir = pattern.parent().unwrap_or(Path::new("/"));
    let mut out: Vec<PathBuf> = read_dir(dir, errors)
        .into_iter()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| !n.starts_with('.') && fnmatch(n, name))
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_path_entries_as_each_loader_reads_them() {
        assert_eq!(env_paths("", Libc::Glibc), Vec::<String>::new());
        assert_eq!(
            env_paths(":/opt/a;b::", Libc::Glibc),
            [".", "/opt/a", "b", ".", "."]
        );
        assert_eq!(env_paths(":/opt/a;b::", Libc::Musl), ["/opt/a;b"]);
    }

    #[test]
    fn wildcards() {
        assert!(fnmatch("x86_64-linux-gnu.conf", "*.conf"));
        assert!(!fnmatch("x.conf.bak", "*.conf"));
        assert!(fnmatch("liba.so", "lib?.so"));
    }

    #[test]
    fn reads_a_conf_tree_with_includes() {
        let root = tempfile::tempdir().unwrap();
        let etc = root.path().join("etc");
        std::fs::create_dir_all(etc.join("ld.so.conf.d")).unwrap();
        std::fs::create_dir_all(root.path().join("opt/a")).unwrap();
        std::fs::create_dir_all(root.path().join("opt/b")).unwrap();
        std::fs::write(
            etc.join("ld.so.conf"),
            "# comment\ninclude /etc/ld.so.conf.d/*.conf\n/opt/b\n",
        )
        .unwrap();
        std::fs::write(
            etc.join("ld.so.conf.d/one.conf"),
            "/opt/a # trailing\n/opt/missing\n",
        )
        .unwrap();
        std::fs::write(
            etc.join("ld.so.conf.d/loop.conf"),
            "include /etc/ld.so.conf\n",
        )
        .unwrap();
        let mut errors = Vec::new();
        let paths = load(Libc::Glibc, root.path(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let r = root.path().to_string_lossy().to_string();
        assert_eq!(
            &paths.conf[..2],
            &[format!("{r}/opt/b"), format!("{r}/opt/a")]
        );
        assert_eq!(
            &paths.conf[2..],
            &["/lib", "/lib64/", "/usr/lib", "/usr/lib64"]
        );
    }
    /// A named pipe or a folder that an `include` matches is passed over: the pipe
    /// made the run wait for a writer forever.
    #[test]
    fn passes_over_a_pipe_or_a_folder_among_the_conf_files() {
        let root = tempfile::tempdir().unwrap();
        let etc = root.path().join("etc");
        let confd = etc.join("ld.so.conf.d");
        std::fs::create_dir_all(confd.join("folder.conf")).unwrap();
        std::fs::create_dir_all(root.path().join("opt/a")).unwrap();
        std::fs::write(etc.join("ld.so.conf"), "include /etc/ld.so.conf.d/*.conf\n").unwrap();
        std::fs::write(confd.join("one.conf"), "/opt/a\n").unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(confd.join("pipe.conf"))
            .status()
            .unwrap();
        assert!(made.success());
        let (send, got) = std::sync::mpsc::channel();
        let at = root.path().to_path_buf();
        std::thread::spawn(move || {
            let mut errors = Vec::new();
            let paths = load(Libc::Glibc, &at, &mut errors);
            send.send((paths, errors)).unwrap();
        });
        let (paths, errors) = got
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the configuration is read without waiting on the pipe");
        assert!(errors.is_empty(), "{errors:?}");
        let r = root.path().to_string_lossy().to_string();
        assert_eq!(paths.conf[0], format!("{r}/opt/a"));
    }
}
