// api.js — the dashboard's only way to talk to appointd's admin JSON API
// (docs/api.md). Every call is same-origin with the session cookie; writes
// (anything but GET) carry the session's CSRF token in X-CSRF-Token. Answers
// are parsed JSON; a non-2xx answer throws an ApiError carrying the API's
// {"error":{code,message,field,step,...}} so views can show it at the right
// step (e.detail is the whole error object, e.g. wrong_tenant's tokenTenantId).

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `Request failed (HTTP ${status}).`);
    this.status = status;
    this.code = e.code || 'http_' + status;
    this.field = e.field || null;
    this.step = typeof e.step === 'number' ? e.step : null;
    this.detail = e;
  }
}

let csrfToken = '';
let onUnauthenticated = () => {};
// Bumped at every sign-in and sign-out: a 401 to a request made under an
// earlier session (a poll still in flight when the owner signed out and
// someone else signed in) must not sign the new session's view out.
let sessionEpoch = 0;

export function setCsrf(token) { csrfToken = token || ''; sessionEpoch++; }
export function getCsrf() { return csrfToken; }
// Called (once per 401) so the shell can send the user back to the login view.
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const epoch = sessionEpoch;
  let res;
  try {
    res = await fetch('/api/v1' + path, init);
  } catch {
    throw new ApiError(0, { error: { code: 'network', message: 'Could not reach appointd. Check your connection and try again.' } });
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && path !== '/login' && epoch === sessionEpoch) onUnauthenticated(err);
    throw err;
  }
  return data || {};
}

// api.get('/fms'), api.post('/fms/connect', {...}), api.put(...), api.del(...)
// — paths are relative to /api/v1. Each resolves to the parsed body or throws ApiError.
export const api = {
  get: (path) => request('GET', path),
  post: (path, body = {}) => request('POST', path, body),
  put: (path, body = {}) => request('PUT', path, body),
  del: (path) => request('DELETE', path),
};
