// widget-host.test.mjs — the widget is a guest on other people's pages:
//   - a host page with hostile global CSS (`* { all: unset !important }`,
//     rules against dialogs, buttons and the widget's own element, a 5 px root
//     font size, a dark colour scheme) under a strict Content-Security-Policy
//     (no inline script or style, Trusted Types required): the widget looks
//     and works as on a plain page, and the browser reports no violation;
//   - the widget's styles do not leak: the page's own headings, buttons,
//     inputs and classes named like the widget's (.btn, .primary, .choice,
//     .err) compute the same with the widget open as without the widget;
//   - motion only for those who did not ask for less;
//   - a paused scheduler: the widget says online booking is not available.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { serveSite } from '../../scripts/demo-site.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { runDemo } from './lib/demo.mjs';
import { DESKTOP, axeClean, shot, step } from './lib/widget.mjs';

let demo;
let host; // another origin with the test pages
let b;

const SAMPLE = `
<h1 id="s-h1">Sample page</h1>
<h2 id="s-h2">A heading</h2>
<p id="s-p" class="err">A paragraph with a class the widget also uses.</p>
<button id="s-btn" class="btn primary" type="button">A button</button>
<label id="s-label" class="choice" for="s-input">A label</label>
<input id="s-input" type="text" value="typed">
<dialog id="s-dialog"><p>The page's own dialog</p></dialog>`;

const page = (title, { css = '', widget = true } = {}) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="icon" href="data:,">${css ? `<link rel="stylesheet" href="${css}">` : ''}
${widget ? '<script src="{{APPOINTD}}/widget.js" data-scheduler="{{SCHEDULER}}" async></script>' : ''}
</head><body><main>${SAMPLE}</main></body></html>`;

const HOSTILE_CSS = `
html { font-size: 5px !important; color-scheme: dark; }
* { all: unset !important; font-family: "Comic Sans MS", cursive !important; color: #f0f !important;
  line-height: 3 !important; letter-spacing: 4px !important; text-transform: uppercase !important;
  box-sizing: content-box !important; }
appointd-widget, body > *:last-child { display: none !important; position: absolute !important;
  left: -10000px !important; transform: scale(.2) !important; opacity: 0 !important; filter: blur(4px) !important; }
dialog, dialog[open], dialog::backdrop { display: none !important; }
button, input, label, h2 { display: none !important; width: 1px !important; }
[hidden] { display: block !important; }
div { position: fixed !important; top: 0 !important; left: 0 !important; z-index: 99999 !important; }
`;

const STRICT_CSP = (appointd) => {
  const a = new URL(appointd).origin;
  return `default-src 'none'; script-src 'self' ${a}; connect-src ${a}; style-src 'self'; img-src 'self' data:; ` +
    `require-trusted-types-for 'script'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
};

before(async () => {
  demo = await runDemo();
  host = await serveSite({
    appointd: demo.appointd,
    scheduler: demo.key,
    csp: STRICT_CSP(demo.appointd),
    pages: {
      '/hostile.html': page('Hostile host', { css: '/hostile.css' }),
      '/hostile.css': HOSTILE_CSS,
      '/plain.html': page('Plain host'),
      '/nowidget.html': page('No widget', { widget: false }),
    },
  });
  // the test pages' origin must be one of the scheduler's allowed websites
  const cfg = await demo.schedulerConfig();
  cfg.allowedOrigins = [...cfg.allowedOrigins, host.url];
  const file = `${demo.dataDir}/host-test-scheduler.json`;
  await writeFile(file, JSON.stringify(cfg));
  await demo.cli(['scheduler', 'update', demo.key, '--config', file]);
  b = await launchBrowser({ viewport: DESKTOP });
  // CSP violations and page errors, collected from the first script of every document
  await b.context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
});

after(async () => {
  await b?.close();
  await host?.close();
  await demo?.stop(assert);
});

/**
 * Loads url as a new visit: the draft an earlier test left is cleared from a page of the same
 * origin without the widget (a widget page could write its draft back while being left).
 */
async function fresh(p, url) {
  await p.goto(`${host.url}/nowidget.html`);
  await p.evaluate(() => sessionStorage.clear());
  await p.goto(url);
  await p.waitForFunction(() => window.AppointWidget);
}

/** Opens the widget from its own launcher button; waits for the first step and its animation. */
async function openFromLauncher(p) {
  await p.locator('appointd-widget .launch').click();
  await step(p, 'service');
  await p.locator('#ap-dialog').evaluate((d) => Promise.all(d.getAnimations().map((a) => a.finished)));
}

/** What the widget looks like, in numbers: the dialog's box and a few computed styles. */
function widgetLooks(p) {
  return p.evaluate(() => {
    const root = document.querySelector('appointd-widget').shadowRoot;
    const cs = (sel, props) => {
      const s = getComputedStyle(root.querySelector(sel));
      return Object.fromEntries(props.map((k) => [k, s.getPropertyValue(k)]));
    };
    const r = root.querySelector('#ap-dialog').getBoundingClientRect();
    const next = root.querySelector('#ap-next').getBoundingClientRect();
    return {
      dialog: { x: Math.round(r.x), y: Math.round(r.y), width: Math.round(r.width), height: Math.round(r.height) },
      next: { width: Math.round(next.width), height: Math.round(next.height) },
      heading: cs('#ap-heading', ['font-size', 'font-family', 'color', 'text-transform', 'letter-spacing', 'line-height']),
      button: cs('#ap-next', ['background-color', 'color', 'font-size', 'display', 'min-height']),
      choice: cs('label.choice', ['display', 'border-top-width', 'padding-top', 'font-size', 'color']),
      backdrop: getComputedStyle(root.querySelector('#ap-dialog'), '::backdrop').getPropertyValue('background-color'),
    };
  });
}

test('hostile global CSS under a strict CSP: the widget looks and works as on a plain page, no violation', async () => {
  const p = b.page;
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));

  await fresh(p, `${host.url}/plain.html`);
  await openFromLauncher(p);
  const plain = await widgetLooks(p);

  await fresh(p, `${host.url}/hostile.html`);
  assert.equal(await p.evaluate(() => getComputedStyle(document.querySelector('#s-btn')).display), 'none', 'the hostile CSS applies to the page');
  await openFromLauncher(p);
  const hostile = await widgetLooks(p);
  assert.deepEqual(hostile, plain, 'the widget computes the same on the hostile page');
  assert.equal(hostile.heading['font-size'], '22px');
  assert.equal(hostile.heading['text-transform'], 'none');
  assert.ok(hostile.next.height >= 44, `a 44 px target: ${hostile.next.height}`);
  assert.ok(hostile.dialog.width > 400 && hostile.dialog.x > 300, `a centred dialog: ${JSON.stringify(hostile.dialog)}`);
  await shot(p, 'hostile-host');
  await axeClean(p, 'the widget on the hostile page', { onlyWidget: true });

  // and it works there: service, ZIP, windows
  await p.locator('label.choice', { hasText: 'Drain cleaning' }).click();
  await p.locator('#ap-next').click();
  await step(p, 'zip');
  await p.locator('#ap-zip').fill('78701');
  await p.locator('#ap-next').click();
  await step(p, 'when');
  await p.locator('input[name=window]').first().waitFor();
  await p.keyboard.press('Escape');
  await p.locator('#ap-dialog').waitFor({ state: 'hidden' });

  assert.deepEqual(await p.evaluate(() => window.__violations), [], 'no CSP violation');
  assert.deepEqual(errors, [], 'no script error');
});

test('the widget’s styles stay inside it: the page computes the same with the widget open as without it', async () => {
  const p = b.page;
  const styles = () => p.evaluate(() => Object.fromEntries(['s-h1', 's-h2', 's-p', 's-btn', 's-label', 's-input', 's-dialog'].map((id) => {
    const s = getComputedStyle(document.getElementById(id));
    return [id, [...s].map((k) => `${k}:${s.getPropertyValue(k)}`).join(';')];
  })));
  await p.goto(`${host.url}/nowidget.html`);
  const without = await styles();
  await fresh(p, `${host.url}/plain.html`);
  await openFromLauncher(p);
  const withWidget = await styles();
  for (const id of Object.keys(without)) assert.equal(withWidget[id], without[id], `${id} computes the same`);
  await p.keyboard.press('Escape');
});

test('reduced motion: no animation when the visitor asked for less', async () => {
  const p = b.page;
  await p.emulateMedia({ reducedMotion: 'no-preference' });
  await fresh(p, `${host.url}/plain.html`);
  await p.locator('appointd-widget .launch').click();
  await step(p, 'service');
  const animation = () => p.locator('#ap-dialog').evaluate((d) => getComputedStyle(d).animationName);
  assert.equal(await animation(), 'ap-in', 'the dialog animates by default');
  await p.keyboard.press('Escape');
  await p.emulateMedia({ reducedMotion: 'reduce' });
  await p.locator('appointd-widget .launch').click();
  await step(p, 'service');
  assert.equal(await animation(), 'none');
  assert.equal(await p.locator('#ap-dialog').evaluate((d) => d.getAnimations().length), 0);
  await p.keyboard.press('Escape');
  await p.emulateMedia({ reducedMotion: null });
});

/** Waits until the public API answers status for the scheduler (the server rereads it within 2 s). */
async function publicStatus(status) {
  for (let i = 0; i < 50; i++) {
    if ((await fetch(`${demo.appointd}/api/v1/schedulers/${demo.key}`)).status === status) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the scheduler never answered ${status}`);
}

test('a paused scheduler: the widget says online booking is not available', async () => {
  await demo.cli(['scheduler', 'pause', demo.key]);
  await publicStatus(404);
  try {
    const p = b.page;
    await fresh(p, `${host.url}/plain.html`);
    await p.locator('appointd-widget .launch').click();
    await step(p, 'unavailable');
    assert.equal(await p.locator('#ap-heading').innerText(), "Online booking isn't available right now");
    assert.match(await p.locator('#ap-step').innerText(), /paused or no longer exists/);
    await shot(p, 'paused');
    await axeClean(p, 'the paused scheduler');
  } finally {
    await demo.cli(['scheduler', 'resume', demo.key]);
    await publicStatus(200);
  }
});
