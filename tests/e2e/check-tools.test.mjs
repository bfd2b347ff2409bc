// check-tools.test.mjs — the gate's own tools, run on made-up input:
// scripts/tap-count.mjs (what `make check` counts as passed, failed and
// skipped, and the names it gives) on node:test and meson/cmocka logs of
// every kind of result, and scripts/banned.mjs on a small tree of its own.
// A miscount here would hide a failure or a skip from everyone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function run(script, args) {
  return new Promise((resolve) => {
    execFile('node', [path.join(ROOT, 'scripts', script), ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

/** tap-count's answer for a log: {counts: [p, f, s], skips: [[name, why]], fails: [[name, why]]}. */
async function count(kind, text) {
  const dir = await mkdtemp(path.join(tmpdir(), 'tap-count-'));
  try {
    const file = path.join(dir, 'log');
    await writeFile(file, text);
    const r = await run('tap-count.mjs', [kind, file]);
    assert.equal(r.code, 0, r.stderr);
    const [first, ...rest] = r.stdout.trimEnd().split('\n');
    const rows = rest.map((l) => l.split('\t'));
    return {
      counts: first.split(' ').map(Number),
      skips: rows.filter((r) => r[0] === 'skip').map((r) => r.slice(1)),
      fails: rows.filter((r) => r[0] === 'fail').map((r) => r.slice(1)),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// What node 20's TAP reporter prints for each kind of result.
const NODE_LOG = `TAP version 13
# Subtest: passes
ok 1 - passes
  ---
  duration_ms: 1
  ...
# Subtest: skipped test
ok 2 - skipped test # SKIP no widget here
  ---
  duration_ms: 0
  ...
# Subtest: todo
not ok 3 - todo # TODO later
  ---
  duration_ms: 1
  ...
# Subtest: specs suite
ok 4 - specs suite # SKIP specs not found in /x
  ---
  duration_ms: 1
  type: 'suite'
  ...
# Subtest: suite
    # Subtest: fails
    not ok 1 - fails
      ---
      duration_ms: 1
      location: '${ROOT}tests/e2e/x.test.mjs:9:3'
      failureType: 'testCodeFailure'
      error: |-
        expected 200, got 500
        more
      ...
    # Subtest: cancelled
    not ok 2 - cancelled
      ---
      failureType: 'cancelledByParent'
      error: 'test did not finish before its parent and was cancelled'
      ...
    1..2
not ok 5 - suite
  ---
  type: 'suite'
  failureType: 'subtestsFailed'
  error: '1 subtest failed'
  ...
1..5
# tests 5
# suites 2
# pass 1
# fail 1
# cancelled 1
# skipped 1
# todo 1
`;

test('tap-count (node): pass, fail, cancelled, skipped test, skipped suite, todo', async () => {
  const r = await count('node', NODE_LOG);
  // skipped: node's 1 skipped test + 1 todo + the skipped suite, which node does not count
  assert.deepEqual(r.counts, [1, 2, 3]);
  assert.deepEqual(r.skips, [
    ['skipped test', 'no widget here'],
    ['todo', 'todo: later'],
    ['specs suite (a whole suite)', 'specs not found in /x'],
  ]);
  assert.deepEqual(r.fails, [
    ['fails [tests/e2e/x.test.mjs:9]', 'expected 200, got 500'],
    ['1 test(s)', 'cancelled because their suite or parent failed (above)'],
  ]);
});

test('tap-count (node): a log without a summary is a failure', async () => {
  const r = await count('node', 'TAP version 13\nSyntaxError: Unexpected token\n');
  assert.deepEqual(r.counts, [0, 1, 0]);
  assert.equal(r.fails[0][0], 'node --test');
});

/** meson's testlog.json: one object a line. */
const meson = (rows) => rows.map(({ name, ...r }) => JSON.stringify({ name: `appointd:${name}`, ...r })).join('\n') + '\n';

test('tap-count (meson): cmocka cases, skips of every form, and programs that fail after their cases', async () => {
  const r = await count(
    'meson',
    meson([
      // cmocka 1.1.5's skip(): "not ok N # SKIP name", exit 0; meson calls it FAIL
      { name: 'unit / a', stdout: '1..3\nok 1 - x\nnot ok 2 # SKIP test_y\nok 3 - z\n', result: 'FAIL', returncode: 0 },
      { name: 'unit / b', stdout: '1..2\nok 1 - x\nnot ok 2 - test_w\n', result: 'FAIL', returncode: 1 },
      // every case ok, then a sanitizer report: exit 1
      { name: 'unit / c', stdout: '1..2\nok 1 - x\nok 2 - y\n', result: 'FAIL', returncode: 1 },
      // a crash after two of three cases
      { name: 'unit / d', stdout: '1..3\nok 1 - x\nok 2 - y\n', result: 'FAIL', returncode: -11 },
      { name: 'unit / e', stdout: '1..0 # SKIP no ICU data\n', result: 'SKIP', returncode: 0 },
      { name: 'fuzz / f', stdout: '', result: 'SKIP', returncode: 77 },
      { name: 'fuzz / g', stdout: '', result: 'TIMEOUT', returncode: -15 },
      { name: 'fuzz / h', stdout: '', result: 'OK', returncode: 0 },
      { name: 'unit / i', stdout: '1..1\nok 1 - x # TODO not yet\n', result: 'OK', returncode: 0 },
    ]),
  );
  assert.deepEqual(r.counts, [2 + 1 + 2 + 2 + 1, 1 + 1 + 1 + 1, 4]);
  assert.deepEqual(r.skips, [
    ['unit / a: test_y', 'skip() called'],
    ['unit / e', 'no ICU data'],
    ['fuzz / f', 'exit status 77 (skipped by the program)'],
    ['unit / i: x', 'todo: not yet'],
  ]);
  assert.deepEqual(
    r.fails.map((f) => f[0]),
    ['unit / b: test_w', 'unit / c', 'unit / d', 'fuzz / g'],
  );
  assert.match(r.fails[2][1], /2 of 3 cases reported/);
});

test('tap-count (meson): no test log is a failure', async () => {
  const r = await count('meson', '');
  assert.deepEqual(r.counts, [0, 1, 0]);
});

test('banned.mjs: names file:line, the reason and the replacement; comments, strings and allowed uses pass', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'banned-'));
  try {
    await mkdir(path.join(dir, 'src/app'), { recursive: true });
    await mkdir(path.join(dir, 'src/json'), { recursive: true });
    await mkdir(path.join(dir, 'tests/unit'), { recursive: true });
    await mkdir(path.join(dir, 'build-aux/check'), { recursive: true });
    await writeFile(
      path.join(dir, 'src/app/a.c'),
      [
        '/* strcpy(a, b) in a comment */',
        'static const char *s = "sprintf(x) \\" strcat(";',
        'int f(struct x *p) { p->rand(); ap_system(1); return atoi("7"); }',
        '// system("rm -rf /")',
        'void g(char *d) { strcpy(d, "x"); }',
        'void h(char *d) { strcpy(d, "y"); }',
      ].join('\n'),
    );
    await writeFile(path.join(dir, 'src/app/b.c'), '#include <jansson.h>\n');
    await writeFile(path.join(dir, 'src/json/json.h'), '#include <jansson.h>\n');
    await writeFile(path.join(dir, 'tests/unit/t.c'), 'int main(void) { return system("true"); }\n');
    const allow = path.join(dir, 'build-aux/check/banned-allow.txt');
    await writeFile(allow, '# comment\nsrc/app/a.c strcpy 1 one is fine\n');

    let r = await run('banned.mjs', ['--root', dir]);
    assert.equal(r.code, 1);
    const lines = r.stdout.split('\n').filter((l) => /^src\//.test(l));
    assert.deepEqual(
      lines.map((l) => l.split(' ')[0]),
      ['src/app/b.c:1:', 'src/app/a.c:3:', 'src/app/a.c:5:', 'src/app/a.c:6:'],
    );
    assert.match(lines[0], /<jansson\.h> outside src\/json.*Use: #include "json\/json\.h"/);
    assert.match(lines[1], /atoi\(\) is banned: .*Use: strtol\(\)/);
    assert.match(lines[2], /strcpy\(\) is banned: .*allows 1 in this file.*Use: snprintf/);

    await writeFile(path.join(dir, 'src/app/a.c'), 'void h(char *d) { strcpy(d, "y"); }\n');
    await rm(path.join(dir, 'src/app/b.c'));
    r = await run('banned.mjs', ['--root', dir]);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /1 known uses allowed/);

    await writeFile(allow, 'src/app/a.c strcpy 2 two\n');
    r = await run('banned.mjs', ['--root', dir]);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /allows 2 strcpy\(\) in src\/app\/a\.c, which now has 1: lower or remove the line/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
