#!/usr/bin/env node
// bench/booking_drain.mjs — a backlog of bookings drained into one
// ServiceTitan tenant at its rate limit (issue 11: a 5,000-booking backlog at
// ≥ 90% of the 60/s limit, zero 429s), with the ServiceTitan calls per booking
// and the token fetches of the whole drain.
//
// stsim keeps ServiceTitan's own limits (60 API requests/s per (app,
// tenant), 60 token requests per client per minute) and answers every API
// call after LATENCY_MS. For each run: the backlog is accepted through the
// public API (new homeowners, so each booking is a phone search, an address
// search, a customer create and a job create) while the connection is
// disabled in stsim (the push parks them instead of draining them as they
// come), appointd is stopped, the connection enabled and checked, appointd
// started again with `--st-rate-limit R`, and the drain is timed from its
// start to the last booking booked. stsim's counters give the calls, the
// 429s and the token fetches of the drain; its request log (read every half
// second) splits the calls into the push's (customers, locations, jobs, CRM
// bookings) and the rest (the catalog refresh and the health check a start
// makes, capacity). Two runs:
//
//   1. R = 50 (appointd's default, a margin under ServiceTitan's 60), a
//      smaller backlog (SMALL, default 1,000): what a default install does;
//   2. R = 60 (the whole limit), the 5,000-booking backlog (BIG).
//
// usage: node bench/booking_drain.mjs
// env:   APPOINTD_BIN, STSIM_BIN (default build/…), BIG (5000), SMALL (1000),
//        LATENCY_MS (100), RATES ("50 60")
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.APPOINTD_BIN ||= path.join(root, 'build/appointd');
process.env.STSIM_BIN ||= path.join(root, 'build/sim/stsim');
const { bookingRig, pool, until } = await import('../tests/e2e/lib/bookings.mjs');

const BIG = Number(process.env.BIG || 5000);
const SMALL = Number(process.env.SMALL || 1000);
const LATENCY = Number(process.env.LATENCY_MS || 100);
const RATES = (process.env.RATES || '50 60').split(/\s+/).map(Number);

/** The push's ServiceTitan calls: customers, locations, jobs and CRM bookings. */
const PUSH_RE = /^\/(crm|jpm)\/v2\/tenant\/\d+\/(customers|locations|jobs|booking-provider)(\/|$)/;
/** A call's kind: "push GET crm/customers" for the push's, else its room and collection. */
const callKind = (q) => {
  const p = q.path.replace(/\/tenant\/\d+/, '').replace(/\/\d+(\/|$)/g, '/{id}$1').split('/').slice(1);
  return PUSH_RE.test(q.path) ? `push ${q.method} ${p[0]}/${p.slice(2).join('/')}${/externalData|externalId/.test(q.query || '') ? ' by reference' : ''}`
    : `${p[0]}/${p[2]}`;
};
const gauge = (text, state) => Number((new RegExp(`appointd_bookings\\{state="${state}"\\} (\\d+)`).exec(text) || [])[1] || 0);

const rig = await bookingRig({
  simArgs: [], // ServiceTitan's limits
  scheduler: { capacity: { mode: 'local', perWindow: 1000 } },
  serverArgs: ['--threads', '2'],
});
const rows = [];
let serial = 0;
try {
  const wins = await rig.windows({ days: 7 });
  for (const [i, rate] of RATES.entries()) {
    const n = i === RATES.length - 1 ? BIG : SMALL;
    // the backlog, accepted through the public API while the connection is disabled in stsim:
    // the push parks the bookings instead of draining them as they come
    const conn = (state) => rig.sim.control('PUT', `/connections/${rig.sim.creds.tenantId}/${rig.sim.creds.appId}/state`, { state });
    await conn('disabled');
    const rs = await pool(16, Array.from({ length: n }, () => () => {
      serial++;
      return rig.book(rig.body(wins[serial % wins.length], {
        contact: { name: `Drain ${serial}`, phone: `${200 + Math.floor(serial / 10000)}-555-${String(serial % 10000).padStart(4, '0')}`,
          email: `drain${serial}@example.com` },
        address: { street: `${serial} Drain Ave`, city: 'Dallas', state: 'TX', zip: '75201' },
      }));
    }));
    const bad = rs.filter((r) => r.status !== 201);
    if (bad.length) throw new Error(`not accepted: ${bad.length}, e.g. ${bad[0].text}`);
    await rig.stopServer();
    await conn('connected');
    await rig.ok(['fms', 'check', 'Lone Star Comfort']); // sees it work: the parked bookings go
    await rig.fault({ match: '*', kind: 'latency', latencyMs: LATENCY });
    const c0 = (await rig.sim.control('GET', '/counters')).body;
    let seq = await rig.lastSeq();
    const kinds = new Map(); // the drain's calls by kind
    let done = false;
    const readLog = async () => {
      for (const q of await rig.requests(seq)) {
        seq = Math.max(seq, q.seq);
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
    const t0 = Date.now();
    await rig.serve([...rig.serverArgs, '--st-rate-limit', String(rate)]);
    const m0 = await rig.metrics();
    const backlog = gauge(m0, 'accepted') + gauge(m0, 'pushing') + gauge(m0, 'parked');
    await until(async () => {
      const m = await rig.metrics();
      if (process.env.DUMP) {
        const v = (name) => (new RegExp(`^${name} (\\S+)`, 'm').exec(m) || [])[1];
        process.stderr.write(`t=${((Date.now() - t0) / 1000).toFixed(1)} in_flight=${v('appointd_titan_calls_in_flight')} ` +
          `waits=${v('appointd_titan_limiter_waits_total')} pushing=${gauge(m, 'pushing')} booked=${gauge(m, 'booked')}\n`);
      }
      return gauge(m, 'accepted') + gauge(m, 'pushing') + gauge(m, 'parked') === 0;
    }, { capMs: 3600e3, everyMs: 500, what: 'the drain' });
    const secs = (Date.now() - t0) / 1000;
    done = true;
    await reader;
    await readLog();
    const c1 = (await rig.sim.control('GET', '/counters')).body;
    await rig.clearFaults();
    const m1 = await rig.metrics();
    const calls = c1.apiRequests - c0.apiRequests;
    const list = (push) => [...kinds].filter(([k]) => k.startsWith('push ') === push).sort((x, y) => y[1] - x[1]);
    const pushCalls = list(true).reduce((n, [, v]) => n + v, 0);
    rows.push({ rate, backlog, secs, calls, perBooking: calls / backlog, pushPerBooking: pushCalls / backlog,
      pushes: list(true).map(([k, n]) => `${k.slice(5)} ${n}`).join(', '),
      others: list(false).map(([k, n]) => `${k} ${n}`).join(', '), callsPerSec: calls / secs,
      share: calls / secs / 60, limited: c1.rateLimited - c0.rateLimited, tokens: c1.tokensIssued - c0.tokensIssued,
      attention: gauge(m1, 'needs_attention') });
    console.error(JSON.stringify(rows.at(-1)));
  }
  console.log(`\nstsim: ServiceTitan's limits (60 requests/s per app and tenant), ${LATENCY} ms latency on every call\n`);
  console.log('| --st-rate-limit | backlog | drain s | ServiceTitan calls | calls / booking | push calls / booking | calls/s | of the 60/s limit | 429s | token fetches | needs attention |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.rate} | ${r.backlog} | ${r.secs.toFixed(1)} | ${r.calls} | ${r.perBooking.toFixed(2)} | ${r.pushPerBooking.toFixed(2)} | ` +
      `${r.callsPerSec.toFixed(1)} | ${(100 * r.share).toFixed(1)}% | ${r.limited} | ${r.tokens} | ${r.attention} |`);
  }
  for (const r of rows) {
    console.log(`\n--st-rate-limit ${r.rate}: the push's calls: ${r.pushes}\n  other calls: ${r.others || 'none'}`);
  }
} finally {
  await rig.close();
}
