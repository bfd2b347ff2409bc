// store-health.test.mjs — /healthz tells the truth about a database that
// cannot be written. The running server's file-size limit is lowered with
// prlimit (writes then fail with EFBIG, as they would on a full disk): sign-in
// (which writes a session) answers 503, and /healthz must answer 503 too,
// naming the database and the reason, then recover once writing works again
// — both after a failed real write and, with no traffic at all, through the
// store's own write probe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startServer, tempDir, getJson, assertCleanExit, SQLITE_ONLY } from './lib/appointd.mjs';
import { addOwner, login } from './lib/owner.mjs';

const exec = promisify(execFile);
const OWNER = { email: 'owner@acme.test', password: 'owner-password-1' };

/** Sets the soft file-size limit of a running process ('unlimited' or bytes). */
async function fsizeLimit(pid, soft) {
  await exec('prlimit', ['--pid', String(pid), `--fsize=${soft}:`]);
}

/** Polls /healthz (bounded: the verdict is cached 1 s, the probe runs every 5 s) until status. */
async function healthzBecomes(url, status) {
  let r;
  for (let i = 0; i < 100; i++) {
    r = await getJson(url + '/healthz');
    if (r.status === status) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.equal(r.status, status, `/healthz stayed ${r.status}: ${r.text}`);
  return r;
}

function assertNamesTheReason(r, dataDir) {
  assert.equal(r.body.status, 'unavailable', r.text);
  assert.ok(r.body.db.includes(`${dataDir}/appointd.db`), `the reason names the database: ${r.text}`);
  assert.match(r.body.db, /cannot be written/, r.text);
  assert.match(r.body.db, /File too large/, 'the reason says why');
}

// PostgreSQL's counterpart (a read-only database): store-postgres.test.mjs.
test('/healthz answers 503 naming the database while it cannot be written, and recovers', { skip: SQLITE_ONLY }, async () => {
  const data = await tempDir();
  let srv;
  try {
    await addOwner(data.dir, OWNER);
    srv = await startServer({ dataDir: data.dir });
    assert.equal((await login(srv.url, OWNER)).status, 200);
    assert.equal((await getJson(srv.url + '/healthz')).status, 200);

    // A real write fails: sign-in cannot store its session.
    await fsizeLimit(srv.pid, 1);
    const refused = await login(srv.url, OWNER);
    assert.equal(refused.status, 503, refused.text);
    assertNamesTheReason(await healthzBecomes(srv.url, 503), data.dir);
    assert.match(srv.stderr(), /level=error event=db\.query .*stmt=insert\.sessions err=eio/,
      'the failed statement is logged by name');
    assert.match(srv.stderr(), /level=error event=db\.unwritable .*File too large/);

    // Writing works again: /healthz recovers (through its probe), and so does sign-in.
    await fsizeLimit(srv.pid, 'unlimited');
    await healthzBecomes(srv.url, 200);
    assert.equal((await login(srv.url, OWNER)).status, 200);

    // No traffic but /healthz: the probe alone finds it, and the recovery.
    await fsizeLimit(srv.pid, 1);
    assertNamesTheReason(await healthzBecomes(srv.url, 503), data.dir);
    await fsizeLimit(srv.pid, 'unlimited');
    await healthzBecomes(srv.url, 200);
    assert.equal((await login(srv.url, OWNER)).status, 200);

    assertCleanExit(assert, await srv.stop());
    srv = null;
  } finally {
    if (srv) await srv.stop('SIGKILL');
    await data.cleanup();
  }
});
