// state.test.mjs — --state-file keeps the emulated ServiceTitan across a
// restart: records, the connection and its client secret, the id sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStsim, stopClean } from './lib/stsim.mjs';

test('a restart on the same --state-file keeps records, credentials and ids', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'stsim-state-'));
  const file = path.join(dir, 'state.db');
  try {
    const first = await startStsim({ args: ['--state-file', file], as: 'demo' });
    const created = await first.api('POST', '/crm/customers', {
      body: {
        name: 'Restart Test Household',
        type: 'Residential',
        address: { street: '100 Main St', city: 'Dallas', state: 'TX', zip: '75201', country: 'USA' },
        locations: [
          {
            name: 'Home',
            address: { street: '100 Main St', city: 'Dallas', state: 'TX', zip: '75201', country: 'USA' },
          },
        ],
      },
    });
    assert.equal(created.status, 200, created.text);
    const id = created.body.id;
    const creds = first.creds;
    await stopClean(first, assert);

    // Second run: no --connect, so nothing new is minted; the old secret must still work.
    const second = await startStsim({ args: ['--state-file', file], connect: false, as: 'demo' });
    try {
      const token = await second.token({ clientId: creds.clientId, clientSecret: creds.clientSecret });
      assert.ok(token, 'the client secret from before the restart still gets a token');
      const got = await second.api('GET', `/crm/customers/${id}`, { token });
      assert.equal(got.status, 200, got.text);
      assert.equal(got.body.name, 'Restart Test Household');
      assert.equal(second.creds.appKey, creds.appKey, 'same app key');
      const again = await second.api('POST', '/crm/customers', {
        token,
        body: {
          name: 'After Restart',
          type: 'Residential',
          address: { street: '1 Elm St', city: 'Dallas', state: 'TX', zip: '75201', country: 'USA' },
          locations: [
            { name: 'Home', address: { street: '1 Elm St', city: 'Dallas', state: 'TX', zip: '75201', country: 'USA' } },
          ],
        },
      });
      assert.equal(again.status, 200, again.text);
      assert.ok(again.body.id > id, 'ids keep rising across the restart, never reused');
    } finally {
      await stopClean(second, assert);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
