// v1import.test.mjs — `appointd import-v1` and `appointd migration-status` as
// an operator meets them: a V1 export with good and bad rows imports the good
// ones (exit 3, "partly imported"), names every bad row by its line on
// stderr, never prints a V1 key, leaves the accounts in
// v1_migration_required with their Tenant ID pre-filled but unconfirmed, and
// re-running the same file changes nothing. The same through JSON lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run, tempDir, SANITIZER_RE } from './lib/appointd.mjs';

const GOOD_KEYS = ['V1-GOOD-6a1f0c9e-0001', 'V1-GOOD-"quoted"-0002'];
const BAD_KEYS = ['V1-BAD-0003', 'V1-BAD-0004', 'V1-BAD-0005', 'V1-BAD-0006'];

// line 1 header (columns in another order), 2 good, 3 bad tenant, 4 empty
// account, 5 missing key, 6 blank, 7 malformed quote, 8 too long, 9 good
// (quoted, with a comma and doubled quotes), 10 tenant 0
const CSV = [
  'tenant_id,account,v1_api_key',
  `1234567,Acme Heating,${GOOD_KEYS[0]}`,
  `12x4567,Bad Tenant Co,${BAD_KEYS[0]}`,
  `555,,${BAD_KEYS[1]}`,
  '556,No Key Co,',
  '',
  `557,"Broken Quote Co,${BAD_KEYS[2]}`,
  `558,Long Line Co,${'x'.repeat(3000)}`,
  `7654321,"Smith, Jones & Co","${GOOD_KEYS[1].replace(/"/g, '""')}"`,
  `0,Zero Co,${BAD_KEYS[3]}`,
].join('\n');

async function importV1(dataDir, file, extra = []) {
  const r = await run(['import-v1', file, '--data-dir', dataDir, ...extra]);
  assert.doesNotMatch(r.stderr, SANITIZER_RE);
  return r;
}

async function migrationStatus(dataDir) {
  const r = await run(['migration-status', '--json', '--data-dir', dataDir]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function assertNoKeys(text, keys, where) {
  for (const k of keys) assert.ok(!text.includes(k), `${where} holds the V1 key ${k}:\n${text}`);
}

test('a CSV with good and bad rows imports the good ones and names the bad lines', async () => {
  const tmp = await tempDir();
  try {
    const file = path.join(tmp.dir, 'v1-accounts.csv');
    await writeFile(file, CSV);
    const data = path.join(tmp.dir, 'data');

    const r = await importV1(data, file);
    assert.equal(r.code, 3, `exit 3 (partly imported) expected; stderr:\n${r.stderr}`);
    const expected = {
      3: /line 3: the tenant id is not a positive whole number; skipped/,
      4: /line 4: the account name is empty; skipped/,
      5: /line 5: the V1 API key is missing; skipped/,
      7: /line 7: field 2 has a quote that is not closed/,
      8: /line 8: the line is longer than 2048 bytes; skipped/,
      10: /line 10: the tenant id is not a positive whole number; skipped/,
    };
    for (const re of Object.values(expected)) assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /line (1|2|6|9):/, 'a good or blank line was reported');
    assert.match(r.stdout, /imported 2 rows \(2 changed, 0 already up to date, 2 accounts created\); skipped 6/);
    assertNoKeys(r.stdout + r.stderr, [...GOOD_KEYS, ...BAD_KEYS], 'import-v1 output');

    const st = await migrationStatus(data);
    assert.equal(st.counts.v1_migration_required, 2);
    assert.equal(st.accounts.length, 2, `only the good rows become accounts: ${JSON.stringify(st)}`);
    const byName = Object.fromEntries(st.accounts.map((a) => [a.account, a]));
    assert.deepEqual(
      [byName['Acme Heating']?.tenantId, byName['Smith, Jones & Co']?.tenantId],
      [1234567, 7654321],
    );
    for (const a of st.accounts) {
      assert.equal(a.state, 'v1_migration_required');
      assert.equal(a.tenantConfirmed, false);
      assert.equal(a.v1KeyStored, true);
      assert.equal(a.connectedAt, null);
    }

    // the human table: a count per state and one line per account
    const t = await run(['migration-status', '--data-dir', data]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^v1_migration_required\s+2$/m);
    assert.match(t.stdout, /^connected\s+0$/m);
    assert.match(t.stdout, /^Smith, Jones & Co\s+v1_migration_required\s+7654321\s+no\s+held\s+-$/m);

    // the same file again: the same rows, nothing written, no duplicates
    const again = await importV1(data, file, ['--json']);
    assert.equal(again.code, 3, again.stderr);
    const sum = JSON.parse(again.stdout);
    assert.deepEqual(
      [sum.ok, sum.imported, sum.changed, sum.unchanged, sum.accountsCreated, sum.skipped],
      [true, 2, 0, 2, 0, 6],
    );
    assert.equal(sum.problems.length, 6);
    assert.match(sum.problems[0], /^line 3: /);
    assertNoKeys(again.stdout + again.stderr, [...GOOD_KEYS, ...BAD_KEYS], 'import-v1 --json');
    assert.deepEqual(await migrationStatus(data), st);
  } finally {
    await tmp.cleanup();
  }
});

test('JSON lines import, exit 0 when every row is good; a changed key re-seals', async () => {
  const tmp = await tempDir();
  try {
    const data = path.join(tmp.dir, 'data');
    const file = path.join(tmp.dir, 'export.jsonl');
    const rows = [
      { account: 'Gamma Air', tenantId: 3141592, v1ApiKey: 'V1-J-0001' },
      { account: 'Delta Drains', tenantId: '2718281', v1ApiKey: 'V1-J-0002' },
    ];
    await writeFile(file, rows.map((o) => JSON.stringify(o)).join('\n') + '\n');
    const r = await importV1(data, file, ['--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      ok: true, imported: 2, changed: 2, unchanged: 0, accountsCreated: 2, skipped: 0, problems: [],
    });
    let st = await migrationStatus(data);
    assert.deepEqual(
      st.accounts.map((a) => [a.account, a.state, a.tenantId, a.tenantConfirmed]),
      [
        ['Delta Drains', 'v1_migration_required', 2718281, false],
        ['Gamma Air', 'v1_migration_required', 3141592, false],
      ],
    );

    // content decides when the name does not: a JSON-lines file called .txt
    const txt = path.join(tmp.dir, 'export.txt');
    rows[0].v1ApiKey = 'V1-J-0001-rotated';
    rows.push('not json at all');
    await writeFile(txt, rows.map((o) => (typeof o === 'string' ? o : JSON.stringify(o))).join('\n'));
    const r2 = await importV1(data, txt, ['--json']);
    assert.equal(r2.code, 3, r2.stderr);
    const sum = JSON.parse(r2.stdout);
    assert.deepEqual([sum.changed, sum.unchanged, sum.skipped], [1, 1, 1]);
    assert.match(r2.stderr, /line 3: malformed JSON at column \d+; skipped/);
    assertNoKeys(r2.stdout + r2.stderr, ['V1-J-0001', 'V1-J-0002'], 'JSON-lines import output');
    st = await migrationStatus(data);
    assert.equal(st.accounts.length, 2);
  } finally {
    await tmp.cleanup();
  }
});

test('an imported account shows its Tenant ID unconfirmed in fms status', async () => {
  const tmp = await tempDir();
  try {
    const data = path.join(tmp.dir, 'data');
    const file = path.join(tmp.dir, 'one.csv');
    await writeFile(file, 'account,tenant_id,v1_api_key\r\nSolo Heating,4242424,V1-SOLO-KEY\r\n');
    assert.equal((await importV1(data, file)).code, 0);
    // fms status reads the store only; the app key is needed to open the client
    const r = await run(['fms', 'status', 'Solo Heating', '--json', '--data-dir', data], {
      env: { APPOINTD_ST_APP_KEY: 'ak1.not-used-by-status' },
    });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.state, 'v1_migration_required');
    assert.equal(s.tenantId, 4242424);
    assert.equal(s.tenantConfirmed, false);
    assert.ok(!r.stdout.includes('V1-SOLO-KEY'), 'fms status shows the V1 key');
  } finally {
    await tmp.cleanup();
  }
});

test('import-v1 refuses what it cannot read: exit 1 with the reason, exit 2 without a file', async () => {
  const tmp = await tempDir();
  try {
    const data = path.join(tmp.dir, 'data');
    const missing = await importV1(data, path.join(tmp.dir, 'nope.csv'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot open .*nope\.csv: No such file/);

    const noHeader = path.join(tmp.dir, 'noheader.csv');
    await writeFile(noHeader, 'Acme Heating,1234567,V1-NOHEADER-KEY\n');
    const nh = await importV1(data, noHeader);
    assert.equal(nh.code, 1);
    assert.match(nh.stderr, /line 1: the header has no column account/);
    assertNoKeys(nh.stderr, ['V1-NOHEADER-KEY'], 'header error');
    assert.equal((await migrationStatus(data)).accounts.length, 0);

    const usage = await run(['import-v1', '--data-dir', data]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: appointd import-v1 FILE/);
    const extra = await run(['migration-status', 'what', '--data-dir', data]);
    assert.equal(extra.code, 2);
  } finally {
    await tmp.cleanup();
  }
});
