#!/usr/bin/env node
// bench/cluster.mjs — several appointd on one PostgreSQL, in one run:
//
//   1. booking acceptance (POST …/bookings through the public API, wrk with
//      16 connections for DURATION, a new homeowner per request, a scheduler
//      with local capacity so that ServiceTitan is not in the acceptance
//      path) on SQLite with one instance (the default deployment, the
//      reference), on PostgreSQL with one instance, the same behind nginx
//      (the cost of the hop alone), and three instances behind nginx (round
//      robin). One instance runs --threads 2; each of the three --threads 1,
//      so the three have as many event loops as the one. PostgreSQL is a
//      server of its own started for the run with fsync and synchronous
//      commit on, as a real one runs (tests/e2e/lib/pg.mjs, durable);
//   2. push throughput of 20 tenants: a backlog of PER bookings per tenant
//      accepted while the tenants' connections are disabled in stsim (so it
//      parks), the servers stopped, the connections enabled and checked, a
//      LATENCY_MS latency fault on every ServiceTitan call, then the drain
//      timed — by one instance, then (a second backlog) by three at once. The
//      per-tenant rate limit (--st-rate-limit RATE) is shared by the three:
//      each uses a third of it, so three instances drain no faster than one
//      when the limit is what bounds the drain — the point is that they
//      drain as fast as one, and never past the limit. Each tenant's calls/s
//      come from stsim's request log (read every half second), over the part
//      of the drain when all 20 were pushing.
//
// usage: node bench/cluster.mjs
// env:   APPOINTD_BIN, STSIM_BIN (default build/…: meson setup build
//        --buildtype=debugoptimized -Dtests=false), DURATION (10s), CONNS
//        (16), TENANTS (20), PER (100), RATE (50), LATENCY_MS (300)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.APPOINTD_BIN ||= path.join(root, 'build/appointd');
process.env.STSIM_BIN ||= path.join(root, 'build/sim/stsim');
const { bookingRig, pool, until } = await import('../tests/e2e/lib/bookings.mjs');
const { startServer } = await import('../tests/e2e/lib/appointd.mjs');
const { startNginx, NGINX } = await import('../tests/e2e/lib/nginx.mjs');
const { startPostgres } = await import('../tests/e2e/lib/pg.mjs');
const { luaScript, wrk: runWrk } = await import('./lib/bookings_wrk.mjs');

const DURATION = process.env.DURATION || '10s';
const CONNS = Number(process.env.CONNS || 16);
const TENANTS = Number(process.env.TENANTS || 20);
const PER = Number(process.env.PER || 100);
const RATE = Number(process.env.RATE || 50);
const LATENCY = Number(process.env.LATENCY_MS || 300);
const DAY = 86400e3;
const FAST = ['--booking-rate', '1000000', '--public-rate', '1000000', '--scheduler-rate', '1000000'];

if (!NGINX) throw new Error('nginx is needed (scripts/deps)');

const cpuSeconds = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const gauge = (text, state) => Number((new RegExp(`appointd_bookings\\{state="${state}"\\} (\\d+)`).exec(text) || [])[1] || 0);

/** n instances on the rig's database (the one of its env), each --threads threads. */
async function instances(rig, n, threads, extra = []) {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push(await startServer({ dataDir: rig.data.dir, env: rig.env, args: [...FAST, '--threads', String(threads), ...extra] }));
  }
  return out;
}

async function stopAll(list) {
  for (const s of list) await s.stop();
}

// ---- 1. acceptance ------------------------------------------------------------------------

async function acceptance(rig, label, n, viaNginx, seed) {
  const list = await instances(rig, n, n === 1 ? 2 : 1);
  const lb = viaNginx ? await startNginx(path.join(rig.data.dir, `nginx-${seed}`), list.map((s) => s.port), { workers: 1 }) : null;
  try {
    const base = lb ? lb.url : list[0].url;
    rig.srv = list[0];
    // a scheduler of its own per run: local capacity counts a window's bookings per scheduler
    const key = (await rig.json(['scheduler', 'create', 'Lone Star Comfort', '--config',
      await rig.file(`run${seed}.json`, { ...rig.cfg, name: `Run ${seed}` })])).key;
    await new Promise((r) => setTimeout(r, 2500)); // the servers see it (snapshots: 2 s)
    const wins = await rig.windows({ key, from: new Date(Date.now() + DAY).toISOString().slice(0, 10), days: 14 });
    const before = await rig.metrics();
    const cpu0 = list.map((s) => cpuSeconds(s.pid));
    const r = await runWrk(`${base}/api/v1/schedulers/${key}/bookings`, luaScript(path.join(rig.data.dir, `${seed}.lua`), wins, seed * 100000000),
      { conns: CONNS, duration: DURATION });
    const cpu = list.reduce((a, s, i) => a + cpuSeconds(s.pid) - cpu0[i], 0);
    const after = await rig.metrics();
    const count = (t) => ['accepted', 'pushing', 'booked', 'needs_attention', 'parked'].reduce((a, s) => a + gauge(t, s), 0);
    return { label, ...r, stored: count(after) - count(before), cpu };
  } finally {
    rig.srv = null;
    if (lb) await lb.stop();
    await stopAll(list);
  }
}

async function acceptanceRig(env = {}) {
  return bookingRig({
    simArgs: ['--rate-limit', '0', '--token-rate-limit', '0'],
    env,
    scheduler: { capacity: { mode: 'local', perWindow: 1000 } },
    serve: false,
  });
}

// ---- 2. the push of 20 tenants ----------------------------------------------------------------

let serial = 0;

/** A parked backlog of PER bookings per tenant (accepted by one instance, then stopped). */
async function backlog(rig, tenants) {
  const conns = async (state) => {
    for (const t of tenants) {
      const r = await rig.sim.control('PUT', `/connections/${t.id}/${rig.sim.creds.appId}/state`, { state });
      if (r.status !== 200) throw new Error(r.text);
    }
  };
  await rig.clearFaults();
  await conns('disabled');
  const [srv] = await instances(rig, 1, 2);
  rig.srv = srv;
  const jobs = [];
  for (const t of tenants) {
    const wins = await rig.windows({ key: t.key, days: 7 });
    for (let i = 0; i < PER; i++) {
      jobs.push(() => {
        serial++;
        return rig.book(rig.body(wins[serial % wins.length], {
          contact: { name: `Tenant Homeowner ${serial}`, phone: `${200 + Math.floor(serial / 10000)}-710-${String(serial % 10000).padStart(4, '0')}`,
            email: `t${serial}@example.com` },
          address: { street: `${serial} Tenant Ave`, city: 'Dallas', state: 'TX', zip: '75201' },
        }), { key: t.key });
      });
    }
  }
  const rs = await pool(16, jobs);
  const bad = rs.filter((r) => r.status !== 201);
  if (bad.length) throw new Error(`not accepted: ${bad.length}, e.g. ${bad[0].text}`);
  rig.srv = null;
  await srv.stop();
  await conns('connected');
  for (const t of tenants) await rig.ok(['fms', 'check', t.account]);
  await rig.fault({ match: '*', kind: 'latency', latencyMs: LATENCY });
}

async function drain(rig, tenants, n) {
  await backlog(rig, tenants);
  let seq = await rig.lastSeq();
  const calls = new Map(tenants.map((t) => [t.id, []]));
  let over = 0;
  const t0 = Date.now();
  const list = await instances(rig, n, n === 1 ? 2 : 1, ['--st-rate-limit', String(RATE), '--push-per-account', '32']);
  const cpu0 = list.map((s) => cpuSeconds(s.pid));
  let done = false;
  const reader = (async () => {
    while (!done) {
      for (const q of await rig.requests(seq)) {
        seq = Math.max(seq, q.seq);
        if (q.status === 429) over++;
        if (calls.has(Number(q.tenant))) calls.get(Number(q.tenant)).push(Date.parse(q.time));
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  await until(async () => {
    const m = await (await fetch(`${list[0].url}/metrics`)).text();
    return gauge(m, 'accepted') + gauge(m, 'pushing') + gauge(m, 'parked') === 0;
  }, { capMs: 3600e3, everyMs: 250, what: 'the drain' });
  const secs = (Date.now() - t0) / 1000;
  const cpu = list.reduce((a, s, i) => a + cpuSeconds(s.pid) - cpu0[i], 0);
  const m = await (await fetch(`${list[0].url}/metrics`)).text();
  done = true;
  await reader;
  await stopAll(list);
  const spans = [...calls.values()].map((v) => [Math.min(...v), Math.max(...v)]);
  const from = Math.max(...spans.map((s) => s[0])) + 2000;
  const to = Math.min(...spans.map((s) => s[1])) - 2000;
  const rates = [...calls.values()].map((v) => v.filter((x) => x >= from && x < to).length / ((to - from) / 1000)).sort((a, b) => a - b);
  let worst = 0;
  for (const v of calls.values()) {
    const per = new Map();
    for (const x of v) per.set(Math.floor(x / 1000), (per.get(Math.floor(x / 1000)) || 0) + 1);
    worst = Math.max(worst, ...per.values());
  }
  const ncalls = [...calls.values()].reduce((a, v) => a + v.length, 0);
  return { n, secs, cpu, rates, worst, over, ncalls, attention: gauge(m, 'needs_attention'), booked: gauge(m, 'booked') };
}

// ---- the run --------------------------------------------------------------------------------

const pg = await startPostgres({ durable: true });
const rows = [];
let drains;
try {
  // 1. acceptance: SQLite (its own rig), then PostgreSQL
  const sq = await acceptanceRig();
  try {
    rows.push(await acceptance(sq, 'SQLite, 1 instance (reference)', 1, false, 1));
  } finally {
    await sq.close();
  }
  await pg.psql('CREATE DATABASE bench_accept');
  const pr = await acceptanceRig({ APPOINTD_DATABASE: pg.urlFor('bench_accept') });
  try {
    rows.push(await acceptance(pr, 'PostgreSQL, 1 instance', 1, false, 2));
    rows.push(await acceptance(pr, 'PostgreSQL, 1 instance behind nginx', 1, true, 3));
    rows.push(await acceptance(pr, 'PostgreSQL, 3 instances behind nginx', 3, true, 4));
  } finally {
    await pr.close();
  }

  // 2. the push of 20 tenants, by one instance then by three
  await pg.psql('CREATE DATABASE bench_push');
  const rig = await bookingRig({ simArgs: [], env: { APPOINTD_DATABASE: pg.urlFor('bench_push') },
    scheduler: { capacity: { mode: 'local', perWindow: 1000 } }, serve: false });
  try {
    const tenants = await rig.addTenants(TENANTS - 1);
    drains = [await drain(rig, tenants, 1), await drain(rig, tenants, 3)];
  } finally {
    await rig.close();
  }
} finally {
  await pg.stop();
}

console.log(`\n1. booking acceptance, wrk -t2 -c${CONNS} -d${DURATION}, local capacity\n`);
console.log('| setup | requests | bookings/s | p50 ms | p99 ms | non-2xx | socket errors | bookings stored | appointd CPU s |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.label} | ${r.requests} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.non2xx} | ${r.errors} | ${r.stored} | ${r.cpu.toFixed(1)} |`);
}
console.log(`\n2. push of ${TENANTS} tenants × ${PER} bookings on PostgreSQL; stsim: ServiceTitan's limits, ${LATENCY} ms on every call; ` +
  `--st-rate-limit ${RATE}, --push-per-account 32\n`);
console.log('| instances | drain s | bookings/s | calls | tenant calls/s min / median / max | worst tenant-second | 429s | needs attention | appointd CPU s |');
console.log('|---:|---:|---:|---:|---|---:|---:|---:|---:|');
for (const d of drains) {
  const r = d.rates;
  console.log(`| ${d.n} | ${d.secs.toFixed(1)} | ${((TENANTS * PER) / d.secs).toFixed(0)} | ${d.ncalls} | ${r[0].toFixed(1)} / ` +
    `${r[Math.floor(r.length / 2)].toFixed(1)} / ${r[r.length - 1].toFixed(1)} | ${d.worst} | ${d.over} | ${d.attention} | ${d.cpu.toFixed(1)} |`);
}
console.log(`\nload average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
