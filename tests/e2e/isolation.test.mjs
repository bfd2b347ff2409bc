// isolation.test.mjs — the "Isolation" must-show: a user of account
// A never sees or changes account B through the admin API. Every admin route
// that takes an id answers 404 for B's ids; every route run with A's session
// answers only about A (no B tenant id, name, email or client id in any
// answer); staff without "manage integrations" get 403 on every FMS route,
// and 200 once an owner grants it — in their own account only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { cli, SANITIZER_RE, startServer, stsimEnv, tempDir } from './lib/appointd.mjs';
import { startStsim } from './sim/lib/stsim.mjs';

let sim;
let tmp;
let srv;
let dataDir;
let env;

const A = { name: 'Alpha Heating', owner: 'owner@alpha.test', staff: 'staff@alpha.test' };
const B = { name: 'Bravo Plumbing', owner: 'owner@bravo.test', staff: 'staff@bravo.test' };
const PW = 'isolation-test-password-1';

// Every FMS route (fms_routes.c) with a harmless body.
const FMS_ROUTES = [
  ['GET', '/api/v1/fms'],
  ['PUT', '/api/v1/fms/tenant', { tenantId: 1 }],
  ['POST', '/api/v1/fms/add-to-servicetitan'],
  ['POST', '/api/v1/fms/connect', { clientId: 'cid.x', clientSecret: 'cs2.x' }],
  ['POST', '/api/v1/fms/rotate-secret', { clientSecret: 'cs2.x' }],
  ['POST', '/api/v1/fms/disconnect'],
  ['POST', '/api/v1/fms/check'],
];

async function runIn(args, input = '') {
  const r = await cli([...args, '--data-dir', dataDir], { env, input });
  assert.equal(r.code, 0, `appointd ${args.join(' ')} → ${r.code}\n${r.stderr}`);
  return r;
}

function client() {
  let cookie = '';
  let csrf = '';
  const c = {
    async call(method, p, body) {
      const headers = {};
      if (cookie) headers.cookie = cookie;
      if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(srv.url + p, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, body: json, text };
    },
    set(ck, cs) {
      cookie = ck;
      csrf = cs;
    },
  };
  return c;
}

/** Signs in and returns a client holding the session, plus the user's id. */
async function signIn(email) {
  const c = client();
  const res = await fetch(srv.url + '/api/v1/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PW }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `login ${email}: ${text}`);
  const body = JSON.parse(text);
  c.set((res.headers.get('set-cookie') || '').split(';')[0], body.csrfToken);
  const me = await c.call('GET', '/api/v1/me');
  assert.equal(me.status, 200, me.text);
  c.id = me.body.user.id;
  c.accountId = me.body.user.accountId;
  return c;
}

before(async () => {
  sim = await startStsim({ connect: false });
  tmp = await tempDir();
  dataDir = path.join(tmp.dir, 'data');
  const c = sim.creds;
  env = {
    ...stsimEnv(c),
  };
  A.tenant = c.tenantId;
  B.tenant = c.emptyTenantId;
  for (const acct of [A, B]) {
    await runIn(['account', 'create', acct.name]);
    await runIn(['user', 'add', acct.owner, '--account', acct.name, '--role', 'owner', '--password-stdin'], `${PW}\n`);
    await runIn(['user', 'add', acct.staff, '--account', acct.name, '--role', 'staff', '--password-stdin'], `${PW}\n`);
  }
  // B is connected (its client id is one more thing A must never see); A has its tenant saved
  const conn = await sim.control('POST', '/connections', { tenantId: B.tenant, appId: c.appId, noRestriction: true });
  assert.equal(conn.status, 200, conn.text);
  B.clientId = conn.body.clientId;
  await runIn(['fms', 'tenant', B.name, String(B.tenant)]);
  await runIn(['fms', 'add', B.name]);
  await runIn(['fms', 'connect', B.name, '--client-id', B.clientId, '--client-secret-stdin'], `${conn.body.clientSecret}\n`);
  await runIn(['fms', 'tenant', A.name, String(A.tenant)]);
  srv = await startServer({ env, dataDir });
});

after(async () => {
  if (srv) {
    const r = await srv.stop();
    assert.doesNotMatch(r.stderr, SANITIZER_RE);
  }
  if (sim) await sim.stop();
  if (tmp) await tmp.cleanup();
});

/** Nothing of B in text. */
function assertNoB(label, text) {
  for (const v of [B.name, B.owner, B.staff, String(B.tenant), B.clientId, 'bravo']) {
    assert.ok(!text.toLowerCase().includes(v.toLowerCase()), `${label} shows B's ${v}: ${text}`);
  }
}

test("A's owner sees and changes only A's connection", async () => {
  const a = await signIn(A.owner);
  const b = await signIn(B.owner);
  assert.notEqual(a.accountId, b.accountId);

  const mine = await a.call('GET', '/api/v1/fms');
  assert.equal(mine.status, 200, mine.text);
  assert.equal(mine.body.tenantId, A.tenant);
  assert.equal(mine.body.state, 'tenant_set');
  assertNoB('GET /api/v1/fms', mine.text);

  const put = await a.call('PUT', '/api/v1/fms/tenant', { tenantId: 5550001 });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.tenantId, 5550001);
  assertNoB('PUT /api/v1/fms/tenant', put.text);

  // B is untouched
  const theirs = await b.call('GET', '/api/v1/fms');
  assert.equal(theirs.status, 200, theirs.text);
  assert.deepEqual([theirs.body.state, theirs.body.tenantId, theirs.body.clientId], ['connected', B.tenant, B.clientId]);

  // put A's tenant back for the other tests
  assert.equal((await a.call('PUT', '/api/v1/fms/tenant', { tenantId: A.tenant })).status, 200);
});

test("every admin route that takes an id answers 404 for B's ids", async () => {
  const a = await signIn(A.owner);
  const bOwner = await signIn(B.owner);
  const bStaff = await signIn(B.staff);
  const aStaff = await signIn(A.staff);
  // the control: A's own ids are found, so the 404s below mean something
  for (const id of [a.id, aStaff.id]) {
    const r = await a.call('GET', `/api/v1/users/${id}`);
    assert.equal(r.status, 200, r.text);
  }
  for (const id of [bOwner.id, bStaff.id]) {
    const r = await a.call('GET', `/api/v1/users/${id}`);
    assert.equal(r.status, 404, `GET /api/v1/users/${id} (B's) → ${r.status} ${r.text}`);
    assertNoB(`GET /api/v1/users/${id}`, r.text);
  }
});

test("no admin route answers A's session with anything of B", async () => {
  const a = await signIn(A.owner);
  const bOwner = await signIn(B.owner);
  const routes = [
    ['GET', '/api/v1/me'],
    ['GET', '/api/v1/users'],
    ['GET', `/api/v1/users/${a.id}`],
    ['GET', `/api/v1/users/${bOwner.id}`],
    ['GET', '/api/v1/roles'],
    ['PUT', '/api/v1/roles/admin/permissions', { manageIntegrations: true }],
    ...FMS_ROUTES.filter(([, p]) => p !== '/api/v1/fms/disconnect' && p !== '/api/v1/fms/tenant'),
  ];
  for (const [method, p, body] of routes) {
    const r = await a.call(method, p, body);
    assert.ok(r.status < 500 || r.status === 502 || r.status === 503, `${method} ${p} → ${r.status} ${r.text}`);
    assertNoB(`${method} ${p}`, r.text);
  }
  const users = await a.call('GET', '/api/v1/users');
  assert.deepEqual(users.body.users.map((u) => u.email).sort(), [A.owner, A.staff]);
});

test('staff without manage integrations get 403 on every FMS route, 200 once granted', async () => {
  const owner = await signIn(A.owner);
  const staff = await signIn(A.staff);
  const otherStaff = await signIn(B.staff);
  for (const [method, p, body] of FMS_ROUTES) {
    const r = await staff.call(method, p, body);
    assert.equal(r.status, 403, `staff ${method} ${p} → ${r.status} ${r.text}`);
    assert.match(r.text, /manage_integrations/);
  }
  // staff cannot grant it to themselves
  const self = await staff.call('PUT', '/api/v1/roles/staff/permissions', { manageIntegrations: true });
  assert.equal(self.status, 403, self.text);

  const grant = await owner.call('PUT', '/api/v1/roles/staff/permissions', { manageIntegrations: true });
  assert.equal(grant.status, 200, grant.text);
  const now = await staff.call('GET', '/api/v1/fms');
  assert.equal(now.status, 200, now.text);
  assert.equal(now.body.tenantId, A.tenant);
  assertNoB('staff GET /api/v1/fms', now.text);
  // the grant was A's: B's staff are still refused
  const still = await otherStaff.call('GET', '/api/v1/fms');
  assert.equal(still.status, 403, still.text);

  // and revoking takes it away again
  const revoke = await owner.call('PUT', '/api/v1/roles/staff/permissions', { manageIntegrations: false });
  assert.equal(revoke.status, 200, revoke.text);
  assert.equal((await staff.call('GET', '/api/v1/fms')).status, 403);
});

test('without a session every FMS and admin route answers 401', async () => {
  const anon = client();
  for (const [method, p, body] of [...FMS_ROUTES, ['GET', '/api/v1/users'], ['GET', '/api/v1/me']]) {
    const r = await anon.call(method, p, body);
    assert.equal(r.status, 401, `${method} ${p} → ${r.status} ${r.text}`);
  }
});
