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
 * Runs `appointd ...args` to completion (killed after timeoutMs).
 * Resolves { code, signal, stdout, stderr, timedOut }.
 */
export function run(args, { env = {}, timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
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
  });
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
