// bookings-support.test.mjs — what appointd's schedulers and bookings
// (issues 10 and 11) will do against stsim, and check afterwards in stsim's
// own data (issue 9, item 4): notes on jobs, customers and locations, job
// history, leads and their export, teams, user roles, custom field types
// and their validation; the customer search by phone and by address, and
// external data under an application GUID on customers, locations and jobs;
// merged and Do Not Service customers; bookings found by externalId; a job
// with its appointment lowering capacity; and the control API the fault
// tests need (faults on one route at a percentage, apply_then_drop on
// every create, a connection disabled and enabled). Every API body is
// validated against the OpenAPI specs by sim.api.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStsim, stopClean } from './lib/stsim.mjs';

function expect(r, status) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text.slice(0, 500)}`);
  return r.body;
}

const GUID = '0c7c8f3e-52a1-4b7e-9d2e-3f0a6b1c2d4e';
const OTHER_GUID = '11111111-2222-3333-4444-555555555555';
const ADDRESS = { street: '4417 Booking Ln', city: 'Dallas', state: 'TX', zip: '75214', country: 'USA' };
const HOUR = 3600 * 1000;

describe('what bookings use, checked in stsim’s data', () => {
  let sim, insp; // insp: { token, appKey } of the inspector app (every scope)
  let now;
  const ref = {};
  const as = (opts = {}) => ({ token: insp.token, appKey: insp.appKey, ...opts });
  const at = (days, hour) => {
    const d = new Date(now + days * 24 * HOUR);
    d.setUTCHours(hour, 0, 0, 0);
    return d.toISOString();
  };

  before(async () => {
    sim = await startStsim({ args: ['--rate-limit', '0'], as: 'demo' }); // appointd's own scopes
    now = Date.parse(expect(await sim.control('POST', '/clock', { advanceSeconds: 0 }), 200).now);
    const conn = expect(
      await sim.control('POST', '/connections', { tenantId: sim.creds.tenantId, appId: 'stsim-inspector', noRestriction: true }),
      200,
    );
    insp = { token: await sim.token({ clientId: conn.clientId, clientSecret: conn.clientSecret }), appKey: conn.appKey };
    const apps = expect(await sim.control('GET', '/apps'), 200).apps;
    assert.equal(apps.find((a) => a.id === 'stsim-inspector').appKey, conn.appKey);
    const bus = expect(await sim.api('GET', '/settings/business-units'), 200).data;
    ref.bu = bus[0].id;
    ref.jobType = expect(await sim.api('GET', '/jpm/job-types'), 200).data.find((j) => j.businessUnitIds.includes(ref.bu)).id;
    ref.campaign = expect(await sim.api('GET', '/marketing/campaigns'), 200).data[0].id;
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
  });

  /** A new customer with one location, external data under GUID; returns the create answer. */
  async function newCustomer(name, phone, extra = {}) {
    return expect(
      await sim.api('POST', '/crm/customers', {
        body: {
          name,
          address: ADDRESS,
          contacts: [{ type: 'MobilePhone', value: phone }],
          externalData: { applicationGuid: GUID, externalData: [{ key: 'appointdRef', value: `ref-${name}` }] },
          locations: [
            {
              name: 'Home',
              address: ADDRESS,
              externalData: { applicationGuid: GUID, externalData: [{ key: 'appointdRef', value: `loc-${name}` }] },
            },
          ],
          ...extra,
        },
      }),
      200,
    );
  }

  test('customer search by phone (any formatting) and by address (street and ZIP)', async () => {
    const c = await newCustomer('Search Pat', '+1 (469) 555-0177');
    ref.customer = c.id;
    ref.location = c.locations[0].id;
    for (const phone of ['4695550177', '469-555-0177', '(469) 555 0177', '14695550177']) {
      const r = expect(await sim.api('GET', '/crm/customers', { query: { phone } }), 200);
      assert.ok(r.data.some((x) => x.id === c.id), `phone ${phone}`);
    }
    const byAddr = expect(await sim.api('GET', '/crm/customers', { query: { street: '4417 booking', zip: '75214' } }), 200);
    assert.deepEqual(byAddr.data.map((x) => x.id), [c.id]);
    const locs = expect(await sim.api('GET', '/crm/locations', { query: { street: 'Booking Ln', zip: '75214' } }), 200);
    assert.deepEqual(locs.data.map((x) => x.id), [ref.location]);
    const none = expect(await sim.api('GET', '/crm/customers', { query: { street: '4417 booking', zip: '75215' } }), 200);
    assert.equal(none.data.length, 0);
  });

  test('external data: stored under its GUID, found by key and values, answered per GUID', async () => {
    const q = { externalDataApplicationGuid: GUID, externalDataKey: 'appointdRef', externalDataValues: 'ref-Search Pat,ref-nobody' };
    const found = expect(await sim.api('GET', '/crm/customers', { query: q }), 200);
    assert.deepEqual(found.data.map((x) => x.id), [ref.customer]);
    assert.deepEqual(found.data[0].externalData, [{ key: 'appointdRef', value: 'ref-Search Pat' }]);
    const other = expect(await sim.api('GET', '/crm/customers', { query: { ...q, externalDataApplicationGuid: OTHER_GUID } }), 200);
    assert.equal(other.data.length, 0, 'another application sees nothing under its GUID');
    const loc = expect(
      await sim.api('GET', '/crm/locations', { query: { externalDataKey: 'appointdRef', externalDataValues: 'loc-Search Pat' } }),
      200,
    );
    assert.deepEqual(loc.data.map((x) => x.id), [ref.location]);
    // another app's data on the same customer stays apart
    expect(
      await sim.api('PATCH', `/crm/customers/${ref.customer}`, {
        body: { externalData: { applicationGuid: OTHER_GUID, patchMode: 'Merge', externalData: [{ key: 'k', value: 'v' }] } },
      }),
      200,
    );
    const mine = expect(await sim.api('GET', '/crm/customers', { query: { externalDataApplicationGuid: GUID } }), 200);
    assert.deepEqual(mine.data.find((x) => x.id === ref.customer).externalData, [{ key: 'appointdRef', value: 'ref-Search Pat' }]);
    const bad = expect(await sim.api('GET', '/crm/customers', { query: { externalDataKey: 'appointdRef' } }), 400);
    assert.ok('externalDataValues' in bad.errors);
    expect(await sim.api('GET', '/crm/customers', { query: { externalDataApplicationGuid: 'not-a-guid' } }), 400);
  });

  test('a job with its appointment, external data and notes; its history; capacity goes down', async () => {
    const start = at(2, 14); // 14:00Z = 08:00/09:00 in Chicago: inside the 08:00 window of the demo
    const capBefore = expect(
      await sim.api('POST', '/dispatch/capacity', {
        body: { startsOnOrAfter: at(2, 0), endsOnOrBefore: at(3, 0), businessUnitIds: [ref.bu], jobTypeId: ref.jobType, skillBasedAvailability: false },
      }),
      200,
    );
    const job = expect(
      await sim.api('POST', '/jpm/jobs', {
        body: {
          customerId: ref.customer,
          locationId: ref.location,
          businessUnitId: ref.bu,
          jobTypeId: ref.jobType,
          priority: 'Normal',
          campaignId: ref.campaign,
          summary: 'Booked online',
          externalData: { applicationGuid: GUID, externalData: [{ key: 'appointdRef', value: 'bk-123' }] },
          appointments: [{ start, end: new Date(Date.parse(start) + 2 * HOUR).toISOString(), arrivalWindowStart: start, arrivalWindowEnd: new Date(Date.parse(start) + 2 * HOUR).toISOString() }],
        },
      }),
      200,
    );
    ref.job = job.id;
    const byExt = expect(
      await sim.api('GET', '/jpm/jobs', { query: { externalDataApplicationGuid: GUID, externalDataKey: 'appointdRef', externalDataValues: 'bk-123' } }),
      200,
    );
    assert.deepEqual(byExt.data.map((j) => j.id), [job.id]);
    assert.deepEqual(byExt.data[0].externalData, [{ key: 'appointdRef', value: 'bk-123' }]);
    const got = expect(await sim.api('GET', `/jpm/jobs/${job.id}`, { query: { externalDataApplicationGuid: OTHER_GUID } }), 200);
    assert.deepEqual(got.externalData, []);
    const appt = expect(await sim.api('GET', `/jpm/appointments/${job.firstAppointmentId}`, as()), 200);
    assert.equal(Date.parse(appt.arrivalWindowStart), Date.parse(start));
    const capAfter = expect(
      await sim.api('POST', '/dispatch/capacity', {
        body: { startsOnOrAfter: at(2, 0), endsOnOrBefore: at(3, 0), businessUnitIds: [ref.bu], jobTypeId: ref.jobType, skillBasedAvailability: false },
      }),
      200,
    );
    const slot = (cap) => cap.availabilities.find((a) => Date.parse(a.startUtc) <= Date.parse(start) && Date.parse(start) < Date.parse(a.endUtc));
    assert.ok(slot(capAfter), 'the window of the appointment');
    assert.ok(slot(capAfter).openAvailability < slot(capBefore).openAvailability, 'open hours went down');

    expect(await sim.api('POST', `/jpm/jobs/${job.id}/notes`, { body: { text: 'Gate code 1234' } }), 200);
    const pinned = expect(await sim.api('POST', `/jpm/jobs/${job.id}/notes`, { body: { text: 'Dog in yard', pinToTop: 'true' } }), 200);
    assert.equal(pinned.isPinned, true);
    const notes = expect(await sim.api('GET', `/jpm/jobs/${job.id}/notes`), 200);
    assert.deepEqual(notes.data.map((n) => n.text), ['Dog in yard', 'Gate code 1234']);
    expect(await sim.api('POST', `/jpm/jobs/${job.id}/notes`, { body: { text: '' } }), 400);
    expect(await sim.api('POST', '/jpm/jobs/999999999/notes', { body: { text: 'x' } }), 404);
    const feed = expect(await sim.api('GET', '/jpm/export/job-notes', { query: { from: '' } }), 200);
    assert.ok(feed.data.some((n) => n.jobId === job.id && n.text === 'Gate code 1234' && n.active));

    const reason = expect(await sim.api('GET', '/jpm/job-cancel-reasons'), 200).data[0].id;
    expect(await sim.api('PUT', `/jpm/jobs/${job.id}/cancel`, { body: { reasonId: reason, memo: 'double booked' } }), 200);
    expect(await sim.api('PUT', `/jpm/jobs/${job.id}/remove-cancellation`), 200);
    const hist = expect(await sim.api('GET', `/jpm/jobs/${job.id}/history`), 200).history;
    assert.deepEqual(hist.map((h) => h.eventType), ['Job Booked', 'Job Canceled', 'Job Cancellation Removed']);
    assert.equal(hist[1].memo, 'double booked');
    const hfeed = expect(await sim.api('GET', '/jpm/export/job-history', { query: { from: '' } }), 200);
    assert.equal(hfeed.data.find((h) => h.jobId === job.id).history.length, 3);
  });

  test('customer and location notes: added, copied to locations or customer, listed, deleted', async () => {
    const n = expect(
      await sim.api('POST', `/crm/customers/${ref.customer}/notes`, { body: { text: 'Prefers texts', addToLocations: true } }),
      200,
    );
    const locNotes = expect(await sim.api('GET', `/crm/locations/${ref.location}/notes`), 200);
    assert.deepEqual(locNotes.data.map((x) => x.text), ['Prefers texts']);
    expect(await sim.api('POST', `/crm/locations/${ref.location}/notes`, { body: { text: 'Side gate', addToCustomer: true, pinToTop: true } }), 200);
    const custNotes = expect(await sim.api('GET', `/crm/customers/${ref.customer}/notes`), 200);
    assert.deepEqual(custNotes.data.map((x) => x.text), ['Side gate', 'Prefers texts']);
    expect(await sim.api('DELETE', `/crm/customers/${ref.customer}/notes/${n.id}`), 200);
    expect(await sim.api('DELETE', `/crm/customers/${ref.customer}/notes/${n.id}`), 404);
    const left = expect(await sim.api('GET', `/crm/customers/${ref.customer}/notes`), 200);
    assert.deepEqual(left.data.map((x) => x.text), ['Side gate']);
  });

  test('custom field types of customers, locations and jobs, and values checked against them', async () => {
    const ct = expect(await sim.api('GET', '/crm/customers/custom-fields'), 200).data;
    const lt = expect(await sim.api('GET', '/crm/locations/custom-fields'), 200).data;
    const jt = expect(await sim.api('GET', '/jpm/jobs/custom-fields'), 200).data;
    assert.ok(ct.length >= 1 && lt.length >= 1 && jt.length >= 1);
    const dropdown = ct.find((t) => t.dataType === 'Dropdown');
    const numeric = lt.find((t) => t.dataType === 'Numeric');
    const ok = expect(
      await sim.api('POST', '/crm/customers', {
        body: {
          name: 'Custom Fields', address: ADDRESS, customFields: [{ typeId: dropdown.id, value: dropdown.dataTypeOptions[0] }],
          locations: [{ name: 'Home', address: ADDRESS, customFields: [{ typeId: numeric.id, value: '1987' }] }],
        },
      }),
      200,
    );
    assert.deepEqual(ok.customFields, [{ typeId: dropdown.id, name: dropdown.name, value: dropdown.dataTypeOptions[0] }]);
    const bad = expect(
      await sim.api('POST', '/crm/customers', {
        body: {
          name: 'Bad Fields', address: ADDRESS, customFields: [{ typeId: dropdown.id, value: 'Midnight' }, { typeId: numeric.id, value: '1' }],
          locations: [{ name: 'Home', address: ADDRESS, customFields: [{ typeId: numeric.id, value: 'old' }] }],
        },
      }),
      400,
    );
    assert.deepEqual(Object.keys(bad.errors).sort(), ['customFields[0].value', 'customFields[1].typeId', 'locations[0].customFields[0].value']);
  });

  test('merged and Do Not Service customers, as the control API and PATCH make them', async () => {
    const a = await newCustomer('Dup Original', '2145550111');
    const b = await newCustomer('Dup Copy', '2145550112');
    const merged = expect(await sim.control('POST', `/tenants/${sim.creds.tenantId}/customers/${b.id}/merge`, { into: a.id }), 200);
    assert.equal(merged.mergedToId, a.id);
    assert.equal(merged.active, false);
    const got = expect(await sim.api('GET', `/crm/customers/${b.id}`), 200);
    assert.equal(got.mergedToId, a.id);
    const loc = expect(await sim.api('GET', `/crm/locations/${b.locations[0].id}`), 200);
    assert.equal(loc.mergedToId, a.locations[0].id);
    assert.equal((await sim.control('POST', `/tenants/${sim.creds.tenantId}/customers/${b.id}/merge`, { into: b.id })).status, 400);
    assert.equal((await sim.control('POST', `/tenants/${sim.creds.tenantId}/customers/999/merge`, { into: a.id })).status, 404);
    const dns = expect(await sim.api('PATCH', `/crm/customers/${a.id}`, { body: { doNotService: true } }), 200);
    assert.equal(dns.doNotService, true);
    const seeded = expect(await sim.api('GET', '/crm/customers', { query: { active: 'False', pageSize: 50 } }), 200);
    assert.ok(seeded.data.filter((c) => c.mergedToId !== null).length >= 3, 'the seed has merged customers');
  });

  test('bookings by externalId on the booking provider', async () => {
    const bp = `/crm/booking-provider/${sim.creds.bookingProviderId}/bookings`;
    const mk = (externalId) =>
      sim.api('POST', bp, { body: { source: 'appointd', name: 'BP Person', address: ADDRESS, summary: 's', isFirstTimeClient: true, externalId } });
    const b1 = expect(await mk('appointd-ref-1'), 200);
    expect(await mk('appointd-ref-2'), 200);
    const found = expect(await sim.api('GET', bp, { query: { externalId: 'appointd-ref-1' } }), 200);
    assert.deepEqual(found.data.map((b) => b.id), [b1.id]);
    const none = expect(await sim.api('GET', bp, { query: { externalId: 'appointd-ref-3' } }), 200);
    assert.equal(none.data.length, 0);
  });

  test('reference data: campaigns, tag types, zones with ZIPs, booking provider tags, teams, user roles', async () => {
    expect(await sim.api('GET', '/marketing/campaigns'), 200);
    expect(await sim.api('GET', '/settings/tag-types'), 200);
    const zones = expect(await sim.api('GET', '/dispatch/zones'), 200).data;
    assert.ok(zones.some((z) => z.zips.includes('75214')));
    const tags = expect(await sim.api('GET', '/crm/booking-provider-tags'), 200).data;
    assert.ok(tags.some((t) => t.id === sim.creds.bookingProviderId));
    const teams = expect(await sim.api('GET', '/dispatch/teams', as()), 200).data;
    assert.ok(teams.length >= 2 && teams.every((t) => t.active));
    const all = expect(await sim.api('GET', '/dispatch/teams', as({ query: { includeInactive: true } })), 200).data;
    assert.ok(all.length > teams.length);
    expect(await sim.api('GET', `/dispatch/teams/${teams[0].id}`, as()), 200);
    const roles = expect(await sim.api('GET', '/settings/user-roles', as()), 200).data;
    assert.ok(roles.length >= 4 && roles.every((r) => r.active));
    const techRoles = expect(await sim.api('GET', '/settings/user-roles', as({ query: { employeeType: 'Technician', active: 'Any' } })), 200).data;
    assert.ok(techRoles.length >= 2 && techRoles.every((r) => r.employeeType === 'Technician'));
  });

  test('leads: created, listed, found, exported', async () => {
    const lead = expect(
      await sim.api('POST', '/crm/leads', as({ body: { campaignId: ref.campaign, summary: 'Wants a quote', customerId: ref.customer, leadPhone: '4695550177' } })),
      200,
    );
    assert.equal(lead.status, 'Open');
    expect(await sim.api('GET', `/crm/leads/${lead.id}`, as()), 200);
    const mine = expect(await sim.api('GET', '/crm/leads', as({ query: { customerId: ref.customer } })), 200);
    assert.deepEqual(mine.data.map((l) => l.id), [lead.id]);
    const bad = expect(await sim.api('POST', '/crm/leads', as({ body: { summary: 'x', campaignId: 999999 } })), 400);
    assert.ok('campaignId' in bad.errors);
    const rows = [];
    let from = '';
    for (;;) {
      const r = expect(await sim.api('GET', '/crm/export/leads', as({ query: { from } })), 200);
      rows.push(...r.data);
      from = r.continueFrom;
      if (!r.hasMore) break;
    }
    assert.ok(rows.length >= 3 && rows.some((l) => l.id === lead.id && l.active));
  });

  test('faults: apply_then_drop on location, job and booking create; a route failing at a percentage', async () => {
    const t = '*';
    const drops = [
      ['/crm/v2/tenant/*/locations', () => sim.api('POST', '/crm/locations', { body: { customerId: ref.customer, name: 'Dropped', address: ADDRESS } })],
      [
        '/jpm/v2/tenant/*/jobs',
        () =>
          sim.api('POST', '/jpm/jobs', {
            body: {
              customerId: ref.customer, locationId: ref.location, businessUnitId: ref.bu, jobTypeId: ref.jobType, priority: 'Low',
              campaignId: ref.campaign, summary: 'dropped job', appointments: [{ start: at(4, 15), end: at(4, 16) }],
            },
          }),
      ],
      [
        `/crm/v2/tenant/${t}/booking-provider/*/bookings`,
        () => sim.api('POST', `/crm/booking-provider/${sim.creds.bookingProviderId}/bookings`, { body: { source: 's', name: 'Dropped', address: ADDRESS, summary: 's', isFirstTimeClient: true, externalId: 'dropped-1' } }),
      ],
    ];
    for (const [match, call] of drops) {
      expect(await sim.control('POST', '/faults', { match, method: 'POST', kind: 'apply_then_drop', count: 1 }), 200);
      await assert.rejects(call(), `${match}: the client hears nothing`);
    }
    const locs = expect(await sim.api('GET', '/crm/locations', { query: { customerId: ref.customer } }), 200).data;
    assert.ok(locs.some((l) => l.name === 'Dropped'), 'the location was written');
    const jobs = expect(await sim.api('GET', '/jpm/jobs', { query: { customerId: ref.customer } }), 200).data;
    assert.ok(jobs.some((j) => j.summary === 'dropped job'), 'the job was written');
    const bk = expect(await sim.api('GET', `/crm/booking-provider/${sim.creds.bookingProviderId}/bookings`, { query: { externalId: 'dropped-1' } }), 200);
    assert.equal(bk.data.length, 1, 'the booking was written');
    // the log shows the writes answered 200 — an answer the client never got
    const log = expect(await sim.control('GET', '/requests?status=200'), 200).requests;
    assert.equal(log.filter((e) => e.dropped && e.method === 'POST').length, 3);

    const f = expect(
      await sim.control('POST', '/faults', { match: '/settings/v2/tenant/*/business-units', kind: 'status', status: 500, percent: 20, seed: 7 }),
      200,
    );
    const rs = [];
    for (let i = 0; i < 200; i++) rs.push((await sim.api('GET', '/settings/business-units', { query: { pageSize: 1 } })).status);
    const failed = rs.filter((s) => s === 500).length;
    assert.deepEqual([...new Set(rs)].sort(), [200, 500]);
    assert.ok(failed > 20 && failed < 70, `about 20% of 200 calls failed: ${failed}`);
    const listed = expect(await sim.control('GET', '/faults'), 200).faults.find((x) => x.id === f.id);
    assert.equal(listed.percent, 20);
    assert.equal(listed.hits, failed);
    expect(await sim.control('DELETE', '/faults'), 200);
  });

  test('a connection disabled mid-run refuses tokens and calls; enabled again, it works', async () => {
    const path = `/connections/${sim.creds.tenantId}/${sim.creds.appId}/state`;
    expect(await sim.control('PUT', path, { state: 'disabled' }), 200);
    expect(await sim.api('GET', '/settings/business-units'), 401);
    const tok = await sim.tokenRequest({ grant_type: 'client_credentials', client_id: sim.creds.clientId, client_secret: sim.creds.clientSecret });
    assert.equal(tok.status, 401);
    expect(await sim.control('PUT', path, { state: 'connected' }), 200);
    expect(await sim.api('GET', '/settings/business-units'), 200);
  });
});
