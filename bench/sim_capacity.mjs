#!/usr/bin/env node
// bench/sim_capacity.mjs — latency of stsim's 14-day capacity query
// (POST /dispatch/v2/tenant/{t}/capacity), the figure the issue asks for
// (p50 < 5 ms).
//
// Starts stsim (demo seed, --rate-limit 0, loopback) through the e2e helper,
// gets one token, warms up, then sends N sequential queries over one
// keep-alive connection, each for 14 days of every business unit starting
// tomorrow (so the seeded jobs and all shifts are in range), and prints
// p50/p95/p99/max and the response size. Latency is measured in this process
// (request sent → body read), so it includes node's fetch overhead.
// Nothing is written to bench/RESULTS.md: copy the figures there by hand.
//
// usage: node bench/sim_capacity.mjs
// env:   STSIM_BIN (default build/sim/stsim — build it without sanitizers,
//        e.g. meson setup build --buildtype=release), N (default 500),
//        WARMUP (default 50)
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.STSIM_BIN ||= path.join(root, 'build/sim/stsim');
const { startStsim } = await import('../tests/e2e/sim/lib/stsim.mjs');

const N = Number(process.env.N || 500);
const WARMUP = Number(process.env.WARMUP || 50);
const DAY = 86400 * 1000;

const sim = await startStsim({ args: ['--rate-limit', '0', '--token-rate-limit', '0'] });
try {
  const token = await sim.token();
  const url = sim.apiUrl('/dispatch/capacity');
  const start = new Date(Math.floor(Date.now() / DAY) * DAY + DAY);
  const body = JSON.stringify({
    startsOnOrAfter: start.toISOString(),
    endsOnOrBefore: new Date(start.getTime() + 14 * DAY).toISOString(),
    skillBasedAvailability: false,
  });
  const init = {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'st-app-key': sim.creds.appKey, authorization: `Bearer ${token}` },
    body,
  };
  let bytes = 0;
  let slots = 0;
  const once = async () => {
    const t0 = process.hrtime.bigint();
    const res = await fetch(url, init);
    const text = await res.text();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (res.status !== 200) throw new Error(`capacity → ${res.status}: ${text.slice(0, 300)}`);
    bytes = text.length;
    return { ms, text };
  };
  for (let i = 0; i < WARMUP; i++) await once();
  slots = JSON.parse((await once()).text).availabilities.length;
  const lat = [];
  for (let i = 0; i < N; i++) lat.push((await once()).ms);
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))];
  const mean = lat.reduce((a, b) => a + b, 0) / lat.length;
  console.log(`stsim capacity, 14 days, all business units: ${N} sequential queries (after ${WARMUP} warm-up)`);
  console.log(`binary: ${process.env.STSIM_BIN}`);
  console.log(`availabilities per response: ${slots}, response bytes: ${bytes}`);
  console.log(
    `latency ms: p50 ${q(50).toFixed(2)}  p95 ${q(95).toFixed(2)}  p99 ${q(99).toFixed(2)}  ` +
      `max ${lat[lat.length - 1].toFixed(2)}  mean ${mean.toFixed(2)}`,
  );
} finally {
  await sim.stop();
}
