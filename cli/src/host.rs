//! The real file system as the audit's [`HostFiles`]: the loader's search paths, folders,
//! and the ELF facts of libraries, each read once (only the parts the reader asks for)
//! and shared between threads.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use truewheel_core::audit::facts::facts;
use truewheel_core::audit::resolve::normpath;
use truewheel_core::audit::{HostFiles, SearchPaths};
use truewheel_core::elf::{scan_at, Options};
use truewheel_core::policy::input::ElfFacts;
use truewheel_core::policy::Libc;
use truewheel_core::source::FileSource;

use crate::ldpaths;

type Cache = HashMap<String, Option<(String, Option<Arc<ElfFacts>>)>>;

/// Which host libraries an audit may see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    /// The loader's own configuration and the environment.
    #[default]
    System,
    /// These folders instead of the loader's configuration (auditwheel's `--ldpaths`);
    /// `$AUDITWHEEL_LD_LIBRARY_PATH` still counts.
    Folders(Vec<String>),
    /// Nothing outside the wheel, as in a browser.
    WheelOnly,
}

/// The host, with caches shared by every wheel audited in this run.
#[derive(Debug, Clone, Default)]
pub struct DiskHost {
    scope: Scope,
    files: Arc<Mutex<Cache>>,
    paths: Arc<Mutex<HashMap<Option<Libc>, SearchPaths>>>,
    /// Libraries that are there but could not be read for a reason of the host (too many
    /// open files, an I/O error), which the search would otherwise take for absent.
    errors: Arc<Mutex<Vec<String>>>,
    /// The same for the loader's configuration, read once for the run: every audit that
    /// searches the host met them.
    config_errors: Arc<Mutex<Vec<String>>>,
}

impl DiskHost {
    /// A host that sees what `scope` allows.
    pub fn new(scope: Scope) -> Self {
        Self {
            scope,
            ..Self::default()
        }
    }

    /// This host, its caches shared, for the audit of one wheel: the libraries it could
    /// not read are that audit's own.
    pub fn for_one_wheel(&self) -> Self {
        Self {
            errors: Arc::default(),
            ..self.clone()
        }
    }

    /// The first library that could not be read for a reason of the host, if any: an
    /// audit that met one cannot be trusted (the library was taken for absent).
    pub fn error(&self) -> Option<String> {
        let first = |errors: &Mutex<Vec<String>>| {
            errors
                .lock()
                .expect("no thread panics holding it")
                .first()
                .cloned()
        };
        first(&self.errors).or_else(|| first(&self.config_errors))
    }
}

/// The facts of a library: `None` when it is not one the loader would take (not a
/// regular file, not readable by this user, not an ELF file); an error when the host
/// failed to give it (too many open files, an I/O error).
fn read_facts(real: &str) -> std::io::Result<Option<Arc<ElfFacts>>> {
    let file = match crate::io::open_regular(real) {
        Ok(f) => f,
        Err(e) if crate::io::passed_over(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let file = FileSource::new(file)?;
    // A library outside the wheel is judged by what it needs, never by its symbols.
    let opts = Options {
        symbols: false,
        ..Options::default()
    };
    Ok(scan_at(&file, &opts)
        .ok()
        .map(|info| Arc::new(facts(&info))))
}

/// auditwheel's `lddtree.readlink`: follows symbolic links of the last component only
/// (a library found through `/lib` on a merged-/usr system keeps its `/lib` path), so
/// the paths we report are the ones auditwheel reports.
fn readlink(path: &str) -> Option<String> {
    crate::io::follow_links(Path::new(path)).and_then(|p| p.to_str().map(normpath))
}

impl HostFiles for DiskHost {
    fn search_paths(&mut self, libc: Option<Libc>) -> SearchPaths {
        let scope = self.scope.clone();
        let mut paths = self.paths.lock().expect("no thread panics holding it");
        paths
            .entry(libc)
            .or_insert_with(|| match scope {
                // An Android wheel was cross-compiled: this machine's libraries are not
                // its, so only `--ldpaths` (and AUDITWHEEL_LD_LIBRARY_PATH) are searched,
                // as auditwheel searches them.
                Scope::System if libc == Some(Libc::Android) => ldpaths::from_folders(&[]),
                Scope::System => {
                    let mut errors = Vec::new();
                    let paths =
                        ldpaths::load(libc.unwrap_or(Libc::Glibc), Path::new("/"), &mut errors);
                    self.config_errors
                        .lock()
                        .expect("no thread panics holding it")
                        .extend(errors);
                    paths
                }
                Scope::Folders(dirs) => ldpaths::from_folders(&dirs),
                Scope::WheelOnly => SearchPaths::default(),
            })
            .clone()
    }

    fn is_dir(&mut self, path: &str) -> bool {
        self.scope != Scope::WheelOnly && Path::new(path).is_dir()
    }

    fn open(&mut self, path: &str) -> Option<(String, Option<Arc<ElfFacts>>)> {
        if self.scope == Scope::WheelOnly {
            return None;
        }
        if let Some(hit) = self
            .files
            .lock()
            .expect("no thread panics holding it")
            .get(path)
        {
            return hit.clone();
        }
        let mut found = None;
        if let Some(real) = readlink(path).filter(|p| Path::new(p).is_file()) {
            match read_facts(&real) {
                Ok(f) => found = Some((real, f)),
                Err(e) => {
                    // Said, and not kept: the audit fails rather than answer without it.
                    self.errors
                        .lock()
                        .expect("no thread panics holding it")
                        .push(
                            crate::failure::Failure::io("read", Path::new(&real), &e).to_string(),
                        );
                    return Some((real, None));
                }
            }
        }
        self.files
            .lock()
            .expect("no thread panics holding it")
            .insert(path.to_owned(), found.clone());
        found
    }
}
