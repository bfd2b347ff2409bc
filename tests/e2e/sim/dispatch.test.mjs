// dispatch.test.mjs — stsim's Dispatch API as a booking integration uses it:
// capacity (windows in the tenant's zone with local and UTC times, the
// 14-day limit, required fields, the arithmetic before and after booking a
// job, a DST day), zones with ZIP codes, arrival windows and their
// configuration, business hours, technician shifts, and assigning and
// unassigning technicians.
//
// Tenants are created through the control API with the emulator clock set
// to a fixed date first, so the seeded shifts (30 days from "today") and the
// expected figures do not depend on when the test runs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStsim, stopClean } from './lib/stsim.mjs';

const ZONE = 'America/Chicago';
const HOUR = 3600 * 1000;
let sim;

// Wall clock of an instant in Chicago, as capacity's offset-less "start" text.
const localFmt = new Intl.DateTimeFormat('sv-SE', {
  timeZone: ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
const chicago = (iso) => localFmt.format(new Date(iso)).replace(' ', 'T');

let nextTenant = 5550001;

/** A demo-seeded tenant created with the clock at `now`, connected to the demo app. */
async function tenantAt(now) {
  const id = nextTenant++;
  let r = await sim.control('POST', '/clock', { set: now });
  assert.equal(r.status, 200, r.text);
  r = await sim.control('POST', '/tenants', { id, name: `Dispatch ${id}`, timeZone: ZONE, seed: 'demo' });
  assert.equal(r.status, 200, r.text);
  r = await sim.control('POST', `/apps/${sim.creds.appId}/tenants`, { tenantId: id });
  assert.equal(r.status, 200, r.text);
  r = await sim.control('POST', '/connections', { tenantId: id, appId: sim.creds.appId });
  assert.equal(r.status, 200, r.text);
  const token = await sim.token({ clientId: r.body.clientId, clientSecret: r.body.clientSecret });
  const api = (method, p, opts = {}) => sim.api(method, p, { tenant: id, token, ...opts });
  const techs = (await api('GET', '/settings/technicians', { query: { pageSize: 100 } })).body.data;
  const bus = (await api('GET', '/settings/business-units', { query: { pageSize: 100 } })).body.data;
  return { id, api, techs, bus };
}

async function capacity(t, body) {
  return t.api('POST', '/dispatch/capacity', { body: { skillBasedAvailability: false, ...body } });
}

const techsOf = (t, bu) => t.techs.filter((x) => x.businessUnitId === bu && x.active);
const slot = (avs, start, bu) => avs.find((a) => a.start === start && a.businessUnitIds[0] === bu);

before(async () => {
  sim = await startStsim({ args: ['--rate-limit', '0'], as: 'inspector' });
});

after(async () => {
  if (sim) await stopClean(sim, assert);
});

describe('capacity', () => {
  let t;
  before(async () => {
    t = await tenantAt('2026-03-02T12:00:00Z'); // a Monday; DST starts Sunday Mar 8
  });

  test('3 days: each day has the 08/10/12/14 windows per business unit, local and UTC agree', async () => {
    const r = await capacity(t, { startsOnOrAfter: '2026-03-03T00:00:00Z', endsOnOrBefore: '2026-03-06T00:00:00Z' });
    assert.equal(r.status, 200, r.text);
    const avs = r.body.availabilities;
    assert.equal(avs.length, 3 * 4 * t.bus.length);
    const days = new Set(avs.map((a) => a.start.slice(0, 10)));
    assert.deepEqual([...days], ['2026-03-03', '2026-03-04', '2026-03-05']);
    for (const a of avs) {
      assert.match(a.start, /^2026-03-0[345]T(08|10|12|14):00:00$/);
      assert.equal(chicago(a.startUtc), a.start, `${a.startUtc} is ${a.start} in Chicago`);
      assert.equal(chicago(a.endUtc), a.end);
      assert.equal(Date.parse(a.endUtc) - Date.parse(a.startUtc), 2 * HOUR);
      assert.equal(Date.parse(a.startUtc) - Date.parse(`${a.start}Z`), 6 * HOUR, 'CST is UTC-6');
      // weekday: every technician of the unit works 08-17, 2 hours each
      const techs = techsOf(t, a.businessUnitIds[0]);
      assert.equal(a.technicians.length, techs.length);
      assert.equal(a.totalAvailability, 2 * techs.length);
      assert.ok(a.openAvailability <= a.totalAvailability);
    }
    const first = slot(avs, '2026-03-03T08:00:00', t.bus[0].id);
    assert.equal(first.startUtc.slice(0, 19), '2026-03-03T14:00:00');
    assert.ok(first.technicians.every((x) => x.hasRequiredSkills === null));
    // the demo seed books jobs for "tomorrow" (Mar 3): that capacity is partly used
    assert.ok(avs.some((a) => a.start.startsWith('2026-03-03') && a.openAvailability < a.totalAvailability));
    assert.ok(avs.some((a) => a.technicians.some((x) => x.status === 'Unavailable')));
    // a day without seeded jobs: everyone available, everything open
    const free = await capacity(t, { startsOnOrAfter: '2026-03-10T00:00:00Z', endsOnOrBefore: '2026-03-11T00:00:00Z' });
    for (const a of free.body.availabilities) {
      assert.equal(a.openAvailability, a.totalAvailability);
      assert.equal(a.isAvailable, true);
      assert.ok(a.technicians.every((x) => x.status === 'Available'));
    }
  });

  test('spring forward: windows stay at 08:00 local, UTC moves from -6 to -5', async () => {
    const r = await capacity(t, { startsOnOrAfter: '2026-03-07T00:00:00Z', endsOnOrBefore: '2026-03-10T00:00:00Z' });
    assert.equal(r.status, 200, r.text);
    const bu = t.bus[0].id;
    assert.equal(slot(r.body.availabilities, '2026-03-07T08:00:00', bu).startUtc.slice(0, 19), '2026-03-07T14:00:00');
    assert.equal(slot(r.body.availabilities, '2026-03-08T08:00:00', bu).startUtc.slice(0, 19), '2026-03-08T13:00:00');
    assert.equal(slot(r.body.availabilities, '2026-03-09T08:00:00', bu).startUtc.slice(0, 19), '2026-03-09T13:00:00');
  });

  test('a range over 14 days is refused with 400; exactly 14 days is served', async () => {
    let r = await capacity(t, { startsOnOrAfter: '2026-03-03T00:00:00Z', endsOnOrBefore: '2026-03-18T00:00:00Z' });
    assert.equal(r.status, 400);
    assert.ok(r.body.errors.endsOnOrBefore, JSON.stringify(r.body));
    assert.match(r.body.errors.endsOnOrBefore[0], /14 days/);
    r = await capacity(t, { startsOnOrAfter: '2026-03-03T00:00:00Z', endsOnOrBefore: '2026-03-17T00:00:00Z' });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.availabilities.length >= 13 * 4 * t.bus.length);
    r = await capacity(t, { startsOnOrAfter: '2026-03-05T00:00:00Z', endsOnOrBefore: '2026-03-04T00:00:00Z' });
    assert.equal(r.status, 400);
    assert.ok(r.body.errors.endsOnOrBefore);
  });

  test('missing required fields: 400 naming each of them', async () => {
    let r = await t.api('POST', '/dispatch/capacity', { body: {} });
    assert.equal(r.status, 400);
    for (const f of ['startsOnOrAfter', 'endsOnOrBefore', 'skillBasedAvailability']) {
      assert.ok(r.body.errors[f], `errors names ${f}: ${JSON.stringify(r.body.errors)}`);
    }
    // the fields belong in the body: a query string does not count
    r = await t.api('POST', '/dispatch/capacity', {
      query: { startsOnOrAfter: '2026-03-03', endsOnOrBefore: '2026-03-04', skillBasedAvailability: 'false' },
      body: {},
    });
    assert.equal(r.status, 400);
    r = await t.api('POST', '/dispatch/capacity', {
      body: { startsOnOrAfter: 'soon', endsOnOrBefore: '2026-03-04T00:00:00Z', skillBasedAvailability: 'no' },
    });
    assert.equal(r.status, 400);
    assert.ok(r.body.errors.startsOnOrAfter && r.body.errors.skillBasedAvailability, JSON.stringify(r.body));
  });

  test('businessUnitIds narrows the units; jobTypeId with skills marks technicians', async () => {
    const bu = t.bus[1].id;
    const jt = (await t.api('GET', '/jpm/job-types', { query: { pageSize: 100 } })).body.data.find(
      (j) => j.businessUnitIds.includes(bu) && j.skills.length > 0,
    );
    const r = await capacity(t, {
      startsOnOrAfter: '2026-03-04T00:00:00Z',
      endsOnOrBefore: '2026-03-05T00:00:00Z',
      businessUnitIds: [bu],
      jobTypeId: jt.id,
      skillBasedAvailability: true,
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.availabilities.length, 4);
    for (const a of r.body.availabilities) {
      assert.deepEqual(a.businessUnitIds, [bu]);
      assert.ok(a.technicians.every((x) => typeof x.hasRequiredSkills === 'boolean'));
    }
    const bad = await capacity(t, { startsOnOrAfter: '2026-03-04T00:00:00Z', endsOnOrBefore: '2026-03-05T00:00:00Z', jobTypeId: 999999999 });
    assert.equal(bad.status, 400);
    assert.ok(bad.body.errors.jobTypeId);
  });
});

/** Creates a job of business unit bu with one appointment [startUtc, endUtc); returns {job, jobType}. */
async function bookJob(t, bu, startUtc, endUtc, extra = {}) {
  const jobType = (await t.api('GET', '/jpm/job-types', { query: { pageSize: 100 } })).body.data.find(
    (j) => j.businessUnitIds.includes(bu) && j.duration > 0,
  );
  assert.ok(jobType, 'a job type of the unit');
  const customers = (await t.api('GET', '/crm/customers', { query: { pageSize: 50 } })).body.data;
  const customer = customers.find((c) => !c.doNotService && c.mergedToId === null);
  const loc = (await t.api('GET', '/crm/locations', { query: { customerId: customer.id } })).body.data[0];
  const campaign = (await t.api('GET', '/marketing/campaigns', { query: { pageSize: 1 } })).body.data[0];
  const r = await t.api('POST', '/jpm/jobs', {
    body: {
      customerId: customer.id,
      locationId: loc.id,
      businessUnitId: bu,
      jobTypeId: jobType.id,
      priority: 'Normal',
      campaignId: campaign.id,
      appointments: [{ start: startUtc, end: endUtc, arrivalWindowStart: startUtc, arrivalWindowEnd: endUtc, ...extra }],
    },
  });
  assert.equal(r.status, 200, r.text);
  return { job: r.body, jobType };
}

describe('capacity arithmetic', () => {
  test('booking a job in a window lowers that window’s open hours by the job type’s duration', async () => {
    const t = await tenantAt('2026-03-02T12:00:00Z');
    const range = { startsOnOrAfter: '2026-03-11T00:00:00Z', endsOnOrBefore: '2026-03-12T00:00:00Z' };
    const bu = t.bus[0].id;
    const before = (await capacity(t, range)).body.availabilities;
    const win = slot(before, '2026-03-11T10:00:00', bu);
    assert.ok(win.totalAvailability > 0);

    const { jobType } = await bookJob(t, bu, win.startUtc, win.endUtc);
    const afterAvs = (await capacity(t, range)).body.availabilities;
    assert.equal(afterAvs.length, before.length);
    for (const a of afterAvs) {
      const b = before.find((x) => x.startUtc === a.startUtc && x.businessUnitIds[0] === a.businessUnitIds[0]);
      assert.equal(a.totalAvailability, b.totalAvailability, 'totals stay');
      const booked = a.start === '2026-03-11T10:00:00' && a.businessUnitIds[0] === bu;
      const expected = booked ? Math.max(0, b.openAvailability - jobType.duration / 3600) : b.openAvailability;
      assert.ok(Math.abs(a.openAvailability - expected) < 1e-9, `${a.start} bu ${a.businessUnitIds[0]}: ${a.openAvailability} vs ${expected}`);
    }
  });
});

describe('DST fall back', () => {
  test('Nov 1 2026: windows keep their local hours; UTC offsets -5 before, -6 after', async () => {
    const t = await tenantAt('2026-10-26T15:00:00Z'); // Monday before the change
    const r = await capacity(t, { startsOnOrAfter: '2026-10-31T00:00:00Z', endsOnOrBefore: '2026-11-03T00:00:00Z' });
    assert.equal(r.status, 200, r.text);
    const avs = r.body.availabilities;
    const bu = t.bus[0].id;
    for (const [day, offset] of [['2026-10-31', 5], ['2026-11-01', 6], ['2026-11-02', 6]]) {
      for (const h of ['08', '10', '12', '14']) {
        const a = slot(avs, `${day}T${h}:00:00`, bu);
        assert.ok(a, `window ${day} ${h}:00`);
        assert.equal(Date.parse(a.startUtc) - Date.parse(`${a.start}Z`), offset * HOUR);
        assert.equal(chicago(a.startUtc), a.start);
        assert.equal(Date.parse(a.endUtc) - Date.parse(a.startUtc), 2 * HOUR);
      }
    }
    // Sunday: nobody works; Monday: everyone does
    const sun = slot(avs, '2026-11-01T08:00:00', bu);
    assert.equal(sun.totalAvailability, 0);
    assert.equal(sun.isAvailable, false);
    assert.ok(sun.technicians.every((x) => x.status === 'Unavailable'));
    assert.equal(slot(avs, '2026-11-02T08:00:00', bu).totalAvailability, 2 * techsOf(t, bu).length);
  });
});

describe('reference data', () => {
  let t;
  before(async () => {
    t = await tenantAt('2026-03-02T12:00:00Z');
  });

  test('zones hold the Dallas and Austin ZIP ranges and their technicians', async () => {
    const r = await t.api('GET', '/dispatch/zones');
    assert.equal(r.status, 200, r.text);
    const byName = Object.fromEntries(r.body.data.map((z) => [z.name, z]));
    assert.ok(byName.Dallas.zips.includes('75201') && byName.Dallas.zips.includes('75252'));
    assert.ok(byName.Austin.zips.includes('78701') && byName.Austin.zips.includes('78759'));
    assert.ok(!byName.Dallas.zips.includes('78701'));
    const techs = new Map(t.techs.map((x) => [x.id, x]));
    for (const z of r.body.data) {
      assert.ok(z.technicians.length > 0);
      for (const id of z.technicians) assert.ok(techs.get(id).zoneIds.includes(z.id), `tech ${id} in zone ${z.id}`);
      const one = await t.api('GET', `/dispatch/zones/${z.id}`);
      assert.deepEqual(one.body, z);
    }
    assert.equal((await t.api('GET', '/dispatch/zones/424242')).status, 404);
  });

  test('arrival windows, their configuration, and deactivating one removes it from capacity', async () => {
    const r = await t.api('GET', '/dispatch/arrival-windows');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.data.map((w) => [w.start, w.duration]), [
      ['08:00:00', '02:00:00'], ['10:00:00', '02:00:00'], ['12:00:00', '02:00:00'], ['14:00:00', '02:00:00'],
    ]);
    let cfg = await t.api('GET', '/dispatch/arrival-windows/configuration');
    assert.deepEqual(cfg.body, { configuration: 'StartTimeOfArrivalWindow' });
    cfg = await t.api('POST', '/dispatch/arrival-windows/configuration', { body: { configuration: 'EndTimeOfArrivalWindow' } });
    assert.deepEqual(cfg.body, { configuration: 'EndTimeOfArrivalWindow' });
    assert.equal((await t.api('GET', '/dispatch/arrival-windows/configuration')).body.configuration, 'EndTimeOfArrivalWindow');
    assert.equal((await t.api('POST', '/dispatch/arrival-windows/configuration', { body: { configuration: 'Middle' } })).status, 400);

    const created = await t.api('POST', '/dispatch/arrival-windows', {
      body: { start: '16:00:00', duration: '01:00:00', businessUnitIds: [t.bus[0].id] },
    });
    assert.equal(created.status, 200, created.text);
    const range = { startsOnOrAfter: '2026-03-04T00:00:00Z', endsOnOrBefore: '2026-03-05T00:00:00Z' };
    let avs = (await capacity(t, range)).body.availabilities;
    const late = avs.filter((a) => a.start === '2026-03-04T16:00:00');
    assert.equal(late.length, 1, 'only the unit it lists');
    assert.equal(late[0].totalAvailability, techsOf(t, t.bus[0].id).length, '16-17 within the 08-17 shifts');

    const off = await t.api('PUT', `/dispatch/arrival-windows/${created.body.id}/activated`, { body: { isActive: false } });
    assert.equal(off.status, 200, off.text);
    avs = (await capacity(t, range)).body.availabilities;
    assert.equal(avs.filter((a) => a.start === '2026-03-04T16:00:00').length, 0);
    assert.equal((await t.api('GET', `/dispatch/arrival-windows/${created.body.id}`)).body.active, false);
    const bad = await t.api('POST', '/dispatch/arrival-windows', { body: { start: '25:00', duration: '01:00:00', businessUnitIds: [] } });
    assert.equal(bad.status, 400);
    assert.ok(bad.body.errors.start);
  });

  test('business hours: Mon-Fri 8-18, Saturday 9-13, closed Sunday', async () => {
    const r = await t.api('GET', '/dispatch/business-hours');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, {
      weekdays: [{ fromHour: 8, toHour: 18 }],
      saturday: [{ fromHour: 9, toHour: 13 }],
      sunday: [],
    });
  });

  test('business hours can be replaced; bad ranges are refused and change nothing', async () => {
    let r = await t.api('POST', '/dispatch/business-hours', {
      body: { weekdays: [{ fromHour: 7, toHour: 19 }], saturday: [], sunday: [{ fromHour: 10, toHour: 14 }] },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.sunday, [{ fromHour: 10, toHour: 14 }]);
    r = await t.api('POST', '/dispatch/business-hours', {
      body: { weekdays: [{ fromHour: 19, toHour: 7 }], saturday: [], sunday: [] },
    });
    assert.equal(r.status, 400);
    assert.ok(r.body.errors.weekdays, JSON.stringify(r.body));
    r = await t.api('POST', '/dispatch/business-hours', { body: { weekdays: [] } });
    assert.equal(r.status, 400);
    assert.ok(r.body.errors.saturday && r.body.errors.sunday);
    r = await t.api('GET', '/dispatch/business-hours');
    assert.deepEqual(r.body.weekdays, [{ fromHour: 7, toHour: 19 }]);
  });

  test('technician shifts: patch and bulk delete', async () => {
    const tech = t.techs.find((x) => x.active);
    const q = { technicianId: tech.id, startsOnOrAfter: '2026-03-16T00:00:00Z', endsOnOrBefore: '2026-03-19T00:00:00Z' };
    let r = await t.api('GET', '/dispatch/technician-shifts', { query: q });
    assert.equal(r.body.data.length, 3, 'Mon-Wed');
    const id = r.body.data[0].id;
    r = await t.api('PATCH', `/dispatch/technician-shifts/${id}`, { body: { title: 'Short day', end: '2026-03-16T18:00:00Z' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.technicianShifts[0].title, 'Short day');
    assert.equal(r.body.technicianShifts[0].end.slice(0, 19), '2026-03-16T18:00:00');
    r = await t.api('PATCH', `/dispatch/technician-shifts/${id}`, { body: { end: '2026-03-16T01:00:00Z' } });
    assert.equal(r.status, 400);
    r = await t.api('POST', '/dispatch/technician-shifts/bulk-delete', {
      body: { start: '2026-03-16T00:00:00Z', end: '2026-03-17T00:00:00Z' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.deletedIds.length, t.techs.filter((x) => x.active).length, 'one Monday shift per technician');
    assert.ok(r.body.deletedIds.includes(id));
    r = await t.api('GET', '/dispatch/technician-shifts', { query: q });
    assert.equal(r.body.data.length, 2);
    assert.equal((await t.api('GET', '/dispatch/technician-shifts', { query: { startsOnOrAfter: 'later' } })).status, 400);
  });

  test('technician shifts: filters, and time off removes a technician’s hours', async () => {
    const tech = t.techs.find((x) => x.active);
    let r = await t.api('GET', '/dispatch/technician-shifts', {
      query: { technicianId: tech.id, startsOnOrAfter: '2026-03-04T00:00:00Z', endsOnOrBefore: '2026-03-07T00:00:00Z' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.length, 3, 'Wed, Thu, Fri');
    assert.ok(r.body.data.every((s) => s.technicianId === tech.id && s.shiftType === 'Normal'));
    assert.equal(chicago(r.body.data[0].start).slice(11), '08:00:00');

    const range = { startsOnOrAfter: '2026-03-04T00:00:00Z', endsOnOrBefore: '2026-03-05T00:00:00Z' };
    const win = (avs) => slot(avs, '2026-03-04T10:00:00', tech.businessUnitId);
    const before = win((await capacity(t, range)).body.availabilities);
    const created = await t.api('POST', '/dispatch/technician-shifts', {
      body: {
        technicianIds: [tech.id],
        shiftType: 'TimeOff',
        title: 'Dentist',
        start: '2026-03-04T16:00:00Z',
        end: '2026-03-04T18:00:00Z',
        repeatType: 'Never',
      },
    });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.technicianShifts.length, 1);
    let now = win((await capacity(t, range)).body.availabilities);
    assert.equal(now.totalAvailability, before.totalAvailability - 2);
    assert.equal(now.technicians.find((x) => x.id === tech.id).status, 'Unavailable');

    const id = created.body.technicianShifts[0].id;
    assert.equal((await t.api('GET', `/dispatch/technician-shifts/${id}`)).body.title, 'Dentist');
    assert.equal((await t.api('DELETE', `/dispatch/technician-shifts/${id}`)).status, 200);
    now = win((await capacity(t, range)).body.availabilities);
    assert.equal(now.totalAvailability, before.totalAvailability);
    assert.equal((await t.api('GET', `/dispatch/technician-shifts/${id}`)).status, 404);

    const daily = await t.api('POST', '/dispatch/technician-shifts', {
      body: {
        technicianIds: [tech.id],
        shiftType: 'OnCall',
        title: 'On call',
        start: '2026-03-06T23:00:00Z',
        end: '2026-03-07T03:00:00Z',
        repeatType: 'Daily',
        repeatEndDate: '2026-03-10T00:00:00Z',
      },
    });
    assert.equal(daily.status, 200, daily.text);
    // 17:00 local each day, across the DST change of Mar 8
    assert.deepEqual(daily.body.technicianShifts.map((s) => chicago(s.start)), [
      '2026-03-06T17:00:00', '2026-03-07T17:00:00', '2026-03-08T17:00:00', '2026-03-09T17:00:00',
    ]);
    r = await t.api('POST', '/dispatch/technician-shifts', { body: { technicianIds: [tech.id], title: 'x' } });
    assert.equal(r.status, 400);
    for (const f of ['shiftType', 'start', 'end', 'repeatType']) assert.ok(r.body.errors[f], f);
  });
});

describe('appointment assignments', () => {
  test('assign, refuse a second assign with 409, list, unassign', async () => {
    const t = await tenantAt('2026-03-02T12:00:00Z');
    const bu = t.bus[0].id;
    const range = { startsOnOrAfter: '2026-03-10T00:00:00Z', endsOnOrBefore: '2026-03-11T00:00:00Z' };
    const win = slot((await capacity(t, range)).body.availabilities, '2026-03-10T12:00:00', bu);
    const { job } = await bookJob(t, bu, win.startUtc, win.endUtc);
    const apptId = job.firstAppointmentId;
    const tech = techsOf(t, bu)[0];
    const body = { jobAppointmentId: apptId, technicianIds: [tech.id] };

    let r = await t.api('POST', '/dispatch/appointment-assignments/assign-technicians', { body });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.id, apptId);
    assert.equal(r.body.jobId, job.id);
    r = await t.api('POST', '/dispatch/appointment-assignments/assign-technicians', { body });
    assert.equal(r.status, 409);

    r = await t.api('GET', '/dispatch/appointment-assignments', { query: { appointmentIds: String(apptId) } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.length, 1);
    assert.equal(r.body.data[0].technicianId, tech.id);
    assert.equal(r.body.data[0].technicianName, tech.name);
    assert.equal(r.body.data[0].active, true);

    // the assigned technician is busy in that window
    let w = slot((await capacity(t, range)).body.availabilities, '2026-03-10T12:00:00', bu);
    assert.equal(w.technicians.find((x) => x.id === tech.id).status, 'Unavailable');

    r = await t.api('POST', '/dispatch/appointment-assignments/unassign-technicians', { body });
    assert.equal(r.status, 200, r.text);
    r = await t.api('GET', '/dispatch/appointment-assignments', { query: { appointmentIds: String(apptId) } });
    assert.equal(r.body.data.length, 0);
    r = await t.api('GET', '/dispatch/appointment-assignments', { query: { appointmentIds: String(apptId), active: 'Any' } });
    assert.equal(r.body.data.length, 1);
    assert.equal(r.body.data[0].active, false);
    w = slot((await capacity(t, range)).body.availabilities, '2026-03-10T12:00:00', bu);
    assert.equal(w.technicians.find((x) => x.id === tech.id).status, 'Available');

    r = await t.api('POST', '/dispatch/appointment-assignments/unassign-technicians', { body });
    assert.equal(r.status, 400);
    r = await t.api('POST', '/dispatch/appointment-assignments/assign-technicians', {
      body: { jobAppointmentId: 987654321, technicianIds: [tech.id] },
    });
    assert.equal(r.status, 404);
    r = await t.api('POST', '/dispatch/appointment-assignments/assign-technicians', { body: { technicianIds: [] } });
    assert.equal(r.status, 400);
    assert.ok(r.body.errors.jobAppointmentId);

    r = await t.api('GET', '/dispatch/export/appointment-assignments', { query: { active: 'Any' } });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.data.some((a) => a.appointmentId === apptId && a.active === false));
  });
});
