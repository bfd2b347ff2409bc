// cli.test.mjs — the command line as an operator meets it: help, version,
// mistakes answered with exit 2 and a usage line, and `appointd config`
// showing where each setting came from without ever printing a secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run, tempDir } from './lib/appointd.mjs';

/** The `name = value  # source` line for name in `appointd config` output. */
function configLine(stdout, name) {
  const re = new RegExp(`^${name}\\s*=\\s*(.*?)\\s+#\\s*(.+)$`, 'm');
  const m = re.exec(stdout);
  assert.ok(m, `no "${name} = ...  # source" line in:\n${stdout}`);
  return { value: m[1], source: m[2].trim() };
}

test('--help exits 0 and lists the commands', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const cmd of ['serve', 'migrate', 'config']) {
    assert.match(r.stdout, new RegExp(`\\b${cmd}\\b`), `--help does not mention ${cmd}`);
  }
});

test('--version prints the version', async () => {
  const r = await run(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'appointd 0.1.0');
});

test('an unknown command exits 2 naming it with a usage line', async () => {
  const r = await run(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /frobnicate/);
  assert.match(r.stderr, /usage|--help/i, 'no usage or pointer to --help');
  assert.equal(r.stdout, '', 'errors belong on stderr');
});

test('an unknown flag exits 2 naming it', async () => {
  for (const args of [['--frobnicate'], ['serve', '--lisen', '127.0.0.1:1'], ['config', '--nope']]) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr: ${r.stderr}`);
    const flag = args.find((a) => a.startsWith('--'));
    assert.ok(r.stderr.includes(flag), `${args.join(' ')}: stderr does not name ${flag}: ${r.stderr}`);
  }
});

test('config shows defaults with their source', async () => {
  const r = await run(['config']);
  assert.equal(r.code, 0, r.stderr);
  const listen = configLine(r.stdout, 'listen');
  assert.match(listen.source, /default/);
  assert.match(configLine(r.stdout, 'max-body').source, /default/);
});

test('config precedence: default < file < env < flag', async () => {
  const tmp = await tempDir();
  try {
    const file = path.join(tmp.dir, 'appointd.conf');
    await writeFile(file, 'listen = 127.0.0.1:9001\n');

    let r = await run(['config', '--config', file]);
    assert.equal(r.code, 0, r.stderr);
    let l = configLine(r.stdout, 'listen');
    assert.equal(l.value, '127.0.0.1:9001');
    assert.match(l.source, /file/);

    const env = { APPOINTD_LISTEN: '127.0.0.1:9002' };
    r = await run(['config', '--config', file], { env });
    assert.equal(r.code, 0, r.stderr);
    l = configLine(r.stdout, 'listen');
    assert.equal(l.value, '127.0.0.1:9002', 'env must override the file');
    assert.match(l.source, /env|APPOINTD_LISTEN/);

    r = await run(['config', '--config', file, '--listen', '127.0.0.1:9003'], { env });
    assert.equal(r.code, 0, r.stderr);
    l = configLine(r.stdout, 'listen');
    assert.equal(l.value, '127.0.0.1:9003', 'a flag must override env and file');
    assert.match(l.source, /flag|--listen|command/);
  } finally {
    await tmp.cleanup();
  }
});

test('config rejects a bad value naming the setting and its source', async () => {
  const r = await run(['config'], { env: { APPOINTD_LISTEN: 'not-an-address' } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /listen/);
  assert.match(r.stderr, /APPOINTD_LISTEN/);
});

test('config never prints a secret, only (set)/(unset)', async (t) => {
  const r = await run(['config']);
  assert.equal(r.code, 0, r.stderr);
  // Secrets are known by name (a path to a key file is not itself a secret).
  const names = [...r.stdout.matchAll(/^([a-z0-9-]+)\s*=/gm)].map((m) => m[1]);
  const secrets = names.filter((n) => /(secret|password|token|(^|-)key)$/.test(n));
  if (secrets.length === 0) {
    t.skip('no secret option in this build');
    return;
  }
  for (const name of secrets) {
    assert.equal(configLine(r.stdout, name).value, '(unset)', `${name} unset by default`);
    const canary = 'S3cr3tCanary-4242';
    const envName = 'APPOINTD_' + name.toUpperCase().replaceAll('-', '_');
    const s = await run(['config'], { env: { [envName]: canary } });
    assert.ok(!s.stdout.includes(canary) && !s.stderr.includes(canary), `${name} printed in clear`);
    if (s.code === 0) assert.equal(configLine(s.stdout, name).value, '(set)');
  }
});
