// dashboard-budgets.test.mjs — measures the dashboard's two budgets and
// prints them (recorded in bench/RESULTS.md, not asserted):
//   - the total gzipped size of web/admin/**/*.js + *.css (each file gzipped
//     on its own, as appointd serves it) — budget 60 KB;
//   - per view, the time from navigation start to the view being
//     interactive on loopback — budget 300 ms. "Interactive" = the view's
//     main control is visible and enabled (and its data rendered) and, for
//     the signed-in views, the router has focused the view's h1. An init
//     script watches the DOM (MutationObserver + focusin) and notes
//     performance.now() — which counts from navigation start — the first
//     moment that holds. Each view is loaded RUNS+1 times with a full page
//     load: the first (a fresh profile: nothing cached) and the median of
//     the rest (revalidated from the HTTP cache) are reported.
// The results also go to $SCREENSHOT_DIR/../dashboard-budgets.json.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { launchBrowser, repoRoot, shotDir } from './lib/browser.mjs';
import { ROUTES, login, startStack } from './lib/dashboard.mjs';

const OPERATOR = { email: 'ops@appointd.test', password: 'operator-password-1', role: 'owner', operator: true };
const RUNS = 7;
const KB = 1024;

/** What "interactive" means per view: controls visible+enabled, elements present, h1 focused. */
const READY = {
  login: { enabled: ['#email', '#password', '#login-submit'], present: [], h1: null },
  fms: { enabled: ['#tenant-id', '#add-to-servicetitan'], present: [], h1: 'section#fms' },
  users: { enabled: ['#perm-staff', '#perm-save'], present: ['#users-table tbody tr'], h1: 'section#users' },
  operator: {
    enabled: [],
    present: ['#operator-accounts tbody tr[data-state]', '#operator-counts [data-state]'],
    h1: 'section#operator',
  },
};

/** Runs in the page before its scripts: notes window.__interactive the first time the view's READY holds. */
function watchInteractive(all) {
  const route = (location.hash || '').replace(/\/+$/, '');
  const cfg = all[route];
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

describe('dashboard budgets (recorded, not asserted)', () => {
  let st, b, page;
  const results = { date: new Date().toISOString(), assets: null, views: {} };

  before(async () => {
    st = await startStack({ accounts: [{ name: 'appointd ops', users: [OPERATOR] }] });
    b = await launchBrowser({ viewport: { width: 1280, height: 800 } });
    ({ page } = b);
    const cfgs = {};
    for (const [view, cfg] of Object.entries(READY)) cfgs[ROUTES[view]] = cfg;
    await page.addInitScript(watchInteractive, cfgs);
  });

  after(async () => {
    await b?.close();
    if (st) await st.stop(assert);
    const file = path.join(path.dirname(await shotDir()), 'dashboard-budgets.json');
    await writeFile(file, JSON.stringify(results, null, 2) + '\n');
  });

  test('JS + CSS of web/admin, gzipped (budget 60 KB)', async (t) => {
    const root = path.join(repoRoot, 'web/admin');
    const files = (await filesUnder(root)).filter((f) => /\.(js|css)$/.test(f)).sort();
    assert.ok(files.length > 0, 'no JS/CSS under web/admin');
    let raw = 0;
    let gz = 0;
    const rows = [];
    for (const f of files) {
      const buf = await readFile(f);
      const z = gzipSync(buf, { level: 9 }).length;
      raw += buf.length;
      gz += z;
      rows.push(`${path.relative(root, f).padEnd(24)} ${String(buf.length).padStart(7)} B  ${String(z).padStart(6)} B gz`);
    }
    const html = await readFile(path.join(root, 'index.html'));
    const htmlGz = gzipSync(html, { level: 9 }).length;
    results.assets = { files: files.length, rawBytes: raw, gzipBytes: gz, htmlGzipBytes: htmlGz };
    const kb = (n) => (n / KB).toFixed(1);
    const line =
      `dashboard assets: ${files.length} JS/CSS files, ${kb(raw)} KB raw, ${kb(gz)} KB gzipped (budget 60 KB); ` +
      `index.html ${kb(htmlGz)} KB gzipped`;
    for (const r of rows) t.diagnostic(r);
    t.diagnostic(line);
    console.log(line);
  });

  for (const view of ['login', 'fms', 'users', 'operator']) {
    test(`${view}: navigation start → interactive (budget 300 ms)`, async (t) => {
      if (view !== 'login' && !(await page.locator('#signed-in-as').isVisible().catch(() => false))) {
        await login(page, st, OPERATOR);
      }
      const times = [];
      for (let i = 0; i <= RUNS; i++) {
        await page.goto('about:blank');
        await page.goto(`${st.admin}${ROUTES[view]}`);
        const ms = await page
          .waitForFunction(() => window.__interactive, null, { timeout: 15000 })
          .then((h) => h.jsonValue())
          .catch(() => null);
        assert.ok(ms !== null, `${view} never became interactive (see READY for what that means)`);
        times.push(ms);
      }
      const rest = times.slice(1);
      const r = { first: Math.round(times[0]), median: Math.round(median(rest)), max: Math.round(Math.max(...rest)) };
      results.views[view] = r;
      const line =
        `dashboard ${view}: interactive after ${r.first} ms (first load), ` +
        `median ${r.median} ms, max ${r.max} ms over ${RUNS} reloads (budget 300 ms)`;
      t.diagnostic(line);
      console.log(line);
    });
  }
});
