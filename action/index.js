// The truewheel GitHub Action: audits every wheel a job built against the manylinux /
// musllinux policies with truewheel's core compiled to WebAssembly (dist/, made by
// `wasm/build --action`). No Python, no network, no npm packages: Node's own modules only,
// so it runs on the runner's node24 and on Node 20.
//
// Inputs come as GitHub passes them (INPUT_<NAME>, upper case, spaces as `_`, hyphens
// kept): INPUT_WHEELS, INPUT_POLICY, INPUT_FAIL-ON, INPUT_JSON-REPORT. It writes a table
// to $GITHUB_STEP_SUMMARY, `verdict` and `report` to $GITHUB_OUTPUT, `::error` annotations
// for violations, and exits 1 on a violation (2 on an unreadable wheel) as `fail-on` asks.
// The verdicts are `truewheel audit --wheel-only`'s: libraries outside the wheel are not
// looked up (the runner's own libraries say nothing of a user's machine).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');

const FAIL_ON = ['violation', 'error', 'never'];
// Wheels audited at once at most: each thread holds a wheel in its module's memory, which
// keeps its largest size (a 900 MB wheel takes 1 GB).
const MAX_THREADS = 4;

function input(name, dflt) {
  const v = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`];
  return v === undefined || v.trim() === '' ? dflt : v.trim();
}

// Workflow command escaping, as GitHub's toolkit does it.
const escapeData = (s) => String(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProp = (s) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
function annotate(level, message, props = {}) {
  const p = Object.entries(props).map(([k, v]) => `${k}=${escapeProp(v)}`).join(',');
  process.stdout.write(`::${level}${p ? ` ${p}` : ''}::${escapeData(message)}${os.EOL}`);
}

function setOutput(name, value) {
  const file = process.env.GITHUB_OUTPUT;
  if (!file) return;
  const delim = `ghadelimiter_${crypto.randomUUID()}`;
  fs.appendFileSync(file, `${name}<<${delim}${os.EOL}${value}${os.EOL}${delim}${os.EOL}`);
}

// ---- glob: `*`, `?`, `[...]` within a path segment, `**` across folders, `{a,b}`
// alternatives (which may hold `/`, and nest); several patterns one per line, `!pattern`
// excludes. A `*` does not match a leading dot.

// A pattern that is not a glob: one sentence naming it.
class PatternError extends Error {}

// The patterns `{a,b}` stands for, expanded before the pattern is cut at `/`. A brace
// without a matching one, or without a comma, is itself.
function expandBraces(p) {
  for (let i = 0; i < p.length; i += 1) {
    if (p[i] !== '{') continue;
    const commas = [];
    let depth = 0;
    for (let j = i; j < p.length; j += 1) {
      if (p[j] === '{') depth += 1;
      else if (p[j] === ',' && depth === 1) commas.push(j);
      else if (p[j] === '}' && --depth === 0) {
        if (commas.length === 0) break;
        const parts = [];
        let from = i + 1;
        for (const c of [...commas, j]) {
          parts.push(p.slice(from, c));
          from = c + 1;
        }
        return parts.flatMap((a) => expandBraces(p.slice(0, i) + a + p.slice(j + 1)));
      }
    }
  }
  return [p];
}

function segmentRegex(seg, pattern = seg) {
  let re = '';
  for (let i = 0; i < seg.length; i += 1) {
    const c = seg[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      let body = seg.slice(i + 1, end);
      if (body[0] === '!') body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^$()|\\{}]/g, '\\$&');
  }
  try {
    return new RegExp(`^${re}$`);
  } catch (err) {
    // A class such as `[z-a]`: the regular expression's own words say what is wrong.
    const why = err.message.replace(/^Invalid regular expression: \/.*\/\w*: /, '');
    throw new PatternError(`the wheels pattern \`${pattern}\` is not a valid glob (${why.toLowerCase()} in \`${seg}\`)`);
  }
}
const hasMagic = (seg) => /[*?[]/.test(seg);

function glob(pattern, cwd) {
  return [...new Set(expandBraces(pattern).flatMap((p) => globOne(p, cwd, pattern)))];
}

function globOne(pattern, cwd, written) {
  const abs = path.isAbsolute(pattern);
  const segs = pattern.split(/[\\/]+/).filter((s, i) => s !== '' && !(s === '.' && i > 0) && !(s === '.' && i === 0));
  const found = new Set();
  const seen = new Set();
  const stat = (p) => { try { return fs.statSync(p); } catch { return null; } };
  const list = (dir) => { try { return fs.readdirSync(dir, { withFileTypes: true }); } catch { return []; } };
  // The regular expressions first, so that a bad pattern is refused whatever exists.
  const res = segs.map((seg) => (seg !== '**' && hasMagic(seg) ? segmentRegex(seg, written) : null));
  // Every file under a folder, as @actions/glob takes a pattern that names a folder
  // (`dist`, `dist/`, `dist/**`): each real folder once, dot entries skipped as `**`
  // skips them.
  const under = (dir) => {
    let real;
    try { real = fs.realpathSync(dir); } catch { return; }
    if (seen.has(`${real}\0under`)) return;
    seen.add(`${real}\0under`);
    for (const e of list(dir)) {
      if (e.name.startsWith('.')) continue;
      const sub = path.join(dir, e.name);
      const st = stat(sub);
      if (st?.isDirectory() && !sub.endsWith('.whl')) under(sub);
      else if (st) found.add(sub);
    }
  };
  const walk = (dir, i) => {
    if (i === segs.length) {
      // A folder named like a wheel is kept, to be refused by name as the CLI refuses it.
      const st = stat(dir);
      if (st && (st.isFile() || (st.isDirectory() && dir.endsWith('.whl')))) found.add(dir);
      else if (st?.isDirectory()) under(dir);
      return;
    }
    const seg = segs[i];
    if (seg === '**') {
      // Symbolic links to folders are followed, as @actions/glob follows them, each
      // real folder once (a link to a parent would loop).
      let real;
      try { real = fs.realpathSync(dir); } catch { return; }
      if (seen.has(`${real}\0${i}`)) return;
      seen.add(`${real}\0${i}`);
      walk(dir, i + 1);
      for (const e of list(dir)) {
        if (e.name.startsWith('.')) continue;
        const sub = path.join(dir, e.name);
        if (e.isDirectory() || (e.isSymbolicLink() && stat(sub)?.isDirectory())) walk(sub, i);
      }
    } else if (!hasMagic(seg)) {
      walk(path.join(dir, seg), i + 1);
    } else {
      const re = res[i];
      for (const e of list(dir)) {
        if (e.name.startsWith('.') && !seg.startsWith('.')) continue;
        if (re.test(e.name)) walk(path.join(dir, e.name), i + 1);
      }
    }
  };
  if (segs.length === 0) return [];
  walk(abs ? path.parse(pattern).root : cwd, 0);
  return [...found];
}

function matchWheels(patterns, cwd) {
  const include = new Set();
  const lines = patterns.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const l of lines.filter((x) => !x.startsWith('!'))) for (const f of glob(l, cwd)) include.add(f);
  for (const l of lines.filter((x) => x.startsWith('!'))) for (const f of glob(l.slice(1), cwd)) include.delete(f);
  return [...include].sort();
}

// ---- reports
// Text from a wheel (names, reasons, errors) goes into the Markdown summary escaped:
// every ASCII punctuation mark Markdown or HTML reads, so that a member name cannot put
// a link, an image or a tag there (GitHub's sanitizer keeps <a>, <img> and [](...));
// and `.`, `:` and `@`, which GitHub's autolinks need (`www.x.example`, `http://`, `a@b.c`).
const cell = (s) => String(s).replace(/\r?\n/g, ' ').replace(/[\\`*_{}[\]()<>#+!|~&.:@]/g, '\\$&');
// A name in a code span: fenced by more backticks than any run in it, `|` escaped (as a
// table asks, even in code); nothing in a code span is read as Markdown or HTML.
function code(s) {
  const t = String(s).replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
  const run = Math.max(0, ...(t.match(/`+/g) || []).map((m) => m.length));
  const fence = '`'.repeat(run + 1);
  const pad = run > 0 ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}
const html = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const tagsOf = (name) => {
  const stem = name.replace(/\.whl$/, '').split('-');
  return stem.length >= 5 ? stem.slice(-3).join('-') : '';
};

// Reads a wheel straight into the module's memory, 8 MiB at a time: the wheel is held
// once, however large.
// Files larger than this have their ends checked before they are read whole.
const ENDS_FIRST = 16 << 20;

function readWheel(wasm, file) {
  if (fs.statSync(file).isDirectory()) {
    throw Object.assign(new Error(`cannot open ${file}: it is a directory, not a regular file`), { hint: "give the wheels pattern files only" });
  }
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    // A large file that is no zip archive is refused from its ends, not read whole
    // first (the end record is in the last 64 KiB and 22 bytes).
    if (size > ENDS_FIRST) {
      const head = Buffer.alloc(64);
      const tail = Buffer.alloc(65557);
      fs.readSync(fd, head, 0, head.length, 0);
      fs.readSync(fd, tail, 0, tail.length, size - tail.length);
      wasm.checkEnds(head, tail, size, path.basename(file));
    }
    let buf;
    try {
      buf = wasm.WheelBuffer.alloc(size);
    } catch (err) {
      err.message = `${path.basename(file)}: ${err.message}`;
      throw err;
    }
    const chunk = Buffer.allocUnsafe(Math.min(size, 8 << 20) || 1);
    for (let off = 0; off < size;) {
      const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, size - off), off);
      if (n === 0) throw new Error(`cannot read ${file}: it ended after ${off} of ${size} bytes`);
      buf.set(off, chunk.subarray(0, n));
      off += n;
    }
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

// The module, instantiated afresh after a trap (its memory is then in an unknown state).
const DIST = path.join(__dirname, 'dist', 'truewheel_wasm.js');
function loadWasm(fresh) {
  if (fresh) delete require.cache[require.resolve(DIST)];
  return require(DIST);
}

// RECORD's hashes are computed by Node (natively, with the CPU's SHA instructions): the
// module's own SHA-256 took 1.6 s of jaxlib's 2.8 s verification.
const hasher = (algorithm) => crypto.createHash(algorithm);

function auditOne(wasm, file, policy) {
  const name = path.basename(file);
  let wheel;
  try {
    wheel = wasm.WheelFile.fromBuffer(readWheel(wasm, file), name);
    // A damaged wheel, or one changed after its build, is no release: every member is
    // checked against RECORD first, as `truewheel inspect` checks it (in the same
    // inflation as the audit's scan).
    const a = wheel.verifyAndAudit(policy ? { plat: policy } : undefined, hasher);
    const result = { file, name, pass: a.pass, wanted: a.wanted, notes: a.notes, apart: a.apart, report: JSON.parse(a.json) };
    a.free();
    return result;
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) {
      wheel = null;
      return { file, name, trapped: true, error: { message: `${name}: truewheel stopped on an internal error (${err.message})`, hint: 'please report it with the wheel' } };
    }
    const message = err.code === 'ENOENT' || err.code === 'EACCES' ? `cannot read ${file}: ${err.message}` : err.message;
    return { file, name, error: { message, hint: err.hint || null, kind: err.kind || 'input' } };
  } finally {
    if (wheel) wheel.free();
  }
}

// Audits the wheels on up to `threads` worker threads, each with a module of its own
// (wasm32 has no threads; a runner has 2 to 4 cores), giving the results in the files'
// order. One wheel, or one thread, is audited here.
async function auditAll(files, policy, threads) {
  const n = Math.min(threads, files.length);
  if (n <= 1) return files.map(auditor(policy));
  const results = new Array(files.length);
  let next = 0;
  const thread = () => new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: { truewheelAudit: true, policy } });
    const feed = () => {
      if (next >= files.length) {
        w.terminate().then(() => resolve(), reject);
        return;
      }
      const i = next++;
      w.postMessage({ i, file: files[i] });
    };
    w.on('message', ({ i, result }) => {
      results[i] = result;
      feed();
    });
    w.on('error', reject);
    feed();
  });
  await Promise.all(Array.from({ length: n }, thread));
  return results;
}

// Audits one wheel a call, with a module instantiated afresh after a trap.
function auditor(policy) {
  let wasm = loadWasm(false);
  return (file) => {
    const result = auditOne(wasm, file, policy);
    if (result.trapped) wasm = loadWasm(true);
    return result;
  };
}

// A worker thread of auditAll: one wheel a message.
function auditWorker() {
  const audit = auditor(workerData.policy);
  parentPort.on('message', ({ i, file }) => parentPort.postMessage({ i, result: audit(file) }));
}

function reasonLine(f) {
  return `${f.text} → not ${f.rules_out} or stricter`;
}

// Why a wheel fails, first: a note on the tag asked for (another C library's family or
// architecture) comes before the findings, as the CLI prints it; but where the notes
// only say which evaluation judged every tag asked for (`apart`), the cause is a
// finding, which comes first.
function reasonsOf(r) {
  const findings = r.report.findings.map(reasonLine);
  return r.apart && findings.length ? [...findings, ...r.notes] : [...r.notes, ...findings];
}

// A line of the log with its control characters escaped as the CLI escapes them: a
// line break in a file or member name would start a line of its own, which the runner
// reads as a workflow command when it begins with `::`.
const logLine = (s) => String(s).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => ({ '\n': '\\n', '\r': '\\r', '\t': '\\t' }[c]
  || `\\u{${c.charCodeAt(0).toString(16)}}`));

function textReport(r) {
  const lines = [];
  if (r.error) {
    // (The core's messages name the wheel already.)
    lines.push(`${r.error.message.includes(r.name) ? '' : `${r.name}: `}error: ${r.error.message}`);
    if (r.error.hint) lines.push(`  hint: ${r.error.hint}`);
  } else if (r.report.other_platform) {
    const rep = r.report;
    lines.push(`${rep.wheel}: not a Linux wheel (${rep.platform_tags.join('.')}): no manylinux or musllinux policy applies`);
    if (!r.pass) lines.push(`  fails ${r.wanted}`);
  } else if (r.report.foreign_binary) {
    lines.push(`${r.report.wheel}: no ELF files, but a binary for another system (${r.report.foreign_binary.summary})`);
    if (!r.pass) lines.push(`  fails ${r.wanted}`);
    for (const n of r.notes) lines.push(`  ${n}`);
  } else if (r.report.pure && r.pass) {
    lines.push(`${r.report.wheel}: pure (no ELF files; meets every policy)`);
  } else if (r.report.pure) {
    // (A tag naming no policy.)
    lines.push(`${r.report.wheel}: pure (no ELF files)`);
    lines.push(`  fails ${r.wanted}`);
    for (const n of r.notes) lines.push(`  ${n}`);
  } else {
    const rep = r.report;
    lines.push(`${rep.wheel}: ${rep.overall_tag}`);
    // (When every tag asked for was judged apart, its note says it fails, as the CLI.)
    if (!r.pass && !r.apart) lines.push(`  fails ${r.wanted}`);
    for (const n of r.notes) lines.push(`  ${n}`);
    for (const f of rep.findings) lines.push(`  ${reasonLine(f)}`);
  }
  return lines.map((l) => `${logLine(l)}\n`).join('');
}

function summary(results, policy, verdict) {
  const icon = { pass: '✅', fail: '❌', error: '⚠️' }[verdict];
  let md = `### ${icon} truewheel audit: ${results.length} wheel${results.length === 1 ? '' : 's'}, ${verdict}\n\n`;
  md += `Policy: ${policy ? `\`${policy}\`` : "each wheel's own platform tags"}. Libraries are looked up in the wheel only.\n\n`;
  md += '| wheel | tags | best policy | verdict | top reason |\n|---|---|---|---|---|\n';
  for (const r of results) {
    if (r.error) {
      // What to do goes with what is wrong, as in the annotation.
      const what = `${r.error.message}${r.error.hint ? ` (hint: ${r.error.hint})` : ''}`;
      md += `| ${code(r.label || r.name)} | ${cell(tagsOf(r.name))} | — | ⚠️ error | ${cell(what)} |\n`;
      continue;
    }
    const rep = r.report;
    const best = rep.other_platform ? 'not Linux' : rep.foreign_binary ? 'none: no ELF files' : rep.pure ? 'pure' : code(rep.overall_tag);
    // A wheel of another system passes its own tags unjudged: no Linux policy applies.
    const v = r.pass && rep.other_platform ? '➖ not judged: no Linux policy applies'
      : r.pass ? `✅ meets ${code(r.wanted)}` : `❌ fails ${code(r.wanted)}`;
    // (A passing wheel's findings are why stricter policies fail, not a reason of its verdict.)
    const [why] = r.pass ? r.notes : reasonsOf(r);
    const top = why ? cell(why) : '—';
    md += `| ${code(r.label || r.name)} | ${cell(tagsOf(r.name))} | ${best} | ${v} | ${top} |\n`;
  }
  const failing = results.filter((r) => !r.error && !r.pass && reasonsOf(r).length > 1);
  for (const r of failing) {
    md += `\n<details><summary>every reason for <code>${html(r.name)}</code></summary>\n\n`;
    for (const why of reasonsOf(r)) md += `- ${cell(why)}\n`;
    md += '\n</details>\n';
  }
  return md;
}

async function main() {
  const patterns = input('wheels', 'dist/*.whl');
  const policy = input('policy', '');
  const failOn = input('fail-on', 'violation');
  // GitHub starts actions in $GITHUB_WORKSPACE; patterns are relative to it.
  // The workspace as GitHub names it, when it is where the step runs: the process sees
  // the real folder, and a workspace reached through a link (self-hosted runners) would
  // put every wheel named through `${{ github.workspace }}` outside it.
  const ws = process.env.GITHUB_WORKSPACE;
  const real = (p) => { try { return fs.realpathSync(p); } catch { return null; } };
  const cwd = ws && path.isAbsolute(ws) && real(ws) === real(process.cwd()) ? ws : process.cwd();
  const rel = (f) => path.relative(cwd, f) || f;
  const reportPath = path.resolve(cwd, input('json-report', path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'truewheel-audit.json')));

  if (!FAIL_ON.includes(failOn)) {
    annotate('error', `fail-on is \`${failOn}\`; it takes violation, error or never`, { title: 'truewheel audit' });
    setOutput('verdict', 'error');
    return 2;
  }
  let wasm;
  try {
    wasm = loadWasm(false);
  } catch (err) {
    annotate('error', `cannot load truewheel's WebAssembly build from ${path.join(__dirname, 'dist')}: ${err.message}`, { title: 'truewheel audit' });
    setOutput('verdict', 'error');
    return 2;
  }
  // Input mistakes are said once, not once per wheel.
  let files;
  try {
    if (policy) wasm.checkPolicy(policy);
    files = matchWheels(patterns, cwd);
  } catch (err) {
    const what = err instanceof PatternError ? err.message : `the policy input: ${err.message}`;
    annotate('error', `${what}${err.hint ? ` (hint: ${err.hint})` : ''}`, { title: 'truewheel audit' });
    setOutput('verdict', 'error');
    return 2;
  }
  // A glob such as `dist/*` also takes the sdists beside the wheels: they are left out,
  // said once, as no wheel policy applies to them.
  const others = files.filter((f) => !f.endsWith('.whl'));
  if (others.length) {
    files = files.filter((f) => f.endsWith('.whl'));
    const shown = others.slice(0, 3).map(rel).join(', ');
    console.log(logLine(`left out ${others.length} file${others.length === 1 ? '' : 's'} that ${others.length === 1 ? 'is' : 'are'} not a wheel: ${shown}${others.length > 3 ? ', …' : ''}`));
  }
  // The report is written over whatever its path names: never over a wheel of the run.
  if (files.some((f) => real(f) !== null && real(f) === real(reportPath))) {
    annotate('error', `the json-report input names ${rel(reportPath)}, one of the wheels to audit: give the report another path`, { title: 'truewheel audit' });
    setOutput('verdict', 'error');
    return 2;
  }
  if (files.length === 0) {
    const msg = `no wheel matches ${patterns.split(/\r?\n/).join(', ')} (in ${cwd})`;
    annotate(failOn === 'never' ? 'warning' : 'error', `${msg}: build the wheels first, or set the \`wheels\` input`, { title: 'truewheel audit' });
    setOutput('verdict', 'error');
    return failOn === 'never' ? 0 : 2;
  }
  console.log(`truewheel ${wasm.version()} (WebAssembly): auditing ${files.length} wheel${files.length === 1 ? '' : 's'}${policy ? ` against ${policy}` : ''}`);

  const cores = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  const results = await auditAll(files, policy, Math.min(cores, MAX_THREADS));
  // Wheels of one name from two folders (two artifacts of a matrix) are told apart by
  // their paths in the summary and the annotations.
  const seen = new Map();
  for (const r of results) seen.set(r.name, (seen.get(r.name) || 0) + 1);
  for (const r of results) r.label = seen.get(r.name) > 1 ? rel(r.file) : r.name;
  const errors = results.filter((r) => r.error);
  const violations = results.filter((r) => !r.error && !r.pass);
  const verdict = errors.length ? 'error' : violations.length ? 'fail' : 'pass';

  for (const r of results) process.stdout.write(textReport(r));
  // GitHub attaches an annotation to a file of the repository only: one outside the
  // workspace is named in the message alone.
  const fileOf = (f) => (rel(f).startsWith('..') || path.isAbsolute(rel(f)) ? {} : { file: rel(f) });
  // Unreadable wheels first: GitHub shows a step's first 10 error annotations only, and
  // these make the verdict `error`.
  for (const r of errors) {
    annotate('error', `${r.error.message}${r.error.hint ? ` (hint: ${r.error.hint})` : ''}`, { ...fileOf(r.file), title: r.error.kind === 'refused' ? 'truewheel: cannot be audited' : 'truewheel: unreadable wheel' });
  }
  for (const r of violations) {
    const top = reasonsOf(r)[0];
    const rep = r.report;
    const best = rep.other_platform ? `none: it is not a Linux wheel (${rep.platform_tags.join('.')})`
      : rep.foreign_binary ? 'none: it holds no ELF file' : rep.pure ? 'pure, no ELF files' : rep.overall_tag;
    annotate('error', `${r.label} fails ${r.wanted} (best policy: ${best})${top ? `: ${top}` : ''}`, { ...fileOf(r.file), title: `truewheel: not ${r.wanted}` });
  }
  // A wheel tagged plain `linux_*` meets its own tags, but PyPI refuses such a wheel:
  // a release job is told, without failing it (a private index may take it).
  for (const r of results.filter((x) => !x.error && x.pass && !policy)) {
    const tags = r.report.platform_tags;
    if (tags.length && tags.every((t) => t.startsWith('linux_'))) {
      const best = r.report.overall_tag && !r.report.overall_tag.startsWith('linux_') ? ` it qualifies for ${r.report.overall_tag};` : '';
      annotate('warning', `${r.label} is tagged ${tags.join('.')}, which PyPI does not accept:${best} repair it (truewheel repair, or auditwheel repair) before publishing`, { ...fileOf(r.file), title: 'truewheel: not a manylinux or musllinux wheel' });
    }
  }

  const json = {
    schema: 1,
    tool: `truewheel ${wasm.version()} (wasm)`,
    verdict,
    policy: policy || null,
    wheels: results.map((r) => (r.error
      ? { file: rel(r.file), error: r.error }
      : { file: rel(r.file), pass: r.pass, wanted: r.wanted, report: r.report })),
  };
  // The summary and the verdict are written even when the report cannot be.
  let written = true;
  try {
    fs.mkdirSync(path.dirname(reportPath), { recursive: true });
    fs.writeFileSync(reportPath, `${JSON.stringify(json, null, 2)}\n`);
  } catch (err) {
    annotate('error', `cannot write the JSON report to ${reportPath}: ${err.message}`, { title: 'truewheel audit' });
    written = false;
  }
  setOutput('verdict', written ? verdict : 'error');
  if (written) setOutput('report', reportPath);
  // A summary that cannot be written (a full disk) loses the table, not the verdict.
  try {
    if (process.env.GITHUB_STEP_SUMMARY) fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, summary(results, policy, verdict));
  } catch (err) {
    annotate('warning', `cannot write the job summary to ${process.env.GITHUB_STEP_SUMMARY}: ${err.message}`, { title: 'truewheel audit' });
  }

  if (!written) return 2;
  if (failOn === 'never') return 0;
  if (errors.length) return 2;
  if (failOn === 'violation' && violations.length) return 1;
  return 0;
}

if (!isMainThread && workerData && workerData.truewheelAudit) {
  auditWorker();
} else if (require.main === module) {
  main().then((code) => { process.exitCode = code; }, (err) => {
    annotate('error', `truewheel audit failed: ${err.message}`, { title: 'truewheel audit' });
    try { setOutput('verdict', 'error'); } catch { /* the output file is what failed */ }
    process.exitCode = 2;
  });
}

module.exports = { glob, matchWheels, segmentRegex, expandBraces, cell, code };
