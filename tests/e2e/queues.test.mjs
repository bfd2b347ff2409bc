// queues.test.mjs — ServiceTitan work runs on a queue that is fair between
// accounts, separate from password hashing, bounded per account, and
// answers every caller within a deadline (issue 8, items 2, 3 and 6):
//   - 40 checks from one admin while ServiceTitan does not answer: another
//     account's user signs in meanwhile; the 40 join one check; all get its
//     one result once ServiceTitan answers;
//   - connect, rotate and "Add" beyond the account's queue: 429 with
//     Retry-After;
//   - ServiceTitan silent past st-deadline: 504 saying so, and nothing saved
//     even when ServiceTitan answers later;
//   - SIGTERM with work queued: the queued callers are answered 503 at once,
//     their jobs never reach ServiceTitan, and the process exits within the
//     grace while ServiceTitan still holds the running call;
//   - 150 checks reuse the cached token: a fresh one at most once a minute.
// ServiceTitan is stsim behind a stand-in (lib/holdproxy.mjs) that holds
// requests until the test releases them: every assertion is about order
// (what happened before what), never about how long anything took. The
// fallback timers only end a failing run instead of hanging it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cli, stsimEnv, startServer, tempDir, getJson, assertCleanExit, SANITIZER_RE } from './lib/appointd.mjs';
import { startHoldProxy } from './lib/holdproxy.mjs';
import { startStsim, stopClean } from './sim/lib/stsim.mjs';

// contract C1: the scopes appointd asks for (the test app asks for exactly these)
const C1 = [
  'tn.crm.customers:r', 'tn.crm.customers:w', 'tn.crm.locations:r', 'tn.crm.locations:w',
  'tn.crm.bookings:r', 'tn.crm.bookings:w', 'tn.crm.bookingprovidertags:r', 'tn.jpm.jobs:r',
  'tn.jpm.jobs:w', 'tn.jpm.jobtypes:r', 'tn.settings.businessunits:r', 'tn.dis.capacity:w',
  'tn.dis.arrivalwindows:r', 'tn.marketing.campaigns:r', 'tn.settings.tagtypes:r', 'tn.dis.zones:r',
];
const APP = 'appointd-queues';
const PASSWORD = 'correct horse battery';
const GIVE_UP_MS = 25000; // a failing run stops waiting after this; a passing one never does

let sim;
let appKey;
let nextTenant = 5570001;

async function control(method, p, body) {
  const r = await sim.control(method, p, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${p} → ${r.status} ${r.text}`);
  return r.body;
}

before(async () => {
  sim = await startStsim({ connect: false, seed: 'none' });
  appKey = (await control('POST', '/apps', { id: APP, name: 'appointd queues test', scopes: C1 })).appKey;
});

after(async () => {
  if (sim) await stopClean(sim, assert);
});

/** Settings pointing appointd at hosts (stsim's, or the stand-in's) with the test app's key. */
function stEnv(dir, hosts = sim.creds) {
  return {
    ...stsimEnv({ ...sim.creds, authUrl: hosts.authUrl, apiUrl: hosts.apiUrl, appKey }),
    APPOINTD_DATA_DIR: dir,
    APPOINTD_LOG_LEVEL: 'info',
  };
}

/**
 * Accounts with an owner each; those listed in `connect` get a tenant of
 * their own in stsim and are connected through the CLI (straight to stsim).
 */
async function accounts(dir, names, { connect = names, awaiting = [] } = {}) {
  const env = stEnv(dir);
  const tenants = {};
  for (const name of names) {
    assert.equal((await cli(['account', 'create', name], { env })).code, 0);
    const u = await cli(['user', 'add', `owner@${name}.test`, '--account', name, '--role', 'owner', '--password-stdin'], {
      env,
      input: `${PASSWORD}\n`,
    });
    assert.equal(u.code, 0, u.stderr);
    if (!connect.includes(name) && !awaiting.includes(name)) continue;
    const tenantId = nextTenant++;
    tenants[name] = tenantId;
    await control('POST', '/tenants', { id: tenantId, name, seed: 'none' });
    assert.equal((await cli(['fms', 'tenant', name, String(tenantId)], { env })).code, 0);
    if (!connect.includes(name)) continue;
    const conn = await control('POST', '/connections', { tenantId, appId: APP });
    const r = await cli(['fms', 'connect', name, '--client-id', conn.clientId, '--client-secret-stdin'], {
      env,
      input: `${conn.clientSecret}\n`,
    });
    assert.equal(r.code, 0, r.stderr);
  }
  return tenants;
}

/** Signs in; resolves { status, call } where call(method, path, body) hits /api/v1/fms…. */
async function signIn(srv, name) {
  const res = await fetch(`${srv.url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `owner@${name}.test`, password: PASSWORD }),
  });
  const body = await res.json();
  if (res.status !== 200) return { status: res.status, body };
  const cookie = res.headers.getSetCookie()[0].split(';')[0];
  const call = (method, p, json) =>
    getJson(`${srv.url}/api/v1/fms${p}`, {
      method,
      headers: {
        cookie,
        'x-csrf-token': body.csrfToken,
        ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: json !== undefined ? JSON.stringify(json) : undefined,
    });
  return { status: 200, call };
}

/** Resolves p's value, or `late` once GIVE_UP_MS passed (only a failing run gets there). */
function orGiveUp(p, late) {
  let timer;
  const t = new Promise((resolve) => (timer = setTimeout(() => resolve(late), GIVE_UP_MS)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Waits until the server's log holds n lines of event (polling its stderr). */
async function logged(srv, event, n) {
  const count = () => srv.stderr().split('\n').filter((l) => l.includes(`event=${event} `)).length;
  return orGiveUp(
    (async () => {
      while (count() < n) await new Promise((r) => setTimeout(r, 20));
      return true;
    })(),
    false,
  ).then((ok) => assert.ok(ok, `${count()} ${event} lines, expected ${n}`));
}

/** A gauge of the server's /metrics. */
async function gauge(srv, name) {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Waits until no ServiceTitan job runs or waits any more. */
async function queueIdle(srv) {
  const ok = await orGiveUp(
    (async () => {
      while ((await gauge(srv, 'appointd_st_jobs_running')) + (await gauge(srv, 'appointd_st_jobs_waiting')) > 0)
        await new Promise((r) => setTimeout(r, 20));
      return true;
    })(),
    false,
  );
  assert.ok(ok, 'the ServiceTitan queue never went idle');
}

test('40 checks from one admin while ServiceTitan is silent: another account signs in meanwhile, the 40 join one check', async () => {
  const tmp = await tempDir();
  const px = await startHoldProxy(sim.creds);
  let srv;
  try {
    const tenants = await accounts(tmp.dir, ['acme', 'beta'], { connect: ['acme'] });
    srv = await startServer({ dataDir: tmp.dir, env: stEnv(tmp.dir, px), args: ['--st-deadline', '300'] });
    const acme = await signIn(srv, 'acme');
    assert.equal(acme.status, 200);

    px.hold();
    let answered = 0;
    const checks = Array.from({ length: 40 }, () =>
      acme.call('POST', '/check').then((r) => {
        answered++;
        return r;
      }),
    );
    await px.waitHeld(1); // the first check is waiting for ServiceTitan

    // another account's user signs in while every check is still unanswered
    const login = await orGiveUp(signIn(srv, 'beta'), null);
    const heldAtLogin = px.held;
    const answeredAtLogin = answered;
    if (!login) px.release();
    assert.ok(login, 'the other account could not sign in while ServiceTitan held the checks');
    assert.equal(login.status, 200);
    assert.equal(answeredAtLogin, 0, 'a check was answered before ServiceTitan answered');
    assert.ok(heldAtLogin >= 1);

    // the same admin's other 39 checks joined the one running: one call waits at ServiceTitan
    await logged(srv, 'fms.joined', 39);
    assert.equal(px.held, 1, 'one check reached ServiceTitan, not 40');
    assert.equal(answered, 0);

    const before = await sim.control('GET', '/requests?host=api');
    const since = before.body.requests.at(-1)?.seq ?? 0;
    px.release();
    const results = await Promise.all(checks);
    for (const r of results) assert.equal(r.status, 200, r.text);
    assert.equal(results[0].body.state, 'connected');
    for (const r of results) assert.equal(r.text, results[0].text, 'every caller got the one result');
    const probes = (await sim.control('GET', `/requests?host=api&since=${since}`)).body.requests.filter((q) =>
      q.path.startsWith(`/crm/v2/tenant/${tenants.acme}/customers`),
    );
    assert.equal(probes.length, 1, 'one check ran for the 40 callers');
    assertCleanExit(assert, await srv.stop());
    srv = null;
  } finally {
    px.release();
    if (srv) await srv.stop();
    await px.close();
    await tmp.cleanup();
  }
});

test('connect and rotate beyond the account\'s queue: 429 with Retry-After; the queued ones then finish', async () => {
  const tmp = await tempDir();
  const px = await startHoldProxy(sim.creds);
  let srv;
  try {
    await accounts(tmp.dir, ['acme']);
    const env = stEnv(tmp.dir, px);
    srv = await startServer({ dataDir: tmp.dir, env, args: ['--st-deadline', '300'] });
    const acme = await signIn(srv, 'acme');
    const secret = (await control('POST', `/connections/${(await acme.call('GET', '')).body.tenantId}/${APP}/secret`)).clientSecret;

    px.hold();
    const first = acme.call('POST', '/rotate-secret', { clientSecret: secret });
    await px.waitHeld(1); // running, waiting for ServiceTitan
    // three more: two wait their turn behind the running one, the third is refused at once
    const more = [0, 1, 2].map(() => acme.call('POST', '/rotate-secret', { clientSecret: secret }));
    const refused = await orGiveUp(Promise.race(more), null);
    if (!refused) px.release();
    assert.ok(refused, 'no rotation was refused');
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.body.error.code, 'too_many_requests');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.match(refused.body.error.message, /Nothing was changed/);
    assert.equal(px.held, 1, 'only the running rotation reached ServiceTitan');
    px.release();
    const statuses = (await Promise.all(more)).map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 429]);
    const r = await first;
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.clientSecret, `••••${secret.slice(-4)}`);
    await queueIdle(srv);
    assertCleanExit(assert, await srv.stop());
    srv = null;
  } finally {
    px.release();
    if (srv) await srv.stop();
    await px.close();
    await tmp.cleanup();
  }
});

test('ServiceTitan silent past st-deadline: 504 naming the seconds, and nothing is saved when it answers later', async () => {
  const tmp = await tempDir();
  const px = await startHoldProxy(sim.creds);
  let srv;
  try {
    const tenants = await accounts(tmp.dir, ['acme', 'gamma'], { connect: ['acme'], awaiting: ['gamma'] });
    srv = await startServer({ dataDir: tmp.dir, env: stEnv(tmp.dir, px), args: ['--st-deadline', '2'] });
    const acme = await signIn(srv, 'acme');
    const gamma = await signIn(srv, 'gamma');
    const acmeBefore = (await acme.call('GET', '')).body;
    const conn = await control('POST', '/connections', { tenantId: tenants.gamma, appId: APP });

    px.hold();
    const [check, connect] = await Promise.all([
      acme.call('POST', '/check'),
      gamma.call('POST', '/connect', { clientId: conn.clientId, clientSecret: conn.clientSecret }),
    ]);
    for (const r of [check, connect]) {
      assert.equal(r.status, 504, r.text);
      assert.equal(r.body.error.code, 'servicetitan_timeout');
      assert.match(r.body.error.message, /ServiceTitan did not answer within 2 seconds\. Nothing was changed/);
    }
    assert.ok(px.held >= 2, 'both were still waiting for ServiceTitan');
    px.release(); // ServiceTitan answers after all: the connect would succeed now
    await queueIdle(srv);
    const gammaAfter = (await gamma.call('GET', '')).body;
    assert.equal(gammaAfter.state, 'tenant_set');
    assert.equal(gammaAfter.clientId, null, 'a connect answered 504 was saved later');
    assert.deepEqual((await acme.call('GET', '')).body, acmeBefore, 'a check answered 504 changed the status');
    assertCleanExit(assert, await srv.stop());
    srv = null;
  } finally {
    px.release();
    if (srv) await srv.stop();
    await px.close();
    await tmp.cleanup();
  }
});

test('SIGTERM with ServiceTitan work queued: queued callers get 503 at once and their jobs never run; exit within the grace', async () => {
  const tmp = await tempDir();
  const px = await startHoldProxy(sim.creds);
  let srv;
  try {
    const tenants = await accounts(tmp.dir, ['acme', 'beta']);
    srv = await startServer({
      dataDir: tmp.dir,
      env: stEnv(tmp.dir, px),
      args: ['--st-workers', '1', '--st-deadline', '300', '--shutdown-grace', '3000'],
    });
    const acme = await signIn(srv, 'acme');
    const beta = await signIn(srv, 'beta');
    px.hold();
    let runningAnswered = false;
    const running = acme.call('POST', '/check').finally(() => (runningAnswered = true));
    await px.waitHeld(1);
    const queued = beta.call('POST', '/check'); // the one worker is busy: it waits
    const waitingOk = await orGiveUp(
      (async () => {
        while ((await gauge(srv, 'appointd_st_jobs_waiting')) < 1) await new Promise((r) => setTimeout(r, 20));
        return true;
      })(),
      false,
    );
    assert.ok(waitingOk, 'the second check never queued');

    srv.proc.kill('SIGTERM');
    const q = await queued;
    // at once: the running check is answered only when the grace runs out
    assert.equal(runningAnswered, false, 'the queued caller waited for the grace like the running one');
    assert.equal(q.status, 503, q.text);
    assert.equal(q.body.error.code, 'shutting_down');
    assert.match(q.body.error.message, /not started\. Nothing was changed/);

    const exit = await orGiveUp(srv.exited(), null);
    const stillHeld = px.held;
    px.release();
    assert.ok(exit, 'appointd was still running after ServiceTitan was released');
    assert.equal(stillHeld, 1, 'appointd exited before ServiceTitan answered its running call');
    assert.equal(exit.code, 0, exit.stderr);
    assert.doesNotMatch(exit.stderr, SANITIZER_RE);
    const r = await running.catch(() => null);
    assert.ok(!r || r.status === 503, `the running check: ${r && r.status}`);
    assert.ok(
      !px.seen.some((s) => s.path.includes(`/tenant/${tenants.beta}/`)),
      'the canceled check reached ServiceTitan',
    );
    assert.equal(px.seen.filter((s) => s.host === 'api').length, 0, 'only the running check\'s token request arrived');
    srv = null;
  } finally {
    px.release();
    if (srv) await srv.stop();
    await px.close();
    await tmp.cleanup();
  }
});

test('150 checks reuse the cached token: a fresh one at most once a minute per account', async () => {
  const tmp = await tempDir();
  let srv;
  try {
    const tenants = await accounts(tmp.dir, ['acme']);
    srv = await startServer({ dataDir: tmp.dir, env: stEnv(tmp.dir) });
    const acme = await signIn(srv, 'acme');
    await control('DELETE', '/requests');
    for (let i = 0; i < 150; i++) {
      const r = await acme.call('POST', '/check');
      assert.equal(r.status, 200, `check ${i}: ${r.text}`);
    }
    const log = (await control('GET', '/requests')).requests;
    const tokens = log.filter((q) => q.host === 'auth');
    const probes = log.filter((q) => q.host === 'api' && q.path.includes(`/tenant/${tenants.acme}/customers`));
    assert.equal(probes.length, 150, 'each check made its read');
    // the first check of this server tests the secret; then one fresh token per minute at most
    assert.ok(tokens.length >= 1, 'the first check did not test the secret');
    for (let i = 1; i < tokens.length; i++) {
      const gap = Date.parse(tokens[i].time) - Date.parse(tokens[i - 1].time);
      assert.ok(gap >= 60000, `two token requests ${gap} ms apart`);
    }
    for (const q of tokens) assert.equal(q.status, 200);
    assertCleanExit(assert, await srv.stop());
    srv = null;
  } finally {
    if (srv) await srv.stop();
    await tmp.cleanup();
  }
});
