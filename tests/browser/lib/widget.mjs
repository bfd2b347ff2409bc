// widget.mjs — what the booking widget's browser tests share: the two sizes,
// waiting for a step, the focused element inside the widget's shadow root,
// Tab until a control has focus, axe-core on the whole page (the widget's
// shadow tree included), screenshots under build-test/screenshots/widget/,
// and checking a booking in stsim's own data.
//
// Selectors are the widget's DOM contract (web/widget/app.js): #ap-step
// [data-step], #ap-heading, #ap-next, #ap-back, #ap-close, #ap-ref, the
// fields' ids (#ap-zip, #ap-name, #ap-phone, …) and their errors (#ap-…-err).
// Playwright's CSS locators pierce the open shadow root.
import assert from 'node:assert/strict';
import { copyFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot, shotDir } from './browser.mjs';
import { DESKTOP, PHONE, axeSerious } from './dashboard.mjs';

export { DESKTOP, PHONE };

/** Phone numbers no seeded customer has (the seed's first 200 use 214/469/972/512/737-555-01xx). */
export const phoneNo = (n) => `945-555-01${String(n).padStart(2, '0')}`;

/** Waits for the step's section (service, zip, when, contact, review, done, unavailable). */
export async function step(page, name) {
  await page.locator(`#ap-step[data-step="${name}"]`).waitFor();
}

/** The focused element, through shadow roots: { id, tag, name, value, inWidget, text }. */
export function focused(page) {
  return page.evaluate(() => {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    if (!a) return null;
    const root = a.getRootNode();
    return {
      id: a.id,
      tag: a.tagName.toLowerCase(),
      name: a.getAttribute('name') || '',
      value: a.value ?? '',
      type: a.getAttribute('type') || '',
      inWidget: !!(root && root.host && root.host.localName === 'appointd-widget'),
      text: (a.textContent || '').trim().slice(0, 80),
    };
  });
}

/** Presses Tab (Shift+Tab when back) until the focused element matches selector; asserts it does. */
export async function tabTo(page, selector, { back = false, max = 40 } = {}) {
  for (let i = 0; i < max; i++) {
    const hit = await page.evaluate((sel) => {
      let a = document.activeElement;
      while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
      return !!a && a.matches(sel);
    }, selector);
    if (hit) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  assert.fail(`${max} presses of ${back ? 'Shift+Tab' : 'Tab'} never reached ${selector}; focus is on ${JSON.stringify(await focused(page))}`);
}

/**
 * No serious or critical axe-core violation on the page (the widget's shadow tree included);
 * onlyWidget: in the widget alone (a host page's own faults are not the widget's).
 */
export async function axeClean(page, where, { onlyWidget = false } = {}) {
  const ctx = onlyWidget ? { include: [['appointd-widget']] } : null;
  assert.deepEqual(await axeSerious(page, ctx), [], `axe-core on ${where}`);
}

/**
 * A screenshot of the viewport: build-test/screenshots/widget/<width>-<name>.png. With
 * docs and UPDATE_DOCS_SCREENSHOTS=1, also docs/screenshots/<docs>.png (under 200 KB),
 * the ones the README shows: regenerate them with
 *   UPDATE_DOCS_SCREENSHOTS=1 node --test tests/browser/widget-*.test.mjs
 */
export async function shot(page, name, { docs } = {}) {
  const dir = await shotDir('widget');
  const { width } = page.viewportSize();
  const file = path.join(dir, `${width}-${name}.png`);
  await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
  if (docs && process.env.UPDATE_DOCS_SCREENSHOTS) {
    const out = path.join(repoRoot, 'docs/screenshots', `${docs}.png`);
    await copyFile(file, out);
    const { size } = await stat(out);
    assert.ok(size < 200 * 1024, `${out} is ${size} bytes (keep docs screenshots under 200 KB)`);
  }
  return file;
}

/** The instant of an RFC 3339 time, for comparing windows written in different offsets. */
export const instant = (iso) => new Date(iso).getTime();

/**
 * Asserts that stsim holds the booking's job with its appointment in window
 * (the arrival window the homeowner chose), read with the inspector app; resolves the job.
 */
export async function assertJobInWindow(demo, booking, window) {
  assert.equal(booking.state, 'booked', `booking ${booking.reference}: ${JSON.stringify(booking.lastError)}`);
  const jobId = booking.servicetitan.jobId;
  assert.ok(jobId, 'the booking names its ServiceTitan job');
  const job = await demo.st.get(`/jpm/jobs/${jobId}`);
  const appts = await demo.st.get('/jpm/appointments', { jobId: String(jobId) });
  assert.equal(appts.data.length, 1, 'one appointment');
  const a = appts.data[0];
  assert.equal(instant(a.arrivalWindowStart), instant(window.start), 'arrival window start in stsim');
  assert.equal(instant(a.arrivalWindowEnd), instant(window.end), 'arrival window end in stsim');
  return job;
}
