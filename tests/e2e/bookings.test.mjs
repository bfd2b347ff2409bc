// bookings.test.mjs — a homeowner's booking as it lands in ServiceTitan,
// checked in stsim's own data through the inspector app (never appointd's
// state): exactly one job for the right customer, location, job type,
// business unit, campaign (the scheduler's attribution rules) and arrival
// window, with the appointment equal to the chosen window; the customer
// matching (a returning customer gets no new customer, a new address adds a
// location, an address that merely contains another is someone else, two
// customers on one phone become a CRM booking for a CSR unless the e-mail
// breaks the tie, Do Not Service stops in needs_attention, a merged
// customer is followed); booking mode's CRM booking with our externalId;
// and the ServiceTitan calls each booking cost, counted in stsim's request
// log (≤ 3 for a returning customer at a known address, ≤ 4 for a new one);
// and across both DST changes of America/Chicago (stsim's clock moved there):
// windows on each side of the change, and one on the Sunday of the change
// itself, each an appointment at the chosen instant and local hour.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bookingRig } from './lib/bookings.mjs';

const digits = (s) => String(s || '').replace(/\D/g, '').replace(/^1(\d{10})$/, '$1');
const utc = (s) => new Date(s).toISOString();

/** The ServiceTitan calls of a push (customers, locations, jobs, CRM bookings) in a request list. */
const pushCalls = (reqs) =>
  reqs.filter((r) => /^\/(crm|jpm)\/v2\/tenant\/\d+\/(customers|locations|jobs|booking-provider)(\/|$)/.test(r.path));

describe('a booking lands in ServiceTitan exactly once, as the right records', () => {
  let rig;
  let wins; // open windows of the next days
  let wi = 0;
  const nextWindow = () => wins[wi++ % wins.length];

  before(async () => {
    rig = await bookingRig({ scheduler: { bookingProviderTagId: 1000001 } });
    wins = await rig.windows({ days: 7 });
    assert.ok(wins.length >= 10, `enough open windows (${wins.length})`);
  });
  after(() => rig?.close());

  /** Books body, waits for the end of its push; { ref, row, calls (the push's ServiceTitan calls) }. */
  async function bookAndPush(body, end = 'booked') {
    const seq = await rig.lastSeq();
    const r = await rig.book(body);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.status, 'received');
    const ref = r.body.reference;
    const row = await rig.waitState(ref, [end, ...(end === 'booked' ? ['needs_attention'] : ['booked'])]);
    assert.equal(row.state, end, `state of ${ref}: ${JSON.stringify(row)}`);
    const calls = pushCalls(rig.appointdCalls(await rig.requests(seq)));
    return { ref, row, calls };
  }

  /** A seeded customer: active, not merged, not Do Not Service, with one active location and a phone. */
  async function seededCustomer(skip = new Set()) {
    const cs = await rig.stData('/crm/customers', { active: 'True' });
    for (const c of cs) {
      if (c.doNotService || skip.has(c.id) || c.type !== 'Residential') continue;
      const locs = (await rig.stData('/crm/locations', { customerId: c.id })).filter((l) => l.active);
      const phones = (await rig.stData(`/crm/customers/${c.id}/contacts`)).filter((k) => /phone/i.test(k.type));
      if (locs.length !== 1 || !phones.length) continue;
      // the phone must be this customer's alone
      const same = await rig.stData('/crm/customers', { phone: digits(phones[0].value) });
      if (same.length !== 1) continue;
      return { c, loc: locs[0], phone: digits(phones[0].value) };
    }
    throw new Error('no suitable seeded customer');
  }

  test('a new homeowner: one customer, one location, one job with the window in America/Chicago; ≤ 4 calls', async () => {
    const w = nextWindow();
    const body = rig.body(w, { attribution: { utm_source: 'google', utm_medium: 'cpc', gclid: 'abc' } });
    assert.equal((await rig.stData('/crm/customers', { phone: digits(body.contact.phone) })).length, 0, 'a new phone');
    const { ref, row, calls } = await bookAndPush(body);
    assert.ok(calls.length <= 4, `ServiceTitan calls: ${calls.map((c) => `${c.method} ${c.path}`).join(', ')}`);

    const jobs = await rig.jobsOf(ref);
    assert.equal(jobs.length, 1, 'exactly one job carries the reference');
    const job = jobs[0];
    assert.equal(job.jobTypeId, rig.jobType.id);
    assert.equal(job.businessUnitId, rig.bu);
    assert.equal(job.campaignId, rig.cfg.campaignRules[0].campaignId, 'the attribution rule picked the campaign');
    assert.equal(job.priority, 'High');
    assert.match(job.summary, /^Web booking: AC repair\. Is the unit blowing warm air\?: yes Gate code 1234$/);
    assert.deepEqual(job.externalData, [{ key: 'appointd.booking', value: ref }]);

    const customers = await rig.stData('/crm/customers', { phone: digits(body.contact.phone) });
    assert.deepEqual(customers.map((c) => c.id), [job.customerId], 'one customer with the phone');
    const cust = customers[0];
    assert.equal(cust.name, body.contact.name);
    assert.equal(cust.address.street, body.address.street);
    const contacts = await rig.stData(`/crm/customers/${cust.id}/contacts`);
    assert.ok(contacts.some((k) => digits(k.value) === digits(body.contact.phone)), 'the phone is a contact');
    assert.ok(contacts.some((k) => k.value === body.contact.email), 'the e-mail is a contact');
    const locs = await rig.stData('/crm/locations', { customerId: cust.id });
    assert.equal(locs.length, 1);
    assert.equal(locs[0].id, job.locationId);
    assert.deepEqual(
      { street: locs[0].address.street, city: locs[0].address.city, state: locs[0].address.state, zip: locs[0].address.zip },
      body.address,
    );

    const appts = await rig.stData('/jpm/appointments', { jobId: job.id });
    assert.equal(appts.length, 1);
    for (const k of ['start', 'arrivalWindowStart']) assert.equal(utc(appts[0][k]), utc(w.start), k);
    for (const k of ['end', 'arrivalWindowEnd']) assert.equal(utc(appts[0][k]), utc(w.end), k);
    assert.match(w.start, /T\d\d:00:00-0[56]:00$/, 'the window is shown in Chicago time');

    // appointd's view agrees with ServiceTitan's ids
    assert.deepEqual(row.servicetitan, { customerId: cust.id, locationId: job.locationId, jobId: job.id,
      appointmentId: appts[0].id, bookingId: null });
    // the homeowner's confirmation page
    const pub = await rig.get(`/api/v1/bookings/${ref}`);
    assert.equal(pub.status, 200);
    assert.equal(pub.body.status, 'confirmed');
    assert.deepEqual(pub.body.window, { start: w.start, end: w.end });
    assert.equal(pub.body.address.street, body.address.street);
    assert.equal(pub.body.contact, undefined, 'no contact details on the public page');
  });

  test('a returning customer at a known address: no new customer or location, the default campaign; ≤ 3 calls', async () => {
    const { c, loc, phone } = await seededCustomer();
    const before = await rig.stData('/crm/customers', { phone });
    const body = rig.body(nextWindow(), {
      contact: { name: c.name, phone, email: 'returning@example.com' },
      address: { street: loc.address.street, city: loc.address.city, state: loc.address.state, zip: loc.address.zip },
    });
    const { ref, calls } = await bookAndPush(body);
    assert.ok(calls.length <= 3, `ServiceTitan calls: ${calls.map((x) => `${x.method} ${x.path}`).join(', ')}`);
    const jobs = await rig.jobsOf(ref);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].customerId, c.id);
    assert.equal(jobs[0].locationId, loc.id);
    assert.equal(jobs[0].campaignId, rig.cfg.campaignId, 'no attribution: the default campaign');
    assert.deepEqual((await rig.stData('/crm/customers', { phone })).map((x) => x.id), before.map((x) => x.id));
    assert.equal((await rig.stData('/crm/locations', { customerId: c.id })).length, 1, 'no new location');
    assert.ok(!calls.some((x) => x.method === 'POST' && /customers|locations/.test(x.path)), 'nothing but the job created');
  });

  test('a returning customer at a new address: a location is added to that customer; ≤ 4 calls', async () => {
    const { c, phone } = await seededCustomer(new Set());
    const locsBefore = await rig.stData('/crm/locations', { customerId: c.id });
    const body = rig.body(nextWindow(), {
      contact: { name: c.name, phone, email: '' },
      address: { street: '77 Second Home Rd', city: 'Dallas', state: 'TX', zip: '75201' },
    });
    const { ref, calls } = await bookAndPush(body);
    assert.ok(calls.length <= 4, `ServiceTitan calls: ${calls.length}`);
    const job = (await rig.jobsOf(ref))[0];
    assert.equal(job.customerId, c.id, 'the same customer');
    const locs = await rig.stData('/crm/locations', { customerId: c.id });
    assert.equal(locs.length, locsBefore.length + 1, 'one location added');
    const added = locs.find((l) => !locsBefore.some((b) => b.id === l.id));
    assert.equal(added.id, job.locationId);
    assert.equal(added.address.street, '77 Second Home Rd');
    assert.equal((await rig.stData('/crm/customers', { phone })).length, 1, 'no new customer');
  });

  test('an address that only contains another customer\'s address is a new customer, and a new location', async () => {
    // someone already lives at "2101 Containment Way"; the homeowner lives at "101 Containment Way"
    const other = await rig.st('POST', '/crm/customers', {
      body: { name: 'Neighbour Long Number', type: 'Residential',
        address: { street: '2101 Containment Way', city: 'Dallas', state: 'TX', zip: '75201', country: 'USA' },
        locations: [{ name: 'Home', address: { street: '2101 Containment Way', city: 'Dallas', state: 'TX', zip: '75201', country: 'USA' } }],
        contacts: [{ type: 'Phone', value: '2145557701' }] },
    });
    assert.equal(other.status, 200, other.text);
    const body = rig.body(nextWindow(), { address: { street: '101 Containment Way', city: 'Dallas', state: 'TX', zip: '75201' } });
    const { ref } = await bookAndPush(body);
    const job = (await rig.jobsOf(ref))[0];
    assert.notEqual(job.customerId, other.body.id, 'not the neighbour at 2101');
    const loc = await rig.st('GET', `/crm/locations/${job.locationId}`);
    assert.equal(loc.body.address.street, '101 Containment Way');
    // and the same for a returning customer's second home: 1 Containment Way is not 101's location
    const again = rig.body(nextWindow(), { contact: body.contact, address: { ...body.address, street: '1 Containment Way' } });
    const second = await bookAndPush(again);
    const job2 = (await rig.jobsOf(second.ref))[0];
    assert.equal(job2.customerId, job.customerId, 'found by phone');
    assert.notEqual(job2.locationId, job.locationId, 'a location of its own');
  });

  test('two customers on one phone and no e-mail tie-break: a CRM booking for a CSR, no job, no new customer', async () => {
    const phone = '4695557702';
    const addr = { city: 'Dallas', state: 'TX', zip: '75201', country: 'USA' };
    for (const [name, street] of [['Twin One', '1 Twin St'], ['Twin Two', '2 Twin St']]) {
      const r = await rig.st('POST', '/crm/customers', {
        body: { name, type: 'Residential', address: { street, ...addr }, locations: [{ name: 'Home', address: { street, ...addr } }],
          contacts: [{ type: 'MobilePhone', value: phone }, { type: 'Email', value: `${name.replace(' ', '.').toLowerCase()}@example.com` }] },
      });
      assert.equal(r.status, 200, r.text);
    }
    const body = rig.body(nextWindow(), { contact: { name: 'Twin Caller', phone, email: 'someone.else@example.com' } });
    const { ref, row } = await bookAndPush(body);
    assert.equal(await rig.jobsOf(ref).then((j) => j.length), 0, 'no job');
    const bks = await rig.bookingsOf(ref);
    assert.equal(bks.length, 1, 'one CRM booking with our externalId');
    assert.equal(bks[0].externalId, ref);
    assert.equal(row.servicetitan.bookingId, bks[0].id);
    assert.equal((await rig.stData('/crm/customers', { phone })).length, 2, 'no third customer');
  });

  test('two customers on one phone, one with the homeowner\'s e-mail: that one gets the job', async () => {
    const phone = '4695557703';
    const addr = { city: 'Dallas', state: 'TX', zip: '75201', country: 'USA' };
    const ids = [];
    for (const [name, street, email] of [['Pair One', '1 Pair St', 'pair.one@example.com'], ['Pair Two', '2 Pair St', 'pair.two@example.com']]) {
      const r = await rig.st('POST', '/crm/customers', {
        body: { name, type: 'Residential', address: { street, ...addr }, locations: [{ name: 'Home', address: { street, ...addr } }],
          contacts: [{ type: 'MobilePhone', value: phone }, { type: 'Email', value: email }] },
      });
      assert.equal(r.status, 200, r.text);
      ids.push(r.body.id);
    }
    const body = rig.body(nextWindow(), { contact: { name: 'Pair Two', phone, email: 'Pair.Two@Example.com' },
      address: { street: '2 Pair St', city: 'Dallas', state: 'TX', zip: '75201' } });
    const { ref } = await bookAndPush(body);
    const jobs = await rig.jobsOf(ref);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].customerId, ids[1]);
    assert.equal(await rig.bookingsOf(ref).then((b) => b.length), 0);
  });

  test('a Do Not Service customer: needs_attention with ServiceTitan\'s reason, nothing created; "we\'ll call you"', async () => {
    // the seeded one shares its phone with another customer (a CSR's case): make one of our own
    const phone = '2145557706';
    const addr = { street: '9 Stop Rd', city: 'Dallas', state: 'TX', zip: '75201', country: 'USA' };
    const dns = await rig.st('POST', '/crm/customers', {
      body: { name: 'Never Again', type: 'Residential', address: addr, locations: [{ name: 'Home', address: addr }],
        contacts: [{ type: 'Phone', value: phone }] },
    });
    assert.equal(dns.status, 200, dns.text);
    assert.equal((await rig.st('PATCH', `/crm/customers/${dns.body.id}`, { body: { doNotService: true } })).status, 200);
    const body = rig.body(nextWindow(), { contact: { name: 'Never Again', phone, email: '' } });
    const seq = await rig.lastSeq();
    const { ref } = await bookAndPush(body, 'needs_attention');
    assert.equal((await rig.jobsOf(ref)).length, 0);
    assert.equal((await rig.bookingsOf(ref)).length, 0);
    assert.equal(pushCalls(rig.appointdCalls(await rig.requests(seq))).filter((r) => r.method !== 'GET').length, 0, 'no write');
    const shown = await rig.show(ref);
    assert.match(shown.lastError.title, /Do Not Service/);
    assert.equal((await rig.get(`/api/v1/bookings/${ref}`)).body.status, 'needs_attention');
  });

  test('a merged customer is followed to the customer it became (stsim\'s merge route)', async () => {
    const addr = { city: 'Dallas', state: 'TX', zip: '75201', country: 'USA' };
    const mk = async (name, street, phone) => {
      const r = await rig.st('POST', '/crm/customers', {
        body: { name, type: 'Residential', address: { street, ...addr }, locations: [{ name: 'Home', address: { street, ...addr } }],
          contacts: [{ type: 'Phone', value: phone }] },
      });
      assert.equal(r.status, 200, r.text);
      return r.body;
    };
    const dup = await mk('Merge Me', '5 Merge Ave', '2145557704');
    const keep = await mk('Merge Target', '5 Merge Ave', '2145557705');
    const m = await rig.sim.control('POST', `/tenants/${rig.sim.creds.tenantId}/customers/${dup.id}/merge`, { into: keep.id });
    assert.equal(m.status, 200, m.text);
    const body = rig.body(nextWindow(), { contact: { name: 'Merge Me', phone: '2145557704', email: '' },
      address: { street: '5 Merge Ave', city: 'Dallas', state: 'TX', zip: '75201' } });
    const { ref } = await bookAndPush(body);
    const jobs = await rig.jobsOf(ref);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].customerId, keep.id, 'the job is on the customer the merged one became');
    const keepLocs = await rig.stData('/crm/locations', { customerId: keep.id, active: 'True' });
    assert.ok(keepLocs.some((l) => l.id === jobs[0].locationId), 'on one of its active locations');
    assert.equal((await rig.stData('/crm/customers', { phone: '2145557704' })).filter((c) => c.active).length, 0, 'no new customer');
  });

  test('booking mode: a CRM booking on the provider with our reference as externalId; ≤ 2 calls', async () => {
    const cfg = { ...rig.cfg, name: 'CSR review', mode: 'booking' };
    const key = (await rig.json(['scheduler', 'create', 'Lone Star Comfort', '--config', await rig.file('booking-mode.json', cfg)])).key;
    const w = (await rig.windows({ key }))[3];
    const body = rig.body(w, { attribution: { utm_source: 'Google', utm_medium: 'CPC' } });
    const seq = await rig.lastSeq();
    const r = await rig.book(body, { key });
    assert.equal(r.status, 201, r.text);
    const row = await rig.waitState(r.body.reference, ['booked', 'needs_attention']);
    assert.equal(row.state, 'booked', JSON.stringify(row));
    const calls = pushCalls(rig.appointdCalls(await rig.requests(seq)));
    assert.ok(calls.length <= 2, `calls: ${calls.length}`);
    const bks = await rig.bookingsOf(r.body.reference);
    assert.equal(bks.length, 1);
    const b = bks[0];
    assert.equal(b.externalId, r.body.reference);
    assert.equal(b.status, 'New');
    assert.equal(b.name, body.contact.name);
    assert.equal(b.isFirstTimeClient, true);
    assert.equal(b.businessUnitId, rig.bu);
    assert.equal(b.jobTypeId, rig.jobType.id);
    assert.equal(b.campaignId, rig.cfg.campaignRules[0].campaignId, 'rules match case-insensitively');
    assert.equal(utc(b.start), utc(w.start));
    assert.equal(b.address.street, body.address.street);
    assert.equal((await rig.jobsOf(r.body.reference)).length, 0, 'no job in booking mode');
    assert.equal(row.servicetitan.bookingId, b.id);
  });
});

for (const [what, at, dayBefore, dayAfter, changeDay, offsetAfter] of [
  ['the spring-forward change (2027-03-14)', '2027-03-11T18:00:00Z', '2027-03-13', '2027-03-15', '2027-03-14', '-05:00'],
  ['the fall-back change (2027-11-07)', '2027-11-04T18:00:00Z', '2027-11-06', '2027-11-08', '2027-11-07', '-06:00'],
]) {
  describe(`across ${what} in America/Chicago`, () => {
    let rig;
    before(async () => {
      // stsim's clock and a tenant seeded there; appointd's wall clock moved to the same day
      rig = await bookingRig({ clockAt: at });
    });
    after(() => rig?.close());

    /** Asserts ref's one job in ServiceTitan has its appointment at window w, the same local hour there. */
    async function landedAt(ref, w) {
      const jobs = await rig.jobsOf(ref);
      assert.equal(jobs.length, 1);
      const appt = (await rig.stData('/jpm/appointments', { jobId: jobs[0].id }))[0];
      assert.equal(utc(appt.start), utc(w.start), `start of ${w.start}`);
      assert.equal(utc(appt.end), utc(w.end), `end of ${w.end}`);
      assert.equal(utc(appt.arrivalWindowStart), utc(w.start));
      assert.equal(utc(appt.arrivalWindowEnd), utc(w.end));
      // ServiceTitan's own wall-clock view of that window is the same local hour
      const cap = await rig.st('POST', '/dispatch/capacity', { body: { startsOnOrAfter: `${w.start.slice(0, 10)}T00:00:00Z`,
        endsOnOrBefore: `${w.start.slice(0, 10)}T23:59:59Z`, businessUnitIds: [rig.bu], jobTypeId: rig.jobType.id,
        skillBasedAvailability: false } });
      const slot = cap.body.availabilities.find((x) => utc(x.startUtc) === utc(w.start));
      assert.ok(slot, 'ServiceTitan has that window');
      assert.equal(slot.start.slice(0, 19), w.start.slice(0, 19), 'the same local time in ServiceTitan');
      // and the homeowner's page shows it as chosen
      assert.deepEqual((await rig.get(`/api/v1/bookings/${ref}`)).body.window, { start: w.start, end: w.end });
    }

    test('a window on the day of the change itself (a Sunday shift added in ServiceTitan) lands at that day\'s new offset', async () => {
      // the demo has no Sunday shifts, and the change is on a Sunday: give the unit's technicians one
      const techs = (await rig.stData('/settings/technicians')).filter((t) => t.businessUnitId === rig.bu && t.active);
      assert.ok(techs.length > 0, 'technicians of the unit');
      const from = new Date(`${changeDay}T07:00:00${offsetAfter}`);
      const shift = await rig.st('POST', '/dispatch/technician-shifts', {
        body: { technicianIds: techs.map((t) => t.id), shiftType: 'Normal', title: 'Sunday of the change', start: from.toISOString(),
          end: new Date(from.getTime() + 10 * 3600e3).toISOString(), repeatType: 'Never' },
      });
      assert.equal(shift.status, 200, shift.text);
      const wins = (await rig.windows({ from: changeDay, days: 1 })).filter((w) => w.start.startsWith(changeDay));
      assert.ok(wins.length > 0, `open windows on ${changeDay}`);
      const w = wins[0];
      assert.ok(w.start.endsWith(offsetAfter) && w.end.endsWith(offsetAfter), `the offset after the change: ${w.start} ${w.end}`);
      // 07:00 local and later, in the shift: the first arrival window starts on the hour it says
      assert.ok(w.start.slice(11, 16) >= '07:00', w.start);
      const r = await rig.book(rig.body(w));
      assert.equal(r.status, 201, r.text);
      await rig.waitState(r.body.reference, 'booked');
      await landedAt(r.body.reference, w);
    });

    test('the appointment is the chosen window on each side of the change', async () => {
      const wins = await rig.windows({ from: at.slice(0, 10), days: 6, all: true });
      const pick = (day) => wins.find((w) => w.start.startsWith(day) && w.available);
      const a = pick(dayBefore);
      const b = pick(dayAfter);
      assert.ok(a && b, `windows on ${dayBefore} and ${dayAfter}: ${JSON.stringify(wins.map((w) => w.start))}`);
      // the same wall-clock hour, with the offset of each side
      assert.equal(a.start.slice(11, 19), b.start.slice(11, 19));
      assert.notEqual(a.start.slice(19), b.start.slice(19), `offsets ${a.start} ${b.start}`);
      const refs = [];
      for (const w of [a, b]) {
        const r = await rig.book(rig.body(w));
        assert.equal(r.status, 201, r.text);
        refs.push(r.body.reference);
      }
      await rig.waitStates(refs, 'booked');
      for (const [i, w] of [a, b].entries()) await landedAt(refs[i], w);
    });
  });
}
