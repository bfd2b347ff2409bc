// dashboard-flow.test.mjs — the seed's flow in a real browser, as a
// contractor admin does it: sign in to the dashboard → Settings → Integrations
// → FMS Configuration → type the Tenant ID → "Add to ServiceTitan" opens
// ServiceTitan's API Application Access page (stsim) in a new tab → sign in
// there → Connect New App → the app → Allow Access → Generate Client Secret →
// "Yes, Continue" → copy the Client ID and the secret off that page → back in
// the dashboard tab paste both → "Connect to ServiceTitan" → the confirmation
// is on screen, the status panel says connected, and stsim's request log
// shows appointd verifying the credentials (a token request, the probe reads).
// Then sign out. Screenshots go to $SCREENSHOT_DIR/dashboard/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchBrowser, shotDir } from './lib/browser.mjs';
import { apiFms, login, startStack, stsimAllowAccess, stsimGenerateSecret, textOf, waitText } from './lib/dashboard.mjs';

const OWNER = { email: 'owner@lonestar.test', password: 'owner-password-1', role: 'owner' };

describe('dashboard: the seed flow in a browser, then rotate, disconnect, sign out', () => {
  let st, b, page, context, SHOTS, stTab;
  const shot = (p, name) => p.screenshot({ path: path.join(SHOTS, `flow-${name}.png`), fullPage: true });

  before(async () => {
    SHOTS = await shotDir('dashboard');
    st = await startStack({ accounts: [{ name: 'lonestar', users: [OWNER] }] });
    b = await launchBrowser({ viewport: { width: 1280, height: 800 } });
    ({ page, context } = b);
  });

  after(async () => {
    await b?.close();
    if (st) await st.stop(assert);
  });

  test('Settings → Integrations → FMS Configuration → Add to ServiceTitan → connected', async () => {
    const { tenantId } = st.sim.creds;
    await login(page, st, OWNER);
    await shot(page, '01-signed-in');

    // the seed's path: Settings (gear) > Integrations > FMS Configuration
    await page.locator('#nav-settings').click();
    await page.locator('#nav-integrations').click();
    await page.locator('#nav-fms').click();
    await page.locator('section#fms').waitFor();
    assert.equal((await page.locator('section#fms h1').innerText()).trim(), 'FMS Configuration');
    assert.match(await page.title(), /FMS Configuration/);
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1', 'focus on the view heading');
    assert.equal((await apiFms(context, st)).state, 'none');
    // the seed's words, on the elements the user acts on
    for (const [id, name] of [
      ['nav-settings', 'Settings'],
      ['nav-integrations', 'Integrations'],
      ['nav-fms', 'FMS Configuration'],
      ['nav-users', 'Users & permissions'],
    ]) {
      assert.equal(await page.locator('nav#settings-nav').getByRole('link', { name, exact: true }).getAttribute('id'), id);
    }
    assert.ok(await page.locator('#nav-operator').isHidden(), 'Operator is only for operators');
    assert.equal(await page.getByRole('button', { name: 'Add to ServiceTitan' }).getAttribute('id'), 'add-to-servicetitan');
    assert.equal(await page.getByRole('button', { name: 'Connect to ServiceTitan' }).getAttribute('id'), 'connect');
    assert.equal(await page.getByLabel('Client ID', { exact: true }).getAttribute('id'), 'client-id');
    assert.equal(await page.getByLabel('Client Secret', { exact: true }).getAttribute('id'), 'client-secret');
    const steps = [
      'Step 1: Add your ServiceTitan Tenant ID',
      'Step 2: Connect the app in ServiceTitan',
      'Step 3: Client ID',
      'Step 4: Client Secret',
    ];
    for (const [i, name] of steps.entries()) {
      const h2 = page.locator(`section#step-${i + 1}`).getByRole('heading', { level: 2, name });
      assert.equal(await h2.count(), 1, `section#step-${i + 1} has the heading "${name}"`);
    }
    const step2 = await page.locator('section#step-2').innerText();
    for (const words of ['Connect New App', 'Allow Access']) assert.ok(step2.includes(words), `Step 2 says ${words}`);
    assert.equal(await page.locator('#step-2-state').getAttribute('aria-live'), 'polite');
    assert.ok((await waitText(page, '#tenant-hint')).length > 0, 'Step 1 says where ServiceTitan shows the Tenant ID');
    assert.ok(await page.locator('#v1-banner').isHidden(), 'no V1 banner for a new account');
    assert.equal(await page.locator('#tenant-id').getAttribute('inputmode'), 'numeric');
    assert.equal(await page.locator('#client-secret').getAttribute('type'), 'password');
    assert.match(await page.locator('#secret-warning').innerText(), /once/i);
    await shot(page, '02-fms-empty');

    // Step 1 → Add to ServiceTitan: a new tab on ServiceTitan's API Application Access
    await page.locator('#tenant-id').fill(String(tenantId));
    const [st2] = await Promise.all([context.waitForEvent('page'), page.locator('#add-to-servicetitan').click()]);
    await st2.waitForLoadState();
    assert.ok(st2.url().startsWith(st.web), `new tab on stsim's pages: ${st2.url()}`);
    const fms1 = await apiFms(context, st);
    assert.equal(fms1.state, 'awaiting_app_access');
    assert.equal(fms1.tenantId, tenantId);
    await page.waitForFunction(() => document.querySelector('#add-to-servicetitan')?.disabled === false);
    for (const sel of ['#fms-error', '#step-1-error', '#step-2-error']) {
      assert.equal(await textOf(page, sel), '', `${sel} after Add`);
    }
    assert.match(await waitText(page, '#step-2-state'), /\S/);
    await shot(page, '03-awaiting-app-access');

    // ServiceTitan's side: Connect New App → Allow Access → Generate Client Secret
    const clientId = await stsimAllowAccess(st2, st);
    const secret = await stsimGenerateSecret(st2, st);
    assert.match(clientId, /^cid\./);
    assert.match(secret, /^cs2\./);

    // back in the dashboard: paste both, Connect to ServiceTitan
    await page.bringToFront();
    await page.locator('#client-id').fill(clientId);
    await page.locator('#client-secret').fill(secret);
    const mark = (await st.control('GET', '/requests')).requests.at(-1)?.seq ?? 0;
    await page.locator('#connect').click();
    const confirmation = await waitText(page, '#fms-confirmation', 30000);
    assert.match(confirmation, /You are now connected to ServiceTitan/);
    assert.equal(await page.locator('#fms-confirmation').getAttribute('role'), 'status');
    assert.match(await waitText(page, '#status-state'), /connected/i);
    assert.doesNotMatch(await page.locator('#status-state').innerText(), /not connected|disconnected/i);
    assert.match(await page.locator('#status-client-id').innerText(), new RegExp(clientId.replace('.', '\\.')));
    const masked = await page.locator('#status-secret').innerText();
    assert.ok(!masked.includes(secret) && masked.includes(secret.slice(-4)), `masked secret: ${masked}`);
    assert.equal(await page.locator('#client-secret').inputValue(), '', 'the secret field is emptied');
    assert.ok(!(await page.content()).includes(secret), 'the secret is not left in the page');
    assert.match(await page.locator('#status-tenant').innerText(), new RegExp(String(tenantId)));
    await shot(page, '04-connected');

    const fms2 = await apiFms(context, st);
    assert.equal(fms2.state, 'connected');
    assert.equal(fms2.clientId, clientId);

    // stsim saw appointd verify the credentials: a token, then the probe reads
    const log = (await st.control('GET', `/requests?since=${mark}`)).requests;
    const tokens = log.filter((r) => r.host === 'auth' && r.method === 'POST' && r.clientId === clientId);
    assert.ok(tokens.length >= 1 && tokens.every((r) => r.status === 200), 'a token request with the pasted Client ID');
    const reads = log.filter((r) => r.host === 'api' && r.method === 'GET' && r.clientId === clientId);
    assert.ok(reads.length >= 5, `probe reads: ${reads.length}`);
    // minimal reads of this tenant (pageSize=1 where the route pages; some, like arrival windows, do not)
    const odd = reads.filter((r) => String(r.tenant) !== String(tenantId) || r.status !== 200);
    assert.deepEqual(odd, [], 'every probe read is of this tenant and succeeded');
    assert.ok(reads.filter((r) => /(^|&)pageSize=1(&|$)/.test(r.query || '')).length >= 5, 'paged reads ask for one row');
    assert.ok(
      reads.some((r) => /\/crm\/v2\/tenant\/\d+\/customers/.test(r.path)),
      'the customers read is among them',
    );
    assert.ok(!JSON.stringify(log).includes(secret), 'the secret is masked in the log');

    // after a reload the panel still says connected, the secret field stays empty
    await page.reload();
    assert.match(await waitText(page, '#status-state'), /connected/i);
    if (await page.locator('#client-secret').count()) {
      assert.equal(await page.locator('#client-secret').inputValue(), '', 'never filled from the API');
    }
    stTab = st2;
  });

  test('Rotate secret: a wrong one is refused and the old stays; a new one from ServiceTitan replaces it', async () => {
    const before = await apiFms(context, st);
    await page.locator('#rotate-secret').fill('cs2.' + 'q'.repeat(50));
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    assert.match(await waitText(page, '#rotate-error', 30000), /Client Secret/);
    assert.equal(await page.locator('#rotate-error').getAttribute('role'), 'alert');
    assert.equal(JSON.stringify(await apiFms(context, st)), JSON.stringify(before), 'nothing saved');

    await stTab.bringToFront();
    const fresh = await stsimGenerateSecret(stTab, st);
    await page.bringToFront();
    await page.locator('#rotate-secret').fill(fresh);
    await page.locator('#rotate').click();
    await page.waitForFunction(
      (last4) => (document.querySelector('#status-secret')?.innerText || '').includes(last4),
      fresh.slice(-4),
      { timeout: 30000 },
    );
    assert.equal(await textOf(page, '#rotate-error'), '');
    assert.equal(await page.locator('#rotate-secret').inputValue(), '', 'the field is emptied');
    const after = await apiFms(context, st);
    assert.equal(after.state, 'connected');
    assert.ok(after.clientSecret.endsWith(fresh.slice(-4)));
    await shot(page, '05-rotated');
  });

  test('Disconnect asks first, then keeps the Tenant ID and offers Steps 3–4 again', async () => {
    await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
    await page.locator('#disconnect-confirm').waitFor({ state: 'visible' });
    assert.equal((await apiFms(context, st)).state, 'connected');
    await shot(page, '06-disconnect-confirm');
    await page.locator('#disconnect-confirm').click();
    await page.locator('#client-id').waitFor({ state: 'visible', timeout: 30000 });
    const s = await apiFms(context, st);
    assert.equal(s.state, 'tenant_set');
    assert.equal(s.tenantId, st.sim.creds.tenantId);
    assert.equal(s.clientId, null);
    assert.doesNotMatch(await textOf(page, '#status-state'), /^connected$/i);
    assert.equal(await page.locator('#tenant-id').inputValue(), String(st.sim.creds.tenantId));
    await stTab.close();
  });

  test('Sign out ends the session', async () => {
    await page.locator('#logout').click();
    await page.locator('#login-form').waitFor();
    const r = await context.request.get(`${st.srv.url}/api/v1/fms`);
    assert.equal(r.status(), 401);
    await page.goto(`${st.admin}#/settings/integrations/fms`);
    await page.locator('#login-form').waitFor();
  });

  test('Forgot password? says to ask your administrator, with no command line', async () => {
    await page.goto(`${st.admin}#/login`);
    assert.ok(await page.locator('#forgot-help').isHidden(), 'closed until asked');
    await page.locator('#forgot-link').click();
    assert.equal(await page.locator('#forgot-link').getAttribute('aria-expanded'), 'true');
    const help = await waitText(page, '#forgot-help');
    assert.match(help, /ask your administrator/i);
    assert.doesNotMatch(help, /appointd (user|reset)|reset-password|operator|\$ |sudo/i, `no shell for a contractor: ${help}`);
    assert.equal(await page.locator('#forgot-help code, #forgot-help pre').count(), 0);
  });

  test('a wrong password shows #login-error and keeps the user out', async () => {
    await page.goto(`${st.admin}#/login`);
    await page.locator('#email').fill(OWNER.email);
    await page.locator('#password').fill('not-the-password');
    await page.locator('#login-submit').click();
    assert.match(await waitText(page, '#login-error'), /wrong email or password/i);
    assert.equal(await page.locator('#login-error').getAttribute('role'), 'alert');
    assert.ok(await page.locator('#signed-in-as').isHidden());
  });
});
