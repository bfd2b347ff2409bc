// cluster.test.mjs — three `appointd serve` on one PostgreSQL database behind
// nginx (round robin), as an operator scales out: 500 bookings for five
// tenants through the public API while one instance is killed (-9) in the
// middle of its pushes and another one is restarted. What must hold, read in
// stsim's data and request log, never in appointd's own state:
//   - every accepted booking is in ServiceTitan exactly once (one job each);
//   - no tenant ever had more API requests in one second than stsim's limit
//     (ServiceTitan's 60/s), and none was refused with 429;
//   - tokens: at most one per tenant per token lifetime, plus one per
//     instance start, although three instances push for every tenant;
//   - the background jobs' leader is one instance at a time, and another
//     takes over when the leader is killed.
// And two instances share what a user meets on either: a session, the login
// throttle (guesses spread over both count together), an Idempotency-Key
// posted to both at once (one booking), a window with room for one booking
// asked for on both at once (one gets it).
// It runs in the PostgreSQL pass of `make check` (the instances share the
// pass's database schema of its data dir).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { getJson, startServer, ON_POSTGRES, SANITIZER_RE } from './lib/appointd.mjs';
import { login } from './lib/client.mjs';
import { bookingRig, pool, until } from './lib/bookings.mjs';
import { NGINX, startNginx } from './lib/nginx.mjs';

const CI = process.env.CI === 'true';
const TENANTS = 5;
const BOOKINGS = Number(process.env.CLUSTER_BOOKINGS || 500);
const SKIP = !ON_POSTGRES
  ? 'runs in the PostgreSQL pass (APPOINTD_TEST_DATABASE=postgres)'
  : !NGINX && !CI && 'no nginx here (scripts/deps installs nginx-light)';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every entry of stsim's request log on host after seq (it pages by sequence number). */
async function requestLog(rig, host, since) {
  const all = [];
  for (let s = since; ;) {
    const r = await rig.sim.control('GET', `/requests?since=${s}&host=${host}`);
    assert.equal(r.status, 200, r.text);
    const got = r.body.requests.filter((q) => q.seq > s);
    if (!got.length) return all;
    all.push(...got);
    s = got[got.length - 1].seq;
  }
}

const metric = (text, name) => Number((new RegExp(`^${name} (\\S+)`, 'm').exec(text) || [])[1] || 0);

test('three instances on one PostgreSQL behind nginx: 500 bookings, one killed mid-push, one restarted — each booking in ServiceTitan once, the rate limit and one token per tenant held', { skip: SKIP }, async () => {
  assert.ok(NGINX, 'nginx is needed (CI=true: a missing nginx fails this test)');
  const rig = await bookingRig({
    simArgs: [], // ServiceTitan's own limits: 60 requests/s per (app, tenant), tokens throttled
    scheduler: { capacity: { mode: 'local', perWindow: 1000 } },
    serve: false,
  });
  const servers = [];
  let nginx;
  try {
    // four more tenants, each with its account, connection, catalog and scheduler
    const tenants = await rig.addTenants(TENANTS - 1, 3100000);
    const authMark = (await requestLog(rig, 'auth', 0)).reduce((m, q) => Math.max(m, q.seq), 0);
    const apiMark = (await requestLog(rig, 'api', 0)).reduce((m, q) => Math.max(m, q.seq), 0);

    // three instances on the rig's database, short leases so the killed one's bookings go on soon
    const args = ['--booking-rate', '100000', '--public-rate', '100000', '--scheduler-rate', '1000000',
      '--push-lease', '8', '--push-backoff-max', '2', '--push-per-account', '16', '--threads', '1'];
    const start = async (extra = []) => {
      const env = process.env.CLUSTER_DUMP ? { ...rig.env, APPOINTD_LOG_LEVEL: 'debug' } : rig.env;
      const s = await startServer({ dataDir: rig.data.dir, env, args: [...args, ...extra] });
      servers.push(s);
      return s;
    };
    let starts = 0;
    const [a, b, c] = [await start(), await start(), await start()];
    starts += 3;
    nginx = await startNginx(path.join(rig.data.dir, 'nginx'), [a.port, b.port, c.port]);

    // the windows of each scheduler, through nginx
    const wins = [];
    for (const t of tenants) {
      const q = new URLSearchParams({ service: 'ac-repair', zip: '75201', days: '7' });
      const r = await fetch(`${nginx.url}/api/v1/schedulers/${t.key}/availability?${q}`);
      assert.equal(r.status, 200);
      wins.push((await r.json()).windows.filter((w) => w.available));
    }

    // 500 bookings, each retried with its Idempotency-Key until it is accepted (an instance
    // killed with the request in flight answers nothing: nginx says 502)
    const accepted = new Map(); // reference → tenant index
    let sent = 0, retried = 0;
    const book = async (i) => {
      const ti = i % TENANTS;
      const t = tenants[ti];
      const body = rig.body(wins[ti][i % wins[ti].length], {
        contact: { name: `Cluster Homeowner ${i}`, phone: `469-710-${String(i).padStart(4, "0")}`, email: `c${i}@example.com` },
        address: { street: `${i} Cluster Ave`, city: 'Dallas', state: 'TX', zip: '75201' },
      });
      for (let tries = 0; ; tries++) {
        assert.ok(tries < 200, `booking ${i} never accepted`);
        const r = await fetch(`${nginx.url}/api/v1/schedulers/${t.key}/bookings`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: 'https://lonestarcomfort.example', 'idempotency-key': `cluster-${i}` },
          body: JSON.stringify(body),
        }).catch(() => null);
        if (r && (r.status === 201 || r.status === 200)) {
          accepted.set((await r.json()).reference, ti);
          sent++;
          return;
        }
        if (r) await r.text();
        retried++;
        await sleep(100);
      }
    };
    const burst = pool(16, Array.from({ length: BOOKINGS }, (_, i) => () => book(i)));

    // mid-push: kill -9 the instance that is pushing, once it has started pushes
    await until(() => a.stderr().includes('event=push.start'), { capMs: 60000, what: 'a push on instance a' });
    a.proc.kill('SIGKILL');
    await a.exited();
    // later in the burst: restart another one in place (same port: nginx keeps its list)
    await until(() => sent >= BOOKINGS / 2, { capMs: 120000, what: 'half the bookings accepted' });
    const r = await b.stop();
    assert.doesNotMatch(r.stderr, SANITIZER_RE);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const b2 = await start(['--listen', `127.0.0.1:${b.port}`]);
    starts++;
    await burst;
    assert.equal(accepted.size, BOOKINGS, 'every booking accepted once, whatever instance took it');

    // every booking pushed: no booking left accepted, pushing or parked (read from a live instance)
    await until(async () => {
      const m = await (await fetch(`${c.url}/metrics`)).text();
      const left = ['accepted', 'pushing', 'parked']
        .map((s) => metric(m, `appointd_bookings\\{state="${s}"\\}`)).reduce((x, y) => x + y, 0);
      if (process.env.CLUSTER_DUMP) console.log(`# left ${left}`);
      return left === 0;
    }, { capMs: 240000, everyMs: 500, what: 'every booking pushed' });
    const m = await (await fetch(`${c.url}/metrics`)).text();
    assert.equal(metric(m, 'appointd_bookings\\{state="needs_attention"\\}'), 0, 'bookings that need attention');
    assert.equal(metric(m, 'appointd_bookings\\{state="booked"\\}'), BOOKINGS);

    // the killed instance held bookings in the middle of their push: others took them over
    const resumed = [b, b2, c].map((s) => (s.stderr().match(/event=push\.start .*resume=1/g) || []).length)
      .reduce((x, y) => x + y, 0);
    assert.ok(resumed >= 1, 'no booking of the killed instance was taken over');

    // in stsim's data: each reference on exactly one job of its tenant
    for (let ti = 0; ti < TENANTS; ti++) {
      const t = tenants[ti];
      const insp = (await rig.sim.control('POST', '/connections', { tenantId: t.id, appId: 'stsim-inspector', noRestriction: true })).body;
      const token = await rig.sim.token({ clientId: insp.clientId, clientSecret: insp.clientSecret });
      const res = await rig.sim.api('GET', '/jpm/jobs', { tenant: t.id, token, appKey: insp.appKey, validate: false,
        query: { pageSize: 5000, active: 'Any', externalDataApplicationGuid: '6b0d1a52-3c1e-4f5a-9b7d-2a4c8e1f0d37' } });
      assert.equal(res.status, 200, res.text);
      const count = new Map();
      for (const j of res.body.data) {
        for (const e of j.externalData || []) if (e.key === 'appointd.booking') count.set(e.value, (count.get(e.value) || 0) + 1);
      }
      const mine = [...accepted].filter(([, x]) => x === ti).map(([ref]) => ref);
      for (const ref of mine) assert.equal(count.get(ref), 1, `tenant ${t.id}: booking ${ref} is on ${count.get(ref) || 0} jobs`);
      assert.equal(count.size, mine.length, `tenant ${t.id}: jobs for bookings never accepted`);
    }

    // stsim's request log: appointd's calls per tenant per second, never over the limit
    const api = (await requestLog(rig, 'api', apiMark)).filter((q) => q.appKey === rig.sim.creds.appKey);
    assert.equal(api.filter((q) => q.status === 429).length, 0, 'a call was refused with 429');
    const perSecond = new Map();
    for (const q of api) {
      const k = `${q.tenant}@${Math.floor(Date.parse(q.time) / 1000)}`;
      perSecond.set(k, (perSecond.get(k) || 0) + 1);
    }
    const worst = Math.max(...perSecond.values());
    assert.ok(worst <= 60, `a tenant had ${worst} requests in one second (limit 60)`);
    assert.ok(api.length >= BOOKINGS * 2, `only ${api.length} calls logged`);

    // tokens: per tenant at most one per lifetime (the run is far shorter than one) plus one per
    // instance start
    const auth = await requestLog(rig, 'auth', authMark);
    for (const t of tenants) {
      const n = auth.filter((q) => q.clientId === t.clientId).length;
      assert.ok(n >= 1 && n <= 1 + starts, `tenant ${t.id}: ${n} token requests for ${starts} instance starts`);
      // shared: the first instance that needs it fetches it and the others read it (a second
      // fetch only when the killed one held the claim of a fetch)
      assert.ok(n <= 2, `tenant ${t.id}: ${n} token requests, the instances did not share one`);
    }

    // one leader at a time; the killed one's lease passed on
    const leaders = [];
    for (const s of [b2, c]) leaders.push(metric(await (await fetch(`${s.url}/metrics`)).text(), 'appointd_cluster_leader'));
    assert.equal(leaders.reduce((x, y) => x + y, 0), 1, `leaders among the live instances: ${leaders}`);
    assert.equal(metric(await (await fetch(`${c.url}/metrics`)).text(), 'appointd_cluster_instances'), 2);
    console.log(`# ${BOOKINGS} bookings, ${retried} retried posts, ${resumed} pushes taken over, ${api.length} ServiceTitan calls, worst second ${worst}, ` +
      `tokens ${tenants.map((t) => auth.filter((q) => q.clientId === t.clientId).length).join('/')}`);
  } finally {
    if (nginx) await nginx.stop();
    for (const [i, s] of servers.entries()) {
      const r = await s.stop();
      if (process.env.CLUSTER_DUMP) await writeFile(`${process.env.CLUSTER_DUMP}.${i}`, r.stderr);
      if (r.signal !== 'SIGKILL') assert.doesNotMatch(r.stderr, SANITIZER_RE, 'sanitizer report in appointd stderr');
    }
    await rig.close();
  }
});

test('two instances on one PostgreSQL share sessions, the login throttle, idempotency keys and window capacity', { skip: !ON_POSTGRES && 'runs in the PostgreSQL pass (APPOINTD_TEST_DATABASE=postgres)' }, async () => {
  const rig = await bookingRig({ scheduler: { capacity: { mode: 'local', perWindow: 1 } }, serve: false });
  const servers = [];
  try {
    const owner = { email: 'owner@lonestar.test', password: 'owner-password-1' };
    await rig.ok(['user', 'add', owner.email, '--account', 'Lone Star Comfort', '--role', 'owner', '--password-stdin'], owner.password + '\n');
    const args = ['--booking-rate', '100000', '--public-rate', '100000', '--scheduler-rate', '1000000'];
    for (let i = 0; i < 2; i++) servers.push(await startServer({ dataDir: rig.data.dir, env: rig.env, args }));
    const [a, b] = servers;
    rig.srv = a; // the rig's helpers (windows, list) ask it

    // a session made on one instance is good on the other
    const s = await login(a.url, owner.email, owner.password);
    assert.equal(s.status, 200, s.text);
    const me = await getJson(`${b.url}/api/v1/me`, { headers: { cookie: s.cookie } });
    assert.equal(me.status, 200, me.text);

    // failed logins from one address spread over both instances count together: after the
    // budget (10) the next attempt waits, on either instance
    for (let i = 0; i < 10; i++) {
      const r = await login(i % 2 ? b.url : a.url, owner.email, 'a-wrong-password!', { from: '127.0.0.2' });
      assert.equal(r.status, 401, r.text);
    }
    for (const srv of [a, b]) {
      const r = await login(srv.url, owner.email, owner.password, { from: '127.0.0.2' });
      assert.equal(r.status, 429, `${srv.url}: ${r.text}`);
      assert.match(r.headers['retry-after'], /^[1-9][0-9]*$/);
    }
    assert.equal((await login(b.url, owner.email, owner.password, { from: '127.0.0.3' })).status, 200, 'another address is not throttled');

    // one Idempotency-Key posted to both at once: one booking, the same reference from both
    const [w1, w2] = await rig.windows();
    const post = (srv, body, key) => getJson(`${srv.url}/api/v1/schedulers/${rig.key}/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://lonestarcomfort.example', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    const body = rig.body(w1);
    const same = await Promise.all([post(a, body, 'k-both'), post(b, body, 'k-both')]);
    for (const r of same) assert.ok(r.status === 201 || r.status === 200, r.text);
    assert.equal(same[0].body.reference, same[1].body.reference, 'one key, two bookings');
    // a window with room for one booking, asked for by both at once: one gets it
    const race = await Promise.all([post(a, rig.body(w2), 'k-a'), post(b, rig.body(w2), 'k-b')]);
    assert.deepEqual(race.map((r) => r.status).sort(), [201, 409], race.map((r) => r.text).join(' | '));
    const rows = (await rig.list()).filter((x) => Date.parse(x.window.start) === Date.parse(w2.start));
    assert.equal(rows.length, 1, `${rows.length} bookings in a window for one`);
  } finally {
    for (const s of servers) {
      const r = await s.stop();
      assert.doesNotMatch(r.stderr, SANITIZER_RE, 'sanitizer report in appointd stderr');
    }
    await rig.close();
  }
});
