// lists.test.mjs — list and export conventions (API-NOTES §4, §9 items 6,
// 12, 13) on the demo seed's ~200 customers: the pagination envelope and its
// bounds, ids ≤ 50, the active filter's default, inclusive/exclusive date
// bounds, sort=±Field, export continuation, and 7-digit timestamps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStsim, stopClean } from './lib/stsim.mjs';

function expect(r, status) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text.slice(0, 500)}`);
  return r.body;
}

/** A 400 whose errors map names the parameter. */
function badParam(r, param) {
  const body = expect(r, 400);
  const keys = Object.keys(body.errors || {}).map((k) => k.toLowerCase());
  assert.ok(keys.some((k) => k.includes(param.toLowerCase())), `errors name ${param}: ${JSON.stringify(body.errors)}`);
}

const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;

/** Adds n ticks (100 ns) to a 7-digit UTC timestamp. */
function addTicks(ts, n) {
  const m = /^(.*:\d{2})\.(\d{7})Z$/.exec(ts);
  const base = Date.parse(`${m[1]}Z`);
  let ticks = Number(m[2]) + n;
  const ms = base + Math.floor(ticks / 1e7) * 1000;
  ticks = ((ticks % 1e7) + 1e7) % 1e7;
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(ticks).padStart(7, '0')}Z`;
}

describe('lists and exports', () => {
  let sim;
  let total; // customers, active or not
  before(async () => {
    sim = await startStsim({ args: ['--rate-limit', '0'], as: 'inspector' });
    total = expect(await sim.api('GET', '/crm/customers', { query: { active: 'Any', includeTotal: true, pageSize: 1 } }), 200)
      .totalCount;
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
  });

  test('envelope: page 1 of 50 by default, totalCount only with includeTotal', async () => {
    const r = expect(await sim.api('GET', '/crm/customers'), 200);
    assert.equal(r.page, 1);
    assert.equal(r.pageSize, 50);
    assert.equal(r.data.length, 50);
    assert.equal(r.hasMore, true);
    assert.equal(r.totalCount, null);
    assert.ok(total >= 150, `the demo seed has ~200 customers (${total})`);
    const t = expect(await sim.api('GET', '/crm/customers', { query: { includeTotal: true } }), 200);
    assert.equal(typeof t.totalCount, 'number');
    assert.ok(t.totalCount > 50 && t.totalCount <= total);
  });

  test('pages follow each other without overlap until hasMore is false', async () => {
    const seen = new Set();
    let page = 1;
    let r;
    do {
      r = expect(await sim.api('GET', '/crm/customers', { query: { page, pageSize: 40, active: 'Any' } }), 200);
      assert.equal(r.page, page);
      assert.ok(r.data.length <= 40);
      for (const c of r.data) {
        assert.ok(!seen.has(c.id), `id ${c.id} seen twice`);
        seen.add(c.id);
      }
      page++;
    } while (r.hasMore);
    assert.equal(seen.size, total);
    const beyond = expect(await sim.api('GET', '/crm/customers', { query: { page: page + 5, pageSize: 40 } }), 200);
    assert.deepEqual(beyond.data, []);
    assert.equal(beyond.hasMore, false);
  });

  test('pageSize bounds: 0 and 5001 → 400 naming pageSize; 5000 is fine', async () => {
    badParam(await sim.api('GET', '/crm/customers', { query: { pageSize: 0 } }), 'pageSize');
    badParam(await sim.api('GET', '/crm/customers', { query: { pageSize: 5001 } }), 'pageSize');
    badParam(await sim.api('GET', '/crm/customers', { query: { pageSize: 'ten' } }), 'pageSize');
    const big = expect(await sim.api('GET', '/crm/customers', { query: { pageSize: 5000, active: 'Any' } }), 200);
    assert.equal(big.data.length, total);
    assert.equal(big.hasMore, false);
  });

  test('ids: at most 50, else 400', async () => {
    const all = expect(await sim.api('GET', '/crm/customers', { query: { pageSize: 60 } }), 200).data.map((c) => c.id);
    const fifty = all.slice(0, 50);
    const r = expect(await sim.api('GET', '/crm/customers', { query: { ids: fifty.join(',') } }), 200);
    assert.deepEqual(r.data.map((c) => c.id).sort(), [...fifty].sort());
    badParam(await sim.api('GET', '/crm/customers', { query: { ids: all.slice(0, 51).join(',') } }), 'ids');
    badParam(await sim.api('GET', '/crm/customers', { query: { ids: 'a,b' } }), 'ids');
  });

  test('active: the default hides inactive rows; Any shows them; False shows only them', async () => {
    const list = expect(await sim.api('GET', '/crm/customers', { query: { pageSize: 3 } }), 200).data;
    const victim = list[1].id;
    expect(await sim.api('PATCH', `/crm/customers/${victim}`, { body: { active: false } }), 200);
    const ids = list.map((c) => c.id).join(',');
    const dflt = expect(await sim.api('GET', '/crm/customers', { query: { ids } }), 200);
    assert.ok(!dflt.data.some((c) => c.id === victim), 'hidden by default');
    const any = expect(await sim.api('GET', '/crm/customers', { query: { ids, active: 'Any' } }), 200);
    assert.ok(any.data.some((c) => c.id === victim && c.active === false), 'shown with active=Any');
    const only = expect(await sim.api('GET', '/crm/customers', { query: { ids, active: 'False' } }), 200);
    assert.ok(only.data.length >= 1 && only.data.every((c) => c.active === false));
    badParam(await sim.api('GET', '/crm/customers', { query: { active: 'Maybe' } }), 'active');
    // still reachable by id
    assert.equal(expect(await sim.api('GET', `/crm/customers/${victim}`), 200).active, false);
  });

  test('date bounds: OnOrAfter is inclusive, Before is exclusive (to the tick)', async () => {
    const one = expect(await sim.api('GET', '/crm/customers', { query: { pageSize: 1 } }), 200).data[0];
    const id = String(one.id);
    for (const [field, stamp] of [
      ['created', one.createdOn],
      ['modified', one.modifiedOn],
    ]) {
      const q = (extra) => sim.api('GET', '/crm/customers', { query: { ids: id, ...extra } });
      assert.equal(expect(await q({ [`${field}OnOrAfter`]: stamp }), 200).data.length, 1, `${field}OnOrAfter = itself`);
      assert.equal(expect(await q({ [`${field}OnOrAfter`]: addTicks(stamp, 1) }), 200).data.length, 0, `${field}OnOrAfter + 1 tick`);
      assert.equal(expect(await q({ [`${field}Before`]: stamp }), 200).data.length, 0, `${field}Before = itself`);
      assert.equal(expect(await q({ [`${field}Before`]: addTicks(stamp, 1) }), 200).data.length, 1, `${field}Before + 1 tick`);
    }
    badParam(await sim.api('GET', '/crm/customers', { query: { createdBefore: 'yesterday' } }), 'createdBefore');
  });

  test('sort=+Id / -Id, and the default ascending id order', async () => {
    const asc = expect(await sim.api('GET', '/crm/customers', { query: { sort: '+Id', pageSize: 20 } }), 200).data.map((c) => c.id);
    const dflt = expect(await sim.api('GET', '/crm/customers', { query: { pageSize: 20 } }), 200).data.map((c) => c.id);
    const desc = expect(await sim.api('GET', '/crm/customers', { query: { sort: '-Id', pageSize: 20 } }), 200).data.map((c) => c.id);
    assert.deepEqual(asc, [...asc].sort((a, b) => a - b));
    assert.deepEqual(dflt, asc);
    assert.deepEqual(desc, [...desc].sort((a, b) => b - a));
    assert.ok(desc[0] > asc[asc.length - 1]);
    const mod = expect(await sim.api('GET', '/crm/customers', { query: { sort: '-ModifiedOn', pageSize: 20 } }), 200).data;
    const stamps = mod.map((c) => c.modifiedOn);
    assert.deepEqual(stamps, [...stamps].sort().reverse());
  });

  test('export: from empty, continueFrom until hasMore is false, inactive rows included, then only changes', async () => {
    const ids = new Set();
    let from = '';
    let r;
    let calls = 0;
    do {
      r = expect(await sim.api('GET', '/crm/export/customers', { query: { from, pageSize: 50 } }), 200);
      assert.equal(typeof r.continueFrom, 'string');
      assert.ok(r.data.length <= 50);
      for (const c of r.data) ids.add(c.id);
      from = r.continueFrom;
      calls++;
      assert.ok(calls < 100, 'export terminates');
    } while (r.hasMore);
    assert.ok(calls >= 2, 'more than one batch');
    assert.equal(ids.size, total, 'every customer, inactive ones included');
    const caught = expect(await sim.api('GET', '/crm/export/customers', { query: { from } }), 200);
    assert.deepEqual(caught.data, [], 'caught up');
    assert.equal(caught.hasMore, false);
    const one = [...ids][3];
    expect(await sim.api('PATCH', `/crm/customers/${one}`, { body: { name: 'Exported Again' } }), 200);
    const changed = expect(await sim.api('GET', '/crm/export/customers', { query: { from: caught.continueFrom } }), 200);
    assert.deepEqual(changed.data.map((c) => c.id), [one]);
    badParam(await sim.api('GET', '/crm/export/customers', { query: { from: 'not-a-token' } }), 'from');
  });

  test('export from a date returns rows modified on or after it', async () => {
    const all = expect(await sim.api('GET', '/crm/export/customers', { query: { from: '2000-01-01' } }), 200);
    assert.ok(all.data.length > 0);
    const future = expect(await sim.api('GET', '/crm/export/customers', { query: { from: '2200-01-01' } }), 200);
    assert.deepEqual(future.data, []);
  });

  test('timestamps go out with 7 fractional digits in UTC', async () => {
    const r = expect(await sim.api('GET', '/crm/customers', { query: { pageSize: 20 } }), 200);
    for (const c of r.data) {
      assert.match(c.createdOn, TS_RE);
      assert.match(c.modifiedOn, TS_RE);
    }
    const j = expect(await sim.api('GET', '/jpm/jobs', { query: { pageSize: 5, active: 'Any' } }), 200);
    for (const x of j.data) assert.match(x.createdOn, TS_RE);
  });

  test('inputs with fewer digits or an offset are accepted', async () => {
    for (const v of ['2020-01-01', '2020-01-01T00:00:00Z', '2020-01-01T00:00:00.5Z', '2020-01-01T06:00:00+06:00']) {
      const r = expect(await sim.api('GET', '/crm/customers', { query: { createdOnOrAfter: v, pageSize: 1 } }), 200);
      assert.equal(r.data.length, 1, v);
    }
  });
});
