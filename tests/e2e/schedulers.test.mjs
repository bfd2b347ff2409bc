// schedulers.test.mjs — the ServiceTitan catalog and schedulers from the
// command line, black-box against stsim's demo tenant: the catalog read
// through the account's one connection (items deactivated in ServiceTitan
// stay known), a scheduler created from a file with the demo catalog, two
// schedulers on one connection, and each bad id refused with the field and
// the ServiceTitan item named, nothing saved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cli, stsimEnv, tempDir } from './lib/appointd.mjs';
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
function demoConfig(over = {}) {
  const jt = catalog.jobTypes.find((j) => j.active && !j.deleted && (j.businessUnitIds || []).length);
  const campaign = catalog.campaigns.find((c) => c.active);
  return {
    name: 'Main website',
    timeZone: 'America/Chicago',
    allowedOrigins: ['https://lonestarcomfort.example'],
    services: [{ id: 'service-1', label: jt.name, jobTypeId: jt.id, businessUnitId: jt.businessUnitIds[0] }],
    serviceArea: { zones: 'servicetitan' },
    campaignId: campaign.id,
    ...over,
  };
}

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
