// pg.mjs — a throwaway PostgreSQL for the tests: Debian's server binaries,
// initdb into a fresh temporary directory (as the `postgres` system user,
// or `nobody`, when we are root: the server refuses to run as root),
// listening on a Unix socket in that directory and on 127.0.0.1 at a free
// port, with TLS (a self-signed certificate made here) and trust
// authentication; stopped and removed by stop(). Tuned for tests: fsync off
// (nothing must survive a power cut), synchronous_commit off by default (so
// that the writer's own "on" shows), room for many connections.
//
//   const pg = await startPostgres();
//   pg.url            // postgresql://postgres@/postgres?host=<socket dir>&port=<port>  (admin)
//   pg.tcpUrl         // postgresql://postgres@127.0.0.1:<port>/postgres
//   await pg.psql('CREATE DATABASE x');
//   pg.urlFor('x')    // the socket URL of database x
//   await pg.halt(); await pg.resume();   // a restart, data kept
//   await pg.stop();
//
// As a command, for scripts/check (one server for the unit and e2e runs):
//   node tests/e2e/lib/pg.mjs start   prints {"url","tcpUrl","dir"} as JSON; leaves it running
//        [--durable] [--parent DIR]   fsync on (benchmarks); its temp dir under DIR
//   node tests/e2e/lib/pg.mjs stop DIR
// Tests find that server through APPOINTD_TEST_PG_DIR (sharedPostgres()),
// the C unit tests through APPOINTD_TEST_PG (its admin URL).
//
// APPOINTD_PG_BINDIR names the server's bin directory (default: the newest
// /usr/lib/postgresql/*/bin, else PATH); APPOINTD_PG_USER the user to run it
// as when root (default postgres, else nobody).
import { execFile, spawnSync } from 'node:child_process';
import { appendFile, chmod, chown, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The directory of initdb, pg_ctl and postgres. */
export async function binDir() {
  if (process.env.APPOINTD_PG_BINDIR) return process.env.APPOINTD_PG_BINDIR;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = (await readdir(base)).filter((v) => /^\d+$/.test(v)).sort((a, b) => b - a);
    for (const v of versions) {
      if (existsSync(path.join(base, v, 'bin/initdb'))) return path.join(base, v, 'bin');
    }
  }
  return ''; // PATH
}

/** True when a PostgreSQL server can be started here. */
export async function available() {
  const dir = await binDir();
  const initdb = dir ? path.join(dir, 'initdb') : 'initdb';
  return spawnSync(initdb, ['--version'], { stdio: 'ignore' }).status === 0 &&
    spawnSync('psql', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The user to run the server as, and its uid/gid, when we are root. */
function serverUser() {
  if (process.getuid() !== 0) return null;
  const names = process.env.APPOINTD_PG_USER ? [process.env.APPOINTD_PG_USER] : ['postgres', 'nobody'];
  for (const name of names) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0) return { name, uid: Number(uid.stdout), gid: Number(gid.stdout) };
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL');
}

/** Runs file args as the server's user (directly when not root). */
async function runAs(user, file, args) {
  if (!user) return exec(file, args);
  return exec('runuser', ['-u', user.name, '--', file, ...args]);
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A self-signed certificate for 127.0.0.1 and localhost, in data. */
async function makeCert(data, user) {
  await exec('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', path.join(data, 'server.key'), '-out', path.join(data, 'server.crt')]);
  await chmod(path.join(data, 'server.key'), 0o600);
  if (user) {
    await chown(path.join(data, 'server.key'), user.uid, user.gid);
    await chown(path.join(data, 'server.crt'), user.uid, user.gid);
  }
}

/** A server running in dir (made by startPostgres): its URLs and helpers. */
export function handle(dir, port) {
  const server = {
    dir,
    port,
    url: `postgresql://postgres@/postgres?host=${encodeURIComponent(dir)}&port=${port}`,
    tcpUrl: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    /** The socket URL of database db, with libpq URL parameters params ({name: value}). */
    urlFor(db, params = {}) {
      const q = new URLSearchParams({ host: dir, port: String(port), ...params });
      return `postgresql://postgres@/${encodeURIComponent(db)}?${q.toString().replace(/\+/g, '%20')}`;
    },
    /** Runs sql with psql in database db (default postgres); its stdout. */
    async psql(sql, db = 'postgres') {
      const r = await exec('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', server.urlFor(db), '-c', sql]);
      return r.stdout.trim();
    },
    /** Stops the server at once and removes its directory. */
    async stop() {
      await stopPostgres(dir);
    },
    /** Shuts the server down (fast: sessions are ended), keeping its data. */
    async halt() {
      await pgCtl(['-D', path.join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
    },
    /** Starts it again after halt(), on the same socket and port. */
    async resume() {
      await pgCtl(['-D', path.join(dir, 'data'), '-l', path.join(dir, 'server.log'), '-w', '-t', '60',
        '-o', `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1`, 'start']);
    },
  };
  return server;
}

/** Runs pg_ctl with args as the server's user. */
async function pgCtl(args) {
  const bin = await binDir();
  return runAs(serverUser(), bin ? path.join(bin, 'pg_ctl') : 'pg_ctl', args);
}

/**
 * Starts a new server; see the top of the file. parent: where its temporary
 * directory goes (default the system's); durable: fsync and synchronous
 * commit left on, as a real server runs (benchmarks).
 */
export async function startPostgres({ parent = tmpdir(), durable = false } = {}) {
  const bin = await binDir();
  const tool = (name) => (bin ? path.join(bin, name) : name);
  const user = serverUser();
  const dir = await mkdtemp(path.join(parent, 'appointd-pg-'));
  try {
    if (user) await chown(dir, user.uid, user.gid);
    const data = path.join(dir, 'data');
    await runAs(user, tool('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8',
      '--locale=C', '--no-sync', '--no-instructions']);
    await makeCert(data, user);
    const fast = durable ? [] : ['fsync = off', 'full_page_writes = off', 'synchronous_commit = off'];
    await appendFile(path.join(data, 'postgresql.conf'), [
      '# appointd tests', ...fast, 'max_connections = 400', 'shared_buffers = 32MB', 'ssl = on',
      'log_min_messages = warning', "log_statement = 'none'",
    ].join('\n') + '\n');
    let port;
    for (let tries = 0; ; tries++) {
      port = await freePort();
      try {
        await runAs(user, tool('pg_ctl'), ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60',
          '-o', `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1`, 'start']);
        break;
      } catch (e) {
        // the port was taken meanwhile: try another
        if (tries >= 3) {
          const log = await readFile(path.join(dir, 'server.log'), 'utf8').catch(() => '');
          throw new Error(`PostgreSQL did not start: ${e.message}\n${log}`, { cause: e });
        }
      }
    }
    await writeFile(path.join(dir, 'port'), String(port));
    return handle(dir, port);
  } catch (e) {
    await stopPostgres(dir).catch(() => {});
    throw e;
  }
}

/** Stops the server in dir (immediately: its data is thrown away) and removes dir. */
export async function stopPostgres(dir) {
  const bin = await binDir();
  const data = path.join(dir, 'data');
  if (existsSync(path.join(data, 'postmaster.pid'))) {
    await runAs(serverUser(), bin ? path.join(bin, 'pg_ctl') : 'pg_ctl',
      ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
  }
  await rm(dir, { recursive: true, force: true });
}

let shared = null;

/** Stops the server in dir at once, synchronously (for an exit handler). */
function stopSync(dir, ctl, user) {
  const args = ['-D', path.join(dir, 'data'), '-m', 'immediate', '-w', 'stop'];
  if (user) spawnSync('runuser', ['-u', user.name, '--', ctl, ...args], { stdio: 'ignore' });
  else spawnSync(ctl, args, { stdio: 'ignore' });
  spawnSync('rm', ['-rf', dir]);
}

/**
 * The server the tests of this process share: the one scripts/check started
 * (APPOINTD_TEST_PG_DIR, its directory), else one started now and stopped
 * when the process exits.
 */
export async function sharedPostgres() {
  if (shared) return shared;
  const dir = process.env.APPOINTD_TEST_PG_DIR;
  if (dir && existsSync(path.join(dir, 'port'))) {
    shared = handle(dir, Number(await readFile(path.join(dir, 'port'), 'utf8')));
    return shared;
  }
  const bin = await binDir();
  const ctl = bin ? path.join(bin, 'pg_ctl') : 'pg_ctl';
  const user = serverUser();
  shared = await startPostgres();
  const own = shared.dir;
  process.on('exit', () => stopSync(own, ctl, user));
  return shared;
}

// As a command (scripts/check).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd, arg] = process.argv.slice(2);
  if (cmd === 'start') {
    const rest = process.argv.slice(3);
    const at = rest.indexOf('--parent');
    const pg = await startPostgres({ durable: rest.includes('--durable'), parent: at >= 0 ? rest[at + 1] : tmpdir() });
    process.stdout.write(JSON.stringify({ url: pg.url, tcpUrl: pg.tcpUrl, dir: pg.dir }) + '\n');
  } else if (cmd === 'stop' && arg) {
    await stopPostgres(arg);
  } else {
    process.stderr.write('usage: node tests/e2e/lib/pg.mjs start [--durable] [--parent DIR] | stop DIR\n');
    process.exit(2);
  }
}
