// jpm.test.mjs — stsim's JPM emulation (API-NOTES §3.5, §9 items 7 and 9):
// creating jobs with appointments and reading them back, create validation
// (400 naming the fields, nothing stored), booking → job conversion,
// appointment rules (confirm twice → 409, the last appointment can't be
// deleted, reschedule, hold), job cancel and hold, job types' orderBy, the
// reason lists' active default, and the jobs/appointments export feeds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStsim, stopClean } from './lib/stsim.mjs';

function expect(r, status) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text.slice(0, 600)}`);
  return r.body;
}

/** A 400 whose errors map has exactly-named keys for each of fields. */
function badFields(r, fields) {
  const body = expect(r, 400);
  for (const f of fields) {
    assert.ok(f in (body.errors || {}), `errors name ${f}: ${JSON.stringify(body.errors)}`);
  }
  return body;
}

const HOUR = 3600 * 1000;
/** A whole-hour UTC instant `days` days from now, as ISO text. */
function at(days, hour) {
  const d = new Date(Date.now() + days * 24 * HOUR);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString();
}
/** Same instant in ServiceTitan's 7-digit form. */
const st = (iso) => iso.replace(/\.\d{3}Z$/, '.0000000Z');

describe('jpm: jobs and appointments', () => {
  let sim;
  const ref = {}; // customerId, locationId, businessUnitId, jobTypeId, campaignId, technicianId

  async function count(path, query = {}) {
    return expect(await sim.api('GET', path, { query: { ...query, includeTotal: true, pageSize: 1 } }), 200)
      .totalCount;
  }

  function jobBody(over = {}, appt = {}) {
    return {
      customerId: ref.customerId,
      locationId: ref.locationId,
      businessUnitId: ref.businessUnitId,
      jobTypeId: ref.jobTypeId,
      priority: 'Normal',
      campaignId: ref.campaignId,
      summary: 'AC not cooling (test)',
      appointments: [
        {
          start: at(6, 15),
          end: at(6, 17),
          arrivalWindowStart: at(6, 15),
          arrivalWindowEnd: at(6, 17),
          technicianIds: [ref.technicianId],
          ...appt,
        },
      ],
      ...over,
    };
  }

  async function createJob(over, appt) {
    return expect(await sim.api('POST', '/jpm/jobs', { body: jobBody(over, appt) }), 200);
  }

  before(async () => {
    sim = await startStsim({ args: ['--rate-limit', '0'], as: 'inspector' });
    const customers = expect(await sim.api('GET', '/crm/customers', { query: { pageSize: 50 } }), 200).data;
    for (const c of customers.filter((x) => !x.doNotService && x.mergedToId === null)) {
      const locs = expect(await sim.api('GET', '/crm/locations', { query: { customerId: c.id } }), 200).data;
      if (locs.length > 0) {
        ref.customerId = c.id;
        ref.locationId = locs[0].id;
        break;
      }
    }
    assert.ok(ref.locationId, 'the demo seed has a customer with a location');
    const bus = expect(await sim.api('GET', '/settings/business-units'), 200).data;
    ref.businessUnitId = bus.find((b) => b.name === 'HVAC Service').id;
    const types = expect(await sim.api('GET', '/jpm/job-types'), 200).data;
    const acRepair = types.find((t) => t.name === 'AC Repair');
    assert.ok(acRepair.businessUnitIds.includes(ref.businessUnitId));
    ref.jobTypeId = acRepair.id;
    ref.campaignId = expect(await sim.api('GET', '/marketing/campaigns'), 200).data[0].id;
    const techs = expect(await sim.api('GET', '/settings/technicians'), 200).data;
    ref.technicianId = techs.find((t) => t.businessUnitId === ref.businessUnitId).id;
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
  });

  test('the demo seed has jobs with appointments booked in the coming days', async () => {
    const jobs = expect(await sim.api('GET', '/jpm/jobs'), 200).data;
    assert.ok(jobs.length >= 4, `seeded jobs: ${jobs.length}`);
    const upcoming = expect(await sim.api('GET', '/jpm/appointments', { query: { startsOnOrAfter: new Date().toISOString() } }), 200)
      .data;
    assert.ok(upcoming.length >= 3, `upcoming appointments: ${upcoming.length}`);
    for (const a of upcoming) assert.ok(jobs.some((j) => j.id === a.jobId));
  });

  test('create a job with an appointment, then read it back', async () => {
    const job = await createJob();
    assert.equal(job.jobStatus, 'Scheduled');
    assert.equal(job.appointmentCount, 1);
    assert.equal(job.customerId, ref.customerId);
    assert.equal(job.businessUnitId, ref.businessUnitId);
    assert.equal(job.jobTypeId, ref.jobTypeId);
    assert.equal(job.jobNumber, String(job.id));
    assert.ok(job.firstAppointmentId > 0);
    assert.equal(job.lastAppointmentId, job.firstAppointmentId);

    const got = expect(await sim.api('GET', `/jpm/jobs/${job.id}`), 200);
    assert.deepEqual(got, job);
    const appt = expect(await sim.api('GET', `/jpm/appointments/${job.firstAppointmentId}`), 200);
    assert.equal(appt.jobId, job.id);
    assert.equal(appt.start, st(at(6, 15)));
    assert.equal(appt.end, st(at(6, 17)));
    assert.equal(appt.status, 'Scheduled');
    assert.equal(appt.isConfirmed, false);
    assert.equal(appt.customerId, ref.customerId);

    const byJob = expect(await sim.api('GET', '/jpm/appointments', { query: { jobId: job.id } }), 200).data;
    assert.deepEqual(byJob.map((a) => a.id), [job.firstAppointmentId]);
    const byTech = expect(await sim.api('GET', '/jpm/appointments', { query: { technicianId: ref.technicianId } }), 200).data;
    assert.ok(byTech.some((a) => a.id === job.firstAppointmentId), 'technicianIds assigned the technician');
    const list = expect(await sim.api('GET', '/jpm/jobs', { query: { customerId: ref.customerId } }), 200).data;
    assert.ok(list.some((j) => j.id === job.id));
    assert.equal(expect(await sim.api('GET', '/jpm/jobs/999999999'), 404).status, 404);
  });

  test('invalid creates answer 400 naming the fields and store nothing', async () => {
    const jobs = await count('/jpm/jobs');
    const appts = await count('/jpm/appointments', { active: 'Any' });

    badFields(await sim.api('POST', '/jpm/jobs', { body: { appointments: [] } }), [
      'customerId', 'locationId', 'businessUnitId', 'jobTypeId', 'priority', 'campaignId', 'appointments',
    ]);
    badFields(await sim.api('POST', '/jpm/jobs', { body: jobBody({}, { start: at(6, 17), end: at(6, 15) }) }), [
      'appointments[0].end',
    ]);
    badFields(await sim.api('POST', '/jpm/jobs', { body: jobBody({ jobTypeId: 424242 }) }), ['jobTypeId']);
    badFields(await sim.api('POST', '/jpm/jobs', { body: jobBody({ customerId: 424242, campaignId: 424243 }) }), [
      'customerId', 'campaignId',
    ]);
    badFields(await sim.api('POST', '/jpm/jobs', { body: jobBody({ priority: 'Whenever' }) }), ['priority']);
    badFields(await sim.api('POST', '/jpm/jobs', { body: jobBody({ customerId: 'abc', bogus: 1 }) }), [
      'customerId',
    ]);
    badFields(await sim.api('POST', '/jpm/jobs', { body: jobBody({}, { technicianIds: [424242] }) }), [
      'appointments[0].technicianIds',
    ]);
    const r = await sim.api('POST', '/jpm/jobs', { body: '{"customerId": 1,', headers: {} });
    assert.equal(r.status, 400);

    assert.equal(await count('/jpm/jobs'), jobs, 'no job was stored');
    assert.equal(await count('/jpm/appointments', { active: 'Any' }), appts, 'no appointment was stored');
  });

  test('a job created with bookingId converts the booking', async () => {
    const bp = sim.creds.bookingProviderId;
    const booking = expect(
      await sim.api('POST', `/crm/booking-provider/${bp}/bookings`, {
        body: {
          source: 'Website',
          name: 'Pat Example',
          summary: 'AC not cooling',
          isFirstTimeClient: false,
          externalId: `jpm-test-${Date.now()}`,
          contacts: [{ type: 'Phone', value: '3125550199' }],
        },
      }),
      200,
    );
    assert.equal(booking.status, 'New');
    const job = await createJob({ bookingId: booking.id });
    assert.equal(job.bookingId, booking.id);
    const after = expect(await sim.api('GET', `/crm/booking-provider/${bp}/bookings/${booking.id}`), 200);
    assert.equal(after.jobId, job.id);
    assert.equal(after.status, 'Converted');
    const byBooking = expect(await sim.api('GET', '/jpm/jobs', { query: { bookingId: booking.id } }), 200).data;
    assert.deepEqual(byBooking.map((j) => j.id), [job.id]);
    // a booking converts once
    badFields(await sim.api('POST', '/jpm/jobs', { body: jobBody({ bookingId: booking.id }) }), ['bookingId']);
    badFields(await sim.api('POST', '/jpm/jobs', { body: jobBody({ bookingId: 424242 }) }), ['bookingId']);
  });

  test('confirming twice is 409; removing the confirmation undoes it', async () => {
    const job = await createJob();
    const id = job.firstAppointmentId;
    expect(await sim.api('PUT', `/jpm/appointments/${id}/confirmation`), 200);
    assert.equal(expect(await sim.api('GET', `/jpm/appointments/${id}`), 200).isConfirmed, true);
    expect(await sim.api('PUT', `/jpm/appointments/${id}/confirmation`), 409);
    expect(await sim.api('DELETE', `/jpm/appointments/${id}/confirmation`), 200);
    assert.equal(expect(await sim.api('GET', `/jpm/appointments/${id}`), 200).isConfirmed, false);
    expect(await sim.api('DELETE', `/jpm/appointments/${id}/confirmation`), 409);
    expect(await sim.api('PUT', '/jpm/appointments/999999999/confirmation'), 404);
  });

  test("a job's last appointment can't be deleted; another one can", async () => {
    const job = await createJob();
    const first = job.firstAppointmentId;
    expect(await sim.api('DELETE', `/jpm/appointments/${first}`), 409);
    assert.equal(expect(await sim.api('GET', `/jpm/appointments/${first}`), 200).id, first);

    const second = expect(
      await sim.api('POST', '/jpm/appointments', { body: { jobId: job.id, start: at(8, 15), end: at(8, 17) } }),
      200,
    );
    assert.equal(second.jobId, job.id);
    let j = expect(await sim.api('GET', `/jpm/jobs/${job.id}`), 200);
    assert.equal(j.appointmentCount, 2);
    assert.equal(j.firstAppointmentId, first);
    assert.equal(j.lastAppointmentId, second.id);

    expect(await sim.api('DELETE', `/jpm/appointments/${first}`), 200);
    expect(await sim.api('GET', `/jpm/appointments/${first}`), 404);
    j = expect(await sim.api('GET', `/jpm/jobs/${job.id}`), 200);
    assert.equal(j.appointmentCount, 1);
    assert.equal(j.firstAppointmentId, second.id);
    expect(await sim.api('DELETE', `/jpm/appointments/${second.id}`), 409);
    // adding to an unknown job names jobId
    badFields(await sim.api('POST', '/jpm/appointments', { body: { jobId: 424242, start: at(8, 15), end: at(8, 17) } }), [
      'jobId',
    ]);
  });

  test('reschedule moves start and end; end before start is 400', async () => {
    const job = await createJob();
    const id = job.firstAppointmentId;
    const moved = expect(
      await sim.api('PATCH', `/jpm/appointments/${id}/reschedule`, {
        body: { start: at(9, 14), end: at(9, 16), arrivalWindowStart: at(9, 14), arrivalWindowEnd: at(9, 16) },
      }),
      200,
    );
    assert.equal(moved.start, st(at(9, 14)));
    assert.equal(moved.end, st(at(9, 16)));
    const got = expect(await sim.api('GET', `/jpm/appointments/${id}`), 200);
    assert.equal(got.start, st(at(9, 14)));
    assert.equal(got.arrivalWindowEnd, st(at(9, 16)));
    badFields(await sim.api('PATCH', `/jpm/appointments/${id}/reschedule`, { body: { end: at(9, 13) } }), ['end']);
    assert.equal(expect(await sim.api('GET', `/jpm/appointments/${id}`), 200).end, st(at(9, 16)), 'unchanged');
    const inWindow = expect(
      await sim.api('GET', '/jpm/appointments', { query: { startsOnOrAfter: at(9, 14), startsBefore: at(9, 15) } }),
      200,
    ).data;
    assert.ok(inWindow.some((a) => a.id === id));
    const before = expect(await sim.api('GET', '/jpm/appointments', { query: { startsBefore: at(9, 14), jobId: job.id } }), 200)
      .data;
    assert.equal(before.length, 0, 'startsBefore is exclusive');
  });

  test('appointment hold and its removal', async () => {
    const job = await createJob();
    const id = job.firstAppointmentId;
    const reasons = expect(await sim.api('GET', '/jpm/job-hold-reasons'), 200).data;
    badFields(await sim.api('PUT', `/jpm/appointments/${id}/hold`, { body: { memo: 'x' } }), ['reasonId']);
    expect(await sim.api('PUT', `/jpm/appointments/${id}/hold`, { body: { reasonId: reasons[0].id, memo: 'parts' } }), 200);
    assert.equal(expect(await sim.api('GET', `/jpm/appointments/${id}`), 200).status, 'Hold');
    expect(await sim.api('PUT', `/jpm/appointments/${id}/hold`, { body: { reasonId: reasons[0].id, memo: 'again' } }), 409);
    expect(await sim.api('DELETE', `/jpm/appointments/${id}/hold`), 200);
    assert.equal(expect(await sim.api('GET', `/jpm/appointments/${id}`), 200).status, 'Scheduled');
  });

  test('cancel a job; jobs have no delete', async () => {
    const job = await createJob();
    const reasons = expect(await sim.api('GET', '/jpm/job-cancel-reasons'), 200).data;
    badFields(await sim.api('PUT', `/jpm/jobs/${job.id}/cancel`, { body: { reasonId: 424242, memo: 'x' } }), ['reasonId']);
    badFields(await sim.api('PUT', `/jpm/jobs/${job.id}/cancel`, { body: { reasonId: reasons[0].id } }), ['memo']);
    assert.equal(expect(await sim.api('GET', `/jpm/jobs/${job.id}`), 200).jobStatus, 'Scheduled');

    expect(await sim.api('PUT', `/jpm/jobs/${job.id}/cancel`, { body: { reasonId: reasons[0].id, memo: 'customer called' } }), 200);
    const j = expect(await sim.api('GET', `/jpm/jobs/${job.id}`), 200);
    assert.equal(j.jobStatus, 'Canceled');
    const appt = expect(await sim.api('GET', `/jpm/appointments/${job.firstAppointmentId}`), 200);
    assert.equal(appt.status, 'Canceled');
    const canceled = expect(await sim.api('GET', '/jpm/jobs', { query: { jobStatus: 'Canceled' } }), 200).data;
    assert.ok(canceled.some((x) => x.id === job.id));
    const scheduled = expect(await sim.api('GET', '/jpm/jobs', { query: { jobStatus: 'Scheduled' } }), 200).data;
    assert.ok(!scheduled.some((x) => x.id === job.id));
    expect(await sim.api('PUT', `/jpm/jobs/999999999/cancel`, { body: { reasonId: reasons[0].id, memo: 'x' } }), 404);

    const del = await sim.api('DELETE', `/jpm/jobs/${job.id}`);
    assert.ok(del.status === 404 || del.status === 405, `DELETE /jobs/{id} is not a route: ${del.status}`);
    expect(await sim.api('GET', `/jpm/jobs/${job.id}`), 200);
  });

  test('job hold', async () => {
    const job = await createJob();
    const reasons = expect(await sim.api('GET', '/jpm/job-hold-reasons'), 200).data;
    expect(await sim.api('PUT', `/jpm/jobs/${job.id}/hold`, { body: { reasonId: reasons[1].id, memo: 'waiting' } }), 200);
    assert.equal(expect(await sim.api('GET', `/jpm/jobs/${job.id}`), 200).jobStatus, 'Hold');
  });

  test('job types: duration in seconds, orderBy/orderByDirection, active default', async () => {
    const types = expect(await sim.api('GET', '/jpm/job-types'), 200).data;
    assert.ok(types.length >= 10, `~10 job types: ${types.length}`);
    const byName = Object.fromEntries(types.map((t) => [t.name, t]));
    assert.equal(byName['AC Repair'].duration, 7200);
    assert.equal(byName['Water Heater Install'].duration, 4 * 3600);
    assert.equal(byName['Electrical Panel Upgrade'].duration, 6 * 3600);
    assert.ok(types.every((t) => t.active && t.businessUnitIds.length > 0));
    const ids = types.map((t) => t.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'ascending id by default');

    const desc = expect(await sim.api('GET', '/jpm/job-types', { query: { orderBy: 'id', orderByDirection: 'desc' } }), 200).data;
    assert.deepEqual(desc.map((t) => t.id), [...ids].reverse());
    const asc = expect(await sim.api('GET', '/jpm/job-types', { query: { orderBy: 'id', orderByDirection: 'ascending' } }), 200).data;
    assert.deepEqual(asc.map((t) => t.id), ids);

    const all = expect(await sim.api('GET', '/jpm/job-types', { query: { active: 'Any' } }), 200).data;
    assert.ok(all.length > types.length, 'an inactive job type exists');
    assert.ok(all.some((t) => !t.active));
    const long = expect(await sim.api('GET', '/jpm/job-types', { query: { minDuration: 4 * 3600 } }), 200).data;
    assert.ok(long.length >= 2 && long.every((t) => t.duration >= 4 * 3600));
    const page = expect(await sim.api('GET', '/jpm/job-types', { query: { pageSize: 3, page: 2, includeTotal: true } }), 200);
    assert.deepEqual(page.data.map((t) => t.id), ids.slice(3, 6));
    assert.equal(page.totalCount, types.length);
    assert.equal(page.hasMore, true);
    const badFieldsParam = expect(await sim.api('GET', '/jpm/job-types', { query: { orderBy: 'name' } }), 400);
    assert.ok('orderBy' in badFieldsParam.errors);
    const one = expect(await sim.api('GET', `/jpm/job-types/${ids[0]}`), 200);
    assert.deepEqual(one, types[0]);
    expect(await sim.api('GET', '/jpm/job-types/999999999'), 404);
  });

  test('job cancel reasons default to active and inactive', async () => {
    const all = expect(await sim.api('GET', '/jpm/job-cancel-reasons'), 200).data;
    assert.ok(all.some((r) => !r.active), 'inactive reasons are listed by default');
    const active = expect(await sim.api('GET', '/jpm/job-cancel-reasons', { query: { active: 'True' } }), 200).data;
    assert.ok(active.length < all.length && active.every((r) => r.active));
  });

  test('export feeds of jobs and appointments', async () => {
    const job = await createJob();
    let from = '';
    const seen = new Map();
    for (let i = 0; i < 20; i++) {
      const r = expect(await sim.api('GET', '/jpm/export/jobs', { query: { from, includeRecentChanges: true } }), 200);
      for (const row of r.data) seen.set(row.id, row);
      from = r.continueFrom;
      if (!r.hasMore) break;
    }
    assert.equal(seen.get(job.id)?.active, true);
    const ex = expect(await sim.api('GET', '/jpm/export/appointments', { query: { includeRecentChanges: true } }), 200);
    assert.ok(ex.data.some((a) => a.id === job.firstAppointmentId));
  });
});
