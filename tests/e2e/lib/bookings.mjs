// bookings.mjs — the rig of the booking tests: stsim (demo tenant) with an
// inspector connection that reads stsim's own data, an appointd account
// connected to it through the CLI, its catalog, a scheduler, and
// `appointd serve` with the flags a test needs; plus the helpers that post
// bookings, wait for their states and find what landed in ServiceTitan.
//
//   const rig = await bookingRig({ serverArgs: ['--push-lease', '30'] });
//   const w = await rig.windows(2);                     // open windows
//   const r = await rig.book(rig.body(w[0]));           // POST …/bookings
//   await rig.waitState(r.body.reference, 'booked');
//   const jobs = await rig.jobsOf(r.body.reference);    // in stsim's data
//   await rig.close();
//
// Everything checked "in ServiceTitan" is read through the inspector app
// (every scope, no restriction), never from appointd's own state.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cli, getJson, startServer, stsimEnv, tempDir, SANITIZER_RE } from './appointd.mjs';
import { startStsim } from '../sim/lib/stsim.mjs';

export const ACCOUNT = 'Lone Star Comfort';
export const ORIGIN = 'https://lonestarcomfort.example';
/** The application GUID the rig's appointd keeps references under (st-app-guid). */
export const GUID = '6b0d1a52-3c1e-4f5a-9b7d-2a4c8e1f0d37';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value; throws with what() after capMs. */
export async function until(fn, { capMs = 60000, everyMs = 100, what = 'condition' } = {}) {
  const end = Date.now() + capMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Runs fns with at most n in flight; resolves their results in order. */
export async function pool(n, fns) {
  const out = new Array(fns.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, fns.length) }, async () => {
      while (next < fns.length) {
        const i = next++;
        out[i] = await fns[i]();
      }
    }),
  );
  return out;
}

/**
 * Starts the rig. Options:
 *   simArgs       extra stsim flags (the rate limit is off unless given)
 *   serverArgs    extra `appointd serve` flags
 *   scheduler     overrides of the scheduler JSON (after the demo defaults)
 *   serve         false: do not start the server yet (rig.serve() later)
 */
export async function bookingRig({ simArgs = ['--rate-limit', '0'], serverArgs = [], scheduler = {}, serve = true, env: extraEnv = {},
  stateFile = false, clockAt = null } = {}) {
  const data = await tempDir('appointd-bk-');
  const simState = stateFile ? ['--state-file', path.join(data.dir, 'stsim.db')] : [];
  const sim = await startStsim({ args: [...simArgs, ...simState], as: 'demo' });
  if (clockAt) await moveTo(sim, clockAt);
  const env = {
    APPOINTD_DATA_DIR: data.dir,
    APPOINTD_LOG_LEVEL: 'info',
    APPOINTD_ST_APP_GUID: GUID,
    ...stsimEnv(sim.creds),
    ...extraEnv,
  };
  const rig = helpers({ sim, data, env, srv: null, serverArgs, stderrs: [], simArgs: [...simArgs, ...simState],
    shiftS: clockAt ? Math.round((Date.parse(clockAt) - Date.now()) / 1000) : 0 });

  const ok = async (args, input = '') => {
    const r = await cli(args, { env, input });
    assert.equal(r.code, 0, `appointd ${args.join(' ')} → ${r.code}\n${r.stderr}`);
    return r;
  };
  rig.ok = ok;
  rig.cli = (args, input = '') => cli(args, { env, input });
  rig.json = async (args) => JSON.parse((await ok([...args, '--json'])).stdout);

  // the inspector: every scope, no restriction, the demo app's booking provider
  const conn = await sim.control('POST', '/connections', {
    tenantId: sim.creds.tenantId,
    appId: 'stsim-inspector',
    noRestriction: true,
    bookingProviderId: sim.creds.bookingProviderId,
  });
  assert.equal(conn.status, 200, conn.text);
  rig.insp = { ...conn.body, token: null };
  rig.st = async (method, p, opts = {}) => {
    const { insp } = rig;
    for (let i = 0; i < 3; i++) {
      insp.token ||= await rig.sim.token({ clientId: insp.clientId, clientSecret: insp.clientSecret });
      const r = await rig.sim.api(method, p, { tenant: rig.sim.creds.tenantId, ...opts, token: insp.token, appKey: insp.appKey,
        validate: false });
      if (r.status !== 401) return r;
      insp.token = null; // the emulator clock moved past its expiry, or stsim restarted
    }
    throw new Error(`inspector refused: ${method} ${p}`);
  };
  rig.stData = async (p, query = {}) => {
    const r = await rig.st('GET', p, { query: { pageSize: 5000, active: 'Any', ...query } });
    assert.equal(r.status, 200, `${p}: ${r.text.slice(0, 300)}`);
    return r.body.data;
  };

  await ok(['account', 'create', ACCOUNT]);
  await ok(['fms', 'tenant', ACCOUNT, String(sim.creds.tenantId)]);
  await ok(['fms', 'connect', ACCOUNT, '--client-id', sim.creds.clientId, '--client-secret-stdin'], `${sim.creds.clientSecret}\n`);
  rig.catalog = await rig.json(['catalog', 'refresh', ACCOUNT]);

  // the demo job type of the scheduler: the first active one with a business unit and 2 h or less
  const jts = (await rig.stData('/jpm/job-types')).filter((j) => j.active && j.businessUnitIds.length);
  const jt = jts.find((j) => j.duration <= 7200) || jts[0];
  const campaigns = rig.catalog.campaigns.filter((c) => c.active);
  rig.jobType = jt;
  rig.bu = jt.businessUnitIds[0];
  rig.campaigns = campaigns;
  const cfg = {
    name: 'Main website',
    timeZone: 'America/Chicago',
    allowedOrigins: [ORIGIN],
    services: [{ id: 'ac-repair', label: 'AC repair', jobTypeId: jt.id, businessUnitId: rig.bu, priority: 'High',
      summary: 'Web booking: {{service}}. {{answers}} {{notes}}' }],
    rules: { minNoticeMinutes: 60, horizonDays: 14 },
    serviceArea: { zones: 'servicetitan' },
    campaignId: campaigns[0].id,
    campaignRules: [{ match: { utm_source: 'google', utm_medium: 'cpc' }, campaignId: campaigns[1].id }],
    phone: '214-555-0100',
    ...scheduler,
  };
  rig.cfg = cfg;
  rig.key = (await rig.json(['scheduler', 'create', ACCOUNT, '--config', await rig.file('sched.json', cfg)])).key;

  if (serve) await rig.serve();
  return rig;
}

/**
 * Moves stsim to another date: its clock set to at, and a tenant seeded there (shifts and
 * bookings follow the clock) that the demo app is connected to in place of the demo tenant;
 * sim.creds then names that tenant and the new connection.
 */
async function moveTo(sim, at) {
  const set = await sim.control('POST', '/clock', { set: at });
  assert.equal(set.status, 200, set.text);
  const id = 2345678;
  const t = await sim.control('POST', '/tenants', { id, name: 'Lone Star Comfort (later)', timeZone: 'America/Chicago', seed: 'demo' });
  assert.equal(t.status, 200, t.text);
  const c = await sim.control('POST', '/connections', { tenantId: id, appId: sim.creds.appId });
  assert.equal(c.status, 200, c.text);
  sim.creds = { ...sim.creds, tenantId: id, clientId: c.body.clientId, clientSecret: c.body.clientSecret, bookingProviderId: undefined };
  sim.forgetToken();
}

/** The rig's helpers, attached to it. */
function helpers(rig) {
  rig.file = async (name, obj) => {
    const p = path.join(rig.data.dir, name);
    await writeFile(p, JSON.stringify(obj));
    return p;
  };

  /** Starts (or restarts) appointd serve on the rig's data dir. */
  rig.serve = async (args = rig.serverArgs) => {
    rig.srv = await startServer({
      dataDir: rig.data.dir,
      debugRoutes: rig.shiftS !== 0,
      args: ['--booking-rate', '100000', '--public-rate', '100000', '--scheduler-rate', '1000000', ...args],
      env: rig.env,
    });
    if (rig.shiftS) {
      const r = await getJson(`${rig.srv.url}/debug/clock`, { method: 'POST', body: JSON.stringify({ advanceSeconds: rig.shiftS }) });
      assert.equal(r.status, 200, r.text);
    }
    return rig.srv;
  };

  /** Stops the server (SIGTERM), keeping its stderr; asserts no sanitizer report. */
  rig.stopServer = async () => {
    if (!rig.srv) return null;
    const r = await rig.srv.stop();
    rig.stderrs.push(r.stderr);
    rig.srv = null;
    assert.doesNotMatch(r.stderr, SANITIZER_RE, 'sanitizer report in appointd stderr');
    return r;
  };

  /** Every stderr the rig's servers wrote so far (the live one too). */
  rig.allStderr = () => [...rig.stderrs, rig.srv ? rig.srv.stderr() : ''].join('\n');

  rig.url = (p) => `${rig.srv.url}${p}`;

  /** GET of a public or admin path: { status, headers, body, text }. */
  rig.get = (p, headers = {}) => getJson(rig.url(p), { headers });

  /** The scheduler's windows (available ones unless all), from day `from` for `days` days. */
  rig.windows = async ({ from, days = 7, all = false, zip = '75201', key = rig.key, service = 'ac-repair' } = {}) => {
    const q = new URLSearchParams({ service, zip, days: String(days) });
    if (from) q.set('from', from);
    const r = await rig.get(`/api/v1/schedulers/${key}/availability?${q}`);
    assert.equal(r.status, 200, r.text);
    return all ? r.body.windows : r.body.windows.filter((w) => w.available);
  };

  let serial = 0;
  /** A booking body for window w; over is merged in (contact/address replaced whole when given). */
  rig.body = (w, over = {}) => {
    serial++;
    return {
      service: 'ac-repair',
      window: { start: w.start, end: w.end },
      contact: { name: `Test Homeowner ${serial}`, phone: `972-555-${String(1000 + (serial % 9000)).padStart(4, '0')}`,
        email: `homeowner${serial}@example.com` },
      address: { street: `${100 + serial} Test Booking Ave`, city: 'Dallas', state: 'TX', zip: '75201' },
      notes: 'Gate code 1234',
      answers: { 'Is the unit blowing warm air?': 'yes' },
      ...over,
    };
  };

  /** POST a booking: { status, headers, body, text }. */
  rig.book = (body, { idem, origin = ORIGIN, key = rig.key, raw } = {}) => {
    const headers = { 'content-type': 'application/json' };
    if (idem) headers['idempotency-key'] = idem;
    if (origin) headers.origin = origin;
    return getJson(rig.url(`/api/v1/schedulers/${key}/bookings`), {
      method: 'POST',
      headers,
      body: raw !== undefined ? raw : JSON.stringify(body),
    });
  };

  /** `appointd booking show REF --json`. */
  rig.show = (ref) => rig.json(['booking', 'show', ref]);
  /** `appointd booking list ACCOUNT --json` (+ flags). */
  rig.list = async (flags = []) => (await rig.json(['booking', 'list', ACCOUNT, ...flags])).bookings;

  /** Waits until every reference is in one of states (a string or a list); the rows. */
  rig.waitStates = async (refs, states, capMs = 60000) => {
    const want = [].concat(states);
    const set = new Set(refs);
    let last = [];
    try {
      return await until(async () => {
        last = (await rig.list()).filter((b) => set.has(b.reference));
        return last.length === set.size && last.every((b) => want.includes(b.state)) ? last : null;
      }, { capMs, everyMs: 250, what: `${refs.length} booking(s) in ${want.join('|')}` });
    } catch (e) {
      const by = {};
      for (const b of last) by[b.state] = (by[b.state] || 0) + 1;
      e.message += ` (last seen: ${JSON.stringify(by)} of ${last.length})`;
      throw e;
    }
  };
  rig.waitState = async (ref, states, capMs) => (await rig.waitStates([ref], states, capMs))[0];

  const ext = (ref) => ({ externalDataApplicationGuid: GUID, externalDataKey: 'appointd.booking', externalDataValues: ref });
  /** Jobs in ServiceTitan carrying the reference. */
  rig.jobsOf = (ref) => rig.stData('/jpm/jobs', ext(ref));
  /** Customers in ServiceTitan carrying the reference. */
  rig.customersOf = (ref) => rig.stData('/crm/customers', ext(ref));
  /** CRM bookings in ServiceTitan with the reference as externalId (every provider). */
  rig.bookingsOf = (ref) => rig.stData('/crm/bookings', { externalId: ref });

  /** For many references at once: { ref: [jobs] } and { ref: [customers] } from stsim (50 a query). */
  rig.recordsByRefs = async (refs) => {
    const jobs = Object.fromEntries(refs.map((r) => [r, []]));
    const customers = Object.fromEntries(refs.map((r) => [r, []]));
    for (let i = 0; i < refs.length; i += 50) {
      const q = { ...ext(''), externalDataValues: refs.slice(i, i + 50).join(',') };
      for (const j of await rig.stData('/jpm/jobs', q)) jobs[j.externalData.find((e) => e.key === 'appointd.booking').value].push(j);
      for (const c of await rig.stData('/crm/customers', q)) {
        for (const e of c.externalData) if (e.key === 'appointd.booking' && customers[e.value]) customers[e.value].push(c);
      }
    }
    return { jobs, customers };
  };

  /** stsim's request log (API host) after seq. */
  rig.requests = async (since = 0, query = {}) => {
    const q = new URLSearchParams({ since: String(since), host: 'api', ...query });
    const r = await rig.sim.control('GET', `/requests?${q}`);
    assert.equal(r.status, 200, r.text);
    return r.body.requests;
  };
  /** The last sequence number of the request log. */
  rig.lastSeq = async () => {
    const all = await rig.requests(0);
    return all.length ? all[all.length - 1].seq : 0;
  };
  /** The calls of the demo app (appointd's) in a request list. */
  rig.appointdCalls = (reqs) => reqs.filter((r) => r.appKey === rig.sim.creds.appKey);

  rig.fault = async (f) => {
    const r = await rig.sim.control('POST', '/faults', f);
    assert.equal(r.status, 200, r.text);
    return r.body.id;
  };
  rig.clearFaults = () => rig.sim.control('DELETE', '/faults');

  /** Prometheus text of /metrics. */
  rig.metrics = async () => (await fetch(rig.url('/metrics'))).text();

  /**
   * Stops stsim (SIGTERM: ServiceTitan is down) and resolves a function that starts it again on
   * the same ports and state file (the rig must have been made with stateFile: true).
   */
  rig.stopSim = async () => {
    const { creds } = rig.sim;
    const port = (u) => new URL(u).port;
    const r = await rig.sim.stop();
    assert.doesNotMatch(r.stderr, SANITIZER_RE, 'sanitizer report in stsim stderr');
    return async () => {
      rig.sim = await startStsim({
        connect: false,
        args: [...rig.simArgs, '--auth-listen', `127.0.0.1:${port(creds.authUrl)}`,
          '--api-listen', `127.0.0.1:${port(creds.apiUrl)}`, '--web-listen', `127.0.0.1:${port(creds.webUrl)}`],
      });
      rig.sim.creds = { ...creds, ...Object.fromEntries(Object.entries(rig.sim.creds).filter(([k]) => /Url$/.test(k))) };
      rig.insp.token = null;
      return rig.sim;
    };
  };

  /**
   * Adds n more tenants to stsim (ids base + 1 …, seeded like the demo), each with an appointd
   * account "Tenant K" connected to it through the CLI, its catalog and a scheduler like the
   * rig's (the first active job type with a business unit). Resolves every tenant, the rig's
   * first: [{ id, key, account, clientId }].
   */
  rig.addTenants = async (n, base = 3000000) => {
    const tenants = [{ id: rig.sim.creds.tenantId, key: rig.key, account: ACCOUNT, clientId: rig.sim.creds.clientId }];
    for (let k = 1; k <= n; k++) {
      const id = base + k;
      const t = await rig.sim.control('POST', '/tenants', { id, name: `Tenant ${k}`, seed: 'demo' });
      assert.equal(t.status, 200, t.text);
      const c = (await rig.sim.control('POST', '/connections', { tenantId: id, appId: rig.sim.creds.appId })).body;
      const account = `Tenant ${k}`;
      await rig.ok(['account', 'create', account]);
      await rig.ok(['fms', 'tenant', account, String(id)]);
      await rig.ok(['fms', 'connect', account, '--client-id', c.clientId, '--client-secret-stdin'], `${c.clientSecret}\n`);
      const cat = await rig.json(['catalog', 'refresh', account]);
      const jt = cat.jobTypes.find((j) => j.active && !j.deleted && (j.businessUnitIds || []).length);
      const cfg = { ...rig.cfg, name: `Website ${k}`, campaignId: cat.campaigns.find((x) => x.active).id, campaignRules: [],
        services: [{ ...rig.cfg.services[0], jobTypeId: jt.id, businessUnitId: jt.businessUnitIds[0] }] };
      const key = (await rig.json(['scheduler', 'create', account, '--config', await rig.file(`s${k}.json`, cfg)])).key;
      tenants.push({ id, key, account, clientId: c.clientId });
    }
    return tenants;
  };

  /** Stops everything: the server (asserting a clean stderr), stsim, the data dir. */
  rig.close = async () => {
    try {
      await rig.stopServer();
    } finally {
      await rig.sim.stop();
      await rig.data.cleanup();
    }
  };
  return rig;
}
