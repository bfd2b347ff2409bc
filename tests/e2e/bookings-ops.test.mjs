// bookings-ops.test.mjs — what operators and contractors do with bookings,
// beside a running server: `appointd booking list|show|retry|resolve` (with
// the filters, the ServiceTitan ids and the call log: method, path, status,
// trace id, ids created, time), the admin API equivalents (another
// account's bookings are not found), the metrics (bookings by state, push
// latency and outcomes, ServiceTitan calls by outcome), and the server's
// log, which never carries a homeowner's phone, e-mail or name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACCOUNT, bookingRig, until } from './lib/bookings.mjs';
import { getJson } from './lib/appointd.mjs';

const OWNER = { email: 'owner@lonestar.example', password: 'correct horse battery staple 1' };
const OTHER = { email: 'owner@other.example', password: 'correct horse battery staple 2' };

describe('operators and contractors', () => {
  let rig;
  let wins;
  const homeowners = []; // every contact sent, to look for in the log
  let ok;
  let attention;
  let resolved;
  let second;

  before(async () => {
    rig = await bookingRig({ serverArgs: ['--push-backoff-max', '1'] });
    for (const [who, account] of [[OWNER, ACCOUNT], [OTHER, 'Other Heating Co']]) {
      if (account !== ACCOUNT) await rig.ok(['account', 'create', account]);
      await rig.ok(['user', 'add', who.email, '--account', account, '--role', 'owner', '--password-stdin'], `${who.password}\n`);
    }
    wins = await rig.windows({ days: 4 });
  });
  after(() => rig?.close());

  const body = (w, i) => {
    const b = rig.body(w, {
      contact: { name: `Quentin Zephyrine ${i}`, phone: `(972) 555-${3100 + i}`, email: `quentin.zephyrine${i}@example.org` },
      address: { street: `${40 + i} Xylophone Crescent`, unit: `Suite ${i}`, city: 'Dallas', state: 'tx', zip: '75201-1234' },
      notes: `private note ${i}`,
    });
    homeowners.push(b);
    return b;
  };

  async function session(who) {
    const r = await getJson(rig.url('/api/v1/login'), { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(who) });
    assert.equal(r.status, 200, r.text);
    return { cookie: (r.headers.get('set-cookie') || '').split(';')[0], csrf: r.body.csrfToken };
  }
  const admin = (s, method, p, json) => getJson(rig.url(p), {
    method,
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });

  test('bookings that end booked, in needs attention (ServiceTitan\'s title, fields and trace id), and a second scheduler', async () => {
    const r1 = await rig.book(body(wins[0], 1));
    ok = r1.body.reference;
    await rig.waitState(ok, 'booked');
    // ServiceTitan refuses the job create with a field error: needs attention, twice
    await rig.fault({ match: '/jpm/v2/tenant/*/jobs', method: 'POST', kind: 'status', status: 400, count: 2 });
    attention = (await rig.book(body(wins[1], 2))).body.reference;
    resolved = (await rig.book(body(wins[2], 3))).body.reference;
    await rig.waitStates([attention, resolved], 'needs_attention');
    const key2 = (await rig.json(['scheduler', 'create', ACCOUNT, '--config',
      await rig.file('second.json', { ...rig.cfg, name: 'Landing page' })])).key;
    second = { key: key2, ref: (await rig.book(body(wins[3], 4), { key: key2 })).body.reference };
    await rig.waitState(second.ref, 'booked');
  });

  test('booking list ACCOUNT --json, with --state, --scheduler and --since', async () => {
    const all = await rig.list();
    assert.deepEqual(all.map((b) => b.reference).sort(), [ok, attention, resolved, second.ref].sort());
    const row = all.find((b) => b.reference === ok);
    assert.equal(row.state, 'booked');
    assert.equal(row.scheduler, rig.key);
    assert.deepEqual(Object.keys(row.window), ['start', 'end']);
    for (const k of ['customerId', 'locationId', 'jobId', 'appointmentId']) assert.equal(typeof row.servicetitan[k], 'number', k);
    assert.equal(row.servicetitan.bookingId, null);
    assert.deepEqual((await rig.list(['--state', 'needs_attention'])).map((b) => b.reference).sort(), [attention, resolved].sort());
    assert.deepEqual((await rig.list(['--scheduler', second.key])).map((b) => b.reference), [second.ref]);
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86400e3).toISOString().slice(0, 10);
    assert.equal((await rig.list(['--since', today])).length, 4);
    assert.equal((await rig.list(['--since', tomorrow])).length, 0);
    const bad = await rig.cli(['booking', 'list', ACCOUNT, '--state', 'lost']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--state is one of accepted, pushing, booked, needs_attention, parked, canceled/);
    const badSince = await rig.cli(['booking', 'list', ACCOUNT, '--since', 'last week']);
    assert.equal(badSince.code, 2);
    assert.match(badSince.stderr, /--since expects a date/);
    const noAcct = await rig.cli(['booking', 'list', 'No Such Co']);
    assert.equal(noAcct.code, 1);
    // the text form: one line each
    const text = await rig.ok(['booking', 'list', ACCOUNT]);
    assert.equal(text.stdout.trim().split('\n').length, 4);
  });

  test('booking show REF --json: the call log with method, path, status, trace id, ids created and time', async () => {
    const s = await rig.show(ok);
    assert.equal(s.reference, ok);
    assert.equal(s.contact.email, 'quentin.zephyrine1@example.org', 'the operator sees the contact');
    assert.equal(s.contact.phone, '+19725553101', 'in E.164');
    assert.equal(s.address.state, 'TX');
    assert.equal(s.address.zip, '75201');
    const posts = s.calls.filter((c) => c.method === 'POST');
    assert.deepEqual(posts.map((c) => c.path), ['/crm/customers', '/jpm/jobs']);
    assert.match(posts[1].createdIds, /^job \d+, appointment \d+$/);
    assert.equal(posts[1].createdIds, `job ${s.servicetitan.jobId}, appointment ${s.servicetitan.appointmentId}`);
    for (const c of s.calls) {
      assert.ok(!c.path.includes('?'), 'no query (it may hold a phone number)');
      assert.ok(!Number.isNaN(Date.parse(c.at)), 'time');
      assert.equal(c.status, 200);
      assert.equal(c.outcome, 'ok');
      assert.equal(typeof c.durationMs, 'number');
    }
    const a = await rig.show(attention);
    const refused = a.calls.find((c) => c.status === 400);
    assert.equal(refused.method, 'POST');
    assert.equal(refused.path, '/jpm/jobs');
    assert.equal(refused.outcome, 'client_error');
    assert.match(refused.traceId, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0\d$/);
    assert.equal(a.lastError.status, 400);
    assert.equal(a.lastError.traceId, refused.traceId);
    assert.ok(a.lastError.title.length > 0);
    // the text form shows the calls and the error
    const text = (await rig.ok(['booking', 'show', attention])).stdout;
    assert.match(text, /POST \/jpm\/jobs → 400 client_error/);
    assert.match(text, /last error: .*\(trace 00-/);
    const none = await rig.cli(['booking', 'show', 'bk_nope']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /there is no booking bk_nope/);
  });

  test('booking retry REF beside the running server: pushed again at its next poll', async () => {
    await rig.clearFaults();
    const r = await rig.cli(['booking', 'retry', attention, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).state, 'accepted');
    const row = await rig.waitState(attention, 'booked', 30000);
    assert.equal((await rig.jobsOf(attention)).length, 1);
    assert.equal(typeof row.servicetitan.jobId, 'number');
    // retry of a booked one is refused, and says why
    const again = await rig.cli(['booking', 'retry', ok]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not in a state that allows retry/);
  });

  test('booking resolve REF: handled by hand, booked without a job from appointd', async () => {
    const r = await rig.cli(['booking', 'resolve', resolved, '--note', 'booked by phone', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).state, 'booked');
    await new Promise((res) => setTimeout(res, 1500)); // a poll or more later: nothing pushed for it
    assert.equal((await rig.jobsOf(resolved)).length, 0);
    assert.equal((await rig.get(`/api/v1/bookings/${resolved}`)).body.status, 'confirmed');
  });

  test('the admin API: list with counts, detail, retry and resolve; another account\'s bookings are not found', async () => {
    const s = await session(OWNER);
    const list = await admin(s, 'GET', '/api/v1/bookings');
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.total, 4);
    assert.equal(list.body.counts.booked, 4);
    assert.equal((await admin(s, 'GET', `/api/v1/bookings?state=booked&scheduler=${second.key}`)).body.bookings.length, 1);
    assert.equal((await admin(s, 'GET', '/api/v1/bookings?q=Zephyrine 2')).body.bookings[0].reference, attention);
    assert.equal((await admin(s, 'GET', '/api/v1/bookings?q=972-555-3103')).body.bookings[0].reference, resolved);
    assert.equal((await admin(s, 'GET', '/api/v1/bookings?state=lost')).status, 400);
    assert.equal((await admin(s, 'GET', '/api/v1/bookings?since=yesterday')).status, 400);
    const d = await admin(s, 'GET', `/api/v1/bookings/${attention}/detail`);
    assert.equal(d.status, 200);
    assert.ok(d.body.calls.some((c) => c.status === 400 && c.traceId));
    assert.equal((await admin(s, 'POST', `/api/v1/bookings/${ok}/retry`, {})).status, 409);
    // a needs-attention booking resolved through the API
    await rig.fault({ match: '/jpm/v2/tenant/*/jobs', method: 'POST', kind: 'status', status: 422, count: 1 });
    const ref = (await rig.book(body(wins[0], 5))).body.reference;
    await rig.waitState(ref, 'needs_attention');
    await rig.clearFaults();
    const noCsrf = await getJson(rig.url(`/api/v1/bookings/${ref}/resolve`), { method: 'POST', headers: { cookie: s.cookie } });
    assert.equal(noCsrf.status, 403);
    const res = await admin(s, 'POST', `/api/v1/bookings/${ref}/resolve`, { note: 'called them' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.state, 'booked');

    // the other account sees none of it
    const o = await session(OTHER);
    const theirs = await admin(o, 'GET', '/api/v1/bookings');
    assert.equal(theirs.status, 200);
    assert.equal(theirs.body.total, 0);
    for (const [m, p] of [['GET', `/api/v1/bookings/${ok}/detail`], ['POST', `/api/v1/bookings/${attention}/retry`],
      ['POST', `/api/v1/bookings/${ok}/resolve`], ['POST', `/api/v1/bookings/${ok}/cancel`]]) {
      const r = await admin(o, m, p, m === 'POST' ? {} : undefined);
      assert.equal(r.status, 404, `${m} ${p}: ${r.text}`);
    }
    assert.equal((await admin(o, 'GET', `/api/v1/bookings?q=${ok}`)).body.total, 0);
  });

  test('metrics: bookings by state, push latency and outcomes, ServiceTitan calls by outcome', async () => {
    const text = await until(async () => {
      const t = await rig.metrics();
      return /appointd_bookings\{state="booked"\} 5\b/.test(t) ? t : null;
    }, { what: 'the gauge to show 5 booked', capMs: 10000 });
    for (const st of ['accepted', 'pushing', 'needs_attention', 'parked', 'canceled']) {
      assert.match(text, new RegExp(`appointd_bookings\\{state="${st}"\\} 0\\b`), st);
    }
    assert.match(text, /# TYPE appointd_bookings gauge/);
    const pushed = Number(/appointd_booking_pushes_total\{outcome="booked"\} (\d+)/.exec(text)[1]);
    assert.equal(pushed, 3, 'three pushes ended booked (two were resolved by hand)');
    assert.equal(Number(/appointd_booking_pushes_total\{outcome="needs_attention"\} (\d+)/.exec(text)[1]), 3);
    assert.equal(Number(/appointd_booking_push_seconds_count (\d+)/.exec(text)[1]), 3);
    assert.match(text, /appointd_titan_\w+\{[^}]*\} \d+/);
  });

  test('the server\'s log never carries a homeowner\'s phone, e-mail or name', async () => {
    const log = rig.allStderr();
    assert.ok(log.includes('event=push.end') && log.includes('event=titan.call'), 'the log has the push and its failed calls');
    for (const b of homeowners) {
      const d = b.contact.phone.replace(/\D/g, '');
      for (const needle of [d, `+1${d}`, `${d.slice(0, 3)}-${d.slice(3, 6)}`, b.contact.email, b.contact.name,
        'Zephyrine', 'zephyrine', b.address.street, b.notes]) {
        assert.ok(!log.includes(needle), `the log carries ${needle}`);
      }
    }
  });
});
