// health.test.mjs — the operational routes a monitoring system relies on:
// /healthz, /metrics, JSON 404s and request ids.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, getJson, assertCleanExit, SQLITE_ONLY } from './lib/appointd.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  if (srv) assertCleanExit(assert, await srv.stop());
});

/** The value of http_requests_total for the labels in want (any label order). */
function requestCount(metricsText, want) {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    const m = /^http_requests_total\{([^}]*)\}\s+([0-9.e+]+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(want).every(([k, v]) => labels[k] === v)) total += Number(m[2]);
  }
  return total;
}

async function metrics() {
  const res = await fetch(srv.url + '/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') || '', /^text\/plain/);
  return res.text();
}

test('GET /healthz answers ok with the version and the store state', async () => {
  const r = await getJson(srv.url + '/healthz');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') || '', /^application\/json/);
  assert.deepEqual(r.body, { status: 'ok', version: '0.1.0', db: 'ok' });
});

test('GET /metrics has the request, latency and build-info families', async () => {
  const text = await metrics();
  assert.match(text, /^# TYPE http_requests_total counter$/m);
  assert.match(text, /^# TYPE http_request_duration_seconds histogram$/m);
  assert.match(text, /^http_request_duration_seconds_bucket\{.*le="\+Inf".*\} \d+$/m);
  assert.match(text, /^http_request_duration_seconds_count(\{.*\})? \d+$/m);
  assert.match(text, /^appointd_build_info\{version="0\.1\.0"\} 1$/m);
});

test('/metrics counts each /healthz request by route, method and status', async () => {
  const want = { route: '/healthz', method: 'GET', status: '200' };
  const before = requestCount(await metrics(), want);
  for (let i = 0; i < 3; i++) {
    const res = await fetch(srv.url + '/healthz');
    await res.arrayBuffer();
    assert.equal(res.status, 200);
  }
  const afterCount = requestCount(await metrics(), want);
  assert.equal(afterCount - before, 3, 'http_requests_total{route="/healthz",method="GET",status="200"}');
});

test('an unknown route is a JSON 404', async () => {
  const r = await getJson(srv.url + '/no/such/route');
  assert.equal(r.status, 404);
  assert.match(r.headers.get('content-type') || '', /^application\/json/);
  assert.equal(r.body?.error?.code, 'not_found', r.text);
  assert.equal(typeof r.body.error.message, 'string');
  assert.ok(r.body.error.message.length > 0);
});

test('debug routes are off unless asked for', async () => {
  const r = await getJson(srv.url + '/debug/echo', { method: 'POST', body: '{}' });
  assert.equal(r.status, 404);
  const s = await getJson(srv.url + '/debug/sleep?ms=1');
  assert.equal(s.status, 404);
});

test('responses carry X-Request-Id: echoed when sent, unique when not', async () => {
  const sent = await fetch(srv.url + '/healthz', { headers: { 'X-Request-Id': 'e2e-req-12345' } });
  await sent.arrayBuffer();
  assert.equal(sent.headers.get('x-request-id'), 'e2e-req-12345');

  const ids = new Set();
  for (const p of ['/healthz', '/healthz', '/no/such/route']) {
    const res = await fetch(srv.url + p);
    await res.arrayBuffer();
    const id = res.headers.get('x-request-id');
    assert.ok(id && id.length > 0, `${p}: no X-Request-Id`);
    ids.add(id);
  }
  assert.equal(ids.size, 3, 'request ids repeat');
});

// PostgreSQL's counterpart (unreachable, read-only): store-postgres.test.mjs.
test('/healthz turns 503 with a reason when the database goes away, and back when it returns', { skip: SQLITE_ONLY }, async () => {
  const { rename } = await import('node:fs/promises');
  const own = await startServer();
  try {
    const ok = await getJson(own.url + '/healthz');
    assert.equal(ok.status, 200, ok.text);
    const db = own.dataDir + '/appointd.db';
    await rename(db, db + '.moved');
    // The verdict is cached for up to a second; poll (bounded) until it turns.
    let r;
    for (let i = 0; i < 40; i++) {
      r = await getJson(own.url + '/healthz');
      if (r.status === 503) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(r.status, 503, r.text);
    assert.equal(r.body.status, 'unavailable');
    assert.match(r.body.db, /appointd\.db/, 'the reason names the database file');
    await rename(db + '.moved', db);
    for (let i = 0; i < 40; i++) {
      r = await getJson(own.url + '/healthz');
      if (r.status === 200) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(r.status, 200, r.text);
  } finally {
    assertCleanExit(assert, await own.stop());
  }
});
