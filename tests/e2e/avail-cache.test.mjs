// avail-cache.test.mjs — the capacity cache as a homeowner and ServiceTitan
// see it, black-box against stsim's demo tenant:
//   - work the office books straight into ServiceTitan (stsim's API, through
//     its inspector app) closes the window once the cache time passes: the
//     cached answer first, then a stale one while it refreshes, then the
//     fresh one (--availability-ttl 2);
//   - with capacity "local", the per-window cap is enforced on bookings made
//     through the public API;
//   - 64 concurrent cold requests for one key make exactly one capacity call
//     (stsim's request log), with stsim answering in 300 ms;
//   - ServiceTitan down (an outage, then stsim stopped): warm keys answer
//     stale, cold ones 503 with Retry-After, and neither waits on the other.
// Nothing here depends on how long things take: order and outcomes only,
// waits are polls with a generous cap.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertCleanExit, getJson } from './lib/appointd.mjs';
import {
  availability, bookWork, capacityCalls, connectAccount, inspector, lastSeq, localRfc3339, stCapacity, until,
} from './lib/avail.mjs';
import { startStsim, stopClean } from './sim/lib/stsim.mjs';

const CHI = 'America/Chicago';
let sim;
let a;
let srv;
let ins;
let acRepair; // {jobTypeId, businessUnitId, duration}
const keys = {};
let simStopped = false;

const day = (iso) => localRfc3339(iso, CHI).slice(0, 10);

before(async () => {
  sim = await startStsim({ args: ['--rate-limit', '0'] });
  a = await connectAccount(sim);
  ins = await inspector(sim);
  const jt = a.catalog.jobTypes.find((j) => j.name === 'AC Repair');
  acRepair = { jobTypeId: jt.id, businessUnitId: jt.businessUnitIds[0], duration: jt.duration };
  const services = [{ id: 'ac-repair', label: 'AC repair', jobTypeId: jt.id, businessUnitId: jt.businessUnitIds[0] }];
  keys.st = (await a.scheduler(a.config({ services, rules: { minNoticeMinutes: 0, horizonDays: 30 } }))).key;
  keys.local = (await a.scheduler(a.config({
    name: 'Small shop', services, capacity: { mode: 'local', perWindow: 2 }, rules: { minNoticeMinutes: 0 },
  }))).key;
  srv = await a.serve(['--availability-ttl', '2', '--public-rate', '1000', '--booking-rate', '1000']);
});

after(async () => {
  if (srv) assertCleanExit(assert, await srv.stop());
  if (sim && !simStopped) await stopClean(sim, assert);
  await a?.cleanup();
});

const get = (key, q) => availability(srv, key, { service: 'ac-repair', zip: '75201', ...q });

test('work booked straight into ServiceTitan closes the window once the cache time passes', async () => {
  // a window two to nine days out with the unit's whole capacity open
  const from = new Date(Date.now() + 2 * 864e5).toISOString();
  const rows = await stCapacity(ins, { from, to: new Date(Date.parse(from) + 7 * 864e5).toISOString(), ...acRepair });
  const open = rows.find((w) => w.businessUnitIds.includes(acRepair.businessUnitId) && w.openAvailability >= 6);
  assert.ok(open, 'stsim has a window with 6 open hours');
  const start = localRfc3339(open.startUtc, CHI);
  const q = { from: day(open.startUtc), days: 1 };
  const shown = async () => {
    const r = await get(keys.st, q);
    assert.equal(r.status, 200, r.text);
    return { available: r.body.windows.find((w) => w.start === start).available, stale: r.body.stale === true };
  };
  assert.deepEqual(await shown(), { available: true, stale: false });

  // the office fills it: three 2-hour repairs take its 6 hours
  const seq = await lastSeq(sim);
  for (let i = 0; i < 3; i++) await bookWork(ins, { ...acRepair, start: open.startUtc, end: open.endUtc });
  const after3 = await stCapacity(ins, { from: open.startUtc, to: open.endUtc, ...acRepair });
  assert.equal(after3.find((w) => w.startUtc === open.startUtc).openAvailability, 0, 'stsim shows it full');

  // until appointd asks ServiceTitan again, it answers from its cache
  const cached = await shown();
  if ((await capacityCalls(sim, seq)).length === 0) assert.deepEqual(cached, { available: true, stale: false });

  // then, past the cache time: a stale answer (a refresh starts), then the window closes
  const seen = [];
  await until(async () => {
    const s = await shown();
    seen.push(s);
    return !s.available;
  }, 'the booked window to close', 30000, 100);
  assert.ok(seen.some((s) => s.stale && s.available), `a stale answer came first: ${JSON.stringify(seen)}`);
  assert.deepEqual(seen.at(-1), { available: false, stale: false });
  const calls = await capacityCalls(sim, seq);
  assert.ok(calls.length >= 1, 'appointd asked ServiceTitan again');
  assert.ok(calls.every((c) => c.status === 200));
});

/** A booking through the public API: { status, body }. */
function book(key, window, n) {
  return getJson(`${srv.url}/api/v1/schedulers/${key}/bookings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `cap-test-${n}` },
    body: JSON.stringify({
      service: 'ac-repair', window: { start: window.start, end: window.end },
      contact: { name: `Pat Example ${n}`, phone: `214-555-01${String(10 + n)}` },
      address: { street: `${n} Main St`, city: 'Dallas', state: 'TX', zip: '75201' },
    }),
  });
}

test('capacity "local": at most perWindow bookings per window, counted by appointd', async () => {
  const q = { from: day(new Date(Date.now() + 3 * 864e5).toISOString()), days: 1 };
  let r = await get(keys.local, q);
  assert.equal(r.status, 200, r.text);
  // the catalog's four arrival windows, each with room for two
  assert.deepEqual(r.body.windows.map((w) => w.start.slice(11, 16)), ['08:00', '10:00', '12:00', '14:00']);
  assert.ok(r.body.windows.every((w) => w.available));
  const w = r.body.windows[1];

  for (const n of [1, 2]) {
    const b = await book(keys.local, w, n);
    assert.equal(b.status, 201, b.text);
  }
  r = await get(keys.local, q);
  assert.deepEqual(r.body.windows.map((x) => x.available), [true, false, true, true], 'the full window closed');
  const third = await book(keys.local, w, 3);
  assert.equal(third.status, 409, third.text);
  assert.equal(third.body.error.code, 'window_unavailable');
  assert.ok(third.body.nextWindows.length > 0 && third.body.nextWindows.every((x) => x.available && x.start !== w.start));
  // another window still takes bookings
  assert.equal((await book(keys.local, r.body.windows[2], 4)).status, 201);
});

test('64 concurrent cold requests for one key make exactly one capacity call', async () => {
  const f = await sim.control('POST', '/faults', {
    match: '/dispatch/v2/tenant/*/capacity', kind: 'latency', latencyMs: 300,
  });
  assert.equal(f.status, 200, f.text);
  const q = { from: day(new Date(Date.now() + 20 * 864e5).toISOString()), days: 2 }; // never asked before
  const seq = await lastSeq(sim);
  const answers = await Promise.all(Array.from({ length: 64 }, () => get(keys.st, q)));
  await sim.control('DELETE', '/faults');
  for (const r of answers) assert.equal(r.status, 200, r.text);
  assert.ok(answers.every((r) => JSON.stringify(r.body) === JSON.stringify(answers[0].body)), 'the same answer');
  assert.equal(answers[0].body.windows.length, 8);
  const calls = await capacityCalls(sim, seq);
  assert.equal(calls.length, 1, `capacity calls: ${JSON.stringify(calls.map((c) => c.body))}`);
  // and once answered, the next ones come from the cache
  await get(keys.st, q);
  assert.equal((await capacityCalls(sim, seq)).length, 1);
});

test('ServiceTitan down: warm keys answer stale, cold keys 503 with Retry-After, nothing hangs', async () => {
  const warm = { from: day(new Date(Date.now() + 5 * 864e5).toISOString()), days: 1 };
  const cold = (n) => ({ from: day(new Date(Date.now() + (25 + n) * 864e5).toISOString()), days: 1 });
  const first = await get(keys.st, warm);
  assert.equal(first.status, 200, first.text);

  const f = await sim.control('POST', '/faults', { match: '*', kind: 'outage' });
  assert.equal(f.status, 200, f.text);
  // past the cache time the warm key is served stale (its refresh fails behind it)
  const stale = await until(async () => {
    const r = await get(keys.st, warm);
    assert.equal(r.status, 200, r.text);
    return r.body.stale ? r : null;
  }, 'a stale answer');
  assert.deepEqual(stale.body.windows, first.body.windows);
  // a ServiceTitan that just failed is not asked again by every request (the failure is held 2 s)
  const seq = await lastSeq(sim);
  for (let i = 0; i < 20; i++) assert.equal((await get(keys.st, warm)).body.stale, true);
  const retries = await capacityCalls(sim, seq);
  assert.ok(retries.length <= 10, `${retries.length} capacity calls for 20 stale answers`);
  assert.ok(retries.every((c) => c.status === 503));

  // a cold key cannot be answered: 503 + Retry-After, and a warm request does not wait for it
  const order = [];
  const coldReq = get(keys.st, cold(0)).then((r) => (order.push('cold'), r));
  const warmReq = get(keys.st, warm).then((r) => (order.push('warm'), r));
  const [c, w] = await Promise.all([coldReq, warmReq]);
  assert.equal(c.status, 503, c.text);
  assert.equal(c.body.error.code, 'unavailable');
  assert.ok(Number(c.headers.get('retry-after')) >= 1, 'Retry-After');
  assert.equal(w.status, 200);
  assert.equal(w.body.stale, true);
  assert.equal(order[0], 'warm', 'the warm answer did not wait for the cold one');
  await sim.control('DELETE', '/faults');

  // stsim gone altogether: the same
  await stopClean(sim, assert);
  simStopped = true;
  const gone = await get(keys.st, cold(1));
  assert.equal(gone.status, 503, gone.text);
  assert.ok(Number(gone.headers.get('retry-after')) >= 1);
  const still = await get(keys.st, warm);
  assert.equal(still.status, 200, still.text);
  assert.equal(still.body.stale, true);
  assert.deepEqual(still.body.windows, first.body.windows);
});
