// store-locks.test.mjs — the CLI beside a running server. SQLite's locks are
// POSIX fcntl locks, which a process loses on a file as soon as it closes any
// descriptor of it; a server that did (a health check opening appointd.db)
// let the next CLI run believe it was the last user, checkpoint and delete
// the live -wal, and every write the server answered afterwards went into a
// deleted file. Here: /healthz, a CLI write, a server write, kill -9, restart,
// and both writes must still be there; meanwhile no descriptor of the server
// may point at a deleted file. And a data dir inside web-root (whose files the
// server would open to serve them) is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { cli, run, startServer, tempDir, getJson, assertCleanExit } from './lib/appointd.mjs';
import { addOwner, login } from './lib/owner.mjs';

const OWNER = { email: 'owner@acme.test', password: 'owner-password-1' };

/** The targets of the server's descriptors that name deleted files. */
async function deletedDescriptors(pid) {
  const out = [];
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    let target;
    try {
      target = await readlink(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target.endsWith(' (deleted)')) out.push(`fd ${fd} -> ${target}`);
  }
  return out;
}

async function staffCanManageIntegrations(url, s) {
  const r = await getJson(`${url}/api/v1/roles`, { headers: { cookie: s.cookie } });
  assert.equal(r.status, 200, `GET /api/v1/roles: ${r.status} ${r.text}`);
  return r.body.roles.find((x) => x.role === 'staff').manageIntegrations;
}

test('writes of the CLI and of the server survive kill -9 after /healthz and a CLI run beside the server', async () => {
  const data = await tempDir();
  let srv;
  try {
    const dd = ['--data-dir', data.dir];
    await addOwner(data.dir, OWNER);

    srv = await startServer({ dataDir: data.dir });
    const h = await getJson(srv.url + '/healthz');
    assert.equal(h.status, 200, h.text);
    assert.deepEqual(await deletedDescriptors(srv.pid), [], 'after /healthz');

    // A CLI write beside the server (it opens and closes the database).
    let r = await cli(['account', 'create', 'Bolt Plumbing', ...dd]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await deletedDescriptors(srv.pid), [], 'after a CLI run');

    // Server writes: a session (login) and a role permission change.
    const s = await login(srv.url, OWNER);
    assert.equal(s.status, 200, s.text);
    assert.equal(await staffCanManageIntegrations(srv.url, s), false);
    const put = await getJson(`${srv.url}/api/v1/roles/staff/permissions`, {
      method: 'PUT',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ manageIntegrations: true }),
    });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(await deletedDescriptors(srv.pid), [], 'after the server wrote');

    // Another CLI run and health check, then a crash.
    assert.equal((await getJson(srv.url + '/healthz')).status, 200);
    r = await cli(['migrate', ...dd]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await deletedDescriptors(srv.pid), [], 'after a second CLI run');
    const killed = await srv.stop('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');

    srv = await startServer({ dataDir: data.dir });
    // The server's writes: the session still signs in, the grant is there.
    assert.equal(await staffCanManageIntegrations(srv.url, s), true, 'the permission grant was lost');
    // The CLI's write: the account made beside the server exists.
    r = await cli(['account', 'create', 'Bolt Plumbing', ...dd]);
    assert.equal(r.code, 1, 'the account made by the CLI beside the server was lost');
    assert.match(r.stderr, /already exists/);
    assertCleanExit(assert, await srv.stop());
    srv = null;
  } finally {
    if (srv) await srv.stop('SIGKILL');
    await data.cleanup();
  }
});

test('serve refuses a data dir inside web-root (it would serve the database and the key)', async () => {
  const tmp = await tempDir();
  try {
    const data = path.join(tmp.dir, 'var');
    const r = await run(['serve', '--listen', '127.0.0.1:0', '--data-dir', data, '--web-root', tmp.dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /data dir .*var is inside web-root .*; choose a data dir outside web-root/);
    assert.doesNotMatch(r.stderr, /event=server\.ready/);
  } finally {
    await tmp.cleanup();
  }
});
