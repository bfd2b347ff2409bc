// fms.test.mjs — the seed's FMS Configuration flow against stsim, end to end:
// Step 1 (Tenant ID), "Add to ServiceTitan" (the operator's hook adds the
// tenant in stsim's developer portal), Step 2 (Allow Access, through stsim's
// control API), Steps 3–4 (Client ID and Secret, verified before anything is
// saved), and every failure a contractor can meet on the way — each with its
// own message naming the step, and with nothing saved. Then rotation, the
// health check noticing a regenerated secret and a disabled app, recovery,
// and disconnect. Once through the CLI and once through the admin API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { cli, stsimEnv, startServer, tempDir, getJson, assertCleanExit, storedText } from './lib/appointd.mjs';
import { startStsim, stopClean } from './sim/lib/stsim.mjs';

const CLI_TENANT = 5550001;
const API_TENANT = 5550002;
const APP = 'appointd-demo';
const EMPTY_TENANT = 7654321;

let sim;
let scopes; // every scope the demo app asks for

/** The "appointd: …" line a failing command prints. */
function message(r) {
  const m = /^appointd: (.*)$/m.exec(r.stderr);
  return m ? m[1] : '';
}

function stEnv(dataDir) {
  return { APPOINTD_DATA_DIR: dataDir, APPOINTD_LOG_LEVEL: 'warn', ...stsimEnv(sim.creds, APP) };
}

async function control(method, p, body) {
  const r = await sim.control(method, p, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${p} → ${r.status} ${r.text}`);
  return r.body;
}

/** Allow Access (+ a secret) for tenant in stsim, with the given scopes. */
const allow = (tenantId, granted = scopes) => control('POST', '/connections', { tenantId, appId: APP, scopes: granted });
const regenerate = async (tenantId) => (await control('POST', `/connections/${tenantId}/${APP}/secret`)).clientSecret;
const setConn = (tenantId, state) => control('PUT', `/connections/${tenantId}/${APP}/state`, { state });

/** Tenants the developer portal lists on the app's page (signed in as the developer). */
async function portalShows(tenantId) {
  const web = sim.creds.webUrl;
  const cookies = new Map();
  const jar = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (res) => {
    for (const c of res.headers.getSetCookie()) {
      const [kv] = c.split(';');
      const i = kv.indexOf('=');
      cookies.set(kv.slice(0, i), kv.slice(i + 1));
    }
  };
  let res = await fetch(`${web}/developer/login`);
  keep(res);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await res.text())[1];
  res = await fetch(`${web}/developer/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar() },
    body: new URLSearchParams({ _csrf: csrf, username: 'developer', password: 'demo-developer' }),
  });
  keep(res);
  assert.equal(res.status, 303, 'developer sign-in');
  res = await fetch(`${web}/developer/apps/${APP}`, { headers: { cookie: jar() } });
  return (await res.text()).includes(String(tenantId));
}

before(async () => {
  sim = await startStsim({ connect: false });
  await control('POST', '/tenants', { id: CLI_TENANT, name: 'Acme Heating', seed: 'none' });
  await control('POST', '/tenants', { id: API_TENANT, name: 'Beta Plumbing', seed: 'none' });
  // the demo app's scopes: connect the empty tenant with all of them and read them back
  await control('POST', '/connections', { tenantId: EMPTY_TENANT, appId: APP });
  const conn = (await control('GET', '/connections')).connections.find((c) => c.tenantId === EMPTY_TENANT);
  scopes = conn.scopes;
  assert.ok(scopes.includes('tn.jpm.jobs:w') && scopes.includes('tn.dis.zones:r'));
});

after(async () => {
  if (sim) await stopClean(sim, assert);
});

test('CLI: the whole flow, every failure message, nothing saved on failure', async () => {
  const tmp = await tempDir();
  const env = stEnv(tmp.dir);
  const fms = (args, input) => cli(['fms', ...args], { env, input });
  const status = async () => JSON.parse((await fms(['status', 'acme', '--json'])).stdout);
  try {
    assert.equal((await cli(['account', 'create', 'acme'], { env })).code, 0);
    assert.equal((await status()).state, 'none');

    // Step 1
    let r = await fms(['tenant', 'acme', '12ab']);
    assert.equal(r.code, 1);
    assert.match(message(r), /Settings > Integrations > API Application Access.*upper right-hand corner/);
    assert.equal((await status()).state, 'none');
    r = await fms(['tenant', 'acme', String(CLI_TENANT), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).state, 'tenant_set');

    // "Add to ServiceTitan": the hook adds the tenant in the developer portal
    assert.equal(await portalShows(CLI_TENANT), false);
    r = await fms(['add', 'acme']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`${sim.creds.webUrl}/settings/integrations/api-application-access`), r.stdout);
    assert.equal(await portalShows(CLI_TENANT), true);
    let st = await status();
    assert.equal(st.state, 'awaiting_app_access');
    const unchanged = async (what) => assert.deepEqual(await status(), st, `${what} changed the status`);
    const connect = (id, secret) => fms(['connect', 'acme', '--client-id', id, '--client-secret-stdin', '--json'], `${secret}\n`);

    // Steps 3–4 before Step 2: ServiceTitan knows no such client
    r = await connect('cid.notconnectedyet00000000000', 'cs2.madeupsecret000000000000000000000000000000000000000');
    assert.equal(r.code, 1);
    assert.match(message(r), /Connect New App, then Allow Access/);
    assert.equal(JSON.parse(r.stdout).error.step, 4);
    await unchanged('connect before Allow Access');

    // formats: the two values swapped
    r = await connect('cs2.abcdefghijklmnopqrstuvwxyz', 'cid.abcdefghijklmnopqrstuvwxy');
    assert.equal(r.code, 1);
    assert.match(message(r), /wrong way round/);
    assert.equal(JSON.parse(r.stdout).error.step, 3);

    // Step 2 with a required scope withheld
    const withheld = await allow(CLI_TENANT, scopes.filter((s) => s !== 'tn.jpm.jobs:w'));
    const cid = withheld.clientId;

    // a wrong secret: first "the whole secret?", then how to make a new one
    r = await connect(cid, 'cs2.thisisnotthesecret0000000000000000000000000000000000');
    assert.equal(r.code, 1);
    assert.match(message(r), /pasted the whole Client Secret.*Generate new secret.*Step 4/);
    await unchanged('a wrong secret');

    // the Client ID of another tenant
    const other = await allow(EMPTY_TENANT);
    r = await connect(other.clientId, other.clientSecret);
    assert.equal(r.code, 1);
    assert.equal(
      message(r),
      `The Client ID belongs to ServiceTitan tenant ${EMPTY_TENANT}, but Step 1 says ${CLI_TENANT}. Is your Tenant ID ${EMPTY_TENANT}?`,
    );
    assert.deepEqual(
      [JSON.parse(r.stdout).error.step, JSON.parse(r.stdout).error.field, JSON.parse(r.stdout).error.tokenTenantId],
      [1, 'tenantId', EMPTY_TENANT],
    );
    await unchanged('another tenant');

    // the withheld scope is named with what it disables
    r = await connect(cid, withheld.clientSecret);
    assert.equal(r.code, 1);
    assert.match(message(r), /tn\.jpm\.jobs:w \(creating jobs with their appointment \(and job notes\)\)/);
    assert.match(message(r), /Upgrade to New Version/);
    assert.equal(JSON.parse(r.stdout).error.code, 'scopes_missing');
    await unchanged('a withheld scope');

    // Step 2 again, only an optional scope withheld
    const good = await allow(CLI_TENANT, scopes.filter((s) => s !== 'tn.dis.zones:r'));
    assert.equal(good.clientId, cid);

    // ServiceTitan down
    await control('POST', '/faults', { match: '*', kind: 'outage' });
    r = await connect(cid, good.clientSecret);
    await control('DELETE', '/faults');
    assert.equal(r.code, 1);
    assert.match(message(r), /ServiceTitan .*try again in a minute/);
    await unchanged('an outage');

    // a 429 storm
    await control('POST', '/faults', { match: '*', kind: 'status', status: 429, retryAfter: 1 });
    r = await connect(cid, good.clientSecret);
    await control('DELETE', '/faults');
    assert.equal(r.code, 1);
    assert.match(message(r), /limiting .*\(HTTP 429\).*try again in a minute/);
    await unchanged('rate limiting');
    assert.ok(!(await storedText(tmp.dir)).includes(good.clientSecret));

    // success
    r = await connect(cid, good.clientSecret);
    assert.equal(r.code, 0, r.stderr);
    st = JSON.parse(r.stdout);
    assert.equal(st.state, 'connected');
    assert.equal(st.clientId, cid);
    assert.equal(st.clientSecret, `••••${good.clientSecret.slice(-4)}`);
    assert.ok(!r.stdout.includes(good.clientSecret));
    assert.ok(st.grantedScopes.includes('tn.jpm.jobs:w'));
    assert.deepEqual(st.missingScopes.map((m) => m.scope), ['tn.dis.zones:r']);
    assert.ok(st.connectedAt && st.lastSuccessAt);
    r = await fms(['status', 'acme']);
    assert.match(r.stdout, /missing scope: +tn\.dis\.zones:r \(only for: limiting bookings to the ZIP codes/);
    const stored = await storedText(tmp.dir);
    assert.ok(stored.includes(cid), 'the search of the database does not even find the client id');
    assert.ok(!stored.includes(good.clientSecret), 'the secret is stored in clear');

    // a connected account keeps its tenant
    r = await fms(['tenant', 'acme', String(EMPTY_TENANT)]);
    assert.equal(r.code, 1);
    assert.match(message(r), /Disconnect it first/);

    // rotation: a new secret from ServiceTitan, verified, then replaces the old one
    const s2 = await regenerate(CLI_TENANT);
    r = await fms(['rotate', 'acme', '--client-secret-stdin', '--json'], `${good.clientSecret}\n`);
    assert.equal(r.code, 1, 'the old secret no longer works');
    assert.match(message(r), /pasted the whole Client Secret.*Generate new secret.*Step 4/);
    r = await fms(['rotate', 'acme', '--client-secret-stdin', '--json'], `${s2}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).clientSecret, `••••${s2.slice(-4)}`);
    assert.equal((await fms(['check', 'acme'])).code, 0);

    // the secret regenerated in ServiceTitan: the health check notices
    const s3 = await regenerate(CLI_TENANT);
    r = await fms(['check', 'acme']);
    assert.equal(r.code, 1);
    assert.match(message(r), /Generate new secret/);
    st = await status();
    assert.equal(st.state, 'needs_attention');
    assert.match(st.attentionReason, /Step 4/);
    r = await fms(['rotate', 'acme', '--client-secret-stdin'], `${s3}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await status()).state, 'connected');

    // the app disabled in ServiceTitan
    await setConn(CLI_TENANT, 'disabled');
    r = await fms(['check', 'acme']);
    assert.equal(r.code, 1);
    assert.match(message(r), /disabled in ServiceTitan.*click Enable/);
    st = await status();
    assert.equal(st.state, 'needs_attention');
    // network trouble changes nothing
    await control('POST', '/faults', { match: '*', kind: 'outage' });
    r = await fms(['check', 'acme']);
    await control('DELETE', '/faults');
    assert.equal(r.code, 1);
    assert.match(message(r), /could not be reached|try again in a minute/);
    assert.deepEqual(await status(), st);

    // enabled again, with a new secret: rotate → connected
    await setConn(CLI_TENANT, 'connected');
    const s4 = await regenerate(CLI_TENANT);
    r = await fms(['rotate', 'acme', '--client-secret-stdin', '--json'], `${s4}\n`);
    assert.equal(r.code, 0, r.stderr);
    st = JSON.parse(r.stdout);
    assert.equal(st.state, 'connected');
    assert.equal(st.attentionReason, null);

    // disconnect wipes the secret and the client id
    r = await fms(['disconnect', 'acme', '--json']);
    assert.equal(r.code, 0, r.stderr);
    st = JSON.parse(r.stdout);
    assert.equal(st.state, 'tenant_set');
    assert.equal(st.tenantId, CLI_TENANT);
    assert.equal(st.clientId, null);
    assert.equal(st.clientSecret, null);
    const db = await storedText(tmp.dir);
    for (const s of [good.clientSecret, s2, s3, s4]) assert.ok(!db.includes(s), 'a secret is in the database');
    assert.equal((await fms(['check', 'acme'])).code, 1);
  } finally {
    await tmp.cleanup();
  }
});

/** Signs in; returns fetch helpers carrying the cookie and the CSRF token. */
async function signIn(srv, email, password) {
  const res = await fetch(`${srv.url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  const cookie = res.headers.getSetCookie()[0].split(';')[0];
  const call = (method, p, json, { csrf = true } = {}) =>
    getJson(`${srv.url}/api/v1/fms${p}`, {
      method,
      headers: {
        cookie,
        ...(csrf ? { 'x-csrf-token': body.csrfToken } : {}),
        ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: json !== undefined ? JSON.stringify(json) : undefined,
    });
  return call;
}

test('admin API: the flow, its errors with steps, permissions, the health thread', async () => {
  const tmp = await tempDir();
  const env = stEnv(tmp.dir);
  let srv;
  try {
    assert.equal((await cli(['account', 'create', 'beta'], { env })).code, 0);
    const add = (email, role) =>
      cli(['user', 'add', email, '--account', 'beta', '--role', role, '--password-stdin'], {
        env,
        input: 'correct horse battery\n',
      });
    assert.equal((await add('owner@beta.test', 'owner')).code, 0);
    assert.equal((await add('staff@beta.test', 'staff')).code, 0);
    srv = await startServer({ dataDir: tmp.dir, env: { ...env, APPOINTD_LOG_LEVEL: 'info' }, args: ['--health-interval', '5'] });
    const api = await signIn(srv, 'owner@beta.test', 'correct horse battery');
    const staff = await signIn(srv, 'staff@beta.test', 'correct horse battery');

    let r = await api('GET', '');
    assert.equal(r.status, 200);
    assert.equal(r.body.state, 'none');
    // staff without "manage integrations": 403 on every FMS route
    for (const [m, p, b] of [['GET', ''], ['PUT', '/tenant', { tenantId: API_TENANT }], ['POST', '/connect', {}], ['POST', '/disconnect']]) {
      r = await staff(m, p, b);
      assert.equal(r.status, 403, `${m} ${p}`);
    }
    // writes need the CSRF token
    r = await api('PUT', '/tenant', { tenantId: API_TENANT }, { csrf: false });
    assert.equal(r.status, 403);

    r = await api('PUT', '/tenant', { tenantId: '55x' });
    assert.equal(r.status, 400);
    assert.deepEqual([r.body.error.code, r.body.error.field, r.body.error.step], ['invalid_tenant_id', 'tenantId', 1]);
    assert.match(r.body.error.message, /upper right-hand corner/);
    r = await api('PUT', '/tenant', { tenantId: API_TENANT });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.state, 'tenant_set');

    r = await api('POST', '/add-to-servicetitan');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.state, 'awaiting_app_access');
    assert.equal(r.body.appAccessUrl, `${sim.creds.webUrl}/settings/integrations/api-application-access`);
    assert.equal(await portalShows(API_TENANT), true);

    r = await api('POST', '/connect', { clientId: 'cid.abc', clientSecret: '' });
    assert.equal(r.status, 400);
    assert.deepEqual([r.body.error.code, r.body.error.step], ['missing_client_secret', 4]);

    const conn = await allow(API_TENANT);
    r = await api('POST', '/connect', { clientId: conn.clientSecret, clientSecret: conn.clientId });
    assert.equal(r.status, 400);
    assert.deepEqual([r.body.error.code, r.body.error.field, r.body.error.step], ['credentials_swapped', 'clientId', 3]);
    assert.ok(!r.text.includes(conn.clientSecret), 'an error echoes the secret');

    r = await api('POST', '/connect', { clientId: conn.clientId, clientSecret: `${conn.clientSecret}x` });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.step, 4);
    assert.match(r.body.error.message, /pasted the whole Client Secret.*Generate new secret.*Step 4/);

    await control('POST', '/faults', { match: '*', kind: 'outage' });
    r = await api('POST', '/connect', { clientId: conn.clientId, clientSecret: conn.clientSecret });
    await control('DELETE', '/faults');
    assert.equal(r.status, 503);
    assert.equal(r.body.error.code, 'servicetitan_unavailable');
    assert.equal((await api('GET', '')).body.state, 'awaiting_app_access');

    r = await api('POST', '/connect', { clientId: conn.clientId, clientSecret: conn.clientSecret });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.state, 'connected');
    assert.equal(r.body.clientSecret, `••••${conn.clientSecret.slice(-4)}`);
    assert.ok(!r.text.includes(conn.clientSecret));
    assert.deepEqual(r.body.missingScopes, []);

    r = await api('PUT', '/tenant', { tenantId: API_TENANT + 1 });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'disconnect_first');

    const s2 = await regenerate(API_TENANT);
    r = await api('POST', '/rotate-secret', { clientSecret: s2 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.clientSecret, `••••${s2.slice(-4)}`);
    r = await api('POST', '/check');
    assert.equal(r.status, 200);
    assert.equal(r.body.state, 'connected');

    // the health thread (every 5 s here) notices a disabled app, then its recovery
    await setConn(API_TENANT, 'disabled');
    const until = async (state) => {
      for (let i = 0; i < 100; i++) {
        const s = (await api('GET', '')).body;
        if (s.state === state) return s;
        await new Promise((res) => setTimeout(res, 200));
      }
      assert.fail(`never reached ${state}`);
    };
    const st = await until('needs_attention');
    assert.match(st.attentionReason, /disabled/);
    await setConn(API_TENANT, 'connected');
    await until('connected');

    r = await api('POST', '/disconnect');
    assert.equal(r.status, 200);
    assert.equal(r.body.state, 'tenant_set');
    assert.equal(r.body.clientSecret, null);
    assertCleanExit(assert, await srv.stop());
    srv = null;
    const db = await storedText(tmp.dir);
    assert.ok(!db.includes(conn.clientSecret) && !db.includes(s2));
  } finally {
    if (srv) await srv.stop();
    await tmp.cleanup();
  }
});

// contract C1, in the dashboard's order
const C1 = [
  'tn.crm.customers:r', 'tn.crm.customers:w', 'tn.crm.locations:r', 'tn.crm.locations:w',
  'tn.crm.bookings:r', 'tn.crm.bookings:w', 'tn.crm.bookingprovidertags:r', 'tn.jpm.jobs:r',
  'tn.jpm.jobs:w', 'tn.jpm.jobtypes:r', 'tn.settings.businessunits:r', 'tn.dis.capacity:w',
  'tn.dis.arrivalwindows:r', 'tn.marketing.campaigns:r', 'tn.settings.tagtypes:r', 'tn.dis.zones:r',
];

test('admin API: a Client ID of another tenant is caught at Step 1 and corrected in the same connect (C2)', async () => {
  const tmp = await tempDir();
  const env = { ...stEnv(tmp.dir), APPOINTD_ST_ENV_LABEL: 'ServiceTitan emulator (stsim)' };
  const TYPO = 7654312; // Step 1 as mistyped; the Client ID is EMPTY_TENANT's
  let srv;
  try {
    assert.equal((await cli(['account', 'create', 'delta'], { env })).code, 0);
    const u = await cli(['user', 'add', 'o@delta.test', '--account', 'delta', '--role', 'owner', '--password-stdin'], {
      env,
      input: 'correct horse battery\n',
    });
    assert.equal(u.code, 0, u.stderr);
    srv = await startServer({ dataDir: tmp.dir, env: { ...env, APPOINTD_LOG_LEVEL: 'info' } });
    const api = await signIn(srv, 'o@delta.test', 'correct horse battery');

    // the status before a connect: the label, every C1 scope with granted null, no placeholder
    let r = await api('GET', '');
    assert.equal(r.body.environmentLabel, 'ServiceTitan emulator (stsim)');
    assert.deepEqual(r.body.scopes.map((x) => x.scope), C1);
    assert.deepEqual(r.body.scopes.map((x) => x.required), C1.map((_, i) => i < 14));
    for (const x of r.body.scopes) {
      assert.equal(x.granted, null);
      assert.ok(x.feature.length > 10 && !/nothing yet/.test(x.feature), x.feature);
    }
    assert.equal('schedulers' in r.body, false);

    assert.equal((await api('PUT', '/tenant', { tenantId: TYPO })).status, 200);
    const before = (await api('GET', '')).body;
    const conn = await allow(EMPTY_TENANT, C1);
    r = await api('POST', '/connect', { clientId: conn.clientId, clientSecret: conn.clientSecret });
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(r.body, {
      error: {
        code: 'wrong_tenant',
        step: 1,
        field: 'tenantId',
        tokenTenantId: EMPTY_TENANT,
        message: `The Client ID belongs to ServiceTitan tenant ${EMPTY_TENANT}, but Step 1 says ${TYPO}. Is your Tenant ID ${EMPTY_TENANT}?`,
      },
    });
    assert.deepEqual((await api('GET', '')).body, before, 'a refused connect changed the status');

    // a bad correction is Step 1's error, and changes nothing
    r = await api('POST', '/connect', { clientId: conn.clientId, clientSecret: conn.clientSecret, tenantId: '76x' });
    assert.equal(r.status, 400);
    assert.deepEqual([r.body.error.code, r.body.error.step], ['invalid_tenant_id', 1]);
    // "Use 7654321": the same connect with the tenant corrected, saved with the connection
    r = await api('POST', '/connect', { clientId: conn.clientId, clientSecret: conn.clientSecret, tenantId: EMPTY_TENANT });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.state, 'connected');
    assert.equal(r.body.tenantId, EMPTY_TENANT);
    assert.equal(r.body.tenantConfirmed, true);
    assert.deepEqual(r.body.scopes.map((x) => [x.scope, x.granted]), C1.map((x) => [x, true]));
    assertCleanExit(assert, await srv.stop());
    srv = null;
  } finally {
    if (srv) await srv.stop();
    await tmp.cleanup();
  }
});

test('admin API without ServiceTitan set up: 503 naming the setting', async () => {
  const tmp = await tempDir();
  let srv;
  try {
    const env = { APPOINTD_DATA_DIR: tmp.dir, APPOINTD_LOG_LEVEL: 'warn' };
    assert.equal((await cli(['account', 'create', 'gamma'], { env })).code, 0);
    const u = await cli(['user', 'add', 'o@gamma.test', '--account', 'gamma', '--role', 'owner', '--password-stdin'], {
      env,
      input: 'correct horse battery\n',
    });
    assert.equal(u.code, 0, u.stderr);
    srv = await startServer({ dataDir: tmp.dir, env: { ...env, APPOINTD_LOG_LEVEL: 'info' } });
    const api = await signIn(srv, 'o@gamma.test', 'correct horse battery');
    const r = await api('GET', '');
    assert.equal(r.status, 503);
    assert.equal(r.body.error.code, 'servicetitan_not_configured');
    assert.match(r.body.error.message, /APPOINTD_ST_APP_KEY/);
    assertCleanExit(assert, await srv.stop());
    srv = null;
  } finally {
    if (srv) await srv.stop();
    await tmp.cleanup();
  }
});
