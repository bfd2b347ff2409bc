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
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BIN, SANITIZER_RE, tempDir } from '../e2e/lib/appointd.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { textOf, waitText } from './lib/dashboard.mjs';
import { freePort, holdPort, startDemo, stopDemo } from './lib/demo.mjs';

const BUILD = path.dirname(BIN);

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
      // a fresh load of the page (not a hash change that the sign-in's own landing may overtake)
      await page.goto('about:blank');
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
