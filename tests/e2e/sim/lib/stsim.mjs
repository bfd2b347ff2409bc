// stsim.mjs — spawns the stsim binary (the ServiceTitan emulator) for the
// black-box tests, and talks to it the way a ServiceTitan client does.
//
//   const sim = await startStsim({ args: ['--rate-limit', '0'] });
//   const r = await sim.api('GET', '/crm/customers', { query: { pageSize: 5 } });
//   // → GET {apiUrl}/crm/v2/tenant/{tenant}/customers?pageSize=5, body validated
//   const { code, stderr } = await sim.stop();
//
// The binary is $STSIM_BIN (scripts/check sets it to the sanitizer build),
// else build-test/sim/stsim. Every instance listens on 127.0.0.1:0 (auth, api
// and web hosts) and writes its real URLs and the demo credentials to a fresh
// credentials file, which startStsim reads once stsim logged event=stsim.ready.
//
// sim.api validates every response body against ServiceTitan's OpenAPI
// response schema of the matched operation and status (ApiErrorResponse for
// errors) and throws a SchemaError when it does not validate; see openapi.mjs
// for what happens when the specs are absent.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validator } from './openapi.mjs';

export { coverage, specsSkip, specsPresent, SPEC_DIR } from './openapi.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

export const BIN = process.env.STSIM_BIN || path.join(repoRoot, 'build-test/sim/stsim');

/** Sanitizer reports that must never appear in stsim's stderr. */
export const SANITIZER_RE = /ERROR: AddressSanitizer|LeakSanitizer|runtime error:/;

const READY_TIMEOUT_MS = 20000;
const EXIT_TIMEOUT_MS = 15000;

/** Thrown by sim.api when a body does not match the OpenAPI schema. */
export class SchemaError extends Error {
  constructor(method, url, status, result, text) {
    super(
      `${method} ${url} → ${status}: body does not match the OpenAPI schema ` +
        `(${result.key || 'no operation'}):\n  ${result.errors.join('\n  ')}\n  body: ${text.slice(0, 600)}`,
    );
    this.name = 'SchemaError';
    this.status = status;
    this.errors = result.errors;
  }
}

function childEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('STSIM_') && !k.startsWith('APPOINTD_')) env[k] = v;
  }
  return env;
}

function queryString(query) {
  if (!query) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    q.append(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

function parseJson(text) {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function readResponse(res) {
  const text = await res.text();
  return { status: res.status, headers: Object.fromEntries(res.headers), body: parseJson(text), text };
}

/** Merges header objects, later ones winning case-insensitively; a null value removes the header. */
function mergeHeaders(...sets) {
  const out = new Map();
  for (const set of sets) {
    for (const [k, v] of Object.entries(set || {})) out.set(k.toLowerCase(), v);
  }
  return Object.fromEntries([...out].filter(([, v]) => v !== null && v !== undefined));
}

function waitReady(child, credFile, stderrRef, timeoutMs) {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err, creds) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(poll);
      child.off('exit', onExit);
      err ? reject(err) : resolve(creds);
    };
    const onExit = (code, signal) =>
      finish(new Error(`stsim exited before ready (code ${code}, signal ${signal}):\n${stderrRef.text}`));
    child.on('exit', onExit);
    child.on('error', (e) => finish(e));
    const timer = setTimeout(
      () => finish(new Error(`stsim not ready after ${timeoutMs} ms:\n${stderrRef.text}`)),
      timeoutMs,
    );
    const poll = setInterval(async () => {
      if (!stderrRef.text.includes('event=stsim.ready')) return;
      try {
        finish(null, JSON.parse(await readFile(credFile, 'utf8')));
      } catch {
        /* not written yet */
      }
    }, 25);
  });
}

// A test file that never stops its stsim (a failed before hook) must not leave
// it running: whatever is still alive is killed when the test process exits.
const live = new Set();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * Starts stsim and waits until it is ready. args are extra flags
 * (['--token-lifetime', '2']); seed is passed as --seed; connect adds
 * --connect (the demo app, appointd-demo, connected to the demo tenant with
 * its scopes: appointd's least permissions, contract C1); readyTimeoutMs
 * bounds the wait (large --scale seeds take a while).
 *
 * as: 'inspector' (with connect) makes the test act through the seeded
 * stsim-inspector app instead — every scope stsim's routes know, on the demo
 * app's booking provider — so that suites about stsim's behaviour are not
 * limited to what appointd may call: creds.appId, appKey, clientId and
 * clientSecret are then the inspector's. as: 'demo' (the default) keeps the
 * demo app's. creds.demo always holds the demo app's.
 */
export async function startStsim({
  args = [],
  seed = 'demo',
  connect = true,
  as = 'demo',
  readyTimeoutMs = READY_TIMEOUT_MS,
} = {}) {
  if (!existsSync(BIN)) throw new Error(`stsim binary not found: ${BIN} (build it, or set STSIM_BIN)`);
  const v = validator(); // throws under CI=true without the specs: before anything is spawned
  const dir = await mkdtemp(path.join(tmpdir(), 'stsim-e2e-'));
  const credFile = path.join(dir, 'creds.json');
  const argv = ['--seed', seed, '--auth-listen', '127.0.0.1:0', '--api-listen', '127.0.0.1:0'];
  argv.push('--web-listen', '127.0.0.1:0');
  if (connect) argv.push('--connect');
  argv.push('--write-credentials', credFile, ...args);
  const child = spawn(BIN, argv, { env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  const stderrRef = { text: '' };
  child.stderr.setEncoding('utf8').on('data', (d) => (stderrRef.text += d));
  live.add(child);
  // not keeping the test process alive by itself: see `live`; stop() refs it again
  child.unref();
  child.stderr.unref();
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  let creds;
  try {
    creds = await waitReady(child, credFile, stderrRef, readyTimeoutMs);
  } catch (e) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const demo = { appId: creds.appId, appKey: creds.appKey, clientId: creds.clientId, clientSecret: creds.clientSecret };
  if (connect && seed === 'demo' && as === 'inspector') creds = await actAsInspector(creds);
  creds = { ...creds, demo };
  return makeSim({ child, exited, creds, dir, stderrRef, argv, v });
}

/** Connects the inspector app like the demo one (same booking provider); its creds. */
async function actAsInspector(creds) {
  const res = await fetch(`${creds.controlUrl}/connections`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenantId: creds.tenantId, appId: 'stsim-inspector', bookingProviderId: creds.bookingProviderId }),
  });
  if (res.status !== 200) throw new Error(`cannot connect the inspector app: ${res.status} ${await res.text()}`);
  const c = await res.json();
  return { ...creds, appId: 'stsim-inspector', appKey: c.appKey, clientId: c.clientId, clientSecret: c.clientSecret };
}

function makeSim({ child, exited, creds, dir, stderrRef, argv, v }) {
  let cachedToken = null;

  const sim = {
    creds,
    argv,
    pid: child.pid,
    stderr: () => stderrRef.text,

    /** Raw token-endpoint call: fields are form fields (sent as given), or a string body. */
    async tokenRequest(fields, { headers = {} } = {}) {
      const body = typeof fields === 'string' ? fields : new URLSearchParams(fields).toString();
      const res = await fetch(`${creds.authUrl}/connect/token`, {
        method: 'POST',
        headers: mergeHeaders({ 'content-type': 'application/x-www-form-urlencoded' }, headers),
        body,
      });
      return readResponse(res);
    },

    /** An access token for the given client (default: the credentials file's). */
    async token({ clientId = creds.clientId, clientSecret = creds.clientSecret } = {}) {
      const r = await sim.tokenRequest({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
      });
      if (r.status !== 200 || !r.body?.access_token) {
        throw new Error(`token request failed: ${r.status} ${r.text}`);
      }
      return r.body.access_token;
    },

    /** Drops the cached token of sim.api (e.g. after a reset). */
    forgetToken() {
      cachedToken = null;
    },

    /** URL of an API path given with its module ('/crm/customers/5'). */
    apiUrl(p, { tenant = creds.tenantId, query } = {}) {
      const m = /^\/([^/]+)(\/.*)?$/.exec(p);
      if (!m) throw new Error(`api path must start with /<module>: ${p}`);
      return `${creds.apiUrl}/${m[1]}/v2/tenant/${tenant}${m[2] || ''}${queryString(query)}`;
    },

    /**
     * Calls the API host. token: undefined = cached sim.token(), null = no
     * Authorization header, a string = "Bearer <it>"; appKey: undefined =
     * creds.appKey, null = no ST-App-Key; headers override both. body: an
     * object (sent as JSON) or a string (sent as it is, as JSON).
     */
    async api(method, p, opts = {}) {
      const { body, query, tenant, headers, validate = true } = opts;
      let { token, appKey } = opts;
      if (token === undefined) token = cachedToken || (cachedToken = await sim.token());
      if (appKey === undefined) appKey = creds.appKey;
      const url = sim.apiUrl(p, { tenant, query });
      const init = {
        method,
        headers: mergeHeaders(
          { accept: 'application/json' },
          appKey !== null ? { 'st-app-key': appKey } : {},
          token !== null ? { authorization: `Bearer ${token}` } : {},
          body !== undefined ? { 'content-type': 'application/json' } : {},
          headers,
        ),
      };
      if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
      const r = await readResponse(await fetch(url, init));
      if (validate) sim.validate(method, url, r);
      return r;
    },

    /** Validates a response of the API host (as from sim.api); throws SchemaError. No-op without specs. */
    validate(method, url, r) {
      if (!v) return;
      const { pathname } = new URL(url);
      const result = v.check(method, pathname, r.status, r.text, r.headers['content-type'] || '');
      if (!result.ok) throw new SchemaError(method, url, r.status, result, r.text);
    },

    /** Control API call: path relative to controlUrl ('/reset'; a leading '/_stsim' is tolerated). */
    async control(method, p, body) {
      const rel = p.startsWith('/_stsim') ? p.slice('/_stsim'.length) : p;
      const init = { method, headers: {} };
      if (body !== undefined) {
        init.headers['content-type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      const r = await readResponse(await fetch(`${creds.controlUrl}${rel}`, init));
      return { status: r.status, body: r.body, text: r.text, headers: r.headers };
    },

    /** SIGTERM, waits for the exit; SIGKILL after a timeout. Resolves { code, signal, stderr }. */
    async stop() {
      child.ref();
      child.stderr.ref();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
      const { code, signal } = await exited;
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
      return { code, signal, stderr: stderrRef.text };
    },
  };
  return sim;
}

/** Asserts a clean stop: exit code 0 and no sanitizer report. */
export async function stopClean(sim, assert) {
  const { code, signal, stderr } = await sim.stop();
  assert.equal(signal, null, `stsim killed by ${signal}:\n${stderr.slice(-3000)}`);
  assert.equal(code, 0, `stsim exited ${code}:\n${stderr.slice(-3000)}`);
  assert.doesNotMatch(stderr, SANITIZER_RE, 'sanitizer report in stsim stderr');
}
