// avail.mjs — what the availability tests share: an account connected to an
// stsim tenant through the CLI (as an operator would set it up), schedulers
// made from files, appointd served against it, the public API called, and
// stsim's own data read through its inspector app to check the answers.
//
//   const sim = await startStsim();
//   const a = await connectAccount(sim, { account: 'Lone Star Comfort' });
//   const key = (await a.scheduler(a.config())).key;
//   const srv = await a.serve(['--availability-ttl', '2']);
//   const r = await availability(srv, key, { service: 'service-1', zip: '75201' });
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cli, getJson, startServer, stsimEnv, tempDir } from './appointd.mjs';

/** The CLI's one-line refusal ("appointd: MESSAGE"). */
export const message = (r) => (/^appointd: (.*)$/m.exec(r.stderr) || [])[1] || '';

/** A scheduler config over a catalog: its first active job type with a business unit. */
export function demoConfig(catalog, over = {}) {
  const jt = catalog.jobTypes.find((j) => j.active && !j.deleted && (j.businessUnitIds || []).length);
  const campaign = catalog.campaigns.find((x) => x.active);
  return {
    name: 'Main website',
    timeZone: 'America/Chicago',
    allowedOrigins: ['https://lonestarcomfort.example'],
    services: [{ id: 'service-1', label: jt.name, jobTypeId: jt.id, businessUnitId: jt.businessUnitIds[0] }],
    serviceArea: { zones: 'servicetitan' },
    campaignId: campaign.id,
    ...over,
  };
}

/**
 * An appointd data dir with an account connected to the sim's tenant (the
 * demo app's connection, or creds given) and its catalog read. Resolves
 * { env, dir, catalog, config(over), scheduler(cfg), serve(args), cleanup() }.
 */
export async function connectAccount(sim, { account = 'Lone Star Comfort', creds, data } = {}) {
  const own = data ? null : await tempDir();
  const dir = data || own.dir;
  const c = creds || { ...sim.creds, ...sim.creds.demo };
  const env = { APPOINTD_DATA_DIR: dir, APPOINTD_LOG_LEVEL: 'warn', ...stsimEnv(c) };
  const ok = async (args, input = '') => {
    const r = await cli(args, { env, input });
    assert.equal(r.code, 0, `appointd ${args.join(' ')} → ${r.code}\n${r.stderr}`);
    return r;
  };
  await ok(['account', 'create', account]);
  await ok(['fms', 'tenant', account, String(c.tenantId)]);
  await ok(['fms', 'connect', account, '--client-id', c.clientId, '--client-secret-stdin'], `${c.clientSecret}\n`);
  const catalog = JSON.parse((await ok(['catalog', 'refresh', account, '--json'])).stdout);
  let files = 0;
  const a = {
    env,
    dir,
    account,
    catalog,
    ok,
    /** demoConfig over this account's catalog. */
    config: (over = {}) => demoConfig(catalog, over),
    /** Writes cfg to a file and runs `scheduler create`: the scheduler's JSON. */
    async scheduler(cfg) {
      const p = path.join(dir, `scheduler-${++files}.json`);
      await writeFile(p, JSON.stringify(cfg));
      return JSON.parse((await ok(['scheduler', 'create', account, '--config', p, '--json'])).stdout);
    },
    /** Runs `appointd serve` on this data dir with the stsim settings (info log, no access log). */
    serve(args = [], extraEnv = {}) {
      return startServer({
        dataDir: dir, args: ['--no-access-log', ...args],
        env: { ...env, APPOINTD_LOG_LEVEL: 'info', ...extraEnv },
      });
    },
    cleanup: () => own?.cleanup(),
  };
  return a;
}

/**
 * A second ServiceTitan tenant in the sim, seeded like the demo one (its
 * shifts follow stsim's clock at this moment) in timeZone, with appointd's
 * app connected to it: the credentials connectAccount takes.
 */
export async function newTenant(sim, { id, timeZone = 'America/Chicago', name } = {}) {
  let r = await sim.control('POST', '/tenants', { id, timeZone, seed: 'demo', name: name || `Tenant ${id}` });
  assert.equal(r.status, 200, r.text);
  r = await sim.control('POST', '/connections', { tenantId: id, appId: sim.creds.demo.appId });
  assert.equal(r.status, 200, r.text);
  return { ...sim.creds, ...sim.creds.demo, tenantId: id, clientId: r.body.clientId, clientSecret: r.body.clientSecret };
}

/** GET the availability of a scheduler: { status, headers, body, text }. */
export function availability(srv, key, query = {}, init = {}) {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined));
  return getJson(`${srv.url}/api/v1/schedulers/${key}/availability?${q}`, init);
}

/**
 * A client of stsim's inspector app (every scope, no booking-provider
 * restriction) to read and change stsim's data as ServiceTitan's own
 * screens would: api(method, path, opts) like sim.api.
 */
export async function inspector(sim, tenantId = sim.creds.tenantId) {
  const r = await sim.control('POST', '/connections', { tenantId, appId: 'stsim-inspector', noRestriction: true });
  assert.equal(r.status, 200, r.text);
  const token = await sim.token({ clientId: r.body.clientId, clientSecret: r.body.clientSecret });
  return {
    creds: r.body,
    api: (method, p, opts = {}) => sim.api(method, p, { token, appKey: r.body.appKey, tenant: tenantId, ...opts }),
  };
}

/** An instant (ISO text, any offset) as RFC 3339 wall time of zone with its offset then. */
export function localRfc3339(iso, zone) {
  const t = new Date(iso);
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(t).map((p) => [p.type, p.value]));
  const wall = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  const off = Math.round((Date.parse(`${wall}Z`) - t.getTime()) / 60000);
  const a = Math.abs(off);
  return `${wall}${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** Sets appointd's wall clock (served with --debug-routes) to iso, as /_stsim/clock sets stsim's. */
export async function setClock(srv, iso) {
  const r = await getJson(`${srv.url}/debug/clock`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ set: iso }),
  });
  assert.equal(r.status, 200, r.text);
  return r.body.now;
}

/** stsim's capacity answer for a business unit and job type over [from, to) (RFC 3339). */
export async function stCapacity(insp, { from, to, businessUnitId, jobTypeId }) {
  const r = await insp.api('POST', '/dispatch/capacity', {
    body: {
      startsOnOrAfter: from, endsOnOrBefore: to, businessUnitIds: [businessUnitId], jobTypeId,
      skillBasedAvailability: false,
    },
  });
  assert.equal(r.status, 200, r.text);
  return r.body.availabilities;
}

/**
 * Books work into stsim directly, as the contractor's office would: a job of
 * jobTypeId for businessUnitId with one appointment [start, end) (ISO), for
 * the first active customer with a location. The job's answer.
 */
export async function bookWork(ins, { businessUnitId, jobTypeId, start, end }) {
  const customers = (await ins.api('GET', '/crm/customers', { query: { pageSize: 20 } })).body.data;
  let ref;
  for (const c of customers.filter((x) => !x.doNotService && x.mergedToId === null)) {
    const locs = (await ins.api('GET', '/crm/locations', { query: { customerId: c.id } })).body.data;
    if (locs.length) {
      ref = { customerId: c.id, locationId: locs[0].id };
      break;
    }
  }
  const campaignId = (await ins.api('GET', '/marketing/campaigns')).body.data[0].id;
  const r = await ins.api('POST', '/jpm/jobs', {
    body: {
      ...ref, businessUnitId, jobTypeId, campaignId, priority: 'Normal', summary: 'Booked by the office (test)',
      appointments: [{ start, end, arrivalWindowStart: start, arrivalWindowEnd: end }],
    },
  });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/**
 * The capacity calls appointd made (the demo app's client, or clientId) in
 * stsim's request log after seq: [{seq, body, status, …}].
 */
export async function capacityCalls(sim, since = 0, clientId = sim.creds.demo.clientId) {
  const r = await sim.control('GET', `/requests?since=${since}&host=api`);
  assert.equal(r.status, 200, r.text);
  return r.body.requests.filter((q) => q.method === 'POST' && q.clientId === clientId &&
    /\/dispatch\/v2\/tenant\/\d+\/capacity$/i.test(q.path));
}

/** The last sequence number of stsim's request log (0 when empty). */
export async function lastSeq(sim) {
  const r = await sim.control('GET', '/requests?host=api');
  const all = r.body.requests;
  return all.length ? all[all.length - 1].seq : 0;
}

/** Polls fn() until it returns a truthy value or cap ms pass (then throws with what). */
export async function until(fn, what, cap = 20000, every = 100) {
  const end = Date.now() + cap;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
