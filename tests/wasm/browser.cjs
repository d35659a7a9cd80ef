// Drives the inspector in Debian's Chromium (playwright-core, no downloaded browser) and
// prints what the page shows, as JSON, for tests/e2e/test_wasm.py to judge.
//
//   node tests/wasm/browser.cjs URL OUTDIR --pick W1 W2 ... [--drop W3 ...] [--screenshot NAME]
//
// --pick  uploads the wheels through the file picker, all at once;
// --drop  drops each wheel on the page (a synthetic drag-and-drop with a DataTransfer).
// Then it waits until every card is done, polling the page meanwhile, and prints
// {version, cards: [...], watch: {maxLatencyMs, phases, elapsedMs}, console, pageErrors,
// offsite}: per card the file name, verdict (class and text), best policy,
// reasons (grouped as shown), shared-library rows, RECORD state, error text. Screenshots
// go to OUTDIR (NAME.png, the viewport, and NAME-full.png, the whole page).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.TRUEWHEEL_CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = Number(process.env.TRUEWHEEL_BROWSER_TIMEOUT_MS || 120000);

function parseArgs(argv) {
  const [url, outdir, ...rest] = argv;
  const out = { url, outdir, pick: [], drop: [], screenshot: 'inspector' };
  let mode = null;
  for (let i = 0; i < rest.length; i += 1) {
    const a = rest[i];
    if (a === '--pick' || a === '--drop') mode = a.slice(2);
    else if (a === '--screenshot') out.screenshot = rest[++i];
    else out[mode].push(a);
  }
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.outdir, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'truewheel-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const origin = new URL(args.url).origin;
  const seen = { console: [], pageErrors: [], offsite: [] };
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') seen.console.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => seen.pageErrors.push(String(e)));
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) seen.offsite.push(u);
    });
    await page.goto(args.url);
    await page.waitForFunction(() => document.getElementById('version').textContent.startsWith('truewheel '));
    const version = await page.textContent('#version');

    if (args.pick.length) await page.setInputFiles('#picker', args.pick);
    for (const file of args.drop) {
      const b64 = fs.readFileSync(file).toString('base64');
      await page.evaluate(({ name, b64 }) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], name));
        document.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
        document.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, { name: path.basename(file), b64 });
    }
    // While the work runs, the page must answer: poll it, note how long each answer took
    // and the progress it shows.
    const expected = args.pick.length + args.drop.length;
    const watch = { maxLatencyMs: 0, polls: 0, phases: [] };
    const started = Date.now();
    for (;;) {
      const t0 = Date.now();
      const state = await page.evaluate(() => {
        const cards = [...document.querySelectorAll('article.wheel')];
        return {
          done: cards.filter((c) => c.dataset.state === 'done' || c.dataset.state === 'error').length,
          phases: cards.map((c) => (c.querySelector('.phase') || {}).textContent).filter(Boolean),
        };
      });
      watch.maxLatencyMs = Math.max(watch.maxLatencyMs, Date.now() - t0);
      watch.polls += 1;
      for (const p of state.phases) if (!watch.phases.includes(p)) watch.phases.push(p);
      if (state.done === expected) break;
      if (Date.now() - started > TIMEOUT) throw new Error(`the page did not finish in ${TIMEOUT} ms: ${JSON.stringify(state)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    watch.elapsedMs = Date.now() - started;

    const cards = await page.$$eval('article.wheel', (els) => els.map((c) => {
      const text = (sel) => { const e = c.querySelector(sel); return e ? e.textContent.trim() : null; };
      const v = c.querySelector('.verdict');
      return {
        file: c.dataset.file,
        state: c.dataset.state,
        filename: text('.filename'),
        verdict: v ? v.dataset.verdict : null,
        verdictText: text('.verdict .big'),
        notes: [...c.querySelectorAll('.verdict .note')].map((n) => n.textContent.trim()),
        binaries: [...c.querySelectorAll('ul.binaries li')].map((li) => li.textContent.trim()),
        // Text nodes straight under the card (a part rendered as the text "null").
        strayText: [...c.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim()).map((n) => n.textContent),
        best: text('.best-tag'),
        error: text('.verdict .why'),
        hint: text('.verdict .hint'),
        groups: [...c.querySelectorAll('.reasons .group')].map((g) => ({
          rulesOut: g.querySelector('.rules-out code').textContent,
          reasons: [...g.querySelectorAll('.reason-text')].map((r) => r.textContent),
        })),
        libraries: [...c.querySelectorAll('table.libs tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent.trim())),
        record: (c.querySelector('[data-record]') || {}).dataset ? c.querySelector('[data-record]').dataset.record : null,
        metadataName: text('dl.meta dd'),
        treeTop: [...c.querySelectorAll('.part > ul.tree > li .dir')].map((d) => d.textContent),
      };
    }));
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(args.outdir, `${args.screenshot}.png`) });
    await page.screenshot({ path: path.join(args.outdir, `${args.screenshot}-full.png`), fullPage: true });
    process.stdout.write(`${JSON.stringify({ version, cards, watch, ...seen }, null, 2)}\n`);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`browser test: ${err.stack || err}`);
  process.exit(2);
});
