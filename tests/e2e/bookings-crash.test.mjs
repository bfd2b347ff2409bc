// bookings-crash.test.mjs — appointd killed with SIGKILL in the middle of
// pushing 200 bookings, then started again on the same data: the bookings it
// held (state pushing) wait for their short lease to expire, are taken up
// again and looked up by our reference before anything is created, so each
// of the 200 ends in ServiceTitan exactly once (one job, at most one
// customer made for it), counted in stsim's own data.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { bookingRig, pool, until } from './lib/bookings.mjs';

const N = 200;
let rig;

before(async () => {
  rig = await bookingRig({
    scheduler: { capacity: { mode: 'local', perWindow: 100 } },
    serverArgs: ['--push-lease', '5', '--push-backoff-max', '1', '--st-rate-limit', '60'],
  });
});
after(() => rig?.close());

test('kill -9 in the middle of a 200-booking push, then a restart: each booking in ServiceTitan exactly once', async () => {
  const wins = await rig.windows({ days: 4 });
  // slow job creates, so that the kill lands while creates are in flight
  await rig.fault({ match: '/jpm/v2/tenant/*/jobs', method: 'POST', kind: 'latency', latencyMs: 300 });
  const rs = await pool(16, Array.from({ length: N }, (_, i) => () => rig.book(rig.body(wins[i % wins.length]))));
  for (const r of rs) assert.equal(r.status, 201, r.text);
  const refs = rs.map((r) => r.body.reference);

  await until(async () => (await rig.list(['--state', 'booked'])).length >= 20, { what: '20 booked', capMs: 60000 });
  rig.srv.proc.kill('SIGKILL');
  const gone = await rig.srv.exited();
  assert.equal(gone.signal, 'SIGKILL');
  rig.stderrs.push(gone.stderr);
  rig.srv = null;
  const atKill = await rig.list();
  const pushing = atKill.filter((b) => b.state === 'pushing').length;
  const booked = atKill.filter((b) => b.state === 'booked').length;
  assert.ok(pushing > 0, 'bookings were being pushed when it died');
  assert.ok(booked < N, 'the push was not over');

  await rig.serve();
  await rig.waitStates(refs, 'booked', 120000);
  await rig.clearFaults();
  const { jobs, customers } = await rig.recordsByRefs(refs);
  const twice = refs.filter((r) => jobs[r].length !== 1);
  assert.deepEqual(twice, [], 'bookings without exactly one job');
  assert.deepEqual(refs.filter((r) => customers[r].length > 1), [], 'bookings with two customers');
  // the ones taken over after the crash began with the look-up by our reference
  const resumed = rig.srv.stderr().match(/event=push\.start .*resume=1/g) || [];
  assert.ok(resumed.length >= pushing, `resumed ${resumed.length} of ${pushing}`);
});
