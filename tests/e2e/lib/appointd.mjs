// appointd.mjs — spawns the real appointd binary for the black-box tests.
//
//   const srv = await startServer({ debugRoutes: true });
//   const res = await fetch(srv.url + '/healthz');
//   const { code, stderr } = await srv.stop();   // SIGTERM, waits for exit
//
// The binary is $APPOINTD_BIN (scripts/check points it at the sanitizer
// build), else build-test/appointd. Every server gets a fresh data dir and
// listens on 127.0.0.1:0; the real port comes from its `event=server.ready
// addr=127.0.0.1:PORT` log line. APPOINTD_* variables of the calling
// environment are not passed on, so a developer's settings never leak in.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const BIN = process.env.APPOINTD_BIN || path.join(repoRoot, 'build-test/appointd');

const READY_TIMEOUT_MS = 15000;
const EXIT_TIMEOUT_MS = 15000;

/** Sanitizer reports that must never appear in a test's stderr. */
export const SANITIZER_RE = /ERROR: AddressSanitizer|LeakSanitizer|runtime error:/;

/** The environment for a child: ours minus APPOINTD_*, plus extra. */
export function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('APPOINTD_')) env[k] = v;
  }
  return { ...env, ...extra };
}

/** A fresh temporary directory; removed by the returned cleanup(). */
export async function tempDir(prefix = 'appointd-e2e-') {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Runs an appointd command: { code, signal, stdout, stderr, timedOut }.
 * input, when given, is written to its stdin (for --password-stdin and
 * --client-secret-stdin); otherwise stdin is closed.
 */
export function run(args, { env = {}, timeoutMs = 15000, input } = {}) {
  return new Promise((resolve, reject) => {
    const stdin = input === undefined ? 'ignore' : 'pipe';
    const child = spawn(BIN, args, { env: childEnv(env), stdio: [stdin, 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    if (input !== undefined) {
      // a command that never reads stdin may exit before the write lands: EPIPE is no failure
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
  });
}

/** run() with stdin (default empty) that rejects when the sanitizers reported anything. */
export async function cli(args, { env = {}, input = '', timeoutMs = 30000 } = {}) {
  const r = await run(args, { env, input, timeoutMs });
  if (SANITIZER_RE.test(r.stderr)) throw new Error(`sanitizer report: appointd ${args.join(' ')}\n${r.stderr}`);
  return r;
}

/**
 * The settings that point appointd at an stsim (its credentials file as
 * parsed by startStsim): the custom ServiceTitan environment and the API
 * Application Access link; with appId also the "Add to ServiceTitan" hook,
 * which adds the tenant to that app through stsim's control API.
 */
export function stsimEnv(creds, appId) {
  const env = {
    APPOINTD_ST_ENV: 'custom',
    APPOINTD_ST_AUTH_URL: creds.authUrl,
    APPOINTD_ST_API_URL: creds.apiUrl,
    APPOINTD_ST_APP_KEY: creds.appKey,
    APPOINTD_FMS_APP_ACCESS_URL: `${creds.webUrl}/settings/integrations/api-application-access`,
    APPOINTD_ST_WEB_URL: creds.webUrl,
  };
  if (appId) {
    env.APPOINTD_FMS_HOOK_KIND = 'url';
    env.APPOINTD_FMS_HOOK = `${creds.controlUrl}/apps/${appId}/tenants`;
  }
  return env;
}

/**
 * Starts `appointd serve` and waits until it is ready.
 * options: debugRoutes (bool), args (extra flags), env (extra variables),
 * dataDir (use this one instead of a fresh one; not removed on stop).
 * Resolves a server: { proc, pid, port, url, dataDir, stderr(), stop(), kill() }.
 */
export async function startServer({ debugRoutes = false, args = [], env = {}, dataDir } = {}) {
  const own = dataDir ? null : await tempDir();
  const dir = dataDir || own.dir;
  const argv = ['serve', '--listen', '127.0.0.1:0', '--data-dir', dir];
  if (debugRoutes) argv.push('--debug-routes');
  argv.push(...args);

  const proc = spawn(BIN, argv, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  const exited = new Promise((resolve) => {
    proc.on('close', (code, signal) => resolve({ code, signal }));
  });
  proc.on('error', () => {}); // surfaced through `exited` / the ready timeout

  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`appointd not ready after ${READY_TIMEOUT_MS} ms; stderr:\n${err}`));
    }, READY_TIMEOUT_MS);
    proc.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      const m = /event=server\.ready\b.*?\baddr="?[^\s"]*:(\d+)"?/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`appointd exited before ready (code ${code}, signal ${signal}); stderr:\n${err}`));
    });
  }).catch(async (e) => {
    if (own) await own.cleanup();
    throw e;
  });

  let stopped = null;
  const server = {
    proc,
    pid: proc.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    dataDir: dir,
    stderr: () => err,
    stdout: () => out,
    /** Resolves once the process has exited: { code, signal, stderr }. */
    exited: () => exited.then((r) => ({ ...r, stderr: err, stdout: out })),
    /**
     * Sends signal (SIGTERM) and waits for exit; SIGKILLs after a timeout
     * (reported as timedOut). Resolves { code, signal, stderr, timedOut }.
     * Removes the data dir it created. Safe to call twice.
     */
    stop(sig = 'SIGTERM') {
      if (stopped) return stopped;
      stopped = (async () => {
        let timedOut = false;
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
        const timer = setTimeout(() => {
          timedOut = true;
          proc.kill('SIGKILL');
        }, EXIT_TIMEOUT_MS);
        const r = await exited;
        clearTimeout(timer);
        if (own) await own.cleanup();
        return { ...r, stderr: err, stdout: out, timedOut };
      })();
      return stopped;
    },
  };
  return server;
}

/** Fetches url and parses its JSON body: { status, headers, body, text }. */
export async function getJson(url, init) {
  const res = await fetch(url, init);
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** Asserts a stopped server exited 0 in time without sanitizer reports. */
export function assertCleanExit(assert, r) {
  assert.equal(r.timedOut, false, `appointd did not exit within ${EXIT_TIMEOUT_MS} ms`);
  assert.doesNotMatch(r.stderr, SANITIZER_RE, 'sanitizer report in stderr');
  assert.equal(r.code, 0, `exit code ${r.code} (signal ${r.signal}); stderr:\n${r.stderr}`);
}
