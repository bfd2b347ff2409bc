// store-postgres-burst.test.mjs — PostgreSQL restarted in the middle of a
// burst of bookings through the public API: every request is answered (a
// fetch that hangs fails the test), those that meet the restart with 503 and
// Retry-After, and once the database is back each accepted booking is there
// and in ServiceTitan once (stsim's data); the refused ones go through when
// posted again with their Idempotency-Key. The test makes a PostgreSQL server
// of its own (it stops and starts it), so it runs once, in the SQLite pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, ON_POSTGRES } from './lib/appointd.mjs';
import { available, startPostgres } from './lib/pg.mjs';
import { bookingRig, pool, until, ORIGIN } from './lib/bookings.mjs';

const SKIP = ON_POSTGRES
  ? 'runs once, in the SQLite pass (it makes its own database server)'
  : !(await available()) && 'no PostgreSQL server binaries here (scripts/deps installs them)';

/** Polls /healthz (bounded) until status. */
async function healthzBecomes(url, status) {
  let r;
  for (let i = 0; i < 150; i++) {
    r = await getJson(url + '/healthz');
    if (r.status === status) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.equal(r.status, status, `/healthz stayed ${r.status}: ${r.text}`);
  return r;
}

test('PostgreSQL restarted during a booking burst: accepted bookings all there after (and in ServiceTitan once); requests during the restart get 503 with Retry-After, never a hang', { skip: SKIP }, async () => {
  const pg = await startPostgres(); // its own: the others' server keeps running
  let rig;
  try {
    await pg.psql('CREATE DATABASE burst');
    rig = await bookingRig({
      env: { APPOINTD_DATABASE: pg.urlFor('burst') },
      scheduler: { capacity: { mode: 'local', perWindow: 1000 } },
      // a push whose end could not be written while the database was down is taken up again
      // when its lease runs out: a short one, so that the test sees it
      serverArgs: ['--push-backoff-max', '2', '--st-rate-limit', '60', '--push-lease', '5'],
    });
    const wins = await rig.windows();
    const N = 160;
    const outcomes = new Array(N);
    let answered = 0;
    const post = async (i) => {
      const body = rig.body(wins[i % wins.length], {
        contact: { name: `Burst Homeowner ${i}`, phone: `469-720-${String(i).padStart(4, '0')}`, email: `b${i}@example.com` },
        address: { street: `${i} Burst Ave`, city: 'Dallas', state: 'TX', zip: '75201' },
      });
      const r = await getJson(rig.url(`/api/v1/schedulers/${rig.key}/bookings`), {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN, 'idempotency-key': `burst-${i}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15000), // an answer, 503 or not, never a hang
      });
      answered++;
      return { status: r.status, retryAfter: r.headers.get('retry-after'), ref: r.body?.reference, body };
    };
    // the burst, paced so that it spans the restart
    const burst = pool(4, Array.from({ length: N }, (_, i) => async () => {
      outcomes[i] = await post(i);
      await new Promise((res) => setTimeout(res, 15));
    }));
    await until(() => answered >= N / 4, { what: 'a quarter of the burst answered' });
    await pg.halt();
    const during = answered;
    await until(() => answered >= during + 20, { what: 'requests answered while PostgreSQL is down' });
    await pg.resume();
    await burst;

    const accepted = outcomes.filter((o) => o.status === 201);
    const refused = outcomes.filter((o) => o.status !== 201);
    assert.ok(refused.length >= 1, 'no request met the restart');
    for (const o of refused) {
      assert.equal(o.status, 503, `a request during the restart got ${o.status}`);
      assert.match(o.retryAfter || '', /^[1-9][0-9]*$/, 'a 503 without Retry-After');
    }
    // what was refused goes through once the database is back (the same Idempotency-Key)
    await healthzBecomes(rig.srv.url, 200);
    for (const [i, o] of outcomes.entries()) {
      if (o.status === 201) continue;
      for (let tries = 0; ; tries++) {
        const again = await post(i);
        if (again.status === 201 || again.status === 200) {
          outcomes[i] = { ...again, status: 201 };
          break;
        }
        assert.ok(tries < 20, `booking ${i} refused again: ${again.status}`);
        await new Promise((res) => setTimeout(res, 500));
      }
    }
    const refs = outcomes.map((o) => o.ref);
    assert.equal(new Set(refs).size, N, 'one booking per Idempotency-Key');
    const listed = new Set((await rig.list()).map((b) => b.reference));
    assert.deepEqual(accepted.filter((o) => !listed.has(o.ref)).map((o) => o.ref), [], 'accepted bookings missing after the restart');
    // every accepted booking is there after, and reaches ServiceTitan once
    const rows = await rig.waitStates(refs, 'booked', 120000);
    assert.equal(rows.length, N);
    const { jobs } = await rig.recordsByRefs(accepted.map((o) => o.ref));
    for (const o of accepted) assert.equal(jobs[o.ref].length, 1, `booking ${o.ref} is on ${jobs[o.ref].length} jobs`);
    assert.match(rig.srv.stderr(), /event=db\.reconnected/);
    console.log(`# burst of ${N}: ${accepted.length} accepted at once, ${refused.length} answered 503 with Retry-After during the restart`);
  } finally {
    if (rig) await rig.close();
    await pg.stop();
  }
});
