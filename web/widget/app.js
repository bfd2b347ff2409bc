// app.js — the booking dialog, loaded by widget.js on first open: a modal
// <dialog> in the widget's shadow root (focus kept inside, given back on
// close, Escape closes), the steps of steps.js one at a time, the draft
// (draft.js) saved on every change, availability fetched as soon as the ZIP
// is valid, and the booking sent with one Idempotency-Key per attempt.
//
// DOM contract (tests and the dashboard's preview rely on it), inside the
// shadow root of <appointd-widget>: dialog#ap-dialog; the step's section
// #ap-step[data-step=service|zip|when|contact|review|done|unavailable] with
// its heading #ap-heading; buttons #ap-next (Continue / Book / Done),
// #ap-back, #ap-close; the reference #ap-ref on the confirmation.
import { css } from './styles.js';
import { h, clear } from './dom.js';
import { api as makeApi } from './api.js';
import { loadDraft, newKey } from './draft.js';
import { STEPS, renderers } from './steps.js';
// Listed here too so the browser fetches every module in one round after this one,
// not one import level at a time (first open on a slow line).
import './choose.js';
import './details.js';
import './parts.js';
import './format.js';

let shell = null;
let creating = null;

export async function open(ctx) {
  if (!shell) {
    creating = creating || create(ctx);
    shell = await creating;
  }
  await shell.show(ctx);
}

export function close() {
  if (shell) shell.close();
}

async function create(ctx) {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  ctx.root.adoptedStyleSheets = [...ctx.root.adoptedStyleSheets, sheet];

  const api = makeApi(ctx.base, ctx.key);
  const draft = loadDraft(ctx.key);
  const title = h('p', { class: 'title', id: 'ap-title' }, 'Book online');
  const body = h('div', { class: 'body' });
  const back = h('button', { type: 'button', class: 'btn secondary', id: 'ap-back' }, 'Back');
  const next = h('button', { type: 'submit', class: 'btn primary', id: 'ap-next' }, 'Continue');
  const foot = h('div', { class: 'foot' }, back, next);
  const closeBtn = h('button', { type: 'button', class: 'x', id: 'ap-close', 'aria-label': 'Close' },
    h('span', { 'aria-hidden': 'true' }, '×'));
  const form = h('form', { class: 'frame', novalidate: true },
    h('div', { class: 'top' }, title, closeBtn), body, foot);
  const dialog = h('dialog', { class: 'dlg', id: 'ap-dialog', 'aria-labelledby': 'ap-title' }, form);
  ctx.root.append(dialog);

  let cfg = null;

  const s = {
    api,
    get d() { return draft.d; },
    cfg: null,
    cfgError: null,
    base: ctx.base,
    save: () => draft.save(),
    step: null,
    busy: false,
    avail: new Map(), // "service|zip" → { promise, result, error, at }
    returnTo: null,
  };

  // Availability of the chosen service at zip: one request per (service, zip), reused for a minute.
  s.availability = (zip, { fresh = false } = {}) => {
    const k = `${s.d.service}|${zip}`;
    const hit = s.avail.get(k);
    if (hit && !fresh && !(hit.done && Date.now() - hit.at > 60000) && !(hit.done && hit.error)) return hit.promise;
    const days = Math.min(Math.max(cfg.rules.horizonDays || 14, 1), 31);
    const e = { at: Date.now(), done: false, result: null, error: null };
    e.promise = api.availability({ service: s.d.service, zip, days }).then(
      (r) => { e.result = r; e.done = true; return r; },
      (err) => { e.error = err; e.done = true; throw err; });
    e.promise.catch(() => {});
    s.avail.set(k, e);
    return e.promise;
  };
  s.forgetAvailability = () => s.avail.clear();

  s.go = (step) => {
    draft.d.step = step;
    draft.save();
    render();
  };

  s.close = () => {
    if (dialog.open) dialog.close();
  };

  function render() {
    const step = cfg ? draft.d.step : 'unavailable';
    const r = renderers[step] || renderers.service;
    const view = r(s);
    s.step = view;
    clear(body);
    const n = STEPS.indexOf(step);
    const heading = h('h2', { id: 'ap-heading', tabindex: '-1' }, view.title);
    body.append(h('section', { id: 'ap-step', 'data-step': step, 'aria-labelledby': 'ap-heading' },
      n >= 0 && n < STEPS.length - 1 ? h('p', { class: 'progress' }, `Step ${n + 1} of ${STEPS.length - 1}`) : null,
      heading, view.body));
    back.hidden = !view.back;
    next.textContent = view.next || 'Continue';
    next.hidden = view.next === null;
    next.disabled = false;
    body.scrollTop = 0;
    (view.focus || heading).focus();
  }
  s.render = render;

  // Busy: the Continue button says what is happening and ignores more clicks.
  s.setBusy = (on, label) => {
    s.busy = on;
    next.disabled = on;
    if (label) next.textContent = label;
    next.setAttribute('aria-busy', on ? 'true' : 'false');
  };

  // A step that learns later (availability) that there is nothing to continue to: null hides the button.
  s.setNext = (label) => {
    next.hidden = label === null;
    if (label) next.textContent = label;
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (s.busy || !s.step || !s.step.onNext) return;
    await s.step.onNext();
  });
  back.addEventListener('click', () => {
    const i = STEPS.indexOf(draft.d.step);
    if (s.step && s.step.onBack) s.step.onBack();
    else if (i > 0) s.go(STEPS[i - 1]);
  });
  closeBtn.addEventListener('click', () => s.close());
  dialog.addEventListener('keydown', (ev) => {
    if (ev.key === 'Tab') trapTab(ev, dialog, ctx.root);
  });
  dialog.addEventListener('close', () => {
    if (draft.d.step === 'done') draft.reset(); // the booking is made: nothing to keep
    else {
      draft.d.open = false;
      draft.save();
    }
    if (s.onClose) s.onClose();
    const to = s.returnTo;
    s.returnTo = null;
    if (to && to.isConnected && typeof to.focus === 'function') to.focus();
  });

  // The scheduler, read when widget.js loaded (or again now, when that failed).
  async function config() {
    if (cfg) return;
    try {
      s.cfg = cfg = await ctx.loadConfig();
      s.cfgError = null;
    } catch (e) {
      s.cfgError = e;
    }
  }

  s.show = async (c) => {
    if (dialog.open) {
      (ctx.root.activeElement || dialog).focus();
      return;
    }
    await config();
    if (dialog.open) return;
    const d = draft.d;
    d.attribution = { ...c.attribution }; // the visit's, as of this open (open()'s values included)
    if (cfg && c.service && cfg.services.some((x) => x.id === c.service) && (d.step === 'service' || !d.service)) {
      d.service = c.service;
      const sv = cfg.services.find((x) => x.id === c.service);
      if (!sv.question) d.step = 'zip';
    }
    if (cfg && cfg.services.length === 1 && !d.service) d.service = cfg.services[0].id;
    if (d.step === 'done' && !d.reference) d.step = 'service';
    if (!STEPS.includes(d.step)) d.step = 'service';
    d.open = true;
    draft.save();
    s.returnTo = c.returnTo || null;
    title.textContent = cfg ? cfg.name : 'Book online';
    dialog.showModal();
    render();
  };

  s.newAttemptKey = newKey;
  return s;
}

// Tab and Shift+Tab wrap around inside the dialog (the page behind is inert anyway).
function trapTab(ev, dialog, root) {
  const list = tabbables(dialog);
  if (!list.length) return;
  const active = root.activeElement;
  const first = list[0];
  const last = list[list.length - 1];
  if (!ev.shiftKey && active === last) {
    ev.preventDefault();
    first.focus();
  } else if (ev.shiftKey && (active === first || !dialog.contains(active))) {
    ev.preventDefault();
    last.focus();
  }
}

// What Tab stops at, in order: enabled, visible controls; one radio per group (the checked one).
function tabbables(dialog) {
  const sel = 'button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])';
  const groups = new Set();
  return [...dialog.querySelectorAll(sel)].filter((el) => {
    if (el.disabled || el.hidden || !el.getClientRects().length) return false;
    if (el.type === 'radio') {
      const all = [...dialog.querySelectorAll(`input[type=radio][name="${el.name}"]:not(:disabled)`)];
      const pick = all.find((r) => r.checked) || all[0];
      if (groups.has(el.name) || el !== pick) return false;
      groups.add(el.name);
    }
    return true;
  });
}
