#!/usr/bin/env node
// scripts/tap-count.mjs — counts what one stage of scripts/check ran:
// passed, failed and skipped tests, and names each skipped and failed one.
//
//   tap-count.mjs meson build-test/meson-logs/testlog.json
//   tap-count.mjs node  LOG      (node --test --test-reporter=tap output)
//
// Prints "PASSED FAILED SKIPPED" on the first line, then one line per
// skipped test ("skip<TAB>name<TAB>reason") and per failed one
// ("fail<TAB>name<TAB>detail").
//
// How each runner reports a skip, and how it is counted here:
//  - cmocka (unit tests, TAP via CMOCKA_MESSAGE_OUTPUT=TAP): skip() prints
//    "not ok N # SKIP test_name" (cmocka 1.1.5 says "not ok", and names the
//    test after the directive; meson then calls the binary FAIL although it
//    exits 0). Counted as a skip; the binary is not failed for it.
//  - TAP "ok N - name # SKIP reason", and a plan "1..0 # SKIP reason" (a
//    whole binary skipped); meson's SKIP verdict for a binary without TAP
//    (exit status 77). "# TODO" cases count as skipped too (they do not
//    decide anything).
//  - node:test: "ok N - name # SKIP reason" for a skipped test (counted by
//    node in "# skipped") or a skipped describe() (type 'suite', which node
//    does not count at all: its tests never register). Both are counted
//    here, a suite as one; node's "# todo" tests as skipped.
import { existsSync, readFileSync } from 'node:fs';

const [mode, file] = process.argv.slice(2);
const text = file && existsSync(file) ? readFileSync(file, 'utf8') : '';
const skips = [];
const fails = [];

/** The test point of a TAP line, or null. */
function testPoint(line) {
  const m = /^(\s*)(ok|not ok)\b\s*\d*\s*(?:-\s*)?(.*)$/.exec(line);
  if (!m) return null;
  const [, indent, verdict, rest] = m;
  const d = /\s#\s*(SKIP|TODO)\b\s*(.*)$/i.exec(' ' + rest);
  const name = (d ? (' ' + rest).slice(0, d.index) : rest).trim();
  return { indent: indent.length, ok: verdict === 'ok', directive: d ? d[1].toUpperCase() : null, note: d ? d[2].trim() : '', name };
}

function countMeson() {
  let pass = 0;
  let fail = 0;
  let skip = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const t = JSON.parse(line);
    const bin = t.name.replace(/^[^:]*:\s*/, '');
    const out = String(t.stdout || '').split('\n');
    let p = 0;
    let f = 0;
    let s = 0;
    let points = 0;
    let plan = null;
    for (const l of out) {
      const pm = /^1\.\.(\d+)(?:\s*#\s*SKIP\b\s*(.*))?/i.exec(l);
      if (pm) {
        plan = Number(pm[1]);
        if (plan === 0 && pm[2] !== undefined) {
          s++;
          skips.push([bin, pm[2] || 'the whole program skipped itself']);
        }
        continue;
      }
      const tp = testPoint(l);
      if (!tp || tp.indent) continue;
      points++;
      if (tp.directive === 'SKIP') {
        // cmocka: "not ok 2 # SKIP test_name"; TAP: "ok 2 - name # SKIP reason"
        s++;
        skips.push(tp.name ? [`${bin}: ${tp.name}`, tp.note || 'skipped'] : [`${bin}: ${tp.note}`, 'skip() called']);
      } else if (tp.directive === 'TODO') {
        s++;
        skips.push([`${bin}: ${tp.name}`, `todo${tp.note ? ': ' + tp.note : ''}`]);
      } else if (tp.ok) {
        p++;
      } else {
        f++;
        fails.push([`${bin}: ${tp.name}`, 'not ok']);
      }
    }
    const clean = t.returncode === 0 && (plan === null || plan === points);
    if (points === 0 && s === 0) {
      if (t.result === 'OK' || t.result === 'EXPECTEDFAIL') p = 1;
      else if (t.result === 'SKIP') {
        s = 1;
        skips.push([bin, 'exit status 77 (skipped by the program)']);
      } else {
        f = 1;
        fails.push([bin, `${t.result}, exit status ${t.returncode}`]);
      }
    } else if (f === 0 && !clean) {
      // every case passed but the program did not: a sanitizer report after
      // the last case, a crash, a timeout, cases missing from the plan
      f = 1;
      const why = plan !== null && plan !== points ? `${points} of ${plan} cases reported` : `exit status ${t.returncode}`;
      fails.push([bin, `${t.result}, ${why}`]);
    }
    pass += p;
    fail += f;
    skip += s;
  }
  if (!text.trim()) fails.push(['meson test', 'no test log (meson test did not run)']);
  return [pass, fail || (text.trim() ? 0 : 1), skip];
}

/** The YAML block after line i of a node TAP log: {type, failureType, error, location}. */
function yamlAfter(lines, i) {
  const y = {};
  if (!/^\s*---\s*$/.test(lines[i + 1] || '')) return y;
  for (let j = i + 2; j < lines.length && !/^\s*\.\.\.\s*$/.test(lines[j]); j++) {
    const m = /^\s*(type|failureType|error|location):\s*'?(.*?)'?\s*$/.exec(lines[j]);
    if (!m || m[1] in y) continue;
    // a multi-line value (|- or >-) goes on the next lines: its first one will do
    y[m[1]] = /^[|>]-?$/.test(m[2]) ? (lines[j + 1] || '').trim() : m[2].replace(/''/g, "'");
  }
  return y;
}

function countNode() {
  const lines = text.split('\n');
  const total = (key) => {
    const all = [...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))];
    return all.length ? Number(all[all.length - 1][1]) : null;
  };
  const cwd = process.cwd() + '/';
  let suites = 0;
  let cancelled = 0;
  lines.forEach((line, i) => {
    const tp = testPoint(line);
    if (!tp) return;
    const y = yamlAfter(lines, i);
    const isSuite = y.type === 'suite';
    const where = y.location ? ` [${y.location.replace(cwd, '').replace(/:\d+$/, '')}]` : '';
    if (tp.directive === 'SKIP') {
      if (isSuite) suites++;
      skips.push([`${tp.name}${isSuite ? ' (a whole suite)' : ''}${where}`, tp.note || 'skipped']);
    } else if (tp.directive === 'TODO') {
      skips.push([`${tp.name}${where}`, `todo${tp.note ? ': ' + tp.note : ''}`]);
    } else if (!tp.ok && y.failureType === 'cancelledByParent') {
      cancelled++;
    } else if (!tp.ok && y.failureType !== 'subtestsFailed') {
      fails.push([`${tp.name}${isSuite ? ' (suite)' : ''}${where}`, y.error || 'not ok']);
    }
  });
  if (cancelled) fails.push([`${cancelled} test(s)`, 'cancelled because their suite or parent failed (above)']);
  const pass = total('pass');
  if (pass === null) return [0, 0, skips.length, true];
  const fail = (total('fail') || 0) + (total('cancelled') || 0);
  const skip = (total('skipped') || 0) + (total('todo') || 0) + suites;
  return [pass, fail, skip, false];
}

let counts;
if (mode === 'meson') counts = countMeson();
else if (mode === 'node') {
  const [p, f, s, noSummary] = countNode();
  counts = [p, f, s];
  if (noSummary) {
    counts[1]++;
    fails.push(['node --test', 'no summary (the runner itself failed)']);
  }
} else {
  console.error('usage: tap-count.mjs meson|node FILE');
  process.exit(2);
}
console.log(counts.join(' '));
const clean = (s) => String(s).replace(/[\t\n]+/g, ' ');
for (const [name, why] of skips) console.log(`skip\t${clean(name)}\t${clean(why)}`);
for (const [name, why] of fails) console.log(`fail\t${clean(name)}\t${clean(why)}`);
