// dashboard-csrf.test.mjs — a signed-in dashboard user's browser cannot be
// made to change anything by another origin. The session cookie is HttpOnly
// and SameSite=Strict (and invisible to the page's scripts). A form on a page
// of another origin on the same host (stsim's web host: same site, so a
// Strict cookie IS sent — only the CSRF check stands in the way) posting to
// "Add to ServiceTitan", "Connect" or "Sign out" is refused with 403
// csrf_failed; a form on a data: URL (an opaque origin) is refused too; a
// request with the right cookie and token but a foreign Origin header is 403;
// and after each attempt the FMS status and the session are unchanged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './lib/browser.mjs';
import { apiFms, gotoView, login, startStack } from './lib/dashboard.mjs';

const OWNER = { email: 'owner@acme.test', password: 'owner-password-1', role: 'owner' };
const TENANT = 5550601;

/** An HTML page with one POST form to action; enctype text/plain smuggles a JSON-looking body. */
function formPage(action) {
  return `<!doctype html><html lang="en"><title>Win a prize</title><body>
<form id="f" method="POST" action="${action}" enctype="text/plain">
<input type="hidden" name='{"clientId":"cid.aaaaaaaaaaaaaaaaaaaaaaaaa","clientSecret":"cs2.bbbbbbbbbbbbbbbbbbbb","x":"' value='"}'>
<button id="go" type="submit">Claim</button></form></body></html>`;
}

describe('dashboard: CSRF and the session cookie', () => {
  let st, b, page, context;

  before(async () => {
    st = await startStack({ accounts: [{ name: 'acme', users: [OWNER] }] });
    await st.addTenant(TENANT);
    await st.cli(['fms', 'tenant', 'acme', String(TENANT)]); // tenant_set: "Add" would change the state
    b = await launchBrowser();
    ({ page, context } = b);
    await login(page, st, OWNER);
    await gotoView(page, st, 'fms');
  });

  after(async () => {
    await b?.close();
    if (st) await st.stop(assert);
  });

  /** The browser's session is still valid (GET /me 200). */
  async function stillSignedIn() {
    const r = await context.request.get(`${st.srv.url}/api/v1/me`);
    assert.equal(r.status(), 200, 'the session survives');
  }

  test('the session cookie is HttpOnly, SameSite=Strict and hidden from scripts', async () => {
    const cookies = await context.cookies(st.srv.url);
    const s = cookies.find((c) => c.name === 'appointd_session');
    assert.ok(s, `no appointd_session cookie: ${cookies.map((c) => c.name)}`);
    assert.equal(s.httpOnly, true);
    assert.equal(s.sameSite, 'Strict');
    assert.equal(s.path, '/');
    assert.ok(!(await page.evaluate(() => document.cookie)).includes('appointd_session'));
  });

  test('forms posted from another origin on the same host are refused with 403', async () => {
    const before = JSON.stringify(await apiFms(context, st));
    for (const route of ['/api/v1/fms/add-to-servicetitan', '/api/v1/fms/connect', '/api/v1/logout']) {
      const evil = `${st.web}/prize${route.replace(/\//g, '-')}`;
      const body = formPage(st.srv.url + route);
      await page.route(evil, (r) => r.fulfill({ status: 200, contentType: 'text/html', body }));
      await page.goto(evil);
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.url() === st.srv.url + route),
        page.locator('#go').click(),
      ]);
      assert.equal(res.status(), 403, `${route} from ${st.web}`);
      assert.equal((await res.json()).error.code, 'csrf_failed');
      assert.equal(res.request().headers().origin ?? (await res.request().allHeaders()).origin, st.web);
      await page.unroute(evil);
    }
    assert.equal(JSON.stringify(await apiFms(context, st)), before, 'nothing changed');
    assert.equal(JSON.parse(before).state, 'tenant_set');
    await stillSignedIn();
  });

  test('a form on a data: URL is refused', async () => {
    const before = JSON.stringify(await apiFms(context, st));
    const route = '/api/v1/fms/add-to-servicetitan';
    await page.goto(`data:text/html,${encodeURIComponent(formPage(st.srv.url + route))}`);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url() === st.srv.url + route),
      page.locator('#go').click(),
    ]);
    // an opaque origin is cross-site: the Strict cookie is not even sent (401), or the Origin check refuses it (403)
    assert.ok([401, 403].includes(res.status()), `data: form → ${res.status()}`);
    assert.equal(JSON.stringify(await apiFms(context, st)), before, 'nothing changed');
    await stillSignedIn();
  });

  test('the right cookie and token with a foreign Origin header: 403; the same from the dashboard works', async () => {
    const me = await (await context.request.get(`${st.srv.url}/api/v1/me`)).json();
    const cookie = (await context.cookies(st.srv.url)).find((c) => c.name === 'appointd_session');
    const headers = {
      'content-type': 'application/json',
      cookie: `${cookie.name}=${cookie.value}`,
      'x-csrf-token': me.csrfToken,
    };
    const url = `${st.srv.url}/api/v1/fms/tenant`;
    const body = JSON.stringify({ tenantId: TENANT + 1 });
    const before = JSON.stringify(await apiFms(context, st));

    for (const origin of ['http://evil.example', st.web, 'null']) {
      const r = await fetch(url, { method: 'PUT', headers: { ...headers, origin }, body });
      assert.equal(r.status, 403, `Origin: ${origin}`);
      assert.equal((await r.json()).error.code, 'csrf_failed');
    }
    // no token, a wrong token: 403 too, also from the right origin
    for (const token of [null, 'x'.repeat(me.csrfToken.length)]) {
      const h = { ...headers, origin: st.srv.url };
      if (token) h['x-csrf-token'] = token;
      else delete h['x-csrf-token'];
      const r = await fetch(url, { method: 'PUT', headers: h, body });
      assert.equal(r.status, 403, `token ${token ? 'wrong' : 'missing'}`);
    }
    assert.equal(JSON.stringify(await apiFms(context, st)), before, 'nothing changed');

    // signing in from a foreign origin is refused as well
    const lr = await fetch(`${st.srv.url}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ email: OWNER.email, password: OWNER.password }),
    });
    assert.equal(lr.status, 403);
    assert.equal(lr.headers.get('set-cookie'), null);

    // the control: the very same request from the dashboard's own origin is accepted
    const ok = await fetch(url, { method: 'PUT', headers: { ...headers, origin: st.srv.url }, body });
    assert.equal(ok.status, 200, await ok.text());
    assert.equal((await apiFms(context, st)).tenantId, TENANT + 1);
  });
});
