// lifecycle.test.mjs — starting and stopping as an operator sees it:
// SIGTERM drains in-flight work and exits 0, a data dir serves one process,
// and a bad data dir stops the start with one line that names the path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startServer, run, tempDir, getJson, assertCleanExit, SANITIZER_RE, SQLITE_ONLY } from './lib/appointd.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves the error code of a fresh TCP connection attempt, or 'connected'. */
function tryConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e) => resolve(e.code));
  });
}

/** stderr's non-empty lines. */
const lines = (s) => s.split('\n').filter((l) => l.trim() !== '');

test('SIGTERM lets an in-flight request finish, refuses new connections, exits 0', async () => {
  const srv = await startServer({ debugRoutes: true });
  try {
    const t0 = Date.now();
    const pending = getJson(srv.url + '/debug/sleep?ms=1500');
    await sleep(300); // the request is now being served
    srv.proc.kill('SIGTERM');
    await sleep(300);
    assert.equal(await tryConnect(srv.port), 'ECONNREFUSED', 'new connection accepted after SIGTERM');

    const r = await pending;
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { slept_ms: 1500 });
    assert.ok(Date.now() - t0 >= 1400, 'answered before the sleep was over');
  } finally {
    assertCleanExit(assert, await srv.stop());
  }
});

test('SIGTERM on an idle server exits 0 promptly', async () => {
  const srv = await startServer();
  const t0 = Date.now();
  const r = await srv.stop();
  assertCleanExit(assert, r);
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms to stop`);
});

// On PostgreSQL several servers share a database: store-postgres.test.mjs.
test('a second serve on the same data dir is refused, naming the first pid', { skip: SQLITE_ONLY }, async () => {
  const tmp = await tempDir();
  const first = await startServer({ dataDir: tmp.dir });
  try {
    const r = await run(['serve', '--listen', '127.0.0.1:0', '--data-dir', tmp.dir], { timeoutMs: 10000 });
    assert.equal(r.timedOut, false, 'second appointd kept running');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`in use by another appointd\\b.*\\(pid ${first.pid}\\)`), r.stderr);
    assert.ok(r.stderr.includes(tmp.dir), `the message does not name ${tmp.dir}`);
    assert.doesNotMatch(r.stderr, SANITIZER_RE);

    const h = await getJson(first.url + '/healthz');
    assert.equal(h.status, 200, 'the first server was disturbed');
  } finally {
    assertCleanExit(assert, await first.stop());
    await tmp.cleanup();
  }
});

test('a corrupt database stops the start with one line naming it', { skip: SQLITE_ONLY }, async () => {
  const tmp = await tempDir();
  try {
    const db = path.join(tmp.dir, 'appointd.db');
    await writeFile(db, 'this is not an SQLite database\n'.repeat(200));
    const r = await run(['serve', '--listen', '127.0.0.1:0', '--data-dir', tmp.dir], { timeoutMs: 10000 });
    assert.equal(r.timedOut, false, 'appointd started on a corrupt database');
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stderr, SANITIZER_RE);
    const l = lines(r.stderr);
    assert.equal(l.length, 1, `expected one stderr line, got:\n${r.stderr}`);
    assert.ok(l[0].includes(tmp.dir), `the line does not name ${tmp.dir}: ${l[0]}`);
  } finally {
    await tmp.cleanup();
  }
});

test('an unusable data dir stops the start with one line naming it', async () => {
  // CI runs as root, so permissions cannot make a dir unwritable: put the
  // data dir under a regular file instead.
  const tmp = await tempDir();
  try {
    const file = path.join(tmp.dir, 'a-file');
    await writeFile(file, 'x');
    const dataDir = path.join(file, 'data');
    const r = await run(['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], { timeoutMs: 10000 });
    assert.equal(r.timedOut, false, 'appointd started without a usable data dir');
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stderr, SANITIZER_RE);
    const l = lines(r.stderr);
    assert.equal(l.length, 1, `expected one stderr line, got:\n${r.stderr}`);
    assert.ok(l[0].includes(file), `the line does not name the path: ${l[0]}`);
  } finally {
    await tmp.cleanup();
  }
});

test('a data dir that does not exist yet is created', async () => {
  const tmp = await tempDir();
  try {
    const dataDir = path.join(tmp.dir, 'new');
    const srv = await startServer({ dataDir });
    const h = await getJson(srv.url + '/healthz');
    assert.equal(h.status, 200, h.text);
    assertCleanExit(assert, await srv.stop());
  } finally {
    await tmp.cleanup();
  }
});

test('a restart on the same data dir works: the lock is released, migrations rerun cleanly', async () => {
  const tmp = await tempDir();
  try {
    for (let i = 0; i < 2; i++) {
      const srv = await startServer({ dataDir: tmp.dir });
      const h = await getJson(srv.url + '/healthz');
      assert.deepEqual(h.body, { status: 'ok', version: '0.1.0', db: 'ok' }, `start ${i + 1}`);
      assertCleanExit(assert, await srv.stop());
    }
  } finally {
    await tmp.cleanup();
  }
});
