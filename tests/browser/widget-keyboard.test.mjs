// widget-keyboard.test.mjs — a homeowner books on the demo site (`make run`)
// on a phone-sized screen (390×844) with the keyboard alone: Tab, Shift+Tab,
// Space, the arrow keys, typing and Enter, never the mouse. The dialog is
// full screen, each step's heading takes focus, Tab stays inside the dialog,
// Escape closes it and focus goes back to the button that opened it. The
// confirmation shows the reference; the booking reaches `booked` and stsim
// holds the job in the window that was chosen, shown on stsim's jobs page.
// axe-core finds nothing serious on every step, the confirmation page
// (/b/{reference}) and stsim's jobs page; every step is saved as a
// screenshot at 390 px.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './lib/browser.mjs';
import { runDemo } from './lib/demo.mjs';
import { PHONE, assertJobInWindow, axeClean, focused, phoneNo, shot, step, tabTo } from './lib/widget.mjs';

let demo;
let b;
let booked; // { reference, window }

before(async () => {
  demo = await runDemo();
  b = await launchBrowser({ viewport: PHONE, hasTouch: true, isMobile: true });
});

after(async () => {
  await b?.close();
  await demo?.stop(assert);
});

test('keyboard only at 390×844: from the site’s button to a booked job in stsim in the chosen window', async () => {
  const { page } = b;
  const keys = page.keyboard;
  await page.goto(demo.site + '/');
  await page.waitForFunction(() => window.AppointWidget);
  await axeClean(page, 'the demo site');

  // Tab from the top of the page to the site's "Book online", Enter opens the dialog
  await tabTo(page, '#hero-book');
  await keys.press('Enter');
  await step(page, 'service');
  let f = await focused(page);
  assert.deepEqual([f.id, f.inWidget], ['ap-heading', true], 'the step’s heading has focus');
  await page.locator('#ap-dialog').evaluate((d) => Promise.all(d.getAnimations().map((a) => a.finished)));
  const box = await page.locator('#ap-dialog').boundingBox();
  assert.deepEqual([box.x, box.y, box.width, box.height].map(Math.round), [0, 0, PHONE.width, PHONE.height],
    'full screen on a phone');
  await shot(page, '1-service');
  await axeClean(page, 'the service step');

  // Tab never leaves the dialog: 25 presses each way
  for (const key of ['Tab', 'Shift+Tab']) {
    for (let i = 0; i < 25; i++) {
      await keys.press(key);
      assert.ok((await focused(page)).inWidget, `${key} #${i + 1} keeps focus in the dialog`);
    }
  }

  // service: the radio group is one Tab stop; arrows move, Space picks; the question appears
  await tabTo(page, 'input[name=service]');
  await keys.press('Space');
  f = await focused(page);
  assert.equal(f.value, 'ac-repair');
  await tabTo(page, '#ap-answer');
  await keys.type('Yes, warm air since this morning');
  await keys.press('Enter'); // submits the step
  await step(page, 'zip');
  await shot(page, '2-zip');
  await axeClean(page, 'the ZIP step');
  await tabTo(page, '#ap-zip');
  await keys.type('75201');
  await keys.press('Enter');

  // day and window: the first open day is picked; ArrowRight takes the next open one
  await step(page, 'when');
  await page.locator('input[name=window]').first().waitFor();
  await shot(page, '3-when', { docs: 'widget-phone-when' });
  await axeClean(page, 'the day and window step');
  await tabTo(page, 'input[name=day]');
  const firstDay = (await focused(page)).value;
  await keys.press('ArrowRight');
  const day = (await focused(page)).value;
  assert.ok(day > firstDay, `ArrowRight moved from ${firstDay} to a later day (${day})`);
  await page.locator(`#ap-windows legend`).filter({ hasText: 'Arrival windows on' }).waitFor();
  await tabTo(page, 'input[name=window]');
  await keys.press('Space');
  const windowStart = (await focused(page)).value;
  assert.equal(windowStart.slice(0, 10), day, 'a window of the chosen day');
  const avail = await (await fetch(`${demo.appointd}/api/v1/schedulers/${demo.key}/availability?service=ac-repair&zip=75201&days=14`)).json();
  const chosen = avail.windows.find((w) => w.start === windowStart);
  assert.ok(chosen && chosen.available, `the chosen window ${windowStart} is open`);
  await keys.press('Enter');

  // contact details, typed field by field
  await step(page, 'contact');
  await shot(page, '4-contact');
  await axeClean(page, 'the contact step');
  const typeInto = async (id, text) => {
    await tabTo(page, `#${id}`);
    await keys.type(text);
  };
  await typeInto('ap-name', 'Kim Keyboard');
  await typeInto('ap-phone', phoneNo(1));
  await typeInto('ap-email', 'kim.keyboard@example.com');
  await typeInto('ap-street', '4100 Keyboard Ln');
  await typeInto('ap-city', 'Dallas');
  await typeInto('ap-state', 'TX');
  await typeInto('ap-notes', 'Gate code 1234, friendly dog');
  await tabTo(page, '#ap-sms');
  await keys.press('Space');
  await tabTo(page, '#ap-next');
  await keys.press('Enter');

  // review, then book
  await step(page, 'review');
  const summary = await page.locator('#ap-step dl').innerText();
  for (const want of ['AC repair', 'Kim Keyboard', '4100 Keyboard Ln', 'Gate code 1234']) {
    assert.ok(summary.includes(want), `the review shows ${JSON.stringify(want)}:\n${summary}`);
  }
  assert.match(await page.locator('#ap-step .item', { hasText: 'Text updates' }).locator('dd .value').innerText(), /^Yes$/);
  await shot(page, '5-review', { docs: 'widget-phone-review' });
  await axeClean(page, 'the review step');
  await tabTo(page, '#ap-next');
  assert.equal((await focused(page)).text, 'Book appointment');
  await keys.press('Enter');

  await step(page, 'done');
  const reference = (await page.locator('#ap-ref').textContent()).trim();
  assert.match(reference, /^bk_[A-Za-z0-9_-]{22}$/);
  await page.locator('#ap-status').filter({ hasText: 'Confirmed' }).waitFor();
  await shot(page, '6-done', { docs: 'widget-phone-done' });
  await axeClean(page, 'the confirmation step');
  booked = { reference, window: { start: chosen.start, end: chosen.end } };

  // Done closes; focus goes back to the button that opened the dialog
  await tabTo(page, '#ap-next');
  await keys.press('Enter');
  await page.locator('#ap-dialog').waitFor({ state: 'hidden' });
  assert.equal((await focused(page)).id, 'hero-book', 'focus is back on “Book online”');

  // appointd pushed it; stsim holds the job in the chosen window
  const bk = await demo.waitBooked(reference);
  const job = await assertJobInWindow(demo, bk, booked.window);
  assert.equal(bk.contact.phone, '+19455550101');
  assert.equal(bk.answers['Is the unit blowing warm air?'], 'Yes, warm air since this morning');
  booked.jobId = job.id;
});

test('Escape closes the dialog and gives focus back; a new visit starts from the first step', async () => {
  const { page } = b;
  await tabTo(page, '#hero-book');
  await page.keyboard.press('Enter');
  await step(page, 'service'); // the finished booking's draft was dropped
  assert.equal(await page.locator('input[name=service]:checked').count(), 0);
  await page.keyboard.press('Escape');
  await page.locator('#ap-dialog').waitFor({ state: 'hidden' });
  assert.equal((await focused(page)).id, 'hero-book');
});

test('the confirmation page /b/{reference} and stsim’s jobs page show the booking', async () => {
  assert.ok(booked?.jobId, 'the booking above was made and pushed');
  const { page } = b;
  await page.goto(`${demo.appointd}/b/${booked.reference}`);
  await page.locator('#booking').waitFor();
  assert.match(await page.locator('#status').textContent(), /Confirmed/);
  assert.equal(await page.locator('#reference').textContent(), booked.reference);
  assert.match(await page.locator('#service').textContent(), /AC repair/);
  assert.match(await page.locator('#address').textContent(), /4100 Keyboard Ln, Dallas, TX 75201/);
  const ics = await fetch(new URL(await page.locator('#calendar').getAttribute('href'), page.url()));
  assert.equal(ics.status, 200);
  assert.match(ics.headers.get('content-type'), /^text\/calendar/);
  const text = await ics.text();
  const utc = (iso) => new Date(iso).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  assert.ok(text.includes(`DTSTART:${utc(booked.window.start)}\r\n`), text);
  assert.ok(text.includes(`DTEND:${utc(booked.window.end)}\r\n`), text);
  assert.ok(text.includes(`UID:${booked.reference}@appointd\r\n`), text);
  await shot(page, 'page-confirmation', { docs: 'widget-page-phone' });
  await axeClean(page, 'the confirmation page');

  // stsim's read-only jobs page, signed in as the tenant's office user
  await page.goto(`${demo.web}/jobs`);
  await page.locator('#tenantId').fill(String(demo.creds.tenantId));
  await page.locator('#username').fill('admin');
  await page.locator('#password').fill('demo-admin');
  await page.locator('#password').press('Enter');
  await page.waitForURL(/\/jobs$/);
  const row = page.locator(`#jobs tr[data-job-id="${booked.jobId}"]`);
  await row.waitFor();
  const cells = await row.innerText();
  for (const want of ['Kim Keyboard', '4100 Keyboard Ln', 'AC Repair', 'Website']) {
    assert.ok(cells.includes(want), `stsim's jobs page shows ${want}: ${cells}`);
  }
  await shot(page, 'stsim-jobs');
  await axeClean(page, 'stsim’s jobs page');
});
