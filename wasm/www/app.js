// The inspector page: picks or receives dropped wheels, runs each in its own Web Worker,
// shows progress, then the reports. Wheels run side by side on the machine's cores (4 at
// most) while those running hold 1 GiB at most together, so that a tab holds one large
// wheel at a time; cards keep the order the wheels were given in.
import { initSync, version } from './pkg/truewheel_wasm.js';
import { h, human, renderWheel, renderError, renderProgress } from './render.js';

const results = document.getElementById('results');
const status = document.getElementById('status');
const drop = document.getElementById('drop');
const picker = document.getElementById('picker');

// Compiled once here, handed to every worker (which only instantiates it).
const modulePromise = (async () => {
  const res = await fetch(new URL('./pkg/truewheel_wasm_bg.wasm', import.meta.url));
  if (!res.ok) throw new Error(`cannot load the inspector's module: HTTP ${res.status}`);
  const module = await WebAssembly.compile(await res.arrayBuffer());
  initSync({ module });
  document.getElementById('version').textContent = `truewheel ${version()}`;
  return module;
})();
modulePromise.catch((err) => {
  status.textContent = `error: ${err.message}`;
  status.classList.add('bad');
});

const queue = [];
const THREADS = Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 4));
const BUDGET = 1 << 30;
let running = 0;
let holding = 0;

function enqueue(files) {
  for (const file of files) {
    const card = h('article', { class: 'wheel', 'data-file': file.name });
    results.append(card);
    renderProgress(card, file.name, 'queued', 0, 1);
    queue.push({ file, card });
  }
  next();
}

function runOne(module, file, card) {
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    const finish = () => { worker.terminate(); resolve(); };
    worker.onmessage = ({ data }) => {
      if (data.type === 'progress') {
        renderProgress(card, file.name, data.phase, data.done, data.total);
      } else if (data.type === 'done') {
        const audit = data.audit.error ? data.audit
          : { report: JSON.parse(data.audit.json), pass: data.audit.pass, wanted: data.audit.wanted, notes: data.audit.notes };
        renderWheel(card, { inspect: JSON.parse(data.inspect), audit });
        card.dataset.state = 'done';
        finish();
      } else if (data.type === 'error') {
        renderError(card, file.name, data.error);
        card.dataset.state = 'error';
        finish();
      }
    };
    worker.onerror = (e) => {
      e.preventDefault();
      renderError(card, file.name, { message: `the inspector's worker stopped: ${e.message || 'unknown error'}`, hint: 'reload the page and try again, or use the CLI: truewheel audit --wheel-only WHEEL' });
      card.dataset.state = 'error';
      finish();
    };
    worker.postMessage({ module, file });
  });
}

// Starts the queued wheels that fit beside those running (the first always does).
function next() {
  while (queue.length && running < THREADS && (running === 0 || holding + queue[0].file.size <= BUDGET)) {
    const { file, card } = queue.shift();
    running += 1;
    holding += file.size;
    status.textContent = `reading ${file.name} (${human(file.size)})${queue.length ? `, ${queue.length} more waiting` : ''}`;
    modulePromise
      .then((module) => runOne(module, file, card))
      .catch((err) => {
        renderError(card, file.name, { message: err.message });
        card.dataset.state = 'error';
      })
      .finally(() => {
        running -= 1;
        holding -= file.size;
        if (!running && !queue.length) status.textContent = '';
        next();
      });
  }
}

picker.addEventListener('change', () => {
  enqueue([...picker.files]);
  picker.value = '';
});
drop.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); picker.click(); }
});
// Drops anywhere on the page count; the drop zone lights up.
for (const type of ['dragenter', 'dragover']) {
  document.addEventListener(type, (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
}
document.addEventListener('dragleave', (e) => {
  if (e.relatedTarget === null) drop.classList.remove('over');
});
document.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const files = [...(e.dataTransfer ? e.dataTransfer.files : [])];
  if (files.length) enqueue(files);
});
