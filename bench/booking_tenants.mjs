#!/usr/bin/env node
// bench/booking_tenants.mjs — 20 tenants pushing at once, each at its own
// rate limit, with stsim answering every call after 300 ms (issue 11: each
// at ≥ 90% of its limit).
//
// stsim keeps ServiceTitan's limits (60 API requests/s per (app, tenant), 60
// token requests per client per minute) and seeds 19 more demo tenants; each
// gets an appointd account connected to it through the CLI, its catalog and a
// scheduler. A backlog of PER bookings per tenant is accepted through the
// public API while the connections are disabled in stsim (so the push parks
// them rather than draining them as they come), appointd is stopped, the
// connections enabled and checked, a 300 ms latency fault is put on every API
// call, and appointd is started again with `--st-rate-limit RATE`: the push
// drains the 20 backlogs at once. stsim's request log (read every half
// second) gives each tenant's calls over time: the figure is each tenant's
// calls/s over the part of the drain when all 20 were still pushing. The push
// keeps `--push-per-account` bookings of one account in flight (appointd's
// default, 64, unless PER_ACCOUNT is set; RATE × latency = 60 × 0.3 s = 18
// calls in flight are needed).
//
// usage: node bench/booking_tenants.mjs
// env:   APPOINTD_BIN, STSIM_BIN (default build/…), TENANTS (20), PER (300),
//        RATE (60), LATENCY_MS (300), PER_ACCOUNT (appointd's default)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.APPOINTD_BIN ||= path.join(root, 'build/appointd');
process.env.STSIM_BIN ||= path.join(root, 'build/sim/stsim');
const { bookingRig, pool, until } = await import('../tests/e2e/lib/bookings.mjs');

const TENANTS = Number(process.env.TENANTS || 20);
const PER = Number(process.env.PER || 300);
const RATE = Number(process.env.RATE || 60);
const LATENCY = Number(process.env.LATENCY_MS || 300);
const PER_ACCOUNT = process.env.PER_ACCOUNT ? ['--push-per-account', process.env.PER_ACCOUNT] : [];

/** The push's ServiceTitan calls: customers, locations, jobs and CRM bookings. */
const PUSH_RE = /^\/(crm|jpm)\/v2\/tenant\/\d+\/(customers|locations|jobs|booking-provider)(\/|$)/;
/** A call's kind: "push GET crm/customers" for the push's, else its room and collection. */
const callKind = (q) => {
  const p = q.path.replace(/\/tenant\/\d+/, '').replace(/\/\d+(\/|$)/g, '/{id}$1').split('/').slice(1);
  return PUSH_RE.test(q.path) ? `push ${q.method} ${p[0]}/${p.slice(2).join('/')}${/externalData|externalId/.test(q.query || '') ? ' by reference' : ''}`
    : `${p[0]}/${p[2]}`;
};
const gauge = (text, state) => Number((new RegExp(`appointd_bookings\\{state="${state}"\\} (\\d+)`).exec(text) || [])[1] || 0);
const cpuSeconds = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

const rig = await bookingRig({
  simArgs: [],
  scheduler: { capacity: { mode: 'local', perWindow: 1000 } },
  serverArgs: ['--threads', '2', ...PER_ACCOUNT],
});
try {
  // the other tenants, each with its account, connection, catalog and scheduler
  const tenants = await rig.addTenants(TENANTS - 1);

  // the backlogs: accepted while the connections are disabled in stsim, so the push parks them
  // instead of draining them as they come (the first of each account is refused and parked,
  // the others wait parked without a call)
  const conns = async (state) => {
    for (const t of tenants) {
      const r = await rig.sim.control('PUT', `/connections/${t.id}/${rig.sim.creds.appId}/state`, { state });
      if (r.status !== 200) throw new Error(r.text);
    }
  };
  await conns('disabled');
  let serial = 0;
  const jobs = [];
  for (const t of tenants) {
    const wins = await rig.windows({ key: t.key, days: 7 });
    for (let i = 0; i < PER; i++) {
      jobs.push(() => {
        serial++;
        return rig.book(rig.body(wins[serial % wins.length], {
          contact: { name: `Tenant Homeowner ${serial}`, phone: `${200 + Math.floor(serial / 10000)}-555-${String(serial % 10000).padStart(4, '0')}`,
            email: `t${serial}@example.com` },
          address: { street: `${serial} Tenant Ave`, city: 'Dallas', state: 'TX', zip: '75201' },
        }), { key: t.key });
      });
    }
  }
  const rs = await pool(16, jobs);
  const bad = rs.filter((r) => r.status !== 201);
  if (bad.length) throw new Error(`not accepted: ${bad.length}, e.g. ${bad[0].text}`);
  await rig.stopServer();
  await conns('connected'); // and a check of each sees it work again: the parked bookings go
  for (let k = 0; k < TENANTS; k++) await rig.ok(['fms', 'check', k ? `Tenant ${k}` : 'Lone Star Comfort']);

  await rig.fault({ match: '*', kind: 'latency', latencyMs: LATENCY });
  const c0 = (await rig.sim.control('GET', '/counters')).body;
  let seq = await rig.lastSeq();
  const calls = new Map(tenants.map((t) => [t.id, []])); // per tenant: call times (ms)
  const kinds = new Map(); // the drain's calls by kind
  const t0 = Date.now();
  await rig.serve([...rig.serverArgs, '--st-rate-limit', String(RATE)]);
  const cpu0 = cpuSeconds(rig.srv.pid);
  const m0 = await rig.metrics();
  const backlog = gauge(m0, 'accepted') + gauge(m0, 'pushing') + gauge(m0, 'parked');
  let done = false;
  const readLog = async () => {
    for (const q of await rig.requests(seq)) {
      seq = Math.max(seq, q.seq);
      if (calls.has(Number(q.tenant))) calls.get(Number(q.tenant)).push(Date.parse(q.time));
      const k = callKind(q);
      kinds.set(k, (kinds.get(k) || 0) + 1);
    }
  };
  const reader = (async () => {
    while (!done) {
      await readLog();
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  await until(async () => {
    const m = await rig.metrics();
    if (process.env.DUMP) {
      const v = (name) => (new RegExp(`^${name} (\\S+)`, 'm').exec(m) || [])[1];
      process.stderr.write(`t=${((Date.now() - t0) / 1000).toFixed(1)} in_flight=${v('appointd_titan_calls_in_flight')} ` +
        `waits=${v('appointd_titan_limiter_waits_total')} pushing=${gauge(m, 'pushing')}\n`);
    }
    return gauge(m, 'accepted') + gauge(m, 'pushing') + gauge(m, 'parked') === 0;
  }, { capMs: 3600e3, everyMs: 500, what: 'the drain' });
  const secs = (Date.now() - t0) / 1000;
  const cpu = cpuSeconds(rig.srv.pid) - cpu0;
  const simCpu = cpuSeconds(rig.sim.pid);
  if (process.env.DUMP) writeFileSync(process.env.DUMP, rig.srv.stderr());
  done = true;
  await reader;
  await readLog();
  const c1 = (await rig.sim.control('GET', '/counters')).body;
  await rig.clearFaults();

  // the part of the drain when every tenant was pushing: from the last tenant's first call to
  // the first tenant's last one
  const spans = [...calls.values()].map((v) => [Math.min(...v), Math.max(...v)]);
  const from = Math.max(...spans.map((s) => s[0])) + 2000;
  const to = Math.min(...spans.map((s) => s[1])) - 2000;
  const rates = [...calls.values()].map((v) => v.filter((x) => x >= from && x < to).length / ((to - from) / 1000));
  const sorted = [...rates].sort((a, b) => a - b);
  console.log(`\n${TENANTS} tenants × ${PER} bookings (backlog ${backlog}); stsim: ServiceTitan's limits, ${LATENCY} ms on every call; ` +
    `--st-rate-limit ${RATE}${PER_ACCOUNT.length ? `, --push-per-account ${PER_ACCOUNT[1]}` : ''}\n`);
  console.log('| figure | value |');
  console.log('|---|---:|');
  console.log(`| drain, all tenants | ${secs.toFixed(1)} s |`);
  console.log(`| window with all ${TENANTS} pushing | ${((to - from) / 1000).toFixed(1)} s |`);
  console.log(`| calls/s per tenant in it: min / median / max | ${sorted[0].toFixed(1)} / ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} / ${sorted.at(-1).toFixed(1)} |`);
  console.log(`| of the tenant's limit (${RATE}/s): min | ${((100 * sorted[0]) / RATE).toFixed(1)}% |`);
  console.log(`| calls/s in all | ${(rates.reduce((a, b) => a + b, 0)).toFixed(0)} |`);
  console.log(`| ServiceTitan calls, whole drain | ${c1.apiRequests - c0.apiRequests} |`);
  console.log(`| calls per booking | ${((c1.apiRequests - c0.apiRequests) / backlog).toFixed(2)} |`);
  const list = (push) => [...kinds].filter(([k]) => k.startsWith('push ') === push).sort((x, y) => y[1] - x[1]);
  console.log(`| the push's calls (customers, locations, jobs) per booking | ${(list(true).reduce((n, [, v]) => n + v, 0) / backlog).toFixed(2)} |`);
  console.log(`\nthe push's calls: ${list(true).map(([k, n]) => `${k.slice(5)} ${n}`).join(', ')}`);
  console.log(`other calls: ${list(false).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  console.log(`| 429s at stsim | ${c1.rateLimited - c0.rateLimited} |`);
  console.log(`| token fetches | ${c1.tokensIssued - c0.tokensIssued} |`);
  console.log(`| appointd CPU (user + system) | ${cpu.toFixed(1)} s |`);
  console.log(`| stsim CPU since it started | ${simCpu.toFixed(1)} s |`);
  console.log(`| load average at the end | ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} |`);
} finally {
  await rig.close();
}
