// availability.test.mjs — what a homeowner is offered equals ServiceTitan's
// capacity, black-box against stsim: for the service's business unit and
// job type (work the office booked in stsim counts), in the scheduler's zone,
// across the spring DST change, in a zone without DST, and with the rules
// applied.
//
// Both clocks play the week of 2027-03-14 (Chicago springs forward that
// Sunday): stsim's with /_stsim/clock, appointd's with /debug/clock. Two
// ServiceTitan tenants are made after stsim's clock moved, so their
// technicians' shifts (seeded relative to stsim's clock) cover that week: one
// in America/Chicago, one in America/Phoenix (no DST; faithful: a Phoenix
// contractor's tenant is in Phoenix, and so is its scheduler). A third
// scheduler shows the Chicago tenant in Phoenix time — the zone check logs it.
// What stsim holds is read through its inspector app, never from appointd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertCleanExit } from './lib/appointd.mjs';
import {
  availability, bookWork, connectAccount, inspector, localRfc3339, newTenant, setClock, stCapacity,
} from './lib/avail.mjs';
import { startStsim, stopClean } from './sim/lib/stsim.mjs';

const NOW = '2027-03-10T15:30:00Z'; // Wednesday, 09:30 in Chicago, 08:30 in Phoenix
const CHI = 'America/Chicago';
const PHX = 'America/Phoenix';

let sim;
let lone; // the Chicago contractor
let desert; // the Phoenix one
let srv;
const keys = {};
const insp = {};

/** A job type of the account's catalog by name, with its business unit and duration (s). */
const svc = (a, name = 'AC Repair') => {
  const jt = a.catalog.jobTypes.find((j) => j.active && !j.deleted && j.name === name);
  return { jobTypeId: jt.id, businessUnitId: jt.businessUnitIds[0], duration: jt.duration };
};

before(async () => {
  sim = await startStsim();
  let r = await sim.control('POST', '/clock', { set: NOW });
  assert.equal(r.status, 200, r.text);
  lone = await connectAccount(sim, { account: 'Lone Star Comfort', creds: await newTenant(sim, { id: 3000001, timeZone: CHI }) });
  desert = await connectAccount(sim, {
    account: 'Desert Air', data: lone.dir, creds: await newTenant(sim, { id: 3000002, timeZone: PHX }),
  });
  insp.chi = await inspector(sim, 3000001);
  insp.phx = await inspector(sim, 3000002);
  const service = (a) => [{ id: 'ac-repair', label: 'AC repair', ...svc(a), duration: undefined }];
  const three = [...service(lone),
    { id: 'tune-up', label: 'AC tune-up', ...svc(lone, 'AC Tune-Up'), duration: undefined },
    { id: 'drains', label: 'Drain cleaning', ...svc(lone, 'Drain Cleaning'), duration: undefined }];
  keys.chi = (await lone.scheduler(lone.config({ services: three, rules: { minNoticeMinutes: 0 } }))).key;
  // the office books three tune-ups (1.5 h each) into HVAC's Thursday 10:00 window: of its 6 hours
  // 1.5 are left, room for a tune-up but not for a 2-hour repair; plumbing is untouched
  for (let i = 0; i < 3; i++) {
    await bookWork(insp.chi, { ...svc(lone, 'AC Tune-Up'), start: '2027-03-11T16:00:00Z', end: '2027-03-11T17:30:00Z' });
  }
  keys.phx = (await desert.scheduler(desert.config({
    name: 'Desert Air', timeZone: PHX, services: service(desert), rules: { minNoticeMinutes: 0 },
  }))).key;
  keys.chiInPhx = (await lone.scheduler(lone.config({
    name: 'Chicago shown in Phoenix', timeZone: PHX, services: service(lone), rules: { minNoticeMinutes: 0 },
  }))).key;
  keys.notice = (await lone.scheduler(lone.config({
    name: 'Rules', services: service(lone),
    rules: { minNoticeMinutes: 180, horizonDays: 3, blackoutDates: ['2027-03-11'] },
  }))).key;
  keys.close = (await lone.scheduler(lone.config({
    name: 'Close before start', services: service(lone), rules: { minNoticeMinutes: 0, closeBeforeStartMinutes: 180 },
  }))).key;
  srv = await lone.serve(['--debug-routes']);
  // appointd plays stsim's instant (which has moved on with real time since it was set)
  r = await sim.control('POST', '/clock', { advanceSeconds: 0 });
  await setClock(srv, r.body.now);
});

after(async () => {
  if (srv) assertCleanExit(assert, await srv.stop());
  if (sim) await stopClean(sim, assert);
  await lone?.cleanup();
});

/**
 * What appointd must offer for days [from, from+days) of zone, from stsim's
 * capacity: every row of the business unit starting in those local days, at
 * the zone's offset of its instant, available when ServiceTitan has room for
 * the job type and it has not started.
 */
async function expected(ins, s, zone, from, days, now) {
  const dayOf = (iso) => localRfc3339(iso, zone).slice(0, 10);
  const last = new Date(Date.parse(`${from}T00:00:00Z`) + (days - 1) * 864e5).toISOString().slice(0, 10);
  const rows = await stCapacity(ins, {
    from: new Date(Date.parse(`${from}T00:00:00Z`) - 864e5).toISOString(),
    to: new Date(Date.parse(`${last}T00:00:00Z`) + 2 * 864e5).toISOString(),
    businessUnitId: s.businessUnitId, jobTypeId: s.jobTypeId,
  });
  return rows
    .filter((w) => w.businessUnitIds.includes(s.businessUnitId))
    .filter((w) => dayOf(w.startUtc) >= from && dayOf(w.startUtc) <= last)
    .sort((a, b) => Date.parse(a.startUtc) - Date.parse(b.startUtc))
    .map((w) => {
      assert.equal(w.isAvailable, w.openAvailability >= s.duration / 3600, 'stsim agrees with itself');
      return {
        start: localRfc3339(w.startUtc, zone),
        end: localRfc3339(w.endUtc, zone),
        available: w.openAvailability >= s.duration / 3600 && Date.parse(w.startUtc) > now,
      };
    });
}

/** appointd's clock now (ms): stsim's, which it plays. */
async function now() {
  return Date.parse((await sim.control('POST', '/clock', { advanceSeconds: 0 })).body.now);
}

test('Chicago: a week across the spring change equals stsim\'s capacity, offsets -06:00 then -05:00', async () => {
  const r = await availability(srv, keys.chi, { service: 'ac-repair', zip: '75201', from: '2027-03-10', days: 7 });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.timeZone, CHI);
  const want = await expected(insp.chi, svc(lone), CHI, '2027-03-10', 7, await now());
  assert.deepEqual(r.body.windows, want);
  assert.equal(want.length, 28, 'four windows a day, Sunday included');
  const at = (d) => r.body.windows.filter((w) => w.start.startsWith(d)).map((w) => w.start.slice(11));
  assert.deepEqual(at('2027-03-13'), ['08:00:00-06:00', '10:00:00-06:00', '12:00:00-06:00', '14:00:00-06:00']);
  assert.deepEqual(at('2027-03-14'), ['08:00:00-05:00', '10:00:00-05:00', '12:00:00-05:00', '14:00:00-05:00']);
  // what a homeowner sees: something to book, never a window that started (Wednesday 08:00)
  assert.ok(r.body.windows.some((w) => w.available));
  assert.equal(r.body.windows[0].start, '2027-03-10T08:00:00-06:00');
  assert.equal(r.body.windows[0].available, false);
  assert.ok(!r.body.windows.filter((w) => w.start.startsWith('2027-03-14')).some((w) => w.available),
    'no shifts on Sundays');
  assert.doesNotMatch(srv.stderr(), new RegExp(`avail\\.tz_mismatch.*${keys.chi}`));
});

test('each service gets the capacity of its own business unit and job type', async () => {
  const t = await now();
  const thu10 = '2027-03-11T10:00:00-06:00';
  const got = {};
  for (const [id, name] of [['ac-repair', 'AC Repair'], ['tune-up', 'AC Tune-Up'], ['drains', 'Drain Cleaning']]) {
    const r = await availability(srv, keys.chi, { service: id, zip: '75201', from: '2027-03-10', days: 7 });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.windows, await expected(insp.chi, svc(lone, name), CHI, '2027-03-10', 7, t), id);
    got[id] = r.body.windows.find((w) => w.start === thu10).available;
  }
  assert.deepEqual(got, { 'ac-repair': false, 'tune-up': true, drains: true });
});

test('Phoenix: no DST, -07:00 all week, equal to the Phoenix tenant\'s capacity', async () => {
  const r = await availability(srv, keys.phx, { service: 'ac-repair', zip: '75201', from: '2027-03-10', days: 7 });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.timeZone, PHX);
  assert.deepEqual(r.body.windows, await expected(insp.phx, svc(desert), PHX, '2027-03-10', 7, await now()));
  assert.equal(r.body.windows.length, 28);
  for (const w of r.body.windows) assert.match(w.start, /T(08|10|12|14):00:00-07:00$/);
});

test('a scheduler in another zone than its tenant: right instants, and the mismatch is logged', async () => {
  const r = await availability(srv, keys.chiInPhx, { service: 'ac-repair', zip: '75201', from: '2027-03-12', days: 3 });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.windows, await expected(insp.chi, svc(lone), PHX, '2027-03-12', 3, await now()));
  // Chicago's 08:00 is 07:00 in Phoenix before the change, 06:00 after it
  assert.equal(r.body.windows[0].start, '2027-03-12T07:00:00-07:00');
  assert.equal(r.body.windows.at(-4).start, '2027-03-14T06:00:00-07:00');
  assert.match(srv.stderr(), new RegExp(`event=avail\\.tz_mismatch .*scheduler=${keys.chiInPhx}.*zone=${PHX}`));
});

test('rules: minimum notice, horizon, blackout dates, started windows, days before today', async () => {
  const t = await now(); // Wednesday ~09:30 in Chicago
  const cap = await expected(insp.chi, svc(lone), CHI, '2027-03-09', 5, t);
  const has = (start) => cap.find((w) => w.start === start);
  const r = await availability(srv, keys.notice, { service: 'ac-repair', zip: '75201', from: '2027-03-09', days: 5 });
  assert.equal(r.status, 200, r.text);
  const got = Object.fromEntries(r.body.windows.map((w) => [w.start, w.available]));
  // Tuesday is before today and Saturday past the 3-day horizon: absent
  assert.ok(!Object.keys(got).some((s) => s.startsWith('2027-03-09') || s.startsWith('2027-03-13')));
  assert.deepEqual(Object.keys(got).map((s) => s.slice(0, 10)).filter((d, i, a) => a.indexOf(d) === i),
    ['2027-03-10', '2027-03-11', '2027-03-12']);
  // today: 08:00 started, 10:00 and 12:00 inside the 3-hour notice though ServiceTitan has room
  assert.equal(has('2027-03-10T12:00:00-06:00').available, true, 'stsim has room at noon');
  assert.equal(got['2027-03-10T08:00:00-06:00'], false);
  assert.equal(got['2027-03-10T10:00:00-06:00'], false);
  assert.equal(got['2027-03-10T12:00:00-06:00'], false);
  assert.equal(got['2027-03-10T14:00:00-06:00'], has('2027-03-10T14:00:00-06:00').available);
  assert.equal(got['2027-03-10T14:00:00-06:00'], true);
  // Thursday is a blackout date: listed, none available, though stsim has room
  assert.ok(cap.some((w) => w.start.startsWith('2027-03-11') && w.available));
  assert.deepEqual(Object.entries(got).filter(([s]) => s.startsWith('2027-03-11')).map(([, a]) => a),
    [false, false, false, false]);
  // Friday: as ServiceTitan says
  for (const w of cap.filter((x) => x.start.startsWith('2027-03-12'))) assert.equal(got[w.start], w.available, w.start);

  // closeBeforeStartMinutes closes windows the same way, without a minimum notice
  const c = await availability(srv, keys.close, { service: 'ac-repair', zip: '75201', from: '2027-03-10', days: 1 });
  assert.deepEqual(c.body.windows.map((w) => w.available), [false, false, false, true]);
});
