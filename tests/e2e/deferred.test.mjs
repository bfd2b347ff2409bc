// deferred.test.mjs — a handler that answers later (from a worker thread)
// never blocks its event loop, and a client that leaves before the answer
// costs nothing: no crash, no leak (the test build runs ASan/LSan, whose
// reports would show in stderr or the exit code), no stuck shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, getJson, assertCleanExit } from './lib/appointd.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a slow deferred request does not hold up others on the same loop', async () => {
  // One event loop: if the deferred request blocked it, no /healthz could be
  // answered before it. It sleeps a minute (the most the route allows), so
  // that every /healthz answered while it is pending shows the loop free,
  // however slow the machine; it is then abandoned, as a client may.
  // (a short grace: the abandoned request is still in flight at SIGTERM)
  const srv = await startServer({ debugRoutes: true, args: ['--threads', '1', '--shutdown-grace', '500'] });
  const ac = new AbortController();
  try {
    let slowDone = false;
    const slow = fetch(srv.url + '/debug/sleep?ms=60000', { signal: ac.signal }).then(
      () => (slowDone = true),
      (e) => e,
    );
    await sleep(50); // let the slow request reach the server first
    const h = await Promise.all(Array.from({ length: 100 }, () => getJson(srv.url + '/healthz')));
    for (const r of h) assert.equal(r.status, 200, r.text);
    assert.equal(slowDone, false, 'the minute-long deferred request ended before the /healthz answers');
    ac.abort();
    await slow;
  } finally {
    ac.abort();
    assertCleanExit(assert, await srv.stop());
  }
});

test('concurrent deferred requests each get their own answer', async () => {
  const srv = await startServer({ debugRoutes: true });
  try {
    const t0 = Date.now();
    const ms = [250, 50, 150, 10, 200];
    const rs = await Promise.all(ms.map((m) => getJson(`${srv.url}/debug/sleep?ms=${m}`)));
    rs.forEach((r, i) => assert.deepEqual(r.body, { slept_ms: ms[i] }));
    assert.ok(Date.now() - t0 < 250 * 3, 'deferred requests were served one after another');
  } finally {
    assertCleanExit(assert, await srv.stop());
  }
});

test('clients that abort before the deferred answer leave the server healthy', async () => {
  const srv = await startServer({ debugRoutes: true });
  try {
    const aborted = [];
    for (let i = 0; i < 10; i++) {
      const ac = new AbortController();
      const p = fetch(srv.url + '/debug/sleep?ms=300', { signal: ac.signal });
      aborted.push(p.then(() => 'answered', (e) => e.name));
      setTimeout(() => ac.abort(), 50);
    }
    assert.deepEqual(await Promise.all(aborted), Array(10).fill('AbortError'));
    await sleep(400); // the worker now answers requests whose clients are gone

    const h = await getJson(srv.url + '/healthz');
    assert.equal(h.status, 200, h.text);
    const s = await getJson(srv.url + '/debug/sleep?ms=10');
    assert.deepEqual(s.body, { slept_ms: 10 });
  } finally {
    assertCleanExit(assert, await srv.stop());
  }
});

test('SIGTERM right after a client aborted a deferred request still exits 0', async () => {
  const srv = await startServer({ debugRoutes: true });
  const ac = new AbortController();
  const p = fetch(srv.url + '/debug/sleep?ms=300', { signal: ac.signal }).catch((e) => e.name);
  await sleep(50);
  ac.abort();
  assert.equal(await p, 'AbortError');
  assertCleanExit(assert, await srv.stop()); // the reply is still pending in the worker
});

test('bad sleep parameters are refused', async () => {
  const srv = await startServer({ debugRoutes: true });
  try {
    for (const q of ['', '?ms=abc', '?ms=-5', '?ms=99999999']) {
      const r = await getJson(srv.url + '/debug/sleep' + q);
      assert.equal(r.status, 400, `/debug/sleep${q}: ${r.status} ${r.text}`);
      assert.equal(typeof r.body?.error?.code, 'string', r.text);
    }
  } finally {
    assertCleanExit(assert, await srv.stop());
  }
});
