// booking.mjs — what the dashboard's booking-half browser tests share: a
// stack whose first account is connected to stsim's demo tenant with its
// catalog read, a homeowner booking through the public API (what the widget
// sends), ServiceTitan's own data read back through stsim's inspector app
// (results are checked there, not in appointd's state), and waiting for a
// booking's state through the dashboard's API.
//
//   const st = await connectedStack({ accounts: [{ name: 'acme', users: [OWNER] }] });
//   const ref = await homeownerBooks(st, key, { origin: SITE });
//   const jobs = await stJobs(st, { customerId });
import assert from 'node:assert/strict';
import { startStack } from './dashboard.mjs';

/** The settings every booking test runs with: quick health checks, no booking throttle. */
export const BOOKING_SERVER_ARGS = ['--health-interval', '5', '--booking-rate', '100000', '--public-rate', '100000'];

/**
 * startStack() (lib/dashboard.mjs), then the first account connected to the
 * demo tenant (Allow Access through stsim's control API) and its catalog read.
 * st.catalog is that catalog.
 */
export async function connectedStack({ accounts, serverArgs = [], serverEnv = {} }) {
  const st = await startStack({ accounts, serverArgs: [...BOOKING_SERVER_ARGS, ...serverArgs], serverEnv });
  try {
    await st.connectByCli(accounts[0].name, st.sim.creds.tenantId);
    st.catalog = JSON.parse((await st.cli(['catalog', 'refresh', accounts[0].name, '--json'])).stdout);
  } catch (e) {
    await st.stop();
    throw e;
  }
  return st;
}

/** An active job type with a business unit, and an active campaign, of the demo catalog. */
export function demoPicks(catalog) {
  const jobType = catalog.jobTypes.find((j) => j.active && !j.deleted && (j.businessUnitIds || []).length);
  const campaign = catalog.campaigns.find((c) => c.active && !c.deleted);
  const zip = catalog.zones.find((z) => z.active && (z.zips || []).length).zips[0];
  return { jobType, businessUnitId: jobType.businessUnitIds[0], campaign, zip };
}

let people = 0;

/**
 * A homeowner books through the public API, as the widget does: the
 * scheduler, its first service, the first open window for zip. Resolves the
 * reference. who: { origin, name, phone, street } (defaults: a new person).
 */
export async function homeownerBooks(st, key, who = {}) {
  const n = ++people;
  const base = st.srv.url;
  const headers = { 'content-type': 'application/json', ...(who.origin ? { origin: who.origin } : {}) };
  const pub = await (await fetch(`${base}/api/v1/schedulers/${key}`, { headers })).json();
  const service = who.service || pub.services[0].id;
  const zip = who.zip || demoPicks(st.catalog).zip;
  const av = await fetch(`${base}/api/v1/schedulers/${key}/availability?service=${service}&zip=${zip}&days=7`, { headers });
  if (av.status !== 200) {
    const log = (await st.control('GET', '/requests')).requests.slice(-6).map((x) => `${x.method} ${x.path} ${x.status} ${x.body || ''}`.slice(0, 300));
    assert.fail(`availability: ${av.status} ${await av.text()}\nstsim's last calls:\n${log.join('\n')}`);
  }
  const win = (await av.json()).windows.find((w) => w.available);
  assert.ok(win, "an open window in the next 7 days");
  const body = {
    service,
    window: { start: win.start, end: win.end },
    contact: { name: who.name || `Pat Homeowner ${n}`, phone: who.phone || `214-555-${String(1000 + n).slice(-4)}`, email: `pat${n}@example.com` },
    address: { street: who.street || `${100 + n} Main St`, city: 'Dallas', state: 'TX', zip },
    notes: who.notes || 'Gate code 1234',
  };
  const r = await fetch(`${base}/api/v1/schedulers/${key}/bookings`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': `test-${process.pid}-${n}` },
    body: JSON.stringify(body),
  });
  const out = await r.json();
  assert.equal(r.status, 201, `booking: ${JSON.stringify(out)}`);
  return out.reference;
}

/** A booking's detail through the dashboard's API with the browser's session. */
export async function detail(context, st, ref) {
  const r = await context.request.get(`${st.srv.url}/api/v1/bookings/${ref}/detail`);
  assert.equal(r.status(), 200, `detail ${ref}: ${r.status()}`);
  return r.json();
}

/** Polls the booking until its state is one of states (cap: 30 s); resolves the detail. */
export async function waitState(context, st, ref, states, capMs = 30000) {
  const want = [].concat(states);
  const until = Date.now() + capMs;
  let d;
  for (;;) {
    d = await detail(context, st, ref);
    if (want.includes(d.state)) return d;
    if (Date.now() > until) throw new Error(`${ref} stayed ${d.state}, wanted ${want.join('|')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * ServiceTitan's jobs (stsim's data, read through its inspector app, which
 * may read everything): GET /jpm/v2/tenant/{t}/jobs with query.
 */
export async function stJobs(st, query) {
  if (!st.inspector) {
    const c = await st.control('POST', '/connections', { tenantId: st.sim.creds.tenantId, appId: 'stsim-inspector', noRestriction: true });
    st.inspector = { appKey: c.appKey, token: await st.sim.token({ clientId: c.clientId, clientSecret: c.clientSecret }) };
  }
  const r = await st.sim.api('GET', '/jpm/jobs', { query: { pageSize: 50, ...query }, token: st.inspector.token, appKey: st.inspector.appKey });
  assert.equal(r.status, 200, `stsim jobs: ${r.text}`);
  return r.body.data;
}
