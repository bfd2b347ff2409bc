// titan.test.mjs — the ServiceTitan client (src/titan) under load against
// stsim, through the load driver tests/titan_load/titan_load:
//   - with --token-lifetime 5 and 20 threads calling for 60 s, the token
//     endpoint is hit once per lifetime (± 1, plus the first), every call
//     succeeds and none fails because its token expired (401s are refreshed
//     and retried once);
//   - a burst from 20 threads as fast as they can against stsim's default
//     limit of 60 requests/s: no 429 reaches a caller, and stsim's request
//     log shows no second with more than 60 API requests.
// These take about 90 s of wall time: the first one is a 60 s run by design.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStsim, stopClean } from './sim/lib/stsim.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LOAD_BIN =
  process.env.TITAN_LOAD_BIN ||
  (process.env.APPOINTD_BIN
    ? path.join(path.dirname(process.env.APPOINTD_BIN), 'tests/titan_load/titan_load')
    : path.join(repoRoot, 'build-test/tests/titan_load/titan_load'));

const SANITIZER_RE = /ERROR: AddressSanitizer|LeakSanitizer|runtime error:/;

let dir;
before(async () => {
  if (!existsSync(LOAD_BIN)) throw new Error(`titan_load not built: ${LOAD_BIN} (or set TITAN_LOAD_BIN)`);
  dir = await mkdtemp(path.join(tmpdir(), 'titan-e2e-'));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the driver against sim with extra args; resolves its JSON report. */
async function load(sim, args) {
  const secretFile = path.join(dir, `secret-${Date.now()}`);
  await writeFile(secretFile, sim.creds.clientSecret, { mode: 0o600 });
  const c = sim.creds;
  const argv = ['--auth-url', c.authUrl, '--api-url', c.apiUrl, '--app-key', c.appKey];
  argv.push('--tenant', String(c.tenantId), '--client-id', c.clientId);
  argv.push('--client-secret-file', secretFile, '--path', '/settings/business-units', ...args);
  const child = spawn(LOAD_BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const code = await new Promise((resolve) => child.on('exit', (c2) => resolve(c2)));
  assert.equal(code, 0, `titan_load exited ${code}:\n${err.slice(-3000)}`);
  assert.doesNotMatch(err, SANITIZER_RE, 'sanitizer report in titan_load stderr');
  assert.doesNotMatch(err, new RegExp(c.clientSecret), 'the client secret must never be logged');
  return { report: JSON.parse(out.trim().split('\n').pop()), stderr: err };
}

describe('token refresh under a 5 s token lifetime', () => {
  let sim;
  before(async () => {
    sim = await startStsim({ args: ['--token-lifetime', '5'] });
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
  });

  test('20 threads for 60 s: one token per lifetime, no call fails', { timeout: 150000 }, async (t) => {
    const { report } = await load(sim, ['--threads', '20', '--seconds', '60']);
    const counters = (await sim.control('GET', '/counters')).body;
    t.diagnostic(`driver: ${JSON.stringify(report)}`);
    t.diagnostic(`stsim counters: ${JSON.stringify(counters)}`);
    const expected = 60 / 5 + 1; // one per lifetime, plus the first
    assert.ok(report.calls > 1000, `calls made: ${JSON.stringify(report)}`);
    assert.equal(report.failures, 0, `no call failed: ${JSON.stringify(report)}`);
    assert.equal(report.failures_401, 0, 'no call failed because its token expired');
    assert.ok(
      Math.abs(counters.tokensIssued - expected) <= 1,
      `tokens issued ${counters.tokensIssued}, expected ${expected} ± 1 (${JSON.stringify(counters)})`,
    );
    assert.equal(counters.tokenRequests, counters.tokensIssued, 'no token request was refused');
    assert.equal(report.token_fetches, counters.tokenRequests, 'the client counted its own fetches');
  });
});

describe('a burst against the 60 requests/s limit', () => {
  let sim;
  before(async () => {
    sim = await startStsim({ args: [] }); // stsim's default: 60 requests/s per (app, tenant)
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
  });

  test('20 threads × 60 calls: no 429 reaches a caller, no second over 60', { timeout: 120000 }, async (t) => {
    assert.equal((await sim.control('GET', '/config')).body.rateLimit, 60);
    assert.equal((await sim.control('DELETE', '/requests')).status < 300, true);
    const { report } = await load(sim, ['--threads', '20', '--calls', '60']);
    assert.equal(report.calls, 1200);
    assert.equal(report.http_429_seen_by_callers, 0, `no 429 reached a caller: ${JSON.stringify(report)}`);
    assert.equal(report.failures, 0, `every call succeeded: ${JSON.stringify(report)}`);
    assert.equal(report.token_fetches, 1, 'one token for the whole burst');

    const log = (await sim.control('GET', '/requests?host=api')).body.requests;
    assert.ok(log.length >= 1200, `request log holds the burst (${log.length})`);
    const perSecond = new Map();
    for (const r of log) {
      const sec = r.time.slice(0, 19); // "2026-11-28T17:18:06"
      perSecond.set(sec, (perSecond.get(sec) || 0) + 1);
    }
    const [worstSec, worst] = [...perSecond].sort((a, b) => b[1] - a[1])[0];
    t.diagnostic(`driver: ${JSON.stringify(report)}; busiest second ${worstSec}: ${worst} requests`);
    assert.ok(worst <= 60, `${worst} API requests in the second ${worstSec}`);
    // the limiter did hold callers back (the burst would otherwise be far faster)
    assert.ok(report.rate_limited_waits > 1000, `callers waited: ${JSON.stringify(report)}`);
  });
});
