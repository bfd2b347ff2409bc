// demo-site.mjs — serves the sample contractor website of `make run`
// ("Lone Star Comfort & Plumbing", scripts/demo-site/) on its own origin, with
// the booking widget's one tag in every page, the way a contractor's site
// would carry it: another origin than appointd, and a strict
// Content-Security-Policy that allows appointd in script-src and connect-src
// and nothing inline.
//
//   node scripts/demo-site.mjs --listen 127.0.0.1:8090 --appointd http://127.0.0.1:8080 --scheduler sch_…
//
// In .html files, {{APPOINTD}} becomes appointd's URL and {{SCHEDULER}} the
// scheduler key. Also a module: serveSite({ root, host, port, appointd,
// scheduler, pages }) resolves { url, close() } (tests add their own pages:
// pages maps a path to HTML text, templated the same way).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SITE_ROOT = path.join(here, 'demo-site');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The site's policy: appointd's origin may run scripts and be called; nothing inline. */
export function siteCsp(appointd) {
  const a = new URL(appointd).origin;
  return `default-src 'self'; script-src 'self' ${a}; connect-src 'self' ${a}; style-src 'self'; ` +
    `img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`;
}

const fill = (text, vars) => text.replace(/\{\{(APPOINTD|SCHEDULER)\}\}/g, (_, k) => vars[k]);

export async function serveSite({ root = SITE_ROOT, host = '127.0.0.1', port = 0, appointd, scheduler, pages = {}, csp } = {}) {
  const vars = { APPOINTD: appointd.replace(/\/$/, ''), SCHEDULER: scheduler };
  const policy = csp === undefined ? siteCsp(appointd) : csp;
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://site');
    let rel = decodeURIComponent(url.pathname);
    if (rel.endsWith('/')) rel += 'index.html';
    const headers = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' };
    if (policy) headers['Content-Security-Policy'] = policy;
    try {
      let body;
      if (Object.hasOwn(pages, rel)) {
        body = fill(pages[rel], vars);
      } else {
        const file = path.join(root, path.normalize(rel));
        if (!file.startsWith(root + path.sep)) throw new Error('outside');
        body = await readFile(file);
        if (file.endsWith('.html')) body = fill(body.toString('utf8'), vars);
      }
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(rel)] || 'application/octet-stream' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Not found\n');
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, resolve);
  });
  const url = `http://${host}:${server.address().port}`;
  return {
    url,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

// The command line (scripts/demo).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
    return acc;
  }, []));
  const [host, port] = (args.listen || '127.0.0.1:8090').split(/:(?=\d+$)/);
  serveSite({ host, port: Number(port), appointd: args.appointd, scheduler: args.scheduler }).then(
    (s) => {
      console.log(`demo site: ${s.url}/`);
      const stop = () => s.close().then(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    },
    (e) => {
      console.error(`demo site: cannot listen on ${args.listen}: ${e.message}`);
      process.exit(1);
    },
  );
}
