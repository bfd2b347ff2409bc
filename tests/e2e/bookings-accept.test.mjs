// bookings-accept.test.mjs — the acceptance of a booking, black-box:
// 50 homeowners racing for a window ServiceTitan has room for 2 jobs in
// (exactly 2 accepted, 48 told window_unavailable with the next free
// windows, and never more in ServiceTitan's appointments than its capacity);
// the Idempotency-Key (a replay gets the same reference, another body 409,
// 100 concurrent POSTs with one key store one booking); and bad input on
// every public route answered with a clear 4xx that names what to fix,
// nothing stored in appointd nor sent to ServiceTitan.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACCOUNT, ORIGIN, bookingRig, until } from './lib/bookings.mjs';
import { getJson } from './lib/appointd.mjs';

const HOUR = 3600e3;
const utc = (s) => new Date(s).toISOString();

describe('acceptance', () => {
  let rig;
  before(async () => {
    rig = await bookingRig({ serverArgs: ['--push-backoff-max', '1'] });
  });
  after(() => rig?.close());

  /** ServiceTitan's capacity entry (inspector) of the window starting at start for the rig's unit. */
  async function stWindow(start) {
    const day = new Date(Date.parse(start) - 12 * HOUR).toISOString().slice(0, 10);
    const r = await rig.st('POST', '/dispatch/capacity', {
      body: { startsOnOrAfter: `${day}T00:00:00Z`, endsOnOrBefore: new Date(Date.parse(day) + 3 * 24 * HOUR).toISOString(),
        businessUnitIds: [rig.bu], jobTypeId: rig.jobType.id, skillBasedAvailability: false },
    });
    assert.equal(r.status, 200, r.text);
    return r.body.availabilities.find((a) => utc(a.startUtc) === utc(start));
  }

  test('50 concurrent bookings for a window with room for 2 jobs: exactly 2 accepted, 48 told window_unavailable', async () => {
    // a window a day or two ahead, read from ServiceTitan itself (appointd's cache stays cold)
    const now = Date.now();
    const day = new Date(now + 2 * 24 * HOUR);
    let cap = null;
    let start;
    for (let d = 0; d < 5 && !cap?.openAvailability; d++) {
      const date = new Date(day.getTime() + d * 24 * HOUR).toISOString().slice(0, 10);
      const r = await rig.st('POST', '/dispatch/capacity', {
        body: { startsOnOrAfter: `${date}T00:00:00Z`, endsOnOrBefore: new Date(Date.parse(date) + 2 * 24 * HOUR).toISOString(),
          businessUnitIds: [rig.bu], jobTypeId: rig.jobType.id, skillBasedAvailability: false },
      });
      cap = r.body.availabilities.find((a) => a.openAvailability >= 4 && Date.parse(a.startUtc) > now + 24 * HOUR);
      start = cap?.startUtc;
    }
    assert.ok(cap, 'a window with room');
    const d = rig.jobType.duration / 3600; // hours one job takes
    // fill it in ServiceTitan until 2 jobs (and less than 3) fit
    const cust = (await rig.stData('/crm/customers', { active: 'True' })).find((c) => !c.doNotService);
    const loc = (await rig.stData('/crm/locations', { customerId: cust.id }))[0];
    const fill = Math.floor(cap.openAvailability / d) - 2;
    for (let i = 0; i < fill; i++) {
      const r = await rig.st('POST', '/jpm/jobs', {
        body: { customerId: cust.id, locationId: loc.id, businessUnitId: rig.bu, jobTypeId: rig.jobType.id, priority: 'Normal',
          campaignId: rig.cfg.campaignId, summary: 'filler',
          appointments: [{ start: utc(start), end: utc(Date.parse(start) + d * HOUR), arrivalWindowStart: utc(start),
            arrivalWindowEnd: utc(Date.parse(start) + 2 * HOUR) }] },
      });
      assert.equal(r.status, 200, r.text);
    }
    const left = await stWindow(start);
    assert.ok(left.openAvailability >= 2 * d && left.openAvailability < 3 * d, `open ${left.openAvailability} h`);

    // the homeowners see it open, then all press "Book" at once
    const date = new Date(Date.parse(start) - 12 * HOUR).toISOString().slice(0, 10);
    const w = (await rig.windows({ from: date, days: 2, all: true })).find((x) => utc(x.start) === utc(start));
    assert.ok(w?.available, 'appointd offers the window');
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      rig.book(rig.body(w, { contact: { name: `Racer ${i}`, phone: `469-555-${String(2000 + i)}`, email: `racer${i}@example.com` } }))));
    const won = rs.filter((r) => r.status === 201);
    const lost = rs.filter((r) => r.status === 409);
    assert.equal(won.length, 2, `accepted: ${won.length}; statuses ${rs.map((r) => r.status).join(',')}`);
    assert.equal(lost.length, 48);
    for (const r of lost) {
      assert.equal(r.body.error.code, 'window_unavailable');
      assert.equal(r.body.error.field, 'window');
      assert.match(r.body.error.message, /Please choose another time/);
      assert.ok(Array.isArray(r.body.nextWindows) && r.body.nextWindows.length <= 3);
      for (const n of r.body.nextWindows) assert.ok(n.available && n.start !== w.start);
    }
    const refs = won.map((r) => r.body.reference);
    await rig.waitStates(refs, 'booked');
    // in ServiceTitan: our 2 jobs, and never more booked in the window than its technicians have
    for (const ref of refs) assert.equal((await rig.jobsOf(ref)).length, 1);
    const after = await stWindow(start);
    const appts = await rig.stData('/jpm/appointments', { startsOnOrAfter: utc(start), startsBefore: utc(Date.parse(start) + 1000) });
    let booked = 0;
    for (const a of appts) {
      const job = (await rig.st('GET', `/jpm/jobs/${a.jobId}`)).body;
      if (job.businessUnitId === rig.bu && a.status !== 'Canceled') booked += d;
    }
    assert.ok(booked <= after.totalAvailability, `booked ${booked} h of ${after.totalAvailability} h`);
    assert.ok(after.openAvailability < d, 'the window is full in ServiceTitan');
    // and a latecomer is told so
    const late = await rig.book(rig.body(w));
    assert.equal(late.status, 409, late.text);
  });

  /** In ServiceTitan (the inspector): the customers with the phone, and the jobs of each. */
  async function stJobsByPhone(phone) {
    const customers = await rig.stData('/crm/customers', { phone: phone.replace(/\D/g, '') });
    const jobs = [];
    for (const c of customers) jobs.push(...(await rig.stData('/jpm/jobs', { customerId: c.id })));
    return { customers, jobs };
  }

  test('Idempotency-Key: a replay gets the same reference, another body 409, nothing stored twice', async () => {
    const w = (await rig.windows({ days: 3 }))[1];
    const body = rig.body(w, { contact: { name: 'Replay Homeowner', phone: '469-555-7101', email: 'replay@example.com' } });
    assert.equal((await stJobsByPhone(body.contact.phone)).customers.length, 0, 'a phone ServiceTitan does not know');
    const before = (await rig.list()).length;
    const a = await rig.book(body, { idem: 'widget-key-1' });
    assert.equal(a.status, 201, a.text);
    const b = await rig.book(body, { idem: 'widget-key-1' });
    assert.equal(b.status, 201);
    assert.deepEqual(b.body, a.body, 'the same answer');
    // the same body with its fields in another order and the phone formatted otherwise: the same booking
    const c = await rig.book({ address: body.address, contact: { ...body.contact, phone: `(${body.contact.phone.replace(/-/, ') ')}` },
      window: body.window, service: body.service, notes: body.notes, answers: body.answers }, { idem: 'widget-key-1' });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.body.reference, a.body.reference);
    const d = await rig.book({ ...body, notes: 'Another note' }, { idem: 'widget-key-1' });
    assert.equal(d.status, 409);
    assert.equal(d.body.error.code, 'idempotency_key_reused');
    // another scheduler may use the same key for its own booking
    assert.equal((await rig.list()).length, before + 1, 'one booking stored');
    await rig.waitState(a.body.reference, 'booked');
    assert.equal((await rig.jobsOf(a.body.reference)).length, 1);
    // replayed after it was pushed: still the same answer
    const e = await rig.book(body, { idem: 'widget-key-1' });
    assert.equal(e.status, 201);
    assert.equal(e.body.reference, a.body.reference);
    // in ServiceTitan: one customer with the phone and one job, whatever the replays did
    await rig.waitStates((await rig.list()).map((x) => x.reference), ['booked', 'needs_attention']);
    const st = await stJobsByPhone(body.contact.phone);
    assert.equal(st.customers.length, 1, 'one customer in ServiceTitan');
    assert.deepEqual(st.jobs.map((j) => j.externalData), [[{ key: 'appointd.booking', value: a.body.reference }]], 'one job');
  });

  test('100 concurrent POSTs with one Idempotency-Key store one booking', async () => {
    const w = (await rig.windows({ days: 3 }))[2];
    const body = rig.body(w, { contact: { name: 'Hundred Taps', phone: '469-555-7102', email: 'hundred@example.com' } });
    assert.equal((await stJobsByPhone(body.contact.phone)).customers.length, 0, 'a phone ServiceTitan does not know');
    const before = (await rig.list()).length;
    const rs = await Promise.all(Array.from({ length: 100 }, () => rig.book(body, { idem: 'one-key-100' })));
    const refs = new Set(rs.map((r) => r.body?.reference));
    assert.deepEqual(rs.map((r) => r.status).filter((s) => s !== 201), [], 'all answered 201');
    assert.equal(refs.size, 1, 'one reference');
    const [ref] = refs;
    assert.equal((await rig.list()).length, before + 1);
    await rig.waitState(ref, 'booked');
    assert.equal((await rig.jobsOf(ref)).length, 1);
    // in ServiceTitan: the 100 taps made one customer and one job
    await rig.waitStates((await rig.list()).map((x) => x.reference), ['booked', 'needs_attention']);
    const st = await stJobsByPhone(body.contact.phone);
    assert.equal(st.customers.length, 1, 'one customer in ServiceTitan');
    assert.deepEqual(st.jobs.map((j) => j.externalData), [[{ key: 'appointd.booking', value: ref }]], 'one job');
  });
});

describe('bad input on every public route: a clear 4xx, nothing stored', () => {
  let rig;
  let w;
  let good;
  before(async () => {
    rig = await bookingRig({ serverArgs: ['--max-body', '1m'] });
    w = (await rig.windows({ days: 3 }))[0];
    good = rig.body(w);
  });
  after(() => rig?.close());

  const err = (r, status, code, field) => {
    assert.equal(r.status, status, `${status} expected: ${r.text}`);
    assert.equal(r.body?.error?.code, code, r.text);
    if (field !== undefined) assert.equal(r.body.error.field, field, r.text);
    assert.ok(r.body.error.message.length > 10, 'a message that says what to fix');
  };
  const del = (o, p) => {
    const c = structuredClone(o);
    const parts = p.split('.');
    let x = c;
    for (const k of parts.slice(0, -1)) x = x[k];
    delete x[parts.at(-1)];
    return c;
  };
  const set = (o, p, v) => {
    const c = structuredClone(o);
    const parts = p.split('.');
    let x = c;
    for (const k of parts.slice(0, -1)) x = x[k];
    x[parts.at(-1)] = v;
    return c;
  };

  test('POST …/bookings: missing fields, wrong types, bad values, huge bodies, other origins, past windows', async () => {
    const seq = await rig.lastSeq();
    for (const f of ['service', 'window', 'window.start', 'window.end', 'contact', 'contact.name', 'contact.phone', 'address',
      'address.street', 'address.city', 'address.state', 'address.zip']) {
      err(await rig.book(del(good, f)), 400, 'missing_field', f);
    }
    const bad = [
      ['service', 42, 'service'], ['window', '2026-12-05', 'window'], ['window.start', 1733400000, 'window.start'],
      ['contact', 'Pat', 'contact'], ['contact.phone', 2145550100, 'contact.phone'], ['smsConsent', 'yes', 'smsConsent'],
      ['answers', ['yes'], 'answers'], ['attribution', { utm_source: 5 }, 'attribution.utm_source'],
      ['notes', { text: 'x' }, 'notes'], ['address.zip', null, 'address.zip'],
    ];
    for (const [p, v, field] of bad) {
      const r = await rig.book(set(good, p, v));
      assert.equal(r.status, 400, `${p}=${JSON.stringify(v)}: ${r.text}`);
      assert.equal(r.body.error.field, field, r.text);
    }
    err(await rig.book(set(good, 'contact.phone', '555-0100')), 400, 'invalid_field', 'contact.phone');
    assert.match((await rig.book(set(good, 'contact.phone', '12'))).body.error.message, /10-digit US or Canadian phone number/);
    err(await rig.book(set(good, 'contact.email', 'pat@')), 400, 'invalid_field', 'contact.email');
    err(await rig.book(set(good, 'address.state', 'Texas')), 400, 'invalid_field', 'address.state');
    err(await rig.book(set(good, 'address.zip', '7520')), 400, 'invalid_field', 'address.zip');
    err(await rig.book(set(good, 'address.zip', '10001')), 422, 'outside_service_area', 'address.zip');
    err(await rig.book(set(good, 'service', 'roof-repair')), 400, 'invalid_parameter', 'service');
    err(await rig.book({ ...good, coupon: 'FREE' }), 400, 'unknown_field');
    err(await rig.book(set(good, 'contact.fax', '1')), 400, 'unknown_field');
    err(await rig.book(set(good, 'attribution', { utm_evil: 'x' })), 400, 'unknown_field');
    // bad dates
    err(await rig.book(set(good, 'window.start', '2026-02-30T08:00:00-06:00')), 400, 'invalid_field', 'window.start');
    err(await rig.book(set(good, 'window.start', 'tomorrow morning, please')), 400, 'invalid_field', 'window.start');
    err(await rig.book(set(good, 'window.start', w.start.slice(0, 19))), 400, 'invalid_field', 'window.start');
    err(await rig.book(set(good, 'window', { start: w.end, end: w.start })), 400, 'invalid_field', 'window.end');
    err(await rig.book(set(good, 'window', { start: w.start, end: new Date(Date.parse(w.end) + 3600e3).toISOString() })),
      400, 'window_not_offered', 'window');
    // a window in the past, and one too far ahead
    const past = { start: '2025-03-10T08:00:00-05:00', end: '2025-03-10T10:00:00-05:00' };
    err(await rig.book(set(good, 'window', past)), 409, 'window_unavailable', 'window');
    const far = { start: '2027-06-01T08:00:00-05:00', end: '2027-06-01T10:00:00-05:00' };
    const fr = await rig.book(set(good, 'window', far));
    assert.ok(fr.status === 409 || fr.status === 400, fr.text);
    // not JSON, not an object, empty, huge
    err(await rig.book(null, { raw: '{"service": "ac-repair",' }), 400, 'invalid_json');
    err(await rig.book(null, { raw: '[1,2,3]' }), 400, 'not_an_object');
    err(await rig.book(null, { raw: '' }), 400, 'empty_body');
    err(await rig.book({ ...good, notes: 'x'.repeat(40 * 1024) }), 413, 'body_too_large');
    const huge = await rig.book({ ...good, notes: 'x'.repeat(3 * 1024 * 1024) });
    assert.equal(huge.status, 413);
    err(await rig.book(set(good, 'notes', 'x'.repeat(2001))), 400, 'invalid_field', 'notes');
    err(await rig.book(set(good, 'contact.name', 'N'.repeat(101))), 400, 'invalid_field', 'contact.name');
    // headers
    err(await rig.book(good, { idem: 'has spaces in it' }), 400, 'invalid_header', 'Idempotency-Key');
    err(await rig.book(good, { idem: 'k'.repeat(201) }), 400, 'invalid_header', 'Idempotency-Key');
    err(await rig.book(good, { origin: 'https://evil.example' }), 403, 'origin_not_allowed');
    // unknown and paused schedulers
    err(await rig.book(good, { key: 'sch_AAAAAAAAAAAAAAAAAAAAAA' }), 404, 'scheduler_not_found');
    assert.equal((await rig.book(good, { key: '..%2F..%2Fetc' })).status, 404);
    await rig.ok(['scheduler', 'pause', rig.key]);
    // (the public side reads a scheduler again at most every 2 s)
    await until(async () => (await rig.get(`/api/v1/schedulers/${rig.key}`)).status === 404, { what: 'paused', capMs: 10000 });
    err(await rig.book(good), 404, 'scheduler_not_found');
    await rig.ok(['scheduler', 'resume', rig.key]);
    await until(async () => (await rig.get(`/api/v1/schedulers/${rig.key}`)).status === 200, { what: 'resumed', capMs: 10000 });

    // nothing stored, nothing sent to ServiceTitan
    assert.deepEqual((await rig.list()).map((b) => [b.reference, (b.window || {}).start]), [], 'no booking stored');
    const writes = rig.appointdCalls(await rig.requests(seq)).filter((q) => q.method !== 'GET' && !/capacity/.test(q.path));
    assert.deepEqual(writes.map((q) => q.path), [], 'no ServiceTitan write');
    // and a good one still goes through
    const ok = await rig.book(good, { origin: ORIGIN });
    assert.equal(ok.status, 201, ok.text);
  });

  test('the other public routes: scheduler, availability, status, preflight', async () => {
    err(await rig.get('/api/v1/schedulers/sch_nope'), 404, 'scheduler_not_found');
    const av = (q) => rig.get(`/api/v1/schedulers/${rig.key}/availability?${q}`);
    err(await av('zip=75201'), 400, 'missing_parameter', 'service');
    err(await av('service=ac-repair'), 400, 'missing_parameter', 'zip');
    err(await av('service=nope&zip=75201'), 400, 'invalid_parameter', 'service');
    err(await av('service=ac-repair&zip=75201&days=0'), 400, 'invalid_parameter', 'days');
    err(await av('service=ac-repair&zip=75201&days=32'), 400, 'invalid_parameter', 'days');
    err(await av('service=ac-repair&zip=75201&days=seven'), 400, 'invalid_parameter', 'days');
    err(await av('service=ac-repair&zip=75201&from=2026-13-01'), 400, 'invalid_parameter', 'from');
    err(await av('service=ac-repair&zip=75201&from=2026-02-30'), 400, 'invalid_parameter', 'from');
    err(await av('service=ac-repair&zip=ABCDE'), 400, 'invalid_parameter', 'zip');
    err(await av('service=ac-repair&zip=10001'), 422, 'outside_service_area', 'zip');
    err(await rig.get('/api/v1/bookings/bk_doesnotexist0000000000'), 404, 'not_found');
    err(await rig.get(`/api/v1/bookings/${'x'.repeat(300)}`), 404, 'not_found');
    const pre = await getJson(rig.url(`/api/v1/schedulers/${rig.key}/bookings`), { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    assert.equal(pre.status, 403);
    const okPre = await getJson(rig.url(`/api/v1/schedulers/${rig.key}/bookings`), { method: 'OPTIONS', headers: { origin: ORIGIN } });
    assert.equal(okPre.status, 204);
    assert.equal(okPre.headers.get('access-control-allow-origin'), ORIGIN);
    // a GET from another origin is answered without CORS headers (the browser hides it)
    const other = await rig.get(`/api/v1/schedulers/${rig.key}`, { origin: 'https://evil.example' });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    assert.equal((await rig.list()).filter((b) => b.state !== 'booked').length <= 1, true);
    void ACCOUNT;
  });

  test('GET …/calendar.ics: an unknown, overlong or odd reference is a 404; another method 405; nothing stored', async () => {
    let known = (await rig.list())[0]?.reference;
    if (!known) {
      const r = await rig.book(rig.body(w));
      assert.equal(r.status, 201, r.text);
      known = r.body.reference;
    }
    await rig.waitState(known, ['booked', 'needs_attention']);
    const before = await rig.list();
    const seq = await rig.lastSeq();
    const ics = (ref, method = 'GET') => getJson(rig.url(`/api/v1/bookings/${ref}/calendar.ics`), { method });
    err(await ics('bk_doesnotexist0000000000'), 404, 'not_found');
    err(await ics('x'.repeat(300)), 404, 'not_found');
    err(await ics(`${known}x`), 404, 'not_found');
    err(await ics('%22%0d%0aX-Injected:%201'), 404, 'not_found');
    err(await ics("'%20OR%201=1--"), 404, 'not_found');
    err(await ics(known, 'POST'), 405, 'method_not_allowed');
    err(await getJson(rig.url(`/api/v1/bookings/${known}`), { method: 'DELETE' }), 405, 'method_not_allowed');
    // the route answers the real reference, so the 404s above are about the reference
    const real = await ics(known);
    assert.equal(real.status, 200, real.text);
    assert.match(real.headers.get('content-type'), /^text\/calendar/);
    assert.match(real.text, new RegExp(`UID:${known}@appointd`));
    // nothing stored, nothing sent to ServiceTitan
    assert.deepEqual(await rig.list(), before);
    assert.deepEqual(rig.appointdCalls(await rig.requests(seq)).filter((q) => q.method !== 'GET').map((q) => q.path), []);
  });
});
