// crm.test.mjs — stsim's CRM module through its API (API-NOTES §3.1–3.4,
// §9 items 7–8): customers created with locations and contacts, what GET
// embeds, list filters and pagination over the demo seed's 200 customers,
// modifiedOn bumps (not on contact edits), merged and Do Not Service
// customers, booking-provider bookings (create/get/list/patch/contacts/
// dismiss), provider and "No Restriction" access, and bad input refused
// with an errors map and no state change. Every body is validated against
// the OpenAPI schemas by the helper.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStsim, stopClean } from './lib/stsim.mjs';

function expect(r, status) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text.slice(0, 600)}`);
  return r.body;
}

/** A 400 whose errors map has a key naming each of fields (case-insensitive substring). */
function badFields(r, ...fields) {
  const body = expect(r, 400);
  assert.equal(body.status, 400);
  const keys = Object.keys(body.errors || {}).map((k) => k.toLowerCase());
  for (const f of fields) {
    assert.ok(keys.some((k) => k.includes(f.toLowerCase())), `errors name ${f}: ${JSON.stringify(body.errors)}`);
  }
  return body;
}

const ADDRESS = { street: '2201 Elm St', city: 'Dallas', state: 'TX', zip: '75226', country: 'USA' };

function newCustomer(name, phone) {
  return {
    name,
    type: 'Residential',
    address: ADDRESS,
    locations: [
      { name: 'Home', address: ADDRESS, contacts: [{ type: 'MobilePhone', value: phone }] },
      { name: 'Lake house', address: { ...ADDRESS, street: '77 Shore Dr', zip: '75218' } },
    ],
    contacts: [
      { type: 'Email', value: 'crm-test@example.com', memo: 'primary' },
      { type: 'Phone', value: phone },
    ],
  };
}

describe('crm', () => {
  let sim;
  const count = async (p, query = {}) =>
    expect(await sim.api('GET', p, { query: { active: 'Any', includeTotal: true, pageSize: 1, ...query } }), 200)
      .totalCount;

  before(async () => {
    sim = await startStsim({ args: ['--rate-limit', '0'], as: 'inspector' });
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
  });

  test('create customer embeds new locations and contacts; GET embeds nothing', async () => {
    const created = expect(await sim.api('POST', '/crm/customers', { body: newCustomer('Pat Example', '2145550188') }), 200);
    assert.ok(created.id > 0);
    assert.equal(created.active, true);
    assert.equal(created.mergedToId, null);
    assert.equal(created.locations.length, 2);
    assert.equal(created.contacts.length, 2);
    const ids = new Set([created.id, ...created.locations.map((l) => l.id), ...created.contacts.map((c) => c.id)]);
    ids.add(created.locations[0].contacts[0].id);
    assert.equal(ids.size, 6, 'every new record has its own id');
    for (const l of created.locations) assert.equal(l.customerId, created.id);
    assert.equal(created.locations[0].contacts[0].type, 'MobilePhone');
    assert.deepEqual(created.contacts.map((c) => c.type).sort(), ['Email', 'Phone']);

    const got = expect(await sim.api('GET', `/crm/customers/${created.id}`), 200);
    assert.equal(got.name, 'Pat Example');
    assert.equal('locations' in got, false, 'GET customer does not embed locations');
    assert.equal('contacts' in got, false, 'GET customer does not embed contacts');

    const locs = expect(await sim.api('GET', '/crm/locations', { query: { customerId: created.id } }), 200);
    assert.deepEqual(locs.data.map((l) => l.id).sort(), created.locations.map((l) => l.id).sort());
    const lc = expect(await sim.api('GET', `/crm/locations/${created.locations[0].id}/contacts`), 200);
    assert.deepEqual(lc.data.map((c) => c.value), ['2145550188']);
    const cc = expect(await sim.api('GET', `/crm/customers/${created.id}/contacts`), 200);
    assert.equal(cc.data.length, 2);

    expect(await sim.api('GET', '/crm/customers/999999999'), 404);
  });

  test('location create needs customerId and address; GET returns it', async () => {
    const cust = expect(await sim.api('GET', '/crm/customers', { query: { pageSize: 1 } }), 200).data[0];
    const before = await count('/crm/locations');
    badFields(await sim.api('POST', '/crm/locations', { body: { name: 'Shop' } }), 'customerId', 'address');
    badFields(
      await sim.api('POST', '/crm/locations', { body: { name: 'Shop', address: ADDRESS, customerId: 987654321 } }),
      'customerId',
    );
    assert.equal(await count('/crm/locations'), before, 'nothing created');
    const loc = expect(
      await sim.api('POST', '/crm/locations', {
        body: { customerId: cust.id, name: 'Shop', address: ADDRESS, contacts: [{ type: 'Phone', value: '2145550111' }] },
      }),
      200,
    );
    assert.equal(loc.customerId, cust.id);
    assert.equal(loc.contacts.length, 1);
    const got = expect(await sim.api('GET', `/crm/locations/${loc.id}`), 200);
    assert.equal(got.name, 'Shop');
    assert.equal(got.address.zip, '75226');
    assert.equal(await count('/crm/locations'), before + 1);
  });

  test('list filters: name, phone, zip, city, externalData', async () => {
    const created = expect(await sim.api('POST', '/crm/customers', { body: newCustomer('Zebulon Filtertest', '5125550177') }), 200);
    const byName = expect(await sim.api('GET', '/crm/customers', { query: { name: 'zebulon filter' } }), 200);
    assert.deepEqual(byName.data.map((c) => c.id), [created.id]);

    // the phone filter matches contact numbers whatever their punctuation
    const byPhone = expect(await sim.api('GET', '/crm/customers', { query: { phone: '(512) 555-0177' } }), 200);
    assert.ok(byPhone.data.some((c) => c.id === created.id), 'phone finds the customer');
    for (const c of byPhone.data) {
      const contacts = expect(await sim.api('GET', `/crm/customers/${c.id}/contacts`), 200).data;
      const locs = expect(await sim.api('GET', '/crm/locations', { query: { customerId: c.id } }), 200).data;
      let lcs = [];
      for (const l of locs) lcs = lcs.concat(expect(await sim.api('GET', `/crm/locations/${l.id}/contacts`), 200).data);
      assert.ok(
        [...contacts, ...lcs].some((x) => x.value.replace(/\D/g, '').endsWith('5125550177')),
        `customer ${c.id} has the phone`,
      );
    }
    const none = expect(await sim.api('GET', '/crm/customers', { query: { phone: '9999999999' } }), 200);
    assert.equal(none.data.length, 0);

    const byZip = expect(await sim.api('GET', '/crm/customers', { query: { zip: '75226', pageSize: 500 } }), 200);
    assert.ok(byZip.data.length >= 1);
    for (const c of byZip.data) assert.equal(c.address.zip, '75226');
    const austin = expect(await sim.api('GET', '/crm/customers', { query: { city: 'Austin', pageSize: 500 } }), 200);
    assert.ok(austin.data.length > 10, 'the seed has Austin customers');
    for (const c of austin.data) assert.match(c.address.city, /austin/i);
    assert.ok(austin.data.every((c) => /^787\d\d$/.test(c.address.zip)), 'Austin ZIPs are 787xx');

    const locZip = expect(await sim.api('GET', '/crm/locations', { query: { zip: '75218', pageSize: 500 } }), 200);
    assert.ok(locZip.data.some((l) => l.customerId === created.id));
    for (const l of locZip.data) assert.equal(l.address.zip, '75218');

    // the seed puts legacyId L-<1000+i> on every tenth customer
    const ext = expect(
      await sim.api('GET', '/crm/customers', { query: { externalDataKey: 'legacyId', externalDataValues: 'L-1003,L-1013' } }),
      200,
    );
    assert.equal(ext.data.length, 2);
    for (const c of ext.data) assert.ok(c.externalData.some((e) => e.key === 'legacyId' && ['L-1003', 'L-1013'].includes(e.value)));
    badFields(await sim.api('GET', '/crm/customers', { query: { externalDataKey: 'legacyId' } }), 'externalDataValues');
    const tooMany = Array.from({ length: 51 }, (_, i) => `v${i}`).join(',');
    badFields(
      await sim.api('GET', '/crm/customers', { query: { externalDataKey: 'legacyId', externalDataValues: tooMany } }),
      'externalDataValues',
    );
  });

  test('pagination walks all 200+ customers once', async () => {
    const total = await count('/crm/customers', { active: 'True' });
    assert.ok(total >= 190, `about 200 active customers, got ${total}`);
    const seen = new Set();
    let page = 1;
    for (;;) {
      const r = expect(await sim.api('GET', '/crm/customers', { query: { page, pageSize: 37 } }), 200);
      assert.equal(r.page, page);
      assert.equal(r.pageSize, 37);
      assert.ok(r.data.length <= 37);
      for (const c of r.data) {
        assert.equal(seen.has(c.id), false, `customer ${c.id} seen twice`);
        seen.add(c.id);
      }
      if (!r.hasMore) break;
      assert.equal(r.data.length, 37);
      page++;
    }
    assert.equal(seen.size, total);
    assert.equal(page, Math.ceil(total / 37));
  });

  test('seed: residential and commercial, merged customers, one Do Not Service, provider tags', async () => {
    const all = expect(await sim.api('GET', '/crm/customers', { query: { active: 'Any', pageSize: 1000 } }), 200).data;
    assert.ok(all.length >= 200);
    const commercial = all.filter((c) => c.type === 'Commercial').length;
    assert.ok(commercial > 5 && commercial < all.length / 2, `some commercial customers: ${commercial}`);
    const merged = all.filter((c) => c.mergedToId !== null);
    assert.ok(merged.length >= 2, 'a few merged customers');
    for (const m of merged) {
      const got = expect(await sim.api('GET', `/crm/customers/${m.id}`), 200);
      assert.equal(got.mergedToId, m.mergedToId);
      expect(await sim.api('GET', `/crm/customers/${m.mergedToId}`), 200);
    }
    assert.equal(all.filter((c) => c.doNotService).length, 1, 'one Do Not Service customer');
    for (const c of all) {
      assert.match(c.address.zip, /^(752[0-4]\d|7525[0-2]|787[0-5]\d)$/, `ZIP in the seeded ranges: ${c.address.zip}`);
    }
    const tags = expect(await sim.api('GET', '/crm/booking-provider-tags'), 200).data;
    assert.ok(tags.some((t) => t.tagName === 'appointd' && t.id === sim.creds.bookingProviderId));
    assert.ok(tags.length >= 2);
  });

  test('PATCH bumps modifiedOn; contact edits do not', async () => {
    const c = expect(await sim.api('POST', '/crm/customers', { body: newCustomer('Morgan Patch', '2145550155') }), 200);
    expect(await sim.control('POST', '/clock', { advanceSeconds: 60 }), 200);
    const patched = expect(await sim.api('PATCH', `/crm/customers/${c.id}`, { body: { name: 'Morgan Patched', doNotMail: true } }), 200);
    assert.equal(patched.name, 'Morgan Patched');
    assert.equal(patched.doNotMail, true);
    assert.ok(Date.parse(patched.modifiedOn) > Date.parse(c.modifiedOn), 'PATCH bumps modifiedOn');
    assert.equal(patched.createdOn, c.createdOn);
    assert.equal(expect(await sim.api('GET', `/crm/customers/${c.id}`), 200).name, 'Morgan Patched');

    expect(await sim.control('POST', '/clock', { advanceSeconds: 60 }), 200);
    const added = expect(await sim.api('POST', `/crm/customers/${c.id}/contacts`, { body: { type: 'Fax', value: '2145550199' } }), 200);
    const edited = expect(
      await sim.api('PATCH', `/crm/customers/${c.id}/contacts/${added.id}`, { body: { value: '2145550198', memo: 'office fax' } }),
      200,
    );
    assert.equal(edited.value, '2145550198');
    assert.equal(edited.memo, 'office fax');
    expect(await sim.api('DELETE', `/crm/customers/${c.id}/contacts/${c.contacts[0].id}`), 200);
    const after = expect(await sim.api('GET', `/crm/customers/${c.id}`), 200);
    assert.equal(after.modifiedOn, patched.modifiedOn, 'contact edits leave the customer modifiedOn alone');
    const contacts = expect(await sim.api('GET', `/crm/customers/${c.id}/contacts`), 200).data;
    assert.deepEqual(contacts.map((x) => x.id).sort(), [c.contacts[1].id, added.id].sort());
    expect(await sim.api('DELETE', `/crm/customers/${c.id}/contacts/${c.contacts[0].id}`), 404);
    badFields(await sim.api('POST', `/crm/customers/${c.id}/contacts`, { body: { type: 'Pager', value: 'x' } }), 'type');

    // location PATCH bumps the location's modifiedOn
    const loc = c.locations[0];
    expect(await sim.control('POST', '/clock', { advanceSeconds: 60 }), 200);
    const lp = expect(await sim.api('PATCH', `/crm/locations/${loc.id}`, { body: { name: 'Main house' } }), 200);
    assert.equal(lp.name, 'Main house');
    assert.ok(Date.parse(lp.modifiedOn) > Date.parse(loc.modifiedOn));

    // the export feed carries the deleted contact as inactive
    let from = '';
    const rows = [];
    for (let i = 0; i < 100; i++) {
      const r = expect(await sim.api('GET', '/crm/export/customers/contacts', { query: { from } }), 200);
      rows.push(...r.data);
      from = r.continueFrom;
      if (!r.hasMore) break;
    }
    const gone = rows.filter((x) => x.id === c.contacts[0].id).pop();
    assert.equal(gone.active, false);
    assert.equal(gone.customerId, c.id);
  });

  test('bookings: create, get, list by externalId, patch, contacts, dismiss', async () => {
    const bp = sim.creds.bookingProviderId;
    const base = `/crm/booking-provider/${bp}/bookings`;
    const ext = `web-${Date.now()}`;
    const body = {
      source: 'Website',
      name: 'Casey Booker',
      summary: 'AC not cooling',
      isFirstTimeClient: true,
      externalId: ext,
      address: { street: '1 Congress Ave', city: 'Austin', state: 'TX', zip: '78701', country: 'USA' },
      contacts: [{ type: 'Email', value: 'casey@example.com' }, { type: 'Phone', value: '5125550100' }],
      start: '2030-05-03T14:00:00Z',
      priority: 'Normal',
    };
    const b = expect(await sim.api('POST', base, { body }), 200);
    assert.equal(b.status, 'New');
    assert.equal(b.bookingProviderId, bp);
    assert.equal(b.jobId, null);
    assert.equal(b.externalId, ext);
    assert.match(b.start, /^2030-05-03T14:00:00\.0000000Z$/);

    assert.equal(expect(await sim.api('GET', `${base}/${b.id}`), 200).name, 'Casey Booker');
    const list = expect(await sim.api('GET', base, { query: { externalId: ext } }), 200);
    assert.deepEqual(list.data.map((x) => x.id), [b.id]);
    assert.equal(expect(await sim.api('GET', base, { query: { externalId: 'nope' } }), 200).data.length, 0);

    const contacts = expect(await sim.api('GET', `${base}/${b.id}/contacts`), 200).data;
    assert.deepEqual(contacts.map((x) => x.value).sort(), ['5125550100', 'casey@example.com']);
    const added = expect(await sim.api('POST', `${base}/${b.id}/contacts`, { body: { type: 'MobilePhone', value: '5125550101' } }), 200);
    const upd = expect(await sim.api('PATCH', `${base}/${b.id}/contacts/${added.id}`, { body: { memo: 'evenings' } }), 200);
    assert.equal(upd.memo, 'evenings');
    assert.equal(expect(await sim.api('GET', `${base}/${b.id}/contacts`), 200).data.length, 3);

    expect(await sim.control('POST', '/clock', { advanceSeconds: 60 }), 200);
    const p = expect(await sim.api('PATCH', `${base}/${b.id}`, { body: { summary: 'AC not cooling, upstairs' } }), 200);
    assert.equal(p.summary, 'AC not cooling, upstairs');
    assert.ok(Date.parse(p.modifiedOn) > Date.parse(b.modifiedOn));

    expect(await sim.api('POST', `${base}/${b.id}/dismiss`, { body: { dismissingMemo: 'duplicate' } }), 200);
    assert.equal(expect(await sim.api('GET', `${base}/${b.id}`), 200).status, 'Dismissed');
    expect(await sim.api('POST', `${base}/${b.id}/dismiss`, { body: {} }), 409);
    expect(await sim.api('PATCH', `${base}/${b.id}`, { body: { summary: 'x' } }), 409);
    expect(await sim.api('GET', `${base}/999999999`), 404);
  });

  test('a job created with bookingId converts the booking', async () => {
    const base = `/crm/booking-provider/${sim.creds.bookingProviderId}/bookings`;
    const body = { source: 'Website', name: 'Jo Convert', summary: 'No heat', isFirstTimeClient: true, externalId: `conv-${Date.now()}` };
    const b = expect(await sim.api('POST', base, { body: { ...body, contacts: [{ type: 'Phone', value: '2145550120' }] } }), 200);
    const cust = expect(await sim.api('POST', '/crm/customers', { body: newCustomer('Jo Convert', '2145550120') }), 200);
    const jt = expect(await sim.api('GET', '/jpm/job-types', { query: { pageSize: 1 } }), 200).data[0];
    const bu = expect(await sim.api('GET', '/settings/business-units', { query: { pageSize: 1 } }), 200).data[0];
    const camp = expect(await sim.api('GET', '/marketing/campaigns', { query: { pageSize: 1 } }), 200).data[0];
    const start = new Date(Date.parse(b.createdOn) + 3 * 86400e3);
    start.setUTCHours(15, 0, 0, 0);
    const end = new Date(start.getTime() + 2 * 3600e3);
    const job = expect(
      await sim.api('POST', '/jpm/jobs', {
        body: {
          customerId: cust.id,
          locationId: cust.locations[0].id,
          businessUnitId: bu.id,
          jobTypeId: jt.id,
          priority: 'Normal',
          campaignId: camp.id,
          bookingId: b.id,
          appointments: [{ start: start.toISOString(), end: end.toISOString() }],
        },
      }),
      200,
    );
    const got = expect(await sim.api('GET', `${base}/${b.id}`), 200);
    assert.equal(got.status, 'Converted');
    assert.equal(got.jobId, job.id);
    expect(await sim.api('POST', `${base}/${b.id}/dismiss`, { body: {} }), 409);
  });

  test('booking provider access: another provider is refused, tenant-wide needs No Restriction', async () => {
    const tags = expect(await sim.api('GET', '/crm/booking-provider-tags'), 200).data;
    const other = tags.find((t) => t.id !== sim.creds.bookingProviderId);
    const before = await count('/crm/booking-provider-tags');
    const body = { source: 'x', name: 'y', summary: 'z', isFirstTimeClient: false, externalId: 'e', contacts: [{ type: 'Phone', value: '1' }] };
    expect(await sim.api('POST', `/crm/booking-provider/${other.id}/bookings`, { body }), 403);
    expect(await sim.api('GET', `/crm/booking-provider/${other.id}/bookings`), 403);
    expect(await sim.api('GET', '/crm/bookings'), 403);
    // the export feed of a provider-restricted connection holds its provider's bookings only
    const exported = expect(await sim.api('GET', '/crm/export/bookings'), 200).data;
    assert.ok(exported.length > 0);
    for (const b of exported) assert.equal(b.bookingProviderId, sim.creds.bookingProviderId);
    assert.equal(await count('/crm/booking-provider-tags'), before);

    // a "No Restriction" connection of another app sees every provider's bookings
    const app = await sim.control('POST', '/apps', {
      id: 'crm-admin',
      name: 'CRM admin',
      scopes: ['tn.crm.bookings:r', 'tn.crm.bookings:w', 'tn.crm.bookingprovidertags:r'],
    });
    assert.equal(app.status, 200, app.text);
    const added = await sim.control('POST', '/apps/crm-admin/tenants', { tenantId: sim.creds.tenantId });
    assert.equal(added.status, 200, added.text);
    const conn = await sim.control('POST', '/connections', { tenantId: sim.creds.tenantId, appId: 'crm-admin', noRestriction: true });
    assert.equal(conn.status, 200, conn.text);
    const token = await sim.token({ clientId: conn.body.clientId, clientSecret: conn.body.clientSecret });
    const key = app.body.appKey;
    const all = expect(await sim.api('GET', '/crm/bookings', { token, appKey: key, query: { pageSize: 500 } }), 200).data;
    const providers = new Set(all.map((b) => b.bookingProviderId));
    assert.ok(providers.has(sim.creds.bookingProviderId) && providers.has(other.id), 'bookings of both providers');
    const feed = expect(await sim.api('GET', '/crm/export/bookings', { token, appKey: key }), 200).data;
    assert.equal(new Set(feed.map((b) => b.bookingProviderId)).size, providers.size);
    // and may use any provider's endpoints; an unknown provider is 404
    expect(await sim.api('GET', `/crm/booking-provider/${other.id}/bookings`, { token, appKey: key }), 200);
    expect(await sim.api('GET', '/crm/booking-provider/424242/bookings', { token, appKey: key }), 404);
    expect(await sim.api('GET', `/crm/bookings/${all[0].id}`, { token, appKey: key }), 200);
    expect(await sim.api('GET', `/crm/bookings/${all[0].id}/contacts`, { token, appKey: key }), 200);
  });

  test('booking provider tags: create, 409 on a duplicate name, update', async () => {
    const t = expect(await sim.api('POST', '/crm/booking-provider-tags', { body: { tagName: 'Yelp', description: 'Yelp requests' } }), 200);
    assert.equal(t.type, 'V2Api');
    expect(await sim.api('POST', '/crm/booking-provider-tags', { body: { tagName: 'yelp', description: 'again' } }), 409);
    const u = expect(await sim.api('PATCH', `/crm/booking-provider-tags/${t.id}`, { body: { description: 'Yelp leads' } }), 200);
    assert.equal(u.description, 'Yelp leads');
    const got = expect(await sim.api('GET', `/crm/booking-provider-tags/${t.id}`), 200);
    assert.equal(got.active, true);
    badFields(await sim.api('POST', '/crm/booking-provider-tags', { body: { tagName: true } }), 'tagName', 'description');
  });

  test('bad input → 400 naming the fields, and nothing created', async () => {
    const customers = await count('/crm/customers');
    const locations = await count('/crm/locations');
    const bp = sim.creds.bookingProviderId;
    const bookings = await count(`/crm/booking-provider/${bp}/bookings`);

    const malformed = expect(await sim.api('POST', '/crm/customers', { body: '{"name": "x", ' }), 400);
    assert.equal(malformed.status, 400);
    badFields(await sim.api('POST', '/crm/customers', { body: {} }), 'name', 'address', 'locations');
    badFields(
      await sim.api('POST', '/crm/customers', { body: { ...newCustomer('T', '1'), name: ['x'], doNotMail: 'yes' } }),
      'name',
      'doNotMail',
    );
    badFields(await sim.api('POST', '/crm/customers', { body: { ...newCustomer('L', '1'), locations: [] } }), 'locations');
    // one bad nested field in the second location refuses the whole request
    const nested = newCustomer('N', '1');
    nested.locations[1].address = { street: '1 A St', city: 'Dallas', state: 'TX', country: 'USA' };
    nested.locations[0].contacts[0].type = 'Pager';
    badFields(await sim.api('POST', '/crm/customers', { body: nested }), 'locations[1].address.zip', 'locations[0].contacts[0].type');
    badFields(await sim.api('POST', '/crm/customers', { body: { ...newCustomer('T', '1'), type: 'Industrial' } }), 'type');

    const some = expect(await sim.api('GET', '/crm/customers', { query: { pageSize: 1 } }), 200).data[0];
    badFields(await sim.api('PATCH', `/crm/customers/${some.id}`, { body: { name: 'ok', active: 'no' } }), 'active');
    assert.equal(expect(await sim.api('GET', `/crm/customers/${some.id}`), 200).name, some.name, 'refused PATCH changed nothing');
    assert.equal(expect(await sim.api('GET', `/crm/customers/${some.id}`), 200).modifiedOn, some.modifiedOn);

    const base = `/crm/booking-provider/${bp}/bookings`;
    badFields(await sim.api('POST', base, { body: { name: 'x' } }), 'source', 'summary', 'isFirstTimeClient', 'externalId');
    badFields(
      await sim.api('POST', base, {
        body: { source: 's', name: 'n', summary: 's', isFirstTimeClient: 'maybe', externalId: 'e', priority: 'Asap', start: 'soon' },
      }),
      'isFirstTimeClient',
      'priority',
      'start',
    );
    badFields(
      await sim.api('POST', base, { body: { source: 's', name: 'n', summary: 's', isFirstTimeClient: true, externalId: 'e' } }),
      'address',
    );
    expect(await sim.api('POST', base, { body: '[1,2' }), 400);

    assert.equal(await count('/crm/customers'), customers, 'no customer created');
    assert.equal(await count('/crm/locations'), locations, 'no location created');
    assert.equal(await count(`/crm/booking-provider/${bp}/bookings`), bookings, 'no booking created');
  });
});
