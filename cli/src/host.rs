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
}

impl DiskHost {
    /// A host that sees what `scope` allows.
    pub fn new(scope: Scope) -> Self {
        Self {
            scope,
            ..Self::default()
        }
    }
}

fn read_facts(real: &str) -> Option<Arc<ElfFacts>> {
    let file = FileSource::new(crate::io::open_regular(real).ok()?).ok()?;
    // A library outside the wheel is judged by what it needs, never by its symbols.
    let opts = Options {
        symbols: false,
        ..Options::default()
    };
    let info = scan_at(&file, &opts).ok()?;
    Some(Arc::new(facts(&info)))
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
                Scope::System => ldpaths::load(libc.unwrap_or(Libc::Glibc), Path::new("/")),
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
        let found = readlink(path)
            .filter(|p| Path::new(p).is_file())
            .map(|real| {
                let f = read_facts(&real);
                (real, f)
            });
        self.files
            .lock()
            .expect("no thread panics holding it")
            .insert(path.to_owned(), found.clone());
        found
    }
}
