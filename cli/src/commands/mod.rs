//! One module per subcommand.

pub mod audit;
pub mod floor;
pub mod inspect;
pub mod patchelf;
pub mod repair;
pub mod retag;

/// Settings every command shares.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// `-q`: no progress or notes.
    pub quiet: bool,
}
