// client.mjs — an HTTP client for the black-box tests that can choose its
// own local address: on Linux all of 127.0.0.0/8 is loopback, so a request
// from 127.0.0.2 reaches a server on 127.0.0.1 as another client would
// (fetch() cannot pick its source address).
//
//   const r = await request(srv.url + '/api/v1/login', {
//     method: 'POST', json: { email, password }, from: '127.0.0.2',
//     headers: { 'x-forwarded-for': '203.0.113.9' },
//   });
//   r.status, r.headers['retry-after'], r.body (parsed JSON or undefined), r.text
import http from 'node:http';

/**
 * One request on a fresh connection. options: method (GET), headers, json
 * (sent as the body, with content-type application/json), body (a string),
 * from (local address). Resolves { status, headers (lowercase names), text, body }.
 */
export function request(url, { method = 'GET', headers = {}, json, body, from } = {}) {
  const u = new URL(url);
  const payload = json !== undefined ? JSON.stringify(json) : body;
  const h = { ...headers, connection: 'close' };
  if (json !== undefined) h['content-type'] = 'application/json';
  if (payload !== undefined) h['content-length'] = Buffer.byteLength(payload);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h, localAddress: from, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let parsed;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, body: parsed });
        });
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** POST /api/v1/login as request() does it: { status, headers, body, cookie }. */
export async function login(baseUrl, email, password, { from, headers } = {}) {
  const r = await request(`${baseUrl}/api/v1/login`, { method: 'POST', json: { email, password }, from, headers });
  const set = r.headers['set-cookie'] || [];
  return { ...r, setCookie: set.join('\n'), cookie: set.length ? set[0].split(';')[0] : '' };
}
