// dashboard-newcomer.test.mjs — "a newcomer's first ten minutes" (issue 8),
// the dashboard's side of each point, in a browser set to America/Chicago:
//   - a Client ID of another tenant: the message is at Step 1 (which loses its
//     "Done"), the Client ID is not marked invalid, and one "Use tenant N"
//     (pressed with the keyboard) connects with the kept Client ID and Secret;
//   - a refused secret: the message says first to check the whole secret was
//     pasted, then how to generate a new one; the secret stays in its field;
//   - the environment is named ("ServiceTitan emulator (stsim)", not "custom");
//   - times are shown in the viewer's zone with the zone named;
//   - every permission with the feature that needs it, before connecting
//     (Step 2) and after (granted or not), as C1 lists them;
//   - layout: the side menu runs the full height of a long page, the page
//     title has no focus ring after a reload, zero counts on the Operator
//     page are not red.
// axe-core runs on the new states. ("Forgot password?" is in dashboard-flow.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './lib/browser.mjs';
import { apiFms, axeSerious, gotoView, login, logout, startStack, textOf, waitText } from './lib/dashboard.mjs';

const OWNER = { email: 'owner@lonestar.test', password: 'owner-password-1', role: 'owner' };
const OWNER2 = { email: 'owner@mixup.test', password: 'owner-password-2', role: 'owner' };
const OWNER3 = { email: 'owner@refused.test', password: 'owner-password-3', role: 'owner' };
const OPERATOR = { email: 'ops@appointd.test', password: 'operator-password-1', role: 'owner', operator: true };
const ZONE = 'America/Chicago';
const LABEL = 'ServiceTitan emulator (stsim)';
const TYPED_TENANT = 5550601; // what the contractor typed in Step 1
const REAL_TENANT = 5550602; // where their Client ID comes from
const REFUSED_TENANT = 5550603;
const OPTIONAL = 'tn.dis.zones:r'; // withheld from lonestar's connection

// C1 (notes/contracts.md): the 16 permissions, in order, with the feature that needs each.
const C1 = [
  ['tn.crm.customers:r', "finding the homeowner's customer record", true],
  ['tn.crm.customers:w', 'creating customers (and their notes) for new bookings', true],
  ['tn.crm.locations:r', 'finding the service location', true],
  ['tn.crm.locations:w', 'adding service locations for new bookings', true],
  ['tn.crm.bookings:r', 'finding bookings sent for review', true],
  ['tn.crm.bookings:w', 'sending bookings to your CSRs for review', true],
  ['tn.crm.bookingprovidertags:r', 'tagging bookings with their source', true],
  ['tn.jpm.jobs:r', 'finding jobs booked online', true],
  ['tn.jpm.jobs:w', 'creating jobs with their appointment (and job notes)', true],
  ['tn.jpm.jobtypes:r', 'offering your job types as services', true],
  ['tn.settings.businessunits:r', 'choosing the business unit of a booking', true],
  ['tn.dis.capacity:w', 'showing open arrival windows (dispatch capacity)', true],
  ['tn.dis.arrivalwindows:r', 'offering your arrival windows', true],
  ['tn.marketing.campaigns:r', 'crediting bookings to a marketing campaign', true],
  ['tn.settings.tagtypes:r', 'tagging jobs booked online', false],
  ['tn.dis.zones:r', 'limiting bookings to the ZIP codes of your ServiceTitan zones', false],
];

/** How the viewer (en-US, America/Chicago) should see an RFC 3339 time. */
const local = (iso) =>
  new Intl.DateTimeFormat('en-US', {
    timeZone: ZONE,
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(new Date(iso));

/** The rows of a scopes table: [scope, feature, needed, granted?] as shown. */
const tableRows = (page, sel) =>
  page.locator(`${sel} tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.innerText.trim())));

describe('dashboard: a newcomer’s first ten minutes', () => {
  let st, b, page, context;

  /** Signs in as user unless already; then opens view. */
  async function as(user, view) {
    const who = (await textOf(page, '#signed-in-as')).toLowerCase();
    if (who !== user.email) {
      if (who) await logout(page);
      await login(page, st, user);
    }
    await gotoView(page, st, view);
  }

  async function axeClean(what) {
    const v = await axeSerious(page);
    assert.deepEqual(v, [], `axe on ${what}:\n  ${v.join('\n  ')}`);
  }

  before(async () => {
    st = await startStack({
      accounts: [
        { name: 'lonestar', users: [OWNER] },
        { name: 'mixup', users: [OWNER2] },
        { name: 'refused', users: [OWNER3] },
        { name: 'appointd ops', users: [OPERATOR] },
      ],
      serverEnv: { APPOINTD_ST_ENV_LABEL: LABEL },
    });
    await st.addTenant(TYPED_TENANT);
    await st.addTenant(REAL_TENANT);
    await st.addTenant(REFUSED_TENANT);
    const all = await st.appScopes();
    await st.connectByCli('lonestar', st.sim.creds.tenantId, all.filter((s) => s !== OPTIONAL));
    b = await launchBrowser({ viewport: { width: 1280, height: 800 }, timezoneId: ZONE, locale: 'en-US' });
    ({ page, context } = b);
  });

  after(async () => {
    await b?.close();
    if (st) await st.stop(assert);
  });

  test('layout: the side menu runs the full height of a long page; no ring on the title after a reload', async () => {
    await as(OWNER2, 'fms'); // state none: four steps, taller than the window
    const m = await page.evaluate(() => ({
      page: document.documentElement.scrollHeight,
      win: innerHeight,
      nav: document.querySelector('#settings-nav').getBoundingClientRect().height,
      main: document.querySelector('#main').getBoundingClientRect().height,
    }));
    assert.ok(m.page > m.win + 100, `the page must be long for this check: ${m.page}px in a ${m.win}px window`);
    assert.ok(m.nav >= m.main - 1, `the menu (${m.nav}px) stops short of the page (${m.main}px)`);
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const link = await page.locator('#nav-fms').evaluate((e) => {
      const r = e.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= innerHeight;
    });
    assert.ok(link, 'the menu stays in view at the bottom of the page');

    await page.reload();
    await page.waitForFunction(() => document.activeElement === document.querySelector('section#fms h1'));
    const ring = await page.evaluate(() => {
      const cs = getComputedStyle(document.activeElement);
      return { outline: cs.outlineStyle, shadow: cs.boxShadow };
    });
    assert.deepEqual(ring, { outline: 'none', shadow: 'none' }, 'the focused title draws no ring');
    // the first Tab lands on a control, which does show its ring
    await page.keyboard.press('Tab');
    const next = await page.evaluate(() => {
      const e = document.activeElement;
      const cs = getComputedStyle(e);
      return { tag: e.tagName, visible: e.matches(':focus-visible') && cs.outlineStyle !== 'none' };
    });
    assert.notEqual(next.tag, 'H1');
    assert.ok(next.visible, `${next.tag}: a control focused by Tab shows its ring`);
  });

  test('environment: the page names it with environmentLabel, never "custom"', async () => {
    await as(OWNER2, 'fms');
    assert.equal((await apiFms(context, st)).environmentLabel, LABEL);
    assert.equal(await waitText(page, '#fms-environment'), `ServiceTitan environment: ${LABEL}.`);
    await as(OWNER, 'fms');
    assert.equal(await waitText(page, '#status-environment'), LABEL);
    assert.doesNotMatch(await page.locator('section#fms').innerText(), /\bcustom\b/);
  });

  test('times are shown in the viewer’s zone, with the zone named', async () => {
    await as(OWNER, 'fms'); // connected in before()
    const s = await apiFms(context, st);
    assert.match(s.connectedAt, /Z$/, 'the API answers in UTC');
    const t = page.locator('#status-connected-since time');
    assert.equal(await t.getAttribute('datetime'), s.connectedAt);
    const shown = (await t.innerText()).trim();
    assert.equal(shown, local(s.connectedAt));
    assert.match(shown, /\b(CST|CDT)$/);
    const health = await page.locator('#status-health time').allInnerTexts();
    assert.ok(health.length >= 1 && health.every((x) => /\b(CST|CDT)$/.test(x)), `health times: ${health}`);
  });

  test('permissions after connecting: each with its feature, granted or not', async () => {
    await as(OWNER, 'fms');
    const s = await apiFms(context, st);
    assert.deepEqual(
      s.scopes.map((x) => [x.scope, x.feature, x.required]),
      C1,
      'GET /fms lists C1',
    );
    await page.locator('#status-scopes-list').evaluate((e) => e.closest('details').setAttribute('open', ''));
    const rows = await tableRows(page, '#status-scopes-list');
    assert.deepEqual(
      rows,
      C1.map(([scope, feature, req]) => [
        scope,
        feature,
        req ? 'Required' : 'Optional',
        scope === OPTIONAL ? '✗ Not granted' : '✓ Granted',
      ]),
    );
    assert.equal(await page.locator('#status-scopes-list tr[data-granted="false"]').getAttribute('data-scope'), OPTIONAL);
    const missing = await page.locator('#status-missing li').allInnerTexts();
    assert.equal(missing.length, 1);
    assert.ok(missing[0].includes(OPTIONAL) && missing[0].includes(C1.at(-1)[1]), `missing: ${missing}`);
    assert.match(await textOf(page, '#status-missing-none'), /1 of the 16/);
    await axeClean('status panel with every permission');
  });

  test('Operator page: times with their zone; a zero count is not red', async () => {
    await as(OPERATOR, 'operator');
    const row = page.locator('#operator-accounts tbody tr[data-state="connected"]');
    const t = row.locator('time');
    assert.equal((await t.innerText()).trim(), local(await t.getAttribute('datetime')));
    const tiles = await page.locator('#operator-counts li').evaluateAll((lis) =>
      lis.map((li) => ({
        state: li.dataset.state,
        n: Number(li.querySelector('.count-n').innerText),
        color: getComputedStyle(li.querySelector('.count-n')).color,
        label: getComputedStyle(li.querySelector('.count-label')).color,
        text: li.querySelector('.count-label').innerText.trim(),
      })),
    );
    const danger = await page.evaluate(() => {
      const p = document.createElement('p');
      p.className = 'error';
      document.body.append(p);
      const c = getComputedStyle(p).color;
      p.remove();
      return c;
    });
    const attention = tiles.find((x) => x.state === 'needs_attention');
    assert.equal(attention.n, 0, 'no account needs attention here');
    for (const x of tiles.filter((y) => y.n === 0)) {
      assert.notEqual(x.color, danger, `${x.state}: a zero is not red`);
      assert.equal(x.color, x.label, `${x.state}: a zero is muted like its label`);
      assert.ok(x.text.length > 0, `${x.state}: the label says the state`);
    }
    const connected = tiles.find((x) => x.state === 'connected');
    assert.equal(connected.n, 1);
    assert.notEqual(connected.color, connected.label, 'a count above zero keeps its state colour');
  });

  test('permissions before connecting: Step 2 says what each is for, as ServiceTitan’s Allow Access asks', async () => {
    await as(OWNER2, 'fms');
    await page.locator('#tenant-id').fill(String(TYPED_TENANT));
    const [tab] = await Promise.all([context.waitForEvent('page'), page.locator('#add-to-servicetitan').click()]);
    await tab.close();
    await page.waitForFunction(() => document.querySelector('#step-1-badge')?.innerText === 'Done');
    assert.equal((await apiFms(context, st)).state, 'awaiting_app_access');
    assert.ok(await page.locator('#scopes-asked').evaluate((d) => d.open), 'shown open while connecting');
    const asked = await tableRows(page, '#scopes-asked-list');
    assert.deepEqual(
      asked,
      C1.map(([scope, feature, req]) => [scope, feature, req ? 'Required' : 'Optional']),
    );
    assert.equal(await textOf(page, '#scopes-asked-count'), '16');
    assert.ok(
      (await apiFms(context, st)).scopes.every((x) => x.granted === null),
      'granted is not known before a connect',
    );
    await axeClean('Step 2 with the permissions asked for');
  });

  test('Step 1: a Client ID of another tenant — the message is at Step 1; one key press on "Use tenant N" connects', async () => {
    await as(OWNER2, 'fms'); // Step 1 says TYPED_TENANT (the test above)
    assert.equal((await apiFms(context, st)).tenantId, TYPED_TENANT);
    const cr = await st.allow(REAL_TENANT);
    await page.locator('#client-id').fill(cr.clientId);
    await page.locator('#client-secret').fill(cr.clientSecret);
    const before = await apiFms(context, st);
    await page.locator('#connect').click();
    const msg = await waitText(page, '#step-1-error', 30000);
    assert.ok(msg.includes(String(REAL_TENANT)) && msg.includes(String(TYPED_TENANT)), msg);
    assert.equal(await page.locator('#step-1-error').getAttribute('role'), 'alert');
    assert.equal(await textOf(page, '#step-1-badge'), 'Needs attention', 'Step 1 is no longer "Done"');
    assert.ok(await page.locator('#step-1').evaluate((e) => e.classList.contains('attention')));
    assert.equal(await page.locator('#client-id').getAttribute('aria-invalid'), null, 'the Client ID is right');
    for (const sel of ['#step-2-error', '#step-3-error', '#step-4-error', '#fms-error']) {
      assert.equal(await textOf(page, sel), '', `${sel} stays empty`);
    }
    assert.equal(await page.locator('#client-id').inputValue(), cr.clientId);
    assert.equal(await page.locator('#client-secret').inputValue(), cr.clientSecret, 'the secret is kept');
    const fix = page.locator('#use-tenant');
    assert.equal((await fix.innerText()).trim(), `Use tenant ${REAL_TENANT}`);
    assert.ok(await fix.evaluate((e) => e === document.activeElement), 'the fix has focus');
    assert.equal(JSON.stringify(await apiFms(context, st)), JSON.stringify(before), 'nothing saved');
    await axeClean('Step 1 needing attention (wrong tenant)');

    await page.keyboard.press('Enter');
    assert.match(await waitText(page, '#fms-confirmation', 30000), /You are now connected to ServiceTitan/);
    const s = await apiFms(context, st);
    assert.equal(s.state, 'connected');
    assert.equal(s.tenantId, REAL_TENANT);
    assert.equal(s.clientId, cr.clientId);
    assert.equal(await textOf(page, '#status-tenant'), String(REAL_TENANT));
    assert.equal(await textOf(page, '#step-1-badge'), 'Done');
    assert.equal(await textOf(page, '#step-1-error'), '');
    assert.ok(await page.locator('#use-tenant').isHidden());
    assert.equal(await page.locator('#client-secret').inputValue(), '', 'emptied once connected');
  });

  test('a refused secret: "check you pasted the whole secret" first, then how to generate one; the secret stays', async () => {
    await st.cli(['fms', 'tenant', 'refused', String(REFUSED_TENANT)]);
    await st.cli(['fms', 'add', 'refused']);
    const cr = await st.allow(REFUSED_TENANT);
    await st.regenerate(REFUSED_TENANT); // the secret the user kept is no longer the current one
    const old = cr.clientSecret;
    await as(OWNER3, 'fms');
    await page.locator('#client-id').fill(cr.clientId);
    await page.locator('#client-secret').fill(old);
    await page.locator('#connect').click();
    const msg = await waitText(page, '#step-4-error', 30000);
    const whole = msg.search(/whole|entire|complete/i);
    const fresh = msg.search(/Generate new secret/i);
    assert.ok(whole >= 0 && fresh > whole, `"check the whole secret" comes first, then how to generate one: ${msg}`);
    assert.match(msg, /API Application Access/);
    assert.equal(await page.locator('#client-secret').inputValue(), old, 'the typed secret is kept');
    assert.equal(await page.locator('#client-secret').getAttribute('aria-invalid'), 'true');
    await axeClean('Step 4 with a refused secret');
  });
});
