// dashboard-routes.test.mjs — what the dashboard's booking screens need from
// the admin API, black-box against stsim: GET /api/v1/fms/health (every role;
// the connection's state, ServiceTitan's web host, the parked and
// needs-attention counts — nothing else), the status's webUrl (st-web-url,
// else the environment's own host), the bookings list's `until` beside
// `since`, and GET /api/v1/schedulers/{key}/config (a scheduler of the
// account; another account's is not found).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertCleanExit, cli, getJson, startServer, stsimEnv, tempDir } from './lib/appointd.mjs';
import { startStsim, stopClean } from './sim/lib/stsim.mjs';

const OWNER = { email: 'owner@acme.test', password: 'owner-password-1' };
const STAFF = { email: 'staff@acme.test', password: 'staff-password-1' };
const OTHER = { email: 'owner@other.test', password: 'other-password-1' };

let sim, data, env, srv, key, catalog, startRead;
const refs = [];

async function ok(args, input = '') {
  const r = await cli(args, { env, input });
  assert.equal(r.code, 0, `appointd ${args.join(' ')} → ${r.code}\n${r.stderr}`);
  return r;
}

/** Signs in; resolves fetch options for that session (cookie, CSRF). */
async function session(base, u) {
  const r = await getJson(`${base}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(u) });
  assert.equal(r.status, 200, r.text);
  return { cookie: r.headers.get('set-cookie').split(';')[0], csrf: r.body.csrfToken };
}

const get = (s, p) => getJson(`${srv.url}/api/v1${p}`, { headers: { cookie: s.cookie } });

async function book(name) {
  const zip = catalog.zones.find((z) => z.active && z.zips.length).zips[0];
  const av = await getJson(`${srv.url}/api/v1/schedulers/${key}/availability?service=svc&zip=${zip}&days=7`);
  assert.equal(av.status, 200, av.text);
  const w = av.body.windows.find((x) => x.available);
  const r = await getJson(`${srv.url}/api/v1/schedulers/${key}/bookings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ service: 'svc', window: { start: w.start, end: w.end }, contact: { name, phone: '214-555-0199' },
      address: { street: '9 Elm St', city: 'Dallas', state: 'TX', zip } }),
  });
  assert.equal(r.status, 201, r.text);
  return r.body.reference;
}

before(async () => {
  sim = await startStsim();
  data = await tempDir();
  env = { APPOINTD_DATA_DIR: data.dir, APPOINTD_LOG_LEVEL: 'warn', ...stsimEnv(sim.creds) };
  await ok(['account', 'create', 'Acme']);
  await ok(['account', 'create', 'Other']);
  await ok(['user', 'add', OWNER.email, '--account', 'Acme', '--role', 'owner', '--password-stdin'], OWNER.password + '\n');
  await ok(['user', 'add', STAFF.email, '--account', 'Acme', '--role', 'staff', '--password-stdin'], STAFF.password + '\n');
  await ok(['user', 'add', OTHER.email, '--account', 'Other', '--role', 'owner', '--password-stdin'], OTHER.password + '\n');
  await ok(['fms', 'tenant', 'Acme', String(sim.creds.tenantId)]);
  await ok(['fms', 'connect', 'Acme', '--client-id', sim.creds.clientId, '--client-secret-stdin'], `${sim.creds.clientSecret}\n`);
  catalog = JSON.parse((await ok(['catalog', 'refresh', 'Acme', '--json'])).stdout);
  const jt = catalog.jobTypes.find((j) => j.active && j.businessUnitIds.length);
  const file = path.join(data.dir, 'sched.json');
  await writeFile(file, JSON.stringify({
    name: 'Main', timeZone: 'America/Chicago', services: [{ id: 'svc', label: jt.name, jobTypeId: jt.id, businessUnitId: jt.businessUnitIds[0] }],
    serviceArea: { zones: 'servicetitan' }, campaignId: catalog.campaigns.find((c) => c.active).id,
  }));
  key = JSON.parse((await ok(['scheduler', 'create', 'Acme', '--config', file, '--json'])).stdout).key;
  const { APPOINTD_LOG_LEVEL: _quiet, ...srvEnv } = env;
  // the server reads every catalog soon after it starts: its job-types read is held a while
  const log = await sim.control('GET', '/requests');
  const since = log.body.requests.at(-1)?.seq ?? 0;
  await sim.control('POST', '/faults', { match: '/jpm/v2/tenant/*/job-types', kind: 'latency', latencyMs: 3000, count: 1 });
  srv = await startServer({ dataDir: data.dir, env: srvEnv });
  startRead = { since };
  refs.push(await book('First Homeowner'));
  await new Promise((r) => setTimeout(r, 5)); // two different creation times
  refs.push(await book('Second Homeowner'));
});

after(async () => {
  if (srv) assertCleanExit(assert, await srv.stop());
  if (sim) await stopClean(sim, assert);
  await data?.cleanup();
});

test('"Refresh from ServiceTitan" while the server\'s own catalog round runs waits its turn and answers', async () => {
  // the round has read the business units and waits on the held job-types read
  for (let i = 0; ; i++) {
    const r = await sim.control('GET', `/requests?since=${startRead.since}`);
    if (r.body.requests.some((x) => x.path.includes('/business-units'))) break;
    assert.ok(i < 300, 'the server\'s catalog round never started');
    await new Promise((res) => setTimeout(res, 100));
  }
  const owner = await session(srv.url, OWNER);
  const r = await getJson(`${srv.url}/api/v1/catalog/refresh`, {
    method: 'POST', headers: { cookie: owner.cookie, 'x-csrf-token': owner.csrf, 'content-type': 'application/json' }, body: '{}',
  });
  assert.equal(r.status, 200, r.text);
  assert.ok(r.body.jobTypes.length > 0);
  assert.equal((await getJson(`${srv.url}/healthz`)).status, 200, 'the server is still up');
});

test('GET /fms/health: any role, the connection and the bookings behind it, nothing more', async () => {
  const staff = await session(srv.url, STAFF);
  assert.equal((await get(staff, '/fms')).status, 403, 'the full status stays with manage_integrations');
  const h = await get(staff, '/fms/health');
  assert.equal(h.status, 200, h.text);
  assert.deepEqual(Object.keys(h.body).sort(), ['attentionReason', 'environmentLabel', 'needsAttentionBookings', 'parkedBookings', 'state', 'webLinks', 'webUrl']);
  assert.equal(h.body.state, 'connected');
  assert.equal(h.body.webUrl, sim.creds.webUrl, 'st-web-url');
  // custom hosts: stsim's record pages
  assert.deepEqual(h.body.webLinks, { job: `${sim.creds.webUrl}/jobs/{id}`, customer: `${sim.creds.webUrl}/customers/{id}` });
  assert.equal(h.body.parkedBookings, 0);
  assert.equal(h.body.needsAttentionBookings, 0);
  assert.equal(h.headers.get('cache-control'), 'no-store');
  assert.equal((await getJson(`${srv.url}/api/v1/fms/health`)).status, 401);
  const owner = await session(srv.url, OWNER);
  assert.equal((await get(owner, '/fms')).body.webUrl, sim.creds.webUrl, 'the full status has it too');
});

test('webUrl and webLinks: the environment\'s own web app unless st-web-url says otherwise', async () => {
  const st = (host) => ({ job: `${host}/#/Job/Index/{id}`, customer: `${host}/#/Customer/{id}`, location: `${host}/#/Location/{id}` });
  for (const [stEnv, want, links] of [['production', 'https://go.servicetitan.com', st('https://go.servicetitan.com')],
    ['integration', 'https://integration.servicetitan.com', st('https://integration.servicetitan.com')], ['custom', null, null]]) {
    const d = await tempDir();
    const e = { APPOINTD_DATA_DIR: d.dir, APPOINTD_ST_ENV: stEnv, APPOINTD_ST_APP_KEY: 'ak1.test-app-key',
      ...(stEnv === 'custom' ? { APPOINTD_ST_AUTH_URL: 'http://127.0.0.1:9', APPOINTD_ST_API_URL: 'http://127.0.0.1:9' } : {}) };
    for (const args of [['account', 'create', 'Acme'], ['user', 'add', OWNER.email, '--account', 'Acme', '--role', 'owner', '--password-stdin']]) {
      const r = await cli(args, { env: { ...e, APPOINTD_LOG_LEVEL: 'warn' }, input: OWNER.password + '\n' });
      assert.equal(r.code, 0, r.stderr);
    }
    const s = await startServer({ dataDir: d.dir, env: e });
    try {
      const me = await session(s.url, OWNER);
      const r = await getJson(`${s.url}/api/v1/fms/health`, { headers: { cookie: me.cookie } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.webUrl, want, stEnv);
      assert.deepEqual(r.body.webLinks, links, stEnv);
      assert.equal(r.body.state, 'none');
    } finally {
      assertCleanExit(assert, await s.stop());
      await d.cleanup();
    }
  }
});

test('bookings: `until` (created before) beside `since`, and a bad one named', async () => {
  const owner = await session(srv.url, OWNER);
  const all = (await get(owner, '/bookings')).body.bookings;
  assert.deepEqual(all.map((b) => b.reference), [refs[1], refs[0]], 'newest first');
  const second = all[0].createdAt;
  assert.ok(all[1].createdAt < second);
  let r = await get(owner, `/bookings?until=${encodeURIComponent(second)}`);
  assert.deepEqual(r.body.bookings.map((b) => b.reference), [refs[0]]);
  assert.equal(r.body.total, 1);
  r = await get(owner, `/bookings?since=${encodeURIComponent(second)}&until=${encodeURIComponent('2200-01-01')}`);
  assert.deepEqual(r.body.bookings.map((b) => b.reference), [refs[1]]);
  r = await get(owner, '/bookings?until=2026-13-01');
  assert.equal(r.status, 400);
  assert.equal(r.body.error.field, 'until');
  r = await get(owner, '/bookings?since=yesterday');
  assert.equal(r.body.error.field, 'since');
});

test('GET /schedulers/{key}/config: the account\'s scheduler; another account\'s is not found', async () => {
  const owner = await session(srv.url, OWNER);
  let r = await get(owner, `/schedulers/${key}/config`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.key, key);
  assert.equal(r.body.config.name, 'Main');
  assert.equal(r.body.bookingsThisWeek, 2);
  const other = await session(srv.url, OTHER);
  r = await get(other, `/schedulers/${key}/config`);
  assert.equal(r.status, 404);
  r = await get(other, `/bookings/${refs[0]}/detail`);
  assert.equal(r.status, 404);
  r = await get(other, '/fms/health');
  assert.equal(r.body.parkedBookings + r.body.needsAttentionBookings, 0);
  assert.equal((await getJson(`${srv.url}/healthz`)).status, 200, 'the server is still up');
});
