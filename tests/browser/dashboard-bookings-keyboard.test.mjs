// dashboard-bookings-keyboard.test.mjs — the booking half of the dashboard
// with the keyboard alone at 390×844 (a listener counts pointer events in the
// dashboard's tab and must see none): sign in, Schedulers → New scheduler,
// fill it from the catalog's pickers, create it, copy its snippet; then a
// booking ServiceTitan refused (an stsim fault) → Bookings → the booking →
// Retry → the confirmation → booked. Every control reached shows a focus
// indicator, and no page scrolls sideways.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, shotDir } from './lib/browser.mjs';
import { PHONE, axeSerious, tabTo, waitText } from './lib/dashboard.mjs';
import { connectedStack, homeownerBooks, waitState } from './lib/booking.mjs';

const OWNER = { email: 'owner@lonestar.test', password: 'owner-password-1', role: 'owner' };

function countPointers() {
  window.__pointerEvents = 0;
  for (const t of ['pointerdown', 'mousedown', 'touchstart']) {
    window.addEventListener(t, () => window.__pointerEvents++, { capture: true });
  }
}

describe('dashboard: schedulers and bookings with the keyboard alone at 390×844', () => {
  let st, b, page, context, SHOTS;

  before(async () => {
    SHOTS = await shotDir('dashboard');
    st = await connectedStack({ accounts: [{ name: 'Lone Star Comfort', users: [OWNER] }] });
    b = await launchBrowser({ viewport: PHONE, isMobile: false, hasTouch: false });
    ({ page, context } = b);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: st.srv.url });
    await page.addInitScript(countPointers);
  });

  after(async () => {
    await b?.close();
    if (st) await st.stop(assert);
  });

  /** Tabs to sel; it must show a focus indicator and be in view. */
  async function reach(sel) {
    await tabTo(page, sel, 120);
    const info = await page.evaluate((s) => {
      const e = document.querySelector(s);
      const r = e.getBoundingClientRect();
      const cs = getComputedStyle(e);
      return {
        focusVisible: e.matches(':focus-visible'),
        ring: (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none',
        inView: r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth,
      };
    }, sel);
    assert.ok(info.focusVisible && info.ring, `${sel}: no visible focus indicator`);
    assert.ok(info.inView, `${sel}: focused but out of view`);
  }

  async function noSideScroll(what) {
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= PHONE.width, `${what}: the page is ${w}px wide at ${PHONE.width}px`);
  }

  async function enter(sel) {
    await reach(sel);
    await page.keyboard.press('Enter');
  }

  test('create a scheduler, copy its snippet, retry a refused booking — keys only', async () => {
    await page.goto(`${st.admin}#/login`);
    await page.locator('#login-form').waitFor();
    await reach('#email');
    await page.keyboard.type(OWNER.email);
    await reach('#password');
    await page.keyboard.type(OWNER.password);
    await page.keyboard.press('Enter');
    await page.locator('#signed-in-as').waitFor({ state: 'visible' });

    await enter('#nav-schedulers');
    await page.locator('section#schedulers').waitFor();
    await noSideScroll('schedulers');
    await enter('#scheduler-new');
    await page.locator('#scheduler-form').waitFor();
    await reach('#scheduler-form input[name="name"]');
    await page.keyboard.type('Main website');
    await reach('fieldset.service-row input');
    await page.keyboard.type('AC repair');
    // the pickers: the first job type (after "Choose a job type"), then its first business unit
    const jt = 'fieldset.service-row .field:nth-child(3) select';
    await reach(jt);
    await page.keyboard.press('ArrowDown');
    await reach('fieldset.service-row .field:nth-child(4) select');
    await page.keyboard.press('ArrowDown');
    assert.notEqual(await page.locator(jt).inputValue(), '', 'a job type picked with the keys');
    await noSideScroll('new scheduler');
    await enter('#scheduler-save');
    await page.waitForFunction(() => !document.querySelector('#scheduler-notice').hidden || !document.querySelector('#scheduler-form-error').hidden);
    assert.equal(await page.locator('#scheduler-form-error').isHidden(), true, await page.locator('#scheduler-form-error').innerText());
    assert.match(await waitText(page, '#scheduler-notice'), /created/i);
    await page.waitForFunction(() => document.activeElement?.id === 'scheduler-notice');
    await noSideScroll('scheduler created');
    await enter('#embed-copy');
    assert.match(await waitText(page, '#embed-copy-status'), /^Copied/);
    const snippet = await page.evaluate(() => navigator.clipboard.readText());
    const key = /data-scheduler="(sch_[^"]+)"/.exec(snippet)?.[1];
    assert.ok(key, snippet);
    await page.screenshot({ path: `${SHOTS}/keyboard-scheduler-created-390x844.png`, fullPage: false });

    // a booking ServiceTitan refuses
    await st.control('POST', '/faults', { match: '/jpm/v2/tenant/*/jobs', method: 'POST', kind: 'status', status: 400 });
    const ref = await homeownerBooks(st, key, { name: 'Keys Homeowner' });
    await waitState(context, st, ref, 'needs_attention');
    await st.control('DELETE', '/faults');

    await enter('#nav-bookings');
    await page.locator(`#bookings-table tr[data-reference="${ref}"]`).waitFor();
    await noSideScroll('bookings');
    await enter(`#bookings-table a[href="#/bookings/${ref}"]`);
    await page.locator('#booking-retry').waitFor();
    await noSideScroll('booking');
    await enter('#booking-retry');
    await page.waitForFunction(() => document.activeElement?.id === 'booking-confirm-question');
    assert.deepEqual(await axeSerious(page), []);
    await enter('#booking-confirm-yes');
    await page.waitForFunction(() => document.querySelector('#booking-state')?.dataset.state === 'booked', null, { timeout: 30000 });
    await page.screenshot({ path: `${SHOTS}/keyboard-booking-retried-390x844.png`, fullPage: false });

    assert.equal(await page.evaluate(() => window.__pointerEvents), 0, 'no mouse or touch in the dashboard tab');
  });
});
