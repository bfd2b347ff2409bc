// holdproxy.mjs — a ServiceTitan stand-in that answers when the test says
// so: an HTTP proxy in front of stsim's auth and API hosts. It forwards
// every request as it is, except while holding: then each request waits,
// unanswered, until release() forwards them all. It records every request
// that reached it, so a test can tell what appointd asked ServiceTitan and
// when, without measuring any time.
//
//   const px = await startHoldProxy(sim.creds);  // px.authUrl, px.apiUrl: point appointd here
//   px.hold();                                  // from now on requests wait
//   await px.waitHeld(1);                       // one has arrived and waits
//   px.release();                               // forward those, stop holding
//   px.seen                                     // [{ host, method, path }] in arrival order
//   await px.close();
import http from 'node:http';
import { once } from 'node:events';

/** Forwards one buffered request to target (a base URL) and pipes the answer back. */
function forward(target, req, body, res) {
  const url = new URL(req.url, target);
  const headers = { ...req.headers, host: url.host };
  const up = http.request(url, { method: req.method, headers }, (answer) => {
    if (res.destroyed) {
      answer.resume();
      return;
    }
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  up.on('error', () => res.destroy());
  up.end(body);
}

async function listen(server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${server.address().port}`;
}

/** Starts the stand-in in front of creds.authUrl and creds.apiUrl. */
export async function startHoldProxy(creds) {
  const held = [];
  const seen = [];
  const waiters = [];
  let holding = false;

  const notify = () => {
    for (const w of waiters.splice(0)) {
      if (held.length >= w.n) w.resolve();
      else waiters.push(w);
    }
  };

  const make = (host, target) =>
    http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push({ host, method: req.method, path: req.url.split('?')[0] });
        if (!holding) return forward(target, req, body, res);
        held.push(() => forward(target, req, body, res));
        notify();
      });
    });

  const auth = make('auth', creds.authUrl);
  const api = make('api', creds.apiUrl);
  const px = {
    authUrl: await listen(auth),
    apiUrl: await listen(api),
    seen,
    /** Requests waiting now. */
    get held() {
      return held.length;
    },
    /** From now on every request waits until release(). */
    hold() {
      holding = true;
    },
    /** Resolves once at least n requests are waiting. */
    waitHeld(n) {
      return new Promise((resolve) => {
        waiters.push({ n, resolve });
        notify();
      });
    },
    /** Stops holding and forwards every waiting request. */
    release() {
      holding = false;
      for (const go of held.splice(0)) go();
    },
    async close() {
      px.release();
      for (const s of [auth, api]) {
        s.closeAllConnections();
        s.close();
      }
    },
  };
  return px;
}
