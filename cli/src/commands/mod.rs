//! One module per subcommand.

pub mod audit;
pub mod floor;
pub mod inspect;
pub mod patchelf;
pub mod repair;
pub mod retag;

use truewheel_core::wheel::Limits;

/// Settings every command shares.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// `-q`: no progress or notes.
    pub quiet: bool,
    /// `-v` (and not `-q`): say more of what was done.
    pub verbose: bool,
    /// The caps on what a wheel may make us read (`--max-member-size` and friends).
    pub limits: Limits,
}
