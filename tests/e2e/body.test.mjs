// body.test.mjs — request bodies: valid JSON is parsed (echoed back by the
// test-only /debug/echo route), malformed JSON and bodies over --max-body are
// refused with the documented error shape, and the server stays healthy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, getJson, assertCleanExit } from './lib/appointd.mjs';

let srv; // --max-body 1k
let dflt; // default max-body (1m)
before(async () => {
  [srv, dflt] = await Promise.all([
    startServer({ debugRoutes: true, args: ['--max-body', '1k'] }),
    startServer({ debugRoutes: true }),
  ]);
});
after(async () => {
  const results = await Promise.all([srv?.stop(), dflt?.stop()]);
  for (const r of results) if (r) assertCleanExit(assert, r);
});

function echo(server, body) {
  return getJson(server.url + '/debug/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
}

function assertError(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get('content-type') || '', /^application\/json/);
  assert.equal(r.body?.error?.code, code, r.text);
  assert.equal(typeof r.body.error.message, 'string');
  assert.ok(r.body.error.message.length > 0, 'empty error message');
}

test('valid JSON is echoed back intact', async () => {
  const doc = { name: 'Zoë Ångström', n: 42, f: 1.5, ok: true, none: null, list: [1, 'two', { three: [3] }] };
  const r = await echo(srv, JSON.stringify(doc));
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') || '', /^application\/json/);
  assert.deepEqual(r.body, doc);
});

test('malformed JSON is a 400 invalid_json', async () => {
  for (const bad of ['{"a":', '{a:1}', 'nope', '{"a":1}}']) {
    const r = await echo(srv, bad);
    assertError(r, 400, 'invalid_json');
  }
});

test('an empty body is a 400 with a JSON error', async () => {
  const r = await echo(srv, '');
  assert.equal(r.status, 400, r.text);
  assert.match(r.body?.error?.code ?? '', /^[a-z_]+$/, r.text);
});

test('a body over --max-body is a 413 body_too_large', async () => {
  const small = JSON.stringify({ pad: 'x'.repeat(900) }); // < 1 KiB
  const ok = await echo(srv, small);
  assert.equal(ok.status, 200, ok.text);

  const big = JSON.stringify({ pad: 'x'.repeat(2048) });
  assertError(await echo(srv, big), 413, 'body_too_large');

  const h = await getJson(srv.url + '/healthz');
  assert.equal(h.status, 200, 'server unhealthy after a 413');
});

test('the default limit is 1 MiB', async () => {
  const under = JSON.stringify({ pad: 'y'.repeat(1000 * 1000) });
  const ok = await echo(dflt, under);
  assert.equal(ok.status, 200, ok.text.slice(0, 200));
  assert.equal(ok.body.pad.length, 1000 * 1000);

  const over = JSON.stringify({ pad: 'y'.repeat(1100 * 1024) });
  assertError(await echo(dflt, over), 413, 'body_too_large');
});

test('a chunked body over the limit is refused too', async () => {
  // Raw socket: fetch gives up on a request whose upload the server cut
  // short, even when the 413 has arrived; a real client reads the answer.
  const body = JSON.stringify({ pad: 'z'.repeat(3000) });
  const chunks = body.match(/[^]{1,1000}/g).map((c) => `${c.length.toString(16)}\r\n${c}\r\n`);
  const req =
    'POST /debug/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
    'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n' + chunks.join('') + '0\r\n\r\n';
  const raw = await new Promise((resolve, reject) => {
    let buf = '';
    const s = net.connect({ host: '127.0.0.1', port: srv.port }, () => s.write(req));
    s.setEncoding('utf8');
    s.on('data', (d) => (buf += d));
    s.on('error', (e) => (buf ? resolve(buf) : reject(e)));
    s.on('close', () => resolve(buf));
  });
  const [head, text] = raw.split('\r\n\r\n', 2);
  assert.match(head, /^HTTP\/1\.1 413 /, raw);
  assert.equal(JSON.parse(text)?.error?.code, 'body_too_large', raw);
});
