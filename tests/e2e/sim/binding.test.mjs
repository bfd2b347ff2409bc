// binding.test.mjs — stsim answers as ServiceTitan's ASP.NET Core front end
// would (issue 9, items 1, 2, 5 and 7): JSON scalars converted the .NET way,
// query names and paths in any case, a trailing slash, 415 for a body that is
// not JSON, WWW-Authenticate on 401, "application/json; charset=utf-8",
// gzip, one error shape on the auth host, HTTP Basic at the token endpoint,
// the discovery document; every call visible in the request log (unknown
// paths and methods too, with a status filter and a log line); the token
// throttle saying it is stsim's assumption; numbers in their shortest form;
// and the small fixes (job totals, booking provider tag rows per the spec).
// Every API body is validated against the OpenAPI specs by sim.api.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { startStsim, stopClean } from './lib/stsim.mjs';

function expect(r, status) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text.slice(0, 500)}`);
  return r.body;
}

const ADDRESS = { street: '7 Binding Way', city: 'Springfield', state: 'IL', zip: '62701', country: 'USA' };

/** A raw GET with node:http (no automatic decompression): { status, headers, raw: Buffer }. */
function rawGet(url, headers) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, raw: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

describe('stsim binds and answers like ServiceTitan’s ASP.NET Core front end', () => {
  let sim;
  let now;
  const at = (days, hour) => {
    const d = new Date(now + days * 86400000);
    d.setUTCHours(hour, 0, 0, 0);
    return d.toISOString();
  };

  before(async () => {
    sim = await startStsim({ args: ['--rate-limit', '0'], as: 'inspector' });
    now = Date.parse(expect(await sim.control('POST', '/clock', { advanceSeconds: 0 }), 200).now);
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
  });

  test('JSON scalars: "false", numeric strings and PascalCase names bind as .NET binds them', async () => {
    const jt = expect(await sim.api('GET', '/jpm/job-types', { query: { pageSize: 1 } }), 200).data[0];
    // the tap sends skillBasedAvailability as a string
    const cap = expect(
      await sim.api('POST', '/dispatch/capacity', {
        body: { startsOnOrAfter: at(1, 0), endsOnOrBefore: at(2, 0), skillBasedAvailability: 'false', jobTypeId: String(jt.id) },
      }),
      200,
    );
    assert.ok(cap.availabilities.length > 0);
    const bad = expect(
      await sim.api('POST', '/dispatch/capacity', {
        body: { startsOnOrAfter: at(1, 0), endsOnOrBefore: at(2, 0), skillBasedAvailability: 'maybe' },
      }),
      400,
    );
    assert.ok('skillBasedAvailability' in bad.errors);
    const c = expect(
      await sim.api('POST', '/crm/customers', {
        body: { Name: 'Pascal Case', Address: ADDRESS, DoNotMail: 'True', Locations: [{ Name: 'Home', Address: { ...ADDRESS, Zip: 62701 } }] },
      }),
      200,
    );
    assert.equal(c.name, 'Pascal Case');
    assert.equal(c.doNotMail, true);
    assert.equal(c.locations[0].address.zip, '62701', 'a number where a string goes is its text');
  });

  test('unknown body fields are ignored, and the request log says which', async () => {
    const c = expect(
      await sim.api('POST', '/crm/customers', {
        body: { name: 'Extra Field', address: ADDRESS, favouriteColour: 'red', locations: [{ name: 'Home', address: ADDRESS, gate: 4 }] },
      }),
      200,
    );
    assert.equal(c.favouriteColour, undefined);
    const log = expect(await sim.control('GET', '/requests', undefined), 200).requests;
    const e = log.filter((x) => x.method === 'POST' && x.path.endsWith('/customers')).pop();
    assert.match(e.note, /favouriteColour/);
    assert.match(e.note, /locations\[0\]\.gate/);
  });

  test('query names in any case: PageSize=1, IncludeTotal=True, Active=Any', async () => {
    const r = expect(await sim.api('GET', '/crm/customers', { query: { PageSize: 1, IncludeTotal: 'True', Active: 'Any' } }), 200);
    assert.equal(r.data.length, 1);
    assert.equal(r.pageSize, 1);
    assert.equal(typeof r.totalCount, 'number');
    const all = expect(await sim.api('GET', '/crm/customers', { query: { pagesize: 1, active: 'any', includetotal: 'true' } }), 200);
    assert.equal(all.totalCount, r.totalCount);
  });

  test('path segments in any case and a trailing slash reach the same route', async () => {
    const list = expect(await sim.api('GET', '/crm/customers', { query: { pageSize: 2 } }), 200);
    const id = list.data[0].id;
    const a = expect(await sim.api('GET', '/CRM/Customers/', { query: { pageSize: 2 } }), 200);
    assert.deepEqual(a.data.map((x) => x.id), list.data.map((x) => x.id));
    const b = expect(await sim.api('GET', `/crm/customers/${id}/`), 200);
    assert.equal(b.id, id);
    const c = expect(await sim.api('GET', `/Crm/Customers/${id}/Contacts`), 200);
    assert.ok(Array.isArray(c.data));
  });

  test('a body that is not JSON is 415; malformed JSON stays 400', async () => {
    const body = JSON.stringify({ name: 'x' });
    const t = expect(await sim.api('POST', '/crm/customers', { body, headers: { 'content-type': 'text/plain' } }), 415);
    assert.equal(t.status, 415);
    expect(await sim.api('POST', '/crm/customers', { body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
    expect(await sim.api('POST', '/crm/customers', { body: '{"name": ', headers: { 'content-type': 'application/json; charset=utf-8' } }), 400);
    // application/*+json is JSON too
    const ok = await sim.api('POST', '/crm/customers', { body: '{}', headers: { 'content-type': 'application/merge-patch+json' } });
    assert.equal(ok.status, 400, 'read as JSON: the 400 names the missing fields');
    assert.ok('name' in ok.body.errors);
  });

  test('401 carries WWW-Authenticate: Bearer; answers are application/json; charset=utf-8', async () => {
    const none = await sim.api('GET', '/crm/customers', { token: null });
    expect(none, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    const bad = await sim.api('GET', '/crm/customers', { token: 'a.b.c' });
    expect(bad, 401);
    assert.equal(bad.headers['www-authenticate'], 'Bearer error="invalid_token"');
    const ok = await sim.api('GET', '/settings/business-units');
    assert.equal(ok.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(none.headers['content-type'], 'application/json; charset=utf-8');
  });

  test('gzip when the client accepts it', async () => {
    const url = sim.apiUrl('/crm/customers', { query: { pageSize: 200 } });
    const headers = { 'st-app-key': sim.creds.appKey, authorization: `Bearer ${await sim.token()}` };
    const plain = await rawGet(url, headers);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    const z = await rawGet(url, { ...headers, 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(z.headers['content-encoding'], 'gzip');
    assert.match(z.headers.vary || '', /Accept-Encoding/i);
    assert.ok(z.raw.length * 3 < plain.raw.length, `gzip makes ${plain.raw.length} bytes ${z.raw.length}`);
    const text = gunzipSync(z.raw).toString('utf8');
    assert.equal(text, plain.raw.toString('utf8'));
    sim.validate('GET', url, { status: 200, text, headers: { 'content-type': z.headers['content-type'] } });
  });

  test('numbers go out in their shortest round-trip form', async () => {
    const r = await sim.api('GET', '/crm/customers', { query: { pageSize: 200 } });
    expect(r, 200);
    assert.doesNotMatch(r.text, /\d\.\d{12,}/, 'no 17-digit tails like 32.719100000000005');
    const lat = r.body.data.map((c) => c.address.latitude).find((x) => typeof x === 'number');
    assert.ok(lat !== undefined);
    assert.match(r.text, /"latitude":-?\d+\.\d{1,4}[,}]/);
  });

  test('auth host: the token endpoint in any case with a slash; one error shape for everything', async () => {
    const r = await fetch(`${sim.creds.authUrl}/Connect/Token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.creds.clientId, client_secret: sim.creds.clientSecret }),
    });
    assert.equal(r.status, 200);
    assert.ok((await r.json()).access_token);
    const nf = await fetch(`${sim.creds.authUrl}/oauth/token`, { method: 'POST' });
    assert.equal(nf.status, 404);
    assert.equal(nf.headers.get('content-type'), 'application/json; charset=utf-8');
    const body = await nf.json();
    assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
    const get = await fetch(`${sim.creds.authUrl}/connect/token`);
    assert.equal(get.status, 405);
    assert.equal(typeof (await get.json()).error, 'string');
    const log = expect(await sim.control('GET', '/requests?host=auth&status=404'), 200).requests;
    assert.ok(log.some((e) => e.path === '/oauth/token' && e.note), 'the unknown auth path is in the log');
  });

  test('token endpoint: HTTP Basic client authentication as well as form fields', async () => {
    const { clientId, clientSecret } = sim.creds;
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    const ok = await sim.tokenRequest({ grant_type: 'client_credentials' }, { headers: { authorization: `Basic ${basic}` } });
    assert.equal(ok.status, 200, ok.text);
    expect(await sim.api('GET', '/settings/business-units', { token: ok.body.access_token }), 200);
    const wrong = Buffer.from(`${clientId}:cs2.wrong`).toString('base64');
    const no = await sim.tokenRequest({ grant_type: 'client_credentials' }, { headers: { authorization: `Basic ${wrong}` } });
    assert.equal(no.status, 401);
    assert.equal(no.body.error, 'invalid_client');
    const both = await sim.tokenRequest(
      { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
      { headers: { authorization: `Basic ${basic}` } },
    );
    assert.equal(both.status, 400);
    assert.equal(both.body.error, 'invalid_request');
    const junk = await sim.tokenRequest({ grant_type: 'client_credentials' }, { headers: { authorization: 'Basic !!!' } });
    assert.equal(junk.status, 400);
  });

  test('/.well-known/openid-configuration names the token endpoint and the grant', async () => {
    const r = await fetch(`${sim.creds.authUrl}/.well-known/openid-configuration`);
    assert.equal(r.status, 200);
    const d = await r.json();
    assert.equal(d.token_endpoint, `${sim.creds.authUrl}/connect/token`);
    assert.deepEqual(d.grant_types_supported, ['client_credentials']);
    assert.deepEqual(d.token_endpoint_auth_methods_supported.sort(), ['client_secret_basic', 'client_secret_post']);
    assert.equal(d.issuer, 'https://auth-integration.servicetitan.io');
  });

  test('every call is visible: unknown paths and wrong methods are logged, counted, filterable', async () => {
    const c0 = expect(await sim.control('GET', '/counters'), 200);
    const { requests: before } = expect(await sim.control('GET', '/requests'), 200);
    const since = before.length ? before[before.length - 1].seq : 0;
    const nf = await sim.api('GET', '/crm/customers/notes-of-everyone/extra');
    expect(nf, 404);
    // no spec to validate against: stsim emulates no accounting module
    const unknownModule = await sim.api('GET', '/accounting/invoices', { validate: false });
    assert.equal(unknownModule.status, 404);
    const jobs = expect(await sim.api('GET', '/jpm/jobs', { query: { pageSize: 1 } }), 200);
    const wrong = await sim.api('DELETE', `/jpm/jobs/${jobs.data[0].id}`);
    expect(wrong, 405);
    assert.match(wrong.headers.allow, /GET/);
    const c1 = expect(await sim.control('GET', '/counters'), 200);
    assert.equal(c1.apiRequests - c0.apiRequests, 4);
    assert.equal((c1.byStatus['404'] || 0) - (c0.byStatus['404'] || 0), 2);
    assert.equal((c1.byStatus['405'] || 0) - (c0.byStatus['405'] || 0), 1);
    const only404 = expect(await sim.control('GET', `/requests?since=${since}&status=404`), 200).requests;
    const t = sim.creds.tenantId;
    assert.deepEqual(
      only404.map((e) => e.path),
      [`/crm/v2/tenant/${t}/customers/notes-of-everyone/extra`, `/accounting/v2/tenant/${t}/invoices`],
    );
    for (const e of only404) {
      assert.equal(e.status, 404);
      assert.match(e.note, /no route/);
    }
    const fourxx = expect(await sim.control('GET', `/requests?since=${since}&status=4xx`), 200).requests;
    assert.equal(fourxx.length, 3);
    expect(await sim.control('GET', '/requests?status=99'), 400);
    assert.match(sim.stderr(), /event=stsim\.unrouted req=\S+ method=DELETE path=\/jpm\/v2\/tenant\/\d+\/jobs\/\d+ status=405/);
  });

  test('the token throttle says it is stsim’s assumption and how to change it', async () => {
    expect(await sim.control('PUT', '/config', { tokenRateLimit: 2 }), 200);
    try {
      const conn = expect(
        await sim.control('POST', '/connections', { tenantId: sim.creds.tenantId, appId: 'fieldpulse-sync' }),
        200,
      );
      const ask = () => sim.tokenRequest({ grant_type: 'client_credentials', client_id: conn.clientId, client_secret: conn.clientSecret });
      assert.equal((await ask()).status, 200);
      assert.equal((await ask()).status, 200);
      const r = await ask();
      assert.equal(r.status, 429);
      assert.equal(r.body.error, 'slow_down');
      assert.match(r.body.error_description, /stsim's assumption/);
      assert.match(r.body.error_description, /--token-rate-limit/);
      assert.match(r.body.error_description, /tokenRateLimit/);
      const log = expect(await sim.control('GET', '/requests?host=auth&status=429'), 200).requests;
      assert.equal(log.length, 1);
      assert.match(log[0].note, /stsim's assumption/);
      assert.ok(!log[0].body.includes(conn.clientSecret), 'the secret is masked in the log');
    } finally {
      expect(await sim.control('PUT', '/config', { tokenRateLimit: 0 }), 200);
    }
  });

  test('small fixes: job totals are numbers; booking provider tag rows follow the spec per operation', async () => {
    const jobs = expect(await sim.api('GET', '/jpm/jobs', { query: { pageSize: 50 } }), 200);
    assert.ok(jobs.data.length > 0);
    for (const j of jobs.data) assert.equal(typeof j.total, 'number', `job ${j.id} total ${j.total}`);
    assert.ok(jobs.data.some((j) => j.jobStatus === 'Completed' && j.total > 0), 'the completed seed job has its invoice total');
    // list and get are GetBookingProviderTagResponse (with active); create and
    // patch answer without it (their schemas forbid it: sim.api validates)
    const tags = expect(await sim.api('GET', '/crm/booking-provider-tags'), 200);
    assert.ok(tags.data.every((t) => t.active === true));
    const made = expect(await sim.api('POST', '/crm/booking-provider-tags', { body: { tagName: 'Binding', description: 'b' } }), 200);
    assert.equal(made.active, undefined);
    const patched = expect(await sim.api('PATCH', `/crm/booking-provider-tags/${made.id}`, { body: { description: 'c' } }), 200);
    assert.equal(patched.active, undefined);
  });
});
