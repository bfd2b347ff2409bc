// dashboard-errors.test.mjs — each wrong input of the seed's flow, in the
// browser: its own message, shown next to the step it concerns (#step-N-error,
// role=alert), and nothing saved (GET /api/v1/fms is the same before and
// after). The cases: a Tenant ID that is not a number (Step 1), connecting
// before the app was connected in ServiceTitan (the message sends the user to
// Step 2 / Allow Access), a wrong secret (Step 4), a secret regenerated in
// ServiceTitan after it was pasted (Step 4), and a connection whose access
// withholds a required scope (Step 2, the scope named). A refused secret
// stays in its field (ServiceTitan shows it once), masked, with "Show secret"
// to check it. Last, the right credentials still connect: no error is sticky.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchBrowser, shotDir } from './lib/browser.mjs';
import {
  apiFms,
  gotoView,
  login,
  logout,
  startStack,
  stsimAllowAccess,
  stsimGenerateSecret,
  textOf,
  waitText,
} from './lib/dashboard.mjs';

const OWNER = { email: 'owner@lonestar.test', password: 'owner-password-1', role: 'owner' };
const OWNER2 = { email: 'owner@scopes.test', password: 'owner-password-2', role: 'owner' };
const SCOPE_TENANT = 5550301;
const WITHHELD = 'tn.jpm.jobs:w';

const STEP_ERRORS = ['#step-1-error', '#step-2-error', '#step-3-error', '#step-4-error'];

/** Every step error's text, by selector ('' when hidden or empty). */
async function stepErrors(page) {
  const out = {};
  for (const sel of STEP_ERRORS) out[sel] = await textOf(page, sel);
  return out;
}

/** Asserts that only `sel` shows an error, with role=alert; resolves its text. */
async function onlyError(page, sel) {
  const text = await waitText(page, sel, 30000);
  assert.equal(await page.locator(sel).getAttribute('role'), 'alert', `${sel} is an alert`);
  const all = await stepErrors(page);
  for (const [s, t] of Object.entries(all)) if (s !== sel) assert.equal(t, '', `${s} should be empty, says: ${t}`);
  return text;
}

/** The saved status, compared whole before and after a refused attempt. */
const saved = (fms) => JSON.stringify(fms);

describe('dashboard: each wrong input has its own message at its step, and saves nothing', () => {
  let st, b, page, context, SHOTS, st2, clientId;
  const shot = (name) => page.screenshot({ path: path.join(SHOTS, `errors-${name}.png`), fullPage: true });

  before(async () => {
    SHOTS = await shotDir('dashboard');
    st = await startStack({
      accounts: [
        { name: 'lonestar', users: [OWNER] },
        { name: 'scopes', users: [OWNER2] },
      ],
    });
    b = await launchBrowser({ viewport: { width: 1280, height: 800 } });
    ({ page, context } = b);
    await login(page, st, OWNER);
    await gotoView(page, st, 'fms');
  });

  after(async () => {
    await b?.close();
    if (st) await st.stop(assert);
  });

  test('Step 1: a Tenant ID that is not a number', async () => {
    const before = await apiFms(context, st);
    let popup = null;
    context.once('page', (p) => (popup = p));
    await page.locator('#tenant-id').fill('12ab');
    await page.locator('#add-to-servicetitan').click();
    const msg = await onlyError(page, '#step-1-error');
    assert.match(msg, /API Application Access/);
    assert.match(msg, /upper right-hand corner/);
    await shot('step-1');
    assert.equal(popup, null, 'no ServiceTitan tab opened for a bad Tenant ID');
    assert.equal(saved(await apiFms(context, st)), saved(before));
    assert.equal((await apiFms(context, st)).state, 'none');
  });

  test('Connect before Allow Access: the message sends the user to Step 2', async () => {
    await page.locator('#tenant-id').fill(String(st.sim.creds.tenantId));
    [st2] = await Promise.all([context.waitForEvent('page'), page.locator('#add-to-servicetitan').click()]);
    await st2.waitForLoadState();
    await page.waitForFunction(() => (document.querySelector('#step-1-error')?.innerText || '').trim() === '');
    const before = await apiFms(context, st);
    assert.equal(before.state, 'awaiting_app_access');

    // nothing done in ServiceTitan yet: any Client ID / secret pair is refused
    await page.locator('#client-id').fill('cid.' + 'a'.repeat(25));
    await page.locator('#client-secret').fill('cs2.' + 'b'.repeat(50));
    await page.locator('#connect').click();
    const msg = await onlyError(page, '#step-4-error');
    assert.match(msg, /Step 2/);
    assert.match(msg, /Allow Access/);
    assert.equal(await page.locator('#client-secret').inputValue(), 'cs2.' + 'b'.repeat(50), 'the secret is kept');
    await shot('not-connected');
    assert.equal(saved(await apiFms(context, st)), saved(before));
  });

  test('Step 4: a wrong secret', async () => {
    clientId = await stsimAllowAccess(st2, st);
    const secret = await stsimGenerateSecret(st2, st);
    await page.bringToFront();
    const before = await apiFms(context, st);
    await page.locator('#client-id').fill(clientId);
    const wrong = secret.slice(0, -3) + (secret.endsWith('zzz') ? 'yyy' : 'zzz');
    await page.locator('#client-secret').fill(wrong);
    await page.locator('#connect').click();
    const msg = await onlyError(page, '#step-4-error');
    assert.match(msg, /Client Secret/);
    // ServiceTitan showed the secret once: a failed connect keeps it in its field (masked)
    assert.equal(await page.locator('#client-secret').inputValue(), wrong, 'the typed secret is kept');
    assert.equal(await page.locator('#client-secret').getAttribute('type'), 'password');
    assert.equal(await page.locator('#client-id').inputValue(), clientId, 'the Client ID is kept');
    // "Show secret" lets the user check what they pasted, and hides it again
    const show = page.getByRole('button', { name: 'Show secret' });
    assert.equal(await show.getAttribute('aria-pressed'), 'false');
    await show.click();
    assert.equal(await page.locator('#client-secret').getAttribute('type'), 'text');
    assert.equal(await show.getAttribute('aria-pressed'), 'true');
    await show.click();
    assert.equal(await page.locator('#client-secret').getAttribute('type'), 'password');
    await shot('step-4-wrong-secret');
    assert.equal(saved(await apiFms(context, st)), saved(before));
    assert.equal(before.state, 'awaiting_app_access');
  });

  test('Step 4: a secret regenerated in ServiceTitan after it was pasted', async () => {
    const pasted = await stsimGenerateSecret(st2, st);
    await page.bringToFront();
    const before = await apiFms(context, st);
    await page.locator('#client-id').fill(clientId);
    await page.locator('#client-secret').fill(pasted);
    // meanwhile someone clicks Regenerate Client Secret in ServiceTitan
    await st2.bringToFront();
    const newer = await stsimGenerateSecret(st2, st);
    assert.notEqual(newer, pasted);
    await page.bringToFront();
    await page.locator('#connect').click();
    const msg = await onlyError(page, '#step-4-error');
    assert.match(msg, /newer one|newest|new Client Secret|Generate new secret/i);
    assert.equal(saved(await apiFms(context, st)), saved(before));
  });

  test('Step 2: access without a required scope names the scope', async () => {
    // a second account: its tenant is connected with a scope withheld
    await logout(page);
    await login(page, st, OWNER2);
    await gotoView(page, st, 'fms');
    await st.addTenant(SCOPE_TENANT);
    await page.locator('#tenant-id').fill(String(SCOPE_TENANT));
    const [tab] = await Promise.all([context.waitForEvent('page'), page.locator('#add-to-servicetitan').click()]);
    await tab.close();
    const all = await st.appScopes();
    assert.ok(all.includes(WITHHELD));
    const cr = await st.allow(SCOPE_TENANT, all.filter((s) => s !== WITHHELD));
    await page.bringToFront();
    const before = await apiFms(context, st);
    assert.equal(before.state, 'awaiting_app_access');
    await page.locator('#client-id').fill(cr.clientId);
    await page.locator('#client-secret').fill(cr.clientSecret);
    await page.locator('#connect').click();
    const msg = await onlyError(page, '#step-2-error');
    assert.ok(msg.includes(WITHHELD), `the message names ${WITHHELD}: ${msg}`);
    assert.match(msg, /Upgrade to New Version|Allow Access|allow access/);
    await shot('step-2-scope-withheld');
    assert.equal(saved(await apiFms(context, st)), saved(before));
  });

  test('the right credentials still connect afterwards; the old errors are gone', async () => {
    await logout(page);
    await login(page, st, OWNER);
    await gotoView(page, st, 'fms');
    await st2.bringToFront();
    const secret = await stsimGenerateSecret(st2, st);
    await page.bringToFront();
    await page.locator('#client-id').fill(clientId);
    await page.locator('#client-secret').fill(secret);
    await page.locator('#connect').click();
    assert.match(await waitText(page, '#fms-confirmation', 30000), /You are now connected to ServiceTitan/);
    for (const [s, t] of Object.entries(await stepErrors(page))) assert.equal(t, '', `${s} still says: ${t}`);
    assert.equal((await apiFms(context, st)).state, 'connected');
  });
});
