// demo.test.mjs — `make run` (scripts/demo) on a machine where its ports are
// taken, as a newcomer meets it:
//   - stsim's base port ($STSIM_PORT_BASE) held by another program: the demo
//     names the port, says which ports stsim uses instead and how to choose
//     others, and starts anyway — stsim's pages answer on the ports its guide
//     prints, and the dashboard names the environment "ServiceTitan emulator
//     (stsim)" (signed in as the demo owner, in a browser);
//   - appointd's port (LISTEN) held: the demo stops at once and says which
//     port and how to choose another, with nothing started.
// The demo runs the binaries next to $APPOINTD_BIN (build-test/ by default,
// with sim/stsim inside), its data in a temporary DATA_DIR; every port comes
// from a probe (port 0), none is fixed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BIN, SANITIZER_RE, childEnv, tempDir } from '../e2e/lib/appointd.mjs';
import { launchBrowser, repoRoot } from './lib/browser.mjs';
import { textOf, waitText } from './lib/dashboard.mjs';

const DEMO = path.join(repoRoot, 'scripts/demo');
const BUILD = path.dirname(BIN);
const READY_MS = 90000;

/** Holds a loopback port (0: any free one) until close(); resolves { port, close }. */
function holdPort(port = 0) {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      resolve({ port: s.address().port, close: () => new Promise((r) => s.close(r)) }),
    );
  });
}

/** A port that was free a moment ago. */
async function freePort() {
  const h = await holdPort();
  await h.close();
  return h.port;
}

/**
 * Runs scripts/demo with env; resolves { proc, out(), err(), exited } once it
 * printed its guide ("Press Ctrl-C") or exited.
 */
async function startDemo(env) {
  const proc = spawn('bash', [DEMO, BUILD], {
    cwd: repoRoot,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so a failed test can stop it whole
  });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const exited = new Promise((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  await Promise.race([
    exited,
    new Promise((resolve, reject) => {
      const t0 = Date.now();
      const tick = setInterval(() => {
        if (out.includes('Press Ctrl-C')) {
          clearInterval(tick);
          resolve();
        } else if (Date.now() - t0 > READY_MS) {
          clearInterval(tick);
          reject(new Error(`the demo printed no guide in ${READY_MS} ms\nstdout:\n${out}\nstderr:\n${err}`));
        }
      }, 100);
      exited.then(() => clearInterval(tick));
    }),
  ]);
  return { proc, out: () => out, err: () => err, exited };
}

/** SIGTERM to the demo (as Ctrl-C would); resolves its exit, SIGKILLs the group after 20 s. */
async function stopDemo(d) {
  if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill('SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(-d.proc.pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }, 20000);
  const r = await d.exited;
  clearTimeout(timer);
  return r;
}

describe('make run (scripts/demo) when its ports are taken', () => {
  let data, held, demo;

  before(async () => {
    assert.ok(existsSync(path.join(BUILD, 'sim/stsim')), `no stsim next to ${BIN} (build ${BUILD} first)`);
    data = await tempDir('appointd-demo-');
    held = await holdPort();
  });

  after(async () => {
    if (demo) await stopDemo(demo);
    await held?.close();
    await data?.cleanup();
  });

  test('stsim’s base port taken: the demo names it, moves stsim to free ports and says how to choose', async () => {
    const listen = `127.0.0.1:${await freePort()}`;
    demo = await startDemo({ LISTEN: listen, DATA_DIR: data.dir, STSIM_PORT_BASE: String(held.port) });
    const err = demo.err();
    const p = held.port;
    const moved = new RegExp(
      `demo: port ${p} \\(stsim, ports ${p}-${p + 2}\\) is in use by another program; ` +
        `stsim uses ports (\\d+)-(\\d+) instead \\(set STSIM_PORT_BASE=N to choose N, N\\+1, N\\+2\\)`,
    );
    const m = moved.exec(err);
    assert.ok(m, `the demo says which port is taken and where stsim went:\n${err}`);
    const base = Number(m[1]);
    assert.ok(base > p + 2 && Number(m[2]) === base + 2, `stsim moved past ${p}: ${m[0]}`);

    // the guide prints the ports stsim really uses, and they answer
    const out = demo.out();
    assert.ok(out.includes(`http://${listen}/admin/`), out);
    assert.ok(out.includes(`ServiceTitan (stsim) http://127.0.0.1:${base + 2}/login`), out);
    const login = await fetch(`http://127.0.0.1:${base + 2}/login`);
    assert.equal(login.status, 200);
    assert.match(await login.text(), /Tenant ID/);
    const health = await fetch(`http://${listen}/healthz`);
    assert.equal(health.status, 200);
  });

  test('the demo’s dashboard names the environment “ServiceTitan emulator (stsim)”', async () => {
    assert.ok(demo, 'the demo runs (test above)');
    const listen = /appointd dashboard\s+(http:\/\/\S+\/admin\/)/.exec(demo.out())[1];
    const b = await launchBrowser({ viewport: { width: 1280, height: 800 } });
    try {
      const { page } = b;
      await page.goto(`${listen}#/login`);
      await page.locator('#email').fill('owner@demo.test');
      await page.locator('#password').fill('demo-owner-password');
      await page.locator('#login-submit').click();
      await page.locator('#signed-in-as').waitFor({ state: 'visible' });
      await page.goto(`${listen}#/settings/integrations/fms`);
      await page.locator('section#fms').waitFor();
      assert.equal(await waitText(page, '#fms-environment'), 'ServiceTitan environment: ServiceTitan emulator (stsim).');
      assert.equal(await textOf(page, '#fms-error'), '');
    } finally {
      await b.close();
    }
  });

  test('Ctrl-C stops both, cleanly', async () => {
    assert.ok(demo, 'the demo runs (test above)');
    const d = demo;
    demo = null;
    const r = await stopDemo(d);
    assert.equal(r.code, 0, `exit ${r.code} (signal ${r.signal})\n${d.err()}`);
    assert.doesNotMatch(d.err(), SANITIZER_RE);
    assert.match(d.err(), /event=server\.stopped\b.*result=ok/, 'appointd stopped cleanly');
  });

  test('appointd’s port (LISTEN) taken: the demo says which and how to choose, and starts nothing', async () => {
    const busy = await holdPort();
    const dir = await tempDir('appointd-demo-');
    try {
      const d = await startDemo({ LISTEN: `127.0.0.1:${busy.port}`, DATA_DIR: dir.dir });
      const r = await d.exited;
      assert.equal(r.code, 1);
      assert.match(
        d.err(),
        new RegExp(
          `demo: port ${busy.port} of LISTEN=127\\.0\\.0\\.1:${busy.port} is in use by another program; ` +
            `choose another, e.g\\. make run LISTEN=127\\.0\\.0\\.1:${busy.port + 1}`,
        ),
      );
      assert.equal(d.out(), '', 'no guide');
      assert.ok(!existsSync(path.join(dir.dir, 'stsim-credentials.json')), 'stsim was not started');
    } finally {
      await busy.close();
      await dir.cleanup();
    }
  });
});
