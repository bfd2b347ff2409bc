// store-postgres.test.mjs — appointd on PostgreSQL as an operator meets it:
// two servers on one database (no data-dir lock; a session made on one is
// good on the other); /healthz telling the truth when the database refuses
// writes (read-only, as after a failover to a standby) or connections, and
// recovering, and across a restart of PostgreSQL itself (503 at once
// meanwhile, never a hang, nothing lost; in the middle of a burst of
// bookings: store-postgres-burst.test.mjs); `appointd db copy` moving a SQLite data dir into PostgreSQL
// (the owner signs in on the copy, a second run writes nothing, a database
// holding other data and a source with a server still on it are refused);
// the URL's password never printed. Each test makes databases of its own on
// the test server (lib/pg.mjs), so this file runs once, in the SQLite pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { cli, run, startServer, tempDir, getJson, assertCleanExit, ON_POSTGRES } from './lib/appointd.mjs';
import { addOwner, login } from './lib/owner.mjs';
import { available, sharedPostgres, startPostgres } from './lib/pg.mjs';

const OWNER = { email: 'owner@acme.test', password: 'owner-password-1' };
const PASSWORD = 'pw-' + randomBytes(6).toString('hex'); // in every URL: never to be printed
const SKIP = ON_POSTGRES
  ? 'runs once, in the SQLite pass (it makes its own databases)'
  : !(await available()) && 'no PostgreSQL server binaries here (scripts/deps installs them)';

/** A fresh database on the test server; its URL (with a password the server ignores). */
async function freshDatabase() {
  const pg = await sharedPostgres();
  const name = 'e2e_' + randomBytes(6).toString('hex');
  await pg.psql(`CREATE DATABASE ${name}`);
  return { pg, name, url: pg.urlFor(name, { password: PASSWORD }) };
}

/** Polls /healthz (bounded; the verdict is cached 1 s, the probe runs every 5 s) until status. */
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

/** Ends every session of database name, as a restart or a failover would. */
async function killSessions(db) {
  await db.pg.psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.name}'`);
}

function assertNoPassword(text, where) {
  assert.ok(!text.includes(PASSWORD), `${where} holds the database password`);
}

async function staffCanManageIntegrations(url, s) {
  const r = await getJson(`${url}/api/v1/roles`, { headers: { cookie: s.cookie } });
  assert.equal(r.status, 200, `GET /api/v1/roles: ${r.status} ${r.text}`);
  return r.body.roles.find((x) => x.role === 'staff').manageIntegrations;
}

test('two servers share one PostgreSQL database: no data-dir lock, a session made on one works on the other', { skip: SKIP }, async () => {
  const db = await freshDatabase();
  const a = await tempDir();
  const b = await tempDir();
  let one;
  let two;
  try {
    const dbArgs = ['--database', db.url];
    let r = await cli(['account', 'create', 'Acme Heating', '--data-dir', a.dir, ...dbArgs]);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['user', 'add', OWNER.email, '--account', 'Acme Heating', '--role', 'owner',
      '--password-stdin', '--data-dir', a.dir, ...dbArgs], { input: OWNER.password + '\n' });
    assert.equal(r.code, 0, r.stderr);
    one = await startServer({ dataDir: a.dir, args: dbArgs });
    // a second machine that made a key of its own would seal what the first cannot read: refused
    r = await run(['serve', '--listen', '127.0.0.1:0', '--data-dir', b.dir, ...dbArgs], { timeoutMs: 20000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /master key file .*master\.key is not the key of the other appointd on database postgresql:\/\/postgres@\S+; every appointd of one database needs the same key/);
    assertNoPassword(r.stderr, 'the refusal');
    // the second shares the first one's master key, as a second machine would get a copy
    two = await startServer({ dataDir: b.dir, args: [...dbArgs, '--master-key-file', path.join(a.dir, 'master.key')] });
    // even on the same data dir: several servers on one database is the point
    const three = await startServer({ dataDir: a.dir, args: dbArgs });
    assert.equal((await getJson(three.url + '/healthz')).status, 200);
    assertCleanExit(assert, await three.stop());

    const s = await login(one.url, OWNER);
    assert.equal(s.status, 200, s.text);
    assert.equal(await staffCanManageIntegrations(two.url, s), false, 'the session made on one works on two');
    const put = await getJson(`${two.url}/api/v1/roles/staff/permissions`, {
      method: 'PUT',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ manageIntegrations: true }),
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(await staffCanManageIntegrations(one.url, s), true, 'a write on two is read on one');

    for (const srv of [one, two]) {
      assertNoPassword(srv.stderr(), 'the log');
      assert.match(srv.stderr(), /event=server\.ready .*database="postgresql:\/\/postgres@.*password=\*\*\*"/);
    }
    r = await run(['config', '--data-dir', a.dir, ...dbArgs]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^database = postgresql:\/\/postgres@.*password=\*\*\*/m);
    assertNoPassword(r.stdout + r.stderr, 'appointd config');
    r = await run(['config', '--database', `postgresql://app:${PASSWORD}@db.example:5432/appointd`]);
    assert.match(r.stdout, /^database = postgresql:\/\/app:\*\*\*@db\.example:5432\/appointd {2}# flag$/m);
    assertNoPassword(r.stdout + r.stderr, 'appointd config');
    assertCleanExit(assert, await one.stop());
    assertCleanExit(assert, await two.stop());
    one = two = null;
  } finally {
    if (one) await one.stop('SIGKILL');
    if (two) await two.stop('SIGKILL');
    await a.cleanup();
    await b.cleanup();
  }
});

test('/healthz on PostgreSQL: 503 naming the database while it refuses writes or connections, and back', { skip: SKIP }, async () => {
  const db = await freshDatabase();
  const data = await tempDir();
  let srv;
  try {
    const dbArgs = ['--database', db.url];
    let r = await cli(['account', 'create', 'Acme Heating', '--data-dir', data.dir, ...dbArgs]);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['user', 'add', OWNER.email, '--account', 'Acme Heating', '--role', 'owner',
      '--password-stdin', '--data-dir', data.dir, ...dbArgs], { input: OWNER.password + '\n' });
    assert.equal(r.code, 0, r.stderr);
    srv = await startServer({ dataDir: data.dir, args: dbArgs });
    assert.equal((await getJson(srv.url + '/healthz')).status, 200);

    // read-only, as a standby after a failover: reads work, writes are refused
    await db.pg.psql(`ALTER DATABASE ${db.name} SET default_transaction_read_only = on`);
    await killSessions(db);
    const refused = await login(srv.url, OWNER); // reads the user, cannot store a session
    assert.equal(refused.status, 503, refused.text);
    let h = await healthzBecomes(srv.url, 503);
    assert.equal(h.body.status, 'unavailable', h.text);
    assert.match(h.body.db, /cannot be written: .*read-only transaction/, h.text);
    assert.ok(h.body.db.includes(db.name), `the reason names the database: ${h.text}`);
    assertNoPassword(h.text, '/healthz');
    await db.pg.psql(`ALTER DATABASE ${db.name} RESET default_transaction_read_only`);
    await killSessions(db);
    await healthzBecomes(srv.url, 200);
    assert.equal((await login(srv.url, OWNER)).status, 200);

    // connections refused, as while the server restarts
    await db.pg.psql(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
    await killSessions(db);
    h = await healthzBecomes(srv.url, 503);
    assert.match(h.body.db, /cannot be reached: .*not currently accepting connections/, h.text);
    assert.equal((await login(srv.url, OWNER)).status, 503);
    await db.pg.psql(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
    await healthzBecomes(srv.url, 200);
    assert.equal((await login(srv.url, OWNER)).status, 200);
    assert.match(srv.stderr(), /event=db\.reconnected/);
    assertNoPassword(srv.stderr(), 'the log');
    assertCleanExit(assert, await srv.stop());
    srv = null;
  } finally {
    if (srv) await srv.stop('SIGKILL');
    await data.cleanup();
  }
});

/** fetch that fails (rather than hangs) after 15 s: a request must be answered, 503 or not. */
function answered(url, init = {}) {
  return getJson(url, { ...init, signal: AbortSignal.timeout(15000) });
}

test('PostgreSQL restarted under a running server: 503 meanwhile, never a hang; everything written is there after', { skip: SKIP }, async () => {
  const pg = await startPostgres(); // its own: the others' server keeps running
  const data = await tempDir();
  let srv;
  try {
    await pg.psql('CREATE DATABASE restart');
    const dbArgs = ['--database', pg.urlFor('restart')];
    let r = await cli(['account', 'create', 'Acme Heating', '--data-dir', data.dir, ...dbArgs]);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['user', 'add', OWNER.email, '--account', 'Acme Heating', '--role', 'owner',
      '--password-stdin', '--data-dir', data.dir, ...dbArgs], { input: OWNER.password + '\n' });
    assert.equal(r.code, 0, r.stderr);
    srv = await startServer({ dataDir: data.dir, args: dbArgs });
    const s = await login(srv.url, OWNER);
    assert.equal(s.status, 200, s.text);
    const grant = (on) => answered(`${srv.url}/api/v1/roles/staff/permissions`, {
      method: 'PUT',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ manageIntegrations: on }),
    });
    assert.equal((await grant(true)).status, 200);

    await pg.halt();
    const h = await answered(srv.url + '/healthz');
    assert.equal(h.status, 503, h.text);
    assert.match(h.body.db, /cannot be reached/, h.text);
    assert.equal((await answered(`${srv.url}/api/v1/roles`, { headers: { cookie: s.cookie } })).status, 503);
    assert.equal((await grant(false)).status, 503);
    const refused = await answered(`${srv.url}/api/v1/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(OWNER),
    });
    assert.equal(refused.status, 503, refused.text);

    await pg.resume();
    await healthzBecomes(srv.url, 200);
    assert.equal(await staffCanManageIntegrations(srv.url, s), true, 'the grant made before the restart is there');
    assert.equal((await grant(false)).status, 200, 'writes work again');
    assert.equal(await staffCanManageIntegrations(srv.url, s), false);
    assert.equal((await login(srv.url, OWNER)).status, 200);
    assert.match(srv.stderr(), /event=db\.reconnected/);
    assertCleanExit(assert, await srv.stop());
    srv = null;
  } finally {
    if (srv) await srv.stop('SIGKILL');
    await data.cleanup();
    await pg.stop();
  }
});

test('appointd db copy moves a SQLite data dir into PostgreSQL, once, and refuses what it must', { skip: SKIP }, async () => {
  const db = await freshDatabase();
  const data = await tempDir();
  let srv;
  try {
    await addOwner(data.dir, OWNER); // on SQLite, in the data dir
    // a session and a permission change, made by a server on SQLite
    srv = await startServer({ dataDir: data.dir });
    const s = await login(srv.url, OWNER);
    assert.equal(s.status, 200, s.text);
    const copy = ['db', 'copy', '--from', `sqlite:${data.dir}`, '--to', db.url];
    // not while a server still writes to the source
    let r = await cli(copy);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /in use by another appointd serve \(pid \d+\)/);
    assertCleanExit(assert, await srv.stop());
    srv = null;

    r = await cli(copy);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^accounts +1 +1 +1$/m);
    assert.match(r.stdout, /^users +1 +1 +1$/m);
    assert.match(r.stdout, /^sessions +1 +1 +1$/m);
    assert.match(r.stdout, /copied \d+ tables from .*appointd\.db to postgresql:\/\/postgres@.*password=\*\*\*; the row counts match/);
    assertNoPassword(r.stdout + r.stderr, 'db copy');

    // again: nothing written
    r = await cli([...copy, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.ok(rep.tables.length >= 6);
    for (const t of rep.tables) {
      assert.equal(t.written, 0, `${t.table} written again`);
      assert.equal(t.source, t.target, t.table);
    }

    // the copy serves: the owner's session made on SQLite is still good, and signing in works
    srv = await startServer({ dataDir: data.dir, args: ['--database', db.url] });
    assert.equal(await staffCanManageIntegrations(srv.url, s), false);
    assert.equal((await login(srv.url, OWNER)).status, 200);
    // new rows get ids past the copied ones
    r = await cli(['account', 'create', 'Bolt Plumbing', '--data-dir', data.dir, '--database', db.url, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).id, 2);
    assertCleanExit(assert, await srv.stop());
    srv = null;

    // a database holding data of its own is refused, untouched
    const other = await freshDatabase();
    r = await cli(['account', 'create', 'Mine', '--data-dir', data.dir, '--database', other.url]);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['db', 'copy', '--from', `sqlite:${data.dir}`, '--to', other.url]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already holds data \(rows: accounts: 1, role_permissions: 4\); copy into an empty database/);
    assert.equal(await other.pg.psql('SELECT count(*) FROM accounts', other.name), '1');

    // usage
    r = await run(['db', 'copy', '--from', `sqlite:${data.dir}`]);
    assert.equal(r.code, 2);
    r = await cli(['db', 'copy', '--from', `sqlite:${data.dir}/nope`, '--to', db.url]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nope: no such data dir or database file/);
  } finally {
    if (srv) await srv.stop('SIGKILL');
    await data.cleanup();
  }
});
