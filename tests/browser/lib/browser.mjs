// browser.mjs — launches Debian's chromium headless for the browser tests
// (playwright-core, no bundled browser), the same way for every test file.
//
//   const b = await launchBrowser();            // { context, page, close() }
//   await b.page.goto(url);
//   await b.close();                            // closes chromium, removes the profile
//
// $CHROMIUM_BIN overrides /usr/bin/chromium. The machine may set http_proxy;
// everything the tests talk to is on 127.0.0.1, so proxies are switched off
// both in chromium's flags and in its environment. Screenshots go under
// shotDir(): $SCREENSHOT_DIR, default build-test/screenshots/.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export const BROWSER_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-proxy-server', // this machine sets http_proxy; the servers are on 127.0.0.1
];

/** Our environment minus *_proxy variables, for chromium. */
export function browserEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/_proxy$/i.test(k)) delete env[k];
  return env;
}

/** The screenshot directory (created): $SCREENSHOT_DIR, else build-test/screenshots[/sub]. */
export async function shotDir(sub = '') {
  const base = process.env.SCREENSHOT_DIR || path.join(repoRoot, 'build-test/screenshots');
  const dir = sub ? path.join(base, sub) : base;
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Starts chromium with a fresh profile. options: viewport ({width, height}),
 * any other launchPersistentContext option. Resolves { context, page, close }.
 */
export async function launchBrowser(options = {}) {
  const profile = await mkdtemp(path.join(tmpdir(), 'appointd-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: BROWSER_ARGS,
      env: browserEnv(),
      ...options,
    });
  } catch (e) {
    await rm(profile, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] || (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}
