//! Ctrl-C, `SIGTERM` and `SIGHUP` remove the temp files of the outputs being written,
//! then end the process as the signal would have: without this, an interrupted repair
//! left its hidden `.truewheel-*.tmp` (as large as the wheel) in the output folder.
//! Nothing is left under an output's final name either way: outputs are renamed into
//! place only when complete. (`SIGKILL` cannot be caught; its temp files stay.)
//!
//! The signals are taken only once a temp file exists, by a thread of their own
//! (`signal-hook`), so that a command writing nothing keeps the default handling; and a
//! signal the process was started ignoring (`nohup`, a script's background job) stays
//! ignored. `SIGXFSZ` (past `ulimit -f`) is caught too, so that the write fails with
//! an error naming the output and the temp file goes, where the signal killed the
//! process and left it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGXFSZ};
use signal_hook::iterator::Signals;

/// The temp files being written.
fn pending() -> &'static Mutex<HashSet<PathBuf>> {
    static PENDING: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    PENDING.get_or_init(Default::default)
}

/// Starts the thread that waits for the signals, once.
fn watch() {
    static WATCHING: OnceLock<()> = OnceLock::new();
    WATCHING.get_or_init(|| {
        // A caught SIGXFSZ makes the write fail with EFBIG instead.
        let _ = signal_hook::flag::register(SIGXFSZ, Arc::new(AtomicBool::new(false)));
        let ignored = ignored_at_start();
        let wanted: Vec<i32> = [SIGINT, SIGTERM, SIGHUP]
            .into_iter()
            .filter(|s| !ignored.contains(s))
            .collect();
        // Without the handlers (none can be set), a signal ends the process as before.
        let Ok(mut signals) = Signals::new(wanted) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    // Held to the end: no new temp file is made or renamed meanwhile.
                    let files = pending().lock().unwrap_or_else(PoisonError::into_inner);
                    for f in files.iter() {
                        let _ = std::fs::remove_file(f);
                    }
                    // Ends the process with the signal's own status (130 for Ctrl-C).
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                    std::process::exit(128 + signal);
                }
            });
    });
}

/// The signals this process ignores, as Linux tells in `/proc/self/status` (`SigIgn`, a
/// mask in hex, bit `n - 1` for signal `n`): read before any handler is set, it is what
/// the process was started with. Elsewhere, none.
fn ignored_at_start() -> Vec<i32> {
    let mask = crate::io::proc_status("SigIgn")
        .and_then(|m| u64::from_str_radix(&m, 16).ok())
        .unwrap_or(0);
    (1..=64).filter(|n| mask & (1 << (n - 1)) != 0).collect()
}

/// A temp file removed if the process is interrupted while the guard lives.
#[derive(Debug)]
pub struct Removed(PathBuf);

/// A new hidden temp file in `dir` (`.truewheel-*.tmp`) for an output, removed if the
/// process is interrupted before the returned guard is dropped. Made under the lock the
/// signal thread takes, so that no file is made but not yet known when it runs.
pub fn temp_file_in(dir: &Path) -> std::io::Result<(tempfile::NamedTempFile, Removed)> {
    watch();
    let mut files = pending().lock().unwrap_or_else(PoisonError::into_inner);
    let tmp = tempfile::Builder::new()
        .prefix(".truewheel-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    files.insert(tmp.path().to_owned());
    let removed = Removed(tmp.path().to_owned());
    Ok((tmp, removed))
}

impl Drop for Removed {
    fn drop(&mut self) {
        pending()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.0);
    }
}
