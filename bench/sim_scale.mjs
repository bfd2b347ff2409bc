#!/usr/bin/env node
// bench/sim_scale.mjs — does stsim stay as fast at a real tenant's size? For
// tenants of 1,000, 10,000 and 100,000 customers (`--scale`), the time per
// page of the three calls a sync or a booking makes most:
//   list    GET  /crm/v2/tenant/{t}/customers?page=P&pageSize=100 — pages
//           spread over the whole walk, first to last;
//   phone   GET  /crm/v2/tenant/{t}/customers?phone=… — the customer search
//           by phone, each time another seeded number;
//   export  GET  /crm/v2/tenant/{t}/export/customers?from=…&pageSize=500 —
//           a walk of continueFrom batches from the start.
// The goal (issue 9): the median at 100k within 2× of the median at 1k, for
// each call.
//
// stsim runs from the release build dir build/ (build it first:
// meson setup build --buildtype=debugoptimized -Dtests=false && ninja -C
// build sim/stsim) with --rate-limit 0, one tenant size after the other;
// calls are sequential on one keep-alive connection and timed in this
// process (request sent → body read, so node's fetch is included).
// Prints a table; nothing is written to bench/RESULTS.md: copy it by hand.
//
// usage: node bench/sim_scale.mjs
// env:   STSIM_BIN (default build/sim/stsim), SCALES (default "1000 10000 100000"),
//        N (samples per call and size, default 60)
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.STSIM_BIN ||= path.join(root, 'build/sim/stsim');
const { startStsim } = await import('../tests/e2e/sim/lib/stsim.mjs');

const SCALES = (process.env.SCALES || '1000 10000 100000').split(/\s+/).filter(Boolean).map(Number);
const N = Number(process.env.N || 60);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timed(url, headers) {
  const t0 = performance.now();
  const r = await fetch(url, { headers });
  const body = await r.json();
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`${url} → ${r.status}: ${JSON.stringify(body).slice(0, 300)}`);
  return { ms, body };
}

/** The seeded customers' phone numbers (from the first pages), for the search. */
async function phones(sim, headers) {
  const out = [];
  for (let page = 1; out.length < N && page <= 20; page++) {
    const { body } = await timed(sim.apiUrl('/crm/customers/contacts', { query: { customerIds: '', modifiedOnOrAfter: '2000-01-01', page, pageSize: 200 } }), headers);
    for (const c of body.data) if (c.type !== 'Email') out.push(c.value);
  }
  return out.slice(0, N);
}

async function measure(scale) {
  const t0 = performance.now();
  const sim = await startStsim({ args: ['--scale', String(scale), '--rate-limit', '0'], readyTimeoutMs: 300000 });
  const ready = (performance.now() - t0) / 1000;
  try {
    const headers = { 'st-app-key': sim.creds.appKey, authorization: `Bearer ${await sim.token()}` };
    const first = await timed(sim.apiUrl('/crm/customers', { query: { pageSize: 100, includeTotal: 'true' } }), headers);
    const pages = Math.ceil(first.body.totalCount / 100);
    const list = [];
    for (let i = 0; i < N; i++) {
      const page = 1 + Math.floor((i * (pages - 1)) / Math.max(1, N - 1));
      list.push((await timed(sim.apiUrl('/crm/customers', { query: { page, pageSize: 100 } }), headers)).ms);
    }
    const phone = [];
    for (const p of await phones(sim, headers)) {
      // active=Any: a merged customer's number finds it too
      const { ms, body } = await timed(sim.apiUrl('/crm/customers', { query: { phone: p, active: 'Any' } }), headers);
      if (body.data.length === 0) throw new Error(`phone ${p} found nobody`);
      phone.push(ms);
    }
    const exp = [];
    let from = '';
    for (let i = 0; i < N; i++) {
      const { ms, body } = await timed(sim.apiUrl('/crm/export/customers', { query: { from, pageSize: 500 } }), headers);
      exp.push(ms);
      if (!body.hasMore) from = ''; // walked it all: start again
      else from = body.continueFrom;
    }
    return { scale, ready, customers: first.body.totalCount, list: median(list), phone: median(phone), export: median(exp) };
  } finally {
    await sim.stop();
  }
}

const rows = [];
for (const scale of SCALES) rows.push(await measure(scale));
console.log('\ncustomers  active  ready_s  list_ms(p=100)  phone_ms  export_ms(500)');
for (const r of rows) {
  console.log(
    `${String(r.scale).padStart(9)} ${String(r.customers).padStart(7)} ${r.ready.toFixed(1).padStart(8)} ` +
      `${r.list.toFixed(2).padStart(15)} ${r.phone.toFixed(2).padStart(9)} ${r.export.toFixed(2).padStart(14)}`,
  );
}
const base = rows[0];
for (const r of rows.slice(1)) {
  const ratio = (k) => (r[k] / base[k]).toFixed(2);
  console.log(`ratio ${r.scale}/${base.scale}: list ${ratio('list')}  phone ${ratio('phone')}  export ${ratio('export')}`);
}
console.log(`machine: ${(await import('node:os')).cpus().length} cores, ${(await import('node:os')).cpus()[0].model}`);
