//! truewheel-wasm: the core for JavaScript (wasm-bindgen), for the in-browser inspector
//! (`www/`, `--target web`) and the GitHub Action (`action/`, `--target nodejs`).
//!
//! ```js
//! version()                              // "0.1.0"
//! inspect(bytes, "x-1.0-….whl")          // JSON text: `truewheel inspect --json`
//! audit(bytes, name, {plat, exclude, disable_isa_ext_check})    // JSON text: `truewheel audit --json --wheel-only`
//! retag(bytes, name, {platform: "manylinux_2_17_x86_64"})  // {name, bytes}
//! const w = new WheelFile(bytes, name)   // open once, then w.inspect(progress, hasher),
//!                                        // w.verify(progress, hasher) (hasher: Node's
//!                                        // (a) => crypto.createHash(a), or nothing),
//!                                        // w.audit(options, progress) → {json, pass, wanted}
//! ```
//!
//! Reports are returned as the CLI's JSON text (not JS objects) so that "the same answer
//! as the CLI" is a string comparison. Errors are thrown as `Error`s whose `message` is the
//! CLI's `error:` sentence, with `hint` and `kind` (`input` or `refused`) properties.
//! Work runs one member after another (wasm32 has no threads); `progress(done, total)`
//! is called after each member, so a Web Worker can report how far it got.
//!
//! The logic lives in [`api`], which has no `JsValue` and is tested natively.

pub mod api;
mod host_digest;

use js_sys::{Function, Reflect, JSON};
use truewheel_core::message::one_line;
use wasm_bindgen::prelude::*;

use api::{AuditOptions, Failure, MemWheel};
use host_digest::HostHashes;

#[allow(clippy::needless_pass_by_value)] // used as `.map_err(throw)`
fn throw(f: Failure) -> JsValue {
    // One line each, as the CLI prints them.
    let e = js_sys::Error::new(&one_line(&f.message));
    let _ = Reflect::set(&e, &"kind".into(), &f.kind.into());
    if let Some(h) = &f.hint {
        let _ = Reflect::set(&e, &"hint".into(), &one_line(h).as_ref().into());
    }
    e.into()
}

/// A JS value as JSON text: strings pass as they are, `undefined`/`null` as `""`.
fn json_text(v: &JsValue) -> String {
    if v.is_undefined() || v.is_null() {
        return String::new();
    }
    if let Some(s) = v.as_string() {
        return s;
    }
    JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

fn reporter(progress: Option<&Function>) -> impl FnMut(f64, f64) + '_ {
    move |done, total| {
        if let Some(f) = progress {
            let _ = f.call2(&JsValue::NULL, &done.into(), &total.into());
        }
    }
}

/// The version of truewheel this module was built from.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// `truewheel inspect --json` of a wheel's bytes.
#[wasm_bindgen]
pub fn inspect(bytes: Vec<u8>, filename: &str) -> Result<String, JsValue> {
    api::inspect_json(bytes, filename).map_err(throw)
}

/// `truewheel audit --json --wheel-only` of a wheel's bytes; `options` is
/// `{plat, exclude, disable_isa_ext_check}` (an object or its JSON text) or nothing.
#[wasm_bindgen]
pub fn audit(bytes: Vec<u8>, filename: &str, options: &JsValue) -> Result<String, JsValue> {
    api::audit_json(bytes, filename, &json_text(options)).map_err(throw)
}

/// Throws the error opening a wheel of `size` bytes would give, when its first bytes
/// (`head`) and its last 64 KiB and 22 (`tail`) show it is no wheel, before it is read
/// whole (a large file that is no zip archive).
#[wasm_bindgen(js_name = checkEnds)]
pub fn check_ends(head: Vec<u8>, tail: Vec<u8>, size: f64, filename: &str) -> Result<(), JsValue> {
    api::check_ends(head, tail, size, filename).map_err(throw)
}

/// Checks a policy name as `--plat` takes it (`manylinux_2_17_x86_64`), throwing the
/// error an audit with it would give for every wheel.
#[wasm_bindgen(js_name = checkPolicy)]
pub fn check_policy(plat: &str) -> Result<(), JsValue> {
    let options = AuditOptions {
        plat: Some(plat.to_owned()),
        ..AuditOptions::default()
    };
    options.plat().map(|_| ()).map_err(throw)
}

/// `truewheel retag`: `tags` is `{python, abi, platform, build}`, each edit as the CLI's
/// (`T` replaces, `+T` adds, `-T` removes; a string or a list).
#[wasm_bindgen]
pub fn retag(bytes: Vec<u8>, filename: &str, tags: &JsValue) -> Result<Retagged, JsValue> {
    let w = api::open(bytes, filename).map_err(throw)?;
    WheelFile { wheel: w }.retag(tags, None)
}

/// Room for a wheel's bytes in the module's memory, filled a chunk at a time
/// (`buf.set(offset, chunk)`), so that a large wheel is held once, not twice (the whole
/// file in JavaScript and its copy in the module); then [`WheelFile::from_buffer`].
#[wasm_bindgen]
pub struct WheelBuffer {
    data: Vec<u8>,
}

#[wasm_bindgen]
impl WheelBuffer {
    /// Zeroed room for `len` bytes, or a readable error when the memory cannot grow so far.
    pub fn alloc(len: f64) -> Result<WheelBuffer, JsValue> {
        api::alloc(len).map(|data| Self { data }).map_err(throw)
    }

    /// Copies `chunk` in at `offset`.
    pub fn set(&mut self, offset: f64, chunk: &[u8]) -> Result<(), JsValue> {
        api::fill(&mut self.data, offset, chunk).map_err(throw)
    }

    /// How many bytes.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.data.len()
    }
}

/// A wheel opened once (its bytes copied into the module's memory), for several questions.
#[wasm_bindgen]
pub struct WheelFile {
    wheel: MemWheel,
}

/// An audit: the report's JSON text, and the verdict against the policy asked for.
#[wasm_bindgen(getter_with_clone)]
pub struct AuditResult {
    /// `truewheel audit --json --wheel-only`.
    pub json: String,
    /// The wheel meets the policy asked for (default: its own platform tags).
    pub pass: bool,
    /// That policy as text.
    pub wanted: String,
    /// What explains the verdict besides the report's findings, one sentence each (a
    /// tag of another C library's family or architecture), as the CLI prints them.
    pub notes: Vec<String>,
    /// Every tag asked for was judged by another evaluation than the main one: the notes
    /// say the verdict (the CLI prints no `fails` line of its own), the findings its cause.
    pub apart: bool,
}

impl From<api::Audited> for AuditResult {
    fn from(a: api::Audited) -> Self {
        Self {
            json: api::to_json(&a.report),
            pass: a.pass,
            wanted: a.wanted,
            notes: a.notes,
            apart: a.apart,
        }
    }
}

/// A retagged wheel.
#[wasm_bindgen(getter_with_clone)]
pub struct Retagged {
    /// Its new file name.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

#[wasm_bindgen]
impl WheelFile {
    /// Opens a wheel from its bytes and file name.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: Vec<u8>, filename: &str) -> Result<WheelFile, JsValue> {
        Ok(Self {
            wheel: api::open(bytes, filename).map_err(throw)?,
        })
    }

    /// Opens a wheel from a filled [`WheelBuffer`] (which it takes over).
    #[wasm_bindgen(js_name = fromBuffer)]
    pub fn from_buffer(buf: WheelBuffer, filename: &str) -> Result<WheelFile, JsValue> {
        Ok(Self {
            wheel: api::open(buf.data, filename).map_err(throw)?,
        })
    }

    /// The file name.
    #[wasm_bindgen(getter)]
    pub fn filename(&self) -> String {
        self.wheel.file_name()
    }

    /// The inspect report (JSON text); `progress(bytesHashed, bytesTotal)`. `hasher`,
    /// when given, makes the hashes: `(algorithm) => ({update(bytes), digest()})`, as
    /// Node's `crypto.createHash` (see [`WheelFile::verify`]).
    pub fn inspect(&self, progress: &JsValue, hasher: &JsValue) -> Result<String, JsValue> {
        let hashes = HostHashes::with(hasher.dyn_ref::<Function>());
        let r = api::inspect(
            &self.wheel,
            &hashes.digest_for(),
            reporter(progress.dyn_ref::<Function>()),
        )
        .map_err(throw)?;
        Ok(api::to_json(&r))
    }

    /// Checks every member against RECORD, as `inspect`, `retag` and `repair` do; throws
    /// the CLI's sentence for the first problem (a damaged member, a hash that differs, a
    /// member RECORD leaves out); `progress(bytesHashed, bytesTotal)`. `hasher`, when
    /// given, makes the hashes in the host: `(algorithm) => ({update(bytes), digest()})`
    /// for `sha256`, `sha384` or `sha512`. Node's `(a) => crypto.createHash(a)` hashes
    /// natively, where the module's own SHA-256 runs at a fifth of the speed (jaxlib,
    /// 397 MB inflated: 1.6 s of its 2.8 s verification).
    pub fn verify(&self, progress: &JsValue, hasher: &JsValue) -> Result<(), JsValue> {
        let hashes = HostHashes::with(hasher.dyn_ref::<Function>());
        api::verify(
            &self.wheel,
            &hashes.digest_for(),
            reporter(progress.dyn_ref::<Function>()),
        )
        .map_err(throw)
    }

    /// The audit; `options` is `{plat, exclude, disable_isa_ext_check}`; `progress(membersScanned, members)`.
    pub fn audit(&self, options: &JsValue, progress: &JsValue) -> Result<AuditResult, JsValue> {
        let options = AuditOptions::parse(&json_text(options)).map_err(throw)?;
        api::audit(
            &self.wheel,
            &options,
            reporter(progress.dyn_ref::<Function>()),
        )
        .map(AuditResult::from)
        .map_err(throw)
    }

    /// [`verify`](Self::verify) and [`audit`](Self::audit) in one inflation of each
    /// member, with their answers and errors in their order (the Action's call).
    #[wasm_bindgen(js_name = verifyAndAudit)]
    pub fn verify_and_audit(
        &self,
        options: &JsValue,
        hasher: &JsValue,
    ) -> Result<AuditResult, JsValue> {
        let options = AuditOptions::parse(&json_text(options)).map_err(throw)?;
        let hashes = HostHashes::with(hasher.dyn_ref::<Function>());
        api::verify_and_audit(&self.wheel, &hashes.digest_for(), &options)
            .map(AuditResult::from)
            .map_err(throw)
    }

    /// Retags (see [`retag`]); `timestamp` (Unix seconds) fixes every member's time.
    pub fn retag(&self, tags: &JsValue, timestamp: Option<f64>) -> Result<Retagged, JsValue> {
        let edits = api::parse_edits(&json_text(tags)).map_err(throw)?;
        let (name, bytes) =
            api::retag_wheel(&self.wheel, &edits, timestamp.map(|t| t as u64)).map_err(throw)?;
        Ok(Retagged { name, bytes })
    }
}
