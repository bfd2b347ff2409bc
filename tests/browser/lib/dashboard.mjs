// dashboard.mjs — what the dashboard's browser tests share: the stack
// (stsim without --connect + appointd pointed at it, accounts and users made
// with the CLI), signing in, moving between views, ServiceTitan's side of the
// seed's Steps 2–4 on stsim's pages, axe-core and screenshots.
//
//   const st = await startStack({ accounts: [{ name: 'acme', users: [OWNER] }] });
//   const b = await launchBrowser();
//   await login(b.page, st, OWNER);
//   await gotoView(b.page, st, 'fms');
//   ...
//   await st.stop(assert);
//
// The dashboard's DOM contract (ids, roles) is in the issue-5 notes; every
// selector used here is one of those ids. appointd's data dir is shared with
// the CLI (the server holds the data-dir lock; CLI commands do not take it).
import assert from 'node:assert/strict';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { assertCleanExit, cli, startServer, stsimEnv, tempDir } from '../../e2e/lib/appointd.mjs';

import { startStsim, stopClean } from '../../e2e/sim/lib/stsim.mjs';
import { repoRoot } from './browser.mjs';

export { cli };

export const APP_ACCESS = '/settings/integrations/api-application-access';
export const STSIM_ADMIN = { username: 'admin', password: 'demo-admin' };

/** The hash route of each view. */
export const ROUTES = {
  login: '#/login',
  fms: '#/settings/integrations/fms',
  users: '#/settings/users',
  operator: '#/operator',
};

/** The section id of each view (login has a form, not a section). */
export const VIEW_ROOT = { login: '#login-form', fms: 'section#fms', users: 'section#users', operator: 'section#operator' };

/**
 * Starts stsim (demo seed, not connected) and appointd configured for it,
 * then creates accounts: [{ name, users: [{ email, password, role, operator? }] }].
 * An operator user gets the CLI's --operator flag. serverEnv: extra
 * variables for `appointd serve` only (e.g. APPOINTD_ST_ENV_LABEL).
 */
export async function startStack({ accounts = [], serverArgs = [], serverEnv = {} } = {}) {
  const sim = await startStsim({ connect: false });
  const c = sim.creds;
  const data = await tempDir('appointd-browser-');
  const env = { APPOINTD_DATA_DIR: data.dir, APPOINTD_LOG_LEVEL: 'warn', ...stsimEnv(c, c.appId) };
  const run = async (args, input = '') => {
    const r = await cli(args, { env, input });
    assert.equal(r.code, 0, `appointd ${args.join(' ')} → ${r.code}\n${r.stderr}`);
    return r;
  };
  for (const a of accounts) {
    await run(['account', 'create', a.name]);
    for (const u of a.users || []) {
      const args = ['user', 'add', u.email, '--account', a.name, '--role', u.role, '--password-stdin'];
      if (u.operator) args.push('--operator');
      await run(args, u.password + '\n');
    }
  }
  let srv;
  try {
    const { APPOINTD_LOG_LEVEL: _quiet, ...srvEnv } = env; // the ready line is logged at info
    srv = await startServer({ dataDir: data.dir, env: { ...srvEnv, ...serverEnv }, args: serverArgs });
  } catch (e) {
    await sim.stop();
    await data.cleanup();
    throw e;
  }
  const web = c.webUrl.replace(/\/$/, '');
  const st = {
    sim,
    srv,
    env,
    web,
    dataDir: data.dir,
    admin: `${srv.url}/admin/`,
    /** Runs the CLI against this data dir; asserts exit 0 unless { expectFail }. */
    cli: (args, input = '') => run(args, input),
    rawCli: (args, input = '') => cli(args, { env, input }),
    /** A control-API call that must succeed; resolves the body. */
    async control(method, p, body) {
      const r = await sim.control(method, p, body);
      assert.ok(r.status >= 200 && r.status < 300, `stsim ${method} ${p} → ${r.status} ${r.text}`);
      return r.body;
    },
    /** A new empty stsim tenant (no web users; connect it through the control API). */
    addTenant: (id, name = `Tenant ${id}`) => st.control('POST', '/tenants', { id, name, seed: 'none' }),
    /** Every scope the demo app asks for. */
    async appScopes() {
      const ref = 999000 + Math.floor(Math.random() * 999);
      await st.addTenant(ref);
      await st.control('POST', '/connections', { tenantId: ref, appId: c.appId });
      const conns = (await st.control('GET', '/connections')).connections;
      return conns.find((x) => x.tenantId === ref).scopes;
    },
    /** Allow Access + a secret in stsim (control API): { clientId, clientSecret }. */
    allow: (tenantId, scopes) =>
      st.control('POST', '/connections', { tenantId, appId: c.appId, ...(scopes ? { scopes } : {}) }),
    regenerate: async (tenantId) =>
      (await st.control('POST', `/connections/${tenantId}/${c.appId}/secret`)).clientSecret,
    /** The account's FMS status through the CLI (the server's data). */
    async fmsStatus(account) {
      return JSON.parse((await run(['fms', 'status', account, '--json'])).stdout);
    },
    /** Steps 1–4 through the CLI, Allow Access through the control API. */
    async connectByCli(account, tenantId, scopes) {
      await run(['fms', 'tenant', account, String(tenantId)]);
      await run(['fms', 'add', account]);
      const cr = await st.allow(tenantId, scopes);
      await run(['fms', 'connect', account, '--client-id', cr.clientId, '--client-secret-stdin'], cr.clientSecret + '\n');
      return cr;
    },
    /** Stops both; asserts clean exits (no sanitizer reports). */
    async stop(a = assert) {
      const r = await srv.stop();
      await data.cleanup();
      assertCleanExit(a, r);
      await stopClean(sim, a);
    },
  };
  return st;
}

/** GET /api/v1/fms with the context's session: the parsed body (asserts 200). */
export async function apiFms(context, st) {
  const r = await context.request.get(`${st.srv.url}/api/v1/fms`);
  assert.equal(r.status(), 200, `GET /api/v1/fms → ${r.status()} ${await r.text()}`);
  return r.json();
}

/**
 * Waits for a view to be rendered: its root visible and (all but login) its
 * h1 focused — the router focuses it once the view's render finished.
 */
export async function waitView(page, view, timeout = 15000) {
  await page.locator(VIEW_ROOT[view]).first().waitFor({ state: 'visible', timeout });
  if (view === 'login') return;
  try {
    await page.waitForFunction((r) => document.activeElement === document.querySelector(`${r} h1`), VIEW_ROOT[view], {
      timeout,
    });
  } catch {
    throw new Error(`${view}: the view's h1 never got focus (focus is on ${await focused(page)})`);
  }
}

/** Opens a view with a full page load (a reload when already there). */
export async function gotoView(page, st, view) {
  const url = `${st.admin}${ROUTES[view]}`;
  if (page.url() === url) await page.reload();
  else {
    await page.goto('about:blank');
    await page.goto(url);
  }
  await waitView(page, view);
}

/** Signs in through the login form (mouse); ends on whatever view the app opens. */
export async function login(page, st, user) {
  await page.goto(`${st.admin}${ROUTES.login}`);
  await page.locator('#email').fill(user.email);
  await page.locator('#password').fill(user.password);
  await page.locator('#login-submit').click();
  await page.locator('#signed-in-as').waitFor({ state: 'visible' });
  assert.equal((await page.locator('#signed-in-as').innerText()).trim().toLowerCase(), user.email.toLowerCase());
}

/** Signs out with the header's button (keeps other sites' cookies, e.g. stsim's session). */
export async function logout(page) {
  await page.locator('#logout').click();
  await page.locator('#login-form').waitFor({ state: 'visible' });
}

/** A short description of the focused element ('input#email', 'body'). */
export function focused(page) {
  return page.evaluate(() => {
    const e = document.activeElement;
    return e ? `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}` : 'none';
  });
}

/**
 * Moves focus to sel with the keyboard alone: Tab (up to max presses), then
 * Shift+Tab. Resolves the number of presses; throws when sel is not reachable.
 */
export async function tabTo(page, sel, max = 40) {
  let presses = 0;
  for (const key of ['Tab', 'Shift+Tab']) {
    for (let i = 0; i < max; i++) {
      if (await page.evaluate((s) => !!document.activeElement?.matches(s), sel)) return presses;
      await page.keyboard.press(key);
      presses++;
    }
  }
  throw new Error(`${sel} is not reachable with Tab / Shift+Tab (focus ends on ${await focused(page)})`);
}

/** The text of an element, trimmed ('' when absent or hidden). */
export async function textOf(page, sel) {
  const l = page.locator(sel);
  if ((await l.count()) === 0 || !(await l.first().isVisible())) return '';
  return (await l.first().innerText()).trim();
}

/** Waits until sel is visible with non-empty text; resolves the text. */
export async function waitText(page, sel, timeout = 15000) {
  const l = page.locator(sel).first();
  await l.waitFor({ state: 'visible', timeout });
  await page.waitForFunction((s) => (document.querySelector(s)?.innerText || '').trim() !== '', sel, { timeout });
  return (await l.innerText()).trim();
}

// ---- ServiceTitan's side (stsim's pages) -------------------------------------

/**
 * On an stsim page (e.g. the tab "Add to ServiceTitan" opened): signs in as
 * the tenant admin when asked to, then Connect New App → the app → Connect →
 * Allow Access with the booking provider tag. Ends on Application Details;
 * resolves the Client ID shown there.
 */
export async function stsimAllowAccess(page, st, tenantId = st.sim.creds.tenantId) {
  const { appId, bookingProviderId } = st.sim.creds;
  await page.waitForLoadState();
  if (new URL(page.url()).pathname === '/login') {
    await page.getByLabel('Tenant ID').fill(String(tenantId));
    await page.getByLabel('Username').fill(STSIM_ADMIN.username);
    await page.getByLabel('Password').fill(STSIM_ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${st.web}${APP_ACCESS}`);
  }
  await page.getByRole('link', { name: 'Connect New App' }).click();
  await page.waitForURL(`${st.web}${APP_ACCESS}/connect`);
  await page.locator(`#app-${appId}`).check();
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await page.waitForURL(/\/connect\/review\?app=/);
  await page.getByLabel('Booking provider tag').selectOption(String(bookingProviderId));
  await page.getByRole('button', { name: 'Allow Access' }).click();
  await page.waitForURL(`${st.web}${APP_ACCESS}/apps/${appId}`);
  return page.locator('#client-id').inputValue();
}

/** On Application Details: Generate (or Regenerate) Client Secret → Yes, Continue; resolves the secret shown once. */
export async function stsimGenerateSecret(page, st) {
  const { appId } = st.sim.creds;
  await page.getByRole('link', { name: /^(Generate|Regenerate) Client Secret$/ }).click();
  await page.getByRole('button', { name: 'Yes, Continue' }).click();
  await page.waitForURL(`${st.web}${APP_ACCESS}/apps/${appId}`);
  return page.locator('#client-secret').inputValue();
}

// ---- axe-core ------------------------------------------------------------------

const AXE = path.join(repoRoot, 'node_modules/axe-core/axe.min.js');

let axeSource = null;

/**
 * Runs axe-core on the page (or on context, an axe context such as
 * { include: [['appointd-widget']] }); resolves the serious and critical
 * violations as readable lines ([] when none). axe is injected once per document by
 * evaluating node_modules/axe-core/axe.min.js through the DevTools protocol:
 * page.addScriptTag would add an inline <script>, which the dashboard's CSP
 * (script-src 'self') rightly refuses — and reports as a violation.
 */
export async function axeSerious(page, context = null) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    axeSource ??= await readFile(AXE, 'utf8');
    await page.evaluate(axeSource);
  }
  const res = await page.evaluate(async (ctx) => {
    const r = await window.axe.run(ctx || document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1, 3).join(' ')}`),
    }));
  }, context);
  return res
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.slice(0, 4).join(' | ')}`);
}

// ---- screenshots -----------------------------------------------------------------

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Saves dir/name-1280x800.png and dir/name-390x844.png (full page); restores the viewport. */
export async function shoot(page, dir, name) {
  const was = page.viewportSize();
  for (const vp of [DESKTOP, PHONE]) {
    await page.setViewportSize(vp);
    await page.evaluate(() => window.scrollTo(0, 0)); // a sticky menu would be drawn where the page was scrolled
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({ path: path.join(dir, `${name}-${vp.width}x${vp.height}.png`), fullPage: true });
  }
  if (was) await page.setViewportSize(was);
}

// ---- the screenshots committed under docs/ -----------------------------------------

export const DOCS_SHOTS = path.join(repoRoot, 'docs/screenshots');
const DOCS_MAX_BYTES = 200 * 1024;

/**
 * With UPDATE_DOCS_SCREENSHOTS=1 only: saves the visible viewport (not the
 * full page) as docs/screenshots/<file>, scrolled so scrollTo (a selector) is
 * in the middle, else at the top; asserts it stays under 200 KB. The README
 * shows these; regenerate them with
 *   UPDATE_DOCS_SCREENSHOTS=1 node --test tests/browser/dashboard-a11y.test.mjs
 */
export async function docShot(page, file, { viewport = DESKTOP, scrollTo } = {}) {
  if (!process.env.UPDATE_DOCS_SCREENSHOTS) return;
  const was = page.viewportSize();
  await mkdir(DOCS_SHOTS, { recursive: true });
  await page.setViewportSize(viewport);
  if (scrollTo) await page.locator(scrollTo).first().evaluate((e) => e.scrollIntoView({ block: 'center' }));
  else await page.evaluate(() => window.scrollTo(0, 0));
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const out = path.join(DOCS_SHOTS, file);
  await page.screenshot({ path: out, fullPage: false });
  const { size } = await stat(out);
  assert.ok(size < DOCS_MAX_BYTES, `${out} is ${size} bytes (keep docs screenshots under 200 KB)`);
  if (was) await page.setViewportSize(was);
}
