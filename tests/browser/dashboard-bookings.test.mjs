// dashboard-bookings.test.mjs — Bookings and their ServiceTitan story in the
// dashboard, against stsim: a booking ServiceTitan refuses (an stsim fault:
// 400 on job create) shows as "Needs attention" with ServiceTitan's own
// message and trace id, counted in the navigation; after the fault is
// cleared, Retry (asked first) brings it to "Booked" and stsim holds exactly
// one job for it. The connection disabled in stsim: the banner on every page
// (for staff too), with the parked bookings counted; enabled again and
// checked, they drain to booked and the banner goes. Then the list's filters
// (state, scheduler, the days they came in), search by reference, name or
// phone, and paging, newest first. axe-core (no serious or critical) on each
// screen and state; screenshots at both sizes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { launchBrowser, shotDir } from './lib/browser.mjs';
import { PHONE, axeSerious, docShot, focused, login, logout, shoot, textOf, waitText } from './lib/dashboard.mjs';
import { connectedStack, demoPicks, detail, homeownerBooks, stJobs, waitState } from './lib/booking.mjs';

const OWNER = { email: 'owner@lonestar.test', password: 'owner-password-1', role: 'owner' };
const STAFF = { email: 'office@lonestar.test', password: 'office-password-1', role: 'staff' };
const SITE = 'https://www.lonestarcomfort.example';
const PAGES = ['#/bookings', '#/schedulers', '#/settings', '#/settings/users', '#/settings/integrations/fms'];

describe('dashboard: bookings and their ServiceTitan story', () => {
  let st, b, page, context, SHOTS, key, second;
  const problems = [];

  async function check(name, ...docs) {
    const v = await axeSerious(page);
    assert.deepEqual(v, [], `axe on ${name}:\n  ${v.join('\n  ')}`);
    await shoot(page, SHOTS, `bookings-${name}`);
    for (const d of docs) await docShot(page, d.file, d);
  }

  async function signInAs(user) {
    if (await page.locator('#logout').isVisible().catch(() => false)) await logout(page);
    await login(page, st, user);
  }

  /** Opens a hash route with a full load and waits until its view has rendered (its h1 focused). */
  async function open(hash) {
    await page.goto('about:blank');
    await page.goto(`${st.admin}${hash}`);
    try {
      await page.waitForFunction(() => document.activeElement?.tagName === 'H1' && !document.querySelector('main[aria-busy]'), null, { timeout: 15000 });
    } catch {
      throw new Error(`${hash}: no view heading got focus (focus: ${await focused(page)})`);
    }
  }

  /** The scheduler JSON for the demo catalog, created with the CLI (the screens are tested elsewhere). */
  async function makeScheduler(name) {
    const p = demoPicks(st.catalog);
    const file = path.join(st.dataDir, `${name}.json`);
    await writeFile(file, JSON.stringify({
      name, timeZone: 'America/Chicago', allowedOrigins: [SITE],
      services: [{ id: 'ac-repair', label: 'AC repair', jobTypeId: p.jobType.id, businessUnitId: p.businessUnitId }],
      serviceArea: { zones: 'servicetitan' }, campaignId: p.campaign.id,
    }));
    return JSON.parse((await st.cli(['scheduler', 'create', 'Lone Star Comfort', '--config', file, '--json'])).stdout).key;
  }

  /** Polls GET /fms/health until ok(health) (cap 45 s). */
  async function waitHealth(ok) {
    let h;
    for (let i = 0; i < 225; i++) {
      h = await (await context.request.get(`${st.srv.url}/api/v1/fms/health`)).json();
      if (ok(h)) return h;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`the connection's health stayed ${JSON.stringify(h)}`);
  }

  before(async () => {
    SHOTS = await shotDir('dashboard');
    st = await connectedStack({ accounts: [{ name: 'Lone Star Comfort', users: [OWNER, STAFF] }] });
    key = await makeScheduler('Main website');
    second = await makeScheduler('AC landing page');
    b = await launchBrowser({ viewport: { width: 1280, height: 800 } });
    ({ page, context } = b);
    page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    await login(page, st, OWNER);
  });

  after(async () => {
    if (process.env.DEBUG_LOG && st) await writeFile(process.env.DEBUG_LOG, st.srv.stderr());
    await b?.close();
    if (st) await st.stop(assert);
  });

  test('ServiceTitan refuses a booking: needs attention with its message and trace id; Retry books it once', async () => {
    const fault = await st.control('POST', '/faults', { match: '/jpm/v2/tenant/*/jobs', method: 'POST', kind: 'status', status: 400 });
    const ref = await homeownerBooks(st, key, { origin: SITE, name: 'Refused Homeowner', phone: '214-555-0177' });
    const refused = await waitState(context, st, ref, 'needs_attention');
    assert.ok(refused.lastError.title && refused.lastError.traceId, JSON.stringify(refused.lastError));

    await open('#/bookings');
    assert.equal(await waitText(page, '#nav-count-attention'), '1 needs attention', 'counted in the navigation');
    // the count tile filters the list
    await page.locator('#booking-counts [data-state="needs_attention"] a').click();
    await page.waitForFunction(() => location.hash === '#/bookings?state=needs_attention');
    await page.locator(`#bookings-table tr[data-reference="${ref}"]`).waitFor();
    assert.equal(await page.locator('#bookings-table tbody tr[data-reference]').count(), 1);
    assert.match(await page.locator(`#bookings-table tr[data-reference="${ref}"]`).innerText(), /Needs attention/);
    await check('list-needs-attention', { file: 'dashboard-bookings.png' });

    await page.getByRole('link', { name: 'Refused Homeowner' }).click();
    await page.locator('#booking-state').waitFor();
    assert.equal(await page.locator('#booking-state').getAttribute('data-state'), 'needs_attention');
    assert.match(await textOf(page, '#booking-state'), /Needs attention/, 'in words, not colour alone');
    assert.equal(await textOf(page, '#booking-st-message'), `${refused.lastError.title} (HTTP 400)`);
    assert.equal(await textOf(page, '#booking-trace-id'), refused.lastError.traceId);
    const lastCall = page.locator('#booking-calls tbody tr').last();
    assert.equal(await lastCall.getAttribute('data-status'), '400');
    assert.match(await lastCall.innerText(), new RegExp(refused.lastError.traceId));
    await check('detail-needs-attention', { file: 'dashboard-booking-needs-attention.png' });

    // Retry asks first; nothing happens before the answer
    await page.locator('#booking-retry').click();
    await page.locator('#booking-confirm-yes').waitFor();
    assert.match(await textOf(page, '#booking-confirm-question'), /again/);
    assert.equal(await focused(page), 'p#booking-confirm-question');
    await check('retry-confirm');
    await page.locator('#booking-confirm-no').click();
    assert.equal(await focused(page), 'button#booking-retry', 'focus back on Retry');
    assert.equal((await detail(context, st, ref)).state, 'needs_attention');

    await st.control('DELETE', '/faults');
    assert.ok(fault.id);
    await page.locator('#booking-retry').click();
    await page.locator('#booking-confirm-yes').click();
    await page.waitForFunction(() => document.querySelector('#booking-state')?.dataset.state === 'booked', null, { timeout: 30000 });
    assert.match(await textOf(page, '#booking-notice'), /Booked|Sent/);
    const d = await detail(context, st, ref);
    const jobs = await stJobs(st, { customerId: String(d.servicetitan.customerId) });
    assert.equal(jobs.length, 1, 'stsim holds one job for the booking');
    assert.equal(jobs[0].id, d.servicetitan.jobId);
    assert.match(await page.locator('#booking-st-records a[data-st="job"]').innerText(), new RegExp(`Job ${jobs[0].id}`));
    await check('detail-retried');
    await page.waitForFunction(() => document.querySelector('#nav-count-attention')?.hidden === true, null, { timeout: 30000 });
  });

  test('Mark handled (booked by hand in ServiceTitan) asks first, takes a note, and stops the push', async () => {
    await st.control('POST', '/faults', { match: '/jpm/v2/tenant/*/jobs', method: 'POST', kind: 'status', status: 400 });
    const ref = await homeownerBooks(st, key, { origin: SITE, name: 'Handled Homeowner' });
    await waitState(context, st, ref, 'needs_attention');
    await st.control('DELETE', '/faults');
    await open(`#/bookings/${ref}`);
    await page.locator('#booking-resolve').click();
    await page.locator('#booking-confirm-note').waitFor();
    assert.match(await textOf(page, '#booking-confirm-question'), /Mark this booking handled/);
    assert.equal(await page.locator('#booking-resolve').getAttribute('aria-expanded'), 'true');
    await check('resolve-confirm');
    await page.locator('#booking-confirm-note').fill('Booked by phone as job 4242');
    await page.locator('#booking-confirm-yes').click();
    await page.waitForFunction(() => document.querySelector('#booking-state')?.dataset.state === 'booked');
    assert.equal(await textOf(page, '#booking-notice'), 'Marked handled.');
    assert.equal(await page.locator('#booking-retry').count(), 0, 'no actions left for a booked booking');
    const d = await detail(context, st, ref);
    assert.equal(d.state, 'booked');
    assert.equal(d.servicetitan.jobId, null, 'appointd made no job for it');
    assert.equal((await stJobs(st, { customerId: String(d.servicetitan.customerId) })).length, 0, 'and stsim holds none');
  });

  test('the connection disabled in ServiceTitan: a banner on every page, bookings parked; enabled again they drain', async () => {
    const { tenantId, appId } = st.sim.creds;
    await st.control('PUT', `/connections/${tenantId}/${appId}/state`, { state: 'disabled' });
    const refs = [
      await homeownerBooks(st, key, { origin: SITE, name: 'Waiting One' }),
      await homeownerBooks(st, second, { origin: SITE, name: 'Waiting Two' }),
    ];
    // the health check finds the app disabled (every 5 s here); then both wait, parked
    await waitHealth((h) => h.state === 'needs_attention' && h.parkedBookings === 2);
    for (const ref of refs) assert.equal((await detail(context, st, ref)).state, 'parked');

    for (const hash of PAGES) {
      await open(hash);
      const text = await waitText(page, '#connection-banner');
      assert.match(text, /needs attention/i, `${hash}: the banner`);
      assert.match(text, /disabled/i, `${hash}: why (ServiceTitan's reason)`);
      assert.match(text, /2 bookings are parked/, `${hash}: how many wait behind it`);
      assert.equal(await page.locator('#connection-banner-link').getAttribute('href'), '#/settings/integrations/fms');
      assert.equal(await textOf(page, '#nav-count-parked'), '2 parked');
    }
    await open('#/bookings?state=parked');
    await page.locator('#bookings-table tr[data-state="parked"]').nth(1).waitFor();
    await check('parked-banner', { file: 'dashboard-connection-banner.png' });
    await page.locator(`#bookings-table tr[data-reference="${refs[0]}"] a`).first().click();
    await page.locator('#booking-state[data-state="parked"]').waitFor();
    await page.locator('#connection-banner').waitFor();
    await check('detail-parked');

    // staff see it too, and who can fix it
    await signInAs(STAFF);
    await open('#/bookings');
    assert.match(await waitText(page, '#connection-banner'), /owner or admin/);
    await check('parked-banner-staff');
    await signInAs(OWNER);

    // enabled again in ServiceTitan; the admin checks the connection; the parked bookings drain
    await st.control('PUT', `/connections/${tenantId}/${appId}/state`, { state: 'connected' });
    await open('#/settings/integrations/fms');
    await page.locator('#check').click();
    await page.waitForFunction(() => /connection works/i.test(document.querySelector('#fms-notice')?.innerText || ''), null, { timeout: 30000 });
    for (const ref of refs) assert.equal((await waitState(context, st, ref, 'booked', 45000)).state, 'booked');
    await open('#/bookings');
    await page.waitForFunction(() => document.querySelector('#connection-banner')?.hidden === true);
    assert.ok(await page.locator('#nav-count-parked').isHidden());
  });

  test('filters, search and paging, newest first', async () => {
    // 26 more bookings: two pages of 25
    const made = [];
    for (let i = 0; i < 26; i++) made.push(await homeownerBooks(st, i % 2 ? second : key, { origin: SITE }));
    for (const ref of made) await waitState(context, st, ref, 'booked');
    const total = 26 + 4; // and the refused, handled and two parked ones
    await open('#/bookings');
    assert.equal(await waitText(page, '#bookings-summary'), `${total} bookings, showing 1–25.`);
    const firstPage = await page.locator('#bookings-table tbody tr').evaluateAll((trs) => trs.map((t) => t.dataset.reference));
    assert.equal(firstPage.length, 25);
    assert.equal(firstPage[0], made.at(-1), 'newest first');
    await page.locator('#page-next').click();
    await page.waitForFunction(() => /showing 26–/.test(document.querySelector('#bookings-summary').innerText));
    assert.equal(await page.locator('#bookings-table tbody tr').count(), total - 25);
    assert.equal(await textOf(page, '#page-info'), 'Page 2 of 2');
    assert.equal(await focused(page), 'button#page-prev', 'focus stays on a pager button, not lost');
    assert.match(page.url(), /page=2/);
    await check('page-2');
    await page.locator('#page-prev').click();
    await page.waitForFunction(() => /showing 1–25/.test(document.querySelector('#bookings-summary').innerText));

    const apply = async (fill) => {
      await page.locator('#filter-clear').click();
      await page.waitForFunction(() => /showing 1–25/.test(document.querySelector('#bookings-summary').innerText));
      await fill();
      await page.locator('#filter-apply').click();
    };
    const rows = async (n) => {
      await page.waitForFunction((want) => document.querySelector('#bookings-summary').innerText.startsWith(`${want} booking`), n);
      return page.locator('#bookings-table tbody tr[data-reference]').evaluateAll((trs) => trs.map((t) => t.dataset.reference));
    };
    // by reference, by name, by phone (as people type it)
    const one = await detail(context, st, made[3]);
    await apply(() => page.locator('#filter-q').fill(made[3]));
    assert.deepEqual(await rows(1), [made[3]]);
    await apply(() => page.locator('#filter-q').fill(one.contact.name));
    assert.deepEqual(await rows(1), [made[3]]);
    const digits = one.contact.phone.slice(2);
    await apply(() => page.locator('#filter-q').fill(`(${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6)}`));
    assert.deepEqual(await rows(1), [made[3]]);
    assert.match(page.url(), /q=/, 'the filters are in the address');
    // by scheduler, by state
    await apply(() => page.locator('#filter-scheduler').selectOption(second));
    assert.equal((await rows(14)).length, 14);
    await apply(() => page.locator('#filter-state').selectOption('needs_attention'));
    await rows(0);
    assert.match(await textOf(page, '#bookings-table tbody'), /No bookings match/);
    // the days they came in, in the viewer's zone: from the first booking's day to the last's has
    // them all, the day after the last none
    const day = (iso, plus = 0) => page.evaluate(([t, p]) => new Date(Date.parse(t) + p * 864e5).toLocaleDateString('en-CA'), [iso, plus]);
    const firstAt = (await page.evaluate(async () => (await (await fetch('/api/v1/bookings?limit=500')).json()).bookings.at(-1).createdAt));
    const lastAt = (await detail(context, st, made.at(-1))).createdAt;
    await apply(async () => { await page.locator('#filter-from').fill(await day(firstAt)); await page.locator('#filter-to').fill(await day(lastAt)); });
    await rows(total);
    await apply(async () => page.locator('#filter-from').fill(await day(lastAt, 1)));
    await rows(0);
    await check('filtered-empty');
    await page.setViewportSize(PHONE);
    await apply(() => page.locator('#filter-q').fill('Waiting'));
    await rows(2);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= PHONE.width, `no sideways scroll at 390 px (${w})`);
    await docShot(page, 'dashboard-bookings-phone.png', { viewport: PHONE, scrollTo: '#bookings-table' });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test('no screen broke the CSP or threw', () => {
    assert.deepEqual(problems, []);
  });
});
