// edge.test.mjs — appointd's HTTP edge as a browser, a reverse proxy and a
// monitoring system meet it: `/` leads to the dashboard; every API answer
// and error says Cache-Control: no-store while static files keep ETag
// caching; with --public-url only that Host is served (421 otherwise) and a
// login's Origin must be exactly that URL; /metrics is not open to anyone
// (this machine only by default, a bearer token with --metrics-token, a
// listener of its own with --metrics-listen); bad settings stop the start
// with a line naming them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, run, startServer, tempDir, assertCleanExit } from './lib/appointd.mjs';
import { request, login } from './lib/client.mjs';

const OWNER = 'owner@acme.test';
const PW = 'the-owners-right-password';

async function addOwner(dir) {
  assert.equal((await cli(['account', 'create', 'Acme Heating', '--data-dir', dir])).code, 0);
  const add = await cli(['user', 'add', OWNER, '--account', 'Acme Heating', '--role', 'owner',
    '--password-stdin', '--data-dir', dir], { input: PW + '\n' });
  assert.equal(add.code, 0, add.stderr);
}

test('GET / redirects to the dashboard instead of a JSON 404', async () => {
  const srv = await startServer();
  try {
    for (const method of ['GET', 'HEAD']) {
      const r = await request(srv.url + '/', { method });
      assert.equal(r.status, 302, r.text);
      assert.equal(r.headers.location, '/admin/');
    }
    const page = await request(srv.url + '/admin/');
    assert.equal(page.status, 200);
    assert.match(page.text, /<html/i);
  } finally {
    assertCleanExit(assert, await srv.stop());
  }
});

test('API answers and errors carry Cache-Control: no-store; static files keep ETag caching', async () => {
  const srv = await startServer();
  await addOwner(srv.dataDir);
  try {
    const ok = await login(srv.url, OWNER, PW);
    assert.equal(ok.status, 200);
    const answers = [
      ok,
      await login(srv.url, OWNER, 'wrong-password!'),
      await request(srv.url + '/api/v1/me', { headers: { cookie: ok.cookie } }),
      await request(srv.url + '/api/v1/me'),
      await request(srv.url + '/api/v1/nothing-here'),
      await request(srv.url + '/api/v1/login'), // 405
      await request(srv.url + '/healthz'),
      await request(srv.url + '/'),
    ];
    for (const r of answers) assert.equal(r.headers['cache-control'], 'no-store', `${r.status} ${r.text}`);
    const file = await request(srv.url + '/admin/');
    assert.equal(file.status, 200);
    assert.equal(file.headers['cache-control'], undefined);
    assert.ok(file.headers.etag);
  } finally {
    assertCleanExit(assert, await srv.stop());
  }
});

test('--public-url: another Host gets 421; Origin must be exactly the public URL', async () => {
  const srv = await startServer({ args: ['--public-url', 'https://book.acme.test'] });
  await addOwner(srv.dataDir);
  const host = { host: 'book.acme.test' };
  try {
    const wrong = await request(srv.url + '/api/v1/me');
    assert.equal(wrong.status, 421);
    assert.equal(wrong.body.error.code, 'host_not_allowed');
    assert.match(wrong.body.error.message, /https:\/\/book\.acme\.test/);
    assert.equal((await request(srv.url + '/admin/')).status, 421, 'static files too');
    // health checks and scrapes answer whatever Host they name
    assert.equal((await request(srv.url + '/healthz')).status, 200);

    // the public URL is https: the session cookie is Secure
    const ok = await login(srv.url, OWNER, PW, { headers: { ...host, origin: 'https://book.acme.test' } });
    assert.equal(ok.status, 200, ok.text);
    assert.match(ok.setCookie, /;\s*Secure/);
    for (const origin of ['http://book.acme.test', 'https://book.acme.test:8443', 'https://evil.test', 'null']) {
      const r = await login(srv.url, OWNER, PW, { headers: { ...host, origin } });
      assert.equal(r.status, 403, `${origin}: ${r.text}`);
      assert.equal(r.body.error.code, 'csrf_failed');
    }
  } finally {
    assertCleanExit(assert, await srv.stop());
  }
});

test('/metrics by default answers this machine only, not requests a proxy relayed', async () => {
  const srv = await startServer();
  try {
    const direct = await request(srv.url + '/metrics');
    assert.equal(direct.status, 200);
    assert.match(direct.text, /^# TYPE http_requests_total counter$/m);
    const relayed = await request(srv.url + '/metrics', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(relayed.status, 403);
    assert.match(relayed.body.error.message, /metrics-token or metrics-listen/);
    assert.doesNotMatch(relayed.text, /http_requests_total/);
  } finally {
    assertCleanExit(assert, await srv.stop());
  }
});

test('--metrics-token: a scrape must send the bearer token, which is never printed', async () => {
  const token = 'metrics-token-7f3a9c1e5b';
  const srv = await startServer({ env: { APPOINTD_METRICS_TOKEN: token } });
  try {
    for (const auth of [undefined, 'Bearer wrong-token', `Basic ${token}`, `Bearer ${token}x`]) {
      const r = await request(srv.url + '/metrics', { headers: auth ? { authorization: auth } : {} });
      assert.equal(r.status, 401, `${auth}: ${r.text}`);
      assert.match(r.headers['www-authenticate'] || '', /^Bearer/);
    }
    const ok = await request(srv.url + '/metrics', {
      headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.9' },
    });
    assert.equal(ok.status, 200, 'with the token, from anywhere');
    assert.match(ok.text, /http_requests_total/);
    const conf = await run(['config'], { env: { APPOINTD_METRICS_TOKEN: token } });
    assert.match(conf.stdout, /^metrics-token = \(set\)/m);
    assert.doesNotMatch(conf.stdout + conf.stderr, new RegExp(token));
  } finally {
    const r = await srv.stop();
    assertCleanExit(assert, r);
    assert.doesNotMatch(r.stderr, new RegExp(token), 'the token never reaches the log');
  }
});

test('--metrics-listen: /metrics (and /healthz) move to their own listener', async () => {
  const srv = await startServer({ args: ['--metrics-listen', '127.0.0.1:0'] });
  try {
    const m = /event=metrics\.listen\b.*?\baddr="?127\.0\.0\.1:(\d+)/.exec(srv.stderr());
    assert.ok(m, srv.stderr());
    const murl = `http://127.0.0.1:${m[1]}`;
    const main = await request(srv.url + '/metrics');
    assert.equal(main.status, 404);
    assert.match(main.body.error.message, /metrics-listen/);
    const scrape = await request(murl + '/metrics', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(scrape.status, 200);
    assert.match(scrape.text, /^# TYPE http_requests_total counter$/m, "the main listener's metrics");
    assert.equal((await request(murl + '/healthz')).status, 200);
    assert.equal((await request(murl + '/api/v1/me')).status, 404, 'nothing else there');
  } finally {
    assertCleanExit(assert, await srv.stop());
  }
});

test('bad --trusted-proxies or --public-url stop the start with a line naming them', async () => {
  for (const [flag, value, want] of [
    ['--trusted-proxies', '10.0.0.0/33', /bad trusted-proxies: '10\.0\.0\.0\/33' is not an IPv4 or IPv6 address or CIDR/],
    ['--trusted-proxies', 'proxy.internal', /bad trusted-proxies: 'proxy\.internal'/],
    ['--public-url', 'book.acme.test', /bad public-url: 'book\.acme\.test' is not an http:\/\/ or https:\/\/ URL/],
  ]) {
    const tmp = await tempDir();
    try {
      const r = await run(['serve', '--listen', '127.0.0.1:0', '--data-dir', tmp.dir, flag, value]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, want);
    } finally {
      await tmp.cleanup();
    }
  }
});
