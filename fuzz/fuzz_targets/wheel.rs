//! The zip/wheel reader: any bytes, opened as a wheel, verified, inspected and audited
//! with no host (also verified and scanned in one pass, as `repair` does); then, if it opened, rewritten with a changed WHEEL and read back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use truewheel_core::audit::{audit_wheel_sequential, verify_and_scan, NoHost, ShowFlags};
use truewheel_core::wheel::record::local_digest;
use truewheel_core::wheel::rewrite::Changes;
use truewheel_core::wheel::{Limits, Wheel, WriteOptions};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_member_size: 1 << 24,
        max_total_size: 1 << 26,
        ..Limits::default()
    };
    let Ok(wheel) = Wheel::open_with_limits("demo-1.0-py3-none-any.whl", data.to_vec(), limits)
    else {
        return;
    };
    let _ = wheel.verify();
    let _ = truewheel_core::inspect::inspect(&wheel);
    let _ = audit_wheel_sequential(&wheel, &mut NoHost, ShowFlags::default(), |_, _| {});
    // The one-pass verification and scan of `repair` and the Action.
    let rows = wheel.record.by_path();
    for m in wheel.archive.members().iter().filter(|m| !m.is_dir()) {
        let entry = rows.get(m.name.as_str()).copied();
        let _ = verify_and_scan(&wheel, m, entry, &local_digest);
    }
    let mut changes = Changes::default();
    changes.put(
        format!("{}/WHEEL", wheel.dist_info),
        wheel.info.to_text().into_bytes(),
        0o644,
    );
    if let Ok(out) = wheel.rewrite(&changes, Vec::new(), WriteOptions::default()) {
        // What we write, we must read.
        Wheel::open("demo-1.0-py3-none-any.whl", out).expect("a rewritten wheel opens");
    }
});
