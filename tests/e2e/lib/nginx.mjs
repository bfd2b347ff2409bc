// nginx.mjs — nginx in front of several appointd, as an operator runs them:
// round robin over the instances' ports, a connection refused (an instance
// down) passed on to the next one. For the cluster e2e and bench/cluster.mjs.
//
//   const lb = await startNginx(dir, [portA, portB, portC]);  // lb.url
//   await lb.stop();
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { until } from './bookings.mjs';

/** Debian's nginx binary, or undefined when it is not installed (scripts/deps bench). */
export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

export async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** nginx (workers: 1) on a free port, round robin over ports; { url, stop }. */
export async function startNginx(dir, ports, { workers = 1 } = {}) {
  const port = await freePort();
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'nginx.conf'), `
worker_processes ${workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    upstream appointd {
        ${ports.map((p) => `server 127.0.0.1:${p} max_fails=0;`).join('\n        ')}
        keepalive 16;
    }
    server {
        listen 127.0.0.1:${port};
        location / {
            proxy_pass http://appointd;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
        }
    }
}
`);
  const proc = spawn(NGINX, ['-c', path.join(dir, 'nginx.conf'), '-p', dir, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const url = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(url + '/healthz').catch(() => null))?.status === 200,
    { capMs: 20000, what: `nginx on ${port}: ${err}` });
  return {
    url,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const done = new Promise((r) => proc.on('close', r));
      proc.kill('SIGQUIT');
      await done;
    },
  };
}

