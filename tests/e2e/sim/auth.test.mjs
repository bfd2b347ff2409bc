// auth.test.mjs — the auth host and per-request authentication (API-NOTES
// §9 items 1, 2, 14): token shape and lifetime, 401 after expiry, the token
// endpoint's OAuth errors, app key and token checks on the API host, other
// tenants, missing scopes, disabled connections, regenerated secrets, and
// the token request counters and throttle.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStsim, stopClean } from './lib/stsim.mjs';

function expect(r, status) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text.slice(0, 500)}`);
  return r.body;
}

/** Expects an ApiErrorResponse with status in statuses. */
function refused(r, statuses, what) {
  assert.ok(statuses.includes(r.status), `${what}: expected ${statuses.join('/')}, got ${r.status}: ${r.text.slice(0, 300)}`);
  assert.equal(r.body?.status, r.status, `${what}: ApiErrorResponse with the same status`);
}

function jwtPayload(token) {
  const parts = token.split('.');
  assert.equal(parts.length, 3, 'JWT-shaped: header.payload.signature');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

/** A second app with the given scopes, added to the demo tenant and connected; → {appKey, clientId, clientSecret}. */
async function connectApp(sim, id, scopes, granted) {
  const app = expect(await sim.control('POST', '/apps', { id, name: `App ${id}`, scopes }), 200);
  expect(await sim.control('POST', `/apps/${id}/tenants`, { tenantId: sim.creds.tenantId }), 200);
  const body = { tenantId: sim.creds.tenantId, appId: id };
  if (granted) body.scopes = granted;
  const conn = expect(await sim.control('POST', '/connections', body), 200);
  return { appKey: app.appKey, clientId: conn.clientId, clientSecret: conn.clientSecret };
}

describe('auth host: /connect/token', () => {
  let sim;
  before(async () => {
    sim = await startStsim({ args: ['--token-lifetime', '2', '--rate-limit', '0'] });
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
  });

  test('client credentials → a Bearer JWT with tenant (string) and scope (array) claims', async () => {
    const { creds } = sim;
    assert.match(creds.clientId, /^cid\./);
    assert.match(creds.clientSecret, /^cs[12]\./);
    assert.match(creds.appKey, /^ak1\./);
    const r = await sim.tokenRequest({ grant_type: 'client_credentials', client_id: creds.clientId, client_secret: creds.clientSecret });
    const body = expect(r, 200);
    assert.match(r.headers['content-type'], /application\/json/);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 2, '--token-lifetime 2');
    assert.equal(typeof body.scope, 'string');
    const claims = jwtPayload(body.access_token);
    assert.equal(claims.tenant, String(creds.tenantId));
    assert.ok(Array.isArray(claims.scope) && claims.scope.length > 0);
    assert.deepEqual([...claims.scope].sort(), body.scope.split(' ').sort(), 'scope string = scope claim');
    assert.equal(claims.client_id, creds.clientId);
    assert.equal(claims.exp - claims.iat, 2);
  });

  test("the demo app asks for exactly appointd's 16 scopes (contract C1), nothing else", async () => {
    const C1 = [
      'tn.crm.customers:r', 'tn.crm.customers:w', 'tn.crm.locations:r', 'tn.crm.locations:w',
      'tn.crm.bookings:r', 'tn.crm.bookings:w', 'tn.crm.bookingprovidertags:r', 'tn.jpm.jobs:r',
      'tn.jpm.jobs:w', 'tn.jpm.jobtypes:r', 'tn.settings.businessunits:r', 'tn.dis.capacity:w',
      'tn.dis.arrivalwindows:r', 'tn.marketing.campaigns:r', 'tn.settings.tagtypes:r', 'tn.dis.zones:r',
    ];
    const { demo } = sim.creds;
    const r = await sim.tokenRequest({ grant_type: 'client_credentials', client_id: demo.clientId, client_secret: demo.clientSecret });
    const body = expect(r, 200);
    assert.deepEqual(body.scope.split(' '), C1);
    const apps = expect(await sim.control('GET', '/apps'), 200).apps;
    assert.deepEqual(apps.find((a) => a.id === 'appointd-demo').scopes, C1);
    // a call appointd has no business making is refused, naming the scope
    const appts = await sim.api('GET', '/jpm/appointments', { token: body.access_token, appKey: demo.appKey });
    expect(appts, 403);
    assert.match(appts.body.title, /tn\.jpm\.appointments:r/);
    expect(await sim.api('GET', '/dispatch/zones', { token: body.access_token, appKey: demo.appKey }), 200);
  });

  test('the token works, and is refused with 401 once it expired (emulator clock)', async () => {
    const token = await sim.token();
    expect(await sim.api('GET', '/settings/business-units', { token }), 200);
    expect(await sim.control('POST', '/clock', { advanceSeconds: 3 }), 200);
    refused(await sim.api('GET', '/settings/business-units', { token }), [401], 'expired token');
    const fresh = await sim.token();
    expect(await sim.api('GET', '/settings/business-units', { token: fresh }), 200);
  });

  test('unsupported grant type, missing fields, wrong credentials', async () => {
    const { clientId, clientSecret } = sim.creds;
    const grant = await sim.tokenRequest({ grant_type: 'password', client_id: clientId, client_secret: clientSecret });
    assert.equal(grant.status, 400);
    assert.equal(grant.body?.error, 'unsupported_grant_type');
    const missing = await sim.tokenRequest({ grant_type: 'client_credentials', client_id: clientId });
    assert.equal(missing.status, 400);
    assert.equal(missing.body?.error, 'invalid_request');
    const noGrant = await sim.tokenRequest({ client_id: clientId, client_secret: clientSecret });
    assert.equal(noGrant.status, 400);
    assert.equal(noGrant.body?.error, 'invalid_request');
    for (const [id, secret] of [
      [clientId, `${clientSecret}x`],
      ['cid.nosuchclient0000000000000', clientSecret],
    ]) {
      const r = await sim.tokenRequest({ grant_type: 'client_credentials', client_id: id, client_secret: secret });
      assert.ok([400, 401].includes(r.status), `invalid client: ${r.status}`);
      assert.equal(r.body?.error, 'invalid_client');
      assert.equal(r.body?.access_token, undefined);
    }
  });

  test('token counters: requests, issued and rejected are counted', async () => {
    const c0 = expect(await sim.control('GET', '/counters'), 200);
    await sim.token();
    await sim.token();
    await sim.tokenRequest({ grant_type: 'client_credentials', client_id: sim.creds.clientId, client_secret: 'cs2.wrong' });
    const c1 = expect(await sim.control('GET', '/counters'), 200);
    assert.equal(c1.tokenRequests - c0.tokenRequests, 3);
    assert.equal(c1.tokensIssued - c0.tokensIssued, 2);
    assert.equal(c1.tokenRejected - c0.tokenRejected, 1);
  });

  test('token requests are throttled per client when tokenRateLimit is set', async () => {
    expect(await sim.control('PUT', '/config', { tokenRateLimit: 3 }), 200);
    try {
      const rs = [];
      for (let i = 0; i < 6; i++) {
        rs.push(
          await sim.tokenRequest({ grant_type: 'client_credentials', client_id: sim.creds.clientId, client_secret: sim.creds.clientSecret }),
        );
      }
      const ok = rs.filter((r) => r.status === 200).length;
      assert.ok(ok <= 3, `at most 3 tokens a minute, got ${ok}`);
      assert.ok(rs.some((r) => r.status === 429), 'throttled with 429');
    } finally {
      expect(await sim.control('PUT', '/config', { tokenRateLimit: 0 }), 200);
    }
  });
});

describe('api host: per-request authentication', () => {
  let sim;
  before(async () => {
    sim = await startStsim({ args: ['--rate-limit', '0'] });
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
  });

  test('app key: missing or unknown → 401; header or servicetitanapplicationkey query → 200', async () => {
    refused(await sim.api('GET', '/settings/business-units', { appKey: null }), [401], 'no app key');
    refused(await sim.api('GET', '/settings/business-units', { appKey: 'ak1.unknownunknownunknown00' }), [401], 'wrong app key');
    expect(await sim.api('GET', '/settings/business-units'), 200);
    const viaQuery = await sim.api('GET', '/settings/business-units', {
      appKey: null,
      query: { servicetitanapplicationkey: sim.creds.appKey, pageSize: 1 },
    });
    assert.equal(expect(viaQuery, 200).data.length, 1);
  });

  test('token: with or without "Bearer ", missing or garbage', async () => {
    const token = await sim.token();
    expect(await sim.api('GET', '/settings/business-units', { token: null, headers: { Authorization: token } }), 200);
    expect(await sim.api('GET', '/settings/business-units', { token }), 200);
    refused(await sim.api('GET', '/settings/business-units', { token: null }), [401], 'no token');
    refused(await sim.api('GET', '/settings/business-units', { token: 'garbage' }), [401], 'garbage token');
    const [h, p] = token.split('.');
    refused(await sim.api('GET', '/settings/business-units', { token: `${h}.${p}.forged` }), [401], 'bad signature');
  });

  test("another tenant's path with this tenant's token → 401/403", async () => {
    const other = sim.creds.emptyTenantId;
    assert.ok(other, 'credentials name the empty second tenant');
    refused(await sim.api('GET', '/settings/business-units', { tenant: other }), [401, 403], 'other tenant');
    refused(await sim.api('GET', '/crm/customers', { tenant: 999999 }), [401, 403, 404], 'unknown tenant');
  });

  test('a scope the tenant withheld → 403; granted ones work', async () => {
    const app = await connectApp(sim, 'auth-partial', ['tn.crm.customers:r', 'tn.settings.businessunits:r'], [
      'tn.crm.customers:r',
    ]);
    const token = await sim.token(app);
    assert.ok(!jwtPayload(token).scope.includes('tn.settings.businessunits:r'), 'withheld scope not in the token');
    expect(await sim.api('GET', '/crm/customers', { token, appKey: app.appKey, query: { pageSize: 1 } }), 200);
    refused(await sim.api('GET', '/settings/business-units', { token, appKey: app.appKey }), [403], 'withheld scope');
    // The demo app's key with this client's token: the token belongs to another app.
    refused(await sim.api('GET', '/crm/customers', { token }), [401, 403], 'token of another app');
  });

  test('a disabled connection is refused at the token endpoint and on the API', async () => {
    const app = await connectApp(sim, 'auth-disable', ['tn.crm.customers:r']);
    const token = await sim.token(app);
    expect(await sim.api('GET', '/crm/customers', { token, appKey: app.appKey, query: { pageSize: 1 } }), 200);
    const path = `/connections/${sim.creds.tenantId}/auth-disable/state`;
    expect(await sim.control('PUT', path, { state: 'disabled' }), 200);
    const t = await sim.tokenRequest({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret });
    assert.ok([400, 401].includes(t.status), `token refused: ${t.status}`);
    assert.ok(t.body?.error, 'OAuth error body');
    refused(await sim.api('GET', '/crm/customers', { token, appKey: app.appKey }), [401, 403], 'disabled connection');
    const list = expect(await sim.control('GET', '/connections'), 200);
    const row = list.connections.find((c) => c.appId === 'auth-disable');
    assert.equal(row.state, 'disabled');
    assert.ok(!JSON.stringify(list).includes(app.clientSecret), 'the connections list never shows secrets');
    expect(await sim.control('PUT', path, { state: 'connected' }), 200);
    const again = await sim.token(app);
    expect(await sim.api('GET', '/crm/customers', { token: again, appKey: app.appKey, query: { pageSize: 1 } }), 200);
  });

  test('a regenerated secret replaces the old one at once', async () => {
    const app = await connectApp(sim, 'auth-regen', ['tn.crm.customers:r']);
    await sim.token(app);
    const regen = expect(await sim.control('POST', `/connections/${sim.creds.tenantId}/auth-regen/secret`), 200);
    assert.match(regen.clientSecret, /^cs[12]\./);
    assert.notEqual(regen.clientSecret, app.clientSecret);
    const old = await sim.tokenRequest({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret });
    assert.ok([400, 401].includes(old.status));
    assert.equal(old.body?.error, 'invalid_client');
    await sim.token({ clientId: app.clientId, clientSecret: regen.clientSecret });
  });
});
