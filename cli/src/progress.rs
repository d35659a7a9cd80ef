//! Progress bars: on a terminal only, never with `-q`, always on stderr so `--json`
//! output on stdout stays clean.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::commands::Context;

/// A bar over `len` items, hidden unless stderr is a terminal and `-q` is off, and
/// unless there is more than one item (one wheel finishes before a bar helps).
pub fn bar(ctx: &Context, len: u64, what: &'static str) -> ProgressBar {
    if ctx.quiet || len < 2 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} wheels {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(what);
    bar
}
