// master-key.test.mjs — a lost master key is never silently replaced. A new
// key is made only for a database that holds nothing sealed with the old
// one; otherwise appointd refuses to start, says which file is missing and
// how to restore it, and leaves the database as it was. Secrets are sealed
// here through the CLI path that seals (import-v1 seals each V1 API key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run, startServer, tempDir, assertCleanExit, SANITIZER_RE, SQLITE_ONLY, storedText } from './lib/appointd.mjs';

const V1_KEY = 'V1-KEY-4d2f9a31-0001';

/** A digest of everything the data dir's database stores. */
async function digest(dataDir) {
  return createHash('sha256').update(await storedText(dataDir)).digest('hex');
}

async function exists(file) {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Runs appointd to completion; a serve that should refuse must exit by itself. */
async function appointd(args) {
  const r = await run(args, { timeoutMs: 20000 });
  assert.doesNotMatch(r.stderr, SANITIZER_RE);
  assert.equal(r.timedOut, false, `appointd ${args.join(' ')} did not exit`);
  return r;
}

test('a missing master key is refused while secrets are sealed with it', async () => {
  const tmp = await tempDir();
  try {
    const data = path.join(tmp.dir, 'data');
    const keyFile = path.join(data, 'master.key');
    const csv = path.join(tmp.dir, 'v1.csv');
    await writeFile(csv, `tenant_id,account,v1_api_key\n1234567,Acme Heating,${V1_KEY}\n`);
    let r = await appointd(['import-v1', csv, '--data-dir', data]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await exists(keyFile), 'import-v1 made the key it sealed with');
    const backup = path.join(tmp.dir, 'master.key.backup');
    await copyFile(keyFile, backup);

    await rm(keyFile);
    const before = await digest(data);
    const serve = ['serve', '--listen', '127.0.0.1:0', '--data-dir', data];
    r = await appointd(serve);
    assert.equal(r.code, 1, `serve must refuse; stderr:\n${r.stderr}`);
    assert.ok(r.stderr.includes(`master key file ${keyFile} is missing`), r.stderr);
    assert.match(r.stderr, /holds 1 secret sealed with that key/);
    assert.match(r.stderr, /will not make a new key/);
    assert.match(r.stderr, /Restore the file from a backup of the data dir/);
    assert.match(r.stderr, /--master-key-file/);
    assert.doesNotMatch(r.stderr, /event=server\.ready/);
    assert.ok(!r.stderr.includes(V1_KEY) && !r.stdout.includes(V1_KEY), 'no secret in the output');
    assert.equal(await exists(keyFile), false, 'no new key was made');
    assert.equal(await digest(data), before, 'the database was not changed');

    // The CLI commands that seal refuse the same way.
    await writeFile(csv, 'tenant_id,account,v1_api_key\n7654321,Bolt Plumbing,V1-KEY-0002\n');
    r = await appointd(['import-v1', csv, '--data-dir', data]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /master key file .* is missing/);
    assert.equal(await exists(keyFile), false);
    assert.equal(await digest(data), before, 'the database was not changed');

    // Another key (one a fresh data dir made) is refused: the database records which key it uses.
    const elsewhere = path.join(tmp.dir, 'elsewhere');
    const made = await startServer({ dataDir: elsewhere });
    assertCleanExit(assert, await made.stop());
    r = await appointd([...serve, '--master-key-file', path.join(elsewhere, 'master.key')]);
    assert.equal(r.code, 1, `serve must refuse; stderr:\n${r.stderr}`);
    assert.match(r.stderr, /master key file .*elsewhere\/master\.key is not the key database .* is sealed with \(it holds 1 secret sealed with another key\)/);
    assert.equal(await digest(data), before, 'the database was not changed');

    // Pointing --master-key-file at the backup works, and so does restoring it.
    let srv = await startServer({ dataDir: data, args: ['--master-key-file', backup] });
    assertCleanExit(assert, await srv.stop());
    await copyFile(backup, keyFile);
    srv = await startServer({ dataDir: data });
    assertCleanExit(assert, await srv.stop());
    assert.equal(await readFile(keyFile, 'utf8'), await readFile(backup, 'utf8'), 'the key is the old one');
  } finally {
    await tmp.cleanup();
  }
});

// On PostgreSQL other servers may hold the old key: refused (store-postgres.test.mjs).
test('with nothing sealed, a missing key is created as on a first start', { skip: SQLITE_ONLY }, async () => {
  const tmp = await tempDir();
  try {
    const data = path.join(tmp.dir, 'data');
    const keyFile = path.join(data, 'master.key');
    const r = await appointd(['account', 'create', 'Acme Heating', '--data-dir', data]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await exists(keyFile), false, 'account create needs no key');

    let srv = await startServer({ dataDir: data });
    assertCleanExit(assert, await srv.stop());
    const st = await stat(keyFile);
    assert.equal(st.mode & 0o777, 0o600);
    const first = await readFile(keyFile, 'utf8');

    await rm(keyFile);
    srv = await startServer({ dataDir: data });
    assertCleanExit(assert, await srv.stop());
    assert.ok(await exists(keyFile), 'a new key was made');
    assert.notEqual(await readFile(keyFile, 'utf8'), first);
  } finally {
    await tmp.cleanup();
  }
});
