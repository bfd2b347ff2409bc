// owner.mjs — an account with its owner, made with the CLI as an operator
// would, and signing in as that owner: what the store's e2e tests start from.
//
//   await addOwner(dataDir, OWNER);               // account "Acme Heating"
//   const s = await login(srv.url, OWNER);        // { status, text, cookie, csrf }
import assert from 'node:assert/strict';
import { cli, getJson } from './appointd.mjs';

/** Creates account (default "Acme Heating") and its owner {email, password}. */
export async function addOwner(dataDir, owner, account = 'Acme Heating') {
  const dd = ['--data-dir', dataDir];
  let r = await cli(['account', 'create', account, ...dd]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(['user', 'add', owner.email, '--account', account, '--role', 'owner',
    '--password-stdin', ...dd], { input: owner.password + '\n' });
  assert.equal(r.code, 0, r.stderr);
}

/** POST /api/v1/login: { status, text, cookie (name=value), csrf }. */
export async function login(url, { email, password }) {
  const r = await getJson(`${url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  return {
    status: r.status,
    text: r.text,
    cookie: (r.headers.get('set-cookie') || '').split(';')[0],
    csrf: r.body?.csrfToken,
  };
}
