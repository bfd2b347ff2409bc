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
//
// The database: SQLite in the data dir, or — with APPOINTD_TEST_DATABASE=
// postgres — PostgreSQL: every data dir a test names (--data-dir, or
// APPOINTD_DATA_DIR) gets a schema of its own in the database appointd_e2e
// of the test server (lib/pg.mjs: the one scripts/check started, named by
// APPOINTD_TEST_PG_DIR, else one started for this process), and startServer
// and run/cli add `--database <its URL>`; the data dir still holds the
// master key. Tests of SQLite's own behaviour skip with SQLITE_ONLY.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { binDir, sharedPostgres } from './pg.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const BIN = process.env.APPOINTD_BIN || path.join(repoRoot, 'build-test/appointd');

const READY_TIMEOUT_MS = 15000;
const EXIT_TIMEOUT_MS = 15000;

/** True when the tests run appointd on PostgreSQL (APPOINTD_TEST_DATABASE=postgres). */
export const ON_POSTGRES = process.env.APPOINTD_TEST_DATABASE === 'postgres';

/** For `test(name, { skip: SQLITE_ONLY }, fn)`: a test of SQLite's own files and locks. */
export const SQLITE_ONLY = ON_POSTGRES ? 'SQLite only (this run is on PostgreSQL)' : false;

const E2E_DB = 'appointd_e2e';
const schemas = new Map(); // data dir -> Promise of its URL
let e2eDatabase = null;

/** The test server, with the database appointd_e2e made (once). */
async function e2eServer() {
  const pg = await sharedPostgres();
  if (!e2eDatabase) {
    e2eDatabase = (async () => {
      const have = await pg.psql(`SELECT count(*) FROM pg_database WHERE datname = '${E2E_DB}'`);
      if (have === '0') {
        // another test process may make it at the same moment
        await pg.psql(`CREATE DATABASE ${E2E_DB}`).catch(async (e) => {
          if ((await pg.psql(`SELECT count(*) FROM pg_database WHERE datname = '${E2E_DB}'`)) === '0') throw e;
        });
      }
    })();
  }
  await e2eDatabase;
  return pg;
}

/**
 * The PostgreSQL URL appointd uses for dataDir (a schema of its own, made
 * now), for tests that pass --database themselves.
 */
export function databaseFor(dataDir) {
  const dir = path.resolve(dataDir);
  if (!schemas.has(dir)) {
    schemas.set(dir, (async () => {
      const pg = await e2eServer();
      const schema = schemaOf(dir);
      await pg.psql(`CREATE SCHEMA IF NOT EXISTS ${schema}`, E2E_DB);
      return pg.urlFor(E2E_DB, { options: `-csearch_path=${schema}` });
    })());
  }
  return schemas.get(dir);
}

/** The schema of dataDir's database on PostgreSQL runs. */
function schemaOf(dataDir) {
  return 'd_' + createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 20);
}

/**
 * Everything dataDir's database stores, as text to search: SQLite's files
 * (appointd.db and its -wal and -shm, raw bytes as latin1), or on
 * PostgreSQL a plain dump of the data dir's schema (pg_dump --data-only).
 */
export async function storedText(dataDir) {
  if (!ON_POSTGRES) {
    const parts = [];
    for (const f of await readdir(dataDir)) {
      if (f.startsWith('appointd.db')) parts.push(await readFile(path.join(dataDir, f)));
    }
    return Buffer.concat(parts).toString('latin1');
  }
  const pg = await e2eServer();
  const bin = await binDir();
  const r = await promisify(execFile)(bin ? path.join(bin, 'pg_dump') : 'pg_dump',
    ['--data-only', '--schema', schemaOf(dataDir), '-d', pg.urlFor(E2E_DB)], { maxBuffer: 256 << 20 });
  // pg_dump brackets its output with a random \restrict key: not data
  return r.stdout.replace(/^\\(un)?restrict .*$/gm, '');
}

/** The data dir args (or env) name, or null. */
function dataDirOf(args, env) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--') break;
    if (args[i] === '--data-dir' && i + 1 < args.length) return args[i + 1];
    if (args[i].startsWith('--data-dir=')) return args[i].slice('--data-dir='.length);
  }
  return env.APPOINTD_DATA_DIR || null;
}

/** args with `--database URL` added on PostgreSQL runs (unless they name a database). */
async function withDatabase(args, env) {
  if (!ON_POSTGRES || env.APPOINTD_DATABASE || args.some((a) => a === '--database' || a.startsWith('--database='))) {
    return args;
  }
  const dir = dataDirOf(args, env);
  if (!dir) return args;
  const extra = ['--database', await databaseFor(dir)];
  const end = args.indexOf('--');
  return end < 0 ? [...args, ...extra] : [...args.slice(0, end), ...extra, ...args.slice(end)];
}

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
export async function run(args, { env = {}, timeoutMs = 15000, input } = {}) {
  args = await withDatabase(args, env);
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
  let argv = ['serve', '--listen', '127.0.0.1:0', '--data-dir', dir];
  if (debugRoutes) argv.push('--debug-routes');
  argv.push(...args);
  argv = await withDatabase(argv, env);

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
