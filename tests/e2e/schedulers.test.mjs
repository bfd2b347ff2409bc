// schedulers.test.mjs — the ServiceTitan catalog and schedulers from the
// command line, black-box against stsim's demo tenant: the catalog read
// through the account's one connection (items deactivated in ServiceTitan
// stay known), a scheduler created from a file with the demo catalog, two
// schedulers on one connection, and each bad id refused with the field and
// the ServiceTitan item named, nothing saved. Then the same through the
// dashboard's API with a session: create, update, pause and resume,
// manage_schedulers enforced (staff 403 until an owner grants it), another
// account's scheduler not found.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertCleanExit, cli, getJson, startServer, stsimEnv, tempDir } from './lib/appointd.mjs';
import { connectAccount, demoConfig as demoConfigOf, newTenant, until } from './lib/avail.mjs';
import { login } from './lib/owner.mjs';
import { startStsim, stopClean } from './sim/lib/stsim.mjs';

const ACCOUNT = 'Lone Star Comfort';
let sim;
let data;
let env;
let catalog;

const message = (r) => (/^appointd: (.*)$/m.exec(r.stderr) || [])[1] || '';

async function ok(args, input = '') {
  const r = await cli(args, { env, input });
  assert.equal(r.code, 0, `appointd ${args.join(' ')} → ${r.code}\n${r.stderr}`);
  return r;
}

async function json(args) {
  return JSON.parse((await ok([...args, '--json'])).stdout);
}

/** Writes a scheduler file and returns its path. */
async function file(name, cfg) {
  const p = path.join(data.dir, name);
  await writeFile(p, JSON.stringify(cfg));
  return p;
}

/** A scheduler for the demo catalog: the first active job type with its first business unit. */
const demoConfig = (over = {}) => demoConfigOf(catalog, over);

before(async () => {
  sim = await startStsim();
  data = await tempDir();
  env = { APPOINTD_DATA_DIR: data.dir, APPOINTD_LOG_LEVEL: 'warn', ...stsimEnv(sim.creds) };
  await ok(['account', 'create', ACCOUNT]);
  await ok(['fms', 'tenant', ACCOUNT, String(sim.creds.tenantId)]);
  await ok(['fms', 'connect', ACCOUNT, '--client-id', sim.creds.clientId, '--client-secret-stdin'],
    `${sim.creds.clientSecret}\n`);
});

after(async () => {
  await stopClean(sim, assert);
  await data?.cleanup();
});

test('catalog refresh reads every kind through the account\'s connection', async () => {
  catalog = await json(['catalog', 'refresh', ACCOUNT]);
  for (const key of ['businessUnits', 'jobTypes', 'campaigns', 'arrivalWindows', 'zones', 'bookingProviderTags', 'tagTypes']) {
    assert.ok(Array.isArray(catalog[key]) && catalog[key].length > 0, `${key} read`);
    assert.ok(catalog.refreshedAt[key], `${key} has a refresh time`);
  }
  assert.deepEqual(catalog.errors, {});
  // what stsim holds, inactive ones included (active=Any)
  const st = await sim.api('GET', '/jpm/job-types', { query: { active: 'Any', pageSize: 500 } });
  assert.deepEqual(catalog.jobTypes.map((j) => j.id).sort(), st.body.data.map((j) => j.id).sort());
  const inactive = st.body.data.find((j) => !j.active);
  assert.ok(inactive, 'the demo has an inactive job type');
  assert.equal(catalog.jobTypes.find((j) => j.id === inactive.id).active, false);
  const win = catalog.arrivalWindows[0];
  assert.match(win.name, /^\d\d:\d\d-\d\d:\d\d$/);
  // the stored catalog reads back the same without ServiceTitan
  const shown = await json(['catalog', 'show', ACCOUNT]);
  assert.deepEqual(shown.jobTypes, catalog.jobTypes);
});

test('a scheduler created from a file with the demo catalog', async () => {
  const cfg = demoConfig({ phone: '214-555-0100', rules: { blackoutDates: ['2026-12-25'] } });
  const created = await json(['scheduler', 'create', ACCOUNT, '--config', await file('main.json', cfg)]);
  assert.match(created.key, /^sch_[A-Za-z0-9_-]{22}$/);
  assert.equal(created.paused, false);
  assert.equal(created.config.phone, '+12145550100');
  assert.equal(created.config.rules.minNoticeMinutes, 120, 'defaults filled in');
  assert.equal(created.config.capacity, 'servicetitan');
  const shown = await json(['scheduler', 'show', created.key]);
  assert.deepEqual(shown.config, created.config);

  // a second scheduler on the same connection: no credentials asked again
  const second = await json(['scheduler', 'create', ACCOUNT, '--config',
    await file('landing.json', demoConfig({ name: 'AC landing page' }))]);
  assert.notEqual(second.key, created.key);
  const list = await json(['scheduler', 'list', ACCOUNT]);
  assert.deepEqual(list.schedulers.map((s) => s.config.name), ['AC landing page', 'Main website']);

  // update keeps the key; pause and resume
  const upd = await json(['scheduler', 'update', created.key, '--config',
    await file('main2.json', { ...cfg, name: 'Main website (2027)' })]);
  assert.equal(upd.key, created.key);
  assert.equal(upd.config.name, 'Main website (2027)');
  assert.equal((await json(['scheduler', 'pause', created.key])).paused, true);
  assert.equal((await json(['scheduler', 'resume', created.key])).paused, false);
});

test('bad ids are refused with the field and the ServiceTitan item named; nothing is saved', async () => {
  const before = (await json(['scheduler', 'list', ACCOUNT])).schedulers.length;
  const inactive = catalog.jobTypes.find((j) => !j.active);
  const good = demoConfig();
  const cases = [
    [{ services: [{ ...good.services[0], jobTypeId: 999999 }] },
      'services[0].jobTypeId: job type 999999 does not exist in ServiceTitan'],
    [{ services: [{ ...good.services[0], jobTypeId: inactive.id }] },
      `services[0].jobTypeId: job type ${inactive.id} (${inactive.name}) is inactive in ServiceTitan`],
    [{ campaignId: 424242 }, 'campaignId: campaign 424242 does not exist in ServiceTitan'],
    [{ timeZone: 'America/Dallas' }, "timeZone: 'America/Dallas' is not an IANA time zone"],
    [{ serviceArea: { zones: 'all' } }, 'serviceArea.zones: the only value is "servicetitan"'],
    [{ tagTypeIds: [31337] }, 'tagTypeIds[0]: tag type 31337 does not exist in ServiceTitan'],
  ];
  const unknownZone = ["timeZone: 'Mars/Olympus_Mons' is not an IANA time zone"];
  cases.push([{ timeZone: 'Mars/Olympus_Mons' }, unknownZone[0]]);
  for (const [over, want] of cases) {
    const r = await cli(['scheduler', 'create', ACCOUNT, '--config', await file('bad.json', { ...good, ...over })], { env });
    assert.equal(r.code, 1, JSON.stringify(over));
    assert.ok(message(r).startsWith(want), `got: ${message(r)}\nwant: ${want}`);
  }
  // not JSON, and an unknown key
  await writeFile(path.join(data.dir, 'broken.json'), '{"name": ');
  let r = await cli(['scheduler', 'create', ACCOUNT, '--config', path.join(data.dir, 'broken.json')], { env });
  assert.equal(r.code, 1);
  assert.match(message(r), /malformed JSON at line 1/);
  r = await cli(['scheduler', 'create', 'No Such Account', '--config', await file('x.json', good)], { env });
  assert.equal(r.code, 1);
  assert.match(message(r), /no account named 'No Such Account'/);
  r = await cli(['scheduler', 'create', ACCOUNT], { env });
  assert.equal(r.code, 2);
  assert.equal((await json(['scheduler', 'list', ACCOUNT])).schedulers.length, before);
});

/** The dashboard's API with a session ({cookie, csrf}): { status, body, text }. */
function api(url, sess, method, p, body) {
  const headers = { cookie: sess.cookie };
  if (method !== 'GET') headers['x-csrf-token'] = sess.csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return getJson(`${url}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

test('the admin API: create, update, pause, resume; manage_schedulers; another account\'s scheduler is not found', async () => {
  const pw = { owner: 'owner-password-1', staff: 'staff-password-1', other: 'other-password-1' };
  for (const [email, role, password] of [['owner@lonestar.test', 'owner', pw.owner], ['staff@lonestar.test', 'staff', pw.staff]]) {
    await ok(['user', 'add', email, '--account', ACCOUNT, '--role', role, '--password-stdin'], `${password}\n`);
  }
  // another account, on a ServiceTitan tenant of its own, with a scheduler of its own
  const other = await connectAccount(sim, { account: 'Desert Air', data: data.dir, creds: await newTenant(sim, { id: 2345678 }) });
  const theirs = await other.scheduler(other.config({ name: 'Desert Air website' }));
  await ok(['user', 'add', 'owner@desertair.test', '--account', 'Desert Air', '--role', 'owner', '--password-stdin'], `${pw.other}\n`);

  const srv = await startServer({ dataDir: data.dir, env: { ...env, APPOINTD_LOG_LEVEL: 'info' }, args: ['--no-access-log'] });
  try {
    const owner = await login(srv.url, { email: 'owner@lonestar.test', password: pw.owner });
    const staff = await login(srv.url, { email: 'staff@lonestar.test', password: pw.staff });
    const them = await login(srv.url, { email: 'owner@desertair.test', password: pw.other });
    for (const x of [owner, staff, them]) assert.equal(x.status, 200, x.text);
    const cfg = demoConfig({ name: 'Call centre' });

    // staff may read, not write, until an owner grants manage_schedulers
    let r = await api(srv.url, staff, 'POST', '/api/v1/schedulers', cfg);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.body.error.code, 'forbidden');
    const listed = await api(srv.url, staff, 'GET', '/api/v1/schedulers');
    assert.equal(listed.status, 200);
    const before = listed.body.schedulers.length;
    assert.ok(!listed.body.schedulers.some((x) => x.key === theirs.key), 'another account\'s scheduler is not listed');

    // the owner creates one; a bad id or zone is refused with the field named, nothing saved
    const inactive = catalog.jobTypes.find((j) => !j.active);
    r = await api(srv.url, owner, 'POST', '/api/v1/schedulers',
      { ...cfg, services: [{ ...cfg.services[0], jobTypeId: inactive.id }] });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error.field, 'services[0].jobTypeId');
    assert.match(r.body.error.message, new RegExp(`job type ${inactive.id} \\(.*\\) is inactive in ServiceTitan`));
    r = await api(srv.url, owner, 'POST', '/api/v1/schedulers', { ...cfg, timeZone: 'Mars/Olympus_Mons' });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error.field, 'timeZone');
    r = await api(srv.url, owner, 'POST', '/api/v1/schedulers', { ...cfg, campaignId: 424242 });
    assert.equal(r.body.error.field, 'campaignId');
    assert.equal((await api(srv.url, owner, 'GET', '/api/v1/schedulers')).body.schedulers.length, before);
    r = await api(srv.url, owner, 'POST', '/api/v1/schedulers', cfg);
    assert.equal(r.status, 201, r.text);
    const key = r.body.key;
    assert.match(key, /^sch_[A-Za-z0-9_-]{22}$/);
    assert.equal(r.body.config.name, 'Call centre');
    assert.equal((await getJson(`${srv.url}/api/v1/schedulers/${key}`)).status, 200, 'the public sees it');

    // update keeps the key; the CLI reads what the API wrote
    r = await api(srv.url, owner, 'PUT', `/api/v1/schedulers/${key}`, { ...cfg, name: 'Call centre (nights)' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.key, key);
    assert.equal(JSON.parse((await ok(['scheduler', 'show', key, '--json'])).stdout).config.name, 'Call centre (nights)');
    assert.equal((await api(srv.url, staff, 'PUT', `/api/v1/schedulers/${key}`, cfg)).status, 403);
    assert.equal((await api(srv.url, staff, 'POST', `/api/v1/schedulers/${key}/pause`)).status, 403);

    // pause: the public gets 404 (the public side re-reads a scheduler every 2 s at most); resume
    r = await api(srv.url, owner, 'POST', `/api/v1/schedulers/${key}/pause`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.paused, true);
    await until(async () => (await getJson(`${srv.url}/api/v1/schedulers/${key}`)).status === 404, 'the paused scheduler to be 404');
    r = await api(srv.url, owner, 'POST', `/api/v1/schedulers/${key}/resume`);
    assert.equal(r.body.paused, false);
    await until(async () => (await getJson(`${srv.url}/api/v1/schedulers/${key}`)).status === 200, 'the resumed scheduler to be back');

    // the owner grants manage_schedulers: staff may now write
    r = await api(srv.url, owner, 'PUT', '/api/v1/roles/staff/permissions', { manageSchedulers: true });
    assert.equal(r.status, 200, r.text);
    r = await api(srv.url, staff, 'POST', '/api/v1/schedulers', { ...cfg, name: 'Staff page' });
    assert.equal(r.status, 201, r.text);

    // another account's scheduler: 404 for every route, nothing changed
    for (const [method, p, body] of [['GET', `/api/v1/schedulers/${theirs.key}/config`],
      ['PUT', `/api/v1/schedulers/${theirs.key}`, cfg], ['POST', `/api/v1/schedulers/${theirs.key}/pause`],
      ['POST', `/api/v1/schedulers/${theirs.key}/resume`]]) {
      r = await api(srv.url, owner, method, p, body);
      assert.equal(r.status, 404, `${method} ${p}: ${r.text}`);
    }
    r = await api(srv.url, them, 'GET', `/api/v1/schedulers/${theirs.key}/config`);
    assert.equal(r.body.config.name, 'Desert Air website');
    assert.equal(r.body.paused, false);
    assert.equal((await api(srv.url, them, 'GET', `/api/v1/schedulers/${key}/config`)).status, 404);
  } finally {
    assertCleanExit(assert, await srv.stop());
  }
});
