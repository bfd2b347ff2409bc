// login-throttle.test.mjs — signing in under attack, against the real binary:
// failed logins are throttled per (client address, email) and per address
// with a growing wait, never per email alone, so the owner is not locked out
// by someone else's guesses; behind a trusted proxy each client behind it is
// throttled on its own (and an untrusted peer cannot pick its address with
// X-Forwarded-For); a flood of addresses does not flush a penalty; a burst
// of concurrent guesses is counted exactly. Each test has its own server.
//
// Other clients are other loopback addresses (127.0.0.2, 127.0.0.3: all of
// 127/8 is loopback on Linux) or, behind --trusted-proxies 127.0.0.1, other
// X-Forwarded-For addresses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, startServer, assertCleanExit } from './lib/appointd.mjs';
import { login } from './lib/client.mjs';

const OWNER = 'owner@acme.test';
const PW = 'the-owners-right-password';
const WRONG = 'a-wrong-password!';
const BUDGET = 10; // login-rate-limit's default

/** A server (extra flags args) with account "Acme Heating" and its owner. */
async function serverWithOwner(args = []) {
  const srv = await startServer({ args });
  const dir = srv.dataDir;
  assert.equal((await cli(['account', 'create', 'Acme Heating', '--data-dir', dir])).code, 0);
  const add = await cli(['user', 'add', OWNER, '--account', 'Acme Heating', '--role', 'owner',
    '--password-stdin', '--data-dir', dir], { input: PW + '\n' });
  assert.equal(add.code, 0, add.stderr);
  return srv;
}

test('the owner signs in from another address after 10+ failures from one address', async () => {
  const srv = await serverWithOwner();
  try {
    for (let i = 0; i < BUDGET; i++) {
      assert.equal((await login(srv.url, OWNER, WRONG, { from: '127.0.0.2' })).status, 401);
    }
    // the guessing address now waits, even with the right password ...
    const r = await login(srv.url, OWNER, PW, { from: '127.0.0.2' });
    assert.equal(r.status, 429, r.text);
    assert.equal(r.body.error.code, 'rate_limited');
    const wait = Number(r.headers['retry-after']);
    assert.ok(wait >= 1 && wait <= 30, `the first wait is at most 30 s, not a 15-minute lock: ${wait}`);
    assert.match(r.body.error.message, /try again in \d+ seconds?/);
    // ... but the owner, from another address, is not locked out
    const owner = await login(srv.url, OWNER, PW, { from: '127.0.0.3' });
    assert.equal(owner.status, 200, owner.text);
    assert.match(owner.cookie, /^appointd_session=/);
  } finally {
    assertCleanExit(assert, await srv.stop());
  }
});

test('behind a trusted proxy each client is throttled on its own; an untrusted X-Forwarded-For is ignored', async () => {
  const srv = await serverWithOwner(['--trusted-proxies', '127.0.0.1']);
  const via = (xff) => ({ from: '127.0.0.1', headers: { 'x-forwarded-for': xff } });
  try {
    for (let i = 0; i < BUDGET; i++) {
      assert.equal((await login(srv.url, OWNER, WRONG, via('203.0.113.1'))).status, 401);
    }
    assert.equal((await login(srv.url, OWNER, WRONG, via('203.0.113.1'))).status, 429);
    // another client behind the same proxy is not affected
    const b = await login(srv.url, OWNER, PW, via('203.0.113.2'));
    assert.equal(b.status, 200, b.text);
    // a client that prepends an address of its choice is still known by the proxy's entry
    assert.equal((await login(srv.url, OWNER, WRONG, via('198.51.100.1, 203.0.113.1'))).status, 429);

    // 127.0.0.2 is not a trusted proxy: its X-Forwarded-For, new on every try, changes nothing
    for (let i = 0; i < BUDGET; i++) {
      const r = await login(srv.url, OWNER, WRONG, { from: '127.0.0.2', headers: { 'x-forwarded-for': `198.51.100.${i + 10}` } });
      assert.equal(r.status, 401);
    }
    const spoof = await login(srv.url, OWNER, PW, { from: '127.0.0.2', headers: { 'x-forwarded-for': '198.51.100.99' } });
    assert.equal(spoof.status, 429, 'keyed on the untrusted peer, not on the header');
  } finally {
    assertCleanExit(assert, await srv.stop());
  }
});

test('a flood from many addresses does not evict a penalised (address, email)', async () => {
  // the smallest table (64 entries), flooded with 88 keys: 8 addresses x 10 failures, each for
  // another email, so entries must be evicted (the unit test app-login floods 393 x 10 into a
  // 1,024-entry table)
  const srv = await serverWithOwner(['--trusted-proxies', '127.0.0.1', '--login-throttle-entries', '64']);
  const via = (xff) => ({ from: '127.0.0.1', headers: { 'x-forwarded-for': xff } });
  try {
    for (let i = 0; i < BUDGET; i++) {
      assert.equal((await login(srv.url, OWNER, WRONG, via('203.0.113.66'))).status, 401);
    }
    assert.equal((await login(srv.url, OWNER, WRONG, via('203.0.113.66'))).status, 429);
    for (let a = 0; a < 8; a++) {
      await Promise.all(Array.from({ length: 10 }, async (_, i) => {
        const r = await login(srv.url, `flood${a}-${i}@acme.test`, WRONG, via(`10.66.0.${a + 1}`));
        assert.equal(r.status, 401, r.text);
      }));
    }
    // Still remembered: were it evicted, ten more guesses would be checked. However long the
    // flood took (its first 30 s wait may have passed), one more guess at most is let through
    // before the next wait, which has doubled.
    const first = await login(srv.url, OWNER, WRONG, via('203.0.113.66'));
    const r = first.status === 429 ? first : await login(srv.url, OWNER, WRONG, via('203.0.113.66'));
    assert.ok([401, 429].includes(first.status), first.text);
    assert.equal(r.status, 429, 'the penalty outlived the flood');
    if (first.status === 401) assert.ok(Number(r.headers['retry-after']) > 30, 'the wait doubled');
    assert.equal((await login(srv.url, OWNER, PW, via('203.0.113.67'))).status, 200);
  } finally {
    assertCleanExit(assert, await srv.stop());
  }
});

test('a burst of 100 concurrent bad logins: exactly the budget reaches the password check', async () => {
  const srv = await serverWithOwner();
  try {
    const rs = await Promise.all(Array.from({ length: 100 }, () => login(srv.url, OWNER, WRONG, { from: '127.0.0.2' })));
    const count = (s) => rs.filter((r) => r.status === s).length;
    assert.equal(count(401), BUDGET, 'checked against the password');
    assert.equal(count(429), 100 - BUDGET, 'refused before hashing');
    // the refusals happened before any work: each says how long to wait
    for (const r of rs.filter((x) => x.status === 429)) assert.ok(Number(r.headers['retry-after']) >= 1);
    assert.equal((await login(srv.url, OWNER, PW, { from: '127.0.0.3' })).status, 200);
  } finally {
    assertCleanExit(assert, await srv.stop());
  }
});
