// public-api.test.mjs — the widget's API at its edges, black-box against
// stsim's demo tenant: CORS for the scheduler's allowed origins (and
// appointd's own) and nothing for others, whose bookings are refused; the
// preflight; 400s that name the bad query parameter; unknown and paused
// schedulers 404. Then, on a server started with small limits
// (--public-rate 1, --scheduler-rate 2): 429 + Retry-After per client
// address (behind a trusted proxy, the real client's) and per scheduler.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertCleanExit, getJson } from './lib/appointd.mjs';
import { availability, connectAccount, until } from './lib/avail.mjs';
import { request } from './lib/client.mjs';
import { startStsim, stopClean } from './sim/lib/stsim.mjs';

const SITE = 'https://lonestarcomfort.example';
const EVIL = 'https://evil.example';
let sim;
let a;
let srv;
const keys = {};
const Q = { service: 'service-1', zip: '75201', days: 2 };

before(async () => {
  sim = await startStsim({ args: ['--rate-limit', '0'] });
  a = await connectAccount(sim);
  keys.main = (await a.scheduler(a.config({ allowedOrigins: [SITE, 'http://localhost:8000'] }))).key;
  keys.other = (await a.scheduler(a.config({ name: 'Landing page', allowedOrigins: [] }))).key;
  keys.paused = (await a.scheduler(a.config({ name: 'Old site' }))).key;
  srv = await a.serve(['--public-rate', '1000', '--booking-rate', '1000']);
});

after(async () => {
  if (srv) assertCleanExit(assert, await srv.stop());
  if (sim) await stopClean(sim, assert);
  await a?.cleanup();
});

const booking = {
  service: 'service-1', window: { start: '2030-01-07T08:00:00-06:00', end: '2030-01-07T10:00:00-06:00' },
  contact: { name: 'Pat Example', phone: '214-555-0100' },
  address: { street: '1 Main St', city: 'Dallas', state: 'TX', zip: '75201' },
};

test('CORS: an allowed origin gets the headers, another none, and its booking is refused', async () => {
  let r = await availability(srv, keys.main, Q, { headers: { origin: SITE } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('access-control-allow-origin'), SITE);
  assert.match(r.headers.get('vary') || '', /Origin/);
  assert.equal(r.headers.get('access-control-expose-headers'), 'Retry-After');
  r = await getJson(`${srv.url}/api/v1/schedulers/${keys.main}`, { headers: { origin: 'http://localhost:8000' } });
  assert.equal(r.headers.get('access-control-allow-origin'), 'http://localhost:8000');
  // appointd's own pages may always call it
  r = await availability(srv, keys.other, Q, { headers: { origin: srv.url } });
  assert.equal(r.headers.get('access-control-allow-origin'), srv.url);

  // another site: the answer carries no CORS header (the browser hides it)
  for (const [key, origin] of [[keys.main, EVIL], [keys.other, SITE], [keys.main, `${SITE}:8443`], [keys.main, 'http://lonestarcomfort.example']]) {
    r = await availability(srv, key, Q, { headers: { origin } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), null, `${origin} on ${key}`);
    assert.equal(r.headers.get('access-control-expose-headers'), null);
  }
  // …and its booking is refused, nothing stored
  r = await getJson(`${srv.url}/api/v1/schedulers/${keys.main}/bookings`, {
    method: 'POST', headers: { origin: EVIL, 'content-type': 'application/json' }, body: JSON.stringify(booking),
  });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.body.error.code, 'origin_not_allowed');
  assert.equal(r.headers.get('access-control-allow-origin'), null);
  const list = await a.ok(['booking', 'list', a.account, '--json']);
  assert.deepEqual(JSON.parse(list.stdout).bookings, []);
});

test('the preflight: 204 with the methods and headers for an allowed origin, 403 for another', async () => {
  const pre = (key, origin, route = '/availability') => getJson(`${srv.url}/api/v1/schedulers/${key}${route}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, idempotency-key' },
  });
  for (const route of ['', '/availability', '/bookings']) {
    const r = await pre(keys.main, SITE, route);
    assert.equal(r.status, 204, `${route}: ${r.text}`);
    assert.equal(r.headers.get('access-control-allow-origin'), SITE);
    assert.equal(r.headers.get('access-control-allow-methods'), 'GET, POST, OPTIONS');
    assert.match(r.headers.get('access-control-allow-headers'), /Content-Type/i);
    assert.match(r.headers.get('access-control-allow-headers'), /Idempotency-Key/i);
    assert.equal(r.headers.get('access-control-max-age'), '600');
  }
  let r = await pre(keys.main, EVIL, '/bookings');
  assert.equal(r.status, 403);
  assert.equal(r.body.error.code, 'origin_not_allowed');
  assert.equal(r.headers.get('access-control-allow-origin'), null);
  r = await pre('sch_AAAAAAAAAAAAAAAAAAAAAA', SITE);
  assert.equal(r.status, 403, 'no scheduler, no CORS');
});

test('bad query values: 400 naming the parameter; a ZIP outside the area: 422 naming it', async () => {
  const cases = [
    [{ service: undefined }, 'missing_parameter', 'service'],
    [{ service: 'roof-repair' }, 'invalid_parameter', 'service'],
    [{ zip: undefined }, 'missing_parameter', 'zip'],
    [{ zip: '7520' }, 'invalid_parameter', 'zip'],
    [{ zip: 'ABCDE' }, 'invalid_parameter', 'zip'],
    [{ from: 'tomorrow' }, 'invalid_parameter', 'from'],
    [{ from: '2027-02-30' }, 'invalid_parameter', 'from'],
    [{ from: '2027-3-1' }, 'invalid_parameter', 'from'],
    [{ days: '0' }, 'invalid_parameter', 'days'],
    [{ days: '32' }, 'invalid_parameter', 'days'],
    [{ days: '1.5' }, 'invalid_parameter', 'days'],
    [{ days: '7x' }, 'invalid_parameter', 'days'],
    [{ days: '-3' }, 'invalid_parameter', 'days'],
  ];
  for (const [over, code, field] of cases) {
    const r = await availability(srv, keys.main, { ...Q, ...over }, { headers: { origin: SITE } });
    assert.equal(r.status, 400, `${JSON.stringify(over)}: ${r.text}`);
    assert.equal(r.body.error.code, code, JSON.stringify(over));
    assert.equal(r.body.error.field, field, JSON.stringify(over));
    assert.match(r.body.error.message, new RegExp(`^${field}: `));
    assert.equal(r.headers.get('access-control-allow-origin'), SITE, 'an error the widget can read');
  }
  const r = await availability(srv, keys.main, { ...Q, zip: '10001' });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.body.error.code, 'outside_service_area');
  assert.equal(r.body.error.field, 'zip');
  assert.match(r.body.error.message, /10001/);
  // ZIP+4 is read as its five digits
  assert.equal((await availability(srv, keys.main, { ...Q, zip: '75201-1234' })).status, 200);
});

test('unknown and paused schedulers: 404 on every public route', async () => {
  const routes = (key) => [
    () => getJson(`${srv.url}/api/v1/schedulers/${key}`),
    () => availability(srv, key, Q),
    () => getJson(`${srv.url}/api/v1/schedulers/${key}/bookings`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(booking),
    }),
  ];
  for (const key of ['sch_AAAAAAAAAAAAAAAAAAAAAA', 'nope', keys.main.slice(0, -1)]) {
    for (const call of routes(key)) {
      const r = await call();
      assert.equal(r.status, 404, `${key}: ${r.text}`);
      assert.equal(r.body.error.code, 'scheduler_not_found');
    }
  }
  assert.equal((await availability(srv, keys.paused, Q)).status, 200);
  await a.ok(['scheduler', 'pause', keys.paused]);
  await until(async () => (await availability(srv, keys.paused, Q)).status === 404, 'the paused scheduler to 404');
  for (const call of routes(keys.paused)) assert.equal((await call()).status, 404);
  assert.equal((await availability(srv, keys.main, Q)).status, 200, 'the others carry on');
  await a.ok(['scheduler', 'resume', keys.paused]);
  await until(async () => (await availability(srv, keys.paused, Q)).status === 200, 'the resumed scheduler back');
});

test('rate limits: per client address (the real one behind a trusted proxy) and per scheduler', async () => {
  assertCleanExit(assert, await srv.stop());
  srv = await a.serve(['--public-rate', '1', '--scheduler-rate', '2', '--trusted-proxies', '127.0.0.1']);
  const url = (key) => `${srv.url}/api/v1/schedulers/${key}/availability?service=service-1&zip=75201&days=1`;
  const burst = (key, from, headers = {}, n = 10) =>
    Promise.all(Array.from({ length: n }, () => request(url(key), { from, headers })));

  // one address (127.0.0.2, no proxy) sends ten at once: a burst of three passes, the rest wait
  let rs = await burst(keys.main, '127.0.0.2');
  let limited = rs.filter((r) => r.status === 429);
  assert.ok(rs.some((r) => r.status === 200), 'the first ones pass');
  assert.ok(limited.length >= 5, `429s: ${rs.map((r) => r.status)}`);
  for (const r of limited) {
    assert.equal(r.body.error.code, 'rate_limited');
    assert.ok(Number(r.headers['retry-after']) >= 1, 'Retry-After');
  }
  // another address is not slowed by it (another scheduler, to stay within each one's own limit)
  assert.equal((await request(url(keys.other), { from: '127.0.0.3' })).status, 200);
  // X-Forwarded-For from an untrusted peer is ignored: still 127.0.0.2's budget
  assert.equal((await request(url(keys.other), { from: '127.0.0.2', headers: { 'x-forwarded-for': '203.0.113.7' } })).status, 429);
  // behind the trusted proxy (127.0.0.1) each real client has its own budget
  assert.equal((await request(url(keys.paused), { from: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.8' } })).status, 200);

  // per scheduler: one request from each of twenty addresses, none over its own limit
  rs = await Promise.all(Array.from({ length: 20 }, (_, i) => request(url(keys.paused), { from: `127.0.1.${i + 1}` })));
  limited = rs.filter((r) => r.status === 429);
  assert.ok(limited.length >= 10, `429s: ${rs.map((r) => r.status)}`);
  assert.ok(limited.every((r) => Number(r.headers['retry-after']) >= 1));
  // …while another scheduler, from a fresh address, still answers
  const r = await request(url(keys.other), { from: '127.0.2.1' });
  assert.equal(r.status, 200, r.text);
});
