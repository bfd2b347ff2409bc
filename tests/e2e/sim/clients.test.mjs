// clients.test.mjs — stsim driven the way common public ServiceTitan clients
// drive ServiceTitan (issue 9, must-show): a per-call token client that
// sends the bare token, a sync-tap-like client that authenticates with HTTP
// Basic, walks 100 rows a page and follows export feeds until hasMore is
// false, a .NET-style client that writes query names in PascalCase, JSON
// booleans as strings and a trailing slash, and a client that retries on 429
// after Retry-After. These are our own small clients written from the
// patterns those clients follow (API-NOTES §1, §8), not their code. Every
// body is validated against the OpenAPI specs (sim.validate).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStsim, stopClean } from './lib/stsim.mjs';

const SCALE = 600; // a few pages of 100

/** The parts every client shares: where stsim is and who the client is. */
function base(sim) {
  const { authUrl, apiUrl, appKey, tenantId, clientId, clientSecret } = sim.creds;
  return { authUrl, apiUrl, appKey, tenantId, clientId, clientSecret };
}

async function json(res) {
  const text = await res.text();
  return { status: res.status, headers: Object.fromEntries(res.headers), text, body: text ? JSON.parse(text) : null };
}

/** Like the per-call clients: form-field token request before every call, bare token. */
function perCallClient(sim) {
  const c = base(sim);
  return {
    async token() {
      const r = await fetch(`${c.authUrl}/connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&client_id=${encodeURIComponent(c.clientId)}&client_secret=${encodeURIComponent(c.clientSecret)}`,
      });
      assert.equal(r.status, 200);
      return (await r.json()).access_token;
    },
    async get(module, resource, params = {}) {
      const url = new URL(`${c.apiUrl}/${module}/v2/tenant/${c.tenantId}/${resource}`);
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      const r = await json(await fetch(url, { headers: { Authorization: await this.token(), 'ST-App-Key': c.appKey } }));
      sim.validate('GET', url.toString(), r);
      return r;
    },
  };
}

/** Like a sync tap: HTTP Basic client auth, a cached Bearer token, 100-row pages, export loops. */
function tapClient(sim) {
  const c = base(sim);
  let token = null;
  const auth = async () => {
    if (token) return token;
    const basic = Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64');
    const r = await fetch(`${c.authUrl}/connect/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    assert.equal(r.status, 200, await r.clone().text());
    token = (await r.json()).access_token;
    return token;
  };
  const get = async (path, params) => {
    const url = new URL(`${c.apiUrl}${path}`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const r = await json(
      await fetch(url, { headers: { authorization: `Bearer ${await auth()}`, 'st-app-key': c.appKey, 'accept-encoding': 'gzip' } }),
    );
    assert.equal(r.status, 200, r.text.slice(0, 300));
    sim.validate('GET', url.toString(), r);
    return r.body;
  };
  return {
    async *pages(module, resource, params = {}) {
      for (let page = 1; ; page++) {
        const body = await get(`/${module}/v2/tenant/${c.tenantId}/${resource}`, { ...params, page, pageSize: 100 });
        yield body;
        if (!body.hasMore) return;
      }
    },
    async exportAll(module, resource) {
      const rows = [];
      let from = '';
      let calls = 0;
      for (;;) {
        const body = await get(`/${module}/v2/tenant/${c.tenantId}/export/${resource}`, { from, pageSize: 250 });
        calls++;
        rows.push(...body.data);
        from = body.continueFrom;
        if (!body.hasMore) return { rows, calls, last: from };
      }
    },
  };
}

/** Like a .NET client: PascalCase query names, "true"/"false" strings, a trailing slash. */
function dotnetClient(sim) {
  const c = base(sim);
  let token;
  return {
    async call(method, path, { query = {}, body } = {}) {
      token ??= await sim.token();
      const url = new URL(`${c.apiUrl}${path.replace('{tenant}', c.tenantId)}`);
      for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
      const init = { method, headers: { Authorization: `Bearer ${token}`, 'ST-App-Key': c.appKey } };
      if (body !== undefined) {
        init.headers['Content-Type'] = 'application/json; charset=utf-8';
        init.body = JSON.stringify(body);
      }
      const r = await json(await fetch(url, init));
      sim.validate(method, url.toString(), r);
      return r;
    },
  };
}

describe(`public-client patterns against a tenant of ${SCALE} customers`, () => {
  let sim;
  before(async () => {
    sim = await startStsim({ args: ['--scale', String(SCALE), '--rate-limit', '0'], readyTimeoutMs: 60000, as: 'inspector' });
  });
  after(async () => {
    if (sim) await stopClean(sim, assert);
  });

  test('a token per call, sent bare, through a run of reference data', async () => {
    const c0 = (await sim.control('GET', '/counters')).body;
    const client = perCallClient(sim);
    for (const [m, r] of [['settings', 'business-units'], ['jpm', 'job-types'], ['marketing', 'campaigns'], ['dispatch', 'arrival-windows'], ['settings', 'technicians']]) {
      const res = await client.get(m, r, { active: 'True', includeTotal: 'true' });
      assert.equal(res.status, 200, `${m}/${r}: ${res.text.slice(0, 200)}`);
      assert.ok(res.body.totalCount >= res.body.data.length);
    }
    const c1 = (await sim.control('GET', '/counters')).body;
    assert.equal(c1.tokensIssued - c0.tokensIssued, 5, 'one token a call, each issued');
  });

  test('HTTP Basic, 100-row pages until hasMore is false: every active customer once', async () => {
    const tap = tapClient(sim);
    const ids = [];
    let pages = 0;
    for await (const page of tap.pages('crm', 'customers', { modifiedOnOrAfter: '2000-01-01T00:00:00Z' })) {
      pages++;
      assert.ok(page.data.length <= 100);
      ids.push(...page.data.map((c) => c.id));
    }
    const total = (await sim.api('GET', '/crm/customers', { query: { includeTotal: true, pageSize: 1 } })).body.totalCount;
    assert.equal(ids.length, total);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(pages, Math.ceil(total / 100));
  });

  test('export loops until hasMore is false, and the last token brings only what changed since', async () => {
    const tap = tapClient(sim);
    const first = await tap.exportAll('crm', 'customers');
    assert.equal(first.rows.length, SCALE, 'inactive ones too');
    assert.equal(new Set(first.rows.map((r) => r.id)).size, SCALE);
    assert.ok(first.calls >= Math.ceil(SCALE / 250));
    const one = first.rows[10];
    assert.equal((await sim.api('PATCH', `/crm/customers/${one.id}`, { body: { name: 'Renamed By The Office' } })).status, 200);
    const more = await sim.api('GET', '/crm/export/customers', { query: { from: first.last } });
    assert.deepEqual(more.body.data.map((r) => r.id), [one.id]);
    assert.equal(more.body.data[0].name, 'Renamed By The Office');
    for (const feed of ['locations', 'bookings', 'customers/contacts']) {
      const r = await tap.exportAll('crm', feed);
      assert.ok(r.rows.length > 0, feed);
    }
    for (const feed of ['jobs', 'appointments', 'job-history']) {
      const r = await tap.exportAll('jpm', feed);
      assert.ok(r.rows.length > 0, feed);
    }
  });

  test('PascalCase query names, string booleans, trailing slashes', async () => {
    const net = dotnetClient(sim);
    const page = await net.call('GET', '/crm/v2/tenant/{tenant}/customers/', { query: { PageSize: '7', Page: '2', IncludeTotal: 'True', Active: 'Any' } });
    assert.equal(page.status, 200);
    assert.equal(page.body.pageSize, 7);
    assert.equal(page.body.page, 2);
    assert.equal(page.body.data.length, 7);
    assert.equal(page.body.totalCount, SCALE);
    const day = (d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10);
    const cap = await net.call('POST', '/dispatch/v2/tenant/{tenant}/capacity/', {
      body: { StartsOnOrAfter: `${day(1)}T00:00:00Z`, EndsOnOrBefore: `${day(3)}T00:00:00Z`, SkillBasedAvailability: 'false' },
    });
    assert.equal(cap.status, 200, cap.text.slice(0, 300));
    assert.ok(cap.body.availabilities.length > 0);
    const jobs = await net.call('GET', '/JPM/v2/tenant/{tenant}/Jobs', { query: { PageSize: '3', JobStatus: 'Scheduled' } });
    assert.equal(jobs.status, 200);
    assert.ok(jobs.body.data.every((j) => j.jobStatus === 'Scheduled'));
  });

  test('a client that retries on 429 after Retry-After gets through', async () => {
    assert.equal((await sim.control('POST', '/faults', { match: '/settings/v2/tenant/*/employees', kind: 'status', status: 429, count: 2, retryAfter: 1 })).status, 200);
    const client = perCallClient(sim);
    let tries = 0;
    let res;
    for (;;) {
      tries++;
      res = await client.get('settings', 'employees');
      if (res.status !== 429) break;
      const wait = Number(res.headers['retry-after']);
      assert.ok(wait >= 1, 'a Retry-After in seconds');
      await new Promise((r) => setTimeout(r, 10)); // the emulator's wait is advisory; keep the test quick
    }
    assert.equal(res.status, 200);
    assert.equal(tries, 3);
  });
});
