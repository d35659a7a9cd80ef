//! truewheel-core: the pure-Rust core of truewheel.
//!
//! Bytes in, values out: nothing here prints, spawns a process or searches a disk, so
//! the same code runs in the CLI, in a browser and in Node (wasm32-unknown-unknown).
//! Host concerns (interpreters, ld.so paths, progress bars) live in the `truewheel` CLI.

/// Implements `Serialize` through `Display` for types whose text form is their identity
/// (tags, policies, machines): JSON shows them as they are written.
macro_rules! serialize_display {
    ($($t:ty),*) => {$(
        impl ::serde::Serialize for $t {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    )*};
}

pub mod audit;
pub mod binary;
pub mod elf;
pub mod inspect;
pub mod message;
pub mod parallel;
pub mod policy;
pub mod python;
pub mod repair;
pub mod source;
pub mod wheel;

pub use source::ReadAt;
