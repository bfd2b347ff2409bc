// stsim-pages.test.mjs — walks stsim's tenant-side pages in a real browser
// (headless Debian chromium driven by playwright-core), the way the seed's
// Steps 2–4 describe them: sign in as the tenant admin, Connect New App →
// pick the app → Allow Access (with a booking provider tag) → Application
// Details → Generate Client Secret → "Yes, Continue", read the Client ID and
// the secret off the page, and get a token with them from the auth host.
// Also: the secret is never shown again, regenerating kills the old one,
// Disable refuses tokens, a dispatcher without "Manage API Application
// Access" sees why they can't act, and the developer portal adds a tenant.
//
// stsim starts WITHOUT --connect, so the connection is made here, by hand.
// The tests share one stsim and one browser and build on each other in
// order (node:test runs a suite's tests one after another).
// Screenshots go to $SCREENSHOT_DIR (default build-test/screenshots/).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startStsim, stopClean } from '../e2e/sim/lib/stsim.mjs';
import { launchBrowser, shotDir } from './lib/browser.mjs';

const BASE = '/settings/integrations/api-application-access';

// Seeded accounts (docs/stsim.md): the demo tenant's admin holds "Manage API
// Application Access", its dispatcher does not; one developer-portal account.
const ADMIN = { username: 'admin', password: 'demo-admin' };
const DISPATCHER = { username: 'dispatcher', password: 'demo-dispatcher' };
const DEVELOPER = { username: 'developer', password: 'demo-developer' };

describe('stsim web pages in a browser', () => {
  let sim, browser, context, page, web, SHOTS;

  const shot = (name) => page.screenshot({ path: path.join(SHOTS, `stsim-${name}.png`), fullPage: true });

  async function signIn(who) {
    await context.clearCookies();
    await page.goto(`${web}/login`);
    await page.getByLabel('Tenant ID').fill(String(sim.creds.tenantId));
    await page.getByLabel('Username').fill(who.username);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${web}${BASE}`);
  }

  async function devSignIn() {
    await page.goto(`${web}/developer/login`);
    await page.getByLabel('Username').fill(DEVELOPER.username);
    await page.getByLabel('Password').fill(DEVELOPER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${web}/developer/apps`);
  }

  /** A token request with these client credentials ({status, body, text}). */
  function tokenStatus(clientId, clientSecret) {
    return sim.tokenRequest({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
  }

  before(async () => {
    SHOTS = await shotDir();
    sim = await startStsim({ connect: false });
    web = sim.creds.webUrl.replace(/\/$/, '');
    browser = await launchBrowser();
    ({ context, page } = browser);
  });

  after(async () => {
    await browser?.close();
    if (sim) await stopClean(sim, assert);
  });

  test('the developer adds the tenant to the app in the developer portal', async () => {
    const { appId, tenantId } = sim.creds;
    await page.goto(`${web}/developer/apps/${appId}`);
    await page.waitForURL(`${web}/developer/login`);
    await page.getByLabel('Username').fill(DEVELOPER.username);
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.locator('#login-error').innerText(), /Wrong username or password/);
    await page.getByLabel('Password').fill(DEVELOPER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${web}/developer/apps`);
    await page.locator(`a[href="/developer/apps/${appId}"]`).click();
    await page.waitForURL(`${web}/developer/apps/${appId}`);

    // not a positive integer: refused with a message, the typed text echoed escaped
    await page.getByLabel('Tenant ID').fill('<b>12</b>');
    const [bad] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/tenants')),
      page.getByRole('button', { name: 'Add Tenant' }).click(),
    ]);
    assert.equal(bad.status(), 400);
    assert.match(await page.locator('#tenant-error').innerText(), /positive whole number/);
    assert.equal(await page.getByLabel('Tenant ID').inputValue(), '<b>12</b>');
    assert.equal(await page.locator('main b').count(), 0, 'typed markup must be escaped');

    await page.getByLabel('Tenant ID').fill(String(tenantId));
    await page.getByRole('button', { name: 'Add Tenant' }).click();
    await page.waitForURL(`${web}/developer/apps/${appId}`);
    const row = page.locator(`#connections tr[data-tenant-id="${tenantId}"]`);
    assert.match(await row.innerText(), /Not Connected Yet/);
    await shot('01-developer-app');
  });

  test('admin: Connect New App → Allow Access → Generate Client Secret → token → API call', async () => {
    const { appId, tenantId, bookingProviderId } = sim.creds;
    await signIn(ADMIN);
    assert.equal(await page.locator('#tenant-id').innerText(), String(tenantId));
    assert.equal(await page.locator('#permission-message').count(), 0);
    await shot('02-api-application-access');

    await page.getByRole('link', { name: 'Connect New App' }).click();
    await page.waitForURL(`${web}${BASE}/connect`);
    await page.locator(`#app-${appId}`).check();
    await shot('03-connect-new-app');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.waitForURL(/\/connect\/review\?app=/);
    assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /^Connect /);
    assert.match(await page.locator('table.scopes').innerText(), /Customers/);

    // Allow Access without a tag: the booking app needs one
    await page.locator('#booking-provider-tag').evaluate((el) => el.removeAttribute('required'));
    await page.getByRole('button', { name: 'Allow Access' }).click();
    assert.match(await page.locator('#tag-error').innerText(), /booking provider tag/);

    await page.getByLabel('Booking provider tag').selectOption(String(bookingProviderId));
    await shot('04-allow-access');
    await page.getByRole('button', { name: 'Allow Access' }).click();
    await page.waitForURL(`${web}${BASE}/apps/${appId}`);
    assert.equal(await page.locator('#connection-state').innerText(), 'Connected');
    const clientId = await page.getByLabel('Client ID').inputValue();
    assert.match(clientId, /^cid\.[a-z0-9]{25}$/);
    assert.equal(await page.locator('#client-secret').count(), 0);
    await shot('05-application-details');

    await page.getByRole('link', { name: 'Generate Client Secret' }).click();
    assert.match(await page.locator('#secret-warning').innerText(), /only visible once/);
    await shot('06-secret-warning');
    await page.getByRole('button', { name: 'Yes, Continue' }).click();
    await page.waitForURL(`${web}${BASE}/apps/${appId}`);
    const secret = await page.locator('#client-secret').inputValue();
    assert.match(secret, /^cs[12]\.[a-z0-9]+$/);
    await shot('07-secret-shown-once');

    const tok = await tokenStatus(clientId, secret);
    assert.equal(tok.status, 200, tok.text);
    assert.equal(tok.body.token_type, 'Bearer');
    const r = await sim.api('GET', '/settings/business-units', { token: tok.body.access_token, query: { pageSize: 5 } });
    assert.equal(r.status, 200, r.text);
    assert.ok(Array.isArray(r.body.data) && r.body.data.length > 0);

    // shown once: a reload shows it masked, and the page no longer holds it
    await page.reload();
    assert.equal(await page.locator('#client-secret').count(), 0);
    assert.equal(await page.locator('#client-secret-masked').count(), 1);
    assert.ok(!(await page.content()).includes(secret), 'secret still on the page after reload');
    await shot('08-after-reload');

    // regenerating: the new one works, the old one stops at once
    await page.getByRole('link', { name: 'Regenerate Client Secret' }).click();
    assert.match(await page.locator('#secret-warning').innerText(), /stops the current one/);
    await page.getByRole('button', { name: 'Yes, Continue' }).click();
    await page.waitForURL(`${web}${BASE}/apps/${appId}`);
    const secret2 = await page.locator('#client-secret').inputValue();
    assert.notEqual(secret2, secret);
    const old = await tokenStatus(clientId, secret);
    assert.ok(old.status === 400 || old.status === 401, `old secret: ${old.status} ${old.text}`);
    assert.equal(old.body?.error, 'invalid_client');
    assert.equal((await tokenStatus(clientId, secret2)).status, 200);

    // Disable refuses tokens; Enable restores them
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.waitForURL(`${web}${BASE}/apps/${appId}`);
    assert.equal(await page.locator('#connection-state').innerText(), 'Disabled');
    assert.notEqual((await tokenStatus(clientId, secret2)).status, 200);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.waitForURL(`${web}${BASE}/apps/${appId}`);
    assert.equal(await page.locator('#connection-state').innerText(), 'Connected');
    assert.equal((await tokenStatus(clientId, secret2)).status, 200);

    // the list shows it connected; the developer portal too
    await page.goto(`${web}${BASE}`);
    assert.match(await page.locator(`#connected-apps tr[data-app-id="${appId}"]`).innerText(), /Connected/);
    await devSignIn();
    await page.goto(`${web}/developer/apps/${appId}`);
    const row = await page.locator(`#connections tr[data-tenant-id="${tenantId}"]`).innerText();
    assert.match(row, /Connected/);
    assert.ok(row.includes(clientId));
  });

  test('a new app version: Upgrade to New Version lists the new access and grants it', async () => {
    const { appId } = sim.creds;
    const before = await sim.control('GET', '/connections');
    const conn = before.body.connections.find((c) => c.appId === appId && c.tenantId === sim.creds.tenantId);
    assert.ok(conn && !conn.scopes.includes('tn.acc.invoices:r'));
    const apps = await sim.control('PUT', `/apps/${appId}/scopes`, { scopes: [...conn.scopes, 'tn.acc.invoices:r'] });
    assert.equal(apps.status, 200, apps.text);

    await signIn(ADMIN);
    await page.goto(`${web}${BASE}/apps/${appId}`);
    await page.getByRole('link', { name: 'Upgrade to New Version' }).click();
    await page.waitForURL(`${web}${BASE}/apps/${appId}/upgrade`);
    assert.match(await page.locator('table.scopes').first().innerText(), /Invoices/);
    await shot('10-upgrade');
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.waitForURL(`${web}${BASE}/apps/${appId}`);
    assert.equal(await page.locator('#upgrade-available').count(), 0);
    assert.equal(await page.locator('#connection-version').innerText(), String(conn.version + 1));
    const after = await sim.control('GET', '/connections');
    const c2 = after.body.connections.find((c) => c.appId === appId && c.tenantId === sim.creds.tenantId);
    assert.ok(c2.scopes.includes('tn.acc.invoices:r'), 'upgrade grants the new scope');
  });

  test('a form without the CSRF token is refused', async () => {
    const { appId } = sim.creds;
    await signIn(ADMIN);
    const r = await context.request.post(`${web}${BASE}/apps/${appId}/secret`, {
      form: { _csrf: 'x'.repeat(64) },
      maxRedirects: 0,
    });
    assert.equal(r.status(), 403);
    assert.match(await r.text(), /form has expired/);
  });

  test('dispatcher without the permission sees why and cannot act', async () => {
    const { appId } = sim.creds;
    await signIn(DISPATCHER);
    assert.match(await page.locator('#permission-message').innerText(), /Manage API Application Access/);
    assert.match(await page.locator('#permission-message').innerText(), /Role Permissions/);
    assert.ok(await page.getByRole('button', { name: 'Connect New App' }).isDisabled());
    await shot('09-dispatcher');

    await page.goto(`${web}${BASE}/apps/${appId}`);
    assert.ok(await page.getByRole('button', { name: 'Regenerate Client Secret' }).isDisabled());
    assert.ok(await page.getByRole('button', { name: 'Disable' }).isDisabled());

    // a well-formed POST (right CSRF token) is still refused
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const r = await context.request.post(`${web}${BASE}/apps/${appId}/secret`, {
      form: { _csrf: csrf },
      maxRedirects: 0,
    });
    assert.equal(r.status(), 403);
    assert.match(await r.text(), /Manage API Application Access/);
  });

  test('wrong password is refused with a message', async () => {
    await context.clearCookies();
    await page.goto(`${web}/login`);
    await page.getByLabel('Tenant ID').fill(String(sim.creds.tenantId));
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill('nope');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.locator('#login-error').innerText(), /Wrong tenant ID, username or password/);
    await page.goto(`${web}${BASE}`);
    assert.ok(page.url().endsWith('/login'), 'pages need a session');
  });
});
