// scale.test.mjs — real tenant sizes (issue 9, item 3): `--seed demo --scale N`
// and POST /_stsim/reset {"scale": N} seed N customers with their locations
// and contacts, jobs (one per 40 customers) and bookings (one per 50),
// merged duplicates and Do Not Service customers, deterministically; lists,
// searches and exports over them answer what a walk of the data answers.
// (How fast they answer at 100k customers is bench/sim_scale.mjs's, not a
// test's.) Bodies are schema-validated by sim.api.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStsim, stopClean } from './lib/stsim.mjs';

function expect(r, status) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text.slice(0, 500)}`);
  return r.body;
}

const SCALE = 1500;

/** Every row of a list, walked 100 per page. */
async function walk(sim, p, query = {}) {
  const rows = [];
  for (let page = 1; ; page++) {
    const r = expect(await sim.api('GET', p, { query: { ...query, page, pageSize: 100 } }), 200);
    rows.push(...r.data);
    if (!r.hasMore) return rows;
  }
}

/** Every row of an export feed, batch after batch until hasMore is false. */
async function exportAll(sim, p, pageSize = 400) {
  const rows = [];
  let from = '';
  for (;;) {
    const r = expect(await sim.api('GET', p, { query: { from, pageSize } }), 200);
    rows.push(...r.data);
    from = r.continueFrom;
    if (!r.hasMore) return rows;
  }
}

/** What the seed decides about a customer, without the clock's timestamps. */
const shape = (c) => ({ name: c.name, type: c.type, address: c.address, active: c.active, mergedToId: c.mergedToId !== null });

describe(`--scale ${SCALE}: a tenant of ${SCALE} customers`, () => {
  let sim, twin;
  before(async () => {
    [sim, twin] = await Promise.all([
      startStsim({ args: ['--scale', String(SCALE), '--rate-limit', '0'], readyTimeoutMs: 120000, as: 'inspector' }),
      startStsim({ args: ['--scale', String(SCALE), '--rate-limit', '0'], readyTimeoutMs: 120000, as: 'inspector' }),
    ]);
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
    if (twin) await stopClean(twin, assert);
  });

  test('N customers with locations and contacts; jobs and bookings in proportion', async () => {
    const all = expect(await sim.api('GET', '/crm/customers', { query: { active: 'Any', includeTotal: true, pageSize: 1 } }), 200);
    assert.equal(all.totalCount, SCALE);
    const locations = expect(await sim.api('GET', '/crm/locations', { query: { active: 'Any', includeTotal: true, pageSize: 1 } }), 200);
    assert.ok(locations.totalCount >= SCALE, `${locations.totalCount} locations`);
    const jobs = expect(await sim.api('GET', '/jpm/jobs', { query: { includeTotal: true, pageSize: 1 } }), 200);
    assert.equal(jobs.totalCount, Math.floor(SCALE / 40));
    const cfg = expect(await sim.control('GET', '/config'), 200);
    assert.equal(cfg.scale, SCALE);
  });

  test('deterministic: two stsims seeded alike hold the same customers', async () => {
    const a = (await walk(sim, '/crm/customers', { active: 'Any' })).map(shape);
    const b = (await walk(twin, '/crm/customers', { active: 'Any' })).map(shape);
    assert.equal(a.length, SCALE);
    assert.deepEqual(a, b);
  });

  test('merged duplicates and Do Not Service customers are there', async () => {
    const inactive = await walk(sim, '/crm/customers', { active: 'False' });
    const merged = inactive.filter((c) => c.mergedToId !== null);
    assert.ok(merged.length >= 4, `${merged.length} merged`);
    for (const m of merged) {
      const into = expect(await sim.api('GET', `/crm/customers/${m.mergedToId}`), 200);
      assert.equal(into.active, true);
    }
    const active = await walk(sim, '/crm/customers');
    assert.ok(active.filter((c) => c.doNotService).length >= 2);
    assert.equal(active.length + inactive.length, SCALE);
  });

  test('a 100-per-page walk gives every active customer once, in id order', async () => {
    const rows = await walk(sim, '/crm/customers');
    const ids = rows.map((c) => c.id);
    assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(rows.every((c) => c.active));
    const desc = expect(await sim.api('GET', '/crm/customers', { query: { sort: '-Id', pageSize: 3 } }), 200);
    assert.deepEqual(desc.data.map((c) => c.id), ids.slice(-3).reverse());
    const last = expect(await sim.api('GET', '/crm/customers', { query: { page: Math.ceil(ids.length / 100), pageSize: 100 } }), 200);
    assert.equal(last.hasMore, false);
    assert.deepEqual(last.data.map((c) => c.id), ids.slice(Math.floor((ids.length - 1) / 100) * 100));
  });

  test('search by phone finds who has that number, on the customer or a location', async () => {
    const contacts = expect(
      await sim.api('GET', '/crm/customers/contacts', { query: { modifiedOnOrAfter: '2000-01-01', pageSize: 400, page: 3 } }),
      200,
    ).data;
    const phones = contacts.filter((c) => c.type !== 'Email').slice(0, 10);
    assert.ok(phones.length > 0);
    for (const p of phones) {
      const found = expect(await sim.api('GET', '/crm/customers', { query: { phone: p.value, active: 'Any', pageSize: 200 } }), 200);
      assert.ok(found.data.some((c) => c.id === p.customerId), `${p.value} finds customer ${p.customerId}`);
      const formatted = `(${p.value.slice(0, 3)}) ${p.value.slice(3, 6)}-${p.value.slice(6)}`;
      const again = expect(await sim.api('GET', '/crm/customers', { query: { phone: formatted, active: 'Any', pageSize: 200 } }), 200);
      assert.deepEqual(again.data.map((c) => c.id), found.data.map((c) => c.id));
    }
  });

  test('the export feed walks every customer exactly once', async () => {
    const rows = await exportAll(sim, '/crm/export/customers');
    assert.equal(rows.length, SCALE);
    assert.equal(new Set(rows.map((r) => r.id)).size, SCALE);
  });

  test('POST /_stsim/reset {"scale"} reseeds at that size', async () => {
    expect(await twin.control('POST', '/reset', { scale: 300 }), 200);
    twin.forgetToken();
    const all = expect(await twin.api('GET', '/crm/customers', { query: { active: 'Any', includeTotal: true, pageSize: 1 } }), 200);
    assert.equal(all.totalCount, 300);
    expect(await twin.control('POST', '/reset', { scale: 0 }), 400);
    expect(await twin.control('POST', '/reset', { scale: 'big' }), 400);
    expect(await twin.control('POST', '/reset', {}), 200); // the process's --scale again
    const back = expect(await twin.api('GET', '/crm/customers', { query: { active: 'Any', includeTotal: true, pageSize: 1 } }), 200);
    assert.equal(back.totalCount, SCALE);
  });
});
