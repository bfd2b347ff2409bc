// dashboard-keyboard.test.mjs — the seed's whole flow with the keyboard
// alone, on a phone-sized viewport (390×844): sign in, move through the
// Settings nav, type the Tenant ID, "Add to ServiceTitan", paste the Client ID
// and secret, "Connect to ServiceTitan" — only Tab / Shift+Tab / Enter and
// typing in the dashboard tab (a listener counts pointer events and must see
// none). ServiceTitan's tab (stsim) is its side of the flow and is driven
// normally. Also: no view scrolls sideways at 390 px, and every element the
// flow tabs to shows a focus indicator.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchBrowser, shotDir } from './lib/browser.mjs';
import {
  PHONE,
  apiFms,
  focused,
  startStack,
  stsimAllowAccess,
  stsimGenerateSecret,
  tabTo,
  textOf,
  waitText,
} from './lib/dashboard.mjs';

const OWNER = { email: 'owner@lonestar.test', password: 'owner-password-1', role: 'owner' };

/** Counts every pointer/mouse event a real mouse or touch would make. */
function countPointers() {
  window.__pointerEvents = 0;
  for (const t of ['pointerdown', 'mousedown', 'touchstart']) {
    window.addEventListener(t, () => window.__pointerEvents++, { capture: true });
  }
}

describe('dashboard: the whole flow with the keyboard alone at 390×844', () => {
  let st, b, page, context, SHOTS;

  before(async () => {
    SHOTS = await shotDir('dashboard');
    st = await startStack({ accounts: [{ name: 'lonestar', users: [OWNER] }] });
    b = await launchBrowser({ viewport: PHONE, isMobile: false, hasTouch: false });
    ({ page, context } = b);
    await page.addInitScript(countPointers);
  });

  after(async () => {
    await b?.close();
    if (st) await st.stop(assert);
  });

  /** Tabs to sel and checks it is visibly focused and inside the viewport. */
  async function reach(sel) {
    await tabTo(page, sel);
    const info = await page.evaluate((s) => {
      const e = document.querySelector(s);
      const r = e.getBoundingClientRect();
      const cs = getComputedStyle(e);
      return {
        focusVisible: e.matches(':focus-visible'),
        outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0,
        ring: cs.boxShadow !== 'none',
        inView: r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth,
      };
    }, sel);
    assert.ok(info.focusVisible && (info.outline || info.ring), `${sel}: no visible focus indicator`);
    assert.ok(info.inView, `${sel}: focused but scrolled out of view`);
  }

  async function noSideScroll(what) {
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= PHONE.width, `${what}: the page is ${w}px wide at ${PHONE.width}px`);
  }

  test('sign in, Settings nav, Steps 1–4 and Connect, keys only', async () => {
    const { tenantId } = st.sim.creds;
    await page.goto(`${st.admin}#/login`);
    await page.locator('#login-form').waitFor();
    await noSideScroll('login');
    await reach('#email');
    await page.keyboard.type(OWNER.email);
    await reach('#password');
    await page.keyboard.type(OWNER.password);
    await page.keyboard.press('Enter');
    await page.locator('#signed-in-as').waitFor({ state: 'visible' });

    // the Settings nav by keyboard: Users & permissions, then FMS Configuration
    await reach('#nav-users');
    await page.keyboard.press('Enter');
    await page.locator('section#users').waitFor();
    assert.match(await focused(page), /^h1/, 'focus moves to the view heading');
    await noSideScroll('users');
    await reach('#nav-fms');
    await page.keyboard.press('Enter');
    await page.locator('section#fms').waitFor();
    assert.match(await focused(page), /^h1/, 'focus moves to the view heading');
    await noSideScroll('fms');

    // Step 1 → Add to ServiceTitan (Enter on the button opens ServiceTitan's tab)
    await reach('#tenant-id');
    await page.keyboard.type(String(tenantId));
    await reach('#add-to-servicetitan');
    const [stTab] = await Promise.all([context.waitForEvent('page'), page.keyboard.press('Enter')]);
    await stTab.waitForLoadState();
    assert.ok(stTab.url().startsWith(st.web));
    await page.waitForFunction(() => /\S/.test(document.querySelector('#step-2-state')?.innerText || ''));
    await page.waitForFunction(() => document.querySelector('#add-to-servicetitan')?.disabled === false);
    for (const sel of ['#fms-error', '#step-1-error', '#step-2-error']) {
      assert.equal(await textOf(page, sel), '', `${sel} after Add`);
    }
    await page.screenshot({ path: path.join(SHOTS, 'keyboard-01-awaiting-390x844.png'), fullPage: true });

    // ServiceTitan's side, driven normally
    const clientId = await stsimAllowAccess(stTab, st);
    const secret = await stsimGenerateSecret(stTab, st);

    // back in the dashboard: keys only
    await page.bringToFront();
    await reach('#client-id');
    await page.keyboard.type(clientId);
    await reach('#client-secret');
    await page.keyboard.type(secret);
    await reach('#connect');
    await page.keyboard.press('Enter');
    assert.match(await waitText(page, '#fms-confirmation', 30000), /You are now connected to ServiceTitan/);
    assert.match(await waitText(page, '#status-state'), /connected/i);
    await noSideScroll('fms connected');
    await page.screenshot({ path: path.join(SHOTS, 'keyboard-02-connected-390x844.png'), fullPage: true });
    assert.equal((await apiFms(context, st)).state, 'connected');

    // Sign out by keyboard too
    await reach('#logout');
    await page.keyboard.press('Enter');
    await page.locator('#login-form').waitFor();

    assert.equal(await page.evaluate(() => window.__pointerEvents), 0, 'no mouse or touch in the dashboard tab');
  });
});
