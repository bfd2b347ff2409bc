// secrets.test.mjs — the "Secrets" must-show. The whole connect flow
// runs against stsim twice — once through the CLI (support staff), once
// through the admin API (a contractor admin), with a secret rotation — and a
// V1-era account is imported and then connected. Afterwards every place a
// secret could leak is searched for every secret: the database files
// (appointd.db, -wal, -shm, raw bytes, while serving and after the stop),
// appointd's stderr (serve and every CLI run, at log level debug), every API
// response body and header, and `appointd config`. None may hold a client
// secret, an access token (nor anything JWT-shaped), a V1 key, the operator's
// app key or a user's password.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cli as runCli, run, SANITIZER_RE, startServer, stsimEnv, storedText, tempDir } from './lib/appointd.mjs';
import { startStsim } from './sim/lib/stsim.mjs';

let sim;
let tmp;
let dataDir;
let env;
const seen = []; // { where, text } of everything appointd said to anyone
const secrets = {}; // name → value that must never be seen

/** `appointd args` with input on stdin; every output is recorded for the search. */
async function runIn(args, input = '') {
  const r = await runCli(args, { env, input });
  seen.push({ where: `appointd ${args[0]} ${args[1] || ''} (stdout)`, text: r.stdout });
  seen.push({ where: `appointd ${args[0]} ${args[1] || ''} (stderr)`, text: r.stderr });
  return r;
}

async function cli(args, input) {
  const r = await runIn([...args, '--data-dir', dataDir], input);
  assert.equal(r.code, 0, `appointd ${args.join(' ')} → ${r.code}\n${r.stderr}`);
  return r;
}

/** An admin API client for one user: cookie + CSRF, every answer recorded. */
function adminClient(srv) {
  let cookie = '';
  let csrf = '';
  async function call(method, p, body) {
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
    const hdrs = [...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
    seen.push({ where: `${method} ${p} → ${res.status}`, text: `${hdrs}\n\n${text}` });
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, body: json, text };
  }
  return {
    call,
    async login(email, password) {
      const r = await call('POST', '/api/v1/login', { email, password });
      assert.equal(r.status, 200, `login ${email}: ${r.status} ${r.text}`);
      const set = r.headers.get('set-cookie') || '';
      cookie = set.split(';')[0];
      csrf = r.body.csrfToken;
      assert.ok(cookie && csrf, `login answered no cookie or CSRF token: ${set} ${r.text}`);
    },
  };
}

before(async () => {
  sim = await startStsim({ connect: false });
  tmp = await tempDir();
  dataDir = path.join(tmp.dir, 'data');
  const c = sim.creds;
  env = {
    ...stsimEnv(c),
    APPOINTD_LOG_LEVEL: 'debug',
  };
  secrets.appKey = c.appKey;
});

after(async () => {
  if (sim) await sim.stop();
  if (tmp) await tmp.cleanup();
});

/** A connection made on stsim's side (Allow Access + Generate Secret) and a token for it. */
async function stsimConnection(tenantId) {
  const r = await sim.control('POST', '/connections', { tenantId, appId: sim.creds.appId, noRestriction: true });
  assert.equal(r.status, 200, r.text);
  const token = await sim.token({ clientId: r.body.clientId, clientSecret: r.body.clientSecret });
  assert.match(token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/, 'stsim tokens are JWT-shaped');
  return { clientId: r.body.clientId, clientSecret: r.body.clientSecret, token };
}

function assertNothingLeaked(label, text) {
  for (const [name, value] of Object.entries(secrets)) {
    assert.ok(!text.includes(value), `${label} holds the ${name}`);
  }
  assert.doesNotMatch(text, /eyJ[\w-]{8,}/, `${label} holds a JWT-looking string`);
}

/** Searches what the database stores; control: a value that is stored in clear (a client id) must be found. */
async function assertDatabaseClean(when, control) {
  const all = await storedText(dataDir);
  for (const [name, value] of Object.entries(secrets)) {
    assert.equal(all.includes(value), false, `the database (${when}) holds the ${name}`);
  }
  assert.equal(all.includes('eyJ'), false, `the database (${when}) holds "eyJ"`);
  assert.ok(all.includes(control), `the search of the database (${when}) does not even find ${control}`);
}

test('no secret reaches the database, the logs, the API or the config output', async () => {
  const { tenantId, emptyTenantId } = sim.creds;
  const v1Key = 'V1KEY-7f3c2a1e-5b4d-4c3b-9a8f-0e1d2c3b4a59';
  secrets.v1Key = v1Key;

  // a V1-era account, imported with its V1 key
  const v1file = path.join(tmp.dir, 'v1.csv');
  await writeFile(v1file, `account,tenant_id,v1_api_key\nCli Heating,${tenantId},${v1Key}\n`);
  await cli(['import-v1', v1file]);

  // the CLI flow (support staff): confirm the tenant, add, connect
  const one = await stsimConnection(tenantId);
  secrets.clientSecret1 = one.clientSecret;
  secrets.accessToken1 = one.token;
  await cli(['fms', 'tenant', 'Cli Heating', String(tenantId)]);
  await cli(['fms', 'add', 'Cli Heating']);
  await cli(['fms', 'connect', 'Cli Heating', '--client-id', one.clientId, '--client-secret-stdin'], `${one.clientSecret}\n`);
  const st = JSON.parse((await cli(['fms', 'status', 'Cli Heating', '--json'])).stdout);
  assert.equal(st.state, 'connected');
  assert.equal(st.clientSecret, `••••${one.clientSecret.slice(-4)}`);
  // V2 connected: the V1 key is gone, and a re-import does not bring it back
  let ms = JSON.parse((await cli(['migration-status', '--json'])).stdout);
  assert.equal(ms.accounts.find((a) => a.account === 'Cli Heating').v1KeyStored, false);
  const again = await runIn(['import-v1', v1file, '--data-dir', dataDir]);
  assert.equal(again.code, 3);
  assert.match(again.stderr, /line 2: account "Cli Heating" is already connected to V2; skipped/);

  // users for the admin API
  const pw1 = 'correct horse battery staple 1';
  const pw2 = 'correct horse battery staple 2';
  secrets.password1 = pw1;
  secrets.password2 = pw2;
  await cli(['user', 'add', 'owner@cli-heating.test', '--account', 'Cli Heating', '--role', 'owner', '--password-stdin'], `${pw1}\n`);
  await cli(['account', 'create', 'Api Plumbing']);
  await cli(['user', 'add', 'owner@api-plumbing.test', '--account', 'Api Plumbing', '--role', 'owner', '--password-stdin'], `${pw2}\n`);

  const srv = await startServer({ env, dataDir });
  let two;
  try {
    // the admin API flow (a contractor admin), Steps 1–4 and a rotation
    two = await stsimConnection(emptyTenantId);
    secrets.clientSecret2 = two.clientSecret;
    secrets.accessToken2 = two.token;
    const api = adminClient(srv);
    await api.login('owner@api-plumbing.test', pw2);
    assert.equal((await api.call('GET', '/api/v1/fms')).status, 200);
    assert.equal((await api.call('PUT', '/api/v1/fms/tenant', { tenantId: emptyTenantId })).status, 200);
    const add = await api.call('POST', '/api/v1/fms/add-to-servicetitan');
    assert.equal(add.status, 200, add.text);
    const conn = await api.call('POST', '/api/v1/fms/connect', { clientId: two.clientId, clientSecret: two.clientSecret });
    assert.equal(conn.status, 200, conn.text);
    assert.equal(conn.body.state, 'connected');

    const regen = await sim.control('POST', `/connections/${emptyTenantId}/${sim.creds.appId}/secret`);
    assert.equal(regen.status, 200, regen.text);
    secrets.clientSecret3 = regen.body.clientSecret;
    secrets.accessToken3 = await sim.token({ clientId: two.clientId, clientSecret: regen.body.clientSecret });
    const rot = await api.call('POST', '/api/v1/fms/rotate-secret', { clientSecret: regen.body.clientSecret });
    assert.equal(rot.status, 200, rot.text);
    assert.equal((await api.call('POST', '/api/v1/fms/check')).status, 200);
    // a wrong secret: refused, and the refusal does not echo it
    secrets.wrongSecret = 'cs2.this-is-not-the-secret-0123456789abcdef';
    const bad = await api.call('POST', '/api/v1/fms/rotate-secret', { clientSecret: secrets.wrongSecret });
    assert.notEqual(bad.status, 200);
    const status = await api.call('GET', '/api/v1/fms');
    assert.equal(status.body.clientSecret, `••••${regen.body.clientSecret.slice(-4)}`);

    // the CLI-connected account's admin sees its status too
    const api1 = adminClient(srv);
    await api1.login('owner@cli-heating.test', pw1);
    assert.equal((await api1.call('GET', '/api/v1/fms')).body.state, 'connected');
    await api1.call('GET', '/api/v1/me');
    await api1.call('POST', '/api/v1/logout');

    await assertDatabaseClean('while serving', two.clientId);
  } finally {
    const r = await srv.stop();
    seen.push({ where: 'appointd serve (stderr)', text: r.stderr });
    seen.push({ where: 'appointd serve (stdout)', text: r.stdout });
    assert.doesNotMatch(r.stderr, SANITIZER_RE);
  }
  await assertDatabaseClean('after the stop', one.clientId);

  // appointd config: the app key is (set), never shown
  const cfg = await runIn(['config', '--data-dir', dataDir]);
  assert.equal(cfg.code, 0, cfg.stderr);
  assert.match(cfg.stdout, /^st-app-key\s*=\s*\(set\)/m);

  ms = JSON.parse((await cli(['migration-status', '--json'])).stdout);
  assert.deepEqual(ms.accounts.map((a) => [a.account, a.state]), [
    ['Api Plumbing', 'connected'],
    ['Cli Heating', 'connected'],
  ]);

  assert.ok(seen.length > 20, 'the flow recorded what appointd said');
  assert.ok(seen.some((s) => s.where.startsWith('appointd serve') && s.text.includes('fms.')),
    'the server log has FMS events (so the search covers them)');
  // control: the search sees real answers (client ids are shown, secrets never)
  assert.ok(seen.some((s) => s.text.includes(one.clientId)), 'no output showed the first client id');
  assert.ok(seen.some((s) => s.where.startsWith('GET /api/v1/fms') && s.text.includes(two.clientId)));
  for (const s of seen) assertNothingLeaked(s.where, s.text);
});

test('appointd config prints (set) for the app key and never the key', async () => {
  const key = 'ak1.config-test-key-5e6f7a8b9c0d';
  const r = await run(['config'], { env: { APPOINTD_ST_APP_KEY: key } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^st-app-key\s*=\s*\(set\)/m);
  assert.ok(!r.stdout.includes(key) && !r.stderr.includes(key), 'appointd config shows the app key');
  const flag = await run(['config', '--st-app-key', key]);
  assert.equal(flag.code, 0, flag.stderr);
  assert.ok(!flag.stdout.includes(key) && !flag.stderr.includes(key), 'config shows a flag-given key');
});
