//! The outputs a run of `repair` or `retag` writes, claimed one by one: two inputs can
//! reach one output (`x-linux_x86_64.whl` and `x-manylinux2014_x86_64.whl`), and an
//! output can fall on an input of the run (`repair -w dist dist/*.whl`); either rename
//! would replace a wheel, which is then lost (auditwheel and `wheel tags` replace it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::io::same_file;

/// How a command names what it makes, for its refusals: `repaired`, and `is repaired
/// into` (wheels in parallel) or `was retagged into` (one after another).
#[derive(Debug, Clone, Copy)]
pub struct Words {
    /// `repaired`.
    pub made: &'static str,
    /// `is repaired into`.
    pub made_into: &'static str,
    /// `repair`.
    pub verb: &'static str,
}

/// The outputs claimed so far, by path, with the input of each; and the run's inputs,
/// which no output may replace, whether or not they are written.
pub struct Claims {
    outputs: Mutex<HashMap<PathBuf, PathBuf>>,
    inputs: Vec<PathBuf>,
    words: Words,
}

impl Claims {
    /// No output claimed yet, for a run over `inputs`.
    pub fn new(inputs: &[PathBuf], words: Words) -> Self {
        Self {
            outputs: Mutex::default(),
            inputs: inputs.to_vec(),
            words,
        }
    }

    /// Claims `dir/name` for `input`, or tells why it cannot be written: it is `input`
    /// itself (a wheel that already carries the tags it reaches, written into its own
    /// folder, would be replaced), another input of the run (one refused, or left in
    /// place), or another input's output.
    pub fn claim(&self, dir: &Path, name: &str, input: &Path) -> Option<String> {
        let target = dir.join(name);
        let made = self.words.made;
        if same_file(&target, input) {
            return Some(format!(
                "{}: its {made} wheel would replace it, as it is already named {name}; write it into another directory with -w",
                input.display()
            ));
        }
        if let Some(other) = self.inputs.iter().find(|i| same_file(&target, i)) {
            return Some(format!(
                "{}: its {made} wheel would replace {}, another wheel of this run; write it into another directory with -w",
                input.display(),
                other.display()
            ));
        }
        self.claim_path(&target, name, input)
    }

    /// Claims the output `target` (named `name`) for `input`, or names the input that
    /// has it.
    pub fn claim_path(&self, target: &Path, name: &str, input: &Path) -> Option<String> {
        // Keyed by the real folder, so that `x` and `./x` are one.
        let key = target
            .parent()
            .and_then(|d| d.canonicalize().ok())
            .map_or_else(|| target.to_owned(), |d| d.join(name));
        let mut outputs = self.outputs.lock().unwrap_or_else(PoisonError::into_inner);
        match outputs.get(&key) {
            Some(first) => Some(format!(
                "{}: its {} wheel {name} is also what {} {} in this run; {} them into different directories with -w",
                input.display(),
                self.words.made,
                first.display(),
                self.words.made_into,
                self.words.verb,
            )),
            None => {
                outputs.insert(key, input.to_owned());
                None
            }
        }
    }
}
