// Renders the reports (the CLI's `inspect --json` and `audit --json --wheel-only`) as
// DOM. Text goes in with textContent only: a wheel's names and metadata are untrusted.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function human(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

function chips(label, items, cls) {
  return h('span', { class: 'chipset' }, h('span', { class: 'chiplabel' }, label),
    items.map((t) => h('code', { class: `chip ${cls || ''}` }, t)));
}

function section(title, count, ...body) {
  return h('section', { class: 'part' },
    h('h3', {}, title, count !== undefined ? h('span', { class: 'count' }, count) : null), ...body);
}

// The verdict, first: pass/fail against the policy asked for (the wheel's own tags),
// and the best policy the wheel meets.
function verdict(ins, audit) {
  if (!audit) return null;
  if (audit.error) {
    return h('div', { class: 'verdict error', 'data-verdict': 'error' },
      h('div', { class: 'big' }, '⚠ cannot audit'),
      h('div', { class: 'why' }, audit.error.message),
      audit.error.hint ? h('div', { class: 'hint' }, 'hint: ', audit.error.hint) : null);
  }
  const r = audit.report;
  if (r.other_platform) {
    return h('div', { class: `verdict ${audit.pass ? 'pass caution' : 'fail'}`, 'data-verdict': audit.pass ? 'pass' : 'fail' },
      h('div', { class: 'big' }, audit.pass ? `not a Linux wheel (${r.platform_tags.join('.')})` : `✗ fails ${audit.wanted}`),
      h('div', { class: 'note' }, 'no manylinux or musllinux policy applies: it holds no ELF file, and its tags name another system'));
  }
  if (r.foreign_binary) {
    return h('div', { class: `verdict ${audit.pass ? 'pass' : 'fail'}`, 'data-verdict': audit.pass ? 'pass' : 'fail' },
      h('div', { class: 'big' }, audit.pass ? `✓ meets ${audit.wanted}` : `✗ fails ${audit.wanted}`),
      h('div', { class: 'note' }, `no ELF files, but a binary for another system (${r.foreign_binary.summary})`),
      ...(audit.notes || []).map((n) => h('div', { class: 'note' }, n)));
  }
  if (r.pure && audit.pass) {
    return h('div', { class: 'verdict pass', 'data-verdict': 'pass' },
      h('div', { class: 'big' }, '✓ pure: no ELF files, meets every policy'));
  }
  if (r.pure) {
    // A tag that names no policy.
    return h('div', { class: 'verdict fail', 'data-verdict': 'fail' },
      h('div', { class: 'big' }, `✗ fails ${audit.wanted}`),
      h('div', { class: 'note' }, 'pure: no ELF files'),
      ...(audit.notes || []).map((n) => h('div', { class: 'note' }, n)));
  }
  const own = r.platform_tags.join('.');
  const cls = audit.pass ? 'pass' : 'fail';
  const plainLinux = r.platform_tags.every((t) => t.startsWith('linux_'));
  let note = null;
  if (r.overall_tag.startsWith('linux_')) {
    note = 'no manylinux or musllinux policy is met: PyPI will not accept this wheel';
  } else if (plainLinux) {
    note = `tagged plain linux, which PyPI does not accept; it qualifies for ${r.overall_tag} (repair retags it)`;
  }
  // Meeting a plain linux tag is no achievement: shown in amber, not green.
  const shade = audit.pass && r.overall_tag.startsWith('linux_') ? ' caution' : '';
  return h('div', { class: `verdict ${cls}${shade}`, 'data-verdict': cls },
    h('div', { class: 'big' }, audit.pass ? `✓ meets ${audit.wanted}` : `✗ fails ${audit.wanted}`,
      audit.wanted === own ? h('span', { class: 'own' }, ' (its own tag)') : null),
    h('div', { class: 'best' }, 'best policy: ', h('code', { class: 'best-tag' }, r.overall_tag),
      r.symbol_tag && r.symbol_tag !== r.overall_tag
        ? h('span', { class: 'muted' }, ' · symbol versions alone allow ', h('code', {}, r.symbol_tag)) : null),
    note ? h('div', { class: 'note' }, note) : null,
    // (As the CLI: on a pass, the notes say which tags another evaluation judged.)
    ...(audit.notes || []).map((n) => h('div', { class: 'note' }, n)));
}

// The reasons as the CLI prints them (`text → not P or stricter`), grouped under the
// loosest policy each rules out, loosest first.
function reasons(audit) {
  if (!audit || audit.error || audit.report.pure) return null;
  const findings = audit.report.findings;
  if (findings.length === 0) {
    return section('Reasons', 0, h('p', { class: 'muted' }, audit.pass
      ? 'None: the wheel meets the strictest policy for its architecture.'
      : 'None against the policies: the verdict above says why the wheel fails.'));
  }
  const groups = [];
  for (const f of findings) {
    const last = groups[groups.length - 1];
    if (last && last.rules_out === f.rules_out) last.items.push(f);
    else groups.push({ rules_out: f.rules_out, items: [f] });
  }
  return section('Reasons', findings.length,
    h('div', { class: 'reasons' }, groups.map((g) => h('div', { class: 'group' },
      h('div', { class: 'rules-out' }, 'not ', h('code', {}, g.rules_out), ' or stricter'),
      h('ul', {}, g.items.map((f) => h('li', { class: 'reason' },
        h('span', { class: 'reason-text' }, f.text),
        f.blocking ? null : h('span', { class: 'badge' }, 'repair fixes this'))))))));
}

// The binaries that are not ELF files (Mach-O, PE, WebAssembly): the audit reads ELF
// files only, so these are listed as `inspect` identifies them.
function otherBinaries(audit, ins) {
  const others = audit && !audit.error ? ins.binaries.filter((b) => b.binary.format !== 'elf') : ins.binaries;
  if (others.length === 0) return null;
  return section(audit && !audit.error ? 'Other binaries' : 'Binaries', others.length, h('ul', { class: 'plain binaries' },
    others.map((b) => h('li', {}, h('code', {}, b.path), ' ', h('span', { class: 'muted' }, b.summary)))));
}

function libraries(audit, ins) {
  const elfs = audit && !audit.error ? audit.report.elfs : null;
  if (elfs) {
    if (elfs.length === 0) {
      return ins.binaries.length ? null : section('Shared libraries', 0, h('p', { class: 'muted' }, 'No ELF file in the wheel.'));
    }
    return section('Shared libraries', elfs.length, h('div', { class: 'scroll' }, h('table', { class: 'libs' },
      h('thead', {}, h('tr', {}, ['member', 'SONAME', 'NEEDED', 'RPATH / RUNPATH', 'symbol versions'].map((t) => h('th', {}, t)))),
      h('tbody', {}, elfs.map((e) => h('tr', {},
        h('td', {}, h('code', {}, e.path), h('div', { class: 'muted small' }, e.summary, e.isa ? ` · ${e.isa}` : '')),
        h('td', {}, e.soname ? h('code', {}, e.soname) : h('span', { class: 'muted' }, '—')),
        h('td', {}, e.needed.length ? h('ul', { class: 'plain' }, e.needed.map((n) => h('li', {}, h('code', {}, n)))) : h('span', { class: 'muted' }, '—')),
        h('td', {}, [e.rpath ? h('div', {}, 'RPATH ', h('code', {}, e.rpath)) : null,
          e.runpath ? h('div', {}, 'RUNPATH ', h('code', {}, e.runpath)) : null,
          !e.rpath && !e.runpath ? h('span', { class: 'muted' }, '—') : null]),
        h('td', {}, Object.keys(e.version_needs).length
          ? h('ul', { class: 'plain' }, Object.entries(e.version_needs).map(([lib, vs]) => h('li', {},
            h('code', {}, lib), ': ', vs.map((v, i) => [i ? ', ' : '', h('code', { class: 'ver' }, v)]))))
          : h('span', { class: 'muted' }, '—'))))))));
  }
  return null;
}

function record(ins) {
  const r = ins.record;
  if (r.ok) {
    return section('RECORD', null, h('p', { class: 'ok', 'data-record': 'ok' }, `✓ every member listed, ${r.hashed} hashes and sizes right, nothing extra`));
  }
  return section('RECORD', `${r.issues.length} problem${r.issues.length > 1 ? 's' : ''}`,
    h('ul', { class: 'issues', 'data-record': 'bad' }, r.issues.map((i) => h('li', {}, describeIssue(i)))),
    h('p', { class: 'hint' }, `hint: ${recordHint(r.issues[0])}`));
}

// As the core's RecordIssue::hint: changed after the build, or written wrong.
function recordHint(i) {
  return ['listed_twice', 'no_hash', 'self_hashed'].includes(i.kind)
    ? 'its RECORD was written wrong; rebuild the wheel with a current build tool'
    : 'the wheel was modified after it was built; rebuild it or run `truewheel retag` on the original';
}

function describeIssue(i) {
  switch (i.kind) {
    case 'not_listed': return `${i.path} is not listed in RECORD`;
    case 'absent': return `RECORD lists ${i.path}, which is not in the wheel`;
    case 'listed_twice': return `RECORD lists ${i.path} twice`;
    case 'no_hash': return `RECORD gives no hash for ${i.path}`;
    case 'self_hashed': return `RECORD gives a hash for ${i.path}, itself, which it cannot hold`;
    case 'hash_mismatch': return `RECORD hash mismatch for ${i.path}: expected ${i.expected}, found ${i.found}`;
    case 'size_mismatch': return `RECORD size mismatch for ${i.path}: expected ${i.expected} bytes, found ${i.found}`;
    default: return JSON.stringify(i);
  }
}

function metadata(ins) {
  const m = ins.metadata;
  const row = (k, v) => (v === null || v === undefined || (Array.isArray(v) && v.length === 0))
    ? null : [h('dt', {}, k), h('dd', {}, Array.isArray(v) ? h('ul', { class: 'plain' }, v.map((x) => h('li', {}, x))) : v)];
  const w = ins.wheel;
  return section('METADATA', null,
    h('dl', { class: 'meta' },
      row('Name', m.name), row('Version', m.version), row('Metadata-Version', m.metadata_version),
      row('Summary', m.summary), row('License', m.license), row('Requires-Python', m.requires_python),
      row('Requires-Dist', m.requires_dist), row('Provides-Extra', m.provides_extra)),
    h('details', {}, h('summary', {}, `every header (${m.fields.length})`),
      h('table', { class: 'kv' }, m.fields.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))))),
    m.description ? h('details', {}, h('summary', {}, 'description'), h('pre', { class: 'desc' }, m.description)) : null,
    h('details', {}, h('summary', {}, `${ins.dist_info}/WHEEL`),
      h('table', { class: 'kv' },
        h('tr', {}, h('th', {}, 'Wheel-Version'), h('td', {}, w.wheel_version.join('.'))),
        w.generator ? h('tr', {}, h('th', {}, 'Generator'), h('td', {}, w.generator)) : null,
        h('tr', {}, h('th', {}, 'Root-Is-Purelib'), h('td', {}, String(w.root_is_purelib))),
        w.tags.map((t) => h('tr', {}, h('th', {}, 'Tag'), h('td', {}, t))),
        w.build ? h('tr', {}, h('th', {}, 'Build'), h('td', {}, w.build)) : null)));
}

// The members as a tree; folders open on demand, so a wheel of 20,000 files renders fast.
function tree(ins) {
  const root = { dirs: new Map(), files: [], size: 0, stored: 0, count: 0 };
  for (const m of ins.members) {
    const parts = m.path.split('/');
    if (parts[parts.length - 1] === '') continue;
    let node = root;
    node.size += m.size; node.stored += m.compressed_size; node.count += 1;
    for (const p of parts.slice(0, -1)) {
      if (!node.dirs.has(p)) node.dirs.set(p, { dirs: new Map(), files: [], size: 0, stored: 0, count: 0 });
      node = node.dirs.get(p);
      node.size += m.size; node.stored += m.compressed_size; node.count += 1;
    }
    node.files.push({ name: parts[parts.length - 1], m });
  }
  const list = (node) => h('ul', { class: 'tree' },
    [...node.dirs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, d]) => {
      const det = h('details', {}, h('summary', {}, h('span', { class: 'dir' }, `${name}/`),
        h('span', { class: 'size' }, `${human(d.size)} · ${d.count} file${d.count > 1 ? 's' : ''}`)));
      let filled = false;
      det.addEventListener('toggle', () => {
        if (!filled) { filled = true; det.append(list(d)); }
      });
      return h('li', {}, det);
    }),
    node.files.map(({ name, m }) => h('li', { class: 'file' }, h('span', { class: 'fname' }, name),
      h('span', { class: 'size' }, human(m.size), m.compression === 'deflated' ? ` (${human(m.compressed_size)} stored)` : ' (stored)'))));
  const el = list(root);
  // Open the top level folders of a small wheel.
  if (ins.members.length <= 200) el.querySelectorAll(':scope > li > details').forEach((d) => { d.open = true; });
  return section('Files', `${ins.members.length} · ${human(ins.total_size)} unpacked · ${human(ins.total_compressed_size)} stored`, el);
}

export function renderWheel(card, result) {
  const ins = result.inspect;
  const audit = result.audit;
  // (A part with nothing to show is null, which replaceChildren would write as "null".)
  card.replaceChildren(...[
    h('header', { class: 'wheel-head' },
      h('h2', { class: 'filename' }, ins.filename),
      h('div', { class: 'facts' },
        h('span', { class: 'namever' }, h('b', {}, ins.name), ' ', ins.version, ins.build ? ` (build ${ins.build})` : ''),
        chips('python', ins.python_tags), chips('abi', ins.abi_tags), chips('platform', ins.platform_tags, 'plat'))),
    verdict(ins, audit),
    reasons(audit),
    libraries(audit, ins),
    otherBinaries(audit, ins),
    record(ins),
    metadata(ins),
    tree(ins)].filter((part) => part));
}

export function renderError(card, name, error) {
  card.replaceChildren(
    h('header', { class: 'wheel-head' }, h('h2', { class: 'filename' }, name)),
    h('div', { class: 'verdict error', 'data-verdict': 'error' },
      h('div', { class: 'big' }, '⚠ cannot read this wheel'),
      h('div', { class: 'why error-message' }, error.message),
      error.hint ? h('div', { class: 'hint' }, 'hint: ', error.hint) : null));
}

export function renderProgress(card, name, phase, done, total) {
  let bar = card.querySelector('progress');
  if (!bar) {
    card.replaceChildren(
      h('header', { class: 'wheel-head' }, h('h2', { class: 'filename' }, name)),
      h('div', { class: 'working' }, h('span', { class: 'phase' }), h('progress', { max: 1, value: 0 })));
    bar = card.querySelector('progress');
  }
  card.querySelector('.phase').textContent = phase === 'queued' ? 'waiting…'
    : `${phase}… ${total > 1 ? Math.floor((100 * done) / total) : 0}%`;
  if (phase === 'queued') bar.removeAttribute('value');
  else bar.value = total > 0 ? done / total : 0;
}
