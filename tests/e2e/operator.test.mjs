// operator.test.mjs — the operator page's API, GET /api/v1/operator/accounts:
// only a user with the operator flag (`appointd user add … --operator`,
// `appointd user grant-operator`) reads it, everyone else — even an account's
// owner — gets 403; the operator sees every account of the installation by
// connection state: a V1-era import (v1_migration_required, Tenant ID
// unconfirmed), none, tenant_set, awaiting_app_access, connected and
// needs_attention, each reached for real through the CLI against stsim.
// GET /me says who is an operator; revoking takes effect at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cli, stsimEnv, startServer, tempDir, getJson, assertCleanExit } from './lib/appointd.mjs';
import { startStsim, stopClean } from './sim/lib/stsim.mjs';

const APP = 'appointd-demo';
const T = { awaiting: 6660001, connected: 6660002, attention: 6660003, tenantSet: 6660004, v1: 6660005 };
const PW = 'correct horse battery';

let sim;

async function ok(args, opts) {
  const r = await cli(args, opts);
  assert.equal(r.code, 0, `appointd ${args.join(' ')}: ${r.stderr}`);
  return r;
}

function stEnv(dataDir) {
  return { APPOINTD_DATA_DIR: dataDir, APPOINTD_LOG_LEVEL: 'warn', ...stsimEnv(sim.creds, APP) };
}

async function control(method, p, body) {
  const r = await sim.control(method, p, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${p} → ${r.status} ${r.text}`);
  return r.body;
}

async function signIn(srv, email) {
  const res = await fetch(`${srv.url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PW }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  const cookie = res.headers.getSetCookie()[0].split(';')[0];
  return { user: body.user, get: (p) => getJson(`${srv.url}/api/v1${p}`, { headers: { cookie } }) };
}

before(async () => {
  sim = await startStsim({ connect: false });
  for (const [name, id] of Object.entries(T)) await control('POST', '/tenants', { id, name: `Op ${name}`, seed: 'none' });
});

after(async () => {
  if (sim) await stopClean(sim, assert);
});

/** Brings account (created) to state through the CLI, as a contractor's admin would. */
async function reach(env, account, state, tenant) {
  const fms = (args, input) => ok(['fms', ...args], { env, input });
  await ok(['account', 'create', account], { env });
  if (state === 'none') return;
  await fms(['tenant', account, String(tenant)]);
  if (state === 'tenant_set') return;
  await fms(['add', account]);
  if (state === 'awaiting_app_access') return;
  const conn = await control('POST', '/connections', { tenantId: tenant, appId: APP });
  await fms(['connect', account, '--client-id', conn.clientId, '--client-secret-stdin'], `${conn.clientSecret}\n`);
  if (state === 'connected') return;
  await control('POST', `/connections/${tenant}/${APP}/secret`); // regenerated in ServiceTitan
  const r = await cli(['fms', 'check', account], { env });
  assert.equal(r.code, 1, 'the check notices the regenerated secret');
}

test('operator accounts: 403 unless operator; every account by state, V1 import included', async () => {
  const tmp = await tempDir();
  const env = stEnv(tmp.dir);
  let srv;
  try {
    await reach(env, 'Alpha Air', 'none');
    await reach(env, 'Bravo Boilers', 'tenant_set', T.tenantSet);
    await reach(env, 'Charlie Cooling', 'awaiting_app_access', T.awaiting);
    await reach(env, 'Delta Drains', 'connected', T.connected);
    await reach(env, 'Echo Electric', 'needs_attention', T.attention);
    const csv = path.join(tmp.dir, 'v1.csv');
    await writeFile(csv, `account,tenant_id,v1_api_key\nFoxtrot Furnaces,${T.v1},V1-KEY-op-0001\n`);
    await ok(['import-v1', csv], { env });

    const add = (email, role, extra = []) =>
      cli(['user', 'add', email, '--account', 'Alpha Air', '--role', role, '--password-stdin', '--json', ...extra], {
        env,
        input: `${PW}\n`,
      });
    let r = await add('owner@alpha.test', 'owner');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).operator, false);
    r = await add('ops@alpha.test', 'staff', ['--operator']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).operator, true);
    assert.equal((await add('later@alpha.test', 'admin')).code, 0);
    r = await cli(['user', 'grant-operator', 'nobody@alpha.test'], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no user with the email nobody@alpha\.test/);

    srv = await startServer({ dataDir: tmp.dir, env: { ...env, APPOINTD_LOG_LEVEL: 'info' } });
    const owner = await signIn(srv, 'owner@alpha.test');
    const ops = await signIn(srv, 'ops@alpha.test');
    const later = await signIn(srv, 'later@alpha.test');
    assert.equal(owner.user.operator, false);
    assert.equal((await ops.get('/me')).body.user.operator, true);
    assert.equal((await owner.get('/me')).body.user.operator, false);

    r = await getJson(`${srv.url}/api/v1/operator/accounts`);
    assert.equal(r.status, 401);
    r = await owner.get('/operator/accounts');
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'forbidden');
    assert.match(r.body.error.message, /operator/);
    assert.ok(!r.text.includes('Delta Drains'), 'a 403 leaks account names');

    r = await ops.get('/operator/accounts');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.counts, {
      none: 1, tenant_set: 1, awaiting_app_access: 1, connected: 1, needs_attention: 1, v1_migration_required: 1,
    });
    const by = Object.fromEntries(r.body.accounts.map((a) => [a.account, a]));
    assert.deepEqual(Object.keys(by), ['Alpha Air', 'Bravo Boilers', 'Charlie Cooling', 'Delta Drains', 'Echo Electric', 'Foxtrot Furnaces']);
    assert.equal(by['Alpha Air'].state, 'none');
    assert.equal(by['Alpha Air'].tenantId, null);
    assert.equal(by['Bravo Boilers'].state, 'tenant_set');
    assert.equal(by['Charlie Cooling'].state, 'awaiting_app_access');
    assert.equal(by['Charlie Cooling'].tenantId, T.awaiting);
    assert.equal(by['Delta Drains'].state, 'connected');
    assert.ok(by['Delta Drains'].connectedAt, 'connected since');
    assert.equal(by['Echo Electric'].state, 'needs_attention');
    const fox = by['Foxtrot Furnaces'];
    assert.deepEqual([fox.state, fox.tenantId, fox.tenantConfirmed, fox.v1KeyStored], ['v1_migration_required', T.v1, false, true]);
    assert.ok(!r.text.includes('V1-KEY-op-0001'), 'the V1 key is shown');

    // granted and revoked from the CLI: effective at once for a signed-in user
    await ok(['user', 'grant-operator', 'LATER@alpha.test'], { env });
    assert.equal((await later.get('/operator/accounts')).status, 200);
    r = await ok(['user', 'revoke-operator', 'later@alpha.test', '--json'], { env });
    assert.deepEqual(JSON.parse(r.stdout), { result: 'operator_revoked', email: 'later@alpha.test', operator: false });
    assert.equal((await later.get('/operator/accounts')).status, 403);
    assert.equal((await later.get('/me')).body.user.operator, false);
  } finally {
    if (srv) assertCleanExit(assert, await srv.stop());
    await tmp.cleanup();
  }
});
