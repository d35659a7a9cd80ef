//! RECORD hashes computed by the host: JavaScript hands a factory of hash objects
//! (Node's `crypto.createHash`), whose SHA-256 runs natively, where the module's own runs
//! at a fifth of the speed (no SHA instructions in wasm32). The browser has no such
//! factory (its `SubtleCrypto` hashes whole buffers, asynchronously), so the page hashes
//! in the module.
//!
//! The core's [`Digest`] must be `Send` (the CLI hashes on other threads) and a JS value
//! is not, so a digest here holds only the slot of its hash object in a table of the
//! module's one thread.

use std::cell::RefCell;

use js_sys::{Function, Reflect, Uint8Array};
use truewheel_core::wheel::record::{Digest, HashAlgorithm, Hasher, RecordHash};
use wasm_bindgen::{JsCast, JsValue};

/// A hash object of the host's, and its two methods.
struct Live {
    hash: JsValue,
    update: Function,
    digest: Function,
}

thread_local! {
    /// The host's factory, for the length of one call ([`HostHashes`]).
    static FACTORY: RefCell<Option<Function>> = const { RefCell::new(None) };
    /// The hash objects in use, by slot.
    static LIVE: RefCell<Vec<Option<Live>>> = const { RefCell::new(Vec::new()) };
}

/// The host's hash factory, in use while this lives: dropped, it forgets the factory and
/// every hash object it made (a call that failed half-way leaves none behind).
pub(crate) struct HostHashes(());

impl HostHashes {
    /// Hashes with `factory` (none: the module hashes).
    pub(crate) fn with(factory: Option<&Function>) -> Self {
        FACTORY.with_borrow_mut(|f| f.clone_from(&factory.cloned()));
        Self(())
    }

    /// The core's maker of hashers: the host's, or the module's own for an algorithm the
    /// host's factory does not give.
    #[allow(clippy::unused_self)] // (ties the makers' use to this one's life)
    pub(crate) fn digest_for(&self) -> impl Fn(HashAlgorithm, u64) -> Box<dyn Digest> + Sync {
        |algorithm, _| match host_hash(algorithm) {
            Some(live) => Box::new(HostDigest {
                algorithm,
                slot: LIVE.with_borrow_mut(|l| {
                    if let Some(i) = l.iter().position(Option::is_none) {
                        l[i] = Some(live);
                        i
                    } else {
                        l.push(Some(live));
                        l.len() - 1
                    }
                }),
            }),
            None => Box::new(Hasher::new(algorithm)),
        }
    }
}

impl Drop for HostHashes {
    fn drop(&mut self) {
        FACTORY.with_borrow_mut(Option::take);
        LIVE.with_borrow_mut(Vec::clear);
    }
}

/// A hash object of the factory's for `algorithm`, if it gives one with `update` and
/// `digest` methods.
fn host_hash(algorithm: HashAlgorithm) -> Option<Live> {
    let hash = FACTORY.with_borrow(|f| {
        f.as_ref()?
            .call1(&JsValue::NULL, &algorithm.as_str().into())
            .ok()
    })?;
    let method = |name: &str| {
        Reflect::get(&hash, &name.into())
            .ok()?
            .dyn_into::<Function>()
            .ok()
    };
    Some(Live {
        update: method("update")?,
        digest: method("digest")?,
        hash,
    })
}

/// A digest whose hash object is the host's, in slot `slot`.
struct HostDigest {
    algorithm: HashAlgorithm,
    slot: usize,
}

impl Digest for HostDigest {
    fn update(&mut self, data: &[u8]) {
        LIVE.with_borrow(|l| {
            let live = l[self.slot].as_ref().expect("a live hash");
            // A host hash that throws is a broken host, not a damaged wheel: the module
            // traps, and the Action reports an internal error.
            live.update
                .call1(&live.hash, &Uint8Array::from(data))
                .expect("the host's hash takes bytes");
        });
    }

    fn finish(self: Box<Self>) -> RecordHash {
        let live = LIVE
            .with_borrow_mut(|l| l[self.slot].take())
            .expect("a live hash");
        let digest = live
            .digest
            .call0(&live.hash)
            .expect("the host's hash gives its digest");
        RecordHash {
            algorithm: self.algorithm,
            digest: Uint8Array::new(&digest).to_vec(),
        }
    }
}
