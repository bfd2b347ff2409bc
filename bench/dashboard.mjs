// bench/dashboard.mjs — the dashboard's two budgets, measured and printed
// (record them in bench/RESULTS.md; nothing here passes or fails on time):
//   - the gzipped size of web/admin/**/*.js + *.css, each file gzipped on its
//     own as appointd serves it — budget 60 KB;
//   - per view, navigation start → interactive on loopback — budget 300 ms —
//     next to a reference measured the same way in the same run: stsim's
//     sign-in page, a server-rendered HTML form with no script, on the same
//     machine and browser. It is the floor for "a page with a form"; the
//     dashboard's extra is its module waterfall and API reads.
// "Interactive": the page's main controls are visible and enabled, its data
// rendered and, for the signed-in views, the router has focused the view's
// h1. An init script (MutationObserver + focusin) notes performance.now() —
// which counts from navigation start — the first moment that holds. Each page
// is loaded RUNS+1 times with a full page load: the first load, and the median
// and max of the rest (revalidated from the HTTP cache), are reported.
//
// With BASELINE_WEB=DIR (another web/ tree, e.g. main's: git archive main web
// | tar -x -C /tmp/main), each dashboard page is also measured, in turn with
// this tree's, from a second appointd serving DIR: a before/after in one run.
//
// usage: APPOINTD_BIN=build/appointd STSIM_BIN=build/sim/stsim node bench/dashboard.mjs
//        (npm run bench:dashboard; defaults: the build-test/ binaries)
// env:   RUNS (default 7), OUT (default build/bench/dashboard.json), BASELINE_WEB
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BIN } from '../tests/e2e/lib/appointd.mjs';
import { launchBrowser, repoRoot } from '../tests/browser/lib/browser.mjs';
import { ROUTES, login, startStack } from '../tests/browser/lib/dashboard.mjs';

const OPERATOR = { email: 'ops@appointd.test', password: 'operator-password-1', role: 'owner', operator: true };
const RUNS = Number(process.env.RUNS || 7);
const OUT = process.env.OUT || path.join(repoRoot, 'build/bench/dashboard.json');
const BASELINE_WEB = process.env.BASELINE_WEB || '';
const BUDGET_MS = 300;
const BUDGET_KB = 60;
const KB = 1024;

/** What "interactive" means per page (keyed by pathname + hash). */
const PAGES = {
  'reference: stsim sign-in (HTML form, no script)': {
    key: '/login',
    enabled: ['#tenantId', '#username', '#password', 'button[type=submit]'],
    present: [],
    h1: null,
  },
  login: { key: '/admin/' + ROUTES.login, enabled: ['#email', '#password', '#login-submit'], present: [], h1: null },
  fms: { key: '/admin/' + ROUTES.fms, enabled: ['#tenant-id', '#add-to-servicetitan'], present: [], h1: 'section#fms' },
  users: {
    key: '/admin/' + ROUTES.users,
    enabled: ['#perm-staff', '#perm-save'],
    present: ['#users-table tbody tr'],
    h1: 'section#users',
  },
  operator: {
    key: '/admin/' + ROUTES.operator,
    enabled: [],
    present: ['#operator-accounts tbody tr[data-state]', '#operator-counts [data-state]'],
    h1: 'section#operator',
  },
};

/** Runs in the page before its scripts: notes window.__interactive the first time the page's READY holds. */
function watchInteractive(all) {
  const cfg = all[location.pathname + (location.hash || '').replace(/\/+$/, '')];
  if (!cfg) return;
  const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const ok = () => {
    for (const s of cfg.enabled) {
      const e = document.querySelector(s);
      if (!e || e.disabled || !visible(e)) return false;
    }
    for (const s of cfg.present) if (!document.querySelector(s)) return false;
    return !cfg.h1 || document.activeElement === document.querySelector(`${cfg.h1} h1`);
  };
  const check = () => {
    if (window.__interactive === undefined && ok()) {
      window.__interactive = performance.now();
      obs.disconnect();
    }
  };
  const obs = new MutationObserver(check);
  obs.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  document.addEventListener('focusin', check, true);
  document.addEventListener('DOMContentLoaded', check);
}

async function filesUnder(dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function assets() {
  const root = path.join(repoRoot, 'web/admin');
  const files = (await filesUnder(root)).filter((f) => /\.(js|css)$/.test(f)).sort();
  const rows = [];
  for (const f of files) {
    const buf = await readFile(f);
    rows.push({ file: path.relative(root, f), bytes: buf.length, gzip: gzipSync(buf, { level: 9 }).length });
  }
  const html = gzipSync(await readFile(path.join(root, 'index.html')), { level: 9 }).length;
  const sum = (k) => rows.reduce((a, r) => a + r[k], 0);
  return { rows, bytes: sum('bytes'), gzip: sum('gzip'), htmlGzip: html };
}

/** Loads url RUNS+1 times; resolves {first, median, max} in ms. */
async function timeLoads(page, url, name) {
  const times = [];
  for (let i = 0; i <= RUNS; i++) {
    await page.goto('about:blank');
    await page.goto(url);
    const ms = await page
      .waitForFunction(() => window.__interactive, null, { timeout: 15000 })
      .then((h) => h.jsonValue())
      .catch(() => null);
    assert.ok(ms !== null, `${name} never became interactive (see PAGES for what that means)`);
    times.push(ms);
  }
  const rest = times.slice(1);
  return { first: Math.round(times[0]), median: Math.round(median(rest)), max: Math.round(Math.max(...rest)) };
}

/** A stack (serving webRoot when given) and a browser watching for "interactive". */
async function side(webRoot) {
  const serverArgs = webRoot ? ['--web-root', path.resolve(webRoot)] : [];
  const st = await startStack({ accounts: [{ name: 'appointd ops', users: [OPERATOR] }], serverArgs });
  const b = await launchBrowser({ viewport: { width: 1280, height: 800 } });
  await b.page.addInitScript(watchInteractive, Object.fromEntries(Object.values(PAGES).map((p) => [p.key, p])));
  return { st, b };
}

/** Measures one page on one side (signing in first for the signed-in views). */
async function measure({ st, b }, name, p) {
  if (p.h1 && !(await b.page.locator('#signed-in-as').isVisible().catch(() => false))) {
    await login(b.page, st, OPERATOR);
  }
  const base = p.key.startsWith('/admin/') ? st.srv.url : st.web;
  return timeLoads(b.page, base + p.key, name);
}

async function main() {
  const a = await assets();
  const sides = [await side('')];
  if (BASELINE_WEB) sides.push(await side(BASELINE_WEB));
  const results = {
    date: new Date().toISOString(),
    binary: path.relative(repoRoot, BIN),
    machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model || '?'}, load ${os.loadavg()[0].toFixed(1)}`,
    runs: RUNS,
    assets: a,
    baselineWeb: BASELINE_WEB || null,
    pages: {},
    baseline: {},
  };
  try {
    for (const [name, p] of Object.entries(PAGES)) {
      results.pages[name] = await measure(sides[0], name, p);
      if (sides[1] && p.key.startsWith('/admin/')) results.baseline[name] = await measure(sides[1], name, p);
    }
  } finally {
    for (const { st, b } of sides) {
      await b.close();
      await st.stop(assert);
    }
  }
  await mkdir(path.dirname(OUT), { recursive: true });
  await writeFile(OUT, JSON.stringify(results, null, 2) + '\n');

  const ref = results.pages[Object.keys(PAGES)[0]];
  console.log(`dashboard benchmark — ${results.date}, ${results.machine}, ${results.binary}, ${RUNS} reloads each`);
  const signed = (n) => `${n >= 0 ? '+' : ''}${n} ms`;
  const baseCols = BASELINE_WEB ? ' baseline first | baseline median |' : '';
  console.log(`| page | first load | median | max | median − reference |${baseCols} budget |`);
  console.log(`|---|---:|---:|---:|---:|${BASELINE_WEB ? '---:|---:|' : ''}---|`);
  for (const [name, r] of Object.entries(results.pages)) {
    const isRef = r === ref;
    const over = isRef ? '—' : r.median <= BUDGET_MS && r.first <= BUDGET_MS ? `within ${BUDGET_MS} ms` : `OVER ${BUDGET_MS} ms`;
    const delta = isRef ? '—' : signed(r.median - ref.median);
    const bl = results.baseline[name];
    const blCols = BASELINE_WEB ? (bl ? ` ${bl.first} ms | ${bl.median} ms |` : ' — | — |') : '';
    console.log(`| ${name} | ${r.first} ms | ${r.median} ms | ${r.max} ms | ${delta} |${blCols} ${over} |`);
  }
  console.log('\n| asset (web/admin/, gzip -9 each) | bytes | gzipped |\n|---|---:|---:|');
  for (const r of a.rows) console.log(`| ${r.file} | ${r.bytes} | ${r.gzip} |`);
  const kb = (n) => (n / KB).toFixed(1);
  console.log(
    `| **total JS + CSS (${a.rows.length} files)** | **${a.bytes}** | **${a.gzip} (${kb(a.gzip)} KB of ${BUDGET_KB} KB)** |`,
  );
  console.log(`\nindex.html adds ${kb(a.htmlGzip)} KB gzipped. Results: ${path.relative(repoRoot, OUT)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
