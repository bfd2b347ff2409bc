// gate.test.mjs — what stsim's gate does around every API call (API-NOTES
// §9 items 4-5 and the control API): the per (app, tenant) rate limit
// with 429 + Retry-After, the request log (exactly what a client sent), the
// counters, and fault injection: status for the next N calls, outage,
// latency, dropped connections, "apply then drop" (the write happened
// although the client saw an error), and the token endpoint going down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStsim, stopClean } from './lib/stsim.mjs';

function expect(r, status) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text.slice(0, 500)}`);
  return r.body;
}

const ADDRESS = { street: '5 Gate Rd', city: 'Springfield', state: 'IL', zip: '62701', country: 'USA' };
const newCustomer = (name) => ({ name, address: ADDRESS, locations: [{ name: 'Home', address: ADDRESS }] });

describe('rate limit: 429 with Retry-After under a burst', () => {
  let sim;
  before(async () => {
    sim = await startStsim({ args: ['--rate-limit', '10'], as: 'inspector' });
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
  });

  test('100 concurrent calls at 10 req/s: some pass, the rest are 429 ApiErrorResponses', async () => {
    const token = await sim.token();
    const c0 = expect(await sim.control('GET', '/counters'), 200);
    const t0 = performance.now();
    const rs = await Promise.all(
      Array.from({ length: 100 }, () => sim.api('GET', '/settings/business-units', { token, query: { pageSize: 1 } })),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const ok = rs.filter((r) => r.status === 200);
    const limited = rs.filter((r) => r.status === 429);
    assert.equal(ok.length + limited.length, 100, 'only 200s and 429s');
    assert.ok(ok.length >= 10, `a full bucket lets 10 through (${ok.length})`);
    // burst 10 plus 10/s refill while the burst lasted, whatever this machine's speed
    assert.ok(ok.length <= 10 + Math.ceil(10 * elapsed) + 1, `${ok.length} passed in ${elapsed.toFixed(2)} s`);
    assert.ok(limited.length >= 1, 'the rest is throttled');
    for (const r of limited) {
      const m = /(\d+) seconds?\.$/.exec(r.body.title);
      assert.ok(m, `title ends "N seconds.": ${r.body.title}`);
      assert.match(r.headers['retry-after'] || '', /^\d+$/, 'Retry-After in seconds');
      assert.equal(Number(r.headers['retry-after']), Number(m[1]), 'Retry-After agrees with the title');
      assert.equal(r.body.status, 429);
    }
    const c1 = expect(await sim.control('GET', '/counters'), 200);
    assert.equal(c1.rateLimited - c0.rateLimited, limited.length, 'counted');
  });

  test('the limit is per (app, tenant): control config can lift it', async () => {
    expect(await sim.control('PUT', '/config', { rateLimit: 0 }), 200);
    const rs = await Promise.all(Array.from({ length: 50 }, () => sim.api('GET', '/settings/business-units')));
    assert.deepEqual([...new Set(rs.map((r) => r.status))], [200]);
  });
});

describe('request log, counters and faults', () => {
  let sim;
  before(async () => {
    sim = await startStsim({ args: ['--rate-limit', '0'], as: 'inspector' });
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
  });

  async function lastSeq() {
    const log = expect(await sim.control('GET', '/requests'), 200).requests;
    return log.length ? Math.max(...log.map((e) => e.seq)) : 0;
  }

  test('the request log shows exactly what a client sent', async () => {
    await sim.token(); // not logged under host=api
    const since = await lastSeq();
    const body = '{"name":"Logged Lee","address":' + JSON.stringify(ADDRESS) + ',"locations":[{"name":"Home","address":' + JSON.stringify(ADDRESS) + '}]}';
    const r = await sim.api('POST', '/crm/customers', { body, query: { tracer: 'x y' } });
    expect(r, 200);
    const log = expect(await sim.control('GET', `/requests?since=${since}&host=api`), 200).requests;
    const e = log.find((x) => x.method === 'POST' && x.path === `/crm/v2/tenant/${sim.creds.tenantId}/customers`);
    assert.ok(e, `logged: ${JSON.stringify(log).slice(0, 500)}`);
    assert.equal(e.body, body, 'the body byte for byte');
    assert.match(e.query, /tracer=x(\+|%20)y/);
    assert.equal(e.status, 200);
    assert.equal(e.clientId, sim.creds.clientId);
    assert.equal(String(e.tenant), String(sim.creds.tenantId));
    assert.equal(e.appKey, sim.creds.appKey);
    assert.equal(typeof e.latencyMs, 'number');
    assert.ok(log.every((x) => x.host === 'api' && x.seq > since));

    const auth = expect(await sim.control('GET', `/requests?since=${since}&host=auth`), 200).requests;
    assert.ok(Array.isArray(auth));
    await sim.token();
    const auth2 = expect(await sim.control('GET', `/requests?since=${since}&host=auth`), 200).requests;
    const tok = auth2.find((x) => x.path === '/connect/token');
    assert.ok(tok, 'token requests are logged on the auth host');
    assert.ok(!JSON.stringify(auth2).includes(sim.creds.clientSecret), 'the log never shows a client secret');

    expect(await sim.control('DELETE', '/requests'), 200);
    const empty = expect(await sim.control('GET', '/requests?host=api'), 200).requests;
    assert.equal(empty.length, 0);
  });

  test('counters count API requests by status', async () => {
    const c0 = expect(await sim.control('GET', '/counters'), 200);
    expect(await sim.api('GET', '/settings/business-units'), 200);
    expect(await sim.api('GET', '/crm/customers/999999999999'), 404);
    const c1 = expect(await sim.control('GET', '/counters'), 200);
    assert.equal(c1.apiRequests - c0.apiRequests, 2);
    assert.equal((c1.byStatus['404'] || 0) - (c0.byStatus['404'] || 0), 1);
    assert.equal((c1.byStatus['200'] || 0) - (c0.byStatus['200'] || 0), 1);
  });

  test('status fault for the next N matching calls, then normal again', async () => {
    expect(
      await sim.control('POST', '/faults', { match: '/crm/v2/tenant/*/customers', method: 'GET', kind: 'status', status: 503, count: 2 }),
      200,
    );
    expect(await sim.api('GET', '/settings/business-units'), 200); // other routes unaffected
    expect(await sim.api('GET', '/crm/customers'), 503);
    expect(await sim.api('GET', '/crm/customers'), 503);
    expect(await sim.api('GET', '/crm/customers'), 200);
  });

  test('a 429 fault carries the given Retry-After', async () => {
    expect(await sim.control('POST', '/faults', { match: '*', kind: 'status', status: 429, count: 1, retryAfter: 7 }), 200);
    const r = await sim.api('GET', '/settings/business-units');
    expect(r, 429);
    assert.equal(r.headers['retry-after'], '7');
    assert.match(r.body.title, /7 seconds\.$/);
    expect(await sim.api('GET', '/settings/business-units'), 200);
  });

  test('outage until cleared', async () => {
    expect(await sim.control('POST', '/faults', { match: '*', kind: 'outage' }), 200);
    for (let i = 0; i < 3; i++) {
      const r = await sim.api('GET', '/settings/business-units', { validate: false }).catch((e) => ({ status: 0, e }));
      assert.ok(r.status === 0 || r.status >= 500, `outage: ${r.status}`);
    }
    expect(await sim.control('DELETE', '/faults'), 200);
    expect(await sim.api('GET', '/settings/business-units'), 200);
  });

  test('latency delays the answer by at least latencyMs', async () => {
    expect(await sim.control('POST', '/faults', { match: '/settings/v2/tenant/*/business-units', kind: 'latency', latencyMs: 400, count: 1 }), 200);
    const t0 = performance.now();
    expect(await sim.api('GET', '/settings/business-units'), 200);
    assert.ok(performance.now() - t0 >= 390, 'delayed');
  });

  test('drop: the connection closes without an answer, and nothing is written', async () => {
    expect(await sim.control('POST', '/faults', { match: '/crm/v2/tenant/*/customers', method: 'POST', kind: 'drop', count: 1 }), 200);
    await assert.rejects(sim.api('POST', '/crm/customers', { body: newCustomer('Dropped Dana') }));
    const found = expect(await sim.api('GET', '/crm/customers', { query: { name: 'Dropped Dana', active: 'Any' } }), 200);
    assert.equal(found.data.length, 0, 'a dropped request is not applied');
  });

  test('apply_then_drop: the client sees an error, yet the write happened', async () => {
    expect(
      await sim.control('POST', '/faults', { match: '/crm/v2/tenant/*/customers', method: 'POST', kind: 'apply_then_drop', count: 1 }),
      200,
    );
    await assert.rejects(sim.api('POST', '/crm/customers', { body: newCustomer('Applied Abe') }));
    const found = expect(await sim.api('GET', '/crm/customers', { query: { name: 'Applied Abe' } }), 200);
    assert.equal(found.data.length, 1, 'the customer was created');
    expect(await sim.api('POST', '/crm/customers', { body: newCustomer('After Abe') }), 200);
  });

  test('token_down: the auth host fails until cleared', async () => {
    expect(await sim.control('POST', '/faults', { match: 'token', kind: 'token_down' }), 200);
    const r = await sim
      .tokenRequest({ grant_type: 'client_credentials', client_id: sim.creds.clientId, client_secret: sim.creds.clientSecret })
      .catch(() => ({ status: 0 }));
    assert.ok(r.status === 0 || r.status >= 500, `token endpoint down: ${r.status}`);
    expect(await sim.control('DELETE', '/faults'), 200);
    await sim.token();
  });

  test('reset wipes records, faults and counters, and keeps the demo credentials working', async () => {
    const c = expect(await sim.api('POST', '/crm/customers', { body: newCustomer('Reset Rita') }), 200);
    expect(await sim.control('POST', '/faults', { match: '/jbce/v2/tenant/*/call-reasons', kind: 'status', status: 500 }), 200);
    const r = expect(await sim.control('POST', '/reset', { seed: 'demo' }), 200);
    assert.equal(r.clientId, sim.creds.demo.clientId, 'same client id');
    const demo = await sim.tokenRequest({ grant_type: 'client_credentials', client_id: sim.creds.demo.clientId, client_secret: sim.creds.demo.clientSecret });
    expect(demo, 200);
    const counters = expect(await sim.control('GET', '/counters'), 200);
    assert.equal(counters.apiRequests, 0);
    assert.equal(expect(await sim.control('GET', '/faults'), 200).faults.length, 0);
    sim.forgetToken();
    expect(await sim.api('GET', `/crm/customers/${c.id}`), 404);
    expect(await sim.api('GET', '/jbce/call-reasons'), 200);
    const none = expect(await sim.control('POST', '/reset', { seed: 'none', connect: false }), 200);
    assert.equal(none.clientId, undefined);
    for (const who of [sim.creds, sim.creds.demo]) {
      const t = await sim.tokenRequest({ grant_type: 'client_credentials', client_id: who.clientId, client_secret: who.clientSecret });
      expect(t, 401); // seed none: no tenant, no app, no connection is left
    }
  });

  test('control API: bad input → 400 {"error"}', async () => {
    const r = await sim.control('POST', '/faults', { match: '*', kind: 'nonsense' });
    expect(r, 400);
    assert.equal(typeof r.body.error, 'string');
  });
});
