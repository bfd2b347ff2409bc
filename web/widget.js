// widget.js — the one tag a contractor pastes into their website:
//
//   <script src="https://HOST/widget.js" data-scheduler="sch_…" async></script>
//
// It stays small (it loads on every page of the site): it reads the
// scheduler's branding, adds a "Book online" button in its own shadow root
// (data-launcher="none" on the tag leaves it out), opens the booking dialog
// from that button, from any element with data-appointd-open (its
// data-service / data-campaign / data-utm_* attributes are passed on) and from
// AppointWidget.open({service, campaign, utm_source, …}), and keeps the
// visit's marketing attribution (utm_*, gclid, fbclid, gbraid, wbraid,
// campaign from the page's URL, in sessionStorage; the last page that had
// any of them decides, and values given to open() win). The dialog itself
// (/widget/app.js and the modules it imports) is loaded on first open, or
// earlier when a pointer or the keyboard reaches a button that opens it.
//
// It works under the host page's Content-Security-Policy as long as that
// allows this host in script-src and connect-src: no eval, no inline styles
// (the shadow root's styles are constructed stylesheets), nothing written to
// the page outside its own element.
(() => {
  'use strict';
  const script = document.currentScript;
  if (!script || window.AppointWidget) return; // a second copy of the tag does nothing
  const key = script.getAttribute('data-scheduler') || '';
  const base = new URL(script.src, location.href).origin;
  const ATTR = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'gclid', 'fbclid', 'gbraid', 'wbraid', 'campaign'];
  const ATTR_STORE = 'appointd:attribution';

  // sessionStorage may be missing or refuse (privacy modes): the widget then just forgets.
  const store = {
    get(k) {
      try { return JSON.parse(sessionStorage.getItem(k) || 'null'); } catch { return null; }
    },
    set(k, v) {
      try { sessionStorage.setItem(k, JSON.stringify(v)); } catch { /* not kept */ }
    },
  };

  // Last touch: a page whose URL carries attribution parameters replaces what an
  // earlier page of the visit left (a Yelp click after a Google ad is Yelp's); a page
  // without them keeps it.
  function captureAttribution() {
    const q = new URLSearchParams(location.search);
    const found = {};
    for (const k of ATTR) {
      const v = q.get(k);
      if (v) found[k] = v.slice(0, 500);
    }
    if (Object.keys(found).length) store.set(ATTR_STORE, found);
  }

  // Only the attribution keys of an options object (open() or data-* attributes).
  function pick(opts) {
    const out = {};
    for (const k of ATTR) if (opts && opts[k]) out[k] = String(opts[k]).slice(0, 500);
    return out;
  }

  // The scheduler (GET /api/v1/schedulers/KEY): read at load for the button's label and
  // colour; a failed read is tried again at the next open.
  let configReady = null;
  function loadConfig() {
    if (!configReady) {
      configReady = fetch(`${base}/api/v1/schedulers/${encodeURIComponent(key)}`, { credentials: 'omit' })
        .then(async (r) => {
          const body = await r.json().catch(() => null);
          if (!r.ok) throw Object.assign(new Error((body && body.error && body.error.message) || `HTTP ${r.status}`), { status: r.status });
          brandSheet.replaceSync(brandCss(body.branding && body.branding.primaryColor));
          if (body.branding && body.branding.buttonLabel) launcher.textContent = body.branding.buttonLabel;
          return body;
        });
      configReady.catch((e) => {
        if (e.status !== 404) configReady = null; // a paused scheduler stays unavailable until reload
        console.warn(`appointd: scheduler ${key} could not be read from ${base} (${e.message}). ` +
          'If this page\'s origin is not among the scheduler\'s allowed websites, the browser hides the answer.');
      });
    }
    return configReady;
  }

  let app = null; // the loaded module's promise
  function load() {
    if (!app) {
      app = import(`${base}/widget/app.js`);
      app.catch(() => { app = null; }); // a later click tries again
    }
    return app;
  }

  const host = document.createElement('appointd-widget');
  const root = host.attachShadow({ mode: 'open' });
  const launcherSheet = new CSSStyleSheet();
  launcherSheet.replaceSync(`
    :host { all: initial !important; display: block !important; position: static !important;
      visibility: visible !important; opacity: 1 !important; }
    .launch { position: fixed; right: 16px; bottom: 16px; z-index: 2147483000; min-height: 48px; min-width: 48px;
      padding: 12px 20px; border: 2px solid #fff; border-radius: 999px; cursor: pointer;
      font: 600 16px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
      background: var(--ap-brand, #0b5fff); color: var(--ap-on-brand, #fff);
      box-shadow: 0 2px 12px rgba(0, 0, 0, .3); }
    .launch:focus-visible { outline: 3px solid #1a1a1a; outline-offset: 3px; box-shadow: 0 0 0 6px #fff; }
    .launch[hidden] { display: none; }
    @media print { .launch { display: none; } }`);
  const brandSheet = new CSSStyleSheet();
  root.adoptedStyleSheets = [launcherSheet, brandSheet];

  const launcher = document.createElement('button');
  launcher.type = 'button';
  launcher.className = 'launch';
  launcher.textContent = 'Book online';
  launcher.hidden = script.getAttribute('data-launcher') === 'none';
  root.append(launcher);

  // Relative luminance (WCAG 2.1) of "#rrggbb".
  function luminance(hex) {
    const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  const contrast = (a, b) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);

  // The scheduler's colour as custom properties; text on it is white or near-black,
  // whichever contrasts more; text *in* the colour falls back to dark when it would be faint.
  function brandCss(color) {
    if (!/^#[0-9a-f]{6}$/i.test(color || '')) color = '#0b5fff';
    const l = luminance(color);
    const on = contrast(l, 1) >= contrast(l, luminance('#1a1a1a')) ? '#ffffff' : '#1a1a1a';
    const text = contrast(l, 1) >= 4.5 ? color : '#1a1a1a';
    return `:host { --ap-brand: ${color}; --ap-on-brand: ${on}; --ap-brand-text: ${text}; }`;
  }

  let opening = null;
  async function open(opts = {}) {
    if (opening) return opening;
    const returnTo = deepActive();
    opening = (async () => {
      const mod = await load();
      await mod.open({ base, key, root, loadConfig, returnTo,
        service: opts.service ? String(opts.service) : '', attribution: { ...(store.get(ATTR_STORE) || {}), ...pick(opts) } });
    })();
    try {
      await opening;
    } catch (e) {
      console.warn(`appointd: the booking window could not be loaded from ${base} (${e.message})`);
      throw e;
    } finally {
      opening = null;
    }
  }

  function close() {
    if (app) app.then((m) => m.close(), () => {});
  }

  // The focused element, inside shadow roots too (focus goes back there on close).
  function deepActive() {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a;
  }

  // Options of a data-appointd-open element: data-service, data-campaign, data-utm_source, …
  function optionsOf(el) {
    const o = { service: el.getAttribute('data-service') || '' };
    for (const k of ATTR) {
      const v = el.getAttribute(`data-${k}`);
      if (v) o[k] = v;
    }
    return o;
  }

  launcher.addEventListener('click', () => open().catch(() => {}));
  document.addEventListener('click', (ev) => {
    const el = ev.target instanceof Element ? ev.target.closest('[data-appointd-open]') : null;
    if (!el) return;
    ev.preventDefault(); // a link's href is the fallback for pages without the widget
    open(optionsOf(el)).catch(() => {});
  });
  // Intent: load the dialog's code before the click lands.
  const warm = (ev) => {
    const t = ev.target;
    if (t === host || (t instanceof Element && t.closest('[data-appointd-open]'))) load().catch(() => {});
  };
  document.addEventListener('pointerover', warm, { passive: true });
  document.addEventListener('focusin', warm);
  document.addEventListener('touchstart', warm, { passive: true });

  captureAttribution();
  loadConfig().catch(() => {});
  window.AppointWidget = Object.freeze({ open: (opts) => open(opts), close, version: 1 });

  const attach = () => {
    document.body.append(host);
    // A reload while the dialog was open (or after booking) brings it back where it was.
    const draft = store.get(`appointd:draft:${key}`);
    if (draft && draft.open) open({ reopen: true }).catch(() => {});
    document.dispatchEvent(new CustomEvent('appointd:ready'));
  };
  if (document.body) attach();
  else document.addEventListener('DOMContentLoaded', attach, { once: true });
})();
