// The Web Worker that does the work, so a wheel of hundreds of MB never freezes the page.
// One worker per wheel: its memory (the wheel is copied into the module's memory, which
// never shrinks) goes away with it. Messages:
//   in:  {type: 'run', module: WebAssembly.Module, file: File}
//   out: {type: 'progress', phase, done, total}
//        {type: 'done', version, inspect: JSON text, audit: {json, pass, wanted} | {error}}
//        {type: 'error', error: {message, hint}}
import init, { WheelBuffer, WheelFile, version } from './pkg/truewheel_wasm.js';

const CHUNK = 8 << 20;

function errorInfo(err) {
  if (err instanceof WebAssembly.RuntimeError) {
    // A trap: the module is in an unknown state; the page drops this worker.
    return { message: `the inspector stopped on an internal error (${err.message})`, hint: 'please report it with the wheel; the CLI (truewheel audit) gives the same answers', kind: 'crash' };
  }
  if (err instanceof RangeError) {
    return { message: `the browser could not give the inspector enough memory (${err.message})`, hint: 'use the CLI for this wheel: truewheel audit --wheel-only WHEEL', kind: 'memory' };
  }
  return { message: err && err.message ? err.message : String(err), hint: err && err.hint, kind: (err && err.kind) || 'input' };
}

function throttled(phase) {
  let last = 0;
  return (done, total) => {
    const now = performance.now();
    if (now - last > 50 || done === total) {
      last = now;
      postMessage({ type: 'progress', phase, done, total });
    }
  };
}

// Reads the file into the module's memory a chunk at a time (one copy of the wheel, not
// two), reporting progress.
async function readInto(file) {
  const buf = WheelBuffer.alloc(file.size);
  const report = throttled('reading');
  for (let off = 0; off < file.size; off += CHUNK) {
    let chunk;
    try {
      chunk = new Uint8Array(await file.slice(off, off + CHUNK).arrayBuffer());
    } catch (err) {
      throw Object.assign(new Error(`cannot read ${file.name}: ${err.message}`), { hint: 'is it a file (not a folder), still on disk?' });
    }
    buf.set(off, chunk);
    report(Math.min(off + CHUNK, file.size), file.size);
  }
  return buf;
}

self.onmessage = async (event) => {
  const { module, file } = event.data;
  try {
    await init({ module_or_path: module });
    const buf = await readInto(file);
    postMessage({ type: 'progress', phase: 'opening', done: 0, total: 1 });
    const wheel = WheelFile.fromBuffer(buf, file.name);
    const inspect = wheel.inspect(throttled('verifying RECORD'));
    let audit;
    try {
      const a = wheel.audit(undefined, throttled('auditing'));
      audit = { json: a.json, pass: a.pass, wanted: a.wanted, notes: a.notes };
      a.free();
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError) throw err;
      audit = { error: errorInfo(err) };
    }
    wheel.free();
    postMessage({ type: 'done', version: version(), inspect, audit });
  } catch (err) {
    postMessage({ type: 'error', error: errorInfo(err) });
  }
};
