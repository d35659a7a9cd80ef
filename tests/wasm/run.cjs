// Runs the Node build of truewheel-wasm over wheels, one JSON line per wheel, for
// tests/e2e/test_wasm.py to compare with the CLI.
//
//   node tests/wasm/run.cjs PKG_DIR audit|inspect WHEEL...   (audit options as JSON in
//                                                            $TRUEWHEEL_AUDIT_OPTIONS)
//   node tests/wasm/run.cjs PKG_DIR retag WHEEL OUTDIR EDITS_JSON TIMESTAMP
//   node tests/wasm/run.cjs PKG_DIR verify none|node|zero|throws WHEEL...   (WheelFile.verify
//                                                            with that hasher: none, Node's
//                                                            crypto, one whose digests are
//                                                            all zeros, one that throws)
//
// Each line: {"file", "ok": true, "json": TEXT} or {"file", "ok": false, "error":
// {message, hint, kind}}; retag writes the new wheel into OUTDIR and prints {"name"}.
'use strict';
const fs = require('fs');
const path = require('path');

const [pkg, command, ...rest] = process.argv.slice(2);
const wasm = require(path.resolve(pkg, 'truewheel_wasm.js'));
const errorOf = (e) => ({ message: e.message, hint: e.hint || null, kind: e.kind || null, trap: e instanceof WebAssembly.RuntimeError });

if (command === 'retag') {
  const [file, outdir, edits, timestamp] = rest;
  try {
    const w = new wasm.WheelFile(fs.readFileSync(file), path.basename(file));
    const r = w.retag(JSON.parse(edits), Number(timestamp));
    fs.writeFileSync(path.join(outdir, r.name), r.bytes);
    console.log(JSON.stringify({ file, ok: true, name: r.name }));
  } catch (e) {
    console.log(JSON.stringify({ file, ok: false, error: errorOf(e) }));
  }
} else if (command === 'verify') {
  const crypto = require('crypto');
  const [kind, ...files] = rest;
  const hasher = {
    none: undefined,
    node: (a) => crypto.createHash(a),
    zero: (a) => ({ update() {}, digest: () => Buffer.alloc(crypto.createHash(a).digest().length) }),
    throws: (a) => { throw new Error(`no ${a} here`); },
  }[kind];
  for (const file of files) {
    try {
      new wasm.WheelFile(fs.readFileSync(file), path.basename(file)).verify(undefined, hasher);
      console.log(JSON.stringify({ file, ok: true }));
    } catch (e) {
      console.log(JSON.stringify({ file, ok: false, error: errorOf(e) }));
    }
  }
} else {
  for (const file of rest) {
    try {
      const bytes = fs.readFileSync(file);
      const json = command === 'audit'
        ? wasm.audit(bytes, path.basename(file), process.env.TRUEWHEEL_AUDIT_OPTIONS)
        : wasm.inspect(bytes, path.basename(file));
      console.log(JSON.stringify({ file, ok: true, json }));
    } catch (e) {
      console.log(JSON.stringify({ file, ok: false, error: errorOf(e) }));
    }
  }
}
