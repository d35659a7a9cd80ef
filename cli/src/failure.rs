//! What a user sees when a command fails: `error: ` and one sentence naming the file and
//! the member, then `hint: ` and what to do. Exit status 2.

use std::fmt;

use truewheel_core::message::one_line;
use truewheel_core::wheel::{LimitKind, WheelError};

/// A failure to report to the user.
#[derive(Debug)]
pub struct Failure {
    message: String,
    hint: Option<String>,
}

impl Failure {
    /// A failure with a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A wheel whose ELF members could not all be read (`in {wheel}`): a table over
    /// `--max-table-size` can be let through; anything else is `damaged`, the hint given.
    pub fn unreadable_elf(
        e: &truewheel_core::audit::AuditError,
        wheel: &str,
        damaged: &'static str,
    ) -> Self {
        let hint = match e {
            truewheel_core::audit::AuditError::TooLarge { .. } => {
                "if you trust this wheel, raise the limit with --max-table-size"
            }
            _ => damaged,
        };
        Self::new(format!("{e} in {wheel}")).hint(hint)
    }

    /// An I/O failure on a path.
    pub fn io(what: &str, path: &std::path::Path, e: &std::io::Error) -> Self {
        let reason = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => {
                // Strip Rust's " (os error N)" suffix: the text before it is the sentence.
                let s = e.to_string();
                s.split(" (os error").next().unwrap_or(&s).to_lowercase()
            }
        };
        Self::new(format!("cannot {what} {}: {reason}", path.display()))
    }

    /// Prints to stderr, each part on one line whatever the wheel put in it.
    pub fn print(&self) {
        eprintln!("error: {}", one_line(&self.message));
        if let Some(h) = &self.hint {
            eprintln!("hint: {}", one_line(h));
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<WheelError> for Failure {
    fn from(e: WheelError) -> Self {
        let hint = match e.limit() {
            Some(LimitKind::MemberSize) => {
                Some("if you trust this wheel, raise the limit with --max-member-size")
            }
            Some(LimitKind::TotalSize) => {
                Some("if you trust this wheel, raise the limit with --max-total-size")
            }
            Some(LimitKind::Ratio) => {
                Some("if you trust this wheel, raise the limit with --max-ratio")
            }
            Some(LimitKind::Members) => {
                Some("if you trust this wheel, raise the limit with --max-members")
            }
            None => e.hint(),
        };
        let f = Self::new(e.to_string());
        match hint {
            Some(h) => f.hint(h),
            None => f,
        }
    }
}
