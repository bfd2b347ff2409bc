// bookings-faults.test.mjs — whatever ServiceTitan does, every accepted
// booking ends in it exactly once, counted by our reference in stsim's own
// data (the inspector app): stsim down for the whole run (bookings accepted
// from the warm availability cache, retried, then pushed when it is back);
// 20% of calls answered 500 or 429; a create applied and its answer dropped
// (customer, job, CRM booking: the next attempt finds the record by our
// reference instead of creating it again); the connection disabled in the
// middle of a push (bookings parked, no call made for them while parked,
// then drained once a check sees the connection work again).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bookingRig, pool, until } from './lib/bookings.mjs';

/** Asserts each reference has exactly one job in ServiceTitan (or one CRM booking when crm). */
async function exactlyOnce(rig, refs, { crm = [] } = {}) {
  for (const ref of refs) {
    const jobs = await rig.jobsOf(ref);
    const bks = await rig.bookingsOf(ref);
    if (crm.includes(ref)) {
      assert.equal(bks.length, 1, `${ref}: one CRM booking`);
      assert.equal(jobs.length, 0, `${ref}: no job`);
    } else {
      assert.equal(jobs.length, 1, `${ref}: one job (got ${jobs.length})`);
      assert.equal(bks.length, 0, `${ref}: no CRM booking`);
    }
    assert.ok((await rig.customersOf(ref)).length <= 1, `${ref}: at most one customer made for it`);
  }
}

/** Books n bookings over the open windows (c at a time); the references. */
async function bookMany(rig, wins, n, c = 8, over = () => ({})) {
  const rs = await pool(c, Array.from({ length: n }, (_, i) => () => rig.book(rig.body(wins[i % wins.length], over(i)))));
  for (const r of rs) assert.equal(r.status, 201, r.text);
  return rs.map((r) => r.body.reference);
}

describe('stsim down for the whole run, then back', () => {
  let rig;
  before(async () => {
    rig = await bookingRig({
      stateFile: true,
      scheduler: { capacity: { mode: 'local', perWindow: 50 } },
      serverArgs: ['--push-backoff-max', '2'],
    });
  });
  after(() => rig?.close());

  test('bookings are accepted from the warm cache while it is down, retried, and pushed once it is back', async () => {
    // warm: the ServiceTitan-capacity scheduler's windows are cached
    const stKey = (await rig.json(['scheduler', 'create', 'Lone Star Comfort', '--config',
      await rig.file('st.json', { ...rig.cfg, name: 'Capacity from ServiceTitan' })])).key;
    const stWins = await rig.windows({ key: stKey, days: 3 });
    const localWins = await rig.windows({ days: 3 });
    assert.ok(stWins.length >= 2 && localWins.length >= 2);

    const restart = await rig.stopSim();
    const refs = [];
    for (const [i, w] of [...stWins.slice(0, 3), ...localWins.slice(0, 3)].entries()) {
      const key = i < 3 ? stKey : rig.key;
      const r = await rig.book(rig.body(w), { key });
      assert.equal(r.status, 201, `booking while ServiceTitan is down: ${r.text}`);
      refs.push(r.body.reference);
    }
    // availability still answers from the cache, marked stale or not
    const again = await rig.get(`/api/v1/schedulers/${stKey}/availability?service=ac-repair&zip=75201&days=3`);
    assert.equal(again.status, 200, again.text);
    // they retry (not parked, not needs attention) while ServiceTitan stays down
    await until(async () => (await rig.list()).filter((b) => refs.includes(b.reference) && b.attempts >= 2).length === refs.length,
      { what: 'two attempts each', capMs: 30000 });
    const rows = (await rig.list()).filter((b) => refs.includes(b.reference));
    for (const b of rows) assert.ok(['accepted', 'pushing'].includes(b.state), `${b.reference} ${b.state}`);
    const shown = await rig.show(refs[0]);
    assert.ok(shown.calls.length >= 1 && shown.calls.every((c) => ['network', 'no_answer', 'timeout'].includes(c.outcome)),
      JSON.stringify(shown.calls));

    await restart();
    await rig.waitStates(refs, 'booked', 60000);
    await exactlyOnce(rig, refs);
  });
});

describe('ServiceTitan faults during the push', () => {
  let rig;
  let wins;
  before(async () => {
    rig = await bookingRig({
      scheduler: { capacity: { mode: 'local', perWindow: 50 }, bookingProviderTagId: 1000001 },
      serverArgs: ['--push-backoff-max', '1', '--health-interval', '3600'],
    });
    wins = await rig.windows({ days: 4 });
  });
  after(() => rig?.close());

  test('20% of calls answered 500 or 429: every booking lands exactly once', async () => {
    await rig.fault({ match: '*', kind: 'status', status: 500, percent: 10, seed: 7 });
    await rig.fault({ match: '*', kind: 'status', status: 429, percent: 11, retryAfter: 1, seed: 8 });
    const refs = await bookMany(rig, wins, 40);
    await rig.waitStates(refs, 'booked', 90000);
    const hits = (await rig.sim.control('GET', '/faults')).body.faults.reduce((n, f) => n + f.hits, 0);
    await rig.clearFaults();
    assert.ok(hits >= 10, `the faults were hit (${hits})`);
    await exactlyOnce(rig, refs);
  });

  for (const [what, match, crm] of [
    ['customer create', '/crm/v2/tenant/*/customers', false],
    ['job create', '/jpm/v2/tenant/*/jobs', false],
    ['CRM booking create', '/crm/v2/tenant/*/booking-provider/*/bookings', true],
  ]) {
    test(`apply_then_drop on the ${what}: found by our reference, not made twice`, async () => {
      await rig.fault({ match, method: 'POST', kind: 'apply_then_drop', count: 1 });
      let key = rig.key;
      if (crm) {
        key = (await rig.json(['scheduler', 'create', 'Lone Star Comfort', '--config',
          await rig.file('crm.json', { ...rig.cfg, name: 'CSR', mode: 'booking', capacity: { mode: 'local', perWindow: 50 } })])).key;
      }
      const seq = await rig.lastSeq();
      const r = await rig.book(rig.body(wins[1]), { key });
      assert.equal(r.status, 201, r.text);
      const ref = r.body.reference;
      const row = await rig.waitState(ref, 'booked');
      await rig.clearFaults();
      const dropped = (await rig.requests(seq)).filter((q) => q.dropped);
      assert.equal(dropped.length, 1, 'the write was applied and its answer dropped');
      assert.equal(dropped[0].status, 200);
      assert.equal(row.attempts, 2, 'booked on the second attempt');
      await exactlyOnce(rig, [ref], { crm: crm ? [ref] : [] });
      // the second attempt began with the look-up by our reference
      const calls = (await rig.show(ref)).calls;
      const second = calls.slice(calls.findIndex((c) => c.outcome !== 'ok') + 1);
      assert.equal(second[0].method, 'GET');
      assert.match(second[0].path, crm ? /booking-provider/ : /\/jpm\/jobs/);
      assert.ok(calls.filter((c) => c.method === 'POST').length <= 3);
    });
  }

  test('an ambiguous match sent to a CSR survives a dropped CRM booking create (job mode)', async () => {
    const phone = '4695557790';
    const addr = { city: 'Dallas', state: 'TX', zip: '75201', country: 'USA' };
    for (const street of ['1 Drop St', '2 Drop St']) {
      const r = await rig.st('POST', '/crm/customers', {
        body: { name: 'Drop Twin', type: 'Residential', address: { street, ...addr }, locations: [{ name: 'Home', address: { street, ...addr } }],
          contacts: [{ type: 'Phone', value: phone }] },
      });
      assert.equal(r.status, 200);
    }
    await rig.fault({ match: '/crm/v2/tenant/*/booking-provider/*/bookings', method: 'POST', kind: 'apply_then_drop', count: 1 });
    const r = await rig.book(rig.body(wins[2], { contact: { name: 'Drop Twin', phone, email: '' } }));
    const ref = r.body.reference;
    await rig.waitState(ref, 'booked');
    await rig.clearFaults();
    await exactlyOnce(rig, [ref], { crm: [ref] });
  });

  test('the connection disabled mid-push: parked (not failed, no calls while parked), then drained after a check', async () => {
    const { tenantId } = rig.sim.creds;
    const appId = rig.sim.creds.appId;
    await rig.fault({ match: '/jpm/v2/tenant/*/jobs', method: 'POST', kind: 'latency', latencyMs: 150 });
    const refs = await bookMany(rig, wins, 60, 16);
    await until(async () => (await rig.list(['--state', 'booked'])).filter((b) => refs.includes(b.reference)).length >= 3,
      { what: 'a few booked' });
    const dis = await rig.sim.control('PUT', `/connections/${tenantId}/${appId}/state`, { state: 'disabled' });
    assert.equal(dis.status, 200, dis.text);
    const rows = await until(async () => {
      const all = (await rig.list()).filter((b) => refs.includes(b.reference));
      return all.every((b) => ['booked', 'parked'].includes(b.state)) ? all : null;
    }, { what: 'every booking booked or parked', capMs: 60000 });
    const parked = rows.filter((b) => b.state === 'parked').map((b) => b.reference);
    assert.ok(parked.length > 0, 'some were parked');
    assert.equal(rows.filter((b) => b.state === 'needs_attention').length, 0);
    // while parked, nothing is sent for them
    const seq = await rig.lastSeq();
    await new Promise((res) => setTimeout(res, 2000));
    // (the push's calls: searches by phone, address or our reference, and creates; a health
    // check's probe is none of these)
    const during = rig.appointdCalls(await rig.requests(seq))
      .filter((q) => q.method === 'POST' || /phone=|street=|externalData|externalId/.test(q.query || ''));
    assert.equal(during.length, 0, `calls while parked: ${during.map((q) => q.path).join(', ')}`);
    // the homeowner still sees "received"
    assert.equal((await rig.get(`/api/v1/bookings/${parked[0]}`)).body.status, 'received');

    assert.equal((await rig.sim.control('PUT', `/connections/${tenantId}/${appId}/state`, { state: 'connected' })).status, 200);
    await rig.clearFaults();
    const check = await rig.cli(['fms', 'check', 'Lone Star Comfort']);
    assert.equal(check.code, 0, check.stderr);
    await rig.waitStates(refs, 'booked', 60000);
    await exactlyOnce(rig, refs);
  });
});
