// bench/widget.mjs — the booking widget's two budgets, measured and printed
// (record them in bench/RESULTS.md; nothing here passes or fails on time):
//   - the gzipped size of web/widget.js, the one tag every page of a
//     contractor's site loads — budget 30 KB — and of what it loads on first
//     open (web/widget/*.js), each file gzipped -9 on its own as appointd
//     serves it;
//   - click → first step usable on loopback — budget 300 ms: from the click
//     on the widget's "Book online" to the moment the first step is drawn and
//     its heading has focus (what a keyboard or screen-reader user waits
//     for), noted in the page (performance.now() in a capturing click
//     listener and a focusin listener). Three cases: a cold open (the click
//     comes from script, so nothing was warmed by hovering; the dialog's
//     modules are fetched then — from the HTTP cache, revalidated, after the
//     first load), a mouse click (Playwright moves the pointer onto the
//     button first, which starts the fetch a moment early, as a real pointer
//     does), and a reopen in the same page. Reference in the same run: a
//     native <dialog> on the same page opened by a button whose handler only
//     calls showModal() and focuses its heading — the floor for "click →
//     dialog" on this machine and browser.
// Each case runs RUNS times on a fresh page load (the very first load is
// reported apart: nothing cached); medians and maxima are printed.
//
// usage: APPOINTD_BIN=build/appointd STSIM_BIN=build/sim/stsim node bench/widget.mjs
//        (npm run bench:widget; the demo of `make run` is started with those binaries)
// env:   RUNS (default 15), OUT (default build/bench/widget.json)
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { serveSite } from '../scripts/demo-site.mjs';
import { launchBrowser, repoRoot } from '../tests/browser/lib/browser.mjs';
import { runDemo } from '../tests/browser/lib/demo.mjs';

const RUNS = Number(process.env.RUNS || 15);
const OUT = process.env.OUT || path.join(repoRoot, 'build/bench/widget.json');
const KB = 1024;

async function sizes() {
  const files = ['widget.js', ...(await readdir(path.join(repoRoot, 'web/widget'))).filter((f) => f.endsWith('.js')).sort().map((f) => `widget/${f}`)];
  const rows = [];
  for (const f of files) {
    const body = await readFile(path.join(repoRoot, 'web', f));
    rows.push({ file: f, bytes: body.length, gzipped: gzipSync(body, { level: 9 }).length });
  }
  return rows;
}

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Widget bench</title>
<link rel="icon" href="data:,">
<script src="{{APPOINTD}}/widget.js" data-scheduler="{{SCHEDULER}}" async></script>
<script src="/ref.js" defer></script></head>
<body><main><h1>Widget bench</h1><button id="ref-open" type="button">Reference dialog</button>
<dialog id="ref-dialog"><h2 id="ref-h" tabindex="-1">Reference</h2><button id="ref-close" type="button">Close</button></dialog>
</main></body></html>`;

const REF_JS = `document.getElementById('ref-open').addEventListener('click', () => {
  document.getElementById('ref-dialog').showModal();
  document.getElementById('ref-h').focus();
});
document.getElementById('ref-close').addEventListener('click', () => document.getElementById('ref-dialog').close());`;

/**
 * In the page before its scripts: __t0 at the click, __t1 when the first step's (or the
 * reference's) heading has focus. Focus moving inside the widget's shadow root is not seen
 * from the document (focus events stop at the root when target and related target are both
 * its host), so the listener also goes on every shadow root as it is attached.
 */
function marks() {
  addEventListener('click', () => {
    window.__t0 = performance.now();
    window.__t1 = undefined;
  }, true);
  const seen = (ev) => {
    const a = ev.composedPath()[0];
    if (a && (a.id === 'ap-heading' || a.id === 'ref-h') && window.__t0 !== undefined && window.__t1 === undefined) {
      window.__t1 = performance.now();
    }
  };
  document.addEventListener('focusin', seen, true);
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    root.addEventListener('focusin', seen, true);
    return root;
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function measure(page, how) {
  await page.evaluate(() => { window.__t0 = undefined; window.__t1 = undefined; });
  if (how === 'script') await page.evaluate(() => document.querySelector('appointd-widget').shadowRoot.querySelector('.launch').click());
  else if (how === 'mouse') await page.locator('appointd-widget .launch').click();
  else await page.locator('#ref-open').click();
  await page.waitForFunction(() => window.__t1 !== undefined, null, { timeout: 10000 });
  const ms = await page.evaluate(() => window.__t1 - window.__t0);
  await page.keyboard.press('Escape');
  return ms;
}

async function main() {
  const files = await sizes();
  const demo = await runDemo();
  const host = await serveSite({ appointd: demo.appointd, scheduler: demo.key, pages: { '/bench.html': PAGE, '/ref.js': REF_JS } });
  const cfgFile = path.join(demo.dataDir, 'bench-scheduler.json');
  const cfg = await demo.schedulerConfig();
  cfg.allowedOrigins.push(host.url);
  await writeFile(cfgFile, JSON.stringify(cfg));
  await demo.cli(['scheduler', 'update', demo.key, '--config', cfgFile]);
  await new Promise((r) => setTimeout(r, 2500)); // appointd rereads a scheduler every 2 s
  const b = await launchBrowser({ viewport: { width: 1280, height: 800 } });
  await b.context.addInitScript(marks);
  const results = { first: null, script: [], mouse: [], reopen: [], reference: [] };
  try {
    const { page } = b;
    const load = async () => {
      await page.goto(`${host.url}/bench.html`);
      await page.evaluate(() => sessionStorage.clear());
      await page.waitForFunction(() => window.AppointWidget && document.querySelector('appointd-widget .launch, appointd-widget'));
      await page.waitForFunction(() => document.querySelector('appointd-widget').shadowRoot.querySelector('.launch').textContent !== '');
    };
    await load();
    results.first = await measure(page, 'script');
    for (let i = 0; i < RUNS; i++) {
      await load();
      results.script.push(await measure(page, 'script'));
      results.reopen.push(await measure(page, 'script'));
      results.reference.push(await measure(page, 'reference'));
      await load();
      results.mouse.push(await measure(page, 'mouse'));
    }
  } finally {
    await b.close();
    await host.close();
    await demo.stop();
  }

  const totalGz = files.reduce((n, f) => n + f.gzipped, 0);
  const loader = files.find((f) => f.file === 'widget.js');
  console.log(`\nmachine: ${os.cpus().length} cores, ${os.cpus()[0].model}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log('\n| file (each gzipped -9 on its own) | bytes | gzipped |\n|---|---:|---:|');
  for (const f of files) console.log(`| ${f.file} | ${f.bytes.toLocaleString('en')} | ${f.gzipped.toLocaleString('en')} |`);
  console.log(`\nwidget.js: ${(loader.gzipped / KB).toFixed(1)} KB gzipped of the 30 KB budget; ` +
    `loaded on first open: ${((totalGz - loader.gzipped) / KB).toFixed(1)} KB gzipped in ${files.length - 1} modules`);
  const row = (name, xs) => `| ${name} | ${median(xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`;
  console.log(`\nclick → first step usable (ms), ${RUNS} page loads; the very first open, nothing cached: ${results.first.toFixed(0)} ms`);
  console.log('\n| case | median | max |\n|---|---:|---:|');
  console.log(row('first open, click from script (no hover warm-up)', results.script));
  console.log(row('first open, mouse click (pointer over the button first)', results.mouse));
  console.log(row('reopen in the same page', results.reopen));
  console.log(row('reference: a native <dialog>, showModal() + focus', results.reference));
  await mkdir(path.dirname(OUT), { recursive: true });
  await writeFile(OUT, JSON.stringify({ files, results }, null, 2));
  console.log(`\n(raw figures in ${path.relative(repoRoot, OUT)})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
