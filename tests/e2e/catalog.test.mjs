// catalog.test.mjs — the ServiceTitan catalog kept fresh by appointd itself,
// black-box against stsim: the background refresh (soon after start, then
// every --catalog-refresh-interval, here 10 s instead of the hourly default)
// picks up a job type the office deactivated and one it removed, which stay
// known (active: false, deleted: true); a scheduler then refuses them naming
// the field, and a saved scheduler using one lists the problem. The refresh
// on demand (POST /api/v1/catalog/refresh) needs manage_schedulers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertCleanExit, getJson } from './lib/appointd.mjs';
import { connectAccount, until } from './lib/avail.mjs';
import { login } from './lib/owner.mjs';
import { startStsim, stopClean } from './sim/lib/stsim.mjs';

let sim;
let a;
let srv;
let owner;
let staff;
let started; // stsim's request log sequence when appointd started
let key; // a scheduler saved before the changes, offering the job type that is deactivated
const jt = {}; // deactivated, removed: catalog rows

function api(sess, method, p, body) {
  const headers = { cookie: sess.cookie };
  if (method !== 'GET') headers['x-csrf-token'] = sess.csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return getJson(`${srv.url}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** appointd's reads of ServiceTitan's job types after seq, from stsim's request log. */
async function jobTypeReads(since) {
  const r = await sim.control('GET', `/requests?since=${since}&host=api`);
  return r.body.requests.filter((q) => q.method === 'GET' && q.clientId === sim.creds.demo.clientId &&
    /\/jpm\/v2\/tenant\/\d+\/job-types$/i.test(q.path));
}

before(async () => {
  sim = await startStsim({ args: ['--rate-limit', '0'] });
  a = await connectAccount(sim);
  const usable = a.catalog.jobTypes.filter((j) => j.active && (j.businessUnitIds || []).length);
  [jt.off, jt.gone] = [usable[1], usable[2]];
  const svc = (j) => ({ id: 'svc', label: j.name, jobTypeId: j.id, businessUnitId: j.businessUnitIds[0] });
  key = (await a.scheduler(a.config({ services: [svc(jt.off)] }))).key;
  await a.ok(['user', 'add', 'owner@lonestar.test', '--account', a.account, '--role', 'owner', '--password-stdin'], 'owner-password-1\n');
  await a.ok(['user', 'add', 'staff@lonestar.test', '--account', a.account, '--role', 'staff', '--password-stdin'], 'staff-password-1\n');
  const log = await sim.control('GET', '/requests?host=api');
  started = log.body.requests.at(-1).seq;
  srv = await a.serve(['--catalog-refresh-interval', '10']);
  owner = await login(srv.url, { email: 'owner@lonestar.test', password: 'owner-password-1' });
  staff = await login(srv.url, { email: 'staff@lonestar.test', password: 'staff-password-1' });
});

after(async () => {
  if (srv) assertCleanExit(assert, await srv.stop());
  if (sim) await stopClean(sim, assert);
  await a?.cleanup();
});

const catalog = async () => {
  const r = await api(staff, 'GET', '/api/v1/catalog');
  assert.equal(r.status, 200, r.text);
  return r.body;
};

test('the background refresh picks up what the office changed; deactivated and removed items stay known', async () => {
  const before = (await catalog()).refreshedAt.jobTypes;
  // the first refresh comes soon after start, on its own
  await until(async () => (await catalog()).refreshedAt.jobTypes > before, 'the refresh after start');
  assert.ok((await jobTypeReads(started)).length >= 1, 'appointd read the job types itself');

  // the office deactivates one job type and removes another, in ServiceTitan
  let r = await sim.control('PATCH', `/tenants/${sim.creds.tenantId}/job-types/${jt.off.id}`, { active: false });
  assert.equal(r.status, 200, r.text);
  r = await sim.control('DELETE', `/tenants/${sim.creds.tenantId}/job-types/${jt.gone.id}`);
  assert.equal(r.status, 200, r.text);

  // the next periodic refresh, with nobody asking, sees both; neither is forgotten
  const cat = await until(async () => {
    const c = await catalog();
    return c.jobTypes.find((j) => j.id === jt.gone.id)?.deleted ? c : null;
  }, 'the periodic refresh', 40000, 250);
  assert.deepEqual(cat.errors, {});
  const off = cat.jobTypes.find((j) => j.id === jt.off.id);
  assert.deepEqual([off.name, off.active, off.deleted], [jt.off.name, false, false]);
  const gone = cat.jobTypes.find((j) => j.id === jt.gone.id);
  assert.deepEqual([gone.name, gone.active, gone.deleted], [jt.gone.name, jt.gone.active, true]);
  assert.equal(gone.duration, jt.gone.duration, 'what was known of it is kept');
  assert.ok((await jobTypeReads(started)).length >= 2, 'read again by the timer, nobody asked');

  // a new scheduler cannot use them; the one saved before says what happened
  const svc = (j) => [{ id: 'svc', label: j.name, jobTypeId: j.id, businessUnitId: j.businessUnitIds[0] }];
  r = await api(owner, 'POST', '/api/v1/schedulers', a.config({ services: svc(jt.off) }));
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.error.field, 'services[0].jobTypeId');
  assert.equal(r.body.error.message, `services[0].jobTypeId: job type ${jt.off.id} (${jt.off.name}) is inactive in ServiceTitan`);
  r = await api(owner, 'POST', '/api/v1/schedulers', a.config({ services: svc(jt.gone) }));
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.error.message, `services[0].jobTypeId: job type ${jt.gone.id} (${jt.gone.name}) was deleted in ServiceTitan`);
  const listed = (await api(staff, 'GET', '/api/v1/schedulers')).body.schedulers.find((s) => s.key === key);
  assert.deepEqual(listed.problems, [{
    field: 'services[0].jobTypeId',
    message: `services[0].jobTypeId: job type ${jt.off.id} (${jt.off.name}) is inactive in ServiceTitan`,
  }]);
  const shown = JSON.parse((await a.ok(['scheduler', 'show', key, '--json'])).stdout);
  assert.deepEqual(shown.problems, listed.problems);
  assert.match((await a.ok(['scheduler', 'show', key])).stdout, /! services\[0\]\.jobTypeId: .* is inactive in ServiceTitan/);
});

test('the refresh on demand: manage_schedulers only; a job type active again is usable again', async () => {
  let r = await api(staff, 'POST', '/api/v1/catalog/refresh');
  assert.equal(r.status, 403, r.text);
  r = await sim.control('PATCH', `/tenants/${sim.creds.tenantId}/job-types/${jt.off.id}`, { active: true });
  assert.equal(r.status, 200, r.text);
  r = await api(owner, 'POST', '/api/v1/catalog/refresh');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.jobTypes.find((j) => j.id === jt.off.id).active, true);
  assert.equal(r.body.jobTypes.find((j) => j.id === jt.gone.id).deleted, true, 'still gone');
  const listed = (await api(owner, 'GET', '/api/v1/schedulers')).body.schedulers.find((s) => s.key === key);
  assert.deepEqual(listed.problems, []);
  r = await api(owner, 'POST', '/api/v1/schedulers', a.config({
    name: 'Again', services: [{ id: 'svc', label: 'x', jobTypeId: jt.off.id, businessUnitId: jt.off.businessUnitIds[0] }],
  }));
  assert.equal(r.status, 201, r.text);
});
