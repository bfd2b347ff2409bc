// dashboard-schedulers.test.mjs — the scheduler screens against stsim's demo
// tenant: an admin creates a scheduler through the screens from the demo
// catalog (its pickers), each refusal of the API shown at the field it names
// (the phone, a blackout date, the second service's duplicate id — a
// renumbered row); "Refresh from ServiceTitan" and when the catalog was read;
// the embed snippet copied with its button; the live preview frames the real
// widget; a homeowner books through that snippet pasted into a website's page
// (a page served here on loopback, an allowed website of the scheduler) with
// the widget itself; the booking then shows in Bookings as booked with its
// ServiceTitan job, the job stsim holds, linked to stsim's web host. Then pause / resume; staff can see
// but not change schedulers until an owner grants "manage schedulers" in
// Users & permissions; another account's bookings and schedulers are not
// found. axe-core (no serious or critical) on every screen and state, and
// screenshots at 1280×800 and 390×844 under $SCREENSHOT_DIR/dashboard/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { launchBrowser, shotDir } from './lib/browser.mjs';
import { axeSerious, docShot, focused, login, logout, shoot, textOf, waitText } from './lib/dashboard.mjs';
import { connectedStack, demoPicks, stJobs, waitState } from './lib/booking.mjs';
import { step } from './lib/widget.mjs';

const OWNER = { email: 'owner@lonestar.test', password: 'owner-password-1', role: 'owner' };
const STAFF = { email: 'office@lonestar.test', password: 'office-password-1', role: 'staff' };
const OTHER = { email: 'owner@elsewhere.test', password: 'other-password-1', role: 'owner' };
const SITE = 'https://www.lonestarcomfort.example';

/**
 * The contractor's website on loopback: one page that holds whatever snippet
 * the admin pasted (set by paste()). Resolves { origin, paste, close }.
 */
async function websiteServer() {
  let snippet = '';
  const srv = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Lone Star Comfort</title></head>` +
      `<body><h1>Lone Star Comfort &amp; Plumbing</h1><p>Heating and cooling in Dallas.</p>${snippet}</body></html>`);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${srv.address().port}`,
    paste: (s) => { snippet = s; },
    close: () => new Promise((r) => srv.close(r)),
  };
}

describe('dashboard: schedulers, the snippet, and a booking made through it', () => {
  let st, b, page, context, SHOTS, picks, key, ref, jobId, website;
  const problems = [];

  async function check(name, ...docs) {
    const v = await axeSerious(page);
    assert.deepEqual(v, [], `axe on ${name}:\n  ${v.join('\n  ')}`);
    await shoot(page, SHOTS, `schedulers-${name}`);
    for (const d of docs) await docShot(page, d.file, d);
  }

  async function signInAs(user) {
    if (await page.locator('#logout').isVisible().catch(() => false)) await logout(page);
    await login(page, st, user);
  }

  /** Opens a hash route of the dashboard and waits for its h1 to have focus. */
  async function open(hash, root) {
    await page.goto(`${st.admin}${hash}`);
    await page.locator(`${root} h1`).waitFor();
    try {
      await page.waitForFunction((r) => document.activeElement === document.querySelector(`${r} h1`), root, { timeout: 15000 });
    } catch {
      throw new Error(`${hash}: the h1 of ${root} never got focus (focus: ${await focused(page)})`);
    }
  }

  const form = () => page.locator('#scheduler-form');
  const service = (i) => page.locator('fieldset.service-row').nth(i);

  /** Saves and waits for the refusal; resolves {summary, focusedField, fieldError}. */
  async function saveRefused() {
    await page.locator('#scheduler-save').click();
    const summary = await waitText(page, '#scheduler-form-error');
    return page.evaluate((s) => {
      const el = document.activeElement;
      const errId = (el.getAttribute('aria-describedby') || '').split(' ').find((id) => document.getElementById(id)?.classList.contains('field-error'));
      return { summary: s, field: el.dataset.field || null, invalid: el.getAttribute('aria-invalid'), error: errId ? document.getElementById(errId).innerText : '' };
    }, summary);
  }

  before(async () => {
    SHOTS = await shotDir('dashboard');
    website = await websiteServer();
    st = await connectedStack({ accounts: [{ name: 'Lone Star Comfort', users: [OWNER, STAFF] }, { name: 'Elsewhere HVAC', users: [OTHER] }] });
    picks = demoPicks(st.catalog);
    b = await launchBrowser({ viewport: { width: 1280, height: 800 } });
    ({ page, context } = b);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: st.srv.url });
    page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
  });

  after(async () => {
    if (process.env.DEBUG_SHOT) await page.screenshot({ path: '/tmp/dashx/fail.png', fullPage: true }).catch(() => {});
    await b?.close();
    await website?.close();
    if (st) await st.stop(assert);
  });

  test('an admin sets up a scheduler from the demo catalog; each refusal is shown at its field', async () => {
    await signInAs(OWNER);
    await page.locator('#nav-schedulers').click();
    await page.locator('section#schedulers h1').waitFor();
    assert.match(await page.title(), /Schedulers/);
    assert.match(await waitText(page, '#catalog-read-at'), /last read/);
    await check('list-empty');

    // "Refresh from ServiceTitan" reads it again and says when
    const before = await page.locator('#catalog-read-at time').getAttribute('datetime');
    await page.locator('#catalog-refresh').click();
    await page.waitForFunction((t) => document.querySelector('#catalog-read-at time')?.getAttribute('datetime') !== t, before);
    assert.equal(await page.locator('#catalog-refresh').isEnabled(), true);

    await page.locator('#scheduler-new').click();
    await page.locator('#scheduler-form').waitFor();
    assert.match(page.url(), /#\/schedulers\/new$/);
    // the pickers hold the demo catalog: active job types with their durations, inactive ones not offered
    const jtOptions = await service(0).getByLabel('Job type in ServiceTitan').locator('option').allInnerTexts();
    const inactive = st.catalog.jobTypes.find((j) => !j.active);
    assert.ok(jtOptions.some((t) => t.startsWith(picks.jobType.name) && /\d+ h|min/.test(t)), jtOptions.join(' | '));
    assert.ok(!jtOptions.some((t) => t.startsWith(inactive.name)), `inactive ${inactive.name} is not offered`);
    await check('new');

    await form().getByLabel('Name', { exact: true }).fill('Main website');
    await form().getByLabel('Time zone').selectOption('America/Chicago');
    await form().getByLabel('Your phone number').fill('12');
    await form().getByLabel('Websites that may show the widget').fill(`${SITE}\n${website.origin}`);
    await service(0).getByLabel('Name homeowners see').fill('AC repair');
    assert.equal(await service(0).getByLabel('ID').inputValue(), 'ac-repair', 'the id follows the label');
    await service(0).getByLabel('Job type in ServiceTitan').selectOption(String(picks.jobType.id));
    await service(0).getByLabel('Business unit').selectOption(String(picks.businessUnitId));
    await service(0).getByLabel('A question to ask (optional)').fill('Is the unit blowing warm air?');
    // the live preview follows the form
    assert.equal(await textOf(page, '#preview-services'), 'AC repair\nAsks: Is the unit blowing warm air?');
    assert.equal(await textOf(page, '#preview-name'), 'Main website');

    let r = await saveRefused();
    assert.equal(r.field, 'phone');
    assert.equal(r.invalid, 'true');
    assert.match(r.summary, /^Not saved\. Your phone number: /);
    assert.ok(r.error.length > 5, `the phone's own error line says why: ${r.error}`);
    await check('error-phone', { file: 'dashboard-scheduler-error.png', scrollTo: '#scheduler-form-error' });

    await form().getByLabel('Your phone number').fill('214-555-0100');
    await form().getByLabel('Days without online booking').fill('2026-02-30');
    r = await saveRefused();
    assert.equal(r.field, 'rules.blackoutDates');
    assert.match(r.error, /date/i);

    // a second service: its own row, whose paths are services[1].…
    await form().getByLabel('Days without online booking').fill('2026-12-25');
    await page.locator('#service-add').click();
    await service(1).getByLabel('Name homeowners see').fill('AC repair');
    await service(1).getByLabel('Job type in ServiceTitan').selectOption(String(picks.jobType.id));
    r = await saveRefused();
    assert.equal(r.field, 'services[1].businessUnitId', 'the API asks for the row’s business unit first');
    await service(1).getByLabel('Business unit').selectOption(String(picks.businessUnitId));
    r = await saveRefused();
    assert.equal(r.field, 'services[1].id');
    assert.match(r.error, /another service already has the id 'ac-repair'/i);
    assert.match(r.summary, /Service 2 › ID/);
    await service(1).getByRole('button', { name: 'Remove this service' }).click();
    assert.equal(await page.locator('fieldset.service-row').count(), 1);

    await page.locator('#scheduler-save').click();
    assert.match(await waitText(page, '#scheduler-notice'), /created/i);
    key = /#\/schedulers\/(sch_[A-Za-z0-9_-]+)$/.exec(page.url())?.[1];
    assert.ok(key, `the page moved to the new scheduler: ${page.url()}`);
    assert.equal(await textOf(page, '#scheduler-key'), key);
    assert.equal(await textOf(page, '#scheduler-form-error'), '');
    // saved with the defaults the API fills in, shown back
    assert.equal(await form().getByLabel('Minimum notice (minutes)').inputValue(), '120');
    await check('created', { file: 'dashboard-scheduler.png' });
  });

  test('the snippet is copied with its button, and a homeowner books through it', async () => {
    const shown = await page.locator('#embed-snippet').inputValue();
    await page.locator('#embed-copy').click();
    assert.match(await waitText(page, '#embed-copy-status'), /^Copied/);
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, shown);
    const m = /^<script src="([^"]+)\/widget\.js" data-scheduler="(sch_[^"]+)" async><\/script>$/.exec(copied);
    assert.ok(m, `one tag: ${copied}`);
    assert.equal(m[1], st.srv.url, 'the widget comes from this server');
    assert.equal(m[2], key);

    // the live preview frames the real widget: its "Book online" button, no "not installed"
    await page.locator('#widget-frame').scrollIntoViewIfNeeded();
    const frame = page.frameLocator('#widget-frame');
    await frame.getByRole('button', { name: 'Book online' }).waitFor({ timeout: 15000 });
    assert.equal(await frame.locator('#widget-status').isHidden(), true, 'the preview says nothing is missing');

    // The homeowner, on the website the admin pasted the snippet into, books with the widget
    website.paste(copied);
    const site = await context.newPage();
    const siteErrors = [];
    site.on('pageerror', (e) => siteErrors.push(e.message));
    await site.goto(`${website.origin}/`);
    await site.getByRole('button', { name: 'Book online' }).click();
    await step(site, 'service');
    await site.locator('label.choice:has(input[name=service][value="ac-repair"])').click();
    await site.locator('#ap-answer').fill('Yes, since this morning');
    await site.locator('#ap-next').click();
    await step(site, 'zip');
    await site.locator('#ap-zip').fill(picks.zip);
    await site.locator('#ap-next').click();
    await step(site, 'when');
    await site.locator('label.choice:has(input[name=day]:not(:disabled))').first().click();
    await site.locator('label.choice:has(input[name=window]:not(:disabled))').first().click();
    await site.locator('#ap-next').click();
    await step(site, 'contact');
    await site.locator('#ap-name').fill('Pat Example');
    await site.locator('#ap-phone').fill('214-555-0142');
    await site.locator('#ap-email').fill('pat@example.com');
    await site.locator('#ap-street').fill('4100 Snippet Ln');
    await site.locator('#ap-city').fill('Dallas');
    await site.locator('#ap-state').fill('TX');
    await site.locator('#ap-next').click();
    await step(site, 'review');
    await site.locator('#ap-next').click();
    await step(site, 'done');
    ref = (await site.locator('#ap-ref').textContent()).trim();
    assert.match(ref, /\S/, 'the confirmation shows the reference');
    await site.close();
    assert.deepEqual(siteErrors, [], 'the website page threw nothing');
    const d = await waitState(context, st, ref, 'booked');
    jobId = d.servicetitan.jobId;
    assert.ok(jobId, 'a job id');
    const jobs = await stJobs(st, { ids: String(jobId) });
    assert.equal(jobs.length, 1, 'stsim holds the job');
    assert.equal(jobs[0].jobTypeId, picks.jobType.id);

    await page.locator('#nav-bookings').click();
    const row = page.locator(`#bookings-table tr[data-reference="${ref}"]`);
    await row.waitFor();
    await page.waitForFunction((r) => document.querySelector(`#bookings-table tr[data-reference="${r}"]`)?.dataset.state === 'booked', ref);
    const text = await row.innerText();
    assert.match(text, /Booked/);
    assert.match(text, new RegExp(`Job ${jobId}\\b`));
    assert.match(text, /Pat Example/);
    assert.match(text, /CST|CDT/, 'the window in the scheduler’s zone, named');
    await check('bookings-one');

    await row.getByRole('link', { name: 'Pat Example' }).click();
    await page.locator('section#booking h1').waitFor();
    assert.equal(await page.locator('#booking-state').getAttribute('data-state'), 'booked');
    // linked to the job's page in ServiceTitan's web app: stsim's pages here
    assert.equal(await page.locator('#booking-st-records a[data-st="job"]').getAttribute('href'), `${st.web}/jobs/${jobId}`);
    assert.equal(await page.locator('#booking-st-records a[data-st="customer"]').getAttribute('href'), `${st.web}/customers/${d.servicetitan.customerId}`);
    assert.equal(await page.locator('#booking-st-records a[data-st="location"]').count(), 0, 'stsim has no location page');
    assert.match(await textOf(page, '#booking-phone'), /\(214\) 555-0142/);
    assert.match(await textOf(page, '#booking-window'), /America\/Chicago/);
    assert.ok((await page.locator('#booking-calls tbody tr').count()) >= 3, 'the call log');
    await check('booking-booked');

    // the list of schedulers counts it
    await open('#/schedulers', 'section#schedulers');
    const srow = page.locator(`#schedulers-table tr[data-key="${key}"]`);
    assert.match(await srow.innerText(), /Main website[\s\S]*Job with appointment[\s\S]*AC repair[\s\S]*Taking bookings[\s\S]*\b1\b/);
    await check('list');
  });

  /** The public scheduler route's status, polled until it is want (the public side re-reads a scheduler within seconds). */
  async function publicStatus(want) {
    let got;
    for (let i = 0; i < 100; i++) {
      got = (await fetch(`${st.srv.url}/api/v1/schedulers/${key}`)).status;
      if (got === want) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(got, want);
  }

  test('pause and resume: a paused scheduler is not found by the public', async () => {
    await open(`#/schedulers/${key}`, 'section#scheduler');
    await page.locator('#scheduler-toggle').click();
    await page.waitForFunction(() => document.querySelector('#scheduler-paused')?.dataset.paused === 'true');
    assert.match(await textOf(page, '#scheduler-paused'), /Paused/);
    await publicStatus(404);
    await check('paused');
    await page.locator('#scheduler-toggle').click();
    await page.waitForFunction(() => document.querySelector('#scheduler-paused')?.dataset.paused === 'false');
    await publicStatus(200);
  });

  test('staff see schedulers but cannot change them until granted "manage schedulers"', async () => {
    await signInAs(STAFF);
    await open('#/schedulers', 'section#schedulers');
    assert.match(await waitText(page, '#schedulers-readonly'), /manage schedulers/);
    assert.equal(await page.locator('#scheduler-new').count(), 0);
    assert.equal(await page.locator('#schedulers-table button').count(), 0, 'no pause buttons');
    assert.equal(await page.locator('#catalog-refresh').count(), 0);
    await check('staff-list');
    await page.locator(`#schedulers-table tr[data-key="${key}"] a`).first().click();
    await page.locator('#scheduler-form').waitFor();
    assert.equal(await form().getByLabel('Name', { exact: true }).isDisabled(), true);
    assert.equal(await page.locator('#scheduler-save').count(), 0);
    assert.equal(await page.locator('#scheduler-toggle').count(), 0);
    assert.equal(await page.locator('#embed-snippet').inputValue(), `<script src="${st.srv.url}/widget.js" data-scheduler="${key}" async></script>`);
    await check('staff-view');
    // the API says no as well
    const put = await page.evaluate(async (k) => {
      const me = await (await fetch('/api/v1/me')).json();
      const r = await fetch(`/api/v1/schedulers/${k}/pause`, { method: 'POST', headers: { 'x-csrf-token': me.csrfToken } });
      return r.status;
    }, key);
    assert.equal(put, 403);
    // staff may see bookings
    await open('#/bookings', 'section#bookings');
    await page.locator(`#bookings-table tr[data-reference="${ref}"]`).waitFor();

    await signInAs(OWNER);
    await open('#/settings/users', 'section#users');
    await page.locator('#users-table tbody tr').first().waitFor();
    const staffRow = page.locator('#users-table tbody tr', { hasText: STAFF.email });
    assert.equal(await staffRow.locator('[data-perm="schedulers"]').innerText(), 'No');
    await page.locator('#perm-staff-schedulers').check();
    await page.locator('#perm-save').click();
    await page.waitForFunction((e) => [...document.querySelectorAll('#users-table tbody tr')].some((r) => r.innerText.includes(e) && r.querySelector('[data-perm="schedulers"]').innerText === 'Yes'), STAFF.email);
    assert.equal(await staffRow.locator('[data-perm="integrations"]').innerText(), 'No', 'the other permission is unchanged');
    await check('users-schedulers-granted');

    await signInAs(STAFF);
    await open(`#/schedulers/${key}`, 'section#scheduler');
    assert.equal(await form().getByLabel('Name', { exact: true }).isDisabled(), false);
    assert.equal(await page.locator('#scheduler-save').count(), 1);
  });

  test('another account’s bookings and schedulers are not found', async () => {
    await signInAs(OTHER);
    await open(`#/bookings/${ref}`, 'section#booking');
    assert.equal(await textOf(page, 'section#booking h1'), 'Booking not found');
    assert.match(await textOf(page, '#booking-error'), /no booking/i);
    const status = await page.evaluate(async (r) => (await fetch(`/api/v1/bookings/${r}/detail`)).status, ref);
    assert.equal(status, 404);
    await check('other-account-404');
    await open('#/bookings', 'section#bookings');
    assert.equal(await page.locator(`#bookings-table tr[data-reference="${ref}"]`).count(), 0);
    await open(`#/schedulers/${key}`, 'section#scheduler');
    assert.equal(await textOf(page, 'section#scheduler h1'), 'Scheduler not found');
  });

  test('no screen broke the CSP or threw', () => {
    assert.deepEqual(problems, []);
  });
});
