// demo.mjs — `make run` (scripts/demo) for the browser tests: the real demo,
// started as a newcomer starts it, on ports from probes and a temporary
// DATA_DIR, with what the tests need to look behind it.
//
//   const demo = await runDemo({ env: { APPOINTD_BOOKING_RECHECK_MAX_AGE: '0' } });
//   await page.goto(demo.site);                 // the sample contractor site
//   const b = await demo.waitBooked(reference); // appointd's booking, pushed
//   const job = await demo.st.get(`/jpm/jobs/${b.servicetitan.jobId}`); // stsim's data
//   await demo.stop(assert);                    // Ctrl-C, clean exit
//
// The demo runs the binaries next to $APPOINTD_BIN (build-test/ by default,
// with sim/stsim inside). demo.st reads stsim's data through the inspector
// app (every scope, "No Restriction"), not through appointd.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { BIN, SANITIZER_RE, childEnv, cli, tempDir } from '../../e2e/lib/appointd.mjs';
import { repoRoot } from './browser.mjs';

const DEMO = path.join(repoRoot, 'scripts/demo');
const BUILD = path.dirname(BIN);
const READY_MS = 90000;
export const ACCOUNT = 'Lone Star Comfort';

/** Holds a loopback port (0: any free one) until close(); resolves { port, close }. */
export function holdPort(port = 0) {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      resolve({ port: s.address().port, close: () => new Promise((r) => s.close(r)) }),
    );
  });
}

/** A port that was free a moment ago. */
export async function freePort() {
  const h = await holdPort();
  await h.close();
  return h.port;
}

/**
 * Runs scripts/demo with env; resolves { proc, out(), err(), exited } once it
 * printed its guide ("Press Ctrl-C") or exited.
 */
export async function startDemo(env) {
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
export async function stopDemo(d) {
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

/** A ServiceTitan client of stsim's inspector app (every scope, No Restriction). */
async function inspector(creds) {
  const conn = await (await fetch(`${creds.controlUrl}/connections`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ tenantId: creds.tenantId, appId: 'stsim-inspector', noRestriction: true }),
  })).json();
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: conn.clientId, client_secret: conn.clientSecret });
  const tok = await (await fetch(`${creds.authUrl}/connect/token`, { method: 'POST', body: form })).json();
  const call = async (method, p, { query, body } = {}) => {
    const [mod, ...rest] = p.replace(/^\//, '').split('/');
    const q = query ? `?${new URLSearchParams(query)}` : '';
    const res = await fetch(`${creds.apiUrl}/${mod}/v2/tenant/${creds.tenantId}/${rest.join('/')}${q}`, {
      method,
      headers: { 'ST-App-Key': conn.appKey, Authorization: `Bearer ${tok.access_token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error(`stsim ${method} ${p} → ${res.status}: ${text.slice(0, 400)}`);
    return json;
  };
  return { get: (p, query) => call('GET', p, { query }), post: (p, body) => call('POST', p, { body }) };
}

/**
 * Starts the demo with env on fresh ports and a temporary DATA_DIR; resolves
 * { site, appointd, web, key, creds, dataDir, guide, st, cli, booking,
 * bookings, waitBooked, schedulerConfig, stop }.
 */
export async function runDemo({ env = {} } = {}) {
  const data = await tempDir('appointd-widget-');
  const listen = `127.0.0.1:${await freePort()}`;
  const site = `127.0.0.1:${await freePort()}`;
  const base = 20000 + Math.floor(Math.random() * 30000); // the demo moves past taken ones
  let d;
  try {
    d = await startDemo({ LISTEN: listen, DATA_DIR: data.dir, STSIM_PORT_BASE: String(base), SITE_LISTEN: site, ...env });
  } catch (e) {
    await data.cleanup();
    throw e;
  }
  const guide = d.out();
  if (!guide.includes('Press Ctrl-C')) {
    await data.cleanup();
    throw new Error(`the demo stopped:\n${guide}\n${d.err()}`);
  }
  const creds = JSON.parse(await readFile(path.join(data.dir, 'stsim-credentials.json'), 'utf8'));
  const cliEnv = { APPOINTD_DATA_DIR: data.dir, APPOINTD_LOG_LEVEL: 'warn' };
  const run = async (args) => {
    const r = await cli(args, { env: cliEnv });
    assert.equal(r.code, 0, `appointd ${args.join(' ')} → ${r.code}\n${r.stderr}`);
    return r.stdout;
  };
  const json = async (args) => JSON.parse(await run([...args, '--json']));
  const demo = {
    site: /contractor website\s+(http:\/\/\S+?)\/?\n/.exec(guide)[1],
    appointd: `http://${listen}`,
    web: creds.webUrl.replace(/\/$/, ''),
    key: /data-scheduler="(sch_[^"]+)"/.exec(guide)[1],
    creds,
    dataDir: data.dir,
    guide,
    st: await inspector(creds),
    cli: run,
    booking: (ref) => json(['booking', 'show', ref]),
    bookings: async () => (await json(['booking', 'list', ACCOUNT])).bookings,
    schedulerConfig: async () => (await json(['scheduler', 'show', demo.key])).config,
    /** The booking once its push is over (booked or needs_attention), polling for up to 30 s. */
    async waitBooked(ref) {
      for (let i = 0; i < 150; i++) {
        const b = await demo.booking(ref);
        if (b.state === 'booked' || b.state === 'needs_attention') return b;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`booking ${ref} was not pushed in 30 s`);
    },
    async stop(check = assert) {
      const r = await stopDemo(d);
      const err = d.err();
      await data.cleanup();
      check.equal(r.code, 0, `the demo exited ${r.code} (signal ${r.signal})\n${err.slice(-3000)}`);
      check.doesNotMatch(err, SANITIZER_RE);
    },
  };
  return demo;
}
