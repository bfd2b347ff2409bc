// app.js — the dashboard shell: who is signed in, the header and the
// navigation (with the Bookings counts and the connection banner of
// js/health.js on every page), and a hash router that loads one view module
// at a time.
//
// VIEW MODULE CONTRACT (every file in /admin/js/<view>.js follows it):
//
//   export async function render(root, ctx) { ... }
//
//   root  the <main id="main"> element, already emptied; append your
//         <section id="..."> to it.
//   ctx   { api, me, csrf, navigate, signal, setMe, params, query, route, health }
//         api      from js/api.js: api.get(path), api.post(path, body),
//                  api.put(path, body), api.del(path); path is relative to
//                  /api/v1 ('/users'). Resolves to the parsed JSON body;
//                  rejects with ApiError {status, code, message, field, step}.
//                  Writes carry X-CSRF-Token automatically; a 401 sends the
//                  user to the login view by itself.
//         me       the signed-in USER from GET /api/v1/me ({id, email, role,
//                  accountId, accountName, permissions: [...], operator?}),
//                  or null on the login view.
//         csrf     the session's CSRF token (already used by api; only for
//                  code that builds its own requests).
//         navigate(hash)  go to another view: navigate('#/settings/users').
//         signal   an AbortSignal aborted when the user leaves the view: stop
//                  timers/polling on it (signal.addEventListener('abort', ...)).
//         setMe(user)  refresh the shell after the user object changed.
//         params   the route's :parameters ({ref} for #/bookings/:ref).
//         query    URLSearchParams of the hash's query (#/bookings?state=parked).
//         health   lastHealth() of js/health.js ({webUrl, state, …}) or null;
//                  ctx.refreshHealth() re-reads it (after a view changed bookings).
//         signedIn(user, csrfToken)  (login view only) start the session.
//
//   The view must: set document.title ("<View name> · appointd"); render its
//   h1 with tabindex="-1" (use heading() from js/dom.js) — the router focuses
//   the first h1 in root after render resolves; show API errors in an element
//   with role="alert". render may return a cleanup function, called on leave.
//   Helpers: js/dom.js exports h(tag, attrs, ...children), heading(text, id),
//   showError(el, msg), clear(el). No inline scripts or styles (CSP): use
//   classes from app.css (.card, .btn, .btn-secondary, .btn-danger, .error,
//   .muted, .field, .table-wrap, .badge, .badge-<state>) and the hidden attribute.
//   Tables: wrap in <div class="table-wrap" tabindex="0" role="region"
//   aria-label="..."> (a scrollable region must be focusable: axe
//   scrollable-region-focusable), give the <table> class "stacked" and every
//   body cell (th/td) a data-label="<column name>": under 600 px each row
//   then becomes a labelled card and nothing scrolls sideways.
//
// Routes: #/login, #/bookings, #/bookings/:ref, #/schedulers,
// #/schedulers/new, #/schedulers/:key, #/settings, #/settings/integrations,
// #/settings/integrations/fms, #/settings/users, #/operator. A view may keep
// its own state in the hash's query (history.replaceState, no re-render).
// "Operator" is shown in the nav only when me.operator is true. Home (#/ or
// an unknown route) is Bookings, except for someone who may connect
// ServiceTitan while it is not connected yet: FMS Configuration.

import { api, setCsrf, getCsrf, setUnauthenticatedHandler } from './js/api.js';
import { REFRESH_MS, lastHealth, refreshHealth } from './js/health.js';

const routes = {
  '/login': { module: './js/login.js', public: true },
  '/bookings': { module: './js/bookings.js', nav: 'nav-bookings' },
  '/bookings/:ref': { module: './js/booking.js', nav: 'nav-bookings' },
  '/schedulers': { module: './js/schedulers.js', nav: 'nav-schedulers' },
  '/schedulers/new': { module: './js/scheduler-form.js', nav: 'nav-schedulers' },
  '/schedulers/:key': { module: './js/scheduler-form.js', nav: 'nav-schedulers' },
  '/settings': { module: './js/settings.js', nav: 'nav-settings' },
  '/settings/integrations': { module: './js/settings.js', nav: 'nav-integrations' },
  '/settings/integrations/fms': { module: './js/fms.js', nav: 'nav-fms' },
  '/settings/users': { module: './js/users.js', nav: 'nav-users' },
  '/operator': { module: './js/operator.js', nav: 'nav-operator' },
};
const FMS = '#/settings/integrations/fms';
const BOOKINGS = '#/bookings';

const $ = (id) => document.getElementById(id);
const main = $('main');
let me = null;
let leave = null; // { controller, cleanup } of the current view
let renderSeq = 0;

function path() {
  const p = (location.hash || '').replace(/^#/, '').split('?')[0].replace(/\/+$/, '');
  return p || '';
}

function hashQuery() {
  const h = location.hash || '';
  const i = h.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : h.slice(i + 1));
}

function safeDecode(s) {
  try { return decodeURIComponent(s); } catch { return s; }
}

// The route of p: an exact one, else the first pattern whose :parts match
// one segment each → {r, params}; null when none.
function match(p) {
  if (routes[p]) return { r: routes[p], params: {} };
  const segs = p.split('/');
  for (const [pattern, r] of Object.entries(routes)) {
    const want = pattern.split('/');
    if (want.length !== segs.length || !pattern.includes(':')) continue;
    const params = {};
    const ok = want.every((w, i) => {
      if (w.startsWith(':')) { params[w.slice(1)] = safeDecode(segs[i]); return segs[i] !== ''; }
      return w === segs[i];
    });
    if (ok) return { r, params };
  }
  return null;
}

// Where "home" is for the signed-in user (see the header comment).
function home() {
  const h = lastHealth();
  const perms = (me && me.permissions) || [];
  if (perms.includes('manage_integrations') && h && h.state !== 'connected' && h.state !== 'needs_attention') return FMS;
  return BOOKINGS;
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function setMe(user) {
  me = user;
  const on = !!user;
  $('app-header').hidden = !on;
  $('settings-nav').hidden = !on;
  document.body.classList.toggle('signed-in', on);
  $('signed-in-as').textContent = on ? user.email : '';
  $('account-name').textContent = on && user.accountName ? user.accountName : '';
  const op = $('nav-operator');
  op.hidden = !(on && user.operator === true);
  op.parentElement.hidden = op.hidden;
  if (!on) refreshHealth(null);
}

async function loadMe() {
  try {
    const r = await api.get('/me');
    setCsrf(r.csrfToken);
    setMe(r.user);
  } catch {
    setCsrf('');
    setMe(null);
  }
}

function markNav(navId) {
  for (const a of document.querySelectorAll('#settings-nav a')) {
    if (a.id === navId) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function leaveView() {
  if (!leave) return;
  leave.controller.abort();
  if (typeof leave.cleanup === 'function') {
    try { leave.cleanup(); } catch { /* a view's cleanup must not break navigation */ }
  }
  leave = null;
}

async function route() {
  const seq = ++renderSeq;
  const p = path();
  const m = match(p);
  if (!m) { navigate(me ? home() : '#/login'); return; }
  const { r, params } = m;
  if (!r.public && !me) {
    sessionStorage.setItem('appointd.after', location.hash || '#' + p);
    navigate('#/login');
    return;
  }
  if (p === '/login' && me) { navigate(home()); return; }
  leaveView();
  markNav(r.nav);
  const controller = new AbortController();
  leave = { controller, cleanup: null };
  main.replaceChildren();
  main.setAttribute('aria-busy', 'true');
  const ctx = {
    api, me, csrf: getCsrf(), navigate, signal: controller.signal, setMe, signedIn, route: p,
    params, query: hashQuery(), health: lastHealth(), refreshHealth: () => refreshHealth(me),
  };
  try {
    const mod = await import(r.module);
    if (seq !== renderSeq) return;
    const cleanup = await mod.render(main, ctx);
    if (seq !== renderSeq || controller.signal.aborted) {
      if (typeof cleanup === 'function') cleanup();
      return;
    }
    leave.cleanup = cleanup;
  } catch (e) {
    if (seq !== renderSeq) return;
    main.replaceChildren(viewFailed(e));
    document.title = 'Error · appointd';
  } finally {
    if (seq === renderSeq) main.removeAttribute('aria-busy');
  }
  if (seq === renderSeq) focusTitle();
  if (seq === renderSeq && me) refreshHealth(me);
}

function viewFailed(e) {
  const s = document.createElement('section');
  s.className = 'card';
  const h1 = document.createElement('h1');
  h1.tabIndex = -1;
  h1.textContent = 'This page could not be shown';
  const p = document.createElement('p');
  p.className = 'error';
  p.setAttribute('role', 'alert');
  p.textContent = (e && e.message) || 'Unexpected error.';
  s.append(h1, p);
  return s;
}

function focusTitle() {
  const h1 = main.querySelector('h1');
  if (!h1) return;
  if (!h1.hasAttribute('tabindex')) h1.tabIndex = -1;
  h1.focus({ preventScroll: false });
}

async function logout() {
  const btn = $('logout');
  btn.disabled = true;
  try { await api.post('/logout', {}); } catch { /* the session is gone either way */ }
  btn.disabled = false;
  setCsrf('');
  setMe(null);
  navigate('#/login');
}

// ctx.signedIn: called by the login view after a successful POST /login.
function signedIn(user, csrfToken) {
  setCsrf(csrfToken);
  setMe(user);
  const after = sessionStorage.getItem('appointd.after');
  sessionStorage.removeItem('appointd.after');
  const at = location.hash;
  refreshHealth(user).then(() => {
    if (location.hash !== at) return; // the user went somewhere meanwhile: stay there
    navigate(after && match(after.slice(1).split('?')[0]) && after !== '#/login' ? after : home());
  });
}

setUnauthenticatedHandler(() => {
  if (!me) return;
  setCsrf('');
  setMe(null);
  if (path() !== '/login') sessionStorage.setItem('appointd.after', location.hash || '#' + path());
  navigate('#/login');
});

$('logout').addEventListener('click', logout);
window.addEventListener('hashchange', route);
await loadMe();
if (me) await refreshHealth(me);
route();
setInterval(() => { if (me && !document.hidden) refreshHealth(me); }, REFRESH_MS);
