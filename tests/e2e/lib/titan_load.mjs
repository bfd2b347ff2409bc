// titan_load.mjs — runs the load driver of the ServiceTitan client
// (tests/titan_load/titan_load) for the e2e tests, and checks what every run
// must show: a clean exit, no sanitizer report, no secret or token in its
// output.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SANITIZER_RE } from './appointd.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const LOAD_BIN =
  process.env.TITAN_LOAD_BIN ||
  (process.env.APPOINTD_BIN
    ? path.join(path.dirname(process.env.APPOINTD_BIN), 'tests/titan_load/titan_load')
    : path.join(repoRoot, 'build-test/tests/titan_load/titan_load'));

/**
 * Runs titan_load with argv; resolves { report, stderr } where report is the
 * JSON line it printed. secrets: strings that must not appear in its output.
 */
export async function runLoad(argv, secrets = []) {
  const child = spawn(LOAD_BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 0, `titan_load exited ${code}:\n${err.slice(-3000)}`);
  assert.doesNotMatch(err, SANITIZER_RE, 'sanitizer report in titan_load stderr');
  for (const s of secrets) assert.ok(!err.includes(s) && !out.includes(s), 'a secret or token was printed');
  return { report: JSON.parse(out.trim().split('\n').pop()), stderr: err };
}
