// titan_client.test.mjs — the ServiceTitan client (src/titan) against an
// adversarial ServiceTitan: a small stand-in HTTP server started by this test
// (an auth host and an API host in one), driven by the load driver
// tests/titan_load/titan_load.
//   - a ServiceTitan that answers 429 + Retry-After: 1 to the first call of
//     every token: a connect-like sequence (a token, then several reads)
//     succeeds with exactly one token request (issue 8 item 3: a 429 says
//     nothing about the token; only a 401 makes it stale);
//   - twenty tenants called at once from one submitting thread on the async
//     engine, each held under its own rate limit: the stand-in counts
//     requests per tenant per second (never over the limit, no 429), every
//     second of the run serves (nearly) all twenty tenants — they ran side
//     by side, not one after another — and one token per tenant;
//   - appointd serve exports the client's counters at /metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from './lib/appointd.mjs';
import { LOAD_BIN, runLoad } from './lib/titan_load.mjs';

const SECRET = 'cs2.standin-secret-never-logged';

/**
 * The stand-in. mode.first429: the first API call made with each token gets
 * 429 + Retry-After: 1. Counts token requests per client id and records
 * every API request (tenant, token, status).
 */
function startStandin(mode = {}) {
  const state = { tokenRequests: 0, tokens: new Map(), api: [], perSecond: new Map() };
  let issued = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const send = (status, obj, headers = {}) => {
        const text = JSON.stringify(obj);
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(text);
      };
      if (req.method === 'POST' && req.url === '/connect/token') {
        state.tokenRequests++;
        const form = new URLSearchParams(body);
        if (form.get('client_secret') !== SECRET) return send(401, { error: 'invalid_client' });
        const token = `tok-${++issued}`;
        const tenant = Number((/^cid\.t(\d+)$/.exec(form.get('client_id') || '') || [])[1] || 1234567);
        state.tokens.set(token, { clientId: form.get('client_id'), tenant, used: 0 });
        return send(200, { access_token: token, expires_in: 900, token_type: 'Bearer', scope: '' });
      }
      const m = /^\/([a-z-]+)\/v2\/tenant\/(\d+)(\/[^?]*)?/.exec(req.url);
      const auth = (req.headers.authorization || '').replace(/^Bearer /, '');
      const tok = state.tokens.get(auth);
      const now = Date.now();
      const entry = { tenant: m ? Number(m[2]) : 0, token: auth, time: now, status: 0 };
      state.api.push(entry);
      if (!m) return send((entry.status = 404), { title: 'Not Found', status: 404 });
      if (!tok || req.headers['st-app-key'] !== 'ak1.standin') {
        return send((entry.status = 401), { title: 'Unauthorized', status: 401 });
      }
      if (tok.tenant !== entry.tenant) return send((entry.status = 403), { title: 'Forbidden', status: 403 });
      if (mode.first429 && tok.used++ === 0) {
        entry.status = 429;
        return send(
          429,
          { title: 'Rate limit is exceeded. Try again in 1 seconds.', status: 429 },
          { 'Retry-After': '1' },
        );
      }
      if (mode.limit) {
        // requests of this tenant in this calendar second, the refused ones too
        const key = `${entry.tenant}@${Math.floor(now / 1000)}`;
        const n = (state.perSecond.get(key) || 0) + 1;
        state.perSecond.set(key, n);
        if (n > mode.limit) {
          entry.status = 429;
          return send(429, { title: 'Rate limit is exceeded. Try again in 1 seconds.', status: 429 }, { 'Retry-After': '1' });
        }
      }
      entry.status = 200;
      return send(200, { page: 1, pageSize: 10, hasMore: false, data: [{ id: 1 }] });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({ url, state, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

let dir;
before(async () => {
  if (!existsSync(LOAD_BIN)) throw new Error(`titan_load not built: ${LOAD_BIN} (or set TITAN_LOAD_BIN)`);
  dir = await mkdtemp(path.join(tmpdir(), 'titan-client-e2e-'));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the driver against the stand-in with extra args; resolves its JSON report. */
async function load(standin, args, tenants = null) {
  const argv = ['--auth-url', standin.url, '--api-url', standin.url, '--app-key', 'ak1.standin'];
  if (tenants) {
    const file = path.join(dir, `tenants-${Date.now()}`);
    await writeFile(file, tenants.map((t) => `${t} cid.t${t} ${SECRET}\n`).join(''), { mode: 0o600 });
    argv.push('--tenants-file', file);
  } else {
    const secretFile = path.join(dir, `secret-${Date.now()}`);
    await writeFile(secretFile, SECRET, { mode: 0o600 });
    argv.push('--tenant', '1234567', '--client-id', 'cid.standin', '--client-secret-file', secretFile);
  }
  argv.push('--path', '/settings/business-units', ...args);
  const issued = [...standin.state.tokens.keys()];
  const { report, stderr } = await runLoad(argv, [SECRET]);
  const tokens = [...standin.state.tokens.keys()].filter((k) => !issued.includes(k));
  for (const tok of tokens) assert.ok(!stderr.includes(tok), 'tokens must never be logged');
  return report;
}

describe('a ServiceTitan that answers 429 to the first call of every token', () => {
  let standin;
  before(async () => {
    standin = await startStandin({ first429: true });
  });
  after(async () => {
    if (standin) await standin.close();
  });

  test('a token and five reads succeed with one token request', { timeout: 60000 }, async (t) => {
    const report = await load(standin, ['--threads', '1', '--calls', '5']);
    t.diagnostic(`driver: ${JSON.stringify(report)}`);
    const statuses = standin.state.api.map((r) => r.status);
    assert.equal(report.failures, 0, `every call succeeded: ${JSON.stringify(report)}; stand-in saw ${statuses}`);
    assert.equal(standin.state.tokenRequests, 1, `one token request (stand-in saw ${standin.state.tokenRequests})`);
    assert.equal(report.token_fetches, 1);
    assert.deepEqual(statuses, [429, 200, 200, 200, 200, 200], 'one 429, then the same token again');
    assert.equal(new Set(standin.state.api.map((r) => r.token)).size, 1, 'every call carried the one token');
  });
});

describe('twenty tenants at once, each under its own rate limit', () => {
  const LIMIT = 25; // the stand-in's limit per tenant per second
  const RATE = 20; // the client's limit per tenant: at most 20 + a burst of 2 in any second
  const CALLS = 40;
  const tenants = Array.from({ length: 20 }, (_, i) => 5000001 + i);
  let standin;
  before(async () => {
    standin = await startStandin({ limit: LIMIT });
  });
  after(async () => {
    if (standin) await standin.close();
  });

  test('one submitting thread, 20 tenants × 40 calls: never over a limit, side by side', { timeout: 120000 }, async (t) => {
    const report = await load(standin, ['--async', '400', '--calls', String(CALLS), '--rate-limit', String(RATE)], tenants);
    t.diagnostic(`driver: ${JSON.stringify(report)}`);
    assert.equal(report.mode, 'async');
    assert.equal(report.calls, tenants.length * CALLS);
    assert.equal(report.failures, 0, `every call succeeded: ${JSON.stringify(report)}`);
    assert.equal(report.per_tenant_min, CALLS);
    assert.equal(report.per_tenant_max, CALLS);
    assert.equal(standin.state.tokenRequests, tenants.length, 'one token per tenant');

    const api = standin.state.api;
    assert.equal(api.length, tenants.length * CALLS, 'no call was sent twice');
    assert.equal(api.filter((r) => r.status === 429).length, 0, 'the stand-in never had to say 429');
    const worst = Math.max(...standin.state.perSecond.values());
    t.diagnostic(`busiest tenant-second: ${worst} requests (client limit ${RATE}/s + a burst of 2)`);
    assert.ok(worst <= LIMIT, `a tenant sent ${worst} requests in one second (limit ${LIMIT})`);

    // side by side: the seconds that carried the bulk of the run each served nearly every tenant
    const bySecond = new Map();
    for (const r of api) {
      const s = Math.floor(r.time / 1000);
      if (!bySecond.has(s)) bySecond.set(s, { n: 0, tenants: new Set() });
      bySecond.get(s).n++;
      bySecond.get(s).tenants.add(r.tenant);
    }
    const busy = [...bySecond.values()].filter((b) => b.n >= 100);
    t.diagnostic(`per second: ${[...bySecond.values()].map((b) => `${b.n} req/${b.tenants.size} tenants`).join(', ')}`);
    assert.ok(busy.length >= 1, 'the run had busy seconds');
    assert.ok(busy.reduce((a, b) => a + b.n, 0) >= api.length * 0.6, 'most requests fell in busy seconds');
    for (const b of busy) assert.ok(b.tenants.size >= 18, `a busy second served only ${b.tenants.size} tenants`);
  });
});

describe('appointd serve and the client', () => {
  test("/metrics has the ServiceTitan client's counters", { timeout: 60000 }, async () => {
    const standin = await startStandin();
    const srv = await startServer({
      env: {
        APPOINTD_ST_ENV: 'custom',
        APPOINTD_ST_AUTH_URL: standin.url,
        APPOINTD_ST_API_URL: standin.url,
        APPOINTD_ST_APP_KEY: 'ak1.standin',
      },
    });
    try {
      const text = await (await fetch(`${srv.url}/metrics`)).text();
      for (const outcome of ['ok', 'client_error', 'server_error', 'network', 'timeout', 'rate_limited', 'canceled']) {
        assert.match(text, new RegExp(`^appointd_titan_calls_total\\{outcome="${outcome}"\\} 0$`, 'm'));
      }
      for (const family of ['retries', 'token_fetches', 'limiter_waits', 'http_429', 'http_401']) {
        assert.match(text, new RegExp(`^# TYPE appointd_titan_${family}_total counter$`, 'm'));
      }
      assert.match(text, /^appointd_titan_calls_in_flight 0$/m);
    } finally {
      const r = await srv.stop();
      await standin.close();
      assert.equal(r.code, 0, `clean exit: ${r.stderr.slice(-2000)}`);
    }
  });
});
