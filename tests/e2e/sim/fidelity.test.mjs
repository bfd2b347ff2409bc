// fidelity.test.mjs — walks every endpoint of the booking product's surface
// (issue "Endpoints") with valid requests and with error cases; every body
// stsim answers is validated against ServiceTitan's OpenAPI response schema
// by the helper (sim.api throws on a mismatch). The last test asserts that
// each listed endpoint had at least one validated 2xx body, and that error
// bodies of every status stsim uses (400 401 403 404 409 429) were validated.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { coverage, specsSkip, startStsim, stopClean } from './lib/stsim.mjs';

// Endpoints the issue lists: 'module METHOD spec-path-template'.
const REQUIRED = [
  'settings GET /tenant/{tenant}/business-units',
  'settings GET /tenant/{tenant}/business-units/{id}',
  'settings GET /tenant/{tenant}/technicians',
  'settings GET /tenant/{tenant}/technicians/{id}',
  'settings GET /tenant/{tenant}/employees',
  'settings GET /tenant/{tenant}/employees/{id}',
  'settings GET /tenant/{tenant}/tag-types',
  'jpm GET /tenant/{tenant}/job-types',
  'jpm GET /tenant/{tenant}/job-types/{id}',
  'jpm POST /tenant/{tenant}/jobs',
  'jpm GET /tenant/{tenant}/jobs/{id}',
  'jpm GET /tenant/{tenant}/jobs',
  'jpm PUT /tenant/{tenant}/jobs/{id}/cancel',
  'jpm PUT /tenant/{tenant}/jobs/{id}/hold',
  'jpm GET /tenant/{tenant}/appointments',
  'jpm GET /tenant/{tenant}/appointments/{id}',
  'jpm POST /tenant/{tenant}/appointments',
  'jpm PATCH /tenant/{tenant}/appointments/{id}/reschedule',
  'jpm PUT /tenant/{tenant}/appointments/{id}/hold',
  'jpm PUT /tenant/{tenant}/appointments/{id}/confirmation',
  'jpm DELETE /tenant/{tenant}/appointments/{id}',
  'jpm GET /tenant/{tenant}/job-cancel-reasons',
  'jpm GET /tenant/{tenant}/job-hold-reasons',
  'crm POST /tenant/{tenant}/customers',
  'crm GET /tenant/{tenant}/customers/{id}',
  'crm GET /tenant/{tenant}/customers',
  'crm PATCH /tenant/{tenant}/customers/{id}',
  'crm GET /tenant/{tenant}/customers/{id}/contacts',
  'crm POST /tenant/{tenant}/customers/{id}/contacts',
  'crm POST /tenant/{tenant}/locations',
  'crm GET /tenant/{tenant}/locations/{id}',
  'crm GET /tenant/{tenant}/locations',
  'crm PATCH /tenant/{tenant}/locations/{id}',
  'crm GET /tenant/{tenant}/locations/{id}/contacts',
  'crm POST /tenant/{tenant}/locations/{id}/contacts',
  'crm POST /tenant/{tenant}/booking-provider/{booking_provider}/bookings',
  'crm GET /tenant/{tenant}/booking-provider/{booking_provider}/bookings/{id}',
  'crm GET /tenant/{tenant}/booking-provider/{booking_provider}/bookings',
  'crm PATCH /tenant/{tenant}/booking-provider/{booking_provider}/bookings/{id}',
  'crm GET /tenant/{tenant}/booking-provider/{booking_provider}/bookings/{id}/contacts',
  'crm POST /tenant/{tenant}/booking-provider/{booking_provider}/bookings/{id}/contacts',
  'crm POST /tenant/{tenant}/booking-provider/{booking_provider}/bookings/{id}/dismiss',
  'crm GET /tenant/{tenant}/booking-provider-tags',
  'crm GET /tenant/{tenant}/bookings',
  'crm GET /tenant/{tenant}/bookings/{id}',
  'dispatch POST /tenant/{tenant}/capacity',
  'dispatch GET /tenant/{tenant}/arrival-windows',
  'dispatch GET /tenant/{tenant}/arrival-windows/configuration',
  'dispatch GET /tenant/{tenant}/business-hours',
  'dispatch GET /tenant/{tenant}/zones',
  'dispatch GET /tenant/{tenant}/technician-shifts',
  'dispatch GET /tenant/{tenant}/appointment-assignments',
  'dispatch POST /tenant/{tenant}/appointment-assignments/assign-technicians',
  'dispatch POST /tenant/{tenant}/appointment-assignments/unassign-technicians',
  'marketing GET /tenant/{tenant}/campaigns',
  'marketing GET /tenant/{tenant}/campaigns/{id}',
  'jbce GET /tenant/{tenant}/call-reasons',
  'crm GET /tenant/{tenant}/export/customers',
  'crm GET /tenant/{tenant}/export/locations',
  'crm GET /tenant/{tenant}/export/bookings',
  'jpm GET /tenant/{tenant}/export/jobs',
  'jpm GET /tenant/{tenant}/export/appointments',
  // what bookings use (issue 9, item 4)
  'jpm POST /tenant/{tenant}/jobs/{id}/notes',
  'jpm GET /tenant/{tenant}/jobs/{id}/notes',
  'jpm GET /tenant/{tenant}/jobs/{id}/history',
  'jpm GET /tenant/{tenant}/jobs/custom-fields',
  'jpm GET /tenant/{tenant}/export/job-notes',
  'jpm GET /tenant/{tenant}/export/job-history',
  'crm POST /tenant/{tenant}/customers/{id}/notes',
  'crm GET /tenant/{tenant}/customers/{id}/notes',
  'crm DELETE /tenant/{tenant}/customers/{id}/notes/{noteId}',
  'crm POST /tenant/{tenant}/locations/{id}/notes',
  'crm GET /tenant/{tenant}/locations/{id}/notes',
  'crm DELETE /tenant/{tenant}/locations/{id}/notes/{noteId}',
  'crm GET /tenant/{tenant}/customers/custom-fields',
  'crm GET /tenant/{tenant}/locations/custom-fields',
  'crm POST /tenant/{tenant}/leads',
  'crm GET /tenant/{tenant}/leads',
  'crm GET /tenant/{tenant}/leads/{id}',
  'crm GET /tenant/{tenant}/export/leads',
  'dispatch GET /tenant/{tenant}/teams',
  'dispatch GET /tenant/{tenant}/teams/{id}',
  'settings GET /tenant/{tenant}/user-roles',
];
const ERROR_STATUSES = [400, 401, 403, 404, 409, 429];

/** Asserts the status, showing the body when it differs. */
function expect(r, status) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text.slice(0, 500)}`);
  return r.body;
}

const ADDRESS = { street: '1 Fidelity St', city: 'Springfield', state: 'IL', zip: '62701', country: 'USA' };
const HOUR = 3600 * 1000;

describe('stsim fidelity: every body validates against the OpenAPI specs', { skip: specsSkip }, () => {
  let sim;
  let now; // emulator clock, ms
  const ref = {}; // reference ids read from the seed
  const made = {}; // ids created along the way
  const bp = () => `/crm/booking-provider/${sim.creds.bookingProviderId}`;
  // Tomorrow at hh:00 UTC (15:00Z = 9/10 a.m. in Chicago, inside the demo shifts).
  const at = (days, hour) => {
    const d = new Date(now + days * 24 * HOUR);
    d.setUTCHours(hour, 0, 0, 0);
    return d.toISOString();
  };

  before(async () => {
    sim = await startStsim({ args: ['--rate-limit', '0'], as: 'inspector' });
    const c = await sim.control('POST', '/clock', { advanceSeconds: 0 });
    now = c.status === 200 && c.body?.now ? Date.parse(c.body.now) : Date.now();
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
  });

  test('settings: business units, technicians, employees, tag types', async () => {
    const bus = expect(await sim.api('GET', '/settings/business-units'), 200);
    assert.ok(bus.data.length >= 3, 'the demo seed has 3 business units');
    ref.bu = bus.data[0].id;
    expect(await sim.api('GET', `/settings/business-units/${ref.bu}`), 200);
    const techs = expect(await sim.api('GET', '/settings/technicians'), 200);
    assert.ok(techs.data.length >= 8);
    ref.techs = techs.data.map((t) => t.id);
    expect(await sim.api('GET', `/settings/technicians/${ref.techs[0]}`), 200);
    const emps = expect(await sim.api('GET', '/settings/employees'), 200);
    assert.ok(emps.data.length >= 1);
    expect(await sim.api('GET', `/settings/employees/${emps.data[0].id}`), 200);
    expect(await sim.api('GET', '/settings/tag-types'), 200);
  });

  test('jpm, marketing, jbce reference data', async () => {
    const jts = expect(await sim.api('GET', '/jpm/job-types'), 200);
    assert.ok(jts.data.length >= 5);
    ref.jobType = jts.data.find((j) => (j.businessUnitIds || []).includes(ref.bu))?.id ?? jts.data[0].id;
    expect(await sim.api('GET', `/jpm/job-types/${ref.jobType}`), 200);
    const cr = expect(await sim.api('GET', '/jpm/job-cancel-reasons'), 200);
    ref.cancelReason = cr.data[0].id;
    const hr = expect(await sim.api('GET', '/jpm/job-hold-reasons'), 200);
    ref.holdReason = hr.data[0].id;
    const camps = expect(await sim.api('GET', '/marketing/campaigns'), 200);
    assert.ok(camps.data.length >= 5);
    ref.campaign = camps.data[0].id;
    expect(await sim.api('GET', `/marketing/campaigns/${ref.campaign}`), 200);
    expect(await sim.api('GET', '/jbce/call-reasons'), 200);
  });

  test('dispatch reference data', async () => {
    const aw = expect(await sim.api('GET', '/dispatch/arrival-windows'), 200);
    assert.ok(aw.data.length >= 3);
    expect(await sim.api('GET', '/dispatch/arrival-windows/configuration'), 200);
    expect(await sim.api('GET', '/dispatch/business-hours'), 200);
    const zones = expect(await sim.api('GET', '/dispatch/zones'), 200);
    assert.ok(zones.data.length >= 1);
    expect(await sim.api('GET', `/dispatch/zones/${zones.data[0].id}`), 200);
    const shifts = expect(await sim.api('GET', '/dispatch/technician-shifts', { query: { pageSize: 10 } }), 200);
    assert.ok(shifts.data.length >= 1);
    expect(await sim.api('GET', `/dispatch/technician-shifts/${shifts.data[0].id}`), 200);
    const tags = expect(await sim.api('GET', '/crm/booking-provider-tags'), 200);
    assert.ok(tags.data.some((t) => t.id === sim.creds.bookingProviderId));
    expect(await sim.api('GET', `/crm/booking-provider-tags/${sim.creds.bookingProviderId}`), 200);
  });

  test('crm customers: create with a location, get, list with filters, patch, contacts', async () => {
    const c = expect(
      await sim.api('POST', '/crm/customers', {
        body: {
          name: 'Fidelity Pat',
          type: 'Residential',
          address: ADDRESS,
          locations: [{ name: 'Home', address: ADDRESS, contacts: [{ type: 'MobilePhone', value: '5550100199' }] }],
          contacts: [{ type: 'Email', value: 'pat@fidelity.example', memo: 'primary' }],
        },
      }),
      200,
    );
    made.customer = c.id;
    made.location = c.locations[0].id;
    assert.equal(c.locations[0].customerId, c.id);
    const got = expect(await sim.api('GET', `/crm/customers/${c.id}`), 200);
    assert.equal(got.name, 'Fidelity Pat');
    assert.equal(got.locations, undefined, 'GET customer does not embed locations');
    const byName = expect(await sim.api('GET', '/crm/customers', { query: { name: 'Fidelity Pat' } }), 200);
    assert.deepEqual(byName.data.map((x) => x.id), [c.id]);
    expect(await sim.api('GET', '/crm/customers', { query: { phone: '5550100199' } }), 200);
    expect(await sim.api('GET', '/crm/customers', { query: { zip: '62701', pageSize: 5 } }), 200);
    const patched = expect(
      await sim.api('PATCH', `/crm/customers/${c.id}`, { body: { name: 'Fidelity Pat II' } }),
      200,
    );
    assert.equal(patched.name, 'Fidelity Pat II');
    expect(
      await sim.api('POST', `/crm/customers/${c.id}/contacts`, { body: { type: 'Phone', value: '5550100200' } }),
      200,
    );
    const contacts = expect(await sim.api('GET', `/crm/customers/${c.id}/contacts`), 200);
    assert.ok(contacts.data.length >= 2);
  });

  test('crm locations: create, get, list, patch, contacts', async () => {
    const l = expect(
      await sim.api('POST', '/crm/locations', {
        body: { customerId: made.customer, name: 'Cabin', address: { ...ADDRESS, street: '9 Lake Rd' } },
      }),
      200,
    );
    expect(await sim.api('GET', `/crm/locations/${l.id}`), 200);
    const list = expect(await sim.api('GET', '/crm/locations', { query: { customerId: made.customer } }), 200);
    assert.deepEqual(list.data.map((x) => x.id).sort(), [made.location, l.id].sort());
    expect(await sim.api('PATCH', `/crm/locations/${l.id}`, { body: { name: 'Lake Cabin' } }), 200);
    expect(
      await sim.api('POST', `/crm/locations/${l.id}/contacts`, { body: { type: 'Email', value: 'cabin@example.com' } }),
      200,
    );
    expect(await sim.api('GET', `/crm/locations/${l.id}/contacts`), 200);
  });

  test('crm bookings of the booking provider: create, get, list, patch, contacts, dismiss', async () => {
    const mk = (externalId) =>
      sim.api('POST', `${bp()}/bookings`, {
        body: {
          source: 'appointd',
          name: 'Booking Person',
          address: ADDRESS,
          contacts: [{ type: 'Email', value: 'b@example.com' }],
          summary: 'No heat',
          isFirstTimeClient: true,
          externalId,
          start: at(1, 15),
          businessUnitId: ref.bu,
          jobTypeId: ref.jobType,
          campaignId: ref.campaign,
          priority: 'Normal',
        },
      });
    const b = expect(await mk('fid-ext-1'), 200);
    made.booking = b.id;
    expect(await sim.api('GET', `${bp()}/bookings/${b.id}`), 200);
    const list = expect(await sim.api('GET', `${bp()}/bookings`, { query: { externalId: 'fid-ext-1' } }), 200);
    assert.deepEqual(list.data.map((x) => x.id), [b.id]);
    expect(await sim.api('PATCH', `${bp()}/bookings/${b.id}`, { body: { summary: 'No heat at all' } }), 200);
    expect(
      await sim.api('POST', `${bp()}/bookings/${b.id}/contacts`, { body: { type: 'Phone', value: '5550100300' } }),
      200,
    );
    expect(await sim.api('GET', `${bp()}/bookings/${b.id}/contacts`), 200);
    const other = expect(await mk('fid-ext-2'), 200);
    expect(await sim.api('POST', `${bp()}/bookings/${other.id}/dismiss`, { body: { dismissingMemo: 'dup' } }), 200);
  });

  test('tenant-wide bookings: 403 without "No Restriction", 200 with it', async () => {
    const r = await sim.api('GET', '/crm/bookings');
    expect(r, 403);
    // A second app whose connection has "No Restriction".
    const scopes = ['tn.crm.bookings:r', 'tn.crm.bookings:w'];
    const app = expect(await sim.control('POST', '/apps', { id: 'fid-norestrict', name: 'Fidelity NR', scopes }), 200);
    expect(await sim.control('POST', '/apps/fid-norestrict/tenants', { tenantId: sim.creds.tenantId }), 200);
    const conn = expect(
      await sim.control('POST', '/connections', {
        tenantId: sim.creds.tenantId,
        appId: 'fid-norestrict',
        noRestriction: true,
      }),
      200,
    );
    const token = await sim.token({ clientId: conn.clientId, clientSecret: conn.clientSecret });
    const all = expect(await sim.api('GET', '/crm/bookings', { token, appKey: app.appKey }), 200);
    assert.ok(all.data.some((b) => b.id === made.booking));
    expect(await sim.api('GET', `/crm/bookings/${made.booking}`, { token, appKey: app.appKey }), 200);
  });

  test('jobs: create from the booking, get, list, appointments, assignments, hold, cancel', async () => {
    const job = expect(
      await sim.api('POST', '/jpm/jobs', {
        body: {
          customerId: made.customer,
          locationId: made.location,
          businessUnitId: ref.bu,
          jobTypeId: ref.jobType,
          priority: 'Normal',
          campaignId: ref.campaign,
          bookingId: made.booking,
          summary: 'No heat',
          appointments: [{ start: at(1, 15), end: at(1, 17), arrivalWindowStart: at(1, 15), arrivalWindowEnd: at(1, 17) }],
        },
      }),
      200,
    );
    made.job = job.id;
    assert.ok(job.firstAppointmentId);
    expect(await sim.api('GET', `/jpm/jobs/${job.id}`), 200);
    const jobs = expect(await sim.api('GET', '/jpm/jobs', { query: { ids: String(job.id) } }), 200);
    assert.equal(jobs.data.length, 1);
    const booking = expect(await sim.api('GET', `${bp()}/bookings/${made.booking}`), 200);
    assert.equal(booking.jobId, job.id, 'the booking was converted');

    const appts = expect(await sim.api('GET', '/jpm/appointments', { query: { jobId: job.id } }), 200);
    assert.equal(appts.data.length, 1);
    expect(await sim.api('GET', `/jpm/appointments/${job.firstAppointmentId}`), 200);
    const second = expect(
      await sim.api('POST', '/jpm/appointments', { body: { jobId: job.id, start: at(2, 15), end: at(2, 17) } }),
      200,
    );
    expect(
      await sim.api('PATCH', `/jpm/appointments/${second.id}/reschedule`, { body: { start: at(3, 15), end: at(3, 17) } }),
      200,
    );
    expect(
      await sim.api('PUT', `/jpm/appointments/${second.id}/hold`, { body: { reasonId: ref.holdReason, memo: 'wait' } }),
      200,
    );
    expect(await sim.api('PUT', `/jpm/appointments/${job.firstAppointmentId}/confirmation`), 200);
    expect(await sim.api('PUT', `/jpm/appointments/${job.firstAppointmentId}/confirmation`), 409);
    expect(await sim.api('DELETE', `/jpm/appointments/${second.id}`), 200);
    const last = await sim.api('DELETE', `/jpm/appointments/${job.firstAppointmentId}`);
    assert.ok(last.status >= 400 && last.status < 500, `deleting the last appointment is refused: ${last.status}`);

    const assign = { jobAppointmentId: job.firstAppointmentId, technicianIds: [ref.techs[0]] };
    expect(await sim.api('POST', '/dispatch/appointment-assignments/assign-technicians', { body: assign }), 200);
    const asg = expect(
      await sim.api('GET', '/dispatch/appointment-assignments', { query: { appointmentIds: job.firstAppointmentId } }),
      200,
    );
    assert.ok(asg.data.some((a) => a.technicianId === ref.techs[0]));
    expect(await sim.api('POST', '/dispatch/appointment-assignments/unassign-technicians', { body: assign }), 200);

    expect(await sim.api('PUT', `/jpm/jobs/${job.id}/hold`, { body: { reasonId: ref.holdReason, memo: 'parts' } }), 200);
    expect(
      await sim.api('PUT', `/jpm/jobs/${job.id}/cancel`, { body: { reasonId: ref.cancelReason, memo: 'changed mind' } }),
      200,
    );
  });

  test('dispatch capacity: a valid range, and one over the limit', async () => {
    const cap = expect(
      await sim.api('POST', '/dispatch/capacity', {
        body: { startsOnOrAfter: at(1, 0), endsOnOrBefore: at(2, 0), skillBasedAvailability: false },
      }),
      200,
    );
    assert.ok(cap.availabilities.length > 0);
    const over = await sim.api('POST', '/dispatch/capacity', {
      body: { startsOnOrAfter: at(1, 0), endsOnOrBefore: at(30, 0), skillBasedAvailability: false },
    });
    expect(over, 400);
  });

  test('export feeds from the start', async () => {
    for (const p of ['/crm/export/customers', '/crm/export/locations', '/crm/export/bookings', '/jpm/export/jobs', '/jpm/export/appointments']) {
      const r = expect(await sim.api('GET', p, { query: { from: '' } }), 200);
      assert.equal(typeof r.continueFrom, 'string', p);
      assert.ok(r.data.length > 0, `${p} has rows`);
    }
  });

  test('the rest of the implemented surface validates too', async () => {
    // crm contacts: update and delete, the tenant-wide contact lists
    const cc = expect(await sim.api('GET', `/crm/customers/${made.customer}/contacts`), 200).data[0];
    expect(await sim.api('PATCH', `/crm/customers/${made.customer}/contacts/${cc.id}`, { body: { memo: 'office' } }), 200);
    expect(await sim.api('DELETE', `/crm/customers/${made.customer}/contacts/${cc.id}`), 200);
    expect(await sim.api('GET', '/crm/customers/contacts', { query: { customerIds: made.customer } }), 200);
    const lc = expect(await sim.api('GET', `/crm/locations/${made.location}/contacts`), 200).data[0];
    expect(await sim.api('PATCH', `/crm/locations/${made.location}/contacts/${lc.id}`, { body: { memo: 'gate code 12' } }), 200);
    expect(await sim.api('DELETE', `/crm/locations/${made.location}/contacts/${lc.id}`), 200);
    expect(await sim.api('GET', '/crm/locations/contacts', { query: { locationIds: made.location } }), 200);
    // booking contacts and provider tags
    const b = expect(
      await sim.api('POST', `${bp()}/bookings`, {
        body: { source: 'appointd', name: 'Contact Case', address: ADDRESS, summary: 's', isFirstTimeClient: false, externalId: 'fid-ext-3' },
      }),
      200,
    );
    const bc = expect(await sim.api('POST', `${bp()}/bookings/${b.id}/contacts`, { body: { type: 'Email', value: 'c@x.example' } }), 200);
    expect(await sim.api('PATCH', `${bp()}/bookings/${b.id}/contacts/${bc.id}`, { body: { memo: 'work' } }), 200);
    expect(await sim.api('DELETE', `${bp()}/bookings/${b.id}/contacts/${bc.id}`), 200);
    const tag = expect(await sim.api('POST', '/crm/booking-provider-tags', { body: { tagName: 'Fidelity Tag', description: 'made by the fidelity suite' } }), 200);
    expect(await sim.api('PATCH', `/crm/booking-provider-tags/${tag.id}`, { body: { tagName: 'Fidelity Tag 2' } }), 200);
    // jpm: the reverse operations and special instructions
    expect(await sim.api('PUT', `/jpm/jobs/${made.job}/remove-cancellation`), 200);
    const job2 = expect(
      await sim.api('POST', '/jpm/jobs', {
        body: {
          customerId: made.customer,
          locationId: made.location,
          businessUnitId: ref.bu,
          jobTypeId: ref.jobType,
          priority: 'High',
          campaignId: ref.campaign,
          appointments: [{ start: at(4, 15), end: at(4, 17), technicianIds: [ref.techs[1]] }],
        },
      }),
      200,
    );
    const a = job2.firstAppointmentId;
    expect(await sim.api('PUT', `/jpm/appointments/${a}/special-instructions`, { body: { specialInstructions: 'dog' } }), 200);
    expect(await sim.api('PUT', `/jpm/appointments/${a}/hold`, { body: { reasonId: ref.holdReason, memo: 'm' } }), 200);
    expect(await sim.api('DELETE', `/jpm/appointments/${a}/hold`), 200);
    expect(await sim.api('PUT', `/jpm/appointments/${a}/confirmation`), 200);
    expect(await sim.api('DELETE', `/jpm/appointments/${a}/confirmation`), 200);
    // dispatch writes
    const aw = expect(
      await sim.api('POST', '/dispatch/arrival-windows', { body: { start: '16:00:00', duration: '02:00:00', businessUnitIds: [ref.bu] } }),
      200,
    );
    expect(await sim.api('GET', `/dispatch/arrival-windows/${aw.id}`), 200);
    expect(
      await sim.api('PUT', `/dispatch/arrival-windows/${aw.id}`, { body: { start: '16:00:00', duration: '01:00:00', businessUnitIds: [ref.bu] } }),
      200,
    );
    expect(await sim.api('PUT', `/dispatch/arrival-windows/${aw.id}/activated`, { body: { isActive: false } }), 200);
    expect(
      await sim.api('POST', '/dispatch/arrival-windows/configuration', { body: { configuration: 'StartTimeOfArrivalWindow' } }),
      200,
    );
    const hours = expect(await sim.api('GET', '/dispatch/business-hours'), 200);
    expect(await sim.api('POST', '/dispatch/business-hours', { body: hours }), 200);
    const shift = expect(
      await sim.api('POST', '/dispatch/technician-shifts', {
        body: { technicianIds: [ref.techs[2]], shiftType: 'OnCall', title: 'Night', start: at(5, 2), end: at(5, 6), repeatType: 'Never' },
      }),
      200,
    );
    const shiftId = shift.technicianShifts?.[0]?.id ?? shift.id;
    assert.ok(shiftId, `created shift id in ${JSON.stringify(shift).slice(0, 200)}`);
    expect(await sim.api('PATCH', `/dispatch/technician-shifts/${shiftId}`, { body: { note: 'backup' } }), 200);
    expect(await sim.api('DELETE', `/dispatch/technician-shifts/${shiftId}`), 200);
    expect(await sim.api('POST', '/dispatch/technician-shifts/bulk-delete', { body: { start: at(40, 0), end: at(41, 0) } }), 200);
    // the other export feeds
    for (const p of [
      '/crm/export/customers/contacts',
      '/crm/export/locations/contacts',
      '/dispatch/export/appointment-assignments',
      '/settings/export/business-units',
      '/settings/export/technicians',
      '/settings/export/employees',
      '/settings/export/tag-types',
    ]) {
      expect(await sim.api('GET', p), 200);
    }
  });

  test('what bookings use: notes, history, custom field types, leads, teams, user roles', async () => {
    const conn = expect(
      await sim.control('POST', '/connections', { tenantId: sim.creds.tenantId, appId: 'stsim-inspector' }),
      200,
    );
    const as = { token: await sim.token({ clientId: conn.clientId, clientSecret: conn.clientSecret }), appKey: conn.appKey };
    expect(await sim.api('POST', `/jpm/jobs/${made.job}/notes`, { body: { text: 'fidelity note' } }), 200);
    expect(await sim.api('GET', `/jpm/jobs/${made.job}/notes`), 200);
    expect(await sim.api('GET', `/jpm/jobs/${made.job}/history`), 200);
    expect(await sim.api('GET', '/jpm/jobs/custom-fields'), 200);
    expect(await sim.api('GET', '/jpm/export/job-notes', { query: { from: '' } }), 200);
    expect(await sim.api('GET', '/jpm/export/job-history', { query: { from: '' } }), 200);
    for (const [owner, id] of [['customers', made.customer], ['locations', made.location]]) {
      const n = expect(await sim.api('POST', `/crm/${owner}/${id}/notes`, { body: { text: 'fidelity', pinToTop: true } }), 200);
      expect(await sim.api('GET', `/crm/${owner}/${id}/notes`), 200);
      expect(await sim.api('DELETE', `/crm/${owner}/${id}/notes/${n.id}`), 200);
      expect(await sim.api('GET', `/crm/${owner}/custom-fields`), 200);
    }
    const lead = expect(await sim.api('POST', '/crm/leads', { ...as, body: { campaignId: ref.campaign, summary: 'fidelity lead' } }), 200);
    expect(await sim.api('GET', `/crm/leads/${lead.id}`, as), 200);
    expect(await sim.api('GET', '/crm/leads', as), 200);
    expect(await sim.api('GET', '/crm/export/leads', { ...as, query: { from: '' } }), 200);
    const teams = expect(await sim.api('GET', '/dispatch/teams', as), 200);
    expect(await sim.api('GET', `/dispatch/teams/${teams.data[0].id}`, as), 200);
    expect(await sim.api('GET', '/settings/user-roles', as), 200);
  });

  test('error bodies: 400, 401, 403, 404, 409, 429 are ApiErrorResponse', async () => {
    const bad = expect(await sim.api('POST', '/crm/customers', { body: '{"name": ' }), 400);
    assert.equal(bad.status, 400);
    expect(await sim.api('POST', '/crm/customers', { body: { name: 7, bogus: true } }), 400);
    expect(await sim.api('GET', '/crm/customers', { query: { pageSize: 0 } }), 400);
    expect(await sim.api('GET', '/crm/customers', { token: 'not-a-token' }), 401);
    expect(await sim.api('GET', '/crm/customers', { appKey: null }), 401);
    expect(await sim.api('GET', '/crm/customers/999999999999'), 404);
    expect(await sim.api('GET', `/jpm/jobs/999999999999`), 404);
    // 403 (tenant-wide bookings) and 409 (confirming twice) were met above.
    expect(await sim.control('PUT', '/config', { rateLimit: 2 }), 200);
    try {
      const burst = await Promise.all(Array.from({ length: 20 }, () => sim.api('GET', '/settings/business-units')));
      const limited = burst.filter((r) => r.status === 429);
      assert.ok(limited.length > 0, 'a burst over 2 req/s is throttled');
      assert.match(limited[0].headers['retry-after'] || '', /^\d+$/);
    } finally {
      expect(await sim.control('PUT', '/config', { rateLimit: 0 }), 200);
    }
  });

  test('coverage: every listed endpoint got a validated 2xx, every error status a validated body', () => {
    const seen = [...coverage().keys()];
    const ok2xx = new Set(seen.filter((k) => / 2\d\d$/.test(k)).map((k) => k.replace(/ \d+$/, '')));
    const missing = REQUIRED.filter((e) => !ok2xx.has(e));
    assert.deepEqual(missing, [], 'endpoints without a validated 2xx body');
    const errs = new Set(seen.map((k) => Number(k.split(' ').pop())).filter((s) => s >= 400));
    assert.deepEqual(ERROR_STATUSES.filter((s) => !errs.has(s)), [], 'error statuses never validated');
  });
});
