// settings.test.mjs — stsim's reference data (API-NOTES §3.6, §3.7, §9 item
// 11): business units, technicians, employees, tag types, marketing
// campaigns and call reasons of the demo seed; lists that default to active
// rows, name/email/userIds filters, campaigns sorted by Name, gets by id with
// 404s, and the settings export feeds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStsim, stopClean } from './lib/stsim.mjs';

function expect(r, status) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text.slice(0, 600)}`);
  return r.body;
}

describe('settings, marketing and jbce reference data', () => {
  let sim;
  let bus;
  before(async () => {
    sim = await startStsim({ args: ['--rate-limit', '0'], as: 'inspector' });
    bus = expect(await sim.api('GET', '/settings/business-units'), 200).data;
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
  });

  test('three business units; get by id; 404 for an unknown one; name filter', async () => {
    assert.deepEqual(bus.map((b) => b.name), ['HVAC Service', 'Plumbing Service', 'Electrical Service']);
    assert.ok(bus.every((b) => b.active));
    const one = expect(await sim.api('GET', `/settings/business-units/${bus[1].id}`), 200);
    assert.deepEqual(one, bus[1]);
    const nf = expect(await sim.api('GET', '/settings/business-units/999999999'), 404);
    assert.equal(nf.status, 404);
    const plumbing = expect(await sim.api('GET', '/settings/business-units', { query: { name: 'PLUMB' } }), 200).data;
    assert.deepEqual(plumbing.map((b) => b.id), [bus[1].id]);
    const some = expect(await sim.api('GET', '/settings/business-units', { query: { ids: `${bus[0].id},${bus[2].id}` } }), 200).data;
    assert.deepEqual(some.map((b) => b.id), [bus[0].id, bus[2].id]);
  });

  test('eight technicians spread over the business units', async () => {
    const techs = expect(await sim.api('GET', '/settings/technicians'), 200).data;
    assert.equal(techs.length, 8);
    const buIds = new Set(bus.map((b) => b.id));
    assert.ok(techs.every((t) => buIds.has(t.businessUnitId)), 'each technician belongs to a seeded business unit');
    for (const b of bus) assert.ok(techs.filter((t) => t.businessUnitId === b.id).length >= 2, `${b.name} has technicians`);
    assert.ok(techs.every((t) => t.name && t.email && t.phoneNumber && t.active));
    assert.equal(new Set(techs.map((t) => t.userId)).size, 8, 'distinct user ids');
    const one = expect(await sim.api('GET', `/settings/technicians/${techs[3].id}`), 200);
    assert.deepEqual(one, techs[3]);
    expect(await sim.api('GET', '/settings/technicians/999999999'), 404);
    const byUser = expect(await sim.api('GET', '/settings/technicians', { query: { userIds: String(techs[5].userId) } }), 200).data;
    assert.deepEqual(byUser.map((t) => t.id), [techs[5].id]);
    const byName = expect(await sim.api('GET', '/settings/technicians', { query: { name: techs[0].lastName.toLowerCase() } }), 200)
      .data;
    assert.ok(byName.some((t) => t.id === techs[0].id));
  });

  test('employees: active only by default; active=Any and False; email is exact', async () => {
    const active = expect(await sim.api('GET', '/settings/employees'), 200).data;
    assert.ok(active.length >= 5 && active.every((e) => e.active));
    assert.ok(active.some((e) => e.role === 'CSR') && active.some((e) => e.role === 'Dispatch'));
    const any = expect(await sim.api('GET', '/settings/employees', { query: { active: 'Any' } }), 200).data;
    assert.equal(any.length, active.length + 1, 'one former employee');
    const gone = expect(await sim.api('GET', '/settings/employees', { query: { active: 'False' } }), 200).data;
    assert.equal(gone.length, 1);
    assert.equal(gone[0].active, false);
    const one = expect(await sim.api('GET', `/settings/employees/${gone[0].id}`), 200);
    assert.equal(one.id, gone[0].id, 'get by id ignores the active filter');
    const byEmail = expect(await sim.api('GET', '/settings/employees', { query: { email: active[0].email } }), 200).data;
    assert.deepEqual(byEmail.map((e) => e.id), [active[0].id]);
    const partial = expect(await sim.api('GET', '/settings/employees', { query: { email: active[0].email.slice(1) } }), 200).data;
    assert.equal(partial.length, 0, 'email matches exactly');
    expect(await sim.api('GET', '/settings/employees', { query: { active: 'Maybe' } }), 400);
  });

  test('tag types: active only by default', async () => {
    const active = expect(await sim.api('GET', '/settings/tag-types'), 200).data;
    const any = expect(await sim.api('GET', '/settings/tag-types', { query: { active: 'Any' } }), 200).data;
    assert.ok(active.length >= 4 && active.every((t) => t.active));
    assert.ok(any.length > active.length);
  });

  test('campaigns: five active ones, sort by Name, get by id', async () => {
    const camps = expect(await sim.api('GET', '/marketing/campaigns'), 200).data;
    assert.deepEqual(camps.map((c) => c.name).sort(), ['Direct Mail', 'Google Ads', 'Referral', 'Website', 'Yelp']);
    const any = expect(await sim.api('GET', '/marketing/campaigns', { query: { active: 'Any' } }), 200).data;
    assert.equal(any.length, 6);
    const asc = expect(await sim.api('GET', '/marketing/campaigns', { query: { sort: '+Name' } }), 200).data.map((c) => c.name);
    assert.deepEqual(asc, ['Direct Mail', 'Google Ads', 'Referral', 'Website', 'Yelp']);
    const desc = expect(await sim.api('GET', '/marketing/campaigns', { query: { sort: '-Name' } }), 200).data.map((c) => c.name);
    assert.deepEqual(desc, [...asc].reverse());
    const one = expect(await sim.api('GET', `/marketing/campaigns/${camps[0].id}`), 200);
    assert.deepEqual(one, camps[0]);
    expect(await sim.api('GET', '/marketing/campaigns/999999999'), 404);
    const yelp = expect(await sim.api('GET', '/marketing/campaigns', { query: { name: 'yel' } }), 200).data;
    assert.deepEqual(yelp.map((c) => c.name), ['Yelp']);
    expect(await sim.api('GET', '/marketing/campaigns', { query: { sort: '+Budget' } }), 400);
  });

  test('call reasons: active only by default', async () => {
    const active = expect(await sim.api('GET', '/jbce/call-reasons'), 200).data;
    assert.ok(active.length >= 5 && active.every((r) => r.active));
    const any = expect(await sim.api('GET', '/jbce/call-reasons', { query: { active: 'Any' } }), 200).data;
    assert.equal(any.length, active.length + 1);
  });

  test('settings export feeds return every row, inactive ones included', async () => {
    const techs = expect(await sim.api('GET', '/settings/export/technicians'), 200);
    assert.equal(techs.data.length, 8);
    assert.equal(techs.hasMore, false);
    const emps = expect(await sim.api('GET', '/settings/export/employees'), 200).data;
    assert.ok(emps.some((e) => !e.active));
    const again = expect(await sim.api('GET', '/settings/export/employees', { query: { from: (await sim.api('GET', '/settings/export/employees')).body.continueFrom } }), 200);
    assert.equal(again.data.length, 0, 'nothing changed since the token');
    expect(await sim.api('GET', '/settings/export/business-units'), 200);
    expect(await sim.api('GET', '/settings/export/tag-types'), 200);
  });
});
