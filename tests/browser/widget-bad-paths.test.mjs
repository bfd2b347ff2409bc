// widget-bad-paths.test.mjs — what goes wrong for homeowners, on the demo site
// at 390×844, and what the widget does about it:
//   - a ZIP outside the service area: a friendly word with the contractor's
//     phone as a call link, tied to the ZIP field;
//   - an invalid phone and email: each message at its field (aria-invalid,
//     aria-describedby), focus on the first; a phone only the API can refuse
//     (a non-existent area code): the API's message at the phone field;
//   - a reload mid-way: the dialog comes back at the same step with what was
//     typed;
//   - the window taken between picking and submitting — taken for real, in
//     stsim, by booking its last capacity with the inspector app (appointd
//     runs with --booking-recheck-max-age 0 and --availability-ttl 1): back
//     to the day picker, the taken window no longer offered, the next free
//     windows first; nothing typed is lost and the next window books;
//   - the network dropped at submit, then restored: "try again" books once;
//   - the answer lost after appointd stored the booking, and the page
//     reloaded: the retry sends the same Idempotency-Key and gets the same
//     booking — one booking and one job, not two;
//   - no openings at all: "No openings in the next 14 days" with the phone;
//   - the scheduler unreadable when the page loaded: read again at the first open.
// axe-core on each of these screens; each saved as a screenshot.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './lib/browser.mjs';
import { runDemo } from './lib/demo.mjs';
import { PHONE, assertJobInWindow, axeClean, focused, instant, phoneNo, shot, step } from './lib/widget.mjs';

let demo;
let b;
let cfg; // the demo scheduler's config

before(async () => {
  demo = await runDemo({ env: { APPOINTD_BOOKING_RECHECK_MAX_AGE: '0', APPOINTD_AVAILABILITY_TTL: '1' } });
  b = await launchBrowser({ viewport: PHONE });
  cfg = await demo.schedulerConfig();
});

after(async () => {
  await b?.close();
  await demo?.stop(assert);
});

const attr = (page, sel, name) => page.locator(sel).getAttribute(name);

/** Opens the widget from the site's "Book online" and picks AC repair. */
async function openAcRepair(page) {
  // a new visit: the draft of the test before is cleared from a page of the site without the
  // widget (a widget page could write its draft back while being left)
  await page.goto(demo.site + '/logo.svg');
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(demo.site + '/');
  await page.waitForFunction(() => window.AppointWidget);
  await page.locator('#hero-book').click();
  await step(page, 'service');
  await page.locator('label.choice', { hasText: 'AC repair' }).click();
  await page.locator('#ap-next').click();
  await step(page, 'zip');
}

/** From the ZIP step: zip, then the first open window of the nth open day; resolves the window. */
async function pickWindow(page, zip, nth) {
  await page.locator('#ap-zip').fill(zip);
  await page.locator('#ap-next').click();
  await step(page, 'when');
  await page.locator('input[name=window]').first().waitFor();
  await page.locator('label.choice:has(input[name=day]:not(:disabled))').nth(nth).click();
  const win = page.locator('label.choice:has(input[name=window]:not(:disabled))').first();
  await win.click();
  const start = await win.locator('input').getAttribute('value');
  const avail = await (await fetch(`${demo.appointd}/api/v1/schedulers/${demo.key}/availability?service=ac-repair&zip=${zip}&days=14`)).json();
  const w = avail.windows.find((x) => x.start === start);
  return { start: w.start, end: w.end };
}

async function fillContact(page, n, who) {
  await page.locator('#ap-name').fill(who);
  await page.locator('#ap-phone').fill(phoneNo(n));
  await page.locator('#ap-email').fill('');
  await page.locator('#ap-street').fill(`${n} Trouble St`);
  await page.locator('#ap-city').fill('Dallas');
  await page.locator('#ap-state').fill('TX');
}

/** A whole flow up to the review step; resolves the window. */
async function toReview(page, n, who, nth = 4) {
  await openAcRepair(page);
  const w = await pickWindow(page, '75201', nth);
  await page.locator('#ap-next').click();
  await step(page, 'contact');
  await fillContact(page, n, who);
  await page.locator('#ap-next').click();
  await step(page, 'review');
  return w;
}

const bookingsOf = async (name) => (await demo.bookings()).filter((x) => x.name === name);

test('a ZIP outside the service area: “we don’t serve that area yet” with the phone, at the ZIP field', async () => {
  const { page } = b;
  await openAcRepair(page);
  await page.locator('#ap-zip').fill('73301');
  await page.locator('#ap-next').click();
  const note = page.locator('#ap-outside');
  await note.waitFor();
  assert.match(await note.innerText(), /Sorry — we don't serve ZIP code 73301 yet\.\s+Call us at \(214\) 555-0123\. We may still be able to help\./);
  assert.equal(await note.locator('a').getAttribute('href'), 'tel:+12145550123');
  assert.equal(await attr(page, '#ap-zip', 'aria-invalid'), 'true');
  assert.match(await attr(page, '#ap-zip', 'aria-describedby'), /\bap-outside\b/);
  assert.equal((await focused(page)).id, 'ap-zip');
  await shot(page, 'bad-outside-area');
  await axeClean(page, 'the outside-the-area message');
  // a wrong format is said at the field, without asking appointd
  await page.locator('#ap-zip').fill('7520');
  await page.locator('#ap-next').click();
  assert.equal(await page.locator('#ap-zip-err').innerText(), 'Enter a 5-digit ZIP code, like 75001.');
  assert.ok(await note.isHidden(), 'typing again clears the area message');
});

test('invalid phone and email: each message at its field; a reload keeps what was typed; the API’s phone message at the field', async () => {
  const { page } = b;
  await page.locator('#ap-zip').fill('75201');
  await page.locator('#ap-next').click();
  await step(page, 'when');
  await page.locator('label.choice:has(input[name=window]:not(:disabled))').first().click();
  await page.locator('#ap-next').click();
  await step(page, 'contact');
  await page.locator('#ap-name').fill('Erin Error');
  await page.locator('#ap-phone').fill('555-01');
  await page.locator('#ap-email').fill('erin@');
  await page.locator('#ap-street').fill('7 Typo Ct');
  await page.locator('#ap-city').fill('Dallas');
  await page.locator('#ap-state').fill('TX');
  await page.locator('#ap-next').click();
  assert.equal(await page.locator('#ap-phone-err').innerText(), 'Enter a 10-digit phone number, like 214-555-0100.');
  assert.equal(await page.locator('#ap-email-err').innerText(), 'Enter an email address like name@example.com.');
  for (const id of ['ap-phone', 'ap-email']) {
    assert.equal(await attr(page, `#${id}`, 'aria-invalid'), 'true', id);
    assert.match(await attr(page, `#${id}`, 'aria-describedby'), new RegExp(`\\b${id}-err\\b`));
    assert.equal(await attr(page, `#${id}-err`, 'aria-live'), 'polite');
  }
  assert.equal(await attr(page, '#ap-name', 'aria-invalid'), null, 'a good field is not marked');
  assert.equal((await focused(page)).id, 'ap-phone', 'focus on the first field to fix');
  assert.equal(await page.locator('#ap-contact-alert').innerText(), 'Please correct the 2 highlighted fields.');
  await shot(page, 'bad-phone-email', { docs: 'widget-phone-errors' });
  await axeClean(page, 'the contact step with errors');

  // a reload: the dialog comes back at this step with what was typed
  await page.reload();
  await step(page, 'contact');
  assert.equal(await page.locator('#ap-name').inputValue(), 'Erin Error');
  assert.equal(await page.locator('#ap-phone').inputValue(), '555-01');
  assert.equal(await page.locator('#ap-street').inputValue(), '7 Typo Ct');

  // ten digits pass here, but area code 123 does not exist: the API says so, at the field
  const before = (await demo.bookings()).length;
  await page.locator('#ap-phone').fill('123-555-0100');
  await page.locator('#ap-email').fill('erin@example.com');
  await page.locator('#ap-next').click();
  await step(page, 'review');
  await page.locator('#ap-next').click();
  await step(page, 'contact');
  assert.equal(await page.locator('#ap-phone-err').innerText(), 'That area code does not exist: check the first three digits');
  assert.equal(await attr(page, '#ap-phone', 'aria-invalid'), 'true');
  assert.equal((await focused(page)).id, 'ap-phone');
  assert.equal(await page.locator('#ap-email').inputValue(), 'erin@example.com', 'the rest is kept');
  assert.equal((await demo.bookings()).length, before, 'nothing was stored');
  await shot(page, 'bad-phone-from-api');
  await page.locator('#ap-close').click();
});

/** Books the window's last capacity in stsim (jobs on a seeded customer) until stsim says it is full. */
async function takeWindow(w) {
  const svc = cfg.services.find((s) => s.id === 'ac-repair');
  const cust = (await demo.st.get('/crm/customers', { pageSize: 1 })).data[0];
  const loc = (await demo.st.get('/crm/locations', { customerId: String(cust.id) })).data[0];
  const start = new Date(w.start).toISOString();
  const end = new Date(w.end).toISOString();
  const day = start.slice(0, 10);
  const next = new Date(Date.parse(day) + 2 * 86400000).toISOString().slice(0, 10);
  const open = async () => {
    const cap = await demo.st.post('/dispatch/capacity', {
      startsOnOrAfter: `${day}T00:00:00Z`, endsOnOrBefore: `${next}T00:00:00Z`,
      businessUnitIds: [svc.businessUnitId], jobTypeId: svc.jobTypeId, skillBasedAvailability: false,
    });
    const slot = cap.availabilities.find((a) => instant(a.startUtc) === instant(start));
    assert.ok(slot, `stsim has the window ${w.start}`);
    return slot.isAvailable;
  };
  for (let i = 0; i < 20 && (await open()); i++) {
    await demo.st.post('/jpm/jobs', {
      customerId: cust.id, locationId: loc.id, businessUnitId: svc.businessUnitId, jobTypeId: svc.jobTypeId,
      priority: 'Normal', campaignId: cfg.campaignId, summary: 'Booked by phone by the office',
      appointments: [{ start, end, arrivalWindowStart: start, arrivalWindowEnd: end }],
    });
  }
  assert.equal(await open(), false, 'the window is full in stsim');
}

test('a window taken in stsim between picking and submitting: back to the day picker with the next free windows', async () => {
  const { page } = b;
  const w = await toReview(page, 21, 'Tara Taken');
  await takeWindow(w);
  await page.locator('#ap-next').click(); // Book appointment
  await step(page, 'when');
  const taken = page.locator('#ap-taken');
  await taken.waitFor();
  assert.match(await taken.innerText(), /was just taken by someone else/);
  const quick = page.locator('#ap-next-windows input[name=quick]');
  await quick.first().waitFor();
  const offered = await quick.evaluateAll((els) => els.map((e) => e.value));
  assert.ok(offered.length >= 1 && offered.length <= 3, `the next free windows: ${offered}`);
  assert.ok(!offered.some((s) => instant(s) === instant(w.start)), 'the taken window is not among them');
  const same = page.locator(`input[name=window][value="${w.start}"]`);
  if (await same.count()) assert.ok(await same.isDisabled(), 'the taken window is shown as full');
  await shot(page, 'bad-window-taken', { docs: 'widget-phone-taken' });
  await axeClean(page, 'the day picker after a taken window');
  assert.equal((await bookingsOf('Tara Taken')).length, 0, 'nothing was stored');

  // the first of the next windows; what was typed is still there
  await page.locator('#ap-next-windows label.choice').first().click();
  const nextStart = await quick.first().getAttribute('value');
  await page.locator('#ap-next').click();
  await step(page, 'contact');
  assert.equal(await page.locator('#ap-name').inputValue(), 'Tara Taken');
  assert.equal(await page.locator('#ap-street').inputValue(), '21 Trouble St');
  await page.locator('#ap-next').click();
  await step(page, 'review');
  await page.locator('#ap-next').click();
  await step(page, 'done');
  const bk = await demo.waitBooked((await page.locator('#ap-ref').textContent()).trim());
  const avail = await (await fetch(`${demo.appointd}/api/v1/schedulers/${demo.key}/availability?service=ac-repair&zip=75201&days=14`)).json();
  const nw = avail.windows.find((x) => instant(x.start) === instant(nextStart));
  await assertJobInWindow(demo, bk, nw || { start: nextStart, end: bk.window.end });
  await page.locator('#ap-next').click(); // Done
});

test('the network dropped at submit, then restored: one booking, not two', async () => {
  const { page, context } = b;
  await toReview(page, 31, 'Olly Offline');
  await context.setOffline(true);
  await page.locator('#ap-next').click();
  const alert = page.locator('#ap-book-alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /couldn't reach the booking service.*Nothing you entered is lost/s);
  assert.equal(await page.locator('#ap-next').innerText(), 'Try again');
  await shot(page, 'bad-offline');
  await axeClean(page, 'the review step offline');
  await context.setOffline(false);
  await page.locator('#ap-next').click();
  await step(page, 'done');
  const ref = (await page.locator('#ap-ref').textContent()).trim();
  const mine = await bookingsOf('Olly Offline');
  assert.deepEqual(mine.map((x) => x.reference), [ref], 'one booking');
  const bk = await demo.waitBooked(ref);
  const jobs = await demo.st.get('/jpm/jobs', { customerId: String(bk.servicetitan.customerId) });
  assert.equal(jobs.data.length, 1, 'one job in stsim');
  await page.locator('#ap-next').click();
});

test('the answer lost after appointd stored the booking, and the page reloaded: the retry gets the same booking', async () => {
  const { page } = b;
  await toReview(page, 41, 'Lee Lost');
  const keys = [];
  let first = null;
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/bookings')) keys.push(r.headers()['idempotency-key']);
  });
  await page.route('**/api/v1/schedulers/*/bookings', async (route) => {
    const res = await route.fetch(); // appointd stores it and answers...
    first = await res.json();
    await route.abort('connectionreset'); // ...but the answer never arrives
  }, { times: 1 });
  await page.locator('#ap-next').click();
  await page.locator('#ap-book-alert').waitFor();
  assert.ok(first && first.reference, 'appointd stored the first attempt');
  await page.reload(); // the homeowner reloads: the dialog comes back at the review
  await step(page, 'review');
  assert.equal(await page.locator('#ap-next').innerText(), 'Try again');
  await page.locator('#ap-next').click();
  await step(page, 'done');
  const ref = (await page.locator('#ap-ref').textContent()).trim();
  assert.equal(ref, first.reference, 'the same booking');
  assert.equal(keys.length, 2);
  assert.equal(keys[0], keys[1], 'the same Idempotency-Key');
  assert.match(keys[0], /^w1-[0-9a-f]{32}$/);
  assert.deepEqual((await bookingsOf('Lee Lost')).map((x) => x.reference), [ref], 'one booking');
  const bk = await demo.waitBooked(ref);
  const jobs = await demo.st.get('/jpm/jobs', { customerId: String(bk.servicetitan.customerId) });
  assert.equal(jobs.data.length, 1, 'one job in stsim');
  await page.locator('#ap-next').click();
});

test('no openings in the horizon: said plainly, with the phone', async () => {
  const { page } = b;
  await page.route(/\/availability\?/, async (route) => {
    const res = await route.fetch(); // appointd's real answer, every window taken
    const body = await res.json();
    await route.fulfill({ response: res, json: { ...body, windows: body.windows.map((x) => ({ ...x, available: false })) } });
  });
  await openAcRepair(page);
  await page.locator('#ap-zip').fill('75201');
  await page.locator('#ap-next').click();
  await step(page, 'when');
  const none = page.locator('#ap-no-openings');
  await none.waitFor();
  assert.match(await none.innerText(), /No openings in the next 14 days\.\s+Call us at \(214\) 555-0123\. We'll find a time that works\./);
  assert.ok(await page.locator('#ap-next').isHidden(), 'nothing to continue to');
  await shot(page, 'bad-no-openings');
  await axeClean(page, 'no openings');
  await page.unroute(/\/availability\?/);
});

test('the scheduler could not be read when the page loaded (network): it is read again at the first open', async () => {
  const { page } = b;
  await page.goto(demo.site + '/logo.svg');
  await page.evaluate(() => sessionStorage.clear());
  let refused = 0;
  await page.route(/\/api\/v1\/schedulers\/sch_[^/?]+$/, (route) => {
    refused++;
    return route.abort('internetdisconnected');
  }, { times: 1 });
  await page.goto(demo.site + '/');
  await page.waitForFunction(() => window.AppointWidget);
  await page.locator('#hero-book').click();
  await step(page, 'service');
  assert.equal(refused, 1, 'the first read failed');
  assert.equal(await page.locator('#ap-title').innerText(), 'Lone Star Comfort & Plumbing');
});
